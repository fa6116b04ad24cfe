-- drop_if_empty captures a table's whole definition and undo() recreates it
-- exactly: the catalog rows for columns, constraints, indexes, triggers,
-- rules, grants, RLS, policies, comments, sequences, publications and
-- partitions compare equal before the drop and after the undo, and so do
-- the views and foreign keys dropped with cascade.
SET client_min_messages = warning;
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN CREATE ROLE anon NOLOGIN; END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN CREATE ROLE authenticated NOLOGIN; END IF;
END $$;
CREATE ROLE undo_owner;
CREATE SCHEMA "Undo Sch";
GRANT ALL ON SCHEMA "Undo Sch" TO undo_owner;
-- Supabase-style default privileges apply to every table created here
ALTER DEFAULT PRIVILEGES IN SCHEMA "Undo Sch" GRANT ALL ON TABLES TO anon, authenticated;
ALTER DEFAULT PRIVILEGES IN SCHEMA "Undo Sch" GRANT ALL ON SEQUENCES TO anon, authenticated;
SET search_path = "Undo Sch";
CREATE TABLE parent_ref (id int PRIMARY KEY);
INSERT INTO parent_ref VALUES (1);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE COLLATION "C collation" (locale = 'C');

CREATE TABLE "Rich ""Table""" (
  id bigint GENERATED ALWAYS AS IDENTITY (START WITH 100 INCREMENT BY 5) PRIMARY KEY,
  serial_no serial,
  code text COLLATE "C collation" NOT NULL DEFAULT 'x',
  qty int CHECK (qty >= 0),
  price numeric(10,2),
  total numeric GENERATED ALWAYS AS (qty * price) STORED,
  parent_id int REFERENCES parent_ref (id) ON DELETE CASCADE,
  "Mixed Case" varchar(20),
  UNIQUE (code, qty) DEFERRABLE INITIALLY DEFERRED
) WITH (fillfactor = 70);
CREATE INDEX rich_lower_idx ON "Rich ""Table""" (lower(code)) WHERE qty > 0;
CREATE STATISTICS rich_stats (dependencies) ON qty, price FROM "Rich ""Table""";
CREATE TRIGGER rich_touch BEFORE UPDATE ON "Rich ""Table""" FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TRIGGER rich_touch_off BEFORE INSERT ON "Rich ""Table""" FOR EACH ROW EXECUTE FUNCTION touch();
ALTER TABLE "Rich ""Table""" DISABLE TRIGGER rich_touch_off;
CREATE RULE rich_no_delete AS ON DELETE TO "Rich ""Table""" WHERE old.qty > 100 DO INSTEAD NOTHING;
ALTER TABLE "Rich ""Table""" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "Rich ""Table""" FORCE ROW LEVEL SECURITY;
CREATE POLICY rich_read ON "Rich ""Table""" FOR SELECT TO authenticated USING (qty > 0);
CREATE POLICY rich_write ON "Rich ""Table""" AS RESTRICTIVE FOR UPDATE TO authenticated, anon
  USING (true) WITH CHECK (qty < 1000);
ALTER TABLE "Rich ""Table""" REPLICA IDENTITY FULL;
REVOKE ALL ON "Rich ""Table""" FROM anon;
GRANT SELECT ("Mixed Case", code) ON "Rich ""Table""" TO anon;
COMMENT ON TABLE "Rich ""Table""" IS 'a table with everything';
COMMENT ON COLUMN "Rich ""Table""".code IS 'the code';
COMMENT ON CONSTRAINT "Rich ""Table""_qty_check" ON "Rich ""Table""" IS 'never negative';
COMMENT ON INDEX rich_lower_idx IS 'lookup';
COMMENT ON TRIGGER rich_touch ON "Rich ""Table""" IS 'touches';
COMMENT ON POLICY rich_read ON "Rich ""Table""" IS 'readers';
SET client_min_messages = error;  -- not the wal_level warning, worded otherwise on 17
CREATE PUBLICATION rich_pub FOR TABLE "Rich ""Table""" (id, code) WHERE (qty > 0) WITH (publish = 'insert');
SET client_min_messages = warning;
ALTER TABLE "Rich ""Table""" OWNER TO undo_owner;
-- sequences have moved on: their positions must come back
INSERT INTO "Rich ""Table""" (code, qty, price) VALUES ('a', 1, 1), ('b', 2, 2);
DELETE FROM "Rich ""Table""";
-- incoming: a foreign key and a view over a view
CREATE TABLE child_ref (id int PRIMARY KEY, rich_id bigint REFERENCES "Rich ""Table""" (id));
CREATE VIEW rich_view WITH (security_invoker = true) AS SELECT id, code FROM "Rich ""Table""" WHERE qty > 0;
CREATE VIEW rich_view_2 AS SELECT code FROM rich_view;
GRANT SELECT ON rich_view TO anon;
COMMENT ON VIEW rich_view IS 'the view';
RESET client_min_messages;

-- A description of every catalog row that must survive.
CREATE FUNCTION pg_temp.snap(rel text) RETURNS text LANGUAGE sql AS $$
SELECT concat_ws(E'\n',
  (SELECT string_agg(format('col %s %s notnull=%s identity=%s generated=%s coll=%s default=%s acl=%s comment=%s',
          a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity, a.attgenerated,
          a.attcollation::regcollation, pg_get_expr(d.adbin, d.adrelid), a.attacl,
          col_description(a.attrelid, a.attnum)), E'\n' ORDER BY a.attnum)
     FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attrelid = rel::regclass AND a.attnum > 0 AND NOT a.attisdropped),
  (SELECT string_agg(format('con %s %s %s', conname, pg_get_constraintdef(oid),
          obj_description(oid, 'pg_constraint')), E'\n' ORDER BY conname)
     FROM pg_constraint WHERE conrelid = rel::regclass),
  (SELECT string_agg(format('idx %s %s', pg_get_indexdef(indexrelid),
          obj_description(indexrelid, 'pg_class')), E'\n' ORDER BY indexrelid::regclass::text)
     FROM pg_index WHERE indrelid = rel::regclass),
  (SELECT string_agg(format('trg %s %s %s', tgenabled, pg_get_triggerdef(oid),
          obj_description(oid, 'pg_trigger')), E'\n' ORDER BY tgname)
     FROM pg_trigger WHERE tgrelid = rel::regclass AND NOT tgisinternal),
  (SELECT string_agg(format('rule %s', pg_get_ruledef(oid)), E'\n' ORDER BY rulename)
     FROM pg_rewrite WHERE ev_class = rel::regclass),
  (SELECT string_agg(format('pol %s %s %s %s %s %s %s', polname, polcmd, polpermissive,
          polroles::regrole[], pg_get_expr(polqual, polrelid), pg_get_expr(polwithcheck, polrelid),
          obj_description(oid, 'pg_policy')), E'\n' ORDER BY polname)
     FROM pg_policy WHERE polrelid = rel::regclass),
  (SELECT format('rel kind=%s owner=%s acl=%s rls=%s force=%s replident=%s options=%s bound=%s comment=%s',
          relkind, relowner::regrole, relacl, relrowsecurity, relforcerowsecurity, relreplident,
          reloptions, pg_get_expr(relpartbound, oid), obj_description(oid, 'pg_class'))
     FROM pg_class WHERE oid = rel::regclass),
  (SELECT string_agg(format('seq %s owner=%s acl=%s last=%s', s.oid::regclass, s.relowner::regrole,
          s.relacl, pg_sequence_last_value(s.oid)), E'\n' ORDER BY s.relname)
     FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
    WHERE d.refobjid = rel::regclass AND d.deptype IN ('a', 'i')),
  (SELECT string_agg(format('pub %s %s %s', p.pubname, pr.prattrs, pg_get_expr(pr.prqual, pr.prrelid)), E'\n')
     FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid WHERE pr.prrelid = rel::regclass),
  (SELECT string_agg(format('stat %s', pg_get_statisticsobjdef(oid)), E'\n')
     FROM pg_statistic_ext WHERE stxrelid = rel::regclass))
$$;
CREATE FUNCTION pg_temp.snap_view(rel text) RETURNS text LANGUAGE sql AS $$
SELECT format('view %s owner=%s acl=%s options=%s comment=%s def=%s', c.oid::regclass, c.relowner::regrole,
              c.relacl, c.reloptions, obj_description(c.oid, 'pg_class'), pg_get_viewdef(c.oid))
  FROM pg_class c WHERE c.oid = rel::regclass
$$;

CREATE TEMP TABLE before AS
SELECT pg_temp.snap('"Undo Sch"."Rich ""Table"""') AS rich,
       pg_temp.snap('"Undo Sch".child_ref') AS child,
       pg_temp.snap_view('"Undo Sch".rich_view') || pg_temp.snap_view('"Undo Sch".rich_view_2') AS views;

-- Without cascade: an error naming every dependent, nothing changed.
\set VERBOSITY default
SELECT dedup.drop_if_empty('"Undo Sch"."Rich ""Table"""');
SELECT count(*) AS journal_rows FROM dedup.journal;

-- With cascade: the view chain and the foreign key go too, captured first.
SELECT dedup.drop_if_empty('"Undo Sch"."Rich ""Table"""', cascade => true);
SELECT to_regclass('"Undo Sch"."Rich ""Table"""') AS rich, to_regclass('"Undo Sch".rich_view') AS view,
       (SELECT count(*) FROM pg_constraint WHERE conrelid = '"Undo Sch".child_ref'::regclass AND contype = 'f') AS child_fks;
SELECT action, target, detail->'sql' AS sql FROM dedup.journal ORDER BY id DESC LIMIT 1;

-- Undo recreates everything; every catalog row compares equal.
SELECT dedup.undo(max(id)) FROM dedup.journal WHERE action = 'drop';
SELECT b.rich = pg_temp.snap('"Undo Sch"."Rich ""Table"""') AS rich_equal,
       b.child = pg_temp.snap('"Undo Sch".child_ref') AS child_equal,
       b.views = pg_temp.snap_view('"Undo Sch".rich_view') || pg_temp.snap_view('"Undo Sch".rich_view_2') AS views_equal
  FROM before b;
-- Show any difference (none expected).
SELECT x AS before_only FROM before, unnest(string_to_array(rich, E'\n')) x
EXCEPT SELECT unnest(string_to_array(pg_temp.snap('"Undo Sch"."Rich ""Table"""'), E'\n'));
SELECT x AS after_only FROM unnest(string_to_array(pg_temp.snap('"Undo Sch"."Rich ""Table"""'), E'\n')) x
EXCEPT SELECT unnest(string_to_array(rich, E'\n')) FROM before;
-- The identity and serial sequences continue where they were.
INSERT INTO "Rich ""Table""" (code, qty, price) VALUES ('c', 3, 3) RETURNING id, serial_no, total;

-- A second undo of the same entry is refused.
SELECT dedup.undo(max(id)) FROM dedup.journal WHERE action = 'drop';

-- Partitioned tables come back with their partitions and partition indexes.
CREATE TABLE bookings (id int, day date NOT NULL, note text, PRIMARY KEY (id, day)) PARTITION BY RANGE (day);
CREATE TABLE bookings_2026_01 PARTITION OF bookings FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE bookings_rest PARTITION OF bookings DEFAULT;
CREATE INDEX bookings_note_idx ON bookings (note);
CREATE TABLE bookings_2026_02 PARTITION OF bookings FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
ALTER TABLE bookings_2026_02 ADD CONSTRAINT feb_only CHECK (day < '2026-03-01');
CREATE TEMP TABLE before_parts AS
SELECT c.relname, pg_temp.snap(format('"Undo Sch".%I', c.relname)) AS s
  FROM pg_class c WHERE c.relnamespace = '"Undo Sch"'::regnamespace AND c.relname LIKE 'bookings%' AND c.relkind IN ('r', 'p');
INSERT INTO bookings VALUES (1, '2026-01-05', 'x');
SELECT dedup.drop_if_empty('bookings');           -- holds a row in a partition
DELETE FROM bookings;
SELECT dedup.drop_if_empty('bookings_2026_01');   -- a partition: refused
SELECT dedup.drop_if_empty('bookings');
SELECT count(*) AS bookings_tables_left FROM pg_class WHERE relname LIKE 'bookings%' AND relnamespace = '"Undo Sch"'::regnamespace;
SELECT dedup.undo(max(id)) FROM dedup.journal WHERE action = 'drop';
SELECT b.relname, b.s = pg_temp.snap(format('"Undo Sch".%I', b.relname)) AS equal
  FROM before_parts b ORDER BY 1;

-- Undo refuses, changing nothing, when the name is taken or a referenced
-- table is gone.
CREATE TABLE gone_parent (id int PRIMARY KEY);
CREATE TABLE needs_parent (id int PRIMARY KEY, p int REFERENCES gone_parent);
SELECT dedup.drop_if_empty('needs_parent');
CREATE TABLE needs_parent (x int);
SELECT dedup.undo(max(id)) FROM dedup.journal WHERE action = 'drop';
DROP TABLE needs_parent;
DROP TABLE gone_parent;
SELECT dedup.undo(max(id)) FROM dedup.journal WHERE action = 'drop';
SELECT to_regclass('needs_parent') AS still_absent;
SELECT dedup.undo(999999);

SET client_min_messages = warning;
RESET search_path;
DROP PUBLICATION rich_pub;
DROP SCHEMA "Undo Sch" CASCADE;
DROP ROLE undo_owner;
TRUNCATE dedup.journal;
