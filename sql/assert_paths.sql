-- Paths that an assert-enabled server checks (run the suite against one:
-- PG_CONFIG=/opt/pg15-assert/bin/pg_config bash test/harness.sh check).
--  * Every relation dedup opens from C is locked first: missing_rows() in a
--    transaction that holds no lock on either table (it used to open both
--    with NoLock, which trips relation_open()'s assertion).
--  * Pages written straight to storage are I/O-aligned, as smgrextend()
--    asserts from PostgreSQL 16 on: backup_table() of a heap through its
--    page writer, with rows that go to TOAST, over many pages.
-- Nothing is left behind for the tests after this one.
CREATE TABLE keeper (id int PRIMARY KEY, v text);
CREATE TABLE source (id int PRIMARY KEY, v text);
INSERT INTO keeper SELECT g, 'v' || g FROM generate_series(1, 5) g;
INSERT INTO source SELECT g, CASE WHEN g = 2 THEN 'changed' ELSE 'v' || g END
  FROM generate_series(1, 7) g;
-- each statement is its own transaction: nothing holds a lock on either table
SELECT status, row_data FROM dedup.missing_rows('source', 'keeper');
SELECT status, row_data->>'id' AS id FROM dedup.missing_rows('keeper', 'source');
DROP TABLE keeper, source;

-- rolled back: no journal row remains
BEGIN;
CREATE TABLE wide (id int PRIMARY KEY, t text);
INSERT INTO wide
SELECT g, CASE WHEN g % 100 = 0
               THEN (SELECT string_agg(md5(g::text || i::text), '') FROM generate_series(1, 300) i)
               ELSE md5(g::text) END
  FROM generate_series(1, 5000) g;
SELECT dedup.backup_table('wide', 'wide_bak');
SELECT (SELECT count(*) FROM wide_bak) AS rows,
       (SELECT count(*) FROM (SELECT * FROM wide EXCEPT ALL SELECT * FROM wide_bak) d) AS missing,
       (SELECT count(*) FROM (SELECT * FROM wide_bak EXCEPT ALL SELECT * FROM wide) d) AS extra,
       pg_relation_size('wide_bak') / current_setting('block_size')::int > 30 AS many_pages,
       (SELECT pg_relation_size(reltoastrelid) > 0 FROM pg_class WHERE oid = 'wide_bak'::regclass) AS toasted;
ROLLBACK;
