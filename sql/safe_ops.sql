-- backup_table, drop_if_empty, restore_backup, undo and the journal on the
-- demo database: verified backups, drops that never lose a row, privileges.
CREATE DATABASE dedup_safe_ops;
\c dedup_safe_ops
CREATE EXTENSION dedup;
\set ECHO none
\i test/fixtures/demo.sql
\set ECHO all
-- Backup names end in the date: show them with <date> instead.
CREATE FUNCTION pg_temp.undated(r regclass) RETURNS text LANGUAGE sql
  AS $$ SELECT regexp_replace(r::text, '_[0-9]{8}(_[0-9]+)?$', '_<date>\1') $$;
-- A table's ACL the same on PostgreSQL 15 and 17: each grantee's privileges
-- as ALL, or ALL less those it lacks (17 adds MAINTAIN, m, to ALL; a lost
-- MAINTAIN shows as a missing m).
CREATE FUNCTION pg_temp.acl(a aclitem[]) RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(regexp_replace(i::text, '=\w*/', '=ALL' || coalesce('-' || nullif(translate(
           substring((acldefault('r', 10))[1]::text from '=(\w*)/'), substring(i::text from '=(\w*)/'), ''), ''), '') || '/'),
         ',' ORDER BY n)
    FROM unnest(a) WITH ORDINALITY AS u(i, n) $$;

-- backup_table: default name, verified count and fingerprint, journaled.
SELECT dedup.backup_table('members') AS mb \gset
SELECT pg_temp.undated(:'mb');
SELECT id, actor, action, target, detail->'rows' AS rows, length(detail->>'fingerprint') AS fp_len,
       detail->'columns' AS columns
  FROM dedup.journal ORDER BY id;
-- ... and its rows are the table's rows.
SELECT (SELECT count(*) FROM members) AS table_rows,
       (SELECT count(*) FROM (SELECT * FROM members EXCEPT ALL SELECT * FROM :mb) d) AS missing,
       (SELECT count(*) FROM (SELECT * FROM :mb EXCEPT ALL SELECT * FROM members) d) AS extra;
-- Idempotent: the same backup again is returned as is, with a notice.
SELECT dedup.backup_table('members', 'members_bak');
SELECT dedup.backup_table('members', 'members_bak');
SELECT count(*) AS journal_rows FROM dedup.journal;
-- A backup of that name that differs is an error; nothing changes.
INSERT INTO members (email, full_name) VALUES ('new@example.org', 'New');
SELECT dedup.backup_table('members', 'members_bak');
DELETE FROM members WHERE email = 'new@example.org';
-- A default name never blocks: the same day, after writes, the next backup
-- takes the next name; with no write since, the fresh backup is reused.
INSERT INTO members (email, full_name) VALUES ('later@example.org', 'Later');
SELECT pg_temp.undated(dedup.backup_table('members'));
SET client_min_messages = warning;  -- the notice names the dated backup
SELECT pg_temp.undated(dedup.backup_table('members'));
RESET client_min_messages;
DELETE FROM members WHERE email = 'later@example.org';
-- dedup.backup_suffix names them; an empty or null argument is a clear error.
SET dedup.backup_suffix = 'before_merge';
SELECT dedup.backup_table('members');
RESET dedup.backup_suffix;
SELECT dedup.backup_table('members', '');
SELECT dedup.backup_table(NULL);
-- A chosen name; a 63-byte name is shortened with a hash.
SELECT dedup.backup_table('projects', 'projects_before_merge');
CREATE TABLE public.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa (id int);
INSERT INTO public.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa VALUES (1), (NULL);
SELECT pg_temp.undated(b), octet_length(b::text) FROM dedup.backup_table('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa') b;

-- No one gains access: Supabase gives anon and authenticated every new
-- table in public; a backup has no grant but the owner's, and RLS with no
-- policy, whatever the source allowed.
SELECT pg_temp.undated(oid::regclass), pg_temp.acl(relacl) AS acl, relrowsecurity, relforcerowsecurity
  FROM pg_class WHERE oid IN ('members'::regclass, :'mb'::regclass, 'members_bak'::regclass,
                              'projects_before_merge'::regclass) ORDER BY 1;
SET ROLE anon;
SELECT count(*) FROM members_bak;
RESET ROLE;
SET ROLE authenticated;
SELECT count(*) FROM members;            -- the policy lets authenticated read members ...
SELECT count(*) FROM members_bak;        -- ... but not the backup
RESET ROLE;
-- Even a later GRANT exposes no row: RLS is on, with no policy.
GRANT SELECT ON members_bak TO authenticated;
SET ROLE authenticated;
SELECT count(*) FROM members_bak;
RESET ROLE;
REVOKE SELECT ON members_bak FROM authenticated;

-- Values that are stored toasted, compressed, null or generated are copied
-- and proven like any other.
CREATE TABLE docs (id int PRIMARY KEY, body text, big bytea, n numeric, tags text[],
                   len int GENERATED ALWAYS AS (length(body)) STORED);
INSERT INTO docs (id, body, big, n, tags)
SELECT g, repeat('lorem ipsum ', g * 500), decode(repeat(md5(g::text), 200 * g), 'hex'),
       g / 7.0, ARRAY['a', NULL, g::text] FROM generate_series(1, 20) g;
INSERT INTO docs (id) VALUES (21);
SELECT dedup.backup_table('docs', 'docs_bak') AS db \gset
SELECT (SELECT count(*) FROM (SELECT id, body, big, n, tags, len FROM docs
                              EXCEPT ALL SELECT id, body, big, n, tags, len FROM :db) d) AS differing;

-- Rows written before a column was added with a default do not store it;
-- the backup holds the default all the same.
CREATE TABLE late_col (id int);
INSERT INTO late_col SELECT generate_series(1, 3);
ALTER TABLE late_col ADD COLUMN flag text NOT NULL DEFAULT 'on';
SELECT dedup.backup_table('late_col', 'late_col_bak');
SELECT * FROM late_col_bak ORDER BY id;

-- A partitioned table is backed up with the rows of all its partitions.
CREATE TABLE readings (id int, at date NOT NULL, v float8) PARTITION BY RANGE (at);
CREATE TABLE readings_a PARTITION OF readings FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE readings_b (v float8, at date NOT NULL, id int);   -- other column order
ALTER TABLE readings ATTACH PARTITION readings_b FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
INSERT INTO readings SELECT g, '2026-01-01'::date + g, g * 1.5 FROM generate_series(0, 50) g;
SELECT dedup.backup_table('readings', 'readings_copy');
SELECT count(*), sum(v) FROM readings_copy;

-- drop_if_empty: a table with a visible row is never dropped.
SELECT dedup.drop_if_empty('members_full');
SELECT to_regclass('members_full') IS NOT NULL AS still_there;
-- An empty duplicate goes; its definition is captured first.
SELECT dedup.drop_if_empty('members_full_orphans');
SELECT action, target, jsonb_array_length(detail->'tables') AS tables, detail->'rows' AS rows,
       detail->'sql' AS sql
  FROM dedup.journal WHERE action = 'drop';
-- Deleted rows that vacuum has not removed are not rows.
DELETE FROM members_full;
SELECT dedup.drop_if_empty('members_full');
-- Dependents: an error listing them all, nothing changed ...
SELECT dedup.drop_if_empty('projects_project');
-- ... until cascade => true, which drops exactly those, journaled first.
SELECT dedup.drop_if_empty('projects_project', cascade => true);
SELECT conname FROM pg_constraint WHERE conrelid = 'projects_projectapplication'::regclass AND contype = 'f' ORDER BY 1;

-- Refusals: not a table, system and extension tables, other roles' tables.
CREATE VIEW member_names AS SELECT full_name FROM members;
SELECT dedup.drop_if_empty('member_names');
SELECT dedup.drop_if_empty('pg_catalog.pg_class');
SELECT dedup.backup_table('pg_catalog.pg_class');
SELECT dedup.drop_if_empty('dedup.journal');
CREATE ROLE stranger;
GRANT USAGE ON SCHEMA dedup TO stranger;
GRANT EXECUTE ON FUNCTION dedup.drop_if_empty(regclass, boolean), dedup.backup_table(regclass, name) TO stranger;
SET ROLE stranger;
SELECT dedup.drop_if_empty('mentorship_bookings_2026_01');
SELECT dedup.backup_table('members');
RESET ROLE;
-- Only dedup writes its journal: a role with no privilege on it at all
-- drops a table it owns, and dedup journals that, naming the role.  The role
-- itself can neither read nor write the journal.
ALTER TABLE mentorship_bookings_2026_02 OWNER TO stranger;
SET ROLE stranger;
SELECT dedup.drop_if_empty('mentorship_bookings_2026_02');
INSERT INTO dedup.journal (actor, action, target, detail)
  VALUES ('stranger', 'drop', 'forged', '{"tables": []}');
SELECT count(*) FROM dedup.journal;
RESET ROLE;
SELECT to_regclass('mentorship_bookings_2026_02') IS NOT NULL AS still_there;
SELECT actor, action, target FROM dedup.journal ORDER BY id DESC LIMIT 1;

-- The journal is append-only, even for its owner.
UPDATE dedup.journal SET target = 'x' WHERE id = 1;
DELETE FROM dedup.journal WHERE id = 1;

-- EXECUTE on the changing functions is not granted to PUBLIC; every
-- function pins search_path, except merge_members, a schema-qualified SQL
-- wrapper whose only work is to resolve the caller's table names with the
-- caller's search_path, and _same_values and _merge_row, C functions of
-- their arguments that look up no name (a SET clause would cost more than
-- the work); all are SECURITY INVOKER.
SELECT p.proname, has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute,
       p.prosecdef AS security_definer, p.proconfig
  FROM pg_proc p WHERE p.pronamespace = 'dedup'::regnamespace ORDER BY 1;
SELECT has_schema_privilege('public', 'dedup', 'USAGE') AS public_usage,
       has_table_privilege('public', 'dedup.journal', 'INSERT') AS public_journal_insert,
       (SELECT count(*) FROM information_schema.role_table_grants
         WHERE table_schema = 'dedup' AND table_name = 'journal'
           AND privilege_type IN ('INSERT', 'UPDATE', 'DELETE')
           AND grantee <> (SELECT rolname FROM pg_roles WHERE oid = (SELECT relowner FROM pg_class WHERE oid = 'dedup.journal'::regclass))) AS journal_write_grants;

-- A planted public.count() and a pg_temp table shadowing the journal change nothing.
CREATE FUNCTION public.count(anyelement) RETURNS bigint LANGUAGE sql AS 'SELECT 0::bigint';
CREATE TEMP TABLE journal (id bigint, action text, target text, detail jsonb);
SET search_path = pg_temp, public;
SELECT dedup.drop_if_empty('mentorship_bookings_2026_03');
SELECT count(*) AS temp_journal_rows FROM pg_temp.journal;
SELECT target FROM dedup.journal ORDER BY id DESC LIMIT 1;
RESET search_path;
DROP TABLE pg_temp.journal;
DROP FUNCTION public.count(anyelement);

-- restore_backup puts rows back and proves them.
TRUNCATE docs;
SELECT dedup.restore_backup(:'db');
SELECT count(*), sum(len) FROM docs;
-- The rows a restore wrote are its own, even when its transaction writes
-- more into the table: its undo takes back exactly them.
BEGIN;
TRUNCATE docs;
SELECT dedup.restore_backup(:'db');
INSERT INTO docs (id, body) VALUES (1000, 'written in the same transaction');
COMMIT;
SELECT dedup.undo(max(id)) FROM dedup.journal WHERE action = 'restore';
SELECT id, body FROM docs ORDER BY id;
DELETE FROM docs;
SELECT dedup.restore_backup(:'db');
-- Into the table it came from, recreated from the journal when dropped.
DELETE FROM readings;
SELECT dedup.drop_if_empty('readings');
SELECT dedup.restore_backup('readings_copy');
SELECT count(*), sum(v) FROM readings;
SELECT tableoid::regclass, count(*) FROM readings GROUP BY 1 ORDER BY 1;
-- A trigger that changes rows makes the proof fail; nothing is kept.
CREATE FUNCTION pg_temp.shout() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.full_name := upper(NEW.full_name); RETURN NEW; END $$;
CREATE TABLE members_restored (LIKE members);
CREATE TRIGGER shout BEFORE INSERT ON members_restored FOR EACH ROW EXECUTE FUNCTION pg_temp.shout();
SELECT dedup.restore_backup('members_bak', 'members_restored');
SELECT count(*) FROM members_restored;
-- A backup that was changed is refused.
DELETE FROM docs_bak WHERE id = 1;
SELECT dedup.restore_backup('docs_bak', 'docs');
-- Not a dedup backup.
SELECT dedup.restore_backup('members_restored', 'members');
-- Into a table of another owner: refused, both tables and owners named,
-- before any lock (the rows would be read as that owner, who cannot).
CREATE TABLE strangers_members (LIKE members);
ALTER TABLE strangers_members OWNER TO stranger;
SELECT dedup.restore_backup('members_bak', 'strangers_members');
DROP TABLE strangers_members;
-- The table a backup was taken from is recreated from the journaled drop
-- of that very table (its OID and owner), never from the drop of another
-- table that had its name since.
CREATE TABLE notes (id int, body text);
INSERT INTO notes VALUES (1, 'kept');
SELECT dedup.backup_table('notes', 'notes_bak');
DROP TABLE notes;
CREATE TABLE notes (id int, body text, secret text);
SELECT dedup.drop_if_empty('notes');
SELECT dedup.restore_backup('notes_bak');
SELECT to_regclass('notes') AS notes_recreated;
CREATE TABLE notes (id int, body text);
SELECT dedup.restore_backup('notes_bak', 'notes');
SELECT * FROM notes;

-- undo of a backup drops it when it is unchanged.
SELECT dedup.undo(id) FROM dedup.journal WHERE action = 'backup' AND target = 'public.projects';
SELECT to_regclass('projects_before_merge') AS gone;
SELECT action, target, undoes FROM dedup.journal WHERE action = 'undo' ORDER BY id;

-- A table and sequence with no explicit privileges (relacl NULL, the
-- owner's defaults) come back from undo exactly so, not with the owner's
-- privileges written out; a backup of the table has relacl NULL too.
CREATE SCHEMA plain;
CREATE TABLE plain.tags (id serial PRIMARY KEY, label text);
CREATE TEMP TABLE acl_before AS
  SELECT relname, relacl FROM pg_class WHERE relnamespace = 'plain'::regnamespace AND relkind IN ('r', 'S');
SELECT dedup.drop_if_empty('plain.tags');
SELECT dedup.undo(max(id)) FROM dedup.journal WHERE action = 'drop';
SELECT dedup.backup_table('plain.tags', 'tags_bak');
SELECT c.relname, c.relkind, b.relacl AS before, c.relacl AS after
  FROM pg_class c LEFT JOIN acl_before b USING (relname)
 WHERE c.relnamespace = 'plain'::regnamespace AND c.relkind IN ('r', 'S') ORDER BY 1;
DROP SCHEMA plain CASCADE;

-- A rolled-back action leaves no journal row.
SELECT count(*) AS journal_before FROM dedup.journal \gset
BEGIN;
SELECT dedup.drop_if_empty('mentorship_bookings_2026_04');
ROLLBACK;
SELECT count(*) = :journal_before AS journal_unchanged, to_regclass('mentorship_bookings_2026_04') IS NOT NULL AS table_back
  FROM dedup.journal;

-- Every safe empty duplicate, dropped in drop_order by one statement (the
-- call runs after the sort), journaled in that order.
SELECT max(id) AS last_entry FROM dedup.journal \gset
SELECT count(*) FILTER (WHERE d) AS dropped
  FROM (SELECT dedup.drop_if_empty(duplicate) AS d FROM dedup.find_empty_duplicates()
         WHERE safe_to_drop ORDER BY drop_order) x;
SELECT count(*) AS safe_left FROM dedup.find_empty_duplicates() WHERE safe_to_drop;
SELECT target FROM dedup.journal WHERE id > :last_entry ORDER BY id;

-- A cancel in the middle of a backup leaves nothing behind.
CREATE TABLE big AS SELECT g AS id, md5(g::text) AS h FROM generate_series(1, 2000000) g;
SELECT count(*) AS journal_before FROM dedup.journal \gset
\set VERBOSITY terse
SET statement_timeout = '50ms';
SELECT dedup.backup_table('big');
RESET statement_timeout;
\set VERBOSITY default
SELECT (SELECT count(*) FROM pg_class WHERE relname LIKE 'big_backup%') AS backups_left,
       (SELECT count(*) FROM dedup.journal) = :journal_before AS no_journal_row;
DROP TABLE big;

\c contrib_regression
SET client_min_messages = warning;
DROP DATABASE dedup_safe_ops;
DROP ROLE stranger;
