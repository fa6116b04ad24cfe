-- merge_extension folds a 1:1 extension into its base and leaves the
-- application working: the base keeps its OID, identity, grants, policies,
-- triggers, views and foreign keys; the extension's constraints and indexes
-- come over (or the merge refuses, naming them); foreign keys into it point
-- at the base; its name is a view that answers as the table did, for reads
-- and writes (upsert, an INSERT for an existing key, DELETE); every role can
-- do through both names exactly what it could; one undo puts it all back.
CREATE DATABASE dedup_merge_ext;
\c dedup_merge_ext
CREATE EXTENSION dedup;
\set ECHO none
\i test/fixtures/demo.sql
\set ECHO all
SET client_min_messages = warning;
-- a table that references the extension (ON DELETE SET NULL of one column),
-- a view over it, a CHECK, a unique column, an index and a comment on it
ALTER TABLE community_members ADD COLUMN handle text UNIQUE;
UPDATE community_members SET handle = 'm' || id WHERE id <= 10;
CREATE TABLE badges (id int PRIMARY KEY, member_id bigint, holder_note text,
  FOREIGN KEY (member_id) REFERENCES community_members (id) ON DELETE SET NULL (member_id));
INSERT INTO badges VALUES (1, 5, 'five');
CREATE VIEW mentor_bios AS SELECT id, bio FROM community_members WHERE is_mentor;
ALTER TABLE community_members ADD CONSTRAINT bio_not_blank CHECK (bio <> '');
CREATE INDEX community_mentors ON community_members (is_mentor) WHERE is_mentor;
COMMENT ON COLUMN community_members.bio IS 'what the member says about themselves';
-- a plain member of authenticated, as a Supabase user session is
CREATE ROLE member_user LOGIN IN ROLE authenticated;
RESET client_min_messages;

-- What every role can do, through both names: SELECT *, chosen columns,
-- INSERT, UPDATE, DELETE and an upsert, each rolled back.
\set ECHO none
\i test/fixtures/try.sql
\set ECHO all
CREATE FUNCTION pg_temp.matrix() RETURNS TABLE (r name, stmt text, result text) LANGUAGE sql AS $$
SELECT r, s, pg_temp.try(r, s)
  FROM unnest(ARRAY['anon', 'authenticated', 'service_role', 'member_user', 'postgres']::name[]) r,
       unnest(ARRAY[
         'SELECT * FROM members',
         'SELECT id, email FROM members',
         'SELECT * FROM community_members',
         'SELECT id, bio FROM community_members WHERE is_mentor',
         'SELECT * FROM mentor_bios',
         'UPDATE community_members SET bio = ''x'' WHERE id = 1',
         'DELETE FROM community_members WHERE id = 2',
         'INSERT INTO members (email, full_name) VALUES (''new@example.org'', ''New'')',
         'INSERT INTO community_members (id, bio) VALUES (1, ''dup'')',
         'INSERT INTO community_members (id, bio) VALUES (1, ''upsert'') ON CONFLICT (id) DO UPDATE SET bio = EXCLUDED.bio',
         'UPDATE members SET full_name = ''y'' WHERE id = 3']) s
$$;
CREATE TEMP TABLE access_before AS SELECT * FROM pg_temp.matrix();

-- A catalog snapshot of members: everything but the columns the merge adds.
CREATE FUNCTION pg_temp.snap(rel regclass) RETURNS text LANGUAGE sql AS $$
SELECT concat_ws(E'\n',
  (SELECT string_agg(format('col %s %s notnull=%s identity=%s default=%s acl=%s comment=%s',
          a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity,
          pg_get_expr(d.adbin, d.adrelid), a.attacl, col_description(a.attrelid, a.attnum)), E'\n' ORDER BY a.attnum)
     FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped
      AND a.attname NOT IN ('bio', 'skills', 'joined_community_at', 'is_mentor', 'handle')),
  (SELECT string_agg(format('con %s %s', conname, pg_get_constraintdef(oid)), E'\n' ORDER BY conname)
     FROM pg_constraint WHERE conrelid = rel AND conname NOT LIKE 'community%' AND conname <> 'bio_not_blank'),
  (SELECT string_agg(format('idx %s', pg_get_indexdef(indexrelid)), E'\n' ORDER BY 1)
     FROM pg_index WHERE indrelid = rel AND pg_get_indexdef(indexrelid) !~ '(is_mentor|handle)'),
  (SELECT string_agg(format('trg %s %s', tgenabled, pg_get_triggerdef(oid)), E'\n' ORDER BY tgname)
     FROM pg_trigger WHERE tgrelid = rel AND NOT tgisinternal AND tgname NOT LIKE '%dedup_compat'),
  (SELECT string_agg(format('pol %s %s %s %s %s', polname, polcmd, polroles::regrole[],
          pg_get_expr(polqual, polrelid), pg_get_expr(polwithcheck, polrelid)), E'\n' ORDER BY polname)
     FROM pg_policy WHERE polrelid = rel),
  (SELECT format('rel oid=%s owner=%s acl=%s rls=%s force=%s replident=%s comment=%s', oid, relowner::regrole,
                 relacl, relrowsecurity, relforcerowsecurity, relreplident, obj_description(oid, 'pg_class'))
     FROM pg_class WHERE oid = rel),
  (SELECT string_agg(format('fk in %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid)), E'\n' ORDER BY 1)
     FROM pg_constraint WHERE confrelid = rel AND conparentid = 0 AND conrelid NOT IN
       (SELECT oid FROM pg_class WHERE relname IN ('badges', 'community_members'))),
  (SELECT format('seq %s last=%s', s, pg_sequence_last_value(s))
     FROM pg_get_serial_sequence(rel::text, 'id') AS s))
$$;
CREATE TEMP TABLE members_before AS
SELECT pg_temp.snap('members') AS s, (SELECT count(*) FROM members) AS rows,
       (SELECT count(*) FROM community_members) AS community_rows;

-- Refusals change nothing. -------------------------------------------------
SELECT * FROM dedup.merge_extension('members', 'projects');
SELECT * FROM dedup.merge_extension('members', 'community_members', on_conflict => 'maybe');
SELECT * FROM dedup.merge_extension('members', NULL);
-- An orphan under a NOT VALID foreign key has nowhere to go.
ALTER TABLE community_members DROP CONSTRAINT community_members_id_fkey;
INSERT INTO community_members (id, bio) VALUES (301, 'an orphan');
ALTER TABLE community_members ADD CONSTRAINT community_members_id_fkey
  FOREIGN KEY (id) REFERENCES members (id) ON DELETE CASCADE NOT VALID;
SELECT * FROM dedup.merge_extension('members', 'community_members');
DELETE FROM community_members WHERE id = 301;
ALTER TABLE community_members VALIDATE CONSTRAINT community_members_id_fkey;
-- A trigger of the extension would fire for every base row: refused, named.
CREATE FUNCTION stamp_joined() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.joined_community_at := coalesce(NEW.joined_community_at, '2025-02-01'); RETURN NEW; END $$;
CREATE TRIGGER community_stamp BEFORE INSERT ON community_members FOR EACH ROW EXECUTE FUNCTION stamp_joined();
SELECT * FROM dedup.merge_extension('members', 'community_members');
DROP TRIGGER community_stamp ON community_members;
-- Without the compatibility view, the view over the extension would be lost.
SELECT * FROM dedup.merge_extension('members', 'community_members', compat_view => false);
-- A shared column that disagrees: an error listing it, unless told which wins.
ALTER TABLE community_members ADD COLUMN full_name text;
UPDATE community_members SET full_name = 'Member ' || id;
UPDATE community_members SET full_name = 'Someone Else' WHERE id = 7;
UPDATE community_members SET full_name = NULL WHERE id = 8;
SELECT * FROM dedup.merge_extension('members', 'community_members');
-- A CHECK of the extension must also hold for members without a community
-- row (its columns are NULL there): proven before the swap, or refused.
ALTER TABLE community_members ADD CONSTRAINT mentor_known CHECK (is_mentor IS NOT NULL);
INSERT INTO members (id, email, full_name) VALUES (500, 'lonely@example.org', 'No community row');
SELECT * FROM dedup.merge_extension('members', 'community_members', on_conflict => 'keep_base');
DELETE FROM members WHERE id = 500;
ALTER TABLE community_members DROP CONSTRAINT mentor_known;
-- A role would read through members what it could not read before: refused,
-- role by role, unless exactly that outcome is accepted.
REVOKE SELECT ON community_members FROM authenticated;
SELECT * FROM dedup.merge_extension('members', 'community_members', on_conflict => 'keep_base');
GRANT SELECT ON community_members TO authenticated;
SELECT count(*) AS journal_rows FROM dedup.journal;
SELECT pg_temp.snap('members') = s AS members_unchanged FROM members_before;

-- The merge. ----------------------------------------------------------------
SET dedup.backup_suffix = 'before_merge';
SELECT * FROM dedup.merge_extension('members', 'community_members', on_conflict => 'keep_base');
RESET dedup.backup_suffix;
-- members is the same table: same OID, grants, policies, trigger, identity,
-- foreign keys; only the extension's columns and what came with them are new.
SELECT x AS before_only FROM members_before, unnest(string_to_array(s, E'\n')) x
EXCEPT SELECT unnest(string_to_array(pg_temp.snap('members'), E'\n'));
SELECT x AS after_only FROM unnest(string_to_array(pg_temp.snap('members'), E'\n')) x
EXCEPT SELECT unnest(string_to_array(s, E'\n')) FROM members_before;
SELECT id, full_name, bio, skills, is_mentor, handle FROM members WHERE id IN (3, 7, 8) ORDER BY id;
SELECT attname, format_type(atttypid, atttypmod), attnotnull, pg_get_expr(adbin, adrelid) AS default,
       col_description(attrelid, attnum) AS comment
  FROM pg_attribute LEFT JOIN pg_attrdef ON adrelid = attrelid AND adnum = attnum
 WHERE attrelid = 'members'::regclass AND attnum > 5 AND NOT attisdropped ORDER BY attnum;
-- (CHECKs and foreign keys that held are valid: proven before the swap)
SELECT conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint
 WHERE conrelid = 'members'::regclass AND contype IN ('c', 'u') ORDER BY 1;
SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = 'members'::regclass ORDER BY 1;
-- The foreign key that pointed at the extension points at members, its
-- ON DELETE SET NULL (member_id) kept.
SELECT conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint WHERE conrelid = 'badges'::regclass AND contype = 'f';
-- The identity goes on where it was: the application's next insert works.
INSERT INTO members (email, full_name) VALUES ('next@example.org', 'Next') RETURNING id, bio, is_mentor;
DELETE FROM members WHERE email = 'next@example.org';

-- The old name answers as the table did. ------------------------------------
SELECT relkind, reloptions FROM pg_class WHERE oid = 'community_members'::regclass;
SELECT (SELECT count(*) FROM community_members) = community_rows AS same_count FROM members_before;
SELECT count(*) AS mentor_bios FROM mentor_bios;

-- Every role can do what it could, through both names. ----------------------
SELECT a.r, a.stmt, b.result AS before, a.result AS after
  FROM pg_temp.matrix() a JOIN access_before b USING (r, stmt)
 WHERE a.result IS DISTINCT FROM b.result ORDER BY 1, 2;
SELECT action, target, detail->'columns_added' AS added, detail->'foreign_keys_repointed' AS fks
  FROM dedup.journal WHERE action = 'merge_extension';

-- One undo puts everything back. ---------------------------------------------
SELECT dedup.undo(id) FROM dedup.journal WHERE action = 'merge_extension';
-- members as before; its identity stays ahead of the values drawn since
SELECT x AS before_only FROM members_before, unnest(string_to_array(s, E'\n')) x
EXCEPT SELECT unnest(string_to_array(pg_temp.snap('members'), E'\n'));
SELECT x AS after_only FROM unnest(string_to_array(pg_temp.snap('members'), E'\n')) x
EXCEPT SELECT unnest(string_to_array(s, E'\n')) FROM members_before;
SELECT (SELECT count(*) FROM members) = rows AS same_rows FROM members_before;
SELECT relkind, (SELECT count(*) FROM community_members) AS rows FROM pg_class WHERE oid = 'community_members'::regclass;
SELECT id, full_name, bio, is_mentor, handle FROM community_members WHERE id IN (4, 7) ORDER BY id;
SELECT conname, confrelid::regclass FROM pg_constraint WHERE conrelid = 'badges'::regclass AND contype = 'f';
SELECT a.r, a.stmt, b.result AS before, a.result AS after
  FROM pg_temp.matrix() a JOIN access_before b USING (r, stmt)
 WHERE a.result IS DISTINCT FROM b.result ORDER BY 1, 2;

-- Merged again: writes through the old name mean what they meant. ---------
SELECT columns_added FROM dedup.merge_extension('members', 'community_members', on_conflict => 'keep_base');
-- DELETE takes the community row away, and leaves the member
DELETE FROM community_members WHERE id = 4;
SELECT id, bio, is_mentor FROM members WHERE id = 4;
SELECT count(*) AS community_rows FROM community_members;
-- an INSERT for a member with no community row adds it; for one that has
-- one, it is a duplicate key, as before; an upsert updates it
INSERT INTO community_members (id, bio) VALUES (4, 'back again');
SELECT id, bio, skills, is_mentor FROM community_members WHERE id = 4;
INSERT INTO community_members (id, bio) VALUES (4, 'twice');
INSERT INTO community_members (id, bio) VALUES (4, 'upserted') ON CONFLICT (id) DO UPDATE SET bio = EXCLUDED.bio;
UPDATE community_members SET is_mentor = true WHERE id = 4;
SELECT id, full_name, bio, is_mentor FROM members WHERE id = 4;
-- no row in the base: nothing to extend
INSERT INTO community_members (id, bio) VALUES (9999, 'nobody');
-- the rows changed since: the undo refuses rather than lose that
SELECT dedup.undo(max(id)) FROM dedup.journal WHERE action = 'merge_extension';

-- Writers through the old name need no more than they can do. ------------
-- An INSERT through the old name sets the extension's values on the base
-- row as the writer (never as anyone else: that would change a base row
-- its privileges or policies keep it from changing), reading only the key
-- and those columns, or the NOT NULL columns it leaves empty.  ws_member
-- may read the base's key and email but not its name: it keeps inserting
-- through the old name.  ws_writer could INSERT into the extension but
-- cannot read or update the base: it would lose that, so the merge refuses,
-- naming it, unless exactly that outcome is accepted.
CREATE TABLE ws_people (id int PRIMARY KEY, email text NOT NULL, name text);
CREATE TABLE ws_profile (id int PRIMARY KEY REFERENCES ws_people, bio text);
INSERT INTO ws_people VALUES (1, 'a@example.org', 'A'), (2, 'b@example.org', 'B'), (3, 'c@example.org', 'C');
INSERT INTO ws_profile VALUES (1, 'first');
SET client_min_messages = warning;
CREATE ROLE ws_member;
CREATE ROLE ws_writer;
RESET client_min_messages;
GRANT SELECT (id, email), INSERT ON ws_people TO ws_member;
GRANT SELECT, INSERT, UPDATE ON ws_profile TO ws_member;
GRANT INSERT ON ws_people, ws_profile TO ws_writer;
CREATE FUNCTION pg_temp.ws_writes() RETURNS TABLE (r name, stmt text, result text) LANGUAGE sql AS $$
SELECT r, s, pg_temp.try(r, s)
  FROM unnest(ARRAY['ws_member', 'ws_writer']::name[]) r,
       unnest(ARRAY['INSERT INTO ws_profile (id, bio) VALUES (2, ''second'')',
                    'INSERT INTO ws_profile (id, bio) VALUES (1, ''again'') ON CONFLICT DO NOTHING']) s
$$;
SELECT * FROM pg_temp.ws_writes() ORDER BY 1, 2;
SELECT * FROM dedup.merge_extension('ws_people', 'ws_profile', backup => false);
BEGIN;
SET LOCAL dedup.accept_access_change = 'f8426005';
SELECT columns_added, rows_merged FROM dedup.merge_extension('ws_people', 'ws_profile', backup => false);
COMMIT;
SELECT * FROM pg_temp.ws_writes() ORDER BY 1, 2;
SET ROLE ws_member;
INSERT INTO ws_profile (id, bio) VALUES (3, 'third');
RESET ROLE;
SELECT id, email, name, bio FROM ws_people ORDER BY id;
-- A row whose values the base's policies do not let the writer update: the
-- INSERT is an error, not a silent no-op.
ALTER TABLE ws_people ENABLE ROW LEVEL SECURITY;
CREATE POLICY ws_read ON ws_people FOR SELECT USING (true);
CREATE POLICY ws_update ON ws_people FOR UPDATE USING (id <> 2);
SET ROLE ws_member;
INSERT INTO ws_profile (id, bio) VALUES (2, 'not mine');
RESET ROLE;
SELECT id, bio FROM ws_people WHERE id = 2;

-- Hostile names: bars and quotes in table, column, constraint and index
-- names, and CHECKs that use ||.
CREATE TABLE "Ba|se" ("I|d" int PRIMARY KEY, "N""ame" text CONSTRAINT "n|""n" CHECK ("N""ame" || 'x' <> 'x'));
CREATE INDEX "idx|""q" ON "Ba|se" ("N""ame");
CREATE TABLE "Ba|se_ext" ("I|d" int PRIMARY KEY REFERENCES "Ba|se",
                          "No|te" text CONSTRAINT "c|c" CHECK ("No|te" || '' <> 'bad'));
INSERT INTO "Ba|se" VALUES (1, 'one'), (2, 'two');
INSERT INTO "Ba|se_ext" VALUES (1, 'first');
SELECT * FROM dedup.merge_extension('"Ba|se"', '"Ba|se_ext"', backup => false);
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = '"Ba|se"'::regclass ORDER BY 1;
SELECT indexrelid::regclass FROM pg_index WHERE indrelid = '"Ba|se"'::regclass ORDER BY 1;
SELECT * FROM "Ba|se" ORDER BY 1;
SELECT * FROM "Ba|se_ext" ORDER BY 1;
-- without backups there is no undo
SELECT dedup.undo(max(id)) FROM dedup.journal WHERE action = 'merge_extension';

\c contrib_regression
SET client_min_messages = warning;
DROP DATABASE dedup_merge_ext;
DROP ROLE member_user, ws_member, ws_writer;
