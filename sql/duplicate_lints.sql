-- dedup finds at least what Supabase's linter finds, on one fixture.
--
-- The lints compared against are in github.com/supabase/splinter at commit
-- 55db5b1f28e58d816f7d9136eed87eabcd95868d:
--   lints/0009_duplicate_index.sql: on tables and materialized views (not
--     extension-owned), the indexes of one table whose pg_indexes.indexdef
--     are equal once the index's own name is removed from it (text
--     replace()), grouped, flagged when a group has more than one index.
--   lints/0006_multiple_permissive_policies.sql: for each ordinary table (not
--     extension-owned), role (from pg_roles: not pg_*, not supabase*admin, not
--     BYPASSRLS) and command (FOR ALL counts as SELECT, INSERT, UPDATE and
--     DELETE), the permissive policies whose polroles contain the role or are
--     exactly {PUBLIC}, flagged when there is more than one.
-- Both are rewritten below as views over this fixture's schema (the lints'
-- own schema list is replaced by "lint"; nothing else changes).  Every group
-- a lint flags must be covered by dedup: all of its members but one are
-- reported, each against another member of the group.
CREATE ROLE regress_lint_anon;
CREATE ROLE regress_lint_authenticated;
CREATE ROLE regress_lint_service BYPASSRLS;
CREATE ROLE regress_lint_member IN ROLE regress_lint_anon, regress_lint_authenticated;
CREATE SCHEMA lint;
SET search_path = lint;

CREATE VIEW splinter_duplicate_index AS
SELECT n.nspname, c.relname, array_agg(pi.indexname::text ORDER BY pi.indexname) AS indexes
  FROM pg_catalog.pg_indexes pi
  JOIN pg_catalog.pg_namespace n ON n.nspname = pi.schemaname
  JOIN pg_catalog.pg_class c ON c.relname = pi.tablename AND c.relnamespace = n.oid
  LEFT JOIN pg_catalog.pg_depend dep ON dep.objid = c.oid AND dep.deptype = 'e'
 WHERE c.relkind IN ('r', 'm') AND n.nspname = 'lint' AND dep.objid IS NULL
 GROUP BY n.nspname, c.relkind, c.relname, replace(pi.indexdef, pi.indexname, '')
HAVING count(*) > 1;

CREATE VIEW splinter_multiple_permissive_policies AS
SELECT n.nspname, c.relname, r.rolname, act.cmd,
       array_agg(p.polname::text ORDER BY p.polname) AS policies
  FROM pg_catalog.pg_policy p
  JOIN pg_catalog.pg_class c ON p.polrelid = c.oid
  JOIN pg_catalog.pg_namespace n ON c.relnamespace = n.oid
  JOIN pg_catalog.pg_roles r ON p.polroles @> ARRAY[r.oid] OR p.polroles = ARRAY[0::oid]
  LEFT JOIN pg_catalog.pg_depend dep ON c.oid = dep.objid AND dep.deptype = 'e',
  LATERAL unnest(CASE p.polcmd WHEN 'r' THEN ARRAY['SELECT'] WHEN 'a' THEN ARRAY['INSERT']
                               WHEN 'w' THEN ARRAY['UPDATE'] WHEN 'd' THEN ARRAY['DELETE']
                               WHEN '*' THEN ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']
                               ELSE ARRAY['ERROR'] END) act(cmd)
 WHERE c.relkind = 'r' AND p.polpermissive AND n.nspname = 'lint'
   AND r.rolname NOT LIKE 'pg_%' AND r.rolname NOT LIKE 'supabase%admin'
   AND NOT r.rolbypassrls AND dep.objid IS NULL
 GROUP BY n.nspname, c.relname, r.rolname, act.cmd
HAVING count(1) > 1;

-- The fixture: a Supabase-style app schema after migrations that ran twice.
CREATE TABLE profiles (id int PRIMARY KEY, username text, updated_at timestamptz,
                       team_id int, role text);
CREATE UNIQUE INDEX profiles_id_key ON profiles (id);            -- = the primary key's
CREATE INDEX profiles_username_idx ON profiles (username);
CREATE INDEX idx_profiles_username ON profiles USING btree (username ASC);
CREATE INDEX profiles_updated_at_idx ON profiles (updated_at);
CREATE INDEX profiles_updated_at_idx1 ON profiles (updated_at);
CREATE INDEX profiles_updated_at_idx2 ON profiles (updated_at);
-- what the lint does not see: a prefix, and the same expression index
CREATE INDEX profiles_team ON profiles (team_id);
CREATE INDEX profiles_team_role ON profiles (team_id, role);
CREATE INDEX profiles_lower_username ON profiles (lower(username));
CREATE INDEX "profiles lower(username) again" ON profiles (lower(username));
-- not duplicates, though the lint's text replace() makes them look alike:
-- each index is named like its column, so removing the name removes the
-- column too ("... USING btree ()")
CREATE TABLE settings (theme text, locale text);
CREATE INDEX theme ON settings (theme);
CREATE INDEX locale ON settings (locale);
CREATE MATERIALIZED VIEW profile_counts AS SELECT team_id, count(*) AS n FROM profiles GROUP BY 1;
CREATE INDEX profile_counts_team ON profile_counts (team_id);
CREATE INDEX profile_counts_team_id_idx ON profile_counts (team_id);

CREATE TABLE posts (id int PRIMARY KEY, user_id int, published boolean);
ALTER TABLE posts ENABLE ROW LEVEL SECURITY;
CREATE POLICY "Enable read access for all users" ON posts FOR SELECT USING (published);
CREATE POLICY "Users can view own posts" ON posts FOR SELECT TO regress_lint_authenticated
  USING (user_id = 1);
CREATE POLICY "Users can update own posts" ON posts FOR UPDATE TO regress_lint_authenticated
  USING (user_id = 1);
CREATE POLICY "Admins can do anything" ON posts TO regress_lint_authenticated USING (user_id = 0);
CREATE POLICY "Users can insert their own posts" ON posts FOR INSERT
  TO regress_lint_authenticated WITH CHECK (user_id = 1);
CREATE POLICY "posts_insert_own" ON posts FOR INSERT
  TO regress_lint_authenticated WITH CHECK (user_id = 1);
CREATE POLICY "Only published" ON posts AS RESTRICTIVE FOR SELECT
  TO regress_lint_authenticated USING (published);
-- what the lint does not see: a role that bypasses RLS (the lint skips it;
-- the two policies are still one policy twice), and a role that inherits
-- two roles each with its own permissive policy.  Neither reports the
-- service role's policy beside the PUBLIC one as overlapping: no policy
-- applies to a BYPASSRLS role.
CREATE POLICY "Service role full access" ON posts TO regress_lint_service USING (true);
CREATE POLICY "service_role_all" ON posts TO regress_lint_service USING (true);
CREATE TABLE comments (id int, post_id int);
ALTER TABLE comments ENABLE ROW LEVEL SECURITY;
CREATE POLICY "Anon can read comments" ON comments FOR SELECT TO regress_lint_anon USING (true);
CREATE POLICY "Members can read comments" ON comments FOR SELECT
  TO regress_lint_authenticated USING (post_id > 0);

-- What the lints flag:
SELECT relname, indexes FROM splinter_duplicate_index ORDER BY 1, 2;
SELECT DISTINCT relname, cmd, policies FROM splinter_multiple_permissive_policies
 WHERE rolname LIKE 'regress_lint%' ORDER BY 1, 2, 3;

-- What dedup reports:
SELECT tbl, index, duplicate_of, kind, drop_sql FROM dedup.duplicate_indexes('{lint}');
SELECT tbl, policy, duplicate_of, kind, detail FROM dedup.duplicate_policies('{lint}');

-- Every index group the lint flags is covered by dedup; the one group left
-- is the lint's false positive (settings: theme and locale).
SELECT s.relname, s.indexes
  FROM splinter_duplicate_index s
 WHERE (SELECT count(DISTINCT d.index)
          FROM dedup.duplicate_indexes('{lint}') d
          JOIN pg_class i ON i.oid = d.index
          JOIN pg_class k ON k.oid = d.duplicate_of
         WHERE i.relname = ANY (s.indexes) AND k.relname = ANY (s.indexes))
       < cardinality(s.indexes) - 1;
-- Every policy group the lint flags, for any role, is covered by dedup.
SELECT DISTINCT s.relname, s.cmd, s.policies
  FROM splinter_multiple_permissive_policies s
 WHERE (SELECT count(DISTINCT d.policy)
          FROM dedup.duplicate_policies('{lint}') d
         WHERE d.tbl = format('%I.%I', s.nspname, s.relname)::regclass
           AND d.policy = ANY (s.policies) AND d.duplicate_of = ANY (s.policies))
       < cardinality(s.policies) - 1;

RESET search_path;
DROP SCHEMA lint CASCADE;
DROP ROLE regress_lint_anon, regress_lint_authenticated, regress_lint_service, regress_lint_member;
