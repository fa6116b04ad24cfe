-- safety_access: no role gains access through dedup (issue 9, "Access
-- widened"; merge_privileges.spec checks that privileges come before locks):
--  - the journal: no role but its owner holds a privilege on it, even one
--    that default privileges would have given at CREATE EXTENSION; a role
--    that was granted INSERT anyway (as an old README said) still cannot
--    forge an entry, so undo never replays text another role wrote;
--  - user code (a function that records current_user and tries ALTER ROLE
--    ... SUPERUSER) runs as the table's owner, never as the superuser who
--    calls dedup: in a materialized view recreated WITH DATA by undo after a
--    cascaded drop, in index expressions and CHECK constraints of a table
--    that is unpartitioned, in the base's and the extension's CHECKs, index
--    and a materialized view during merge_extension, in a keeper's trigger
--    during merge_rows;
--  - the access check counts role membership and PUBLIC; filling a base
--    NULL that a base policy reads is refused;
--  - unpartition(absorb) never merges a private look-alike into a table anon
--    can read, nor a look-alike of another role; merge_members never
--    merges a look-alike of another role;
--  - backup_table never takes a table another role planted under the
--    backup's name for a backup.
CREATE DATABASE dedup_safety_access;
\c dedup_safety_access
DO $$ DECLARE r text; BEGIN
  FOREACH r IN ARRAY ARRAY['regress_sa_owner', 'regress_sa_auth', 'regress_sa_anon',
                           'regress_sa_other', 'regress_sa_dba'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I', r);
    END IF;
  END LOOP;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_sa_member') THEN
    CREATE ROLE regress_sa_member INHERIT IN ROLE regress_sa_auth;
  END IF;
END $$;
GRANT CREATE ON SCHEMA public TO regress_sa_owner, regress_sa_other;
SET dedup.backup_suffix = 'sa';

-- The journal ------------------------------------------------------------------
-- Default privileges would give regress_sa_dba everything on a new schema,
-- table and sequence.
ALTER DEFAULT PRIVILEGES GRANT ALL ON SCHEMAS TO regress_sa_dba;
ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES TO regress_sa_dba;
ALTER DEFAULT PRIVILEGES GRANT ALL ON SEQUENCES TO regress_sa_dba;
CREATE EXTENSION dedup;
ALTER DEFAULT PRIVILEGES REVOKE ALL ON SCHEMAS FROM regress_sa_dba;
ALTER DEFAULT PRIVILEGES REVOKE ALL ON TABLES FROM regress_sa_dba;
ALTER DEFAULT PRIVILEGES REVOKE ALL ON SEQUENCES FROM regress_sa_dba;
SELECT c.relname, (SELECT array_agg(a.grantee::regrole::text || ':' || a.privilege_type ORDER BY 1)
                     FROM aclexplode(c.relacl) a WHERE a.grantee <> c.relowner) AS held_by_others
  FROM pg_class c WHERE c.relnamespace = 'dedup'::regnamespace AND c.relkind IN ('r', 'S')
UNION ALL
SELECT 'schema ' || n.nspname, (SELECT array_agg(a.grantee::regrole::text || ':' || a.privilege_type ORDER BY 1)
                                  FROM aclexplode(n.nspacl) a WHERE a.grantee <> n.nspowner)
  FROM pg_namespace n WHERE n.nspname = 'dedup' ORDER BY 1;
-- No CREATE on the schema either: it would let a role plant functions in
-- dedup (what dedup does if one is planted all the same: see the end).
SET ROLE regress_sa_dba;
CREATE FUNCTION dedup._set_acl(rel regclass, acl text, kind text) RETURNS void
  LANGUAGE sql AS $$ ALTER ROLE regress_sa_dba SUPERUSER $$;
RESET ROLE;
-- The README's grants: the schema, the functions, reading the journal.
GRANT USAGE ON SCHEMA dedup TO regress_sa_dba, regress_sa_owner;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA dedup TO regress_sa_dba, regress_sa_owner;
GRANT SELECT ON dedup.journal TO regress_sa_dba;
SET ROLE regress_sa_dba;
INSERT INTO dedup.journal (actor, action, target) VALUES ('postgres', 'backup', 'x');
UPDATE dedup.journal SET target = 'x';
DELETE FROM dedup.journal;
TRUNCATE dedup.journal;
SELECT count(*) FROM dedup.journal;
RESET ROLE;
-- Granted INSERT anyway: a forged "drop" whose captured CREATE is an
-- ALTER ROLE, in the name of the superuser, is refused all the same.
GRANT INSERT, UPDATE, DELETE, TRUNCATE ON dedup.journal TO regress_sa_dba;
SET ROLE regress_sa_dba;
INSERT INTO dedup.journal (actor, action, target, detail) VALUES (current_user, 'drop', 'public.zz',
  jsonb_build_object('tables', jsonb_build_array(jsonb_build_object(
    'qualname', 'public.zz', 'schema', 'public', 'owner', 'regress_sa_dba', 'pre', '[]'::jsonb,
    'create', 'ALTER ROLE regress_sa_dba SUPERUSER', 'owner_sql', 'SELECT 1',
    'build', '[]'::jsonb, 'post', '[]'::jsonb)), 'dependents', '[]'::jsonb));
INSERT INTO dedup.journal (actor, action, target, undoes) VALUES (current_user, 'undo', 'x', 1);
TRUNCATE dedup.journal;
RESET ROLE;
REVOKE ALL ON dedup.journal FROM regress_sa_dba;
SELECT count(*) AS journal_rows, (SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_sa_dba') AS dba_superuser
  FROM dedup.journal;

-- User code runs as the table's owner ------------------------------------------
CREATE TABLE who_ran (ctx text, usr name);
GRANT INSERT ON who_ran TO PUBLIC;
CREATE FUNCTION note_user(ctx text) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  INSERT INTO public.who_ran VALUES (ctx, current_user);
  BEGIN
    EXECUTE 'ALTER ROLE regress_sa_owner SUPERUSER';
  EXCEPTION WHEN OTHERS THEN NULL;
  END;
  RETURN true;
END $$;
-- index expressions must be immutable: this one lies, and calls note_user
CREATE FUNCTION note_user_immutable(ctx text, v int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  PERFORM public.note_user(ctx);
  RETURN v;
END $$;
CREATE FUNCTION note_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM public.note_user(TG_ARGV[0]);
  RETURN NEW;
END $$;
ALTER FUNCTION note_user(text) OWNER TO regress_sa_owner;
ALTER FUNCTION note_user_immutable(text, int) OWNER TO regress_sa_owner;
ALTER FUNCTION note_trigger() OWNER TO regress_sa_owner;

-- a materialized view WITH DATA, recreated by undo after a cascaded drop
SET ROLE regress_sa_owner;
CREATE TABLE mv_src (id int);
CREATE MATERIALIZED VIEW mv_report AS
  SELECT public.note_user('matview') AS noted, (SELECT count(*) FROM public.mv_src) AS n;
RESET ROLE;
SELECT dedup.drop_if_empty('mv_src', cascade => true);
TRUNCATE who_ran;
SELECT dedup.undo(max(id)) FROM dedup.journal WHERE action = 'drop';
SELECT DISTINCT ctx, usr FROM who_ran ORDER BY 1, 2;
SELECT relispopulated, relowner::regrole FROM pg_class WHERE oid = 'mv_report'::regclass;

-- index expressions and a CHECK of a table that is unpartitioned
SET ROLE regress_sa_owner;
CREATE TABLE ix_parted (id int, k int, CONSTRAINT ix_noted CHECK (public.note_user('check'))) PARTITION BY LIST (k);
CREATE TABLE ix_parted_1 PARTITION OF ix_parted FOR VALUES IN (1);
INSERT INTO ix_parted VALUES (1, 1);
CREATE INDEX ix_parted_expr ON ix_parted (public.note_user_immutable('index', id));
CREATE INDEX ix_parted_1_local ON ix_parted_1 (public.note_user_immutable('partition index', id));
RESET ROLE;
TRUNCATE who_ran;
SELECT dedup.unpartition('ix_parted', absorb => false);
SELECT DISTINCT ctx, usr FROM who_ran ORDER BY 1, 2;

-- merge_extension: the base's CHECK over a filled column, the extension's
-- CHECK, the base's index expression, a materialized view over the extension
SET ROLE regress_sa_owner;
CREATE TABLE cx_base (id int PRIMARY KEY, name text,
                      nick text CONSTRAINT cx_base_nick CHECK (public.note_user('base check') OR nick IS NULL));
CREATE TABLE cx_ext (id int PRIMARY KEY REFERENCES cx_base, nick text,
                     bio text CONSTRAINT cx_ext_bio CHECK (public.note_user('extension check')));
CREATE INDEX cx_base_expr ON cx_base (public.note_user_immutable('base index', id));
INSERT INTO cx_base VALUES (1, 'Ada', NULL);
INSERT INTO cx_ext VALUES (1, 'ada', 'first programmer');
CREATE MATERIALIZED VIEW cx_bios AS SELECT public.note_user('matview') AS noted, count(*) AS n FROM public.cx_ext;
RESET ROLE;
TRUNCATE who_ran;
SELECT columns_added, rows_merged FROM dedup.merge_extension('cx_base', 'cx_ext');
SELECT DISTINCT ctx, usr FROM who_ran ORDER BY 1, 2;

-- merge_rows: the keeper's trigger
SET ROLE regress_sa_owner;
CREATE TABLE tg_keep (id int PRIMARY KEY, v text);
CREATE TABLE tg_src (id int PRIMARY KEY, v text);
CREATE TRIGGER tg_keep_noted BEFORE INSERT ON tg_keep FOR EACH ROW EXECUTE FUNCTION note_trigger('keeper trigger');
INSERT INTO tg_src VALUES (1, 'a');
RESET ROLE;
TRUNCATE who_ran;
SELECT * FROM dedup.merge_rows('tg_src', 'tg_keep');
SELECT DISTINCT ctx, usr FROM who_ran ORDER BY 1, 2;
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_sa_owner';

-- The access check counts membership and PUBLIC ---------------------------------
-- (a refusal lists every role that would gain; only this test's roles are shown)
CREATE FUNCTION refusal(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  m text;
  d text;
BEGIN
  EXECUTE q;
  RETURN NEXT 'done';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL;
  RETURN NEXT 'ERROR: ' || m;
  RETURN QUERY SELECT l FROM regexp_split_to_table(coalesce(d, ''), E'\n') l
                WHERE l ~ '(regress_sa_|role public|^policy|^Nothing)' ORDER BY 1;
END $$;
SET ROLE regress_sa_owner;
CREATE TABLE ac_people (id int PRIMARY KEY, name text);
CREATE TABLE ac_people_old (id int PRIMARY KEY, name text);
INSERT INTO ac_people_old VALUES (1, 'private');
CREATE TABLE ac_posts (id int PRIMARY KEY, title text);
CREATE TABLE ac_posts_private (id int PRIMARY KEY REFERENCES ac_posts, draft text);
INSERT INTO ac_posts VALUES (1, 'hello');
INSERT INTO ac_posts_private VALUES (1, 'unreleased');
-- a member of an "authenticated" role may read the keeper, not the source
GRANT SELECT ON ac_people TO regress_sa_auth;
SELECT * FROM refusal($$SELECT * FROM dedup.merge_rows('ac_people_old', 'ac_people')$$);
-- anon may read the base through a PUBLIC grant, not the extension
GRANT SELECT ON ac_posts TO PUBLIC;
SELECT * FROM refusal($$SELECT * FROM dedup.merge_extension('ac_posts', 'ac_posts_private')$$);
RESET ROLE;
SELECT (SELECT count(*) FROM ac_people) AS people, to_regclass('ac_posts_private') IS NOT NULL AS extension_kept;

-- filling a base NULL that a base policy reads would let anon read the row
SET ROLE regress_sa_owner;
CREATE TABLE ac_items (id int PRIMARY KEY, title text, released boolean);
CREATE TABLE ac_items_meta (id int PRIMARY KEY REFERENCES ac_items, released boolean, note text);
INSERT INTO ac_items VALUES (1, 'unreleased item', NULL);
INSERT INTO ac_items_meta VALUES (1, true, 'n');
ALTER TABLE ac_items ENABLE ROW LEVEL SECURITY;
CREATE POLICY ac_items_released ON ac_items FOR SELECT TO regress_sa_anon USING (released);
GRANT SELECT ON ac_items TO regress_sa_anon;
SELECT * FROM refusal($$SELECT * FROM dedup.merge_extension('ac_items', 'ac_items_meta')$$);
RESET ROLE;
SET ROLE regress_sa_anon;
SELECT count(*) AS anon_sees FROM ac_items;
RESET ROLE;

-- unpartition(absorb): a private look-alike and another role's are kept -------------
SET ROLE regress_sa_owner;
CREATE TABLE ab_visits (id int, at date, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE ab_visits_y2026 PARTITION OF ab_visits FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO ab_visits VALUES (1, '2026-01-05');
CREATE TABLE ab_visits_2025_01 (id int, at date, PRIMARY KEY (id, at));
INSERT INTO ab_visits_2025_01 VALUES (2, '2025-01-05');
ALTER TABLE ab_visits_2025_01 ENABLE ROW LEVEL SECURITY;            -- no policy: anon sees nothing
CREATE TABLE ab_visits_2025_02 (id int, at date, PRIMARY KEY (id, at));
INSERT INTO ab_visits_2025_02 VALUES (3, '2025-02-05');
GRANT SELECT ON ab_visits, ab_visits_2025_01, ab_visits_2025_02 TO regress_sa_anon;
RESET ROLE;
SET ROLE regress_sa_other;
CREATE TABLE ab_visits_2025_03 (id int, at date, PRIMARY KEY (id, at));
INSERT INTO ab_visits_2025_03 VALUES (4, '2025-03-05');
GRANT SELECT ON ab_visits_2025_03 TO regress_sa_anon;
RESET ROLE;
SELECT tbl, role FROM dedup.duplicate_groups() WHERE keeper = 'ab_visits'::regclass ORDER BY 1;
SELECT dedup.unpartition('ab_visits');
SELECT string_agg(id::text, ',' ORDER BY id) AS ids FROM ab_visits;
SELECT relname, (SELECT count(*) FROM ab_visits_2025_01) AS private_rows, (SELECT count(*) FROM ab_visits_2025_03) AS other_rows
  FROM pg_class WHERE relname LIKE 'ab\_visits\_2025%' AND relkind = 'r' ORDER BY 1;
SET ROLE regress_sa_anon;
SELECT string_agg(id::text, ',' ORDER BY id) AS anon_sees FROM ab_visits;
RESET ROLE;

-- merge_members never merges another role's look-alike --------------------------
SET ROLE regress_sa_owner;
CREATE TABLE mm_people (id int PRIMARY KEY, name text);
INSERT INTO mm_people VALUES (1, 'a');
CREATE TABLE mm_people_v2 (id int PRIMARY KEY, name text);
INSERT INTO mm_people_v2 VALUES (1, 'a'), (2, 'b');
RESET ROLE;
SET ROLE regress_sa_other;
CREATE TABLE mm_people_old (id int PRIMARY KEY, name text);
INSERT INTO mm_people_old VALUES (3, 'planted');
RESET ROLE;
SELECT tbl, role FROM dedup.duplicate_groups() WHERE keeper = 'mm_people'::regclass ORDER BY 1;
SELECT step, action, target FROM dedup.merge_members('mm_people', NULL);
SELECT string_agg(id || '=' || name, ',' ORDER BY id) AS people, to_regclass('mm_people_old') IS NOT NULL AS other_kept
  FROM mm_people;
-- named explicitly, it is kept and the step says why
SELECT step, action, target, detail FROM dedup.merge_members('mm_people', NULL, ARRAY['mm_people_old']);
SELECT string_agg(id || '=' || name, ',' ORDER BY id) AS people FROM mm_people;

-- backup_table never takes a planted table for a backup --------------------------
SET ROLE regress_sa_owner;
CREATE TABLE bk_notes (id int, body text);                  -- empty
RESET ROLE;
SET ROLE regress_sa_other;
CREATE TABLE bk_notes_backup_sa (id int, body text);        -- "already holds its rows"
GRANT ALL ON bk_notes_backup_sa TO PUBLIC;
RESET ROLE;
SELECT dedup.backup_table('bk_notes');
SELECT dedup.backup_table('bk_notes');                      -- its own backup is reused
SELECT dedup.backup_table('bk_notes', 'bk_notes_backup_sa');
SELECT dedup.restore_backup('bk_notes_backup_sa', 'bk_notes');
-- A table's ACL the same on PostgreSQL 15 and 17: each grantee's privileges
-- as ALL, or ALL less those it lacks (17 adds MAINTAIN, m, to ALL; a lost
-- MAINTAIN shows as a missing m).
CREATE FUNCTION pg_temp.acl(a aclitem[]) RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(regexp_replace(i::text, '=\w*/', '=ALL' || coalesce('-' || nullif(translate(
           substring((acldefault('r', 10))[1]::text from '=(\w*)/'), substring(i::text from '=(\w*)/'), ''), ''), '') || '/'),
         ',' ORDER BY n)
    FROM unnest(a) WITH ORDINALITY AS u(i, n) $$;
SELECT relname, relowner::regrole, pg_temp.acl(relacl) AS relacl FROM pg_class WHERE relname LIKE 'bk\_notes\_backup%' ORDER BY 1;
SELECT action, target, detail->>'backup' AS backup FROM dedup.journal WHERE action = 'backup' ORDER BY id;

-- A function planted in schema dedup is never called ----------------------------
-- Should CREATE on schema dedup ever be granted, an overload of _set_acl
-- taking text would be chosen over dedup's own by a call written with an
-- untyped NULL and 'TABLE', and run as the caller.  Every argument dedup
-- passes is cast, and before its first statement in a transaction dedup
-- checks that the schema holds only its own functions and that no one else
-- may create one there: it refuses, naming what it found, and nothing runs.
CREATE TABLE pl_notes (id int);
INSERT INTO pl_notes VALUES (1);
SELECT dedup.backup_table('pl_notes', 'pl_notes_bak');
GRANT CREATE ON SCHEMA dedup TO regress_sa_dba;
SELECT dedup.backup_table('pl_notes', 'pl_notes_bak2');
SET ROLE regress_sa_dba;
CREATE FUNCTION dedup._set_acl(rel regclass, acl text, kind text) RETURNS void
  LANGUAGE sql AS $$ ALTER ROLE regress_sa_dba SUPERUSER $$;
RESET ROLE;
REVOKE CREATE ON SCHEMA dedup FROM regress_sa_dba;
SELECT dedup.backup_table('pl_notes', 'pl_notes_bak2');
CREATE TABLE pl_base (id int PRIMARY KEY, name text);
CREATE TABLE pl_ext (id int PRIMARY KEY REFERENCES pl_base, bio text);
INSERT INTO pl_base VALUES (1, 'Ada');
INSERT INTO pl_ext VALUES (1, 'first programmer');
CREATE VIEW pl_bios AS SELECT bio FROM pl_ext;
SELECT columns_added, rows_merged FROM dedup.merge_extension('pl_base', 'pl_ext');
SELECT rolsuper AS dba_superuser FROM pg_roles WHERE rolname = 'regress_sa_dba';
DROP FUNCTION dedup._set_acl(regclass, text, text);
-- the function gone, dedup works again; with the casts, its own is called
DROP TABLE pl_notes;
SELECT dedup.restore_backup('pl_notes_bak');
SELECT columns_added, rows_merged FROM dedup.merge_extension('pl_base', 'pl_ext');
-- Nor is one that another extension claims.  While it may create in schema
-- dedup, the role plants an exact match for a call of the variadic
-- _same_values (merge_rows compares two columns: four integers) and makes
-- it a member of a trusted extension it creates; CREATE is then revoked.
-- The function is still not dedup's: refused, named, and nothing runs.
GRANT CREATE ON DATABASE dedup_safety_access TO regress_sa_dba;
GRANT CREATE ON SCHEMA dedup TO regress_sa_dba;
SET ROLE regress_sa_dba;
CREATE FUNCTION dedup._same_values(integer, integer, integer, integer) RETURNS boolean
  LANGUAGE plpgsql AS $$ BEGIN ALTER ROLE regress_sa_dba SUPERUSER; RETURN $1 = $2 AND $3 = $4; END $$;
CREATE SCHEMA pl_mine;
CREATE EXTENSION citext SCHEMA pl_mine;
ALTER EXTENSION citext ADD FUNCTION dedup._same_values(integer, integer, integer, integer);
RESET ROLE;
REVOKE CREATE ON SCHEMA dedup FROM regress_sa_dba;
CREATE TABLE pl_keep (id int PRIMARY KEY, v int);
CREATE TABLE pl_src (id int PRIMARY KEY, v int);
INSERT INTO pl_keep VALUES (1, 1);
INSERT INTO pl_src VALUES (1, 1), (2, 2);
SELECT * FROM dedup.merge_rows('pl_src', 'pl_keep');
SELECT rolsuper AS dba_superuser FROM pg_roles WHERE rolname = 'regress_sa_dba';
DROP EXTENSION citext;
SELECT * FROM dedup.merge_rows('pl_src', 'pl_keep');

\c contrib_regression
DROP DATABASE dedup_safety_access;
DROP ROLE regress_sa_member, regress_sa_owner, regress_sa_auth, regress_sa_anon, regress_sa_other, regress_sa_dba;
