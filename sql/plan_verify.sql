-- dedup.verify(): without a baseline it runs the checks that need none;
-- after dedup.plan() it compares with the baseline.  An orphan row under a
-- NOT VALID foreign key, a role that lost SELECT, a role that may use
-- other columns through column privileges, NULLs that grew, a backup
-- changed by hand and a duplicate group left behind are each reported with
-- the query that shows them; dedup.apply() fails on what it caused, not on
-- what was there before.
CREATE DATABASE dedup_plan_verify;
\c dedup_plan_verify
CREATE EXTENSION dedup;
\set ECHO none
\i test/fixtures/demo.sql
\set ECHO all
SET dedup.backup_suffix = 'plan';

-- No baseline yet: the checks that need none, and the groups left.
SELECT check_name, target, ok, detail FROM dedup.verify() WHERE check_name <> 'groups' OR ok;
SELECT count(*) AS groups_left FROM dedup.verify() WHERE check_name = 'groups' AND NOT ok;

-- The baseline, then the consolidation: all in order.
SELECT count(*) FROM dedup.plan(merge_extensions => true);
SELECT count(*) FROM dedup.apply(merge_extensions => true);
SELECT check_name, ok FROM dedup.verify() WHERE ok IS NOT TRUE;

-- Things go wrong afterwards, one of each kind.
-- an orphan row under a NOT VALID foreign key into members
ALTER TABLE project_members DROP CONSTRAINT project_members_member_id_fkey;
INSERT INTO project_members (project_id, member_id) VALUES (1, 9999);
ALTER TABLE project_members ADD CONSTRAINT project_members_member_id_fkey
  FOREIGN KEY (member_id) REFERENCES members (id) NOT VALID;
-- a role that lost SELECT on members
REVOKE SELECT ON members FROM authenticated;
-- NULLs where there were values
UPDATE members SET full_name = full_name, updated_at = NULL WHERE id <= 3;
UPDATE members SET bio = NULL WHERE id IN (1, 2);
-- a backup changed by hand
DELETE FROM members_full_backup_plan WHERE id = 1;
-- a new empty copy: a group the plan could resolve
CREATE TABLE members_tmp (LIKE members);
SELECT check_name, target, ok, detail FROM dedup.verify() WHERE ok IS NOT TRUE ORDER BY 1, 2;

-- What was wrong before the plan was made (the orphan, the changed backup)
-- is reported by verify, but apply does not fail on it.
DROP TABLE members_tmp;
GRANT SELECT ON members TO authenticated;
CREATE TABLE projects_old (LIKE projects);
SELECT count(*) FROM dedup.plan(merge_extensions => true);
SELECT step, action, target, result FROM dedup.apply(merge_extensions => true) WHERE action <> 'keep';
SELECT check_name, target, ok FROM dedup.verify() WHERE ok IS NOT TRUE ORDER BY 1, 2;

-- A role with column privileges keeps the same access code (some columns)
-- whichever columns they are: a column it gains or loses is reported.
CREATE SCHEMA cols;
CREATE TABLE cols.k (id int PRIMARY KEY, email text, secret text);
INSERT INTO cols.k VALUES (1, 'a@x', 's1');
CREATE TABLE cols.k_old (id int PRIMARY KEY, email text, secret text);
INSERT INTO cols.k_old VALUES (2, 'b@x', 's2');
GRANT USAGE ON SCHEMA cols TO anon;
GRANT SELECT (id, email), UPDATE (email) ON cols.k, cols.k_old TO anon;
SELECT step, action, target FROM dedup.plan('{cols}');
SELECT step, action, result FROM dedup.apply('{cols}') WHERE action = 'verify';
GRANT SELECT (secret) ON cols.k TO anon;
REVOKE UPDATE (email) ON cols.k FROM anon;
SELECT check_name, target, ok, detail FROM dedup.verify('{cols}') WHERE check_name = 'access' AND ok IS NOT TRUE ORDER BY 4;

-- A merged extension's name answers as a view; verify reads it as the
-- view's owner, never running its owner's code as the caller.
CREATE ROLE regress_dedup_pv_owner;
CREATE SCHEMA ext AUTHORIZATION regress_dedup_pv_owner;
SET ROLE regress_dedup_pv_owner;
CREATE TABLE ext.people (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE ext.people_profile (id int PRIMARY KEY REFERENCES ext.people (id), bio text);
INSERT INTO ext.people VALUES (1, 'a'), (2, 'b');
INSERT INTO ext.people_profile VALUES (1, 'x');
CREATE FUNCTION ext.whoami() RETURNS boolean LANGUAGE plpgsql AS
  $$BEGIN RAISE WARNING 'view code runs as %', current_user; RETURN true; END$$;
RESET ROLE;
SELECT step, action, target FROM dedup.plan('{ext}', merge_extensions => true);
SELECT step, action, result FROM dedup.apply('{ext}', merge_extensions => true) WHERE action = 'verify';
SET ROLE regress_dedup_pv_owner;
CREATE OR REPLACE VIEW ext.people_profile AS
  SELECT b.id, b.bio FROM ext.people b WHERE NOT (ROW(b.bio) IS NULL) AND ext.whoami() LIMIT 1;
RESET ROLE;
SELECT check_name, target, ok, detail FROM dedup.verify('{ext}') WHERE check_name IN ('rows', 'nulls');

-- A descending sequence moves on downwards: not "moved back".  One set
-- back is reported; a role that may not read it gets NULL, not an error.
CREATE SCHEMA dseq;
CREATE TABLE dseq.k (id int PRIMARY KEY, v text);
CREATE SEQUENCE dseq.s INCREMENT -1 MAXVALUE -1 START -1 OWNED BY dseq.k.id;
ALTER TABLE dseq.k ALTER id SET DEFAULT nextval('dseq.s');
INSERT INTO dseq.k (v) VALUES ('a'), ('b');
CREATE TABLE dseq.k_old (id int PRIMARY KEY, v text);
INSERT INTO dseq.k_old VALUES (-1, 'a'), (-10, 'j');
SELECT step, action, target FROM dedup.plan('{dseq}');
INSERT INTO dseq.k (v) VALUES ('c');
SELECT check_name, target, ok, detail FROM dedup.verify('{dseq}') WHERE check_name = 'sequences';
SELECT setval('dseq.s', -2, false);
SELECT check_name, target, ok, detail FROM dedup.verify('{dseq}') WHERE check_name = 'sequences' ORDER BY 4;
CREATE ROLE regress_dedup_pv_reader;
GRANT USAGE ON SCHEMA dedup TO regress_dedup_pv_reader;
GRANT EXECUTE ON FUNCTION dedup.verify(name[]) TO regress_dedup_pv_reader;
SET ROLE regress_dedup_pv_reader;
SELECT check_name, target, ok, detail FROM dedup.verify('{dseq}') WHERE check_name = 'sequences' ORDER BY 4;
-- nor does it count, through a view it may read, rows of a table it may not
RESET ROLE;
GRANT USAGE ON SCHEMA ext TO regress_dedup_pv_reader;
GRANT SELECT ON ext.people_profile TO regress_dedup_pv_reader;
SET ROLE regress_dedup_pv_reader;
SELECT check_name, target, ok, detail FROM dedup.verify('{ext}') WHERE check_name = 'rows' ORDER BY 2;
-- nor does it learn the rows and fingerprints of backups it may not read
SELECT check_name, ok, count(*), bool_or(detail ~ 'rows with fingerprint') AS leaks
  FROM dedup.verify('{dseq}') WHERE check_name = 'backups' GROUP BY 1, 2;
RESET ROLE;

-- Planning a read of a table folds its index expressions: its owner's
-- code, which plan(), verify() and apply() never run as their caller (a
-- new session each time: the folded expressions are cached).
CREATE SCHEMA ie AUTHORIZATION regress_dedup_pv_owner;
SET ROLE regress_dedup_pv_owner;
CREATE FUNCTION ie.f(int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS
  $$BEGIN RAISE WARNING 'index expression runs as %', current_user; RETURN $1; END$$;
SET client_min_messages = error;
CREATE TABLE ie.k (id serial PRIMARY KEY, v text);
INSERT INTO ie.k (v) VALUES ('a'), ('b');
CREATE TABLE ie.k_old (id int PRIMARY KEY, v text);
INSERT INTO ie.k_old VALUES (1, 'a'), (2, 'b'), (3, 'c');
CREATE INDEX ON ie.k ((id + ie.f(1)));
CREATE TABLE ie.child (id int PRIMARY KEY, k_id int);
CREATE INDEX ON ie.child ((k_id + ie.f(2)));
INSERT INTO ie.child VALUES (1, 1);
ALTER TABLE ie.child ADD FOREIGN KEY (k_id) REFERENCES ie.k (id) NOT VALID;
CREATE TABLE ie.k_more (id int PRIMARY KEY REFERENCES ie.k (id), note text);
INSERT INTO ie.k_more VALUES (1, 'n');
CREATE INDEX ON ie.k_more ((id + ie.f(3)));
RESET client_min_messages;
RESET ROLE;
\c dedup_plan_verify
SELECT step, action, target FROM dedup.plan('{ie}', merge_extensions => true);
\c dedup_plan_verify
SELECT check_name, target, ok FROM dedup.verify('{ie}') WHERE check_name IN ('orphans', 'sequences');
\c dedup_plan_verify
BEGIN;
SELECT step, action, result FROM dedup.apply('{ie}', merge_extensions => true) WHERE action <> 'backup';
ROLLBACK;

\c contrib_regression
SET client_min_messages = warning;
DROP DATABASE dedup_plan_verify;
DROP ROLE regress_dedup_pv_owner;
DROP ROLE regress_dedup_pv_reader;
