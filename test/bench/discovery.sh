#!/usr/bin/env bash
# Benchmark: dedup.find_empty_duplicates() over 10,000 tables (2,000 base
# tables with 10 rows each, each with v3_, date, backup and _old empty
# look-alikes) against the named baseline, a PL/pgSQL loop that only runs
# SELECT NOT EXISTS (SELECT 1 FROM t) per table (max_locks_per_transaction
# is raised for it by the harness).  Target: ratio <= 0.5.
#
#   bash test/harness.sh bench discovery
set -euo pipefail
. "$(dirname "$0")/common.sh"
DB=dedup_bench_discovery
BASES=${BASES:-2000}

lookalike_db "$DB" "$BASES"
"${PSQL[@]}" -d "$DB" <<SQL
CREATE FUNCTION bench.not_exists_loop() RETURNS int LANGUAGE plpgsql AS \$\$
DECLARE r record; empty boolean; n int := 0;
BEGIN
  FOR r IN SELECT c.oid::regclass AS t FROM pg_class c
            WHERE c.relnamespace = 'bench'::regnamespace AND c.relkind IN ('r', 'p') LOOP
    EXECUTE format('SELECT NOT EXISTS (SELECT 1 FROM %s)', r.t) INTO empty;
    IF empty THEN n := n + 1; END IF;
  END LOOP;
  RETURN n;
END \$\$;
SQL
echo "tables: $("${PSQL[@]}" -d "$DB" -At -c "SELECT count(*) FROM pg_class WHERE relnamespace = 'bench'::regnamespace AND relkind = 'r'")"
echo "empty duplicates found: $("${PSQL[@]}" -d "$DB" -At -c "SELECT count(*) FROM dedup.find_empty_duplicates('{bench}')")"
echo "empty tables found by the loop: $("${PSQL[@]}" -d "$DB" -At -c "SELECT bench.not_exists_loop()")"
compare "find_empty_duplicates" "SELECT count(*) FROM dedup.find_empty_duplicates('{bench}');" \
	"not_exists_loop" "SELECT bench.not_exists_loop();" "$DB" "${ROUNDS:-5}"
