-- merge_extension folds a 1:1 extension into its base (columns, values,
-- constraints, foreign keys, triggers, a compatibility view), never widening
-- access; merge_members runs the user's whole members consolidation.
CREATE DATABASE dedup_merge_ext;
\c dedup_merge_ext
CREATE EXTENSION dedup;
\set ECHO none
\i test/fixtures/demo.sql
\set ECHO all
SET client_min_messages = warning;
-- a table that references the extension, a view over it, a trigger on it,
-- a CHECK on one of its columns, a comment
CREATE TABLE badges (id int PRIMARY KEY, member_id bigint REFERENCES community_members (id));
INSERT INTO badges VALUES (1, 5);
CREATE VIEW mentor_bios AS SELECT id, bio FROM community_members WHERE is_mentor;
CREATE FUNCTION stamp_joined() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.joined_community_at := coalesce(NEW.joined_community_at, '2025-02-01'); RETURN NEW; END $$;
CREATE TRIGGER community_stamp BEFORE INSERT ON community_members FOR EACH ROW EXECUTE FUNCTION stamp_joined();
ALTER TABLE community_members ADD CONSTRAINT bio_not_blank CHECK (bio <> '');
COMMENT ON COLUMN community_members.bio IS 'what the member says about themselves';
RESET client_min_messages;

-- Refusals change nothing.
SELECT * FROM dedup.merge_extension('members', 'projects');
SELECT * FROM dedup.merge_extension('members', 'community_members', on_conflict => 'maybe');
INSERT INTO members (id, email, full_name) VALUES (300, 'three@example.org', 'Three');
INSERT INTO community_members (id, bio) VALUES (300, 'orphan soon');
DELETE FROM members WHERE id = 300;     -- the FK cascades: no orphan possible ...
-- ... unless the foreign key was added NOT VALID over an orphan.
ALTER TABLE community_members DROP CONSTRAINT community_members_id_fkey;
INSERT INTO community_members (id, bio) VALUES (301, 'an orphan');
ALTER TABLE community_members ADD CONSTRAINT community_members_id_fkey
  FOREIGN KEY (id) REFERENCES members (id) ON DELETE CASCADE NOT VALID;
SELECT * FROM dedup.merge_extension('members', 'community_members');
DELETE FROM community_members WHERE id = 301;
ALTER TABLE community_members VALIDATE CONSTRAINT community_members_id_fkey;

-- A shared column that disagrees: an error listing it, unless told which wins.
ALTER TABLE community_members ADD COLUMN full_name text;
UPDATE community_members SET full_name = 'Member ' || id;
UPDATE community_members SET full_name = 'Someone Else' WHERE id = 7;
UPDATE community_members SET full_name = NULL WHERE id = 8;
SELECT * FROM dedup.merge_extension('members', 'community_members');
SELECT count(*) AS journal_rows FROM dedup.journal;

-- Who can see what, before.
SELECT has_table_privilege('anon', 'members', 'SELECT') AS anon_members,
       has_table_privilege('service_role', 'members', 'SELECT') AS service_members,
       has_table_privilege('authenticated', 'community_members', 'SELECT') AS auth_community;
SET ROLE service_role;
SELECT count(*) AS service_sees_community FROM community_members;   -- RLS: no policy for it
RESET ROLE;

-- A table's ACL the same on PostgreSQL 15 and 17: each grantee's privileges
-- as ALL, or ALL less those it lacks (17 adds MAINTAIN, m, to ALL; a lost
-- MAINTAIN shows as a missing m).
CREATE FUNCTION pg_temp.acl(a aclitem[]) RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(regexp_replace(i::text, '=\w*/', '=ALL' || coalesce('-' || nullif(translate(
           substring((acldefault('r', 10))[1]::text from '=(\w*)/'), substring(i::text from '=(\w*)/'), ''), ''), '') || '/'),
         ',' ORDER BY n)
    FROM unnest(a) WITH ORDINALITY AS u(i, n) $$;

-- A catalog diff: everything of members survives its rebuild (the merge
-- builds a new table and swaps it in), the new columns aside.
CREATE FUNCTION pg_temp.snap(rel regclass) RETURNS text LANGUAGE sql AS $$
SELECT concat_ws(E'\n',
  (SELECT string_agg(format('col %s %s notnull=%s identity=%s default=%s acl=%s comment=%s',
          a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity,
          pg_get_expr(d.adbin, d.adrelid), a.attacl, col_description(a.attrelid, a.attnum)), E'\n' ORDER BY a.attnum)
     FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped
      AND a.attname NOT IN ('bio', 'skills', 'joined_community_at', 'is_mentor')),
  (SELECT string_agg(format('con %s %s', conname, pg_get_constraintdef(oid)), E'\n' ORDER BY conname)
     FROM pg_constraint WHERE conrelid = rel AND conname <> 'bio_not_blank'),
  (SELECT string_agg(format('idx %s', pg_get_indexdef(indexrelid)), E'\n' ORDER BY 1)
     FROM pg_index WHERE indrelid = rel),
  (SELECT string_agg(format('trg %s %s', tgenabled, pg_get_triggerdef(oid)), E'\n' ORDER BY tgname)
     FROM pg_trigger WHERE tgrelid = rel AND NOT tgisinternal AND tgname <> 'community_stamp'),
  (SELECT string_agg(format('pol %s %s %s %s %s', polname, polcmd, polroles::regrole[],
          pg_get_expr(polqual, polrelid), pg_get_expr(polwithcheck, polrelid)), E'\n' ORDER BY polname)
     FROM pg_policy WHERE polrelid = rel),
  (SELECT format('rel owner=%s rls=%s force=%s replident=%s comment=%s', relowner::regrole,
                 relrowsecurity, relforcerowsecurity, relreplident, obj_description(oid, 'pg_class'))
     FROM pg_class WHERE oid = rel),
  (SELECT string_agg(format('fk in %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid)), E'\n' ORDER BY 1)
     FROM pg_constraint WHERE confrelid = rel AND conparentid = 0 AND conrelid <> 'badges'::regclass),
  (SELECT format('seq %s last=%s', s, pg_sequence_last_value(s))
     FROM pg_get_serial_sequence(rel::text, 'id') AS s),
  (SELECT string_agg(format('view %s %s', c.oid::regclass, pg_get_viewdef(c.oid)), E'\n' ORDER BY 1)
     FROM pg_class c WHERE c.relkind = 'v' AND c.relnamespace = 'public'::regnamespace
      AND c.relname IN ('active_mentors')))
$$;
CREATE TEMP TABLE members_before AS
SELECT pg_temp.snap('members') AS s, (SELECT relacl FROM pg_class WHERE oid = 'members'::regclass) AS acl,
       (SELECT count(*) FROM members) AS rows;

-- take_extension: the extension's value wins where both have one.
SELECT * FROM dedup.merge_extension('members', 'community_members', on_conflict => 'take_extension');
-- The only differences: service_role's privileges moved to the old columns
-- (it could read no extension row), and the extension's own foreign key,
-- gone with the extension.
SELECT x AS before_only FROM members_before, unnest(string_to_array(s, E'\n')) x
EXCEPT SELECT unnest(string_to_array(pg_temp.snap('members'), E'\n'));
SELECT x AS after_only FROM unnest(string_to_array(pg_temp.snap('members'), E'\n')) x
EXCEPT SELECT unnest(string_to_array(s, E'\n')) FROM members_before;
-- the table-level grants are the same, except service_role's, which became
-- column grants on the old columns (it could not read the extension's rows)
SELECT pg_temp.acl(b.acl) AS before, pg_temp.acl(c.relacl) AS after, b.rows = (SELECT count(*) FROM members) AS same_rows
  FROM members_before b, pg_class c WHERE c.oid = 'members'::regclass;
SELECT id, full_name, bio, skills, is_mentor FROM members WHERE id IN (3, 7, 8) ORDER BY id;
-- columns, defaults, NOT NULL, CHECK and comment came with the values
SELECT attname, format_type(atttypid, atttypmod), attnotnull, pg_get_expr(adbin, adrelid) AS default,
       col_description(attrelid, attnum) AS comment
  FROM pg_attribute LEFT JOIN pg_attrdef ON adrelid = attrelid AND adnum = attnum
 WHERE attrelid = 'members'::regclass AND attnum > 5 ORDER BY attnum;
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'members'::regclass ORDER BY 1;
-- the foreign key that pointed at the extension points at the base
SELECT conname, confrelid::regclass FROM pg_constraint WHERE conrelid = 'badges'::regclass AND contype = 'f';
-- the trigger came along
SELECT tgname FROM pg_trigger WHERE tgrelid = 'members'::regclass AND NOT tgisinternal ORDER BY 1;
-- the extension's name is a security_invoker view with its old columns
SELECT relkind, reloptions FROM pg_class WHERE oid = 'community_members'::regclass;
SELECT attname FROM pg_attribute WHERE attrelid = 'community_members'::regclass AND attnum > 0 ORDER BY attnum;
SELECT count(*) AS mentor_bios FROM mentor_bios;     -- the view over it is back

-- No one gains access: service_role read no extension row before, so it
-- keeps members' old columns only; authenticated had the same policy on both.
SELECT grantee, privilege_type, count(*) AS columns
  FROM information_schema.column_privileges
 WHERE table_name = 'members' AND grantee IN ('anon', 'authenticated', 'service_role')
   AND column_name IN ('bio', 'email') GROUP BY 1, 2 ORDER BY 1, 2;
SET ROLE service_role;
SELECT count(*) FROM members;            -- its old columns, as before
SELECT bio FROM members LIMIT 1;         -- not the extension's
RESET ROLE;
SET ROLE authenticated;
SELECT count(*) FROM members WHERE bio IS NOT NULL;
SELECT bio FROM community_members WHERE id = 1;
RESET ROLE;

-- Old clients keep reading and writing through the view.
UPDATE community_members SET bio = 'edited' WHERE id = 1;
INSERT INTO community_members (id, bio) VALUES (2, 'written anew');
DELETE FROM community_members WHERE id = 4;
SELECT id, bio, skills, is_mentor FROM members WHERE id IN (1, 2, 4) ORDER BY id;
INSERT INTO community_members (id, bio) VALUES (9999, 'nobody');
SELECT action, target, detail->'columns_added' AS added, detail->'fks_repointed' AS fks
  FROM dedup.journal WHERE action = 'merge';

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

-- merge_members: the user's whole workflow on a fresh demo database.
\c contrib_regression
SET client_min_messages = warning;
DROP DATABASE dedup_merge_ext;
CREATE DATABASE dedup_merge_members;
\c dedup_merge_members
CREATE EXTENSION dedup;
\set ECHO none
\i test/fixtures/demo.sql
\set ECHO all
CREATE FUNCTION pg_temp.undated(t text) RETURNS text LANGUAGE sql
  AS $$ SELECT regexp_replace(t, '_[0-9]{8}', '_<date>', 'g') $$;
SELECT step, action, target, pg_temp.undated(detail) AS detail FROM dedup.merge_members();
SELECT count(*) AS members, count(bio) AS bios, count(*) FILTER (WHERE is_mentor) AS mentors FROM members;
SELECT to_regclass('members_full') AS members_full, to_regclass('members_full_orphans') AS orphans,
       (SELECT relkind FROM pg_class WHERE oid = 'community_members'::regclass) AS community_members;
-- No value was lost: every row and value of the tables it merged, as kept
-- in their backups, is in members.
SELECT detail->>'backup' AS community_bak FROM dedup.journal
 WHERE action = 'backup' AND target = 'public.community_members' \gset
SELECT detail->>'backup' AS full_bak FROM dedup.journal
 WHERE action = 'backup' AND target = 'public.members_full' \gset
SELECT count(*) AS community_values_lost FROM :community_bak c
  LEFT JOIN members m USING (id)
 WHERE m.id IS NULL OR (c.bio, c.skills, c.joined_community_at, c.is_mentor)
                       IS DISTINCT FROM (m.bio, m.skills, m.joined_community_at, m.is_mentor);
SELECT count(*) AS full_values_lost FROM :full_bak f
  LEFT JOIN members m USING (id)
 WHERE m.id IS NULL OR (f.email, f.full_name, f.created_at, f.bio)
                       IS DISTINCT FROM (m.email, m.full_name, m.created_at, m.bio);
SELECT pg_temp.undated(target) AS target, action FROM dedup.journal ORDER BY id;
-- Names the caller's search_path finds, or an error naming what is missing.
SELECT * FROM dedup.merge_members('no_such_table');

\c contrib_regression
SET client_min_messages = warning;
DROP DATABASE dedup_merge_members;
