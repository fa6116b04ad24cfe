-- hostile_names: every changing function builds its SQL from catalog fields
-- and quotes every name, so names that would break pasted or pattern-matched
-- SQL (', %, $, spaces, " USING ", " ADD CONSTRAINT ", upper case, Unicode,
-- 63-byte multibyte names) go through backup_table, drop_if_empty + undo,
-- merge_rows, merge_extension and unpartition unchanged; names dedup derives
-- (backups, constraints, triggers) are cut on a character boundary and stay
-- valid UTF-8; a repointed foreign key keeps ON DELETE SET NULL (col).
-- Then the robustness cases of issue 9: NULL arguments are errors naming
-- the argument, backup_name => '' is refused, and a same-day backup
-- followed by writes does not block the next merge (a new name is used).
CREATE DATABASE dedup_hostile_names;
\c dedup_hostile_names
CREATE EXTENSION dedup;
SET dedup.backup_suffix = 'hn';
CREATE SCHEMA "Sch'ema %s $1";
SET search_path = "Sch'ema %s $1", public;

-- Every name in the database is valid UTF-8 (what pg_dump needs to restore).
CREATE FUNCTION public.invalid_names() RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT 'relation' AS kind, relname::text AS n FROM pg_class
           UNION ALL SELECT 'constraint', conname::text FROM pg_constraint
           UNION ALL SELECT 'trigger', tgname::text FROM pg_trigger
           UNION ALL SELECT 'policy', polname::text FROM pg_policy
           UNION ALL SELECT 'function', proname::text FROM pg_proc LOOP
    BEGIN
      PERFORM convert_from(textsend(r.n), 'UTF8');
    EXCEPTION WHEN OTHERS THEN
      RETURN NEXT r.kind || ' ' || encode(textsend(r.n), 'hex');
    END;
  END LOOP;
END $$;

-- One table's catalog entries, as text, to compare before and after (a NULL
-- ACL is compared as the owner's default privileges it stands for).
CREATE FUNCTION public.snap(rel regclass) RETURNS text LANGUAGE sql AS $$
SELECT concat_ws(E'\n',
  (SELECT string_agg(format('col %I %s notnull=%s default=%s acl=%s comment=%s', a.attname,
          format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attacl,
          col_description(a.attrelid, a.attnum)), E'\n' ORDER BY a.attnum)
     FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped),
  (SELECT string_agg(format('con %I %s', conname, pg_get_constraintdef(oid)), E'\n' ORDER BY conname)
     FROM pg_constraint WHERE conrelid = rel),
  (SELECT string_agg(format('fk in %I %s', conname, pg_get_constraintdef(oid)), E'\n' ORDER BY conname)
     FROM pg_constraint WHERE confrelid = rel AND conrelid <> rel),
  (SELECT string_agg(format('idx %s', pg_get_indexdef(indexrelid)), E'\n' ORDER BY 1)
     FROM pg_index WHERE indrelid = rel),
  (SELECT string_agg(format('trg %s %s', tgenabled, pg_get_triggerdef(oid)), E'\n' ORDER BY tgname)
     FROM pg_trigger WHERE tgrelid = rel AND NOT tgisinternal),
  (SELECT string_agg(format('pol %I %s %s', polname, polcmd, pg_get_expr(polqual, polrelid)), E'\n' ORDER BY polname)
     FROM pg_policy WHERE polrelid = rel),
  (SELECT format('rel %s owner=%s acl=%s rls=%s comment=%s', relname, relowner::regrole,
                 coalesce(relacl, acldefault('r', relowner)),
                 relrowsecurity, obj_description(oid, 'pg_class')) FROM pg_class WHERE oid = rel))
$$;

-- backup_table: default names of hostile and 63-byte multibyte tables --------
CREATE TABLE "O'Brien %s $1 Members" ("col'1 %s" int PRIMARY KEY, "Note $1" text);
INSERT INTO "O'Brien %s $1 Members" VALUES (1, 'a''b %s $1');
CREATE TABLE "表表表表表表表表表表表表表表表表表表表表表" (id int PRIMARY KEY, v text);
INSERT INTO "表表表表表表表表表表表表表表表表表表表表表" VALUES (1, '表');
SELECT octet_length('表表表表表表表表表表表表表表表表表表表表表') AS name_bytes;
SELECT dedup.backup_table('"O''Brien %s $1 Members"');
SELECT dedup.backup_table('"表表表表表表表表表表表表表表表表表表表表表"') AS backup,
       octet_length(dedup.backup_table('"表表表表表表表表表表表表表表表表表表表表表"')::text) AS bytes;
SELECT dedup.backup_table('"O''Brien %s $1 Members"', backup_name => 'bk''s %s $1 ADD CONSTRAINT x');
SELECT relname, octet_length(relname) FROM pg_class
 WHERE relnamespace = '"Sch''ema %s $1"'::regnamespace AND relkind = 'r' ORDER BY 1;
SELECT * FROM invalid_names();

-- drop_if_empty + undo: a table whose every part has a hostile name ----------
CREATE TABLE "Ref'd %s" ("k $1" int PRIMARY KEY);
INSERT INTO "Ref'd %s" VALUES (1);
CREATE TABLE "drop me 'now' %s $1 USING x ADD CONSTRAINT y" (
  "id's" int CONSTRAINT "pk USING btree (x)" PRIMARY KEY,
  "Ref $1" int CONSTRAINT "fk ADD CONSTRAINT z CHECK (false)" REFERENCES "Ref'd %s" ON DELETE SET NULL,
  "amount %" numeric(10,2) DEFAULT 0 CONSTRAINT "chk 'pos'" CHECK ("amount %" >= 0),
  "Label" text COLLATE "C");
CREATE INDEX "idx USING hash ("  ON "drop me 'now' %s $1 USING x ADD CONSTRAINT y" USING hash ("Label");
CREATE INDEX "lower 'label'" ON "drop me 'now' %s $1 USING x ADD CONSTRAINT y" (lower("Label")) WHERE "amount %" > 0;
CREATE FUNCTION "trg fn 'x'"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER "trg ' USING" BEFORE INSERT ON "drop me 'now' %s $1 USING x ADD CONSTRAINT y"
  FOR EACH ROW EXECUTE FUNCTION "trg fn 'x'"();
ALTER TABLE "drop me 'now' %s $1 USING x ADD CONSTRAINT y" ENABLE ROW LEVEL SECURITY;
CREATE POLICY "pol 'p' %s" ON "drop me 'now' %s $1 USING x ADD CONSTRAINT y" USING ("Label" <> 'x''y');
COMMENT ON TABLE "drop me 'now' %s $1 USING x ADD CONSTRAINT y" IS 'it''s %s $1';
COMMENT ON COLUMN "drop me 'now' %s $1 USING x ADD CONSTRAINT y"."Label" IS 'E''\n''';
CREATE VIEW "view 'v' %s" AS SELECT "id's", "Label" FROM "drop me 'now' %s $1 USING x ADD CONSTRAINT y";
CREATE TEMP TABLE before AS
  SELECT snap('"drop me ''now'' %s $1 USING x ADD CONSTRAINT y"') AS s,
         pg_get_viewdef('"view ''v'' %s"') AS v;
SELECT dedup.drop_if_empty('"drop me ''now'' %s $1 USING x ADD CONSTRAINT y"', cascade => true);
SELECT dedup.undo(max(id)) FROM dedup.journal WHERE action = 'drop';
SELECT snap('"drop me ''now'' %s $1 USING x ADD CONSTRAINT y"') = s AS same_table,
       pg_get_viewdef('"view ''v'' %s"') = v AS same_view FROM before;

-- merge_rows: hostile table and column names, drop_source and undo -----------
CREATE TABLE "O'Brien %s $1 Members_old" ("col'1 %s" int PRIMARY KEY, "Note $1" text);
INSERT INTO "O'Brien %s $1 Members_old" VALUES (1, 'a''b %s $1'), (2, 'x USING y');
SELECT * FROM dedup.missing_rows('"O''Brien %s $1 Members_old"', '"O''Brien %s $1 Members"');
SELECT * FROM dedup.merge_rows('"O''Brien %s $1 Members_old"', '"O''Brien %s $1 Members"', drop_source => true);
SELECT "col'1 %s", "Note $1" FROM "O'Brien %s $1 Members" ORDER BY 1;
SELECT dedup.undo(max(id)) FROM dedup.journal WHERE action = 'merge_rows';
SELECT "col'1 %s", "Note $1" FROM "O'Brien %s $1 Members_old" ORDER BY 1;
SELECT count(*) AS keeper_rows FROM "O'Brien %s $1 Members";

-- merge_extension: RLS and policy of a base named " ADD CONSTRAINT ", an
-- extension with a 63-byte multibyte name, a repointed SET NULL (col) key ----
CREATE TABLE "m ADD CONSTRAINT c CHECK (false) ENABLE" ("Id" int PRIMARY KEY, "Name's" text);
ALTER TABLE "m ADD CONSTRAINT c CHECK (false) ENABLE" ENABLE ROW LEVEL SECURITY;
CREATE POLICY "own 'rows' USING" ON "m ADD CONSTRAINT c CHECK (false) ENABLE" USING ("Name's" IS NOT NULL);
CREATE TABLE "ééééééééééééééééééééééééééééééé" (
  "Id" int PRIMARY KEY REFERENCES "m ADD CONSTRAINT c CHECK (false) ENABLE",
  "bio $1 %s" text NOT NULL,
  "Sig'n" text CONSTRAINT "sig ' ADD CONSTRAINT" CHECK ("Sig'n" <> ''));
SELECT octet_length('ééééééééééééééééééééééééééééééé') AS ext_name_bytes;
CREATE TABLE "Posts %s" (id int PRIMARY KEY, tenant int NOT NULL DEFAULT 1, author int,
  CONSTRAINT "author's fk" FOREIGN KEY (author) REFERENCES "ééééééééééééééééééééééééééééééé"
    ON DELETE SET NULL (author));
INSERT INTO "m ADD CONSTRAINT c CHECK (false) ENABLE" VALUES (1, 'Ada'), (2, 'Bob');
INSERT INTO "ééééééééééééééééééééééééééééééé" VALUES (1, 'first programmer', 'AL');
INSERT INTO "Posts %s" VALUES (10, 1, 1);
SELECT columns_added, rows_merged, fks_repointed
  FROM dedup.merge_extension('"m ADD CONSTRAINT c CHECK (false) ENABLE"', '"ééééééééééééééééééééééééééééééé"');
SELECT relname, relrowsecurity, relkind FROM pg_class
 WHERE relname IN ('m ADD CONSTRAINT c CHECK (false) ENABLE', 'ééééééééééééééééééééééééééééééé') ORDER BY 1;
SELECT polname, pg_get_expr(polqual, polrelid) FROM pg_policy
 WHERE polrelid = '"m ADD CONSTRAINT c CHECK (false) ENABLE"'::regclass;
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
 WHERE conrelid IN ('"m ADD CONSTRAINT c CHECK (false) ENABLE"'::regclass, '"Posts %s"'::regclass) ORDER BY 1;
SELECT tgname, octet_length(tgname) FROM pg_trigger
 WHERE tgrelid = '"m ADD CONSTRAINT c CHECK (false) ENABLE"'::regclass AND NOT tgisinternal;
SELECT "Id", "bio $1 %s", "Sig'n" FROM "ééééééééééééééééééééééééééééééé" ORDER BY 1;
SELECT * FROM invalid_names();
SELECT dedup.undo(max(id)) FROM dedup.journal WHERE action = 'merge_extension';
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
 WHERE conrelid = '"Posts %s"'::regclass AND contype = 'f';
SELECT relname, relkind FROM pg_class WHERE relname = 'ééééééééééééééééééééééééééééééé';

-- unpartition: a partition's own index named with " USING " ------------------
CREATE TABLE "Bookings 'Q' %s" (id int, at date NOT NULL, "Note USING x" text, PRIMARY KEY (id, at))
  PARTITION BY RANGE (at);
CREATE TABLE "Bookings 'Q' %s 2026" PARTITION OF "Bookings 'Q' %s" FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX "at USING hash (id) WHERE false" ON "Bookings 'Q' %s 2026" USING btree ("Note USING x" DESC);
CREATE INDEX "parent USING gin" ON "Bookings 'Q' %s" (at, "Note USING x");
INSERT INTO "Bookings 'Q' %s" VALUES (1, '2026-02-01', 'n');
SELECT dedup.unpartition('"Bookings ''Q'' %s"');
SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = '"Bookings ''Q'' %s"'::regclass ORDER BY 1;
SELECT * FROM invalid_names();

-- Robustness -----------------------------------------------------------------
SET search_path = public;
CREATE TABLE rb_keep (id int PRIMARY KEY, v text);
CREATE TABLE rb_src (id int PRIMARY KEY, v text);
-- NULL arguments: an error naming the argument
SELECT dedup.backup_table(NULL);
SELECT dedup.restore_backup(NULL);
SELECT * FROM dedup.missing_rows(NULL, 'rb_keep');
SELECT * FROM dedup.merge_rows(NULL, 'rb_keep');
SELECT * FROM dedup.merge_rows('rb_src', NULL);
SELECT * FROM dedup.merge_rows('rb_src', 'rb_keep', drop_source => NULL);
SELECT * FROM dedup.merge_extension(NULL, 'rb_src');
SELECT * FROM dedup.merge_extension('rb_keep', 'rb_src', on_conflict => NULL);
SELECT * FROM dedup.merge_members(NULL);
SELECT * FROM dedup.merge_members('rb_keep', 'no_such_table');
-- (the strict ones return NULL and change nothing)
SELECT dedup.drop_if_empty(NULL) IS NULL AS drop_null, dedup.unpartition(NULL) IS NULL AS unpartition_null,
       dedup.undo(NULL) IS NULL AS undo_null;
-- an empty backup name
SELECT dedup.backup_table('rb_src', backup_name => '');
-- a backup taken earlier today, then writes: the merge's backup gets the next name
INSERT INTO rb_src VALUES (1, 'a');
SELECT dedup.backup_table('rb_src');
INSERT INTO rb_src VALUES (2, 'b');
SELECT * FROM dedup.merge_rows('rb_src', 'rb_keep', drop_source => true);
SELECT target, detail->>'backup' AS backup, detail->>'rows' AS rows
  FROM dedup.journal WHERE action = 'backup' AND target = 'public.rb_src' ORDER BY id;
SELECT count(*) AS backup_rows FROM rb_src_backup_hn;

\c contrib_regression
DROP DATABASE dedup_hostile_names;
