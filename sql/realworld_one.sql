-- One real schema (included by realworld.sql with :name, :plant, :leftovers).
\set ECHO none
\c contrib_regression
SET client_min_messages = warning;
DROP DATABASE IF EXISTS dedup_realworld;
CREATE DATABASE dedup_realworld;
\c dedup_realworld
SET client_min_messages = warning;
\set load :realworld_dir '/' :name '/load.sql'
\o /dev/null
\i :load
\o
CREATE EXTENSION dedup;
-- the live tables: every table the schema has, less its named leftovers
CREATE TABLE pg_temp.live AS
  SELECT tbl FROM dedup.inventory() WHERE tbl <> ALL (:'leftovers'::regclass[]);
\set ECHO all
\qecho :name
-- before planting: what is grouped; a live table may only keep
SELECT group_id, tbl, role, strength, row_count FROM dedup.duplicate_groups();
SELECT tbl AS live_not_keeper, role FROM dedup.duplicate_groups() JOIN pg_temp.live USING (tbl)
 WHERE role <> 'keeper';
-- plant, for each chosen table t: t_old (LIKE INCLUDING ALL, empty),
-- v2_t (LIKE, empty), t_backup_20250101 and t_copy (CREATE TABLE AS: all
-- of its rows, or none when t is empty)
\set ECHO none
CREATE TABLE pg_temp.plant AS SELECT unnest(:'plant'::regclass[]) AS t;
CREATE TABLE pg_temp.planted (copy regclass, name text, of regclass);
DO $$
DECLARE t regclass; n name; s name; c text;
BEGIN
  FOR t IN SELECT p.t FROM pg_temp.plant p LOOP
    SELECT c.relname, ns.nspname INTO n, s FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
     WHERE c.oid = t;
    EXECUTE format('CREATE TABLE %I.%I (LIKE %s INCLUDING ALL)', s, n || '_old', t);
    EXECUTE format('CREATE TABLE %I.%I (LIKE %s)', s, 'v2_' || n, t);
    EXECUTE format('CREATE TABLE %I.%I AS SELECT * FROM %s', s, n || '_backup_20250101', t);
    EXECUTE format('CREATE TABLE %I.%I AS SELECT * FROM %s', s, n || '_copy', t);
    FOREACH c IN ARRAY ARRAY[n || '_old', 'v2_' || n, n || '_backup_20250101', n || '_copy'] LOOP
      INSERT INTO pg_temp.planted VALUES (format('%I.%I', s, c)::regclass, format('%I.%I', s, c), t);
    END LOOP;
  END LOOP;
END $$;
\set ECHO all
SELECT group_id, keeper, tbl, role, strength, row_count, verdict
  FROM dedup.duplicate_groups() WHERE tbl NOT IN (SELECT tbl FROM pg_temp.live) OR keeper <> tbl
 ORDER BY group_id, tbl::text;
-- assertions: each query lists violations, so an empty result is a pass
SELECT tbl AS live_not_keeper, role FROM dedup.duplicate_groups() JOIN pg_temp.live USING (tbl)
 WHERE role <> 'keeper';
SELECT group_id AS group_with_two_live FROM dedup.duplicate_groups() JOIN pg_temp.live USING (tbl)
 GROUP BY group_id HAVING count(*) > 1;
SELECT duplicate AS live_safe FROM dedup.find_empty_duplicates() JOIN pg_temp.live ON tbl = duplicate
 WHERE safe_to_drop;
SELECT copy AS planted_missed FROM pg_temp.planted p
 WHERE NOT EXISTS (SELECT 1 FROM dedup.duplicate_groups() g WHERE g.tbl = p.copy AND g.keeper = p.of);
-- the whole plan: no live table is dropped or merged away; apply then
-- verify find nothing wrong (rolled back); the plan as a script, on a copy
-- without dedup, twice, drops what apply drops and keeps every live table's
-- rows; its rollback script puts the copy back
-- (the statistics start over here: the loading above counted scans, and
-- their flush, a second or so later, must not change the plan between
-- plan() and apply())
\set ECHO none
SELECT pg_stat_force_next_flush() \g /dev/null
SELECT pg_stat_reset() \g /dev/null
\set ECHO all
SET dedup.backup_suffix = 'plan';
SELECT action, count(*) FROM dedup.plan() GROUP BY 1 ORDER BY 1;
SELECT p.step, p.action, p.target AS live_planned_away FROM dedup.plan() p JOIN pg_temp.live l ON p.target = l.tbl::text
 WHERE p.action IN ('drop', 'merge_rows', 'merge_extension');
SELECT target AS not_planted_dropped FROM dedup.plan()
 WHERE action = 'drop' AND target <> ALL (SELECT name FROM pg_temp.planted);
\set ECHO none
\i :tables_fn
\pset format unaligned
\pset tuples_only on
SELECT dedup.plan_sql() \g results/realworld_plan.sql
SELECT dedup.rollback_sql() \g results/realworld_rollback.sql
\pset format aligned
\pset tuples_only off
\set plan `cat results/realworld_plan.sql`
\set rollback `cat results/realworld_rollback.sql`
SELECT string_agg(t, E'\n') AS before FROM pg_temp.tables() t \gset
BEGIN;
SET LOCAL client_min_messages = warning;
SELECT count(*) AS applied_steps FROM dedup.apply() \gset
\set ECHO all
SELECT check_name, target, detail FROM dedup.verify() WHERE ok IS NOT TRUE;
SELECT count(*) AS live_tables, count(*) FILTER (WHERE to_regclass(tbl::text) IS NOT NULL) AS still_there
  FROM pg_temp.live;
\set ECHO none
SELECT string_agg(t, E'\n') AS applied FROM pg_temp.tables() t \gset
ROLLBACK;
-- (this session's temporary tables go with it: kept in variables)
SELECT array_agg(tbl::oid) AS live_oids FROM pg_temp.live \gset
SELECT array_agg(copy::oid) AS planted_copies, array_agg(name) AS planted_names, array_agg(of::oid) AS planted_of
  FROM pg_temp.planted \gset
\c contrib_regression
SET client_min_messages = warning;
DROP DATABASE IF EXISTS dedup_realworld_script;
CREATE DATABASE dedup_realworld_script TEMPLATE dedup_realworld;
\c dedup_realworld_script
SET client_min_messages = warning;
DROP EXTENSION dedup CASCADE;
\i :tables_fn
\set ECHO all
:plan
-- script_same_as_apply: the lines that differ
(SELECT 'expected' AS side, l FROM unnest(string_to_array(:'applied', E'\n')) l EXCEPT SELECT 'expected', t FROM pg_temp.tables() t)
UNION ALL (SELECT 'found', t FROM pg_temp.tables() t EXCEPT SELECT 'found', l FROM unnest(string_to_array(:'applied', E'\n')) l);
:plan
-- second_run_unchanged: the lines that differ
(SELECT 'expected' AS side, l FROM unnest(string_to_array(:'applied', E'\n')) l EXCEPT SELECT 'expected', t FROM pg_temp.tables() t)
UNION ALL (SELECT 'found', t FROM pg_temp.tables() t EXCEPT SELECT 'found', l FROM unnest(string_to_array(:'applied', E'\n')) l);
:rollback
-- rolled_back: the lines that differ
(SELECT 'expected' AS side, l FROM unnest(string_to_array(:'before', E'\n')) l EXCEPT SELECT 'expected', t FROM pg_temp.tables() t)
UNION ALL (SELECT 'found', t FROM pg_temp.tables() t EXCEPT SELECT 'found', l FROM unnest(string_to_array(:'before', E'\n')) l);
\set ECHO none
\c contrib_regression
SET client_min_messages = warning;
DROP DATABASE dedup_realworld_script;
\c dedup_realworld
SET client_min_messages = warning;
CREATE TABLE pg_temp.live AS SELECT unnest(:'live_oids'::oid[])::regclass AS tbl;
CREATE TABLE pg_temp.planted AS
  SELECT unnest(:'planted_copies'::oid[])::regclass AS copy, unnest(:'planted_names'::text[]) AS name,
         unnest(:'planted_of'::oid[])::regclass AS of;
\set ECHO all
-- the README's idiom: it drops exactly the planted empty copies
SELECT count(*) AS dropped FROM (SELECT dedup.drop_if_empty(duplicate)
  FROM dedup.find_empty_duplicates() WHERE safe_to_drop ORDER BY drop_order) d;
SELECT target AS dropped_not_planted FROM dedup.journal
 WHERE action = 'drop' AND target <> ALL (SELECT name FROM pg_temp.planted);
SELECT count(*) AS live_tables, count(*) FILTER (WHERE to_regclass(tbl::text) IS NOT NULL) AS still_there
  FROM pg_temp.live;
