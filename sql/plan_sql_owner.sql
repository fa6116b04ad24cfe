-- The scripts write rows as the owner of the table they write, as dedup's
-- own functions do: a keeper's trigger (its owner's code) fires as its
-- owner, never as whoever runs the script (a superuser here), when rows
-- are merged into it and when the rollback deletes them again; the role is
-- back to the runner's after each such statement.
CREATE DATABASE dedup_plan_sql_owner;
\c dedup_plan_sql_owner
CREATE EXTENSION dedup;
SET client_min_messages = warning;
CREATE ROLE dedup_script_owner;
GRANT CREATE ON SCHEMA public TO dedup_script_owner;
SET ROLE dedup_script_owner;
CREATE TABLE public.accounts (id int PRIMARY KEY, email text);
INSERT INTO public.accounts VALUES (1, 'a@x'), (2, 'b@x');
CREATE TABLE public.accounts_copy (id int PRIMARY KEY, email text);
INSERT INTO public.accounts_copy VALUES (1, 'a@x'), (3, 'c@x');
CREATE TABLE public.audit (who name, op text, during_step name);
CREATE FUNCTION public.audit_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.audit VALUES (current_user, TG_OP, session_user);
  RETURN NULL;
END $$;
CREATE TRIGGER audit_write AFTER INSERT OR DELETE ON public.accounts
  FOR EACH ROW EXECUTE FUNCTION public.audit_write();
RESET ROLE;
RESET client_min_messages;
SET dedup.backup_suffix = 'plan';
SELECT step, action, target, hazard FROM dedup.plan() WHERE action <> 'verify';
\pset format unaligned
\pset tuples_only on
SELECT dedup.plan_sql() \g results/plan_sql_owner_plan.sql
SELECT dedup.rollback_sql() \g results/plan_sql_owner_rollback.sql
\pset format aligned
\pset tuples_only off
\set plan `cat results/plan_sql_owner_plan.sql`
\set rollback `cat results/plan_sql_owner_rollback.sql`
SET client_min_messages = warning;
:plan
RESET client_min_messages;
SELECT who, op, count(*) AS rows_written, who <> during_step AS not_as_the_runner
  FROM public.audit GROUP BY 1, 2, 4 ORDER BY 1, 2;
SELECT current_user = session_user AS runner_again;
SELECT id, email FROM public.accounts ORDER BY id;
SET client_min_messages = warning;
:rollback
RESET client_min_messages;
SELECT who, op, count(*) AS rows_written, who <> during_step AS not_as_the_runner
  FROM public.audit GROUP BY 1, 2, 4 ORDER BY 1, 2;
SELECT id, email FROM public.accounts ORDER BY id;
SELECT to_regclass('public.accounts_copy') IS NOT NULL AS copy_back;
\c contrib_regression
DROP DATABASE dedup_plan_sql_owner;
DROP ROLE dedup_script_owner;
