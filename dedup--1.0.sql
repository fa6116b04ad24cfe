/* dedup--1.0.sql: find duplicate tables and consolidate them safely */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION dedup" to load this file. \quit

-- Every function is SECURITY INVOKER (the default) and pins search_path, so
-- PostgreSQL's own permission checks apply to the caller and nothing planted
-- in another schema or in pg_temp can change what runs.
--
-- The schema is not usable by PUBLIC: grant USAGE on schema dedup to the
-- roles that should run it.  Read-only functions keep EXECUTE for PUBLIC;
-- functions that change data or schema revoke it.
REVOKE ALL ON SCHEMA dedup FROM PUBLIC;

-- Discovery (read-only) ---------------------------------------------------

CREATE FUNCTION dedup.inventory(schemas name[] DEFAULT NULL)
RETURNS TABLE (
    tbl regclass,
    schema_name name,
    table_name name,
    kind text,
    is_empty boolean,
    est_rows bigint,
    total_bytes bigint,
    n_columns int,
    primary_key name[],
    referenced_by regclass[],
    dependent_views regclass[],
    rls_enabled boolean,
    n_policies int,
    n_triggers int)
AS 'MODULE_PATHNAME', 'dedup_inventory'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION dedup.inventory(name[]) IS
'every table of the given schemas (NULL: all user schemas) with exact emptiness, keys, dependents, RLS';

CREATE FUNCTION dedup.duplicate_groups(schemas name[] DEFAULT NULL)
RETURNS TABLE (
    group_id int,
    keeper regclass,
    tbl regclass,
    role text,
    is_empty boolean,
    row_count bigint,
    similarity real,
    evidence text[],
    verdict text,
    strength text)
AS 'MODULE_PATHNAME', 'dedup_duplicate_groups'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION dedup.duplicate_groups(name[]) IS
'groups of duplicate tables with keeper, role, exact row counts, evidence and verdict';

CREATE FUNCTION dedup.find_empty_duplicates(schemas name[] DEFAULT NULL)
RETURNS TABLE (
    group_id int,
    keeper regclass,
    keeper_rows bigint,
    duplicate regclass,
    safe_to_drop boolean,
    blockers text[],
    drop_order int,
    strength text,
    verdict text)
AS 'MODULE_PATHNAME', 'dedup_find_empty_duplicates'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION dedup.find_empty_duplicates(name[]) IS
'empty duplicates, whether each can be dropped, what blocks it, and a safe drop order';

-- Journal ------------------------------------------------------------------

-- Every change dedup makes is journaled in the same transaction as the change.
-- Only dedup writes it: its functions insert rows from C under the identity
-- of the journal's owner (the superuser who created the extension), and no
-- role is granted INSERT, UPDATE or DELETE.  undo() replays what the journal
-- holds, so nothing another role could have written is ever replayed.
-- Grant SELECT to the roles that should read it.
CREATE TABLE dedup.journal (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    actor name NOT NULL,
    action text NOT NULL,
    target text NOT NULL,
    parent bigint,
    undoes bigint UNIQUE,
    objects text[] NOT NULL DEFAULT '{}',
    detail jsonb NOT NULL DEFAULT '{}',
    CHECK ((action OPERATOR(pg_catalog.=) 'undo') OPERATOR(pg_catalog.=) (undoes IS NOT NULL))
);
REVOKE ALL ON dedup.journal FROM PUBLIC;
COMMENT ON TABLE dedup.journal IS
'what dedup did: counts, fingerprints, captured definitions and the SQL it ran; written only by dedup';
COMMENT ON COLUMN dedup.journal.parent IS 'the action this entry is one step of (undone with it)';
COMMENT ON COLUMN dedup.journal.undoes IS 'for an undo: the entry it reversed';
COMMENT ON COLUMN dedup.journal.objects IS 'the relations the action created, changed or dropped';
SELECT pg_catalog.pg_extension_config_dump('dedup.journal', '');

CREATE FUNCTION dedup._journal_append_only() RETURNS trigger
AS 'MODULE_PATHNAME', 'dedup_journal_append_only'
LANGUAGE C SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION dedup._journal_append_only() FROM PUBLIC;

-- Rows are added only by dedup (as the journal's owner) and never changed,
-- whatever privileges someone was granted on the table.
CREATE TRIGGER journal_append_only BEFORE INSERT OR UPDATE OR DELETE ON dedup.journal
FOR EACH ROW EXECUTE FUNCTION dedup._journal_append_only();
CREATE TRIGGER journal_no_truncate BEFORE TRUNCATE ON dedup.journal
FOR EACH STATEMENT EXECUTE FUNCTION dedup._journal_append_only();

-- Default privileges (ALTER DEFAULT PRIVILEGES without IN SCHEMA) gave the
-- schema, the journal and its sequence to their grantees as they were
-- created: CREATE on the schema would let a role plant an overload of one
-- of dedup's functions, INSERT on the journal a forged entry.  Only the
-- owner keeps any privilege.
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT 'SCHEMA' AS kind, pg_catalog.quote_ident(n.nspname) AS obj, a.grantee
      FROM pg_catalog.pg_namespace n, pg_catalog.aclexplode(n.nspacl) a
     WHERE n.nspname OPERATOR(pg_catalog.=) 'dedup' AND a.grantee OPERATOR(pg_catalog.<>) n.nspowner
    UNION
    SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, c.oid::pg_catalog.regclass::pg_catalog.text, a.grantee
      FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
     WHERE c.relnamespace OPERATOR(pg_catalog.=) 'dedup'::pg_catalog.regnamespace
       AND c.relkind IN ('r', 'S') AND a.grantee OPERATOR(pg_catalog.<>) c.relowner
  LOOP
    EXECUTE pg_catalog.format('REVOKE ALL ON %s %s FROM %s', r.kind, r.obj,
                              CASE r.grantee WHEN 0 THEN 'PUBLIC'
                                   ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(r.grantee)) END);
  END LOOP;
END $$;

-- Definition capture (internal) ---------------------------------------------
-- The underscore functions are called by dedup's own functions through SQL,
-- so they keep EXECUTE for PUBLIC; they read catalogs or run GRANT/REVOKE
-- with the caller's own privileges, and the schema's USAGE still gates them.

-- The statements that recreate one table (not its partitions: the C caller
-- walks the tree).  Every name is quoted and schema-qualified: search_path is
-- pinned, so pg_get_*def() and format_type() qualify everything.  With
-- plain, a partitioned table is described as an ordinary table (no
-- PARTITION BY, no partition indexes to attach).  acl_call names the function
-- the statements that set privileges call: dedup._set_acl, or the plain
-- PL/pgSQL one a script of dedup.plan_sql() creates.
CREATE FUNCTION dedup._table_definition(rel regclass, plain boolean DEFAULT false,
                                        acl_call text DEFAULT 'dedup._set_acl') RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
WITH c AS (
  SELECT c.*, n.nspname, format('%I.%I', n.nspname, c.relname) AS q,
         pg_get_userbyid(c.relowner) AS owner
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.oid = rel),
idseq AS (      -- identity sequences, by column
  SELECT d.refobjsubid AS attnum, s.oid, format('%I.%I', sn.nspname, s.relname) AS q,
         sq.*, pg_sequence_last_value(s.oid) AS last_value, s.relacl
    FROM pg_depend d
    JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
    JOIN pg_namespace sn ON sn.oid = s.relnamespace
    JOIN pg_sequence sq ON sq.seqrelid = s.oid
   WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
     AND d.refobjid = rel AND d.deptype = 'i'),
ownseq AS (     -- sequences owned by a column (serial)
  SELECT d.refobjsubid AS attnum, s.oid, format('%I.%I', sn.nspname, s.relname) AS q,
         sq.*, pg_sequence_last_value(s.oid) AS last_value, s.relacl,
         pg_get_userbyid(s.relowner) AS owner
    FROM pg_depend d
    JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
    JOIN pg_namespace sn ON sn.oid = s.relnamespace
    JOIN pg_sequence sq ON sq.seqrelid = s.oid
   WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
     AND d.refobjid = rel AND d.deptype = 'a'),
cols AS (
  SELECT a.attnum, a.attname, a.attislocal, a.attacl,
         format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod))
         || CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
                 THEN format(' COLLATE %I.%I', con.nspname, co.collname) ELSE '' END
         || CASE WHEN a.attidentity <> '' THEN
                   format(' GENERATED %s AS IDENTITY (SEQUENCE NAME %s INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s%s)',
                          CASE a.attidentity WHEN 'a' THEN 'ALWAYS' ELSE 'BY DEFAULT' END,
                          i.q, i.seqincrement, i.seqmin, i.seqmax, i.seqstart, i.seqcache,
                          CASE WHEN i.seqcycle THEN ' CYCLE' ELSE ' NO CYCLE' END)
                 WHEN a.attgenerated = 's' THEN
                   format(' GENERATED ALWAYS AS (%s) STORED', pg_get_expr(d.adbin, d.adrelid))
                 WHEN d.adbin IS NOT NULL THEN ' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid)
                 ELSE '' END
         || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END AS def
    FROM pg_attribute a
    JOIN pg_type t ON t.oid = a.atttypid
    LEFT JOIN pg_collation co ON co.oid = a.attcollation
    LEFT JOIN pg_namespace con ON con.oid = co.collnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    LEFT JOIN idseq i ON i.attnum = a.attnum
   WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped),
parent AS (
  SELECT h.inhparent, format('%I.%I', pn.nspname, p.relname) AS q
    FROM pg_inherits h JOIN pg_class p ON p.oid = h.inhparent
    JOIN pg_namespace pn ON pn.oid = p.relnamespace
   WHERE h.inhrelid = rel ORDER BY h.inhseqno),
create_stmt AS (
  SELECT CASE WHEN c.relispartition THEN
           format('CREATE %sTABLE %s PARTITION OF %s %s%s',
                  CASE c.relpersistence WHEN 'u' THEN 'UNLOGGED ' ELSE '' END, c.q,
                  (SELECT q FROM parent LIMIT 1), pg_get_expr(c.relpartbound, c.oid),
                  CASE WHEN c.relkind = 'p' THEN ' PARTITION BY ' || pg_get_partkeydef(c.oid) ELSE '' END)
         ELSE
           format('CREATE %sTABLE %s (%s)%s%s%s%s%s',
                  CASE c.relpersistence WHEN 'u' THEN 'UNLOGGED ' ELSE '' END, c.q,
                  (SELECT coalesce(string_agg(def, ', ' ORDER BY attnum), '')
                     FROM cols WHERE attislocal OR NOT EXISTS (SELECT 1 FROM parent)),
                  (SELECT ' INHERITS (' || string_agg(q, ', ') || ')' FROM parent),
                  CASE WHEN c.relkind = 'p' AND NOT plain THEN ' PARTITION BY ' || pg_get_partkeydef(c.oid) ELSE '' END,
                  (SELECT ' USING ' || quote_ident(am.amname) FROM pg_am am
                    WHERE am.oid = c.relam AND am.amname <> 'heap'),
                  ' WITH (' || array_to_string(c.reloptions, ', ') || ')',
                  (SELECT ' TABLESPACE ' || quote_ident(ts.spcname) FROM pg_tablespace ts
                    WHERE ts.oid = c.reltablespace))
         END AS s
    FROM c),
cons AS (
  SELECT k.oid, k.conname, k.contype, k.conindid,
         format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.q, k.conname, pg_get_constraintdef(k.oid)) AS s
    FROM pg_constraint k, c
   WHERE k.conrelid = rel AND k.conislocal AND k.conparentid = 0
     AND k.contype IN ('p', 'u', 'x', 'c', 'f')),
idx AS (        -- indexes that no constraint owns; a partition's index attached
                -- to its parent's is created by the parent's step, then attached
  SELECT i.indexrelid, ic.relname, pg_get_indexdef(i.indexrelid) AS s,
         (SELECT coalesce(array_agg(format('%s; ALTER INDEX %I.%I ATTACH PARTITION %I.%I',
                                           pg_get_indexdef(h.inhrelid), n.nspname, ic.relname,
                                           hn.nspname, hc.relname) ORDER BY hc.relname), '{}')
            FROM pg_inherits h JOIN pg_class hc ON hc.oid = h.inhrelid
            JOIN pg_namespace hn ON hn.oid = hc.relnamespace
           WHERE h.inhparent = i.indexrelid
             AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = h.inhrelid)) AS attach
    FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = ic.relnamespace
   WHERE i.indrelid = rel
     AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = rel)
     AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)),
trg AS (
  SELECT t.oid, t.tgname, pg_get_triggerdef(t.oid) AS s,
         CASE t.tgenabled WHEN 'D' THEN 'DISABLE TRIGGER' WHEN 'R' THEN 'ENABLE REPLICA TRIGGER'
                          WHEN 'A' THEN 'ENABLE ALWAYS TRIGGER' END AS state
    FROM pg_trigger t WHERE t.tgrelid = rel AND NOT t.tgisinternal AND t.tgparentid = 0),
pol AS (
  SELECT p.oid, p.polname,
         format('CREATE POLICY %I ON %s AS %s FOR %s TO %s%s%s', p.polname, c.q,
                CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
                CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                              WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
                (SELECT string_agg(CASE WHEN r = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r)) END,
                                   ', ' ORDER BY n) FROM unnest(p.polroles) WITH ORDINALITY u(r, n)),
                ' USING (' || pg_get_expr(p.polqual, p.polrelid) || ')',
                ' WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')') AS s
    FROM pg_policy p, c WHERE p.polrelid = rel),
post AS (
  SELECT 1 AS ord, s, conname AS k FROM cons WHERE contype <> 'f'
  UNION ALL SELECT 2, s, conname FROM cons WHERE contype = 'f'
  UNION ALL SELECT 3, s, relname FROM idx
  UNION ALL SELECT 4, a, relname FROM idx, unnest(attach) a WHERE NOT plain
  UNION ALL SELECT 5, s, tgname FROM trg
  UNION ALL SELECT 6, format('ALTER TABLE %s %s %I', c.q, state, tgname), tgname FROM trg, c WHERE state IS NOT NULL
  UNION ALL SELECT 7, pg_get_ruledef(r.oid), r.rulename FROM pg_rewrite r
             WHERE r.ev_class = rel AND r.rulename <> '_RETURN'
  UNION ALL SELECT 8, format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', q), '' FROM c WHERE relrowsecurity
  UNION ALL SELECT 9, format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', q), '' FROM c WHERE relforcerowsecurity
  UNION ALL SELECT 10, s, polname FROM pol
  UNION ALL SELECT 11, format('ALTER TABLE %s REPLICA IDENTITY %s', c.q,
                              CASE c.relreplident WHEN 'f' THEN 'FULL' WHEN 'n' THEN 'NOTHING'
                                ELSE (SELECT format('USING INDEX %I', ic.relname) FROM pg_index i
                                        JOIN pg_class ic ON ic.oid = i.indexrelid
                                       WHERE i.indrelid = rel AND i.indisreplident) END), ''
             FROM c WHERE c.relreplident IN ('f', 'n', 'i')
  UNION ALL SELECT 12, pg_get_statisticsobjdef(x.oid), x.stxname FROM pg_statistic_ext x WHERE x.stxrelid = rel
  -- comments
  UNION ALL SELECT 13, format('COMMENT ON TABLE %s IS %L', c.q, d.description), ''
             FROM c JOIN pg_description d ON d.classoid = 'pg_class'::regclass AND d.objoid = rel AND d.objsubid = 0
  UNION ALL SELECT 14, format('COMMENT ON COLUMN %s.%I IS %L', c.q, cols.attname, d.description), cols.attname
             FROM c, cols JOIN pg_description d ON d.classoid = 'pg_class'::regclass AND d.objoid = rel
                                               AND d.objsubid = cols.attnum
  UNION ALL SELECT 15, format('COMMENT ON CONSTRAINT %I ON %s IS %L', cons.conname, c.q, d.description), cons.conname
             FROM c, cons JOIN pg_description d ON d.classoid = 'pg_constraint'::regclass AND d.objoid = cons.oid
  UNION ALL SELECT 16, format('COMMENT ON INDEX %I.%I IS %L', c.nspname, idx.relname, d.description), idx.relname
             FROM c, idx JOIN pg_description d ON d.classoid = 'pg_class'::regclass AND d.objoid = idx.indexrelid
  UNION ALL SELECT 17, format('COMMENT ON TRIGGER %I ON %s IS %L', trg.tgname, c.q, d.description), trg.tgname
             FROM c, trg JOIN pg_description d ON d.classoid = 'pg_trigger'::regclass AND d.objoid = trg.oid
  UNION ALL SELECT 18, format('COMMENT ON POLICY %I ON %s IS %L', pol.polname, c.q, d.description), pol.polname
             FROM c, pol JOIN pg_description d ON d.classoid = 'pg_policy'::regclass AND d.objoid = pol.oid
  -- owner and privileges (the new table may have received default privileges)
  UNION ALL SELECT 19, format('ALTER TABLE %s OWNER TO %I', q, owner), '' FROM c
  UNION ALL SELECT 20, format('SELECT %s(%L::pg_catalog.regclass, %L::pg_catalog.aclitem[], %L::pg_catalog.text)', acl_call, q, relacl, 'TABLE'), '' FROM c
  UNION ALL SELECT 21, format('GRANT %s (%I) ON TABLE %s TO %s%s', a.privilege_type, cols.attname, c.q,
                              CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                              CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END), cols.attname
             FROM c, cols, aclexplode(cols.attacl) a
  -- sequences: owned-by, owner, privileges, position
  UNION ALL SELECT 22, format('ALTER SEQUENCE %s OWNER TO %I', o.q, o.owner), o.q FROM ownseq o
  UNION ALL SELECT 23, format('ALTER SEQUENCE %s OWNED BY %s.%I', o.q, c.q, cols.attname), o.q
             FROM c, ownseq o JOIN cols ON cols.attnum = o.attnum
  UNION ALL SELECT 24, format('SELECT %s(%L::pg_catalog.regclass, %L::pg_catalog.aclitem[], %L::pg_catalog.text)', acl_call, q, relacl, 'SEQUENCE'), q
             FROM (SELECT q, relacl FROM ownseq UNION ALL SELECT q, relacl FROM idseq) s
  UNION ALL SELECT 25, format('SELECT pg_catalog.setval(%L::regclass, %s, true)', q, last_value), q
             FROM (SELECT q, last_value FROM ownseq UNION ALL SELECT q, last_value FROM idseq) s
            WHERE last_value IS NOT NULL
  -- publications that name the table
  UNION ALL SELECT 26, format('ALTER PUBLICATION %I ADD TABLE %s%s%s', p.pubname, c.q,
                              (SELECT ' (' || string_agg(quote_ident(attname), ', ' ORDER BY u.n) || ')'
                                 FROM unnest(pr.prattrs::int2[]) WITH ORDINALITY u(attnum, n)
                                 JOIN cols ON cols.attnum = u.attnum),
                              ' WHERE (' || pg_get_expr(pr.prqual, pr.prrelid) || ')'), p.pubname
             FROM c, pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
            WHERE pr.prrelid = rel)
SELECT jsonb_build_object(
  'oid', c.oid, 'schema', c.nspname, 'name', c.relname, 'qualname', c.q,
  'relkind', c.relkind, 'owner', c.owner,
  'parent', (SELECT q FROM parent LIMIT 1),
  'references', (SELECT coalesce(jsonb_agg(DISTINCT format('%I.%I', rn.nspname, r.relname)), '[]')
                   FROM pg_constraint k JOIN pg_class r ON r.oid = k.confrelid
                   JOIN pg_namespace rn ON rn.oid = r.relnamespace
                  WHERE k.conrelid = rel AND k.contype = 'f' AND k.confrelid <> rel),
  'pre', (SELECT coalesce(jsonb_agg(format('CREATE SEQUENCE %s AS %s INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s%s',
                                           o.q, format_type(o.seqtypid, NULL), o.seqincrement, o.seqmin,
                                           o.seqmax, o.seqstart, o.seqcache,
                                           CASE WHEN o.seqcycle THEN ' CYCLE' ELSE ' NO CYCLE' END)), '[]')
            FROM ownseq o),
  'create', (SELECT s FROM create_stmt),
  'owner_sql', (SELECT s FROM post WHERE ord = 19),
  'build', (SELECT coalesce(jsonb_agg(s ORDER BY ord, k, s), '[]') FROM post
             WHERE s IS NOT NULL AND ord IN (1, 3, 4, 12)),
  'post', (SELECT coalesce(jsonb_agg(s ORDER BY ord, k, s), '[]') FROM post
            WHERE s IS NOT NULL AND ord NOT IN (1, 3, 4, 12, 19)))
FROM c
$$;

-- What depends on a table and would have to go with it: views and
-- materialized views (recursively), rules on other tables, foreign keys from
-- other tables, inheritance children.  Each with the statement that drops it
-- and the statements that recreate it, in three lists run in order: create
-- (as the caller), build (as the object's owner, inside a security-restricted
-- operation: a materialized view's query and index expressions, a foreign
-- key's validation are user code) and post; listed in creation order.
CREATE FUNCTION dedup._dependents(rel regclass, acl_call text DEFAULT 'dedup._set_acl') RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
WITH RECURSIVE v(oid, depth) AS (
  SELECT r.ev_class, 1
    FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
    JOIN pg_class vc ON vc.oid = r.ev_class
   WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
     AND d.refobjid = rel AND r.ev_class <> rel AND vc.relkind IN ('v', 'm')
  UNION
  SELECT r.ev_class, v.depth + 1
    FROM v JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = v.oid
    JOIN pg_rewrite r ON r.oid = d.objid AND d.classid = 'pg_rewrite'::regclass
    JOIN pg_class vc ON vc.oid = r.ev_class
   WHERE r.ev_class <> v.oid AND vc.relkind IN ('v', 'm')),
views AS (
  SELECT vc.oid, max(v.depth) AS depth, vc.relkind, vc.relacl, vc.reloptions, vc.relispopulated,
         format('%I.%I', n.nspname, vc.relname) AS q, pg_get_userbyid(vc.relowner) AS owner,
         pg_get_viewdef(vc.oid) AS def
    FROM v JOIN pg_class vc ON vc.oid = v.oid JOIN pg_namespace n ON n.oid = vc.relnamespace
   GROUP BY vc.oid, n.nspname),
deps AS (
  SELECT 1 AS ord, depth, q AS name, owner, NULL::text AS tbl, NULL::name AS con,
         coalesce((SELECT o.option_value::boolean FROM pg_options_to_table(reloptions) o
                    WHERE o.option_name = 'security_invoker'), false) AS invoker,
         CASE relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END AS kind,
         format('DROP %s %s', CASE relkind WHEN 'v' THEN 'VIEW' ELSE 'MATERIALIZED VIEW' END, q) AS drop,
         CASE relkind WHEN 'v' THEN
           jsonb_build_array(format('CREATE VIEW %s%s AS %s', q,
                                    ' WITH (' || array_to_string(reloptions, ', ') || ')', def))
         ELSE '[]'::jsonb END AS "create",
         (SELECT coalesce(jsonb_agg(s ORDER BY n), '[]')
            FROM (SELECT 1 AS n, format('CREATE MATERIALIZED VIEW %s%s AS %s', views.q,
                                        ' WITH (' || array_to_string(views.reloptions, ', ') || ')', views.def) AS s
                   WHERE views.relkind = 'm'
                  UNION ALL SELECT 2, pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = views.oid
                  UNION ALL SELECT 3, format('REFRESH MATERIALIZED VIEW %s WITH NO DATA', views.q)
                   WHERE views.relkind = 'm' AND NOT views.relispopulated) s) AS build,
         (SELECT coalesce(jsonb_agg(s ORDER BY n), '[]')
            FROM (SELECT 3 AS n, pg_get_triggerdef(t.oid) AS s FROM pg_trigger t
                   WHERE t.tgrelid = views.oid AND NOT t.tgisinternal
                  UNION ALL SELECT 4, pg_get_ruledef(r.oid) FROM pg_rewrite r
                             WHERE r.ev_class = views.oid AND r.rulename <> '_RETURN'
                  UNION ALL SELECT 5, format('COMMENT ON %s %s IS %L',
                                             CASE views.relkind WHEN 'v' THEN 'VIEW' ELSE 'MATERIALIZED VIEW' END,
                                             views.q, d.description)
                              FROM pg_description d WHERE d.classoid = 'pg_class'::regclass
                               AND d.objoid = views.oid AND d.objsubid = 0
                  UNION ALL SELECT 6, format('COMMENT ON COLUMN %s.%I IS %L', views.q, a.attname, d.description)
                              FROM pg_description d JOIN pg_attribute a ON a.attrelid = d.objoid AND a.attnum = d.objsubid
                             WHERE d.classoid = 'pg_class'::regclass AND d.objoid = views.oid AND d.objsubid > 0
                  UNION ALL SELECT 7, format('ALTER TABLE %s OWNER TO %I', views.q, views.owner)
                  UNION ALL SELECT 8, format('SELECT %s(%L::pg_catalog.regclass, %L::pg_catalog.aclitem[], %L::pg_catalog.text)', acl_call,
                                             views.q, views.relacl, 'TABLE')) s) AS post
    FROM views
  UNION ALL
  SELECT 2, 0, format('%s on %I.%I', quote_ident(r.rulename), n.nspname, t.relname),
         pg_get_userbyid(t.relowner), format('%I.%I', n.nspname, t.relname), r.rulename, false, 'rule',
         format('DROP RULE %I ON %I.%I', r.rulename, n.nspname, t.relname),
         jsonb_build_array(pg_get_ruledef(r.oid)), '[]'::jsonb, '[]'::jsonb
    FROM pg_rewrite r JOIN pg_class t ON t.oid = r.ev_class AND t.relkind IN ('r', 'p')
    JOIN pg_namespace n ON n.oid = t.relnamespace
   WHERE r.ev_class <> rel
     AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_rewrite'::regclass
                    AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass AND d.refobjid = rel)
  UNION ALL
  SELECT 3, 0, format('%I on %I.%I', k.conname, n.nspname, t.relname),
         pg_get_userbyid(t.relowner), format('%I.%I', n.nspname, t.relname), k.conname, false, 'foreign key',
         format('ALTER TABLE %I.%I DROP CONSTRAINT %I', n.nspname, t.relname, k.conname),
         jsonb_build_array(format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', n.nspname, t.relname,
                                  k.conname, pg_get_constraintdef(k.oid))),
         '[]'::jsonb,
         (SELECT coalesce(jsonb_agg(format('COMMENT ON CONSTRAINT %I ON %I.%I IS %L', k.conname,
                                           n.nspname, t.relname, d.description)), '[]')
            FROM pg_description d WHERE d.classoid = 'pg_constraint'::regclass AND d.objoid = k.oid)
    FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
   WHERE k.contype = 'f' AND k.confrelid = rel AND k.conrelid <> rel AND k.conparentid = 0
  UNION ALL
  SELECT 4, 0, format('%I.%I', n.nspname, t.relname), pg_get_userbyid(t.relowner),
         format('%I.%I', n.nspname, t.relname), NULL, false, 'inheritance child', NULL, '[]'::jsonb, '[]'::jsonb, '[]'::jsonb
    FROM pg_inherits h JOIN pg_class t ON t.oid = h.inhrelid AND NOT t.relispartition
    JOIN pg_namespace n ON n.oid = t.relnamespace
   WHERE h.inhparent = rel)
SELECT coalesce(jsonb_agg(jsonb_build_object('kind', kind, 'name', name, 'owner', owner, 'drop', drop,
                                             'table', tbl, 'constraint', con, 'security_invoker', invoker,
                                             'create', "create", 'build', build, 'post', post)
                          ORDER BY ord, depth, name), '[]')
  FROM deps
$$;

-- CREATE INDEX for an index of one table (idx), on another table (target)
-- whose columns have the same names: built from pg_index's fields (access
-- method, key columns or expressions, operator classes, collations,
-- ordering, INCLUDE columns, storage parameters, predicate), never by
-- editing pg_get_indexdef's text.  The index is named index_name, or by
-- PostgreSQL when name is NULL.
CREATE FUNCTION dedup._index_statement(idx regclass, target regclass, index_name name DEFAULT NULL) RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
WITH i AS (
  SELECT i.*, c.reloptions, am.amname, am.oid AS amoid
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
   WHERE i.indexrelid = idx),
k AS (
  SELECT u.n, u.attnum, a.attname, ta.atttypid,
         coalesce(ta.attcollation, 0) AS typcoll,
         i.indclass[u.n - 1] AS opclass, i.indcollation[u.n - 1] AS coll, i.indoption[u.n - 1] AS opt,
         u.n <= i.indnkeyatts AS iskey
    FROM i CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY u(attnum, n)
    LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = u.attnum AND u.attnum <> 0
    LEFT JOIN pg_attribute ta ON ta.attrelid = target AND ta.attname = a.attname AND NOT ta.attisdropped),
col AS (
  SELECT k.n, k.iskey,
         CASE WHEN k.attnum = 0 THEN '(' || pg_get_indexdef(idx, k.n::int, false) || ')'
              ELSE quote_ident(k.attname) END
         || CASE WHEN k.iskey AND k.coll <> 0 AND k.coll IS DISTINCT FROM k.typcoll
                 THEN (SELECT format(' COLLATE %I.%I', cn.nspname, co.collname) FROM pg_collation co
                         JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = k.coll)
                 ELSE '' END
         || CASE WHEN k.iskey AND NOT coalesce(oc.opcdefault AND oc.opcintype = k.atttypid, false)
                 THEN format(' %I.%I', ocn.nspname, oc.opcname) ELSE '' END
         || CASE WHEN k.iskey AND k.opt & 1 = 1 THEN ' DESC' ELSE '' END
         || CASE WHEN k.iskey AND k.opt & 1 = 1 AND k.opt & 2 = 0 THEN ' NULLS LAST'
                 WHEN k.iskey AND k.opt & 1 = 0 AND k.opt & 2 = 2 THEN ' NULLS FIRST' ELSE '' END AS s
    FROM k LEFT JOIN pg_opclass oc ON oc.oid = k.opclass
    LEFT JOIN pg_namespace ocn ON ocn.oid = oc.opcnamespace)
SELECT format('CREATE %sINDEX %sON %s USING %I (%s)%s%s%s',
              CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END,
              quote_ident(index_name) || ' ', target, i.amname,
              (SELECT string_agg(s, ', ' ORDER BY n) FROM col WHERE iskey),
              (SELECT ' INCLUDE (' || string_agg(s, ', ' ORDER BY n) || ')' FROM col WHERE NOT iskey),
              ' WITH (' || array_to_string(i.reloptions, ', ') || ')',
              ' WHERE ' || pg_get_expr(i.indpred, i.indrelid))
  FROM i
$$;

-- Indexes and foreign keys that a partitioned table's partitions define for
-- themselves (as Pagila's payment partitions do), as statements that put one
-- of each distinct definition on the table once it is no longer
-- partitioned.  Unique indexes and CHECK constraints of one partition say
-- nothing of the whole table and are not carried.
CREATE FUNCTION dedup._partition_extras(rel regclass) RETURNS SETOF text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
WITH parts AS (SELECT t.relid FROM pg_partition_tree(rel) t WHERE t.relid <> rel)
SELECT DISTINCT dedup._index_statement(i.indexrelid::regclass, rel, NULL)
  FROM parts JOIN pg_index i ON i.indrelid = parts.relid
 WHERE NOT i.indisunique
   AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
   AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
UNION
SELECT DISTINCT format('ALTER TABLE %s ADD %s', rel, pg_get_constraintdef(k.oid))
  FROM parts JOIN pg_constraint k ON k.conrelid = parts.relid
 WHERE k.contype = 'f' AND k.conparentid = 0 AND k.conislocal
ORDER BY 1
$$;

-- The statements that undo a journaled drop, in order, each with the role
-- it runs as (NULL: the caller) and its phase: 1, every table's sequences,
-- CREATE and owner (parents first); 2, its constraints and indexes as its
-- owner and the rest of its definition (children first): an undo puts the
-- rows back between 1 and 2, so that indexes are built once and foreign
-- keys checked once; 3, the dependents.
CREATE FUNCTION dedup._undo_steps(detail jsonb) RETURNS TABLE (sql text, run_as text, phase int)
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT s, r, phase FROM (
  SELECT 1 AS phase, t.ord, p.n, p.s, NULL::text AS r
    FROM jsonb_array_elements(detail -> 'tables') WITH ORDINALITY t(d, ord),
         jsonb_array_elements_text((t.d -> 'pre')
                                   || jsonb_build_array(t.d ->> 'create', t.d ->> 'owner_sql'))
           WITH ORDINALITY p(s, n)
  UNION ALL
  SELECT 2, -t.ord, p.n, p.s, t.d ->> 'owner'
    FROM jsonb_array_elements(detail -> 'tables') WITH ORDINALITY t(d, ord),
         jsonb_array_elements_text(t.d -> 'build') WITH ORDINALITY p(s, n)
  UNION ALL
  SELECT 2, -t.ord, 1000000 + p.n, p.s, NULL
    FROM jsonb_array_elements(detail -> 'tables') WITH ORDINALITY t(d, ord),
         jsonb_array_elements_text(t.d -> 'post') WITH ORDINALITY p(s, n)
  UNION ALL
  SELECT 3, t.ord, p.n, p.s, NULL
    FROM jsonb_array_elements(detail -> 'dependents') WITH ORDINALITY t(d, ord),
         jsonb_array_elements_text(t.d -> 'create') WITH ORDINALITY p(s, n)
  UNION ALL
  SELECT 3, t.ord, 1000000 + p.n, p.s, t.d ->> 'owner'
    FROM jsonb_array_elements(detail -> 'dependents') WITH ORDINALITY t(d, ord),
         jsonb_array_elements_text(t.d -> 'build') WITH ORDINALITY p(s, n)
  UNION ALL
  SELECT 3, t.ord, 2000000 + p.n, p.s, NULL
    FROM jsonb_array_elements(detail -> 'dependents') WITH ORDINALITY t(d, ord),
         jsonb_array_elements_text(t.d -> 'post') WITH ORDINALITY p(s, n)) x
 WHERE s IS NOT NULL
ORDER BY phase, ord, n
$$;

-- The statement that recreates foreign key con pointing at another table
-- (target) whose columns target_cols stand, in order, for the ones con
-- references: built from pg_constraint's fields (columns, match type,
-- actions with their column lists, deferrability, validity), never by
-- editing pg_get_constraintdef's text.
CREATE FUNCTION dedup._fk_statement(con oid, target regclass, target_cols name[],
                                    on_table regclass DEFAULT NULL, on_cols name[] DEFAULT NULL) RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT format('ALTER TABLE %s ADD CONSTRAINT %I FOREIGN KEY (%s) REFERENCES %s (%s)%s ON UPDATE %s ON DELETE %s%s%s%s',
              coalesce(on_table, k.conrelid::regclass), k.conname,
              (SELECT string_agg(quote_ident(coalesce(on_cols[u.n::int], a.attname)), ', ' ORDER BY u.n)
                 FROM unnest(k.conkey) WITH ORDINALITY u(attnum, n)
                 JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum),
              target,
              (SELECT string_agg(quote_ident(c), ', ' ORDER BY n) FROM unnest(target_cols) WITH ORDINALITY t(c, n)),
              CASE k.confmatchtype WHEN 'f' THEN ' MATCH FULL' ELSE '' END,
              CASE k.confupdtype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE'
                                 WHEN 'n' THEN 'SET NULL' ELSE 'SET DEFAULT' END,
              CASE k.confdeltype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE'
                                 WHEN 'n' THEN 'SET NULL' ELSE 'SET DEFAULT' END,
              (SELECT ' (' || string_agg(quote_ident(coalesce(on_cols[array_position(k.conkey, u.attnum)], a.attname)),
                                         ', ' ORDER BY u.n) || ')'
                 FROM unnest(k.confdelsetcols) WITH ORDINALITY u(attnum, n)
                 JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum),
              CASE WHEN k.condeferrable THEN ' DEFERRABLE' ELSE '' END
              || CASE WHEN k.condeferred THEN ' INITIALLY DEFERRED' ELSE '' END,
              CASE WHEN NOT k.convalidated THEN ' NOT VALID' ELSE '' END)
  FROM pg_constraint k
 WHERE k.oid = con AND k.contype = 'f'
$$;

-- Sets a relation's privileges to exactly acl (NULL: the owner's defaults),
-- through REVOKE and GRANT, whatever default privileges gave it.  A
-- relation whose relacl is NULL already has the owner's defaults: asked for
-- NULL, it is left alone, so a recreated table keeps relacl NULL as the
-- dropped one had it (GRANT would write the owner's privileges out, and
-- nothing in SQL sets relacl back to NULL).  Plain PL/pgSQL: a script of
-- dedup.plan_sql() carries the same body as a temporary function, so it
-- runs where dedup is not installed.
CREATE FUNCTION dedup._set_acl(rel regclass, acl aclitem[], kind text) RETURNS void
LANGUAGE plpgsql CALLED ON NULL INPUT SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  stmts text[];
  s text;
BEGIN
  IF rel IS NULL OR kind IS NULL THEN
    RETURN;
  END IF;
  IF kind NOT IN ('TABLE', 'SEQUENCE') THEN
    RAISE EXCEPTION 'kind must be TABLE or SEQUENCE, not "%"', kind USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF acl IS NULL AND (SELECT c.relacl IS NULL FROM pg_class c WHERE c.oid = rel) THEN
    RETURN;
  END IF;
  -- revoke everything anyone holds now ...
  SELECT array_agg(format('REVOKE ALL ON %s %s FROM %s', kind, rel,
                          CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END)
                   ORDER BY a.grantee)
    INTO stmts
    FROM (SELECT DISTINCT x.grantee FROM pg_class c, aclexplode(c.relacl) x WHERE c.oid = rel) a;
  -- ... then grant exactly what acl says, in its order
  SELECT coalesce(stmts, '{}') || coalesce(array_agg(g.stmt ORDER BY g.n), '{}')
    INTO stmts
    FROM (SELECT min(a.n) AS n,
                 format('GRANT %s ON %s %s TO %s%s', string_agg(a.privilege_type, ', ' ORDER BY a.privilege_type),
                        kind, rel,
                        CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                        CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END) AS stmt
            FROM aclexplode(coalesce(acl, acldefault(CASE kind WHEN 'SEQUENCE' THEN 's'::"char" ELSE 'r'::"char" END,
                                                     (SELECT c.relowner FROM pg_class c WHERE c.oid = rel))))
                 WITH ORDINALITY AS a(grantor, grantee, privilege_type, is_grantable, n)
           GROUP BY a.grantee, a.is_grantable) g;
  FOREACH s IN ARRAY stmts LOOP
    EXECUTE s;
  END LOOP;
END
$$;

-- The rows of a table (with its partitions; without inheritance children,
-- which a backup leaves out too) as a count and a cheap,
-- order-independent fingerprint: the sum of a 64-bit hash of each row's
-- text.  The text of a row depends on DateStyle, IntervalStyle, TimeZone,
-- extra_float_digits, bytea_output and lc_monetary: callers set them as
-- dedup.plan_sql() scripts do.  A script carries the same body.
CREATE FUNCTION dedup._rows_fingerprint(rel regclass, OUT n bigint, OUT fp text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  EXECUTE format('SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)::numeric), 0)::text FROM %s%s t',
                 CASE WHEN (SELECT c.relkind FROM pg_class c WHERE c.oid = rel) = 'r' THEN 'ONLY ' ELSE '' END, rel)
     INTO n, fp;
END
$$;

-- A digest of a table's definition: kind, owner, privileges, row level
-- security, columns, constraints, indexes, triggers, policies, partitions.
-- Scripts check it before they change a table (definitions unchanged since
-- planning); only ever compared for equality.  A script carries the same body.
CREATE FUNCTION dedup._shape(rel regclass) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
SELECT md5(concat_ws(E'\n',
  (SELECT format('%s %s %s %s %s %s %s', c.relkind, c.relpersistence, pg_get_userbyid(c.relowner), c.relacl,
                 c.relrowsecurity, c.relforcerowsecurity, CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END)
     FROM pg_class c WHERE c.oid = rel),
  (SELECT string_agg(format('%s %s %s %s %s %s %s', a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                            a.attidentity, a.attgenerated, a.attcollation::regcollation, a.attacl)
                     || coalesce(' ' || pg_get_expr(d.adbin, d.adrelid), ''), ',' ORDER BY a.attnum)
     FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped),
  (SELECT string_agg(format('%s %s', k.conname, pg_get_constraintdef(k.oid)), ',' ORDER BY k.conname)
     FROM pg_constraint k WHERE k.conrelid = rel),
  (SELECT string_agg(pg_get_indexdef(i.indexrelid), ',' ORDER BY 1) FROM pg_index i WHERE i.indrelid = rel),
  (SELECT string_agg(format('%s %s', pg_get_triggerdef(t.oid), t.tgenabled), ',' ORDER BY t.tgname)
     FROM pg_trigger t WHERE t.tgrelid = rel AND NOT t.tgisinternal),
  (SELECT string_agg(format('%s %s %s %s %s %s', p.polname, p.polcmd, p.polpermissive,
                            (SELECT string_agg(CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r)::text END, ',' ORDER BY 1)
                               FROM unnest(p.polroles) r),
                            pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)), ','
                     ORDER BY p.polname)
     FROM pg_policy p WHERE p.polrelid = rel),
  (SELECT string_agg(h.inhrelid::regclass::text, ',' ORDER BY 1) FROM pg_inherits h WHERE h.inhparent = rel)))
$$;

-- Baseline (internal) -------------------------------------------------------
-- What dedup.plan() records and dedup.verify() compares, for a set of
-- relations.  The roles asked about are those of access.c: every role that is
-- not a superuser or a predefined pg_* role, and PUBLIC, in name order.

CREATE FUNCTION dedup._access_roles() RETURNS text[]
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT array_agg(name ORDER BY name COLLATE "C")
  FROM (SELECT r.rolname::text AS name FROM pg_roles r
         WHERE NOT r.rolsuper AND r.rolname::text !~ '^pg_'
        UNION ALL SELECT 'public') x
$$;

-- For each relation and role (in the order of _access_roles()), what the role
-- can do through it, as four letters for SELECT, INSERT, UPDATE and DELETE:
--   -  no privilege
--   a  every row (no row level security applies to the role)
--   p  the rows that permissive policies for the role let through
--   n  no row (row level security applies and no permissive policy does)
-- in upper case when the privilege is on some columns only.  A view that is
-- security_invoker answers with the row level security of the one table it
-- reads, and needs privileges on that table too.  Relations with the same
-- privileges and owner and no column privileges are asked once.
CREATE FUNCTION dedup._access_codes(rels oid[]) RETURNS TABLE (rel oid, codes text[])
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
WITH roles AS (
  SELECT r.oid, r.rolname::text AS name, r.rolbypassrls AS bypass FROM pg_roles r
   WHERE NOT r.rolsuper AND r.rolname::text !~ '^pg_'
  UNION ALL SELECT 0::oid, 'public', false),
cmds(cmd, priv, n) AS (VALUES ('r'::"char", 'SELECT', 1), ('a', 'INSERT', 2), ('w', 'UPDATE', 3), ('d', 'DELETE', 4)),
rel AS (
  SELECT c.oid, c.relkind,
         CASE WHEN c.relkind = 'v' THEN
           (SELECT min(d.refobjid) FROM pg_rewrite r JOIN pg_depend d
                ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
               AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> c.oid
             WHERE r.ev_class = c.oid)
         END AS base,
         coalesce((SELECT o.option_value::boolean FROM pg_options_to_table(c.reloptions) o
                    WHERE o.option_name = 'security_invoker'), false) AS invoker,
         CASE WHEN c.relkind = 'v' OR EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attacl IS NOT NULL)
              THEN c.oid::text ELSE format('%s/%s/%s', c.relkind, c.relowner, c.relacl) END AS gkey
    FROM pg_class c WHERE c.oid = ANY (rels)),
reps AS (SELECT DISTINCT ON (gkey) gkey, oid AS rep, base, invoker FROM rel ORDER BY gkey, oid),
privs AS (
  SELECT reps.gkey, roles.oid AS role, cmds.cmd,
         CASE WHEN NOT (NOT reps.invoker OR reps.base IS NULL
                        OR has_table_privilege(roles.name, reps.base, cmds.priv)
                        OR (cmds.cmd <> 'd' AND has_any_column_privilege(roles.name, reps.base, cmds.priv)))
                   THEN '-'
              WHEN has_table_privilege(roles.name, reps.rep, cmds.priv) THEN 't'
              WHEN cmds.cmd <> 'd' AND has_any_column_privilege(roles.name, reps.rep, cmds.priv) THEN 'c'
              ELSE '-' END AS p
    FROM reps, roles, cmds),
letters AS (
  SELECT rel.oid AS rel, roles.name, cmds.n,
         CASE WHEN privs.p = '-' THEN '-'
              ELSE (CASE WHEN privs.p = 'c' THEN upper(x.l) ELSE x.l END) END AS l
    FROM rel JOIN privs ON privs.gkey = rel.gkey
    JOIN roles ON roles.oid = privs.role
    JOIN cmds ON cmds.cmd = privs.cmd
    LEFT JOIN pg_class t ON t.oid = CASE WHEN rel.relkind = 'v' THEN CASE WHEN rel.invoker THEN rel.base END
                                         ELSE rel.oid END
    CROSS JOIN LATERAL (SELECT CASE
        WHEN privs.p = '-' OR t.oid IS NULL OR NOT t.relrowsecurity OR roles.bypass THEN 'a'
        WHEN roles.oid <> 0 AND NOT t.relforcerowsecurity AND pg_has_role(roles.oid, t.relowner, 'USAGE') THEN 'a'
        WHEN EXISTS (SELECT 1 FROM pg_policy p
                      WHERE p.polrelid = t.oid AND p.polpermissive AND p.polcmd IN (cmds.cmd, '*')
                        AND (0 = ANY (p.polroles)
                             OR (roles.oid <> 0 AND EXISTS (SELECT 1 FROM unnest(p.polroles) pr
                                                             WHERE pg_has_role(roles.oid, pr, 'USAGE')))))
             THEN 'p'
        ELSE 'n' END AS l) x)
SELECT rel, array_agg(code ORDER BY name COLLATE "C")
  FROM (SELECT rel, name, string_agg(l, '' ORDER BY n) AS code FROM letters GROUP BY rel, name) y
 GROUP BY rel
$$;

-- For each relation: its row level security (enabled, forced) and a digest
-- of its policies (name, command, permissive, roles, USING, WITH CHECK);
-- its foreign keys (name, referenced table, validated); NULL rls when row
-- level security is off and there is no policy.
CREATE FUNCTION dedup._table_facts(rels oid[]) RETURNS TABLE (rel oid, rls text, fks jsonb)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT c.oid,
       CASE WHEN c.relrowsecurity OR EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid) THEN
         format('%s%s %s', CASE WHEN c.relrowsecurity THEN 'enabled' ELSE 'disabled' END,
                CASE WHEN c.relforcerowsecurity THEN ' forced' ELSE '' END,
                (SELECT format('%s policies %s', count(*),
                               md5(coalesce(string_agg(format('%I %s %s %s %s %s', p.polname, p.polcmd, p.polpermissive,
                                                              (SELECT array_agg(CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r)::text END
                                                                                ORDER BY 1) FROM unnest(p.polroles) r),
                                                              pg_get_expr(p.polqual, p.polrelid),
                                                              pg_get_expr(p.polwithcheck, p.polrelid)),
                                                       E'\n' ORDER BY p.polname), '')))
                   FROM pg_policy p WHERE p.polrelid = c.oid))
       END,
       (SELECT coalesce(jsonb_agg(jsonb_build_array(k.conname, k.confrelid::regclass::text, k.convalidated)
                                  ORDER BY k.conname), '[]')
          FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'f')
  FROM pg_class c WHERE c.oid = ANY (rels)
$$;

-- The sequences that feed integer columns of the relations (owned by a
-- column, or called by a column default).
CREATE FUNCTION dedup._table_sequences(rels oid[]) RETURNS TABLE (rel oid, col name, seq regclass)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT DISTINCT x.rel, a.attname, s.seqrelid::regclass
  FROM (SELECT d.refobjid AS rel, d.objid AS seq, d.refobjsubid AS attnum FROM pg_depend d
         WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
           AND d.refobjid = ANY (rels) AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
        UNION
        SELECT ad.adrelid, d.refobjid, ad.adnum FROM pg_attrdef ad
          JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
                          AND d.refclassid = 'pg_class'::regclass
         WHERE ad.adrelid = ANY (rels)) x
  JOIN pg_sequence s ON s.seqrelid = x.seq
  JOIN pg_attribute a ON a.attrelid = x.rel AND a.attnum = x.attnum AND NOT a.attisdropped
 WHERE a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'numeric'::regtype)
$$;

-- The query that counts the rows of a foreign key's referencing table that
-- have no referenced row (MATCH SIMPLE: a row with a NULL in the key is
-- exempt; MATCH FULL: only a row NULL in every key column is), comparing
-- with the constraint's own operators.  With show, the query lists them.
CREATE FUNCTION dedup._fk_orphans_sql(con oid, show boolean DEFAULT false) RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT format('SELECT %s FROM %s c WHERE %s AND NOT EXISTS (SELECT 1 FROM %s p WHERE %s)',
              CASE WHEN show THEN 'c.*' ELSE 'pg_catalog.count(*)' END,
              k.conrelid::regclass,
              CASE WHEN k.confmatchtype = 'f'
                   THEN '(' || string_agg(format('c.%I IS NOT NULL', ca.attname), ' OR ' ORDER BY u.n) || ')'
                   ELSE string_agg(format('c.%I IS NOT NULL', ca.attname), ' AND ' ORDER BY u.n) END,
              k.confrelid::regclass,
              string_agg(format('p.%I OPERATOR(%I.%s) c.%I', pa.attname, opn.nspname, op.oprname, ca.attname),
                         ' AND ' ORDER BY u.n))
  FROM pg_constraint k
 CROSS JOIN LATERAL unnest(k.conkey, k.confkey, k.conpfeqop) WITH ORDINALITY u(ck, pk, op, n)
  JOIN pg_attribute ca ON ca.attrelid = k.conrelid AND ca.attnum = u.ck
  JOIN pg_attribute pa ON pa.attrelid = k.confrelid AND pa.attnum = u.pk
  JOIN pg_operator op ON op.oid = u.op
  JOIN pg_namespace opn ON opn.oid = op.oprnamespace
 WHERE k.oid = con AND k.contype = 'f'
 GROUP BY k.oid, k.conrelid, k.confrelid, k.confmatchtype
$$;

-- Safe operations -----------------------------------------------------------

CREATE FUNCTION dedup.backup_table(tbl regclass, backup_name name DEFAULT NULL)
RETURNS regclass
AS 'MODULE_PATHNAME', 'dedup_backup_table'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp SET row_security = off;
REVOKE ALL ON FUNCTION dedup.backup_table(regclass, name) FROM PUBLIC;
COMMENT ON FUNCTION dedup.backup_table(regclass, name) IS
'copy a table while writers are blocked, prove the copy by count and fingerprint, journal it';

CREATE FUNCTION dedup.drop_if_empty(tbl regclass, "cascade" boolean DEFAULT false)
RETURNS boolean
AS 'MODULE_PATHNAME', 'dedup_drop_if_empty'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp SET row_security = off;
REVOKE ALL ON FUNCTION dedup.drop_if_empty(regclass, boolean) FROM PUBLIC;
COMMENT ON FUNCTION dedup.drop_if_empty(regclass, boolean) IS
'drop a table only if no row is visible once writers and readers are locked out; journaled, undoable';

CREATE FUNCTION dedup.drop_backup(tbl regclass, force boolean DEFAULT false)
RETURNS boolean
AS 'MODULE_PATHNAME', 'dedup_drop_backup'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp SET row_security = off;
REVOKE ALL ON FUNCTION dedup.drop_backup(regclass, boolean) FROM PUBLIC;
COMMENT ON FUNCTION dedup.drop_backup(regclass, boolean) IS
'drop a backup (journaled by backup_table, or named as one) once every row of it is in its source; force drops it anyway; journaled';

CREATE FUNCTION dedup.restore_backup(backup regclass, target regclass DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'dedup_restore_backup'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp SET row_security = off;
REVOKE ALL ON FUNCTION dedup.restore_backup(regclass, regclass) FROM PUBLIC;
COMMENT ON FUNCTION dedup.restore_backup(regclass, regclass) IS
'put a backup''s rows back (recreating the table if it was dropped) and verify the fingerprint';

CREATE FUNCTION dedup.undo(journal_id bigint)
RETURNS text
AS 'MODULE_PATHNAME', 'dedup_undo'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp SET row_security = off;
REVOKE ALL ON FUNCTION dedup.undo(bigint) FROM PUBLIC;
COMMENT ON FUNCTION dedup.undo(bigint) IS
'reverse a journal entry: recreate a dropped table with its dependents, or drop a backup';

-- Merge ---------------------------------------------------------------------

-- The triggers behind the compatibility view merge_extension leaves with the
-- extension's name (see src/compat_view.c); they run as the role that
-- writes.
CREATE FUNCTION dedup._compat_insert() RETURNS trigger
AS 'MODULE_PATHNAME', 'dedup_compat_insert'
LANGUAGE C SET search_path = pg_catalog, pg_temp;
CREATE FUNCTION dedup._compat_delete() RETURNS trigger
AS 'MODULE_PATHNAME', 'dedup_compat_delete'
LANGUAGE C SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION dedup._compat_insert(), dedup._compat_delete() FROM PUBLIC;

-- True when each pair of arguments holds the same stored value (or both are
-- null): record_image_eq() of two rows without forming them.  Used in the
-- comparisons of missing_rows and merge_rows.
CREATE FUNCTION dedup._same_values(VARIADIC "any") RETURNS boolean
AS 'MODULE_PATHNAME', 'dedup_same_values'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;

-- The filter of merge_rows' INSERT: true for a row whose key the keeper
-- lacks; the others are counted (already present, or a conflict).
CREATE FUNCTION dedup._merge_row(found boolean, same boolean) RETURNS boolean
AS 'MODULE_PATHNAME', 'dedup_merge_row'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;

CREATE FUNCTION dedup.missing_rows(source regclass, keeper regclass, key name[] DEFAULT NULL)
RETURNS TABLE (status text, row_data jsonb)
AS 'MODULE_PATHNAME', 'dedup_missing_rows'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp SET row_security = off;
COMMENT ON FUNCTION dedup.missing_rows(regclass, regclass, name[]) IS
'rows of source whose key the keeper lacks (missing) or holds with other values (conflict)';

CREATE FUNCTION dedup.merge_rows(source regclass, keeper regclass, key name[] DEFAULT NULL,
                                 drop_source boolean DEFAULT false)
RETURNS TABLE (inserted bigint, already_present bigint, conflicts bigint)
AS 'MODULE_PATHNAME', 'dedup_merge_rows'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp SET row_security = off;
REVOKE ALL ON FUNCTION dedup.merge_rows(regclass, regclass, name[], boolean) FROM PUBLIC;
COMMENT ON FUNCTION dedup.merge_rows(regclass, regclass, name[], boolean) IS
'insert the rows the keeper lacks, overwrite nothing; drop the source only when nothing would be lost';

CREATE FUNCTION dedup.unpartition(parent regclass, absorb boolean DEFAULT true)
RETURNS bigint
AS 'MODULE_PATHNAME', 'dedup_unpartition'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp SET row_security = off;
REVOKE ALL ON FUNCTION dedup.unpartition(regclass, boolean) FROM PUBLIC;
COMMENT ON FUNCTION dedup.unpartition(regclass, boolean) IS
'turn a partitioned table into one plain table of the same name, keeping every row, definition and dependent';

CREATE FUNCTION dedup.merge_extension(base regclass, extension regclass,
                                      on_conflict text DEFAULT 'error',
                                      compat_view boolean DEFAULT true,
                                      backup boolean DEFAULT true)
RETURNS TABLE (columns_added name[], rows_merged bigint, conflicts bigint, fks_repointed int)
AS 'MODULE_PATHNAME', 'dedup_merge_extension'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp SET row_security = off;
REVOKE ALL ON FUNCTION dedup.merge_extension(regclass, regclass, text, boolean, boolean) FROM PUBLIC;
COMMENT ON FUNCTION dedup.merge_extension(regclass, regclass, text, boolean, boolean) IS
'fold a 1:1 extension table into its base: columns added, values copied by key, FKs repointed, a compatibility view left behind';

CREATE FUNCTION dedup._merge_members(keeper regclass, extension regclass, look_alikes regclass[],
                                     keeper_name text, extension_name text)
RETURNS TABLE (step int, action text, target text, detail text)
AS 'MODULE_PATHNAME', 'dedup_merge_members'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp SET row_security = off;
REVOKE ALL ON FUNCTION dedup._merge_members(regclass, regclass, regclass[], text, text) FROM PUBLIC;

-- The one function that does not pin search_path: its only work is to
-- resolve the caller's table names with the caller's search_path (text
-- defaults, not regclass ones, which would be resolved now).  Everything in
-- it is schema-qualified; the work is done by dedup._merge_members, which
-- pins search_path.
CREATE FUNCTION dedup.merge_members(keeper text DEFAULT 'members',
                                    extension text DEFAULT 'community_members',
                                    look_alikes text[] DEFAULT NULL)
RETURNS TABLE (step int, action text, target text, detail text)
LANGUAGE sql VOLATILE
AS $$
  SELECT m.step, m.action, m.target, m.detail
    FROM dedup._merge_members(
           pg_catalog.to_regclass($1),
           pg_catalog.to_regclass($2),
           CASE WHEN $3 IS NULL THEN NULL
                ELSE ARRAY(SELECT pg_catalog.to_regclass(x) FROM pg_catalog.unnest($3) AS x) END,
           $1, $2) AS m
$$;
REVOKE ALL ON FUNCTION dedup.merge_members(text, text, text[]) FROM PUBLIC;
COMMENT ON FUNCTION dedup.merge_members(text, text, text[]) IS
'the whole consolidation of a keeper, its 1:1 extension and its look-alikes, in one transaction, one row per step';

-- Duplicate schema objects and drift (read-only) ---------------------------
-- Indexes, constraints, policies and triggers that repeat another one of the
-- same table, with the statement that drops the repeat, and how two
-- look-alike tables differ.  Like the discovery functions they keep EXECUTE
-- for PUBLIC; the schema's USAGE gates them.

CREATE FUNCTION dedup.duplicate_indexes(schemas name[] DEFAULT NULL)
RETURNS TABLE (
    tbl regclass,
    index regclass,
    duplicate_of regclass,
    kind text,
    index_bytes bigint,
    drop_sql text)
AS 'MODULE_PATHNAME', 'dedup_duplicate_indexes'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dedup.duplicate_indexes(name[]) IS
'indexes identical to another of their table, non-unique btrees that lead a longer one, and invalid indexes';

CREATE FUNCTION dedup.duplicate_constraints(schemas name[] DEFAULT NULL)
RETURNS TABLE (
    tbl regclass,
    constraint_name name,
    duplicate_of name,
    definition text,
    drop_sql text)
AS 'MODULE_PATHNAME', 'dedup_duplicate_constraints'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dedup.duplicate_constraints(name[]) IS
'constraints with the same type and definition as another of their table, under another name';

CREATE FUNCTION dedup.duplicate_policies(schemas name[] DEFAULT NULL)
RETURNS TABLE (
    tbl regclass,
    policy name,
    duplicate_of name,
    kind text,
    detail text,
    drop_sql text)
AS 'MODULE_PATHNAME', 'dedup_duplicate_policies'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dedup.duplicate_policies(name[]) IS
'identical row level security policies, and permissive policies that apply to one role for one command';

CREATE FUNCTION dedup.duplicate_triggers(schemas name[] DEFAULT NULL)
RETURNS TABLE (
    tbl regclass,
    trigger_name name,
    duplicate_of name,
    definition text,
    drop_sql text)
AS 'MODULE_PATHNAME', 'dedup_duplicate_triggers'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dedup.duplicate_triggers(name[]) IS
'triggers that fire the same function the same way as another of their table, under another name';

CREATE FUNCTION dedup.compare_tables(a regclass, b regclass)
RETURNS TABLE (
    object_type text,
    object_name text,
    in_a text,
    in_b text,
    difference text)
AS 'MODULE_PATHNAME', 'dedup_compare_tables'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION dedup.compare_tables(regclass, regclass) IS
'how two tables differ: columns, constraints, indexes, policies, triggers, RLS and grants';

-- Plan, apply, verify, report ------------------------------------------------

CREATE FUNCTION dedup.plan(schemas name[] DEFAULT NULL, merge_extensions boolean DEFAULT false)
RETURNS TABLE (step int, action text, target text, hazard text, reason text, sql text)
AS 'MODULE_PATHNAME', 'dedup_plan'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp SET row_security = off;
REVOKE ALL ON FUNCTION dedup.plan(name[], boolean) FROM PUBLIC;
COMMENT ON FUNCTION dedup.plan(name[], boolean) IS
'the steps that consolidate every duplicate group, in a safe order, with hazards and reasons; changes nothing, records a baseline in the journal';

CREATE FUNCTION dedup.verify(schemas name[] DEFAULT NULL)
RETURNS TABLE (check_name text, target text, ok boolean, detail text)
AS 'MODULE_PATHNAME', 'dedup_verify'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp SET row_security = off;
REVOKE ALL ON FUNCTION dedup.verify(name[]) FROM PUBLIC;
COMMENT ON FUNCTION dedup.verify(name[]) IS
'the database checked against the latest baseline: rows, NULLs, foreign keys and orphans, sequences, access, RLS, views, backups, groups left';

CREATE FUNCTION dedup.apply(schemas name[] DEFAULT NULL, merge_extensions boolean DEFAULT false)
RETURNS TABLE (step int, action text, target text, result text)
AS 'MODULE_PATHNAME', 'dedup_apply'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp SET row_security = off;
REVOKE ALL ON FUNCTION dedup.apply(name[], boolean) FROM PUBLIC;
COMMENT ON FUNCTION dedup.apply(name[], boolean) IS
'run the plan in the caller''s transaction as one journaled action (one dedup.undo() reverses it), then verify; all or nothing';

CREATE FUNCTION dedup.report(schemas name[] DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'dedup_report'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp SET row_security = off;
COMMENT ON FUNCTION dedup.report(name[]) IS
'the duplicate groups, the planned steps with their hazards and what stays, as one text; changes nothing';

CREATE FUNCTION dedup.plan_sql(schemas name[] DEFAULT NULL, merge_extensions boolean DEFAULT false)
RETURNS text
AS 'MODULE_PATHNAME', 'dedup_plan_sql'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp SET row_security = off;
REVOKE ALL ON FUNCTION dedup.plan_sql(name[], boolean) FROM PUBLIC;
COMMENT ON FUNCTION dedup.plan_sql(name[], boolean) IS
'the plan as one plain SQL script that needs no extension (hosted Supabase): guarded, re-runnable, one transaction; records a baseline';

CREATE FUNCTION dedup.rollback_sql(schemas name[] DEFAULT NULL, merge_extensions boolean DEFAULT false)
RETURNS text
AS 'MODULE_PATHNAME', 'dedup_rollback_sql'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp SET row_security = off;
REVOKE ALL ON FUNCTION dedup.rollback_sql(name[], boolean) FROM PUBLIC;
COMMENT ON FUNCTION dedup.rollback_sql(name[], boolean) IS
'the way back from the script of dedup.plan_sql(), from its backups, refusing when that would lose what changed since; plain SQL';
