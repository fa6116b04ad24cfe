-- safety_rows: the changing functions never lose, drop or misplace a row
-- (issue 9, "Rows lost or misplaced"; the concurrent cases are the isolation
-- specs merge_snapshot and unpartition_rename):
--  - FORCE ROW LEVEL SECURITY: a non-superuser owner's merge_rows and
--    merge_extension refuse instead of working on the rows its policy shows;
--  - a shared column GENERATED in the keeper or base, or of another typmod
--    (numeric(10,4) / numeric(10,2), timestamp(6) / timestamp(0)), is a
--    refusal, never a silent recomputation or rounding;
--  - "equal but different" values (citext case, a nondeterministic ICU
--    collation, numeric and jsonb scale) are conflicts: never counted
--    present, never dropped with the source;
--  - an inheritance child is never merged into its parent (nor the parent
--    anywhere);
--  - a foreign-table partition or child makes the row count unknown: every
--    changing function refuses, and discovery does not call the tree empty.
CREATE DATABASE dedup_safety_rows;
\c dedup_safety_rows
CREATE EXTENSION dedup;
SET dedup.backup_suffix = 'sr';
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_sr_owner') THEN
    CREATE ROLE regress_sr_owner;
  END IF;
END $$;
GRANT USAGE ON SCHEMA dedup TO regress_sr_owner;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA dedup TO regress_sr_owner;
GRANT CREATE ON SCHEMA public TO regress_sr_owner;
-- what an older README granted; dedup no longer needs it (it writes the
-- journal as the journal's owner), and it lets no one write the journal
GRANT SELECT, INSERT ON dedup.journal TO regress_sr_owner;

-- FORCE ROW LEVEL SECURITY, owner not a superuser ---------------------------
SET ROLE regress_sr_owner;
CREATE TABLE fr_keep (id int PRIMARY KEY, v text);
CREATE TABLE fr_src (id int PRIMARY KEY, v text);
INSERT INTO fr_keep VALUES (1, 'a');
INSERT INTO fr_src VALUES (1, 'a'), (2, 'hidden');
ALTER TABLE fr_src ENABLE ROW LEVEL SECURITY;
ALTER TABLE fr_src FORCE ROW LEVEL SECURITY;
CREATE POLICY fr_visible ON fr_src USING (v <> 'hidden');
CREATE TABLE fr_base (id int PRIMARY KEY, name text);
CREATE TABLE fr_ext (id int PRIMARY KEY REFERENCES fr_base, bio text);
INSERT INTO fr_base VALUES (1, 'a'), (2, 'secret');
INSERT INTO fr_ext VALUES (1, 'bio 1'), (2, 'bio 2');
ALTER TABLE fr_base ENABLE ROW LEVEL SECURITY;
ALTER TABLE fr_base FORCE ROW LEVEL SECURITY;
CREATE POLICY fr_base_visible ON fr_base USING (name <> 'secret');
-- merge_rows would see one source row of two, call it present, drop the source
SELECT * FROM dedup.merge_rows('fr_src', 'fr_keep', drop_source => true);
-- merge_extension would rebuild the base without the row its policy hides
SELECT * FROM dedup.merge_extension('fr_base', 'fr_ext');
RESET ROLE;
SELECT (SELECT count(*) FROM fr_src) AS src_rows, (SELECT count(*) FROM fr_keep) AS keep_rows,
       (SELECT count(*) FROM fr_base) AS base_rows, to_regclass('fr_ext') IS NOT NULL AS ext_kept;
-- The hint's way out works: the same merge with FORCE lifted sees every row.
BEGIN;
ALTER TABLE fr_src NO FORCE ROW LEVEL SECURITY;
SET ROLE regress_sr_owner;
SELECT * FROM dedup.merge_rows('fr_src', 'fr_keep', drop_source => true);
RESET ROLE;
SELECT id, v FROM fr_keep ORDER BY id;
ROLLBACK;

-- A backup of a table with FORCE row level security is not FORCE itself:
-- dedup reads it back whole as its owner.  Writing into a FORCE table is
-- refused to its owner, as reading one is; a superuser, whom no policy
-- binds, restores every row; into another table, the owner restores them.
SELECT dedup.backup_table('fr_src', 'fr_src_bak');
SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = 'fr_src_bak'::regclass;
TRUNCATE fr_src;
SET ROLE regress_sr_owner;
SELECT dedup.restore_backup('fr_src_bak', 'fr_src');
CREATE TABLE fr_copy (LIKE fr_src);
SELECT dedup.restore_backup('fr_src_bak', 'fr_copy');
SELECT id, v FROM fr_copy ORDER BY id;
RESET ROLE;
SELECT dedup.restore_backup('fr_src_bak', 'fr_src');
SELECT id, v FROM fr_src ORDER BY id;

-- A shared column generated in the keeper or base ----------------------------
CREATE TABLE gb_base (id int PRIMARY KEY, first text, last text,
                      full_name text GENERATED ALWAYS AS (first || ' ' || last) STORED);
CREATE TABLE gb_ext (id int PRIMARY KEY REFERENCES gb_base, full_name text, bio text);
INSERT INTO gb_base (id, first, last) VALUES (1, 'Ada', 'Lovelace');
INSERT INTO gb_ext VALUES (1, 'Countess Ada Lovelace', 'wrote the first program');
SELECT * FROM dedup.merge_extension('gb_base', 'gb_ext');
SELECT g.full_name AS base, e.full_name AS extension FROM gb_base g JOIN gb_ext e USING (id);
-- merge_rows into a keeper that computes the column the source stores
CREATE TABLE gk_keep (id int PRIMARY KEY, n int, twice int GENERATED ALWAYS AS (n * 2) STORED);
CREATE TABLE gk_src (id int PRIMARY KEY, n int, twice int);
INSERT INTO gk_src VALUES (1, 1, 99);
SELECT * FROM dedup.merge_rows('gk_src', 'gk_keep', drop_source => true);
SELECT * FROM dedup.missing_rows('gk_src', 'gk_keep');
SELECT (SELECT count(*) FROM gk_keep) AS keep_rows, to_regclass('gk_src') IS NOT NULL AS src_kept;

-- Another typmod: never a cast ----------------------------------------------
CREATE TABLE tm_keep (id int PRIMARY KEY, amount numeric(10,2), at timestamp(6));
CREATE TABLE tm_src4 (id int PRIMARY KEY, amount numeric(10,4), at timestamp(6));
CREATE TABLE tm_src0 (id int PRIMARY KEY, amount numeric(10,2), at timestamp(0));
INSERT INTO tm_src4 VALUES (1, 1.2345, '2026-01-01 10:00:00.123456');
INSERT INTO tm_src0 VALUES (1, 1.23, '2026-01-01 10:00:00');
SELECT * FROM dedup.merge_rows('tm_src4', 'tm_keep');
SELECT * FROM dedup.merge_rows('tm_src0', 'tm_keep', drop_source => true);
SELECT * FROM dedup.missing_rows('tm_src4', 'tm_keep');
SELECT count(*) AS keep_rows FROM tm_keep;
CREATE TABLE tmb_base (id int PRIMARY KEY, amount numeric(10,2));
CREATE TABLE tmb_ext (id int PRIMARY KEY REFERENCES tmb_base, amount numeric(10,4), note text);
INSERT INTO tmb_base VALUES (1, NULL);
INSERT INTO tmb_ext VALUES (1, 1.2345, 'n');
SELECT * FROM dedup.merge_extension('tmb_base', 'tmb_ext');
SELECT amount FROM tmb_base;

-- Equal but different: never "present", never dropped -----------------------
CREATE EXTENSION citext;
CREATE COLLATION ci_und (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE ed_keep (id int PRIMARY KEY, email citext, name text COLLATE ci_und, amount numeric, doc jsonb);
CREATE TABLE ed_src (LIKE ed_keep INCLUDING ALL);
INSERT INTO ed_keep VALUES (1, 'ada@example.org', 'Ada', 1.0, '{"n": 1.0}'),
                           (2, 'bob@example.org', 'Bob', 2.0, '{"n": 2.0}'),
                           (3, 'cy@example.org',  'Cy',  3.0, '{"n": 3.0}'),
                           (4, 'di@example.org',  'Di',  4.0, '{"n": 4.0}'),
                           (5, 'ed@example.org',  'Ed',  5.0, '{"n": 5.0}');
INSERT INTO ed_src VALUES (1, 'ADA@example.org', 'Ada', 1.0, '{"n": 1.0}'),    -- citext case
                          (2, 'bob@example.org', 'BOB', 2.0, '{"n": 2.0}'),    -- ICU level 2: same
                          (3, 'cy@example.org',  'Cy',  3.00, '{"n": 3.0}'),   -- numeric scale
                          (4, 'di@example.org',  'Di',  4.0, '{"n": 4.00}'),   -- jsonb number
                          (5, 'ed@example.org',  'Ed',  5.0, '{"n": 5.0}');    -- the same
-- each of those rows is "=" to the keeper's ...
SELECT s.id, k.email = s.email AS email_eq, k.name = s.name AS name_eq,
       k.amount = s.amount AS amount_eq, k.doc = s.doc AS doc_eq
  FROM ed_keep k JOIN ed_src s USING (id) ORDER BY 1;
-- ... yet holds another value: four conflicts, one row present
SELECT status, row_data->>'id' AS id FROM dedup.missing_rows('ed_src', 'ed_keep');
SELECT * FROM dedup.merge_rows('ed_src', 'ed_keep');
SELECT * FROM dedup.merge_rows('ed_src', 'ed_keep', drop_source => true);
SELECT count(*) AS src_rows FROM ed_src;
-- a key of such a type matches with the type's "=" (as the unique index
-- does), and the row is then a conflict, not a second row
CREATE TABLE ek_keep (email citext PRIMARY KEY, v int);
CREATE TABLE ek_src (email citext PRIMARY KEY, v int);
INSERT INTO ek_keep VALUES ('ada@example.org', 1);
INSERT INTO ek_src VALUES ('ADA@example.org', 1);
SELECT * FROM dedup.merge_rows('ek_src', 'ek_keep');
-- merge_extension: a shared column equal by "=" but stored differently
CREATE TABLE eb_base (id int PRIMARY KEY, amount numeric);
CREATE TABLE eb_ext (id int PRIMARY KEY REFERENCES eb_base, amount numeric, note text);
INSERT INTO eb_base VALUES (1, 1.0);
INSERT INTO eb_ext VALUES (1, 1.00, 'n');
SELECT * FROM dedup.merge_extension('eb_base', 'eb_ext');
SELECT amount::text FROM eb_base;
-- the same stored values in a shared column: merged
CREATE TABLE es_base (id int PRIMARY KEY, amount numeric);
CREATE TABLE es_ext (id int PRIMARY KEY REFERENCES es_base, amount numeric, note text);
INSERT INTO es_base VALUES (1, 1.0), (2, NULL);
INSERT INTO es_ext VALUES (1, 1.0, 'one'), (2, 2.00, 'two');
SELECT * FROM dedup.merge_extension('es_base', 'es_ext');
SELECT id, amount::text, note FROM es_base ORDER BY id;

-- Inheritance: a parent's scan includes its children -------------------------
CREATE TABLE ih_parent (id int PRIMARY KEY, v text);
CREATE TABLE ih_child () INHERITS (ih_parent);
CREATE TABLE ih_other (id int PRIMARY KEY, v text);
INSERT INTO ih_parent VALUES (1, 'p');
INSERT INTO ih_child VALUES (2, 'c1'), (3, 'c2');
SELECT * FROM dedup.merge_rows('ih_child', 'ih_parent', drop_source => true);
SELECT * FROM dedup.merge_rows('ih_parent', 'ih_other', drop_source => true);
SELECT * FROM dedup.merge_rows('ih_other', 'ih_parent');
SELECT (SELECT count(*) FROM ih_parent) AS parent_rows, (SELECT count(*) FROM ONLY ih_parent) AS own_rows,
       (SELECT count(*) FROM ih_child) AS child_rows;

-- A foreign partition or child: its rows cannot be counted, so no
-- changing function goes on, and discovery does not call the table empty
CREATE EXTENSION file_fdw;
CREATE SERVER files FOREIGN DATA WRAPPER file_fdw;
CREATE TABLE fp_events (id int, kind int) PARTITION BY LIST (kind);
CREATE TABLE fp_events_local PARTITION OF fp_events FOR VALUES IN (1);
CREATE FOREIGN TABLE fp_events_remote PARTITION OF fp_events FOR VALUES IN (2)
  SERVER files OPTIONS (program 'echo 7,2', format 'csv');
CREATE TABLE fp_keep (id int PRIMARY KEY, kind int);
CREATE TABLE fp_plain (id int, kind int);
CREATE FOREIGN TABLE fp_plain_remote () INHERITS (fp_plain)
  SERVER files OPTIONS (program 'echo 8,3', format 'csv');
SELECT count(*) AS rows_through_parent FROM fp_events;
SELECT tbl, is_empty FROM dedup.inventory() WHERE tbl::text LIKE 'fp\_%' ORDER BY 1;
SELECT dedup.drop_if_empty('fp_events');
SELECT dedup.drop_if_empty('fp_plain', cascade => true);
SELECT dedup.unpartition('fp_events');
SELECT dedup.backup_table('fp_events');
SELECT * FROM dedup.merge_rows('fp_events', 'fp_keep', drop_source => true);
SELECT * FROM dedup.merge_rows('fp_plain', 'fp_keep');
SELECT to_regclass('fp_events') IS NOT NULL AS events_kept, to_regclass('fp_plain') IS NOT NULL AS plain_kept,
       (SELECT count(*) FROM fp_events) AS event_rows, (SELECT count(*) FROM fp_keep) AS keep_rows;

-- Every refusal above changed nothing: the journal holds only the two
-- merges that inserted nothing and counted the conflicts.
SELECT action, target, detail->'inserted' AS inserted, detail->'conflicts' AS conflicts
  FROM dedup.journal ORDER BY id;

\c contrib_regression
DROP DATABASE dedup_safety_rows;
DROP ROLE regress_sr_owner;
