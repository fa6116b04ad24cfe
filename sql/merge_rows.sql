-- missing_rows and merge_rows: rows matched on the key of a unique index,
-- columns matched only with the same type, modifier and collation (never a
-- cast), "present" meaning the same stored values, nothing overwritten, a
-- source dropped only when none of its values would be lost, the keeper's
-- sequences moved past the ids that came in, and one undo for all of it.
CREATE DATABASE dedup_merge;
\c dedup_merge
CREATE EXTENSION dedup;
\set ECHO none
\i test/fixtures/demo.sql
\set ECHO all

-- The demo's leftover: every row of members_full is in members ...
SELECT * FROM dedup.missing_rows('members_full', 'members');
SELECT * FROM dedup.merge_rows('members_full', 'members');
-- ... but its bio column is not, so it cannot be dropped yet.
SELECT * FROM dedup.merge_rows('members_full', 'members', drop_source => true);
SELECT to_regclass('members_full') IS NOT NULL AS still_there;

-- Missing rows and conflicts, ordered by key.
UPDATE members_full SET full_name = 'Renamed' WHERE id = 3;
INSERT INTO members_full VALUES (500, 'five@example.org', 'Five Hundred', '2025-06-01', 'new bio');
SELECT status, row_data->>'id' AS id, row_data->>'full_name' AS full_name
  FROM dedup.missing_rows('members_full', 'members');
-- merge_rows inserts the missing row, overwrites nothing, counts the conflict.
SELECT * FROM dedup.merge_rows('members_full', 'members');
SELECT id, full_name FROM members WHERE id IN (3, 500) ORDER BY id;
SELECT action, target, detail->'inserted' AS inserted, detail->'conflicts' AS conflicts,
       detail->'columns_not_in_keeper' AS not_in_keeper
  FROM dedup.journal WHERE action = 'merge_rows' ORDER BY id DESC LIMIT 1;
-- The id 500 came in: the keeper's identity is moved past it, so the
-- application's next insert works.
INSERT INTO members (email, full_name) VALUES ('next@example.org', 'Next') RETURNING id;
DELETE FROM members WHERE email = 'next@example.org';

-- A look-alike with the same columns: merged, backed up, dropped, journaled.
CREATE TABLE members_copy (LIKE members);
INSERT INTO members_copy SELECT * FROM members WHERE id <= 5;
INSERT INTO members_copy (id, email, full_name, created_at) VALUES (900, 'nine@example.org', 'Nine', '2025-09-09');
SELECT * FROM dedup.merge_rows('members_copy', 'members', drop_source => true);
SELECT to_regclass('members_copy') AS gone, (SELECT full_name FROM members WHERE id = 900) AS merged;
SELECT id, action, target, parent IS NOT NULL AS is_step FROM dedup.journal ORDER BY id DESC LIMIT 3;
-- Its steps are undone with it, never alone ...
SELECT dedup.undo(max(id)) FROM dedup.journal WHERE action = 'drop';
-- ... and one undo puts everything back: the source with its rows, the
-- keeper without the row that came from it, the backup gone.
SELECT dedup.undo(max(id)) FROM dedup.journal WHERE action = 'merge_rows';
SELECT count(*) AS copy_rows, (SELECT count(*) FROM members WHERE id = 900) AS merged_row_left,
       to_regclass(detail->>'backup') AS backup_left
  FROM members_copy, dedup.journal WHERE action = 'backup' AND target = 'public.members_copy'
 GROUP BY detail;
-- An undo that would lose a write made since is refused.
SELECT * FROM dedup.merge_rows('members_copy', 'members');
UPDATE members SET full_name = 'Changed since' WHERE id = 900;
SELECT dedup.undo(max(id)) FROM dedup.journal WHERE action = 'merge_rows';
SELECT full_name FROM members WHERE id = 900;
DROP TABLE members_copy;

-- "Present" means the same stored values: 1.0 is not 1.00.
CREATE TABLE prices (id int PRIMARY KEY, amount numeric, doc jsonb);
INSERT INTO prices VALUES (1, 1.0, '{"a": 1.0}'), (2, 2, '{"a": 2}');
CREATE TABLE prices_old (id int PRIMARY KEY, amount numeric, doc jsonb);
INSERT INTO prices_old VALUES (1, 1.00, '{"a": 1.0}'), (2, 2, '{"a": 2.00}');
SELECT status, row_data FROM dedup.missing_rows('prices_old', 'prices');
SELECT * FROM dedup.merge_rows('prices_old', 'prices', drop_source => true);

-- Composite keys; identity kept (OVERRIDING SYSTEM VALUE) and moved past;
-- a column the keeper generates must be generated alike in the source.
CREATE TABLE slots (room int, day date, seats int,
                    id bigint GENERATED ALWAYS AS IDENTITY,
                    label text GENERATED ALWAYS AS ('room ' || room::text) STORED,
                    PRIMARY KEY (room, day));
INSERT INTO slots (room, day, seats) VALUES (1, '2026-01-01', 10), (2, '2026-01-01', 20);
CREATE TABLE slots_old (room int, day date, seats int, id bigint, label text);
INSERT INTO slots_old VALUES (1, '2026-01-01', 10, 1, 'room 1'),
                             (3, '2026-01-02', 30, 77, 'room 3'),
                             (2, '2026-01-01', 25, 2, 'room 2');
SELECT * FROM dedup.merge_rows('slots_old', 'slots');
ALTER TABLE slots_old DROP COLUMN label,
  ADD COLUMN label text GENERATED ALWAYS AS ('room ' || room::text) STORED;
SELECT status, row_data FROM dedup.missing_rows('slots_old', 'slots');
SELECT * FROM dedup.merge_rows('slots_old', 'slots');
SELECT room, day, seats, id, label FROM slots ORDER BY room;
INSERT INTO slots (room, day, seats) VALUES (4, '2026-01-03', 40) RETURNING id;
-- Different types, modifiers or collations are never cast.
CREATE TABLE slots_narrow (room smallint, day date, seats int, PRIMARY KEY (room, day));
SELECT * FROM dedup.merge_rows('slots_narrow', 'slots');
CREATE TABLE money_a (id int PRIMARY KEY, v numeric(10, 4));
CREATE TABLE money_b (id int PRIMARY KEY, v numeric(10, 2));
SELECT * FROM dedup.merge_rows('money_a', 'money_b');
CREATE TABLE names_c (id int PRIMARY KEY, n text COLLATE "C");
CREATE TABLE names_d (id int PRIMARY KEY, n text);
SELECT * FROM dedup.merge_rows('names_c', 'names_d');

-- A unique NOT NULL index when there is no primary key; a key given must be
-- the columns of a unique index (it may match one keeper row only).
CREATE TABLE tags (name text NOT NULL UNIQUE, color text);
INSERT INTO tags VALUES ('red', '#f00');
CREATE TABLE tags_v2 (name text, color text);
INSERT INTO tags_v2 VALUES ('red', '#f00'), ('blue', '#00f');
SELECT * FROM dedup.merge_rows('tags_v2', 'tags');
SELECT * FROM dedup.merge_rows('tags_v2', 'tags', key => '{color}');
SELECT * FROM dedup.merge_rows('tags_v2', 'tags', key => '{name}');
CREATE TABLE loose (a int, b int);
SELECT * FROM dedup.missing_rows('tags_v2', 'loose');

-- Refusals change nothing: another type, an unknown key column, the same
-- table, null arguments.
CREATE TABLE members_narrow (id int PRIMARY KEY, email varchar(5));
SELECT * FROM dedup.merge_rows('members', 'members_narrow');
SELECT * FROM dedup.merge_rows('members_full', 'members', key => '{nope}');
SELECT * FROM dedup.merge_rows('members', 'members');
SELECT * FROM dedup.merge_rows(NULL, 'members');
SELECT * FROM dedup.missing_rows('members', NULL);

-- Wide tables (values are compared 48 pairs to a call) and values stored
-- differently (compressed in one table, not in the other) compare exactly.
SELECT format('CREATE TABLE %I (id int PRIMARY KEY, %s)', t,
              string_agg(format('c%s text', i), ', ' ORDER BY i))
  FROM generate_series(1, 60) i, (VALUES ('wide'), ('wide_old')) v(t) GROUP BY t \gexec
ALTER TABLE wide ALTER COLUMN c60 SET STORAGE EXTERNAL;
INSERT INTO wide (id, c1, c55, c60) VALUES (1, 'a', 'same', repeat('x', 5000)), (2, 'b', 'kept', NULL);
INSERT INTO wide_old (id, c1, c55, c60) VALUES (1, 'a', 'same', repeat('x', 5000)), (2, 'b', 'other', NULL),
                                               (3, 'c', NULL, NULL);
SELECT pg_column_compression(c60) AS keeper_compressed FROM wide WHERE id = 1;
SELECT pg_column_compression(c60) AS source_compressed FROM wide_old WHERE id = 1;
SELECT status, row_data->>'id' AS id, row_data->>'c55' AS c55 FROM dedup.missing_rows('wide_old', 'wide');
SELECT * FROM dedup.merge_rows('wide_old', 'wide');
SELECT dedup._same_values(1, 1, NULL::text, NULL::text, 'a'::text, 'a'::text);
SELECT dedup._same_values(1.0, 1.00);
SELECT dedup._same_values(VARIADIC ARRAY[1, 1]);
SELECT dedup._same_values(1, 'a'::text);

-- Hostile names.
CREATE SCHEMA "Mé ""rge""";
CREATE TABLE "Mé ""rge"""."Keep Er" ("Id" int PRIMARY KEY, "Va""l" text);
CREATE TABLE "Mé ""rge"""."keep er_old" ("Id" int PRIMARY KEY, "Va""l" text, "Ëxtra" text);
INSERT INTO "Mé ""rge"""."keep er_old" VALUES (1, 'one', NULL), (2, 'two', NULL);
SELECT * FROM dedup.merge_rows('"Mé ""rge"""."keep er_old"', '"Mé ""rge"""."Keep Er"', drop_source => true);
SELECT * FROM "Mé ""rge"""."Keep Er" ORDER BY 1;

\c contrib_regression
SET client_min_messages = warning;
DROP DATABASE dedup_merge;
