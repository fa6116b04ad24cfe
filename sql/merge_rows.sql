-- missing_rows and merge_rows: rows matched on a key, values copied only
-- through lossless casts, nothing overwritten, and a source dropped only
-- when none of its values would be lost.
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
  FROM dedup.journal WHERE action = 'merge' ORDER BY id DESC LIMIT 1;

-- A look-alike with the same columns: merged, backed up, dropped, journaled.
CREATE TABLE members_copy (LIKE members);
INSERT INTO members_copy SELECT * FROM members WHERE id <= 5;
INSERT INTO members_copy (id, email, full_name, created_at) VALUES (900, 'nine@example.org', 'Nine', '2025-09-09');
SELECT * FROM dedup.merge_rows('members_copy', 'members', drop_source => true);
SELECT to_regclass('members_copy') AS gone, (SELECT full_name FROM members WHERE id = 900) AS merged;
SELECT action, target FROM dedup.journal ORDER BY id DESC LIMIT 3;
-- The drop can be undone like any other, and its backup puts every row back.
SELECT dedup.undo(max(id)) FROM dedup.journal WHERE action = 'drop';
SELECT dedup.restore_backup((detail->>'backup')::regclass)
  FROM dedup.journal WHERE action = 'backup' AND target = 'public.members_copy';
SELECT count(*) FROM members_copy;

-- Composite keys, identity and generated columns, and a lossless widening.
CREATE TABLE slots (room int, day date, seats int,
                    id bigint GENERATED ALWAYS AS IDENTITY,
                    label text GENERATED ALWAYS AS ('room ' || room::text) STORED,
                    PRIMARY KEY (room, day));
INSERT INTO slots (room, day, seats) VALUES (1, '2026-01-01', 10), (2, '2026-01-01', 20);
CREATE TABLE slots_old (room smallint, day date, seats smallint, id int, label text);
INSERT INTO slots_old VALUES (1, '2026-01-01', 10, 1, 'room 1'),
                             (3, '2026-01-02', 30, 77, 'room 3'),
                             (2, '2026-01-01', 25, 2, 'room 2');
SELECT status, row_data FROM dedup.missing_rows('slots_old', 'slots');
SELECT * FROM dedup.merge_rows('slots_old', 'slots');
SELECT room, day, seats, id, label FROM slots ORDER BY room;   -- id 77 kept (OVERRIDING SYSTEM VALUE), label computed

-- A key given explicitly, and a unique NOT NULL index when there is no primary key.
CREATE TABLE tags (name text NOT NULL UNIQUE, color text);
INSERT INTO tags VALUES ('red', '#f00');
CREATE TABLE tags_v2 (name text, color text);
INSERT INTO tags_v2 VALUES ('red', '#f00'), ('blue', '#00f');
SELECT * FROM dedup.merge_rows('tags_v2', 'tags');
SELECT * FROM dedup.merge_rows('tags_v2', 'tags', key => '{color}');
CREATE TABLE loose (a int, b int);
SELECT * FROM dedup.missing_rows('tags_v2', 'loose');

-- Refusals change nothing: a lossy cast, an unknown key column, the same table.
CREATE TABLE members_narrow (id int PRIMARY KEY, email varchar(5));
SELECT * FROM dedup.merge_rows('members', 'members_narrow');
SELECT * FROM dedup.merge_rows('members_full', 'members', key => '{nope}');
SELECT * FROM dedup.merge_rows('members', 'members');

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
