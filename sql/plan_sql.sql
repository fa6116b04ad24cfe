-- dedup.plan_sql() and dedup.rollback_sql() on copies of the demo database
-- (CREATE DATABASE ... TEMPLATE, as a pg_dump would make them): the script
-- needs no extension (it calls nothing of dedup's) and reaches the same
-- tables, rows, views, sequences and grants as dedup.apply() on another
-- copy, and the same answers for every role; run twice, it finds every step
-- done; a write into a duplicate after planning makes it fail its guard and
-- change nothing; the rollback script puts the copy back exactly, and finds
-- itself done when run again.
CREATE DATABASE dedup_plan_sql;
\c dedup_plan_sql
CREATE EXTENSION dedup;
\set ECHO none
\i test/fixtures/demo.sql
\set ECHO all
SET dedup.backup_suffix = 'plan';
\pset format unaligned
\pset tuples_only on
SELECT dedup.plan_sql(merge_extensions => true) \g results/plan_sql_plan.sql
SELECT dedup.rollback_sql(merge_extensions => true) \g results/plan_sql_rollback.sql
SELECT dedup.plan_sql() \g results/plan_sql_plan_default.sql
\pset format aligned
\pset tuples_only off
-- (each script is run as the text of a variable: psql would put its file
-- name and line numbers before every message of a file it reads)
\set plan `cat results/plan_sql_plan.sql`
\set rollback `cat results/plan_sql_rollback.sql`
\set plan_default `cat results/plan_sql_plan_default.sql`

\c contrib_regression
CREATE DATABASE dedup_plan_sql_apply TEMPLATE dedup_plan_sql;
CREATE DATABASE dedup_plan_sql_script TEMPLATE dedup_plan_sql;
CREATE DATABASE dedup_plan_sql_guard TEMPLATE dedup_plan_sql;
CREATE DATABASE dedup_plan_sql_default TEMPLATE dedup_plan_sql;

-- apply() on one copy ...
\c dedup_plan_sql_apply
\set ECHO none
\i test/fixtures/state.sql
\set ECHO all
SET client_min_messages = warning;
SET dedup.backup_suffix = 'plan';
SELECT count(*) AS steps FROM dedup.apply(merge_extensions => true);
SELECT pg_temp.state() AS applied \gset
SELECT md5(string_agg(format('%s %s %s', r, stmt, result), E'\n' ORDER BY r, stmt)) AS applied_access FROM pg_temp.access() \gset

-- ... the script on another, where dedup is not installed ...
\c dedup_plan_sql_script
DROP EXTENSION dedup CASCADE;
\set ECHO none
\i test/fixtures/state.sql
\set ECHO all
SELECT pg_temp.state() AS before \gset
SET client_min_messages = warning;
:plan
RESET client_min_messages;
SELECT pg_temp.state() = :'applied' AS same_as_apply;
SELECT md5(string_agg(format('%s %s %s', r, stmt, result), E'\n' ORDER BY r, stmt)) = :'applied_access' AS same_access
  FROM pg_temp.access();
SELECT tgname, tgrelid::regclass, tgfoid::regproc FROM pg_trigger WHERE tgname LIKE '%dedup_compat' ORDER BY 2;

-- ... run again: every step is done already, nothing changes ...
:plan
SELECT pg_temp.state() = :'applied' AS unchanged;

-- ... and the rollback puts it back exactly, twice over.
SET client_min_messages = warning;
:rollback
RESET client_min_messages;
SELECT pg_temp.state() = :'before' AS restored;
:rollback
SELECT pg_temp.state() = :'before' AS unchanged;

-- A write into a duplicate after planning: the guard fails, nothing changes.
\c dedup_plan_sql_guard
\set ECHO none
\i test/fixtures/state.sql
\set ECHO all
INSERT INTO members_full_orphans VALUES (900, 'late@example.org', 'Late', '2026-01-01', NULL);
SELECT pg_temp.state() AS before \gset
\set VERBOSITY terse
SET client_min_messages = warning;
:plan
RESET client_min_messages;
\set VERBOSITY default
SELECT pg_temp.state() = :'before' AS unchanged;

-- The default plan (no extension merge) as a script: the same end state as
-- dedup.apply() again.
\c dedup_plan_sql_default
\set ECHO none
\i test/fixtures/state.sql
\set ECHO all
SET client_min_messages = warning;
SET dedup.backup_suffix = 'plan';
BEGIN;
SELECT count(*) AS steps FROM dedup.apply();
SELECT pg_temp.state() AS applied \gset
ROLLBACK;
:plan_default
RESET client_min_messages;
SELECT pg_temp.state() = :'applied' AS same_as_apply;

\c contrib_regression
SET client_min_messages = warning;
DROP DATABASE dedup_plan_sql;
DROP DATABASE dedup_plan_sql_apply;
DROP DATABASE dedup_plan_sql_script;
DROP DATABASE dedup_plan_sql_guard;
DROP DATABASE dedup_plan_sql_default;
