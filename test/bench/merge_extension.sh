#!/usr/bin/env bash
# Benchmark: dedup.merge_extension(backup => false) on 1,000,000 base rows
# and 1,000,000 extension rows (5 extension columns) against the named
# baseline, hand-written SQL (ALTER TABLE ... ADD COLUMN x5, UPDATE ... FROM,
# DROP TABLE), side by side in one run, each round on a fresh copy of the
# same database.  A reader runs a point query on the base every 10 ms
# meanwhile; the longest reader stall is its slowest query.  Targets: ratio <= 1.2,
# longest stall < 200 ms.
#
#   bash test/harness.sh bench merge_extension
set -euo pipefail
. "$(dirname "$0")/common.sh"
ROWS=${ROWS:-1000000}
ROUNDS=${ROUNDS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"${PSQL[@]}" -c "CREATE DATABASE bench_ext_template"
"${PSQL[@]}" -d bench_ext_template <<SQL
CREATE EXTENSION dedup;
CREATE TABLE base (id bigint PRIMARY KEY, name text NOT NULL, email text);
INSERT INTO base SELECT g, 'name ' || g, 'user' || g || '@example.org' FROM generate_series(1, $ROWS) g;
CREATE TABLE ext (id bigint PRIMARY KEY REFERENCES base, a int, b text, c timestamptz, d boolean, e numeric);
INSERT INTO ext SELECT g, g % 1000, md5(g::text), '2026-01-01'::timestamptz + g * interval '1 minute',
                       g % 2 = 0, g / 7.0 FROM generate_series(1, $ROWS) g;
VACUUM ANALYZE;
SQL

dedup_sql="SELECT * FROM dedup.merge_extension('base', 'ext', backup => false);"
hand_sql="BEGIN;
ALTER TABLE base ADD COLUMN a int, ADD COLUMN b text, ADD COLUMN c timestamptz, ADD COLUMN d boolean, ADD COLUMN e numeric;
UPDATE base SET a = ext.a, b = ext.b, c = ext.c, d = ext.d, e = ext.e FROM ext WHERE ext.id = base.id;
DROP TABLE ext;
COMMIT;"

# run NAME SQL: a fresh database, a reader alongside; prints "ms stall_ms"
run() {
	local name=$1 sql=$2 db="bench_ext_$1" t stall
	"${PSQL[@]}" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db TEMPLATE bench_ext_template"
	"${PSQL[@]}" -d "$db" -c "CHECKPOINT" -c "SELECT count(*) FROM base" >/dev/null
	# the reader: one session, a point query every 10 ms, each one timed
	# (lock waits included); SIGINT ends \watch and psql flushes its output
	# (the id is drawn once per query, in a sub-select, so the primary key is used)
	printf '\\timing on\nSELECT name FROM base WHERE id = (SELECT (random() * %d)::int + 1) \\watch 0.01\n' "$ROWS" |
		"${PSQL[@]}" -d "$db" >"$work/reader.log" 2>&1 &
	local reader=$!
	sleep 1
	t=$(time_sql "$db" "$sql" | tail -1)
	sleep 0.5
	pkill -INT -f "psql.*-d $db" 2>/dev/null || true
	wait "$reader" 2>/dev/null || true
	stall=$(grep -o 'Time: [0-9.]*' "$work/reader.log" | awk '{ if ($2 > m) m = $2 } END { printf "%.1f", m }')
	echo "$t $stall"
}

fa=$(mktemp) fb=$(mktemp)
for i in $(seq "$ROUNDS"); do
	read -r ta sa < <(run dedup "$dedup_sql")
	read -r tb sb < <(run hand "$hand_sql")
	echo "$ta $sa" >>"$fa"
	echo "$tb $sb" >>"$fb"
	printf '  round %d: merge_extension %9s ms (longest reader stall %8s ms)   hand-written SQL %9s ms (stall %8s ms)\n' \
		"$i" "$ta" "$sa" "$tb" "$sb"
done
ma=$(cut -d' ' -f1 "$fa" | median) mb=$(cut -d' ' -f1 "$fb" | median)
sa=$(cut -d' ' -f2 "$fa" | sort -n | tail -1) sb=$(cut -d' ' -f2 "$fb" | sort -n | tail -1)
printf 'median: merge_extension %s ms, hand-written SQL %s ms, ratio %.3f; longest reader stall: merge_extension %s ms, hand-written %s ms\n' \
	"$ma" "$mb" "$(awk -v a="$ma" -v b="$mb" 'BEGIN {print a / b}')" "$sa" "$sb"
rm -f "$fa" "$fb"
