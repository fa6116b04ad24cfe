-- Discovery on the demo database: the exact output of dedup.inventory(),
-- dedup.duplicate_groups() and dedup.find_empty_duplicates(), and which
-- schemas a NULL argument leaves out.
\set ECHO none
\i test/fixtures/demo.sql
\set ECHO all

-- Every table with its kind, exact emptiness, keys and dependents.
SELECT tbl, kind, is_empty, est_rows, total_bytes > 0 AS has_size, n_columns,
       primary_key, referenced_by, dependent_views, rls_enabled, n_policies, n_triggers
  FROM dedup.inventory();

-- The four groups: members (with its extension and two leftovers),
-- the monthly copies of mentorship_bookings, and the two Django twins.
SELECT group_id, keeper, tbl, role, is_empty, row_count,
       round(similarity::numeric, 2) AS similarity, evidence, verdict
  FROM dedup.duplicate_groups();

-- Empty duplicates and the order that never hits a live foreign key:
-- projects_projectapplication references projects_project, so it goes first.
SELECT * FROM dedup.find_empty_duplicates() ORDER BY drop_order;

-- The junction table and the cohort tables are in no group; neither are
-- the tables that exist once (mentors, users_user, django_admin_log).
SELECT i.tbl
  FROM dedup.inventory() i
 WHERE NOT EXISTS (SELECT 1 FROM dedup.duplicate_groups() g WHERE g.tbl = i.tbl)
 ORDER BY 1;

-- Schemas Supabase manages are left out unless named.
CREATE SCHEMA auth;
CREATE TABLE auth.users (id uuid PRIMARY KEY, email text);
CREATE TABLE auth.users_old (id uuid PRIMARY KEY, email text);
CREATE SCHEMA storage;
CREATE TABLE storage.objects (id uuid PRIMARY KEY);
CREATE TABLE storage.objects_backup (id uuid PRIMARY KEY);
SELECT count(*) AS auth_or_storage_tables
  FROM dedup.inventory() WHERE schema_name IN ('auth', 'storage');
SELECT tbl, role, verdict FROM dedup.duplicate_groups('{auth,storage}');
SELECT schema_name, table_name FROM dedup.inventory('{auth}');
-- An unknown schema is simply empty.
SELECT count(*) FROM dedup.inventory('{no_such_schema}');
DROP SCHEMA auth, storage CASCADE;

-- dedup's own schema and the caller's temporary tables are left out too.
CREATE TEMP TABLE scratch (id int);
CREATE TEMP TABLE scratch_old (id int);
SELECT count(*) AS temp_or_dedup_tables
  FROM dedup.inventory() WHERE schema_name = 'dedup' OR schema_name LIKE 'pg_temp%';
DROP TABLE scratch, scratch_old;
