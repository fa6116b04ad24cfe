#!/usr/bin/env bash
# Benchmark: dedup.plan() over 10,000 tables (the discovery benchmark's
# database: 2,000 base tables of 10 rows, each with v3_, date, backup and
# _old empty look-alikes) against the named baseline,
# dedup.find_empty_duplicates() on the same tables.  Target: ratio <= 2.
# Then dedup.apply() on that plan (6,000 drops): refused before it changes
# anything, saying how many locks it needs and which setting to raise.
#
#   bash test/harness.sh bench plan
#
# With BASES=20000 (100,000 tables; not part of any check): plan(),
# report(), inventory() and find_empty_duplicates() timed one after the
# other, medians of ROUNDS rounds.  Target: each under 5 s.
set -euo pipefail
. "$(dirname "$0")/common.sh"
DB=dedup_bench_plan
BASES=${BASES:-2000}

lookalike_db "$DB" "$BASES"
echo "tables: $("${PSQL[@]}" -d "$DB" -At -c "SELECT count(*) FROM pg_class WHERE relnamespace = 'bench'::regnamespace AND relkind = 'r'")"
echo "plan: $("${PSQL[@]}" -d "$DB" -At -c "SELECT string_agg(format('%s %s', n, action), ', ') FROM (SELECT action, count(*) AS n FROM dedup.plan('{bench}') GROUP BY 1 ORDER BY 1) x")"

if [ "$BASES" -le 5000 ]; then
	compare "plan" "SELECT count(*) FROM dedup.plan('{bench}');" \
		"find_empty_duplicates" "SELECT count(*) FROM dedup.find_empty_duplicates('{bench}');" \
		"$DB" "${ROUNDS:-5}"
	echo "apply of that plan, with max_locks_per_transaction = $("${PSQL[@]}" -d "$DB" -At -c "SHOW max_locks_per_transaction"):"
	"${PSQL[@]}" -d "$DB" -c "SELECT count(*) FROM dedup.apply('{bench}')" 2>&1 | sed 's/^/  /' || true
	echo "tables left: $("${PSQL[@]}" -d "$DB" -At -c "SELECT count(*) FROM pg_class WHERE relnamespace = 'bench'::regnamespace AND relkind = 'r'")"
else
	for q in "plan:SELECT count(*) FROM dedup.plan();" \
		"report:SELECT length(dedup.report());" \
		"inventory:SELECT count(*) FROM dedup.inventory();" \
		"find_empty_duplicates:SELECT count(*) FROM dedup.find_empty_duplicates();"; do
		name=${q%%:*} sql=${q#*:}
		f=$(mktemp)
		time_sql "$DB" "$sql" >/dev/null	# warm-up
		for i in $(seq "${ROUNDS:-3}"); do
			time_sql "$DB" "$sql" | tail -1 >>"$f"
		done
		printf '%-24s median %9s ms  (rounds: %s)\n' "$name" "$(median <"$f")" "$(tr '\n' ' ' <"$f")"
		rm -f "$f"
	done
	echo "journal entry of one plan(): $("${PSQL[@]}" -d "$DB" -At -c "SELECT pg_size_pretty(pg_column_size(detail)::bigint) FROM dedup.journal WHERE action = 'plan' ORDER BY id DESC LIMIT 1")"
fi
