# Shared helpers for test/bench/*.sh (sourced; never run in CI).
# Expects PGHOST/PGPORT/PGUSER from test/harness.sh bench.
PSQL=("${PGBIN:-/usr/lib/postgresql/${PGVER:-15}/bin}/psql" -X -q -v ON_ERROR_STOP=1)

# time_sql DB SQL: prints the server-side duration of SQL in milliseconds
time_sql() {
	"${PSQL[@]}" -d "$1" -At <<SQL
SELECT clock_timestamp() AS t0 \gset
$2
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000, 1);
SQL
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# compare NAME_A SQL_A NAME_B SQL_B DB ROUNDS: interleaved A/B runs, medians, ratio A/B
compare() {
	local na=$1 sa=$2 nb=$3 sb=$4 db=$5 rounds=${6:-5} i ta tb
	local fa fb
	fa=$(mktemp) fb=$(mktemp)
	time_sql "$db" "$sa" >/dev/null	# warm-up
	time_sql "$db" "$sb" >/dev/null
	for i in $(seq "$rounds"); do
		ta=$(time_sql "$db" "$sa" | tail -1)
		tb=$(time_sql "$db" "$sb" | tail -1)
		echo "$ta" >>"$fa"
		echo "$tb" >>"$fb"
		printf '  round %d: %-28s %9s ms   %-28s %9s ms\n' "$i" "$na" "$ta" "$nb" "$tb"
	done
	ta=$(median <"$fa") tb=$(median <"$fb")
	rm -f "$fa" "$fb"
	printf 'median: %s %s ms, %s %s ms, ratio %.3f\n' "$na" "$ta" "$nb" "$tb" \
		"$(awk -v a="$ta" -v b="$tb" 'BEGIN {print a / b}')"
}

# lookalike_db DB BASES: schema bench with BASES base tables of 10 rows, each
# with v3_, _2026_01, _backup_20260118 and _old empty look-alikes
# (5 x BASES tables); the database the discovery and plan benchmarks share.
lookalike_db() {
	local db=$1 bases=$2
	"${PSQL[@]}" -c "CREATE DATABASE $db"
	"${PSQL[@]}" -d "$db" <<SQL
SET client_min_messages = warning;
CREATE EXTENSION dedup;
CREATE SCHEMA bench;
DO \$\$
BEGIN
  FOR i IN 1..$bases LOOP
    EXECUTE format('CREATE TABLE bench.%I (id int PRIMARY KEY, name text, created_at timestamptz)', 'entity' || i);
    EXECUTE format('INSERT INTO bench.%I SELECT g, %L, now() FROM generate_series(1, 10) g', 'entity' || i, 'n');
    EXECUTE format('CREATE TABLE bench.%I (LIKE bench.%I)', 'v3_entity' || i, 'entity' || i);
    EXECUTE format('CREATE TABLE bench.%I (LIKE bench.%I)', 'entity' || i || '_2026_01', 'entity' || i);
    EXECUTE format('CREATE TABLE bench.%I (LIKE bench.%I)', 'entity' || i || '_backup_20260118', 'entity' || i);
    EXECUTE format('CREATE TABLE bench.%I (LIKE bench.%I)', 'entity' || i || '_old', 'entity' || i);
    IF i % 200 = 0 THEN COMMIT; END IF;
  END LOOP;
END \$\$;
VACUUM ANALYZE;
SQL
}
