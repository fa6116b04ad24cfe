-- Verdicts you can trust (issue 8): one case per pattern.  No live table is
-- ever "safe to drop"; safe_to_drop means drop_if_empty() without cascade
-- succeeds and takes nothing but the table and what it owns.
CREATE DATABASE dedup_verdicts;
\c dedup_verdicts
SET client_min_messages = warning;
CREATE EXTENSION dedup;
RESET client_min_messages;
-- verdicts, and evidence with the statistics' reset time masked
CREATE FUNCTION groups() RETURNS TABLE (g int, tbl regclass, role text, strength text, verdict text)
LANGUAGE sql AS $$
  SELECT group_id, tbl, role, strength, verdict FROM dedup.duplicate_groups('{public}') $$;
-- (PostgreSQL 16 and later add "last read at <time>": left out)
CREATE FUNCTION evidence(t regclass) RETURNS SETOF text LANGUAGE sql AS $$
  SELECT regexp_replace(e, 'reset at [^ ]+ [^ ]+', 'reset at <time>')
    FROM dedup.duplicate_groups('{public}') g, unnest(g.evidence) e
   WHERE g.tbl = t AND e NOT LIKE 'last read at %' $$;

-- 1. Live/history pairs are not ORM twins: current_things (PK id) beside
--    things (PK (thing_id, version)), similar columns, no foreign key.
CREATE TABLE things (thing_id int, version int, name text, visible boolean,
                     PRIMARY KEY (thing_id, version));
CREATE TABLE current_things (id int PRIMARY KEY, version int, name text, visible boolean);
CREATE TABLE thing_tags (thing_id int, version int, k text, v text, PRIMARY KEY (thing_id, version, k));
CREATE TABLE current_thing_tags (thing_id int, k text, v text, PRIMARY KEY (thing_id, k));
-- a *_versions / *_history table beside its live table
CREATE TABLE posts (id int PRIMARY KEY, title text, body text);
CREATE TABLE post_versions (id int PRIMARY KEY, post_id int REFERENCES posts, title text, body text, version int);
CREATE TABLE accounts (record_id int PRIMARY KEY, name text, email text);
CREATE TABLE account_history (record_id int PRIMARY KEY, target_record_id int, name text, email text, change_type text);
SELECT * FROM groups();

-- 2a. A version pair with nothing to decide between them: no "safe".
CREATE TABLE widgets (id int PRIMARY KEY, name text);
CREATE TABLE widgets_v2 (id int PRIMARY KEY, name text);
SELECT * FROM groups();
-- a function of the application mentions widgets_v2 only: it keeps, and
-- the legacy widgets (empty, unused) may go
CREATE FUNCTION add_widget(n text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN INSERT INTO widgets_v2 (id, name) VALUES (1, n); END $$;
SELECT * FROM groups();
SELECT * FROM evidence('widgets');
DROP FUNCTION add_widget(text);
DROP TABLE widgets, widgets_v2;
-- 2b. A live, normally empty queue beside a leftover holding one row: the
--     base name keeps, the leftover never does.
CREATE TABLE jobs (id bigserial PRIMARY KEY, payload jsonb, run_at timestamptz);
CREATE TABLE jobs_old (LIKE jobs);
INSERT INTO jobs_old VALUES (1, '{}', now());
SELECT * FROM groups();
DROP TABLE jobs, jobs_old;

-- 3a. Rename-and-swap: t renamed to t_old, a new t LIKE t_old INCLUDING
--     ALL, rows copied, t_old emptied.  The new t's default uses the
--     sequence t_old owns: blocked, and the drop would indeed fail.
CREATE TABLE orders (id serial PRIMARY KEY, total numeric);
INSERT INTO orders (total) VALUES (1), (2);
ALTER TABLE orders RENAME TO orders_old;
CREATE TABLE orders (LIKE orders_old INCLUDING ALL);
INSERT INTO orders SELECT * FROM orders_old;
DELETE FROM orders_old;
SELECT duplicate, safe_to_drop, blockers, strength FROM dedup.find_empty_duplicates('{public}');
SELECT dedup.drop_if_empty('orders_old');
DROP TABLE orders;
DROP TABLE orders_old;
-- 3b. A policy on another table, a BEGIN ATOMIC function, a column of
--     another table of its row type: each blocks, and each drop fails.
CREATE TABLE notes (id int PRIMARY KEY, body text);
CREATE TABLE notes_copy (LIKE notes INCLUDING ALL);
CREATE TABLE notes_tmp (LIKE notes INCLUDING ALL);
CREATE TABLE notes_bak2 (LIKE notes INCLUDING ALL);
CREATE TABLE notes_dup (LIKE notes INCLUDING ALL);
CREATE TABLE audit (id int PRIMARY KEY, snapshot notes_tmp);
CREATE POLICY p ON notes USING (NOT EXISTS (SELECT 1 FROM notes_copy c WHERE c.id = notes.id));
CREATE FUNCTION count_dups() RETURNS bigint LANGUAGE sql
BEGIN ATOMIC SELECT count(*) FROM notes_dup; END;
SELECT duplicate, safe_to_drop, blockers, strength FROM dedup.find_empty_duplicates('{public}') ORDER BY 1::text;
SELECT dedup.drop_if_empty('notes_copy');
SELECT dedup.drop_if_empty('notes_tmp');
SELECT dedup.drop_if_empty('notes_dup');
DROP FUNCTION count_dups();
DROP TABLE audit;
DROP POLICY p ON notes;
SELECT duplicate, safe_to_drop, drop_order FROM dedup.find_empty_duplicates('{public}') ORDER BY drop_order;
SELECT dedup.drop_if_empty(duplicate) FROM dedup.find_empty_duplicates('{public}')
 WHERE safe_to_drop ORDER BY drop_order;
DROP TABLE notes, notes_bak2;

-- 4. A supertype with several 1:1 subtypes (disjoint columns) is not a
--    group; extension edges never cross schemas; a backup of an extension
--    is compared with the extension, not with the table it extends.
CREATE TABLE person (id int PRIMARY KEY, name text);
CREATE TABLE employee (id int PRIMARY KEY REFERENCES person, salary numeric);
CREATE TABLE customer (id int PRIMARY KEY REFERENCES person, credit numeric);
CREATE TABLE vendor (id int PRIMARY KEY REFERENCES person, vat text);
CREATE SCHEMA auth;
CREATE TABLE auth.users (id int PRIMARY KEY, email text);
CREATE TABLE profiles (id int PRIMARY KEY REFERENCES auth.users, display_name text);
CREATE TABLE profiles_backup_20260118 (LIKE profiles);
CREATE TABLE members (id int PRIMARY KEY, name text);
CREATE TABLE member_profiles (id int PRIMARY KEY REFERENCES members, bio text);
CREATE TABLE member_profiles_old (LIKE member_profiles);
SELECT * FROM groups();
SELECT group_id, tbl, role FROM dedup.duplicate_groups('{public,auth}');
DROP TABLE employee, customer, vendor, person, profiles, profiles_backup_20260118,
  member_profiles, member_profiles_old, members;
DROP SCHEMA auth CASCADE;

-- 5. Backups have their own role, with their source and whether they
--    still match; the drop idiom never takes them; drop_backup does, on
--    request, and refuses a backup whose rows its source lacks.
CREATE TABLE profiles (id int PRIMARY KEY, name text);
INSERT INTO profiles VALUES (1, 'a'), (2, 'b');
SELECT dedup.backup_table('profiles', 'profiles_snapshot');
CREATE TABLE profiles_backup_20250101 (LIKE profiles);
INSERT INTO profiles_backup_20250101 VALUES (1, 'a'), (3, 'c');
CREATE TABLE profiles_bkp (LIKE profiles);
SELECT * FROM groups();
SELECT count(*) AS listed FROM dedup.find_empty_duplicates('{public}');
SELECT dedup.drop_backup('profiles');
SELECT dedup.drop_backup('profiles_backup_20250101');
SELECT dedup.drop_backup('profiles_bkp');
SELECT dedup.drop_backup('profiles_snapshot');
SELECT dedup.drop_backup('profiles_backup_20250101', force => true);
SELECT action, target, detail->'rows' AS rows FROM dedup.journal WHERE action = 'drop' ORDER BY id;
SELECT * FROM groups();
DROP TABLE profiles;

-- 6. Leftover names recognised, found with the right keeper; identical
--    columns make a bare copy number ("t2") a copy.
CREATE TABLE invoices (id int PRIMARY KEY, amount numeric, paid boolean);
INSERT INTO invoices VALUES (1, 10, true);
CREATE TABLE invoices_bkp (LIKE invoices);
CREATE TABLE invoices_backup2 (LIKE invoices);
CREATE TABLE invoices2 (LIKE invoices INCLUDING ALL);
CREATE TABLE invoices_copy1 (LIKE invoices);
CREATE TABLE invoices_dup (LIKE invoices);
CREATE TABLE invoices_orig (LIKE invoices);
CREATE TABLE invoices_prev (LIKE invoices);
CREATE TABLE invoices_archive_2023 (LIKE invoices);
CREATE TABLE invoices_before_migration (LIKE invoices);
CREATE TABLE invoices_tmp (LIKE invoices);
-- not copies: a bare number with other columns, an archive that may be live
CREATE TABLE invoices3 (id int PRIMARY KEY, note text);
CREATE TABLE invoices_archive (LIKE invoices);
SELECT * FROM groups();
SELECT dedup.drop_if_empty(duplicate) FROM dedup.find_empty_duplicates('{public}')
 WHERE safe_to_drop ORDER BY drop_order;
SELECT * FROM groups();
DROP TABLE invoices, invoices_bkp, invoices_backup2, invoices3, invoices_archive;

-- 7. A partitioned table with a foreign-table partition: emptiness is
--    unknown (NULL), never true, and drop_if_empty refuses.
CREATE FOREIGN DATA WRAPPER dummy;
CREATE SERVER nowhere FOREIGN DATA WRAPPER dummy;
CREATE TABLE events (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE FOREIGN TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')
  SERVER nowhere;
CREATE TABLE events_old (LIKE events);
SELECT tbl, is_empty FROM dedup.inventory('{public}') WHERE tbl::text LIKE 'events%' ORDER BY 1::text;
SELECT * FROM groups();
SELECT dedup.drop_if_empty('events');
DROP TABLE events, events_old;

-- 8. A leftover whose columns drifted: a name that is the base name plus
--    affixes only leftovers carry, sharing some columns with it, is
--    proposed as weak evidence with what to check, never "safe"; merge
--    tools never take it as a look-alike.  Not grouped: a table that shares
--    no column (or only a bare id key) with the base, one that refers to
--    it by name (a child), one a foreign key links to it, and an affix a
--    live table may carry (_archive, _v2).
CREATE TABLE plans (plan_id uuid PRIMARY KEY, name text, price numeric, period text);
INSERT INTO plans VALUES ('00000000-0000-0000-0000-000000000001', 'pro', 10, 'month');
CREATE TABLE v1_plans (plan_id int, name text, price_cents int);         -- older version, rows
INSERT INTO v1_plans VALUES (1, 'pro', 1000);
CREATE TABLE plans_old_2023 (plan_id int, label text, amount numeric);   -- only the key named after it
CREATE TABLE plans_bak (id int, name text, cents int);                   -- a backup that drifted
CREATE TABLE plans_tmp (x int, y text);                                  -- shares nothing
CREATE TABLE plans_orig (plan_id uuid REFERENCES plans, note text);      -- a foreign key links them
CREATE TABLE plans_archive (plan_id uuid, label text, amount numeric);   -- may be live
CREATE TABLE plans_v2 (plan_id uuid, label text, amount numeric);        -- may be live
CREATE TABLE sensor (id int PRIMARY KEY, name text, created_at timestamptz);
CREATE TABLE sensor_temp (id int PRIMARY KEY, sensor_id int, celsius real, created_at timestamptz);
CREATE TABLE sensor_copy (id int PRIMARY KEY, celsius real);             -- only a bare id
SELECT * FROM groups();
SELECT * FROM evidence('v1_plans');
SELECT duplicate, safe_to_drop, strength, verdict FROM dedup.find_empty_duplicates('{public}');
SELECT tbl AS not_grouped FROM dedup.inventory('{public}') i
 WHERE NOT EXISTS (SELECT 1 FROM dedup.duplicate_groups('{public}') g WHERE g.tbl = i.tbl)
 ORDER BY 1::text;
SELECT step, action, target, detail FROM dedup.merge_members('plans', extension => NULL);
DROP TABLE plans_orig, plans, v1_plans, plans_old_2023, plans_bak, plans_tmp, plans_archive,
  plans_v2, sensor, sensor_temp, sensor_copy;

-- Signs of use: scans recorded by the statistics (dedup's own reads are
-- not counted), views and function bodies.
CREATE TABLE reports (id int PRIMARY KEY, title text);
CREATE TABLE reports_copy (LIKE reports);
CREATE TABLE reports_old (LIKE reports);
CREATE TABLE reports_tmp (LIKE reports);
CREATE VIEW recent_reports AS SELECT * FROM reports_tmp;
SELECT count(*) FROM reports_copy;
SELECT count(*) FROM reports_copy;
SELECT count(*) FROM reports_copy;
SELECT pg_stat_force_next_flush();
SELECT pg_sleep(0.1);
SELECT * FROM groups();
SELECT * FROM evidence('reports_copy');
SELECT * FROM evidence('reports_old');
-- discovery twice: its own reads leave the counts as they were
SELECT pg_stat_force_next_flush();
SELECT relname, seq_scan, idx_scan FROM pg_stat_user_tables WHERE relname LIKE 'reports%' ORDER BY 1;
SELECT count(*) FROM dedup.duplicate_groups('{public}');
SELECT count(*) FROM dedup.find_empty_duplicates('{public}');
SELECT count(*) FROM dedup.inventory('{public}');
SELECT pg_stat_force_next_flush();
SELECT pg_sleep(0.1);
SELECT pg_stat_clear_snapshot();
SELECT relname, seq_scan, idx_scan FROM pg_stat_user_tables WHERE relname LIKE 'reports%' ORDER BY 1;

\c contrib_regression
DROP DATABASE dedup_verdicts;
