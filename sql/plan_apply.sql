-- The consolidation of the demo database as a user runs it: dedup.plan()
-- shows every step with its hazard and reason (in both modes) and records a
-- baseline; dedup.report() shows it as text; dedup.apply() refuses a plan
-- that is not the one reviewed, names a step that fails and keeps nothing,
-- then runs the plan as one journaled action that ends verified;
-- dedup.verify() finds everything in order; the application still works;
-- a second apply has nothing to do; one dedup.undo() puts the database back
-- exactly.
CREATE DATABASE dedup_plan_apply;
\c dedup_plan_apply
CREATE EXTENSION dedup;
\set ECHO none
\i test/fixtures/demo.sql
\i test/fixtures/state.sql
\set ECHO all
SET dedup.backup_suffix = 'plan';
SELECT pg_temp.state() AS state_before \gset
CREATE TEMP TABLE lines_before AS SELECT * FROM pg_temp.state_lines() l;

-- The plan, without and with the 1:1 extension merged.
SELECT step, action, target, hazard, reason FROM dedup.plan();
SELECT step, action, target, hazard, reason, sql FROM dedup.plan(merge_extensions => true)
 WHERE action <> 'drop';
-- Each plan() recorded a baseline; it changed nothing else.  (Roles are
-- the cluster's: other tests leave theirs; the demo's are shown.)
CREATE TEMP VIEW demo_roles AS
SELECT j.id, r.name, (r.n - 1)::int AS i
  FROM dedup.journal j, jsonb_array_elements_text(j.detail->'roles') WITH ORDINALITY r(name, n)
 WHERE r.name IN ('anon', 'authenticated', 'public', 'service_role');
SELECT id, action, target, parent, objects, detail->>'by' AS by, detail->'steps' AS steps,
       jsonb_array_length(detail->'tables') AS tables,
       (SELECT jsonb_agg(r.name ORDER BY r.i) FROM demo_roles r WHERE r.id = j.id) AS roles
  FROM dedup.journal j ORDER BY id;
SELECT t->>'t' AS tbl, t->'r' AS rows, t->'n' AS nulls,
       (SELECT jsonb_object_agg(r.name, j.detail->'acls'->((t->>'a')::int)->>r.i) FROM demo_roles r WHERE r.id = j.id) AS access,
       t->'l' AS rls
  FROM dedup.journal j, jsonb_array_elements(j.detail->'tables') t WHERE j.id = 2 ORDER BY 1;
SELECT pg_temp.state() = :'state_before' AS unchanged;
\pset format unaligned
SELECT dedup.report();
\pset format aligned

-- The plan apply would run is not the one reviewed: refused.
CREATE TABLE members_old (LIKE members);
SELECT * FROM dedup.apply(merge_extensions => true);
DROP TABLE members_old;

-- A step that fails names itself, and nothing is kept.  (The trigger does
-- not name the table: a function that names it is a sign of use, and the
-- plan would keep it.)
CREATE FUNCTION public.keep_bookings_2027_01() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_event_trigger_dropped_objects() WHERE object_identity LIKE '%2027\_01') THEN
    RAISE EXCEPTION 'the reporting job still reads the January 2027 bookings';
  END IF;
END $$;
CREATE EVENT TRIGGER keep_bookings_2027_01 ON sql_drop EXECUTE FUNCTION public.keep_bookings_2027_01();
\set VERBOSITY terse
SELECT count(*) FROM dedup.plan(merge_extensions => true);
SELECT * FROM dedup.apply(merge_extensions => true);
\set VERBOSITY default
DROP EVENT TRIGGER keep_bookings_2027_01;
DROP FUNCTION public.keep_bookings_2027_01();
SELECT pg_temp.state() = :'state_before' AS unchanged, count(*) AS journal_rows FROM dedup.journal;

-- The reviewed plan, applied: one action, its steps journaled under it.
SELECT access_before.* INTO TEMP access_before FROM pg_temp.access() access_before;
SELECT count(*) FROM dedup.plan(merge_extensions => true);
SELECT * FROM dedup.apply(merge_extensions => true);
SELECT id, action, target, parent FROM dedup.journal WHERE id > 4 ORDER BY id;
SELECT check_name, regexp_replace(target, '^\d+ roles', 'N roles') AS target, ok, detail FROM dedup.verify();

-- The application still works: the next signup, and every role's
-- statements through both names do what they did.
INSERT INTO members (email, full_name) VALUES ('signup@example.org', 'Signup') RETURNING id;
DELETE FROM members WHERE email = 'signup@example.org';
SELECT a.r, a.stmt, b.result AS before, a.result AS after
  FROM pg_temp.access() a JOIN access_before b USING (r, stmt)
 WHERE a.result IS DISTINCT FROM b.result ORDER BY 1, 2;

-- Nothing left to do: a second apply changes nothing and journals nothing.
SELECT count(*) AS journal_rows FROM dedup.journal \gset
SELECT * FROM dedup.apply(merge_extensions => true) WHERE action <> 'keep';
SELECT count(*) = :journal_rows AS nothing_journaled FROM dedup.journal;

-- One undo reverses the whole apply, backups included.
SELECT dedup.undo(id) FROM dedup.journal WHERE action = 'apply';
-- Everything is as it was but the sequence the application drew from
-- (the signup above): a sequence that was used since stays ahead.
SELECT 'now' AS state, * FROM (SELECT * FROM pg_temp.state_lines() EXCEPT SELECT * FROM lines_before) a
UNION ALL
SELECT 'before', * FROM (SELECT * FROM lines_before EXCEPT SELECT * FROM pg_temp.state_lines()) b;
SELECT to_regclass('members_backup_plan') AS members_backup;

-- What a plan leaves alone: a look-alike with rows that a function names
-- (in use), one that only weak evidence calls a copy (an ambiguous _new
-- name, fewer columns), and a group whose keeper is not clear-cut (a table
-- and its _v2, both with rows, neither in use).
CREATE TABLE members_old AS SELECT * FROM members WHERE id <= 3;
CREATE FUNCTION public.old_members() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM members_old';
CREATE TABLE members_new AS SELECT id, email FROM members WHERE id <= 3;
CREATE TABLE tickets (id int PRIMARY KEY, title text);
INSERT INTO tickets VALUES (1, 'a'), (2, 'b');
CREATE TABLE tickets_v2 (LIKE tickets INCLUDING ALL);
INSERT INTO tickets_v2 VALUES (1, 'a'), (3, 'c');
SELECT step, action, target, hazard, reason FROM dedup.plan()
 WHERE target ~ '^public\.(members_old|members_new|tickets|tickets_v2)$';
SELECT dedup.report() ~ 'group \d+: keeper public.tickets, 2 rows\n    keeper not clear-cut: nothing shows which of' AS report_says_unclear;
DROP FUNCTION public.old_members();
DROP TABLE members_old, members_new, tickets, tickets_v2;

-- A plan entry is a baseline, not an action: it cannot be undone.
SELECT dedup.undo(1);

\c contrib_regression
SET client_min_messages = warning;
DROP DATABASE dedup_plan_apply;
