-- The user's whole consolidation on the demo database, and the check
-- afterwards: merge_members() merges the extension first (so bio has a home
-- in members), then the look-alikes, as one action with one undo; no value
-- is lost; the application's roles do what they could, through both names;
-- a second run finds nothing to do; one undo puts everything back.
CREATE DATABASE dedup_merge_members;
\c dedup_merge_members
CREATE EXTENSION dedup;
\set ECHO none
\i test/fixtures/demo.sql
\set ECHO all
\set ECHO none
\i test/fixtures/try.sql
\set ECHO all
CREATE FUNCTION pg_temp.matrix() RETURNS TABLE (r name, stmt text, result text) LANGUAGE sql AS $$
SELECT r, s, pg_temp.try(r, s)
  FROM unnest(ARRAY['anon', 'authenticated', 'service_role']::name[]) r,
       unnest(ARRAY[
         'SELECT * FROM members',
         'SELECT * FROM community_members',
         'INSERT INTO members (email, full_name) VALUES (''new@example.org'', ''New'')',
         'INSERT INTO community_members (id, bio) VALUES (1, ''x'') ON CONFLICT (id) DO UPDATE SET bio = EXCLUDED.bio',
         'UPDATE community_members SET is_mentor = true WHERE id = 9',
         'DELETE FROM community_members WHERE id = 9']) s
$$;
CREATE TEMP TABLE access_before AS SELECT * FROM pg_temp.matrix();
CREATE TEMP TABLE values_before AS
SELECT m.*, c.bio, c.skills, c.joined_community_at, c.is_mentor
  FROM members m LEFT JOIN community_members c USING (id);

-- The consolidation, with backups named for the day of the migration.
SET dedup.backup_suffix = '20260118';
SELECT step, action, target, detail FROM dedup.merge_members();
RESET dedup.backup_suffix;
SELECT id, action, target, parent FROM dedup.journal ORDER BY id;

-- The check afterwards: every row and value is where it was ...
SELECT count(*) AS members, count(bio) AS bios, count(*) FILTER (WHERE is_mentor) AS mentors FROM members;
SELECT count(*) AS values_lost FROM values_before b LEFT JOIN members m USING (id)
 WHERE m.id IS NULL OR NOT record_image_eq(
         ROW(b.email, b.full_name, b.created_at, b.bio, b.skills, b.joined_community_at, b.is_mentor),
         ROW(m.email, m.full_name, m.created_at, m.bio, m.skills, m.joined_community_at, m.is_mentor));
SELECT to_regclass('members_full') AS members_full, to_regclass('members_full_orphans') AS orphans,
       (SELECT relkind FROM pg_class WHERE oid = 'community_members'::regclass) AS community_members,
       to_regclass('members_full_backup_20260118') IS NOT NULL AS full_backup_kept;
-- ... the next signup works ...
INSERT INTO members (email, full_name) VALUES ('signup@example.org', 'Signup') RETURNING id;
DELETE FROM members WHERE email = 'signup@example.org';
-- ... and every role does through both names what it could.
SELECT a.r, a.stmt, b.result AS before, a.result AS after
  FROM pg_temp.matrix() a JOIN access_before b USING (r, stmt)
 WHERE a.result IS DISTINCT FROM b.result ORDER BY 1, 2;

-- Run again: nothing to do, nothing changed.
SELECT count(*) AS journal_rows FROM dedup.journal \gset
SELECT step, action, target, detail FROM dedup.merge_members();
SELECT count(*) = :journal_rows AS no_new_entry FROM dedup.journal;

-- One undo reverses the whole consolidation.
SELECT dedup.undo(id) FROM dedup.journal WHERE action = 'merge_members';
SELECT count(*) AS values_differ FROM values_before b FULL JOIN
  (SELECT m.*, c.bio, c.skills, c.joined_community_at, c.is_mentor
     FROM members m LEFT JOIN community_members c USING (id)) a USING (id)
 WHERE a.id IS NULL OR b.id IS NULL OR NOT record_image_eq(
         ROW(b.email, b.full_name, b.created_at, b.bio, b.skills, b.joined_community_at, b.is_mentor),
         ROW(a.email, a.full_name, a.created_at, a.bio, a.skills, a.joined_community_at, a.is_mentor));
SELECT relkind, (SELECT count(*) FROM members_full) AS full_rows, to_regclass('members_full_orphans') AS orphans,
       to_regclass('members_full_backup_20260118') AS full_backup
  FROM pg_class WHERE oid = 'community_members'::regclass;
SELECT a.r, a.stmt, b.result AS before, a.result AS after
  FROM pg_temp.matrix() a JOIN access_before b USING (r, stmt)
 WHERE a.result IS DISTINCT FROM b.result ORDER BY 1, 2;

-- A look-alike that needs nothing of the extension (all its columns are
-- members') is merged before it: readers of members never wait for it.  The
-- extension's rebuild keeps each row's stamp, so one undo still finds the
-- rows the look-alike gave.
CREATE TABLE members_v2 (LIKE members);
INSERT INTO members_v2 SELECT * FROM members WHERE id <= 3;
INSERT INTO members_v2 (id, email, full_name, created_at)
VALUES (900, 'v2@example.org', 'Only in v2', '2025-06-01');
SELECT step, action, target FROM dedup.merge_members(look_alikes => ARRAY['members_v2', 'members_full']);
SELECT id, full_name, bio FROM members WHERE id = 900;
SELECT dedup.undo(max(id)) FROM dedup.journal WHERE action = 'merge_members';
SELECT count(*) AS v2_rows, (SELECT count(*) FROM members WHERE id = 900) AS in_members,
       (SELECT relkind FROM pg_class WHERE oid = 'community_members'::regclass) AS community
  FROM members_v2;
DROP TABLE members_v2;
-- Rows merged by an earlier action are still found after a later merge_extension:
-- undone in turn, each puts back what it did.
CREATE TABLE members_v3 (LIKE members);
INSERT INTO members_v3 (id, email, full_name, created_at) VALUES (901, 'v3@example.org', 'Only in v3', '2025-06-02');
SELECT * FROM dedup.merge_rows('members_v3', 'members');
SELECT columns_added FROM dedup.merge_extension('members', 'community_members');
SELECT dedup.undo(max(id)) FROM dedup.journal WHERE action = 'merge_extension';
SELECT dedup.undo(max(id)) FROM dedup.journal WHERE action = 'merge_rows';
SELECT count(*) AS members_901 FROM members WHERE id = 901;
DROP TABLE members_v3;

-- Backups are never merged or dropped as look-alikes.
SELECT dedup.backup_table('members', 'members_backup_20260118');
SELECT step, action, target FROM dedup.merge_members(look_alikes => ARRAY['members_backup_20260118']);
-- Names the caller's search_path finds, or an error naming what is missing.
SELECT * FROM dedup.merge_members('no_such_table');

\c contrib_regression
SET client_min_messages = warning;
DROP DATABASE dedup_merge_members;
