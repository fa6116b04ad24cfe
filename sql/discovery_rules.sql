-- Grouping rules, keepers, exact emptiness, blockers and drop order, each
-- on a small schema of its own so every rule is shown in isolation.
CREATE SCHEMA r;
SET search_path = r, public;

-- Emptiness is exact: statistics are hints only. ------------------------
-- A never-analyzed table with rows has relpages = 0: not empty.
CREATE TABLE notes (id int PRIMARY KEY, body text);
CREATE TABLE notes_old (id int PRIMARY KEY, body text);
INSERT INTO notes_old VALUES (1, 'kept');
SELECT relpages, reltuples FROM pg_class WHERE oid = 'r.notes_old'::regclass;
-- A table whose rows were all deleted (not vacuumed) still has pages: empty.
CREATE TABLE logs (id int PRIMARY KEY);
CREATE TABLE logs_bak (id int PRIMARY KEY);
INSERT INTO logs_bak SELECT generate_series(1, 1000);
ANALYZE logs_bak;
DELETE FROM logs_bak;
SELECT relpages > 0 AS has_pages, reltuples FROM pg_class WHERE oid = 'r.logs_bak'::regclass;
SELECT tbl, is_empty, est_rows FROM dedup.inventory('{r}') ORDER BY tbl::text;
-- notes_old is the only member with rows, so it is the keeper.
SELECT group_id, tbl, role, row_count, evidence, verdict FROM dedup.duplicate_groups('{r}');
DROP TABLE notes, notes_old, logs, logs_bak;

-- Keepers. -------------------------------------------------------------
-- Several members hold rows: the base name keeps.
CREATE TABLE accounts (id int PRIMARY KEY, name text);
CREATE TABLE accounts_v2 (id int PRIMARY KEY, name text, plan text);
INSERT INTO accounts VALUES (1, 'a'), (2, 'b');
INSERT INTO accounts_v2 VALUES (1, 'a', 'free'), (2, 'B', 'pro'), (3, 'c', 'pro'), (4, 'd', NULL);
-- No base name: the most referenced keeps.
CREATE TABLE old_orders (id int PRIMARY KEY);
CREATE TABLE new_orders (id int PRIMARY KEY);
CREATE TABLE invoices (id int PRIMARY KEY, order_id int REFERENCES new_orders);
-- No base name, no references: first by name.
CREATE TABLE tmp_tags (id int PRIMARY KEY);
CREATE TABLE bak_tags (id int PRIMARY KEY);
SELECT group_id, keeper, tbl, role, is_empty, row_count, evidence, verdict
  FROM dedup.duplicate_groups('{r}');
DROP TABLE accounts, accounts_v2, old_orders, new_orders, invoices, tmp_tags, bak_tags;

-- Name families. --------------------------------------------------------
-- Date suffixes in every form, leftovers combined with dates, prefixes,
-- and transitivity (visits_full_orphans -> visits_full -> visits).
CREATE TABLE visits (id int PRIMARY KEY, at date);
CREATE TABLE visits_2026_01 (id int PRIMARY KEY, at date);
CREATE TABLE visits_202602 (id int PRIMARY KEY, at date);
CREATE TABLE visits_2026_03_18 (id int PRIMARY KEY, at date);
CREATE TABLE visits_20260419 (id int PRIMARY KEY, at date);
CREATE TABLE visits_p2026_05 (id int PRIMARY KEY, at date);
CREATE TABLE visits_backup_20260118 (id int PRIMARY KEY, at date);
CREATE TABLE "Visits_Full" (id int PRIMARY KEY, at date);
CREATE TABLE visits_full_orphans (id int PRIMARY KEY, at date);
CREATE TABLE v3_visits (id int PRIMARY KEY, at date, extra text);
CREATE TABLE visits_copy (id int PRIMARY KEY, at date);
CREATE TABLE visits_deprecated (id int PRIMARY KEY, at date);
-- Not dates, not leftovers: these stand alone.
CREATE TABLE visits_2026 (id int PRIMARY KEY);
CREATE TABLE visits_2026_13 (id int PRIMARY KEY);
CREATE TABLE visitsold (id int PRIMARY KEY);
CREATE TABLE old (id int PRIMARY KEY);
CREATE TABLE old_new (id int PRIMARY KEY);
SELECT tbl, role, evidence, verdict FROM dedup.duplicate_groups('{r}');
SELECT tbl FROM dedup.inventory('{r}') i
 WHERE NOT EXISTS (SELECT 1 FROM dedup.duplicate_groups('{r}') g WHERE g.tbl = i.tbl)
 ORDER BY 1;
DROP TABLE visits, visits_2026_01, visits_202602, visits_2026_03_18, visits_20260419,
  visits_p2026_05, visits_backup_20260118, "Visits_Full", visits_full_orphans, v3_visits,
  visits_copy, visits_deprecated, visits_2026, visits_2026_13, visitsold, old, old_new;

-- ORM twins are weak evidence: similarity >= 0.5 and no FK between them.
CREATE TABLE orders (id int PRIMARY KEY, total numeric, status text, placed_at timestamptz);
CREATE TABLE shop_order (id int PRIMARY KEY, total numeric, status text, placed_at timestamptz, customer_id int);
CREATE TABLE sales_order (id int PRIMARY KEY, sku text, qty int, warehouse text);
CREATE TABLE order_lines (order_id int REFERENCES orders, line int, total numeric, status text, PRIMARY KEY (order_id, line));
CREATE TABLE categories (id int PRIMARY KEY, name text);
CREATE TABLE category (id int PRIMARY KEY, name text);
SELECT tbl, role, round(similarity::numeric, 2) AS similarity, evidence
  FROM dedup.duplicate_groups('{r}');
DROP TABLE order_lines, orders, shop_order, sales_order, categories, category;

-- Partitions and inheritance. ------------------------------------------
-- Attached partitions (with data) belong to their parent; a standalone
-- table named like a partition is a duplicate of the parent.
CREATE TABLE events (id int, at date NOT NULL, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE events_2026_01 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE events_2026_02 PARTITION OF events FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
INSERT INTO events VALUES (1, '2026-01-05');
CREATE TABLE events_2026_03 (id int, at date NOT NULL, PRIMARY KEY (id, at));
-- A partitioned table is empty only when every partition is.
CREATE TABLE pings (id int, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE pings_2026_01 PARTITION OF pings FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE pings_old (id int, at date NOT NULL);
INSERT INTO pings_old VALUES (1, '2025-12-31');
-- Inheritance children belong to their parent too.
CREATE TABLE cities (name text, population int);
CREATE TABLE cities_old () INHERITS (cities);
CREATE TABLE cities_2026_01 (name text, population int);
INSERT INTO cities_old VALUES ('Lyon', 500000);
SELECT tbl, kind, is_empty FROM dedup.inventory('{r}') ORDER BY tbl::text;
SELECT group_id, keeper, tbl, role, is_empty, row_count, verdict FROM dedup.duplicate_groups('{r}');
-- pings_old is the only member with rows, so the empty partitioned pings
-- is the duplicate: blocked by its attached partition.
SELECT duplicate, safe_to_drop, blockers, drop_order FROM dedup.find_empty_duplicates('{r}');
DROP TABLE events, events_2026_03, pings, pings_old, cities CASCADE;
DROP TABLE cities_2026_01;

-- Blockers and drop order. ---------------------------------------------
CREATE TABLE items (id int PRIMARY KEY);
INSERT INTO items VALUES (1);
CREATE TABLE items_old (id int PRIMARY KEY);             -- viewed
CREATE VIEW items_old_view AS SELECT * FROM items_old;
CREATE TABLE items_new (id int PRIMARY KEY);             -- referenced by a live table
CREATE TABLE live (id int PRIMARY KEY, item_id int REFERENCES items_new);
CREATE TABLE items_copy (id int PRIMARY KEY);            -- in a publication
SET client_min_messages = error;  -- not the wal_level warning, worded otherwise on 17
CREATE PUBLICATION items_pub FOR TABLE items_copy;
RESET client_min_messages;
CREATE TABLE items_tmp (id int PRIMARY KEY);             -- a rule on another table reads it
CREATE TABLE audit (id int);
CREATE RULE audit_items AS ON INSERT TO audit DO ALSO SELECT * FROM items_tmp;
CREATE TABLE items_bak (id int PRIMARY KEY);             -- referenced by an empty duplicate: fine
CREATE TABLE items_temp (id int PRIMARY KEY, bak_id int REFERENCES items_bak);
CREATE TABLE items_v2 (id int PRIMARY KEY, other int);   -- a cycle of two empty duplicates
CREATE TABLE items_v3 (id int PRIMARY KEY, other int REFERENCES items_v2);
ALTER TABLE items_v2 ADD FOREIGN KEY (other) REFERENCES items_v3;
CREATE TABLE items_archive (id int PRIMARY KEY REFERENCES items_archive); -- self reference: fine
SELECT duplicate, keeper, keeper_rows, safe_to_drop, blockers, drop_order
  FROM dedup.find_empty_duplicates('{r}') ORDER BY drop_order, duplicate::text;
SELECT tbl, verdict FROM dedup.duplicate_groups('{r}');
DROP PUBLICATION items_pub;
DROP TABLE items, items_old CASCADE;
DROP TABLE items_new, live, items_copy, items_tmp, audit, items_bak, items_temp, items_archive;
DROP TABLE items_v2, items_v3 CASCADE;

-- Members with rows are compared with the keeper on its primary key. -----
CREATE TABLE people (id int PRIMARY KEY, name text, email text);
INSERT INTO people VALUES (1, 'Ann', 'ann@x'), (2, 'Bob', NULL);
CREATE TABLE people_old (id int PRIMARY KEY, name text, email text);
INSERT INTO people_old VALUES (1, 'Ann', 'ann@x'), (2, 'Bob', NULL);
CREATE TABLE people_new (id int PRIMARY KEY, name text, email text, phone text);
INSERT INTO people_new VALUES (1, 'Ann', 'ann@y', NULL), (3, 'Cy', NULL, '555'), (4, 'Di', NULL, NULL);
CREATE TABLE people_copy (uid int PRIMARY KEY, name text);   -- no shared key
INSERT INTO people_copy VALUES (9, 'Zed');
CREATE TABLE people_tmp (id bigint PRIMARY KEY, name text);  -- key of another type
INSERT INTO people_tmp VALUES (1, 'Ann');
SELECT tbl, role, row_count, verdict FROM dedup.duplicate_groups('{r}');
DROP TABLE people, people_old, people_new, people_copy, people_tmp;

-- 1:1 extensions are never empty duplicates; two of one base (disjoint
-- columns) are subtypes of a supertype, not copies: no group. ---
CREATE TABLE accounts (id int PRIMARY KEY, email text);
CREATE TABLE account_settings (account_id int PRIMARY KEY REFERENCES accounts, theme text);
CREATE TABLE account_flags (id int PRIMARY KEY REFERENCES accounts, flag text);
CREATE TABLE account_logins (id int PRIMARY KEY, account_id int REFERENCES accounts);  -- 1:n, not an extension
INSERT INTO accounts VALUES (1, 'a@x');
SELECT tbl, role, is_empty, evidence, verdict FROM dedup.duplicate_groups('{r}');
SELECT count(*) AS empty_duplicates FROM dedup.find_empty_duplicates('{r}');
DROP TABLE account_settings, account_flags, account_logins, accounts;

-- What the caller cannot read is reported as unknown, never guessed. -----
CREATE TABLE secrets (id int PRIMARY KEY);
CREATE TABLE secrets_old (id int PRIMARY KEY);
CREATE TABLE shared_notes (id int PRIMARY KEY, owner name);
CREATE TABLE shared_notes_old (id int PRIMARY KEY, owner name);
INSERT INTO secrets VALUES (1);
INSERT INTO shared_notes VALUES (1, 'someone_else');
ALTER TABLE shared_notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_notes ON shared_notes USING (owner = current_user);
CREATE ROLE dedup_reader;
GRANT USAGE ON SCHEMA dedup, r TO dedup_reader;
GRANT SELECT ON secrets_old, shared_notes, shared_notes_old TO dedup_reader;
SET ROLE dedup_reader;
SELECT tbl, is_empty FROM dedup.inventory('{r}') ORDER BY tbl::text;
SELECT tbl, role, is_empty, row_count, verdict FROM dedup.duplicate_groups('{r}');
RESET ROLE;
DROP TABLE secrets, secrets_old, shared_notes, shared_notes_old;
REVOKE ALL ON SCHEMA dedup, r FROM dedup_reader;
DROP ROLE dedup_reader;

RESET search_path;
DROP SCHEMA r;
