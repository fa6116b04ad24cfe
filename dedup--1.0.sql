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
    verdict text)
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
    drop_order int)
AS 'MODULE_PATHNAME', 'dedup_find_empty_duplicates'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION dedup.find_empty_duplicates(name[]) IS
'empty duplicates, whether each can be dropped, what blocks it, and a safe drop order';
