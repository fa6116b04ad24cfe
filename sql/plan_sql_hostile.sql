-- dedup.plan_sql() and dedup.rollback_sql() with hostile names: a name that
-- holds a line break, ";", "--", quotes, "%" and "$$" stays text in every
-- comment, message and statement of the scripts (a line break in a "--"
-- comment would make the rest of the name SQL); the script reaches the same
-- end state as dedup.apply(), finds every step done when run again (a "%"
-- in a name is an argument of format(), never part of its format), and the
-- rollback puts the copy back exactly, also when a shared column of a
-- merged extension is NULL in the extension but not in the base.  Views are
-- checked by parsing a read of them, never by planning one: the planner
-- evaluates immutable functions, which would run a view owner's code as
-- whoever runs verify(), apply() or the script.
CREATE DATABASE dedup_plan_sql_hostile;
\c dedup_plan_sql_hostile
CREATE EXTENSION dedup;
SET client_min_messages = warning;
CREATE TABLE public.victim (id int);
INSERT INTO public.victim VALUES (1);
-- an empty duplicate whose name ends the comment it is written into
CREATE TABLE public."q
DROP TABLE public.victim;--" (id int PRIMARY KEY, v text);
INSERT INTO public."q
DROP TABLE public.victim;--" VALUES (1, 'a');
CREATE TABLE public."q
DROP TABLE public.victim;--_old" (id int PRIMARY KEY, v text);
-- a keeper, a look-alike with rows, an empty copy, a 1:1 extension sharing a column
CREATE TABLE public."Mem'bers %s $$ USING x" (id int PRIMARY KEY, email text NOT NULL, note numeric,
                                             "we;ird $1" text DEFAULT 'a''b $$ %s');
INSERT INTO public."Mem'bers %s $$ USING x" (id, email, note) VALUES (1, 'a@x', 1.0), (2, 'b@x', 2.50), (3, 'c@x', NULL);
CREATE TABLE public."Mem'bers %s $$ USING x_old" (id int PRIMARY KEY, email text NOT NULL, note numeric, "we;ird $1" text);
INSERT INTO public."Mem'bers %s $$ USING x_old" VALUES (1, 'a@x', 1.0, 'a''b $$ %s'), (10, 'z@x', 3.000, NULL);
CREATE TABLE public."Mem'bers %s $$ USING x_copy" (id int PRIMARY KEY, email text NOT NULL, note numeric, "we;ird $1" text);
CREATE TABLE public."prof;-- $x$ 'ile" (id int PRIMARY KEY REFERENCES public."Mem'bers %s $$ USING x" (id),
                                        "bi'o %s" text DEFAULT '$x$;--', email text);
INSERT INTO public."prof;-- $x$ 'ile" VALUES (1, 'bio1', 'a@x'), (2, 'bio2', NULL);
CREATE VIEW public."v'iew $$ %I" AS SELECT id, email FROM public."Mem'bers %s $$ USING x";
-- an empty partitioned keeper and its empty copy
CREATE TABLE public."ev""ents $q$" (id bigint, at date NOT NULL, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE public."ev""ents $q$_2026_01" PARTITION OF public."ev""ents $q$" FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE public."ev""ents $q$_old" (id bigint, at date NOT NULL, PRIMARY KEY (id, at));
-- a view whose planning would run its owner's function
CREATE SCHEMA elsewhere;
CREATE TABLE elsewhere.t (id int);
CREATE FUNCTION elsewhere.runs_at_plan_time() RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RAISE WARNING 'a function of a view ran as %', current_user;
  RETURN true;
END $$;
CREATE VIEW elsewhere.v AS SELECT id FROM elsewhere.t WHERE elsewhere.runs_at_plan_time();
RESET client_min_messages;
SET dedup.backup_suffix = 'plan';
SELECT step, action, target, hazard FROM dedup.plan(merge_extensions => true);
SELECT check_name, target, ok FROM dedup.verify() WHERE check_name = 'views';
\pset format unaligned
\pset tuples_only on
SELECT dedup.plan_sql(merge_extensions => true) \g results/plan_sql_hostile_plan.sql
SELECT dedup.rollback_sql(merge_extensions => true) \g results/plan_sql_hostile_rollback.sql
\pset format aligned
\pset tuples_only off
\set plan `cat results/plan_sql_hostile_plan.sql`
\set rollback `cat results/plan_sql_hostile_rollback.sql`
-- every line break of a name is written as \n in the scripts' comments
SELECT count(*) AS comment_lines_with_the_name
  FROM regexp_split_to_table(:'plan' || :'rollback', E'\n') l WHERE l ~ '^\s*--.*"q\\nDROP TABLE';

\c contrib_regression
CREATE DATABASE dedup_plan_sql_hostile_apply TEMPLATE dedup_plan_sql_hostile;
CREATE DATABASE dedup_plan_sql_hostile_script TEMPLATE dedup_plan_sql_hostile;

\c dedup_plan_sql_hostile_apply
\set ECHO none
\i test/fixtures/state.sql
\set ECHO all
SET client_min_messages = warning;
SET dedup.backup_suffix = 'plan';
SELECT step, action, result FROM dedup.apply(merge_extensions => true);
SELECT pg_temp.state() AS applied \gset

\c dedup_plan_sql_hostile_script
DROP EXTENSION dedup CASCADE;
\set ECHO none
\i test/fixtures/state.sql
\set ECHO all
SELECT pg_temp.state() AS before \gset
SET client_min_messages = warning;
:plan
RESET client_min_messages;
SELECT pg_temp.state() = :'applied' AS same_as_apply, to_regclass('public.victim') IS NOT NULL AS victim_kept;
-- run again: every step is done already
SET client_min_messages = notice;
\set VERBOSITY terse
:plan
\set VERBOSITY default
SELECT pg_temp.state() = :'applied' AS unchanged;
-- the rollback, twice
SET client_min_messages = warning;
:rollback
SELECT pg_temp.state() = :'before' AS restored;
SET client_min_messages = notice;
\set VERBOSITY terse
:rollback
\set VERBOSITY default
RESET client_min_messages;
SELECT pg_temp.state() = :'before' AS unchanged, (SELECT count(*) FROM public.victim) AS victim_rows;
-- a value the merge gave the base, changed since: the rollback refuses
SET client_min_messages = warning;
:plan
UPDATE public."prof;-- $x$ 'ile" SET "bi'o %s" = 'changed' WHERE id = 2;
SELECT pg_temp.state() AS changed \gset
\set VERBOSITY terse
:rollback
\set VERBOSITY default
RESET client_min_messages;
SELECT pg_temp.state() = :'changed' AS unchanged;

\c contrib_regression
DROP DATABASE dedup_plan_sql_hostile;
DROP DATABASE dedup_plan_sql_hostile_apply;
DROP DATABASE dedup_plan_sql_hostile_script;
