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
-- the README's idiom: it drops exactly the planted empty copies
SELECT count(*) AS dropped FROM (SELECT dedup.drop_if_empty(duplicate)
  FROM dedup.find_empty_duplicates() WHERE safe_to_drop ORDER BY drop_order) d;
SELECT target AS dropped_not_planted FROM dedup.journal
 WHERE action = 'drop' AND target <> ALL (SELECT name FROM pg_temp.planted);
SELECT count(*) AS live_tables, count(*) FILTER (WHERE to_regclass(tbl::text) IS NOT NULL) AS still_there
  FROM pg_temp.live;
