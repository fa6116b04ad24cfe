-- merge_extension rebuilds the base beside it and swaps the storage in
-- (swap.c), each row keeping its xmin, then declares the carried CHECKs and
-- foreign keys valid without a scan.  What the storage holds afterwards must
-- be a table PostgreSQL itself would have written: amcheck finds nothing
-- wrong with the heap, its TOAST or its indexes, VACUUM FREEZE freezes it,
-- and a constraint declared valid holds.
CREATE DATABASE dedup_merge_swap;
\c dedup_merge_swap
CREATE EXTENSION dedup;
CREATE EXTENSION amcheck;
CREATE EXTENSION pg_visibility;
SET client_min_messages = warning;

-- A base with a dropped column, TOASTed values (compressed and external),
-- HOT-updated rows, frozen and unfrozen rows; an extension with TOASTed
-- values and a shared column it fills.
CREATE TABLE sw_base (id int PRIMARY KEY, dropme text, name text, doc jsonb, blob bytea, n int);
ALTER TABLE sw_base ALTER COLUMN blob SET STORAGE EXTERNAL;
ALTER TABLE sw_base SET (autovacuum_enabled = false);
CREATE INDEX sw_base_n ON sw_base (n) WHERE n > 10;
CREATE TABLE sw_ext (id int PRIMARY KEY REFERENCES sw_base, bio text, big jsonb, name text);
INSERT INTO sw_base
  SELECT g, 'd', CASE WHEN g % 2 = 1 THEN 'n' || g END,
         jsonb_build_object('k', repeat('v', 5000 + g)), convert_to(repeat('z', 3000), 'UTF8'), g
    FROM generate_series(1, 200) g;
ALTER TABLE sw_base DROP COLUMN dropme;
VACUUM FREEZE sw_base;
UPDATE sw_base SET n = n + 1 WHERE id % 3 = 0;
INSERT INTO sw_ext
  SELECT g, repeat('b', 10000), jsonb_build_object('x', repeat('q', 9000)), CASE WHEN g % 2 = 0 THEN 'n' || g END
    FROM generate_series(1, 150) g;
SELECT count(*) AS hot_updated FROM sw_base WHERE id % 3 = 0;

-- Rows of the merging transaction itself: inserted before the merge, in a
-- released savepoint, in a rolled back one; a delete rolled back.
BEGIN;
INSERT INTO sw_base VALUES (1000, 'same transaction', '{}', NULL, 0);
SAVEPOINT s1;
INSERT INTO sw_base VALUES (1001, 'released savepoint', '{}', NULL, 0);
RELEASE s1;
SAVEPOINT s2;
INSERT INTO sw_base VALUES (1002, 'rolled back', '{}', NULL, 0);
ROLLBACK TO s2;
SAVEPOINT s3;
DELETE FROM sw_base WHERE id = 170;
ROLLBACK TO s3;
SELECT columns_added, rows_merged FROM dedup.merge_extension('sw_base', 'sw_ext');
UPDATE sw_base SET n = -1 WHERE id = 1000;
COMMIT;

SELECT count(*), count(bio), count(name), sum(length(doc::text)), sum(length(blob)), sum(length(big::text)),
       md5(string_agg(id || '/' || coalesce(name, '-') || '/' || n, ',' ORDER BY id))
  FROM sw_base;
SELECT * FROM verify_heapam('sw_base');
SELECT * FROM verify_heapam((SELECT reltoastrelid FROM pg_class WHERE oid = 'sw_base'::regclass));
SELECT count(bt_index_check(indexrelid, true)) AS indexes_checked FROM pg_index WHERE indrelid = 'sw_base'::regclass;
VACUUM (FREEZE) sw_base;
SELECT * FROM pg_check_frozen('sw_base');
SELECT * FROM verify_heapam('sw_base');
SELECT count(bt_index_check(indexrelid, true)) AS indexes_checked FROM pg_index WHERE indrelid = 'sw_base'::regclass;
SET enable_seqscan = off;
SELECT id, name, n FROM sw_base WHERE id IN (170, 1000, 1001, 1002) ORDER BY id;
SELECT count(*) AS by_partial_index FROM sw_base WHERE n > 10;
RESET enable_seqscan;

-- A row with a DEFERRABLE foreign key check still to run at commit: the
-- queued check names the row by its place (ctid), which the rebuild moves.
-- (It checked another row at commit, and the violating row was kept.)
CREATE TABLE sw_ref (id int PRIMARY KEY);
INSERT INTO sw_ref VALUES (1);
CREATE TABLE sw_deferred (id int PRIMARY KEY, name text, r int REFERENCES sw_ref DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE sw_deferred_ext (id int PRIMARY KEY REFERENCES sw_deferred, name text);
INSERT INTO sw_deferred SELECT g, NULL, 1 FROM generate_series(1, 600) g;
SELECT max((ctid::text::point)[1])::int AS per_page FROM sw_deferred \gset
INSERT INTO sw_deferred SELECT g, NULL, 1 FROM generate_series(601, 3 * :per_page) g;
INSERT INTO sw_deferred_ext SELECT g, repeat('x', 500) FROM generate_series(1, 3 * :per_page) g;
BEGIN;
INSERT INTO sw_deferred VALUES (-1, NULL, 999);
SELECT * FROM dedup.merge_extension('sw_deferred', 'sw_deferred_ext', compat_view => false);
COMMIT;
SELECT count(*) AS violating FROM sw_deferred WHERE r NOT IN (SELECT id FROM sw_ref);

-- A cursor of the same session open on the base.
BEGIN;
DECLARE c CURSOR FOR SELECT * FROM sw_deferred WHERE id = 8 FOR UPDATE;
FETCH c;
SELECT * FROM dedup.merge_extension('sw_deferred', 'sw_deferred_ext', compat_view => false);
ROLLBACK;

-- take_extension replaces base values that foreign keys reference: another
-- table's, and one of the extension's own that comes over.  The rows that
-- referenced 'alice' would reference nothing, under constraints marked
-- valid.  keep_base changes no base value and goes through.
CREATE TABLE sw_people (id int PRIMARY KEY, name text UNIQUE);
CREATE TABLE sw_mentions (x int, name text REFERENCES sw_people (name));
CREATE TABLE sw_people_ext (id int PRIMARY KEY REFERENCES sw_people, name text,
                            ref_name text REFERENCES sw_people (name));
INSERT INTO sw_people VALUES (1, 'alice'), (2, 'bob');
INSERT INTO sw_mentions VALUES (1, 'alice');
INSERT INTO sw_people_ext VALUES (1, 'alicia', 'alice'), (2, 'bob', 'alice');
SELECT * FROM dedup.merge_extension('sw_people', 'sw_people_ext', on_conflict => 'take_extension');
SELECT * FROM dedup.merge_extension('sw_people', 'sw_people_ext', on_conflict => 'keep_base');
SELECT * FROM sw_people ORDER BY id;
SELECT conname, convalidated FROM pg_constraint WHERE conrelid IN ('sw_people'::regclass, 'sw_mentions'::regclass)
   AND contype = 'f' ORDER BY 1;
SELECT count(*) AS dangling FROM sw_people p WHERE NOT EXISTS (SELECT 1 FROM sw_people q WHERE q.name = p.ref_name);

-- A CHECK is proven on the rebuilt rows before the swap and then declared
-- valid without a scan.  One that reads a system column (tableoid) reads
-- the transient heap's there, not the table's: the extension's is validated
-- by a scan of the table after the swap instead (here it fails, naming
-- it), and a base CHECK over a filled column that reads one is refused.
CREATE TABLE sw_sys (id int PRIMARY KEY, name text);
CREATE TABLE sw_sys_ext (id int PRIMARY KEY REFERENCES sw_sys, bio text, name text);
ALTER TABLE sw_sys_ext ADD CONSTRAINT not_in_base CHECK (tableoid <> 'sw_sys'::regclass);
INSERT INTO sw_sys VALUES (1, NULL), (2, NULL);
INSERT INTO sw_sys_ext VALUES (1, 'x', 'A');
SELECT * FROM dedup.merge_extension('sw_sys', 'sw_sys_ext');
ALTER TABLE sw_sys_ext DROP CONSTRAINT not_in_base;
ALTER TABLE sw_sys ADD CONSTRAINT named_elsewhere CHECK (name IS NULL OR tableoid <> 'sw_sys'::regclass);
SELECT * FROM dedup.merge_extension('sw_sys', 'sw_sys_ext');
ALTER TABLE sw_sys DROP CONSTRAINT named_elsewhere;
ALTER TABLE sw_sys_ext ADD CONSTRAINT some_table CHECK (tableoid <> 0::oid);
SELECT * FROM dedup.merge_extension('sw_sys', 'sw_sys_ext');
SELECT conname, convalidated FROM pg_constraint WHERE conrelid = 'sw_sys'::regclass AND contype = 'c' ORDER BY 1;

-- A foreign key of the extension that references the extension itself
-- (a mentor among the members) points at the base, as one from another
-- table does: the extension's key stands for the base's, and it holds (the
-- mentors were members of the extension, so they are members of the base).
-- Undo puts it back on the extension.
CREATE TABLE sw_member (id int PRIMARY KEY, email text);
CREATE TABLE sw_member_ext (member_id int PRIMARY KEY REFERENCES sw_member, bio text,
                            mentor_id int REFERENCES sw_member_ext (member_id) ON DELETE SET NULL);
INSERT INTO sw_member SELECT g, 'm' || g FROM generate_series(1, 4) g;
INSERT INTO sw_member_ext VALUES (1, 'first', NULL), (2, 'second', 1), (3, 'third', 2);
SELECT * FROM dedup.merge_extension('sw_member', 'sw_member_ext');
SELECT conname, convalidated, pg_get_constraintdef(oid) FROM pg_constraint
 WHERE conrelid = 'sw_member'::regclass AND contype = 'f' ORDER BY 1;
DELETE FROM sw_member_ext WHERE member_id = 1;
SELECT id, bio, mentor_id FROM sw_member ORDER BY id;
UPDATE sw_member SET mentor_id = 9 WHERE id = 4;
UPDATE sw_member SET bio = 'first', mentor_id = NULL WHERE id = 1;
UPDATE sw_member SET mentor_id = 1 WHERE id = 2;
SELECT dedup.undo(max(id)) FROM dedup.journal WHERE action = 'merge_extension';
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'sw_member_ext'::regclass AND contype = 'f' ORDER BY 1;
SELECT * FROM sw_member_ext ORDER BY 1;

-- What came over from the extension goes back with it.  A CHECK and a
-- unique index over a column both tables have outlive the dropped columns:
-- undo drops them, so that the base refuses again only what it refused
-- before the merge.
CREATE TABLE sw_shared (id int PRIMARY KEY, name text);
CREATE TABLE sw_shared_ext (id int PRIMARY KEY REFERENCES sw_shared, bio text,
                            name text CONSTRAINT name_not_blank CHECK (name <> ''));
CREATE UNIQUE INDEX sw_shared_ext_name ON sw_shared_ext (name);
INSERT INTO sw_shared VALUES (1, 'a'), (2, 'b'), (3, NULL);
INSERT INTO sw_shared_ext VALUES (1, 'x', 'a'), (3, 'y', 'c');
SELECT columns_added, rows_merged FROM dedup.merge_extension('sw_shared', 'sw_shared_ext');
SELECT dedup.undo(max(id)) FROM dedup.journal WHERE action = 'merge_extension';
SELECT conname FROM pg_constraint WHERE conrelid = 'sw_shared'::regclass ORDER BY 1;
SELECT indexrelid::regclass FROM pg_index WHERE indrelid = 'sw_shared'::regclass ORDER BY 1;
INSERT INTO sw_shared VALUES (4, 'a'), (5, '');
SELECT conname FROM pg_constraint WHERE conrelid = 'sw_shared_ext'::regclass ORDER BY 1;
SELECT indexrelid::regclass FROM pg_index WHERE indrelid = 'sw_shared_ext'::regclass ORDER BY 1;

\c contrib_regression
SET client_min_messages = warning;
DROP DATABASE dedup_merge_swap;
