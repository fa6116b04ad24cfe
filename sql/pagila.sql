-- The Pagila sample database (real data nobody here wrote): payment is
-- partitioned by month and its payment_p2022_* partitions hold data; no
-- group may list them, and nothing in Pagila is an empty duplicate.
CREATE DATABASE dedup_pagila;
\c dedup_pagila
\i test/fixtures/pagila.psql
CREATE EXTENSION dedup;
SELECT count(*) AS payments FROM payment;
SELECT tbl, kind, is_empty, primary_key FROM dedup.inventory() WHERE tbl::text LIKE 'payment%';
SELECT count(*) AS tables, count(*) FILTER (WHERE is_empty) AS empty
  FROM dedup.inventory();
SELECT * FROM dedup.duplicate_groups();
SELECT * FROM dedup.find_empty_duplicates();
-- A stray monthly copy next to the real partitions is a duplicate of
-- payment; the attached partitions still are not.
CREATE TABLE public.payment_p2022_08 (LIKE public.payment INCLUDING ALL);
SELECT group_id, tbl, role, is_empty, verdict FROM dedup.duplicate_groups();
SELECT duplicate, keeper, keeper_rows, safe_to_drop FROM dedup.find_empty_duplicates();
-- The plan with look-alikes added (a stray monthly copy, an empty leftover,
-- a copy with rows, a backup): it leaves payment and every one of its
-- partitions alone, and apply() then verify() find everything in order.
CREATE TABLE public.customer_old (LIKE public.customer INCLUDING ALL);
CREATE TABLE public.store_copy AS SELECT * FROM public.store;
ALTER TABLE public.store_copy ADD PRIMARY KEY (store_id);
CREATE TABLE public.film_backup AS SELECT * FROM public.film;
SET dedup.backup_suffix = 'pagila';
SELECT step, action, target, hazard FROM dedup.plan();
SELECT count(*) AS steps_on_payment_or_its_partitions
  FROM dedup.plan() p
 WHERE p.action <> 'verify'
   AND (to_regclass(p.target) = 'payment'::regclass
        OR to_regclass(p.target) IN (SELECT relid FROM pg_partition_tree('payment')));
BEGIN;
SELECT step, action, target, result FROM dedup.apply() WHERE action <> 'keep';
SELECT check_name, ok FROM dedup.verify() WHERE ok IS NOT TRUE;
SELECT count(*) AS partitions, (SELECT count(*) FROM payment) AS payments
  FROM pg_partition_tree('payment') WHERE isleaf;
ROLLBACK;
DROP TABLE customer_old, store_copy, film_backup;
RESET dedup.backup_suffix;
-- unpartition('payment') keeps all 16,049 payments and every foreign key:
-- the partitions' own foreign keys and indexes become the table's, and the
-- views and materialized view over payment come back.
DROP TABLE payment_p2022_08;
SELECT count(*) AS payments, sum(amount) AS amount FROM payment;
SELECT count(*) AS sales FROM sales_by_store;
SELECT relispopulated AS rental_by_category_populated FROM pg_class WHERE relname = 'rental_by_category';
SELECT dedup.unpartition('payment');
SELECT relkind, (SELECT count(*) FROM payment) AS payments, (SELECT sum(amount) FROM payment) AS amount
  FROM pg_class WHERE oid = 'payment'::regclass;
SELECT conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint
 WHERE conrelid = 'payment'::regclass ORDER BY 1;
SELECT indexrelid::regclass, pg_get_indexdef(indexrelid) FROM pg_index
 WHERE indrelid = 'payment'::regclass ORDER BY 1;
SELECT count(*) AS sales FROM sales_by_store;
-- the materialized view comes back as it was (not populated), and works
SELECT relispopulated AS rental_by_category_populated FROM pg_class WHERE relname = 'rental_by_category';
REFRESH MATERIALIZED VIEW rental_by_category;
SELECT count(*) AS categories FROM rental_by_category;
\c contrib_regression
DROP DATABASE dedup_pagila;
