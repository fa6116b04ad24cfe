-- Duplicate schema objects on the Pagila sample database (real schema
-- nobody here wrote).  What dedup finds, each finding checked by hand in
-- pagila-schema.sql:
--   indexes: each of the partitions payment_p2022_01 .. _06 has two
--     identical btree indexes on customer_id, created under two names by
--     two separate statements (idx_fk_payment_p2022_0N_customer_id, then
--     payment_p2022_0N_customer_id_idx further down the dump); neither is
--     attached to an index of payment (payment has none), no constraint owns
--     either, so the second one is a plain duplicate and its drop is
--     suggested.  payment_p2022_07 has neither index: nothing to report.
--   constraints, policies, triggers: none.  Pagila's last_updated triggers
--     are one per table (film's film_fulltext_trigger runs another function),
--     its foreign keys and checks are each defined once,
--     and it has no row level security policies.
CREATE DATABASE dedup_pagila_objects;
\c dedup_pagila_objects
\i test/fixtures/pagila.psql
CREATE EXTENSION dedup;
SELECT tbl, index, duplicate_of, kind, drop_sql FROM dedup.duplicate_indexes();
-- the two indexes of each pair are the same index, field for field
SELECT d.tbl, pg_get_indexdef(d.index, 1, false) AS key,
       a.indkey::text = b.indkey::text AND a.indclass::text = b.indclass::text
       AND a.indcollation::text = b.indcollation::text AND a.indoption::text = b.indoption::text
       AND a.indisunique = b.indisunique AND a.indexprs IS NULL AND b.indexprs IS NULL
       AND a.indpred IS NULL AND b.indpred IS NULL AS same_fields
  FROM dedup.duplicate_indexes() d
  JOIN pg_index a ON a.indexrelid = d.index
  JOIN pg_index b ON b.indexrelid = d.duplicate_of;
SELECT * FROM dedup.duplicate_constraints();
SELECT * FROM dedup.duplicate_policies();
SELECT * FROM dedup.duplicate_triggers();
-- Two partitions are alike (their indexes match by definition, whatever
-- their names); the last partition has none of the other partitions'
-- indexes and foreign keys.
SELECT * FROM dedup.compare_tables('payment_p2022_01', 'payment_p2022_02');
SELECT object_type, object_name, in_a, in_b, difference
  FROM dedup.compare_tables('payment_p2022_01', 'payment_p2022_07');
-- Dropping what dedup suggests leaves one customer_id index per partition.
BEGIN;
SELECT drop_sql FROM dedup.duplicate_indexes() \gexec
SELECT count(*) AS left_over FROM dedup.duplicate_indexes();
SELECT indrelid::regclass AS partition, count(*) AS customer_id_indexes
  FROM pg_index
 WHERE indrelid::regclass::text LIKE 'payment_p2022_%'
   AND pg_get_indexdef(indexrelid, 1, false) = 'customer_id'
 GROUP BY 1 ORDER BY 1;
ROLLBACK;
\c contrib_regression
DROP DATABASE dedup_pagila_objects;
