-- dedup.apply() refuses, before it changes anything, a plan whose steps
-- would hold more locks than half the shared lock table
-- (max_locks_per_transaction x (max_connections + max_prepared_transactions)):
-- it says how many it needs and which setting to raise.  One schema at a
-- time fits.
CREATE DATABASE dedup_plan_locks;
\c dedup_plan_locks
CREATE EXTENSION dedup;
SET client_min_messages = warning;
CREATE SCHEMA many;
CREATE TABLE many.things (id int PRIMARY KEY, note text);
INSERT INTO many.things VALUES (1, 'one');
-- enough empty monthly copies to pass the budget: each drop locks the table,
-- its row type and its TOAST table and index
SELECT current_setting('max_locks_per_transaction')::int
       * (current_setting('max_connections')::int + current_setting('max_prepared_transactions')::int)
       / 2 / 4 + 50 AS copies \gset
SELECT format('CREATE TABLE many.%I (LIKE many.things)',
              'things_' || to_char('1900-01-01'::date + g * interval '1 month', 'YYYY_MM'))
  FROM generate_series(1, :copies) g \gexec
CREATE TABLE public.projects (id int PRIMARY KEY);
CREATE TABLE public.projects_old (LIKE public.projects);
RESET client_min_messages;
SELECT count(*) FILTER (WHERE action = 'drop') = :copies + 1 AS every_copy_planned FROM dedup.plan();
DO $$
DECLARE msg text; det text; hint text;
BEGIN
  PERFORM * FROM dedup.apply();
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
  RAISE NOTICE E'%\n%\n%\n%', SQLSTATE, regexp_replace(msg, '\d+', 'N', 'g'),
    regexp_replace(det, '\d+', 'N', 'g'), regexp_replace(hint, '\d+', 'N', 'g');
END $$;
SELECT count(*) AS tables_left FROM pg_class WHERE relnamespace = 'many'::regnamespace AND relkind = 'r';
SELECT count(*) AS journal_rows FROM dedup.journal;
-- one schema at a time
SELECT step, action, target, result FROM dedup.apply(schemas => '{public}');

\c contrib_regression
SET client_min_messages = warning;
DROP DATABASE dedup_plan_locks;
