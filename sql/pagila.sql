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
