#!/usr/bin/env bash
# Benchmark: dedup.backup_table() (copy, fingerprint, read back and verify,
# journal) against the named baseline, a plain
# CREATE TABLE ... AS SELECT * FROM t, side by side in one run, on tables of
# 300,000 and 1,000,000 rows and 20 columns of mixed types; each run is
# rolled back.  The harness's bench cluster has production settings: fsync
# on, default WAL settings.  Target: ratio <= 1.15 at both sizes.
#
#   bash test/harness.sh bench backup                 # 300,000 then 1,000,000 rows
#   ROWS=1000000 ROUNDS=11 bash test/harness.sh bench backup
set -euo pipefail
. "$(dirname "$0")/common.sh"
DB=dedup_bench_backup

"${PSQL[@]}" -c "CREATE DATABASE $DB"
"${PSQL[@]}" -d "$DB" -c "CREATE EXTENSION dedup"
echo "PostgreSQL: $("${PSQL[@]}" -d "$DB" -At -c "SELECT version()")"
echo "settings: $("${PSQL[@]}" -d "$DB" -At -c "SELECT string_agg(name || '=' || setting, ', ' ORDER BY name)
  FROM pg_settings WHERE name IN ('fsync', 'wal_level', 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'max_wal_size')")"
for rows in ${ROWS:-300000 1000000}; do
	"${PSQL[@]}" -d "$DB" <<SQL
DROP TABLE IF EXISTS bench_src;
CREATE TABLE bench_src (
  id bigint PRIMARY KEY, a int, b int, c bigint, d numeric(12,2), e text, f text,
  g timestamptz, h date, i boolean, j float8, k float4, l text, m uuid, n smallint,
  o text, p jsonb, q int[], r varchar(40), s bytea);
INSERT INTO bench_src
SELECT g, g % 1000, g % 7, g * 3, g / 3.0, 'name ' || g, md5(g::text),
       '2026-01-01'::timestamptz + g * interval '1 second', '2026-01-01'::date + g % 365,
       g % 2 = 0, g * 0.5, g * 0.25, repeat('x', g % 50), md5(g::text)::uuid, (g % 30000)::smallint,
       CASE WHEN g % 10 = 0 THEN NULL ELSE 'note' END, jsonb_build_object('k', g), ARRAY[g % 10, g % 100],
       'v' || g, decode(md5(g::text), 'hex')
  FROM generate_series(1, $rows) g;
VACUUM ANALYZE bench_src;
CHECKPOINT;
SQL
	echo "rows: $rows, columns: 20, size: $("${PSQL[@]}" -d "$DB" -At -c "SELECT pg_size_pretty(pg_table_size('bench_src'))")"
	compare "backup_table" "BEGIN; SELECT dedup.backup_table('bench_src', 'bench_bak'); ROLLBACK;" \
		"create_table_as" "BEGIN; CREATE TABLE bench_ctas AS SELECT * FROM bench_src; ROLLBACK;" \
		"$DB" "${ROUNDS:-5}"
done
