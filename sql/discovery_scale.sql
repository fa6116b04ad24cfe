-- A read-only walk keeps no lock on the tables it has read, so it runs with
-- the default max_locks_per_transaction on any number of tables, and a
-- cancel stops it promptly.
SHOW max_locks_per_transaction;
SET client_min_messages = warning;
CREATE SCHEMA s;
DO $$
BEGIN
  FOR i IN 1..300 LOOP
    EXECUTE format('CREATE TABLE s.%I (id int PRIMARY KEY, v text)', 't' || i);
    EXECUTE format('CREATE TABLE s.%I (id int PRIMARY KEY, v text)', 'v3_t' || i);
    EXECUTE format('CREATE TABLE s.%I (id int PRIMARY KEY, v text)', 't' || i || '_2026_01');
    EXECUTE format('CREATE TABLE s.%I (id int PRIMARY KEY, v text)', 't' || i || '_backup_20260118');
    EXECUTE format('CREATE TABLE s.%I (id int PRIMARY KEY, v text)', 't' || i || '_old');
    EXECUTE format('INSERT INTO s.%I VALUES (1, %L)', 't' || i, 'row');
  END LOOP;
END $$;
RESET client_min_messages;

-- 1,500 tables read in one transaction; 64 locks per transaction would not
-- cover them if they were kept.
BEGIN;
SELECT count(*) AS empty_duplicates, count(*) FILTER (WHERE safe_to_drop) AS safe,
       min(keeper_rows), max(keeper_rows), count(DISTINCT drop_order) AS distinct_orders
  FROM dedup.find_empty_duplicates('{s}');
SELECT count(*) AS members, count(DISTINCT group_id) AS groups,
       count(*) FILTER (WHERE role = 'keeper') AS keepers
  FROM dedup.duplicate_groups('{s}');
SELECT count(*) AS tables, count(*) FILTER (WHERE is_empty) AS empty
  FROM dedup.inventory('{s}');
SELECT count(*) AS locks_left
  FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
 WHERE l.pid = pg_backend_pid() AND c.relnamespace = 's'::regnamespace;
COMMIT;

-- A cancel (statement_timeout) interrupts an exact count of a large keeper:
-- the cancelled run ends in well under half the time a full run takes.
INSERT INTO s.t1 SELECT g, 'row' FROM generate_series(2, 3000000) g;
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) AS members FROM dedup.duplicate_groups('{s}');
SELECT clock_timestamp() - :'t0'::timestamptz AS full_run \gset
SELECT :'full_run'::interval > interval '30ms' AS full_run_is_long;
SELECT clock_timestamp() AS t1 \gset
\set VERBOSITY terse
SET statement_timeout = '10ms';
SELECT count(*) FROM dedup.duplicate_groups('{s}');
RESET statement_timeout;
\set VERBOSITY default
SELECT clock_timestamp() - :'t1'::timestamptz < :'full_run'::interval / 2 AS cancelled_promptly;
SET client_min_messages = warning;
DROP SCHEMA s CASCADE;
