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
-- Each plan() recorded a baseline; it changed nothing else.
SELECT id, action, target, parent, objects, detail->>'by' AS by, detail->'steps' AS steps,
       jsonb_array_length(detail->'tables') AS tables, detail->'roles' AS roles
  FROM dedup.journal ORDER BY id;
SELECT t->>'t' AS tbl, t->'r' AS rows, t->'n' AS nulls, j.detail->'acls'->((t->>'a')::int) AS access, t->'l' AS rls
  FROM dedup.journal j, jsonb_array_elements(j.detail->'tables') t WHERE j.id = 2 ORDER BY 1;
SELECT pg_temp.state() = :'state_before' AS unchanged;
\pset format unaligned
SELECT dedup.report();
\pset format aligned

-- The plan apply would run is not the one reviewed: refused.
CREATE TABLE members_old (LIKE members);
SELECT * FROM dedup.apply(merge_extensions => true);
DROP TABLE members_old;

-- A step that fails names itself, and nothing is kept.
CREATE FUNCTION public.keep_projects_project() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_event_trigger_dropped_objects() WHERE object_identity = 'public.projects_project') THEN
    RAISE EXCEPTION 'projects_project is still read by the reporting job';
  END IF;
END $$;
CREATE EVENT TRIGGER keep_projects_project ON sql_drop EXECUTE FUNCTION public.keep_projects_project();
\set VERBOSITY terse
SELECT count(*) FROM dedup.plan(merge_extensions => true);
SELECT * FROM dedup.apply(merge_extensions => true);
\set VERBOSITY default
DROP EVENT TRIGGER keep_projects_project;
DROP FUNCTION public.keep_projects_project();
SELECT pg_temp.state() = :'state_before' AS unchanged, count(*) AS journal_rows FROM dedup.journal;

-- The reviewed plan, applied: one action, its steps journaled under it.
SELECT access_before.* INTO TEMP access_before FROM pg_temp.access() access_before;
SELECT count(*) FROM dedup.plan(merge_extensions => true);
SELECT * FROM dedup.apply(merge_extensions => true);
SELECT id, action, target, parent FROM dedup.journal WHERE id > 4 ORDER BY id;
SELECT * FROM dedup.verify();

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

-- A plan entry is a baseline, not an action: it cannot be undone.
SELECT dedup.undo(1);

\c contrib_regression
SET client_min_messages = warning;
DROP DATABASE dedup_plan_apply;
