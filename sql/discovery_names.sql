-- Hostile names are normal names: quotes, spaces, upper case, Unicode and
-- 63-byte names are grouped, quoted and reported correctly, and schemas
-- with the same table names form separate groups.
CREATE SCHEMA "We""ird Schema";
SET search_path = "We""ird Schema";
CREATE TABLE "Quote""d Table" (id int PRIMARY KEY, "Select" text);
CREATE TABLE "quote""d table_old" (id int PRIMARY KEY, "Select" text);
INSERT INTO "Quote""d Table" VALUES (1, 'x');
CREATE TABLE "MixedCase" (id int PRIMARY KEY);
CREATE TABLE "MIXEDCASE_Backup_20260118" (id int PRIMARY KEY);
CREATE TABLE "café_menü" (id int PRIMARY KEY, "prix €" numeric);
CREATE TABLE "café_menü_v2" (id int PRIMARY KEY, "prix €" numeric);
INSERT INTO "café_menü_v2" VALUES (1, 2.5);
-- 63 bytes: the longest name PostgreSQL keeps.
CREATE TABLE aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_backup (id int PRIMARY KEY);
CREATE TABLE aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa (id int PRIMARY KEY);
-- 63 bytes of Unicode (2-byte letters) with a date suffix.
CREATE TABLE "ééééééééééééééééééééééééééabc_2026_01" (id int PRIMARY KEY);
CREATE TABLE "ééééééééééééééééééééééééééabc" (id int PRIMARY KEY);
SELECT octet_length(table_name) AS bytes, table_name FROM dedup.inventory('{"We\"ird Schema"}')
 ORDER BY 2;
SELECT group_id, keeper, tbl, role, row_count, evidence, verdict
  FROM dedup.duplicate_groups(ARRAY['We"ird Schema']::name[]);
SELECT duplicate, safe_to_drop, drop_order
  FROM dedup.find_empty_duplicates(ARRAY['We"ird Schema']::name[]) ORDER BY drop_order;
RESET search_path;
DROP SCHEMA "We""ird Schema" CASCADE;

-- The same names in two schemas: two groups, never one across schemas.
CREATE SCHEMA tenant_a;
CREATE SCHEMA tenant_b;
CREATE TABLE tenant_a.items (id int PRIMARY KEY);
CREATE TABLE tenant_a.items_old (id int PRIMARY KEY);
CREATE TABLE tenant_b.items (id int PRIMARY KEY);
CREATE TABLE tenant_b.items_old (id int PRIMARY KEY);
INSERT INTO tenant_b.items_old VALUES (1);
SELECT group_id, keeper, tbl, role, is_empty FROM dedup.duplicate_groups('{tenant_a,tenant_b}');
-- A table of one schema is never a duplicate of the other's.
CREATE TABLE tenant_b.lonely (id int);
CREATE TABLE tenant_a.lonely_old (id int);
SELECT count(*) FROM dedup.duplicate_groups('{tenant_a,tenant_b}')
 WHERE tbl::text LIKE '%lonely%';
DROP SCHEMA tenant_a, tenant_b CASCADE;

-- Planted objects in the caller's search_path change nothing.
CREATE SCHEMA trap;
CREATE FUNCTION trap.count(anyelement) RETURNS bigint LANGUAGE sql AS 'SELECT 42::bigint';
CREATE FUNCTION trap.quote_ident(text) RETURNS text LANGUAGE sql AS 'SELECT ''x''::text';
CREATE FUNCTION trap.int4eq_evil(int, int) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR trap.= (LEFTARG = int, RIGHTARG = int, FUNCTION = trap.int4eq_evil);
CREATE TABLE trap.pg_class (oid oid);
CREATE TABLE trap.t (id int PRIMARY KEY);
CREATE TABLE trap.t_old (id int PRIMARY KEY);
INSERT INTO trap.t VALUES (1), (2);
INSERT INTO trap.t_old VALUES (1), (3);
SET search_path = trap, pg_catalog;
SELECT tbl, row_count, verdict FROM dedup.duplicate_groups('{trap}');
RESET search_path;
DROP SCHEMA trap CASCADE;
