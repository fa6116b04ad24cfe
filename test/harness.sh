#!/usr/bin/env bash
# test/harness.sh: the README's commands.
#
#   bash test/harness.sh demo     install what is missing, build, install, start a
#                                 throwaway cluster, load the demo database, show
#                                 the discovery report
#   bash test/harness.sh check    the same, then every test suite (regression,
#                                 isolation, TAP, the README's examples); last
#                                 line "N passed, N failed"
#   bash test/harness.sh readme   only the README's examples (test/readme.pl)
#   bash test/harness.sh bench NAME   run test/bench/NAME.sh against a throwaway
#                                 cluster with production settings (fsync on,
#                                 default WAL settings); never part of check
#
# Which PostgreSQL:
#   PGVER=17 bash test/harness.sh check       Debian's postgresql-17 (default 15)
#   PG_CONFIG=/opt/pg15-assert/bin/pg_config bash test/harness.sh check
#                                 any installation, e.g. an assert-enabled
#                                 source build (see the README)
# Other settings: PAGILA_DIR (default ../shared/realworld/pagila; the Pagila
# test is skipped when it is missing), KEEP=1 (leave the cluster running).
#
# Run as root on Debian/Ubuntu (it installs what is missing with apt) or as a
# user who can write PostgreSQL's extension directories.  The cluster runs
# as the unprivileged "postgres" user (initdb refuses root) in a temporary
# directory, on a free port, and is stopped and removed however the harness
# ends.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MODE=${1:-check}
SHARED=${SHARED:-$(cd "$ROOT/.." && pwd)/shared}

say() { printf '==> %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# Which PostgreSQL.  PG_CONFIG names any installation (a source build such
# as /opt/pg15-assert/bin/pg_config, or another packaged one); its bindir,
# version and PGXS directory follow from it, and nothing PostgreSQL is
# installed with apt.  Without it, Debian's PostgreSQL $PGVER (default 15)
# is used and installed when missing.
if [ -n "${PG_CONFIG:-}" ]; then
	PG_CONFIG=$(command -v "$PG_CONFIG") || die "PG_CONFIG=$PG_CONFIG: no such pg_config"
	PGBIN=$("$PG_CONFIG" --bindir)
	PGVER=$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
	FROM_APT=0
else
	PGVER=${PGVER:-15}
	PGBIN=/usr/lib/postgresql/$PGVER/bin
	PG_CONFIG=$PGBIN/pg_config
	FROM_APT=1
fi
export PGVER PGBIN PG_CONFIG

# The PGXS directory: pg_regress, pg_isolation_regress and the TAP modules
# live under it.
pgxs_dir() {
	local mk
	mk=$("$PG_CONFIG" --pgxs 2>/dev/null) || { echo /nonexistent; return; }
	(cd "$(dirname "$mk")/../.." && pwd)
}

# The cluster is stopped and removed however the harness ends: normally, on
# an error, on Ctrl-C, on TERM or HUP, and on SIGPIPE (the harness piped
# into `grep -m1` or `head`).
TMPDIR_CLUSTER=
trap 'stop_cluster' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 141' PIPE
trap 'exit 143' TERM

# One harness at a time per machine: each one installs dedup into the
# server's shared directories, so two checkouts testing at once would
# overwrite each other's build.
if command -v flock >/dev/null; then
	exec 9>"${TMPDIR:-/tmp}/dedup-harness.lock"
	flock 9
fi

# Each need is detected by the file that is used, and maps to the Debian
# package that ships it: pgxs.mk, pg_regress, pg_isolation_regress and the
# TAP modules come with postgresql-client-NN, postgres.h only with
# postgresql-server-dev-NN.
install_missing() {
	local need=() missing=() pgxs inc share f
	pgxs=$(pgxs_dir)
	inc=$("$PG_CONFIG" --includedir-server 2>/dev/null || echo /nonexistent)
	[ -x "$PGBIN/initdb" ] && [ -x "$PGBIN/postgres" ] ||
		{ need+=("postgresql-$PGVER"); missing+=("$PGBIN/initdb"); }
	for f in src/makefiles/pgxs.mk src/test/regress/pg_regress \
		src/test/isolation/pg_isolation_regress src/test/perl/PostgreSQL/Test/Cluster.pm; do
		[ -e "$pgxs/$f" ] || { need+=("postgresql-client-$PGVER"); missing+=("$pgxs/$f"); }
	done
	[ -f "$inc/postgres.h" ] || { need+=("postgresql-server-dev-$PGVER"); missing+=("$inc/postgres.h"); }
	# contrib extensions the tests and the real-world schemas create
	share=$("$PG_CONFIG" --sharedir 2>/dev/null || echo /nonexistent)
	for f in citext pgcrypto uuid-ossp pg_trgm btree_gin fuzzystrmatch pgstattuple file_fdw amcheck pg_visibility; do
		[ -f "$share/extension/$f.control" ] ||
			{ need+=("postgresql-$PGVER"); missing+=("$share/extension/$f.control"); }
	done
	command -v make >/dev/null || need+=(make)
	command -v gcc >/dev/null || need+=(gcc)
	command -v prove >/dev/null || need+=(perl)
	perl -MIPC::Run -e1 2>/dev/null || need+=(libipc-run-perl)
	[ ${#need[@]} -eq 0 ] && return 0
	if [ "$FROM_APT" = 0 ] && [ ${#missing[@]} -gt 0 ]; then
		die "$PG_CONFIG's installation lacks ${missing[*]} (a source build needs" \
			"--enable-tap-tests --with-openssl --with-uuid=e2fs, make install and make -C contrib install)"
	fi
	if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
		die "missing packages: ${need[*]} (run as root on Debian/Ubuntu, or install them)"
	fi
	mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
	say "installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

build_and_install() {
	say "building dedup (warnings are errors)"
	make -C "$ROOT" -s clean >/dev/null
	make -C "$ROOT" -s PG_CONFIG="$PG_CONFIG" COPT=-Werror
	make -C "$ROOT" -s PG_CONFIG="$PG_CONFIG" install >/dev/null
}

# as_pg CMD...: run as the cluster's OS user (postgres when we are root)
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

free_port() {
	local p
	for p in $(shuf -i 20000-60000 -n 200); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null &&
			[ ! -e "/tmp/.s.PGSQL.$p" ] && [ ! -e "/var/run/postgresql/.s.PGSQL.$p" ]; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

stop_cluster() {
	if [ -n "$TMPDIR_CLUSTER" ] && [ -d "$TMPDIR_CLUSTER" ]; then
		if [ "${KEEP:-0}" = 1 ]; then
			say "cluster left running: PGHOST=$TMPDIR_CLUSTER PGPORT=$PGPORT PGUSER=postgres"
			return 0
		fi
		as_pg "$PGBIN/pg_ctl" -D "$TMPDIR_CLUSTER/data" -m immediate stop >/dev/null 2>&1 || true
		rm -rf "$TMPDIR_CLUSTER"
	fi
}

# start_cluster [extra postgresql.conf lines...]
start_cluster() {
	TMPDIR_CLUSTER=$(mktemp -d /tmp/dedup-cluster.XXXXXX)
	chmod 755 "$TMPDIR_CLUSTER"
	[ "$(id -u)" -eq 0 ] && chown postgres: "$TMPDIR_CLUSTER"
	PGPORT=$(free_port)
	say "starting a throwaway cluster in $TMPDIR_CLUSTER on port $PGPORT"
	as_pg "$PGBIN/initdb" -D "$TMPDIR_CLUSTER/data" -U postgres -A trust \
		--encoding=UTF8 --locale=C --no-sync >"$TMPDIR_CLUSTER/initdb.log" 2>&1 ||
		{ cat "$TMPDIR_CLUSTER/initdb.log" >&2; exit 1; }
	{
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$TMPDIR_CLUSTER'"
		echo "port = $PGPORT"
		echo "max_prepared_transactions = 10"
		for line in "$@"; do echo "$line"; done
	} | as_pg tee -a "$TMPDIR_CLUSTER/data/postgresql.conf" >/dev/null
	as_pg "$PGBIN/pg_ctl" -D "$TMPDIR_CLUSTER/data" -l "$TMPDIR_CLUSTER/server.log" -w start >/dev/null 9>&- ||
		{ cat "$TMPDIR_CLUSTER/server.log" >&2; exit 1; }
	export PGHOST=$TMPDIR_CLUSTER PGPORT PGUSER=postgres PGDATABASE=postgres
}

psql_q() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }

load_demo() {
	psql_q -c "CREATE DATABASE dedup_demo"
	psql_q -d dedup_demo -f "$ROOT/test/fixtures/demo.sql"
	psql_q -d dedup_demo -c "CREATE EXTENSION dedup"
}

run_demo() {
	load_demo
	say "duplicate groups in the demo database"
	"$PGBIN/psql" -X -d dedup_demo -P pager=off <<'SQL'
SELECT group_id, tbl, role, row_count, strength, verdict
  FROM dedup.duplicate_groups();
SELECT duplicate, keeper, keeper_rows, safe_to_drop, drop_order, blockers
  FROM dedup.find_empty_duplicates() ORDER BY drop_order;
\pset format unaligned
SELECT dedup.report();
SQL
}

# Count pg_regress / isolation / prove / README results from a log
# (a skipped README example counts as neither).
count_results() {
	local log=$1
	PASSED=$((PASSED + $(grep -E '\.\.\. ok|^ok [0-9]' "$log" | grep -vc '# SKIP' || true)))
	FAILED=$((FAILED + $(grep -cE '\.\.\. FAILED|\.\.\. failed|^not ok [0-9]' "$log" || true)))
}

# The lock keeps other harness runs out, but not a bare `make install` from
# another checkout: say so when the library tested was not this build.
check_installed() {
	if ! cmp -s "$ROOT/dedup.so" "$("$PG_CONFIG" --pkglibdir)/dedup.so"; then
		say "dedup.so in $("$PG_CONFIG" --pkglibdir) was replaced during the run" \
			"(a make install from another checkout?): these results are not this build's"
		FAILED=$((FAILED + 1))
	fi
}

# The README's examples, run and compared with what it shows (test/readme.pl).
run_readme() {
	local log=$TMPDIR_CLUSTER/readme.log
	say "README examples"
	set +e
	PAGILA_DIR=${PAGILA_DIR:-$SHARED/realworld/pagila} perl "$ROOT/test/readme.pl" "$ROOT/README.md" 2>&1 |
		tee "$log"
	[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
	set -e
	count_results "$log"
}

run_checks() {
	local log=$TMPDIR_CLUSTER/check.log
	local rc
	PASSED=0 FAILED=0
	export PAGILA_DIR=${PAGILA_DIR:-$SHARED/realworld/pagila}
	local extra=()
	export REALWORLD_DIR="$SHARED/realworld"
	local skip=()
	if [ ! -f "$PAGILA_DIR/pagila-schema.sql" ]; then
		say "no Pagila at $PAGILA_DIR: SKIPPING the tests that load it"
		skip+=('[[:alnum:]_]*pagila[[:alnum:]_]*')
	fi
	local rw
	for rw in chatbot-ui danbooru flowable graphile-starter guacamole killbill netbox umami; do
		if [ ! -f "$REALWORLD_DIR/$rw/load.sql" ]; then
			say "no $REALWORLD_DIR/$rw/load.sql: SKIPPING the realworld test (eight real schemas)"
			skip+=(realworld)
			break
		fi
	done
	if [ ${#skip[@]} -gt 0 ]; then
		local regress
		regress=$(make -C "$ROOT" -s --no-print-directory print-REGRESS)
		for rw in "${skip[@]}"; do regress=$(echo "$regress" | sed -E "s/\b$rw\b//g"); done
		extra+=("REGRESS=$regress")
	fi
	# regression and isolation suites run separately, so one failing does
	# not hide the other's results
	say "regression tests"
	set +e
	make -C "$ROOT" -s --no-print-directory PG_CONFIG="$PG_CONFIG" "${extra[@]}" \
		ISOLATION= installcheck 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	say "isolation tests"
	make -C "$ROOT" -s --no-print-directory PG_CONFIG="$PG_CONFIG" \
		REGRESS= installcheck 2>&1 | tee -a "$log"
	[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
	set -e
	count_results "$log"
	if [ -d "$ROOT/test/t" ] && ls "$ROOT"/test/t/*.pl >/dev/null 2>&1; then
		say "TAP tests"
		# run from a copy: the postgres user may not be able to read the clone
		local tap=$TMPDIR_CLUSTER/tap
		mkdir -p "$tap"
		cp -r "$ROOT/test/t" "$tap/t"
		[ "$(id -u)" -eq 0 ] && chown -R postgres: "$tap"
		set +e
		(cd "$tap" && as_pg env PATH="$PGBIN:$PATH" TESTDIR="$tap" PG_REGRESS=/bin/true \
			PERL5LIB="$(pgxs_dir)/src/test/perl" \
			prove -v t/*.pl) 2>&1 | tee "$TMPDIR_CLUSTER/prove.log"
		set -e
		count_results "$TMPDIR_CLUSTER/prove.log"
	fi
	run_readme
	check_installed
	if [ "$rc" -ne 0 ] && [ "$FAILED" -eq 0 ]; then
		FAILED=1
	fi
	for f in "$ROOT/regression.diffs" "$ROOT/output_iso/regression.diffs"; do
		[ -s "$f" ] && { say "differences in $f:"; head -200 "$f" >&2; }
	done
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}

case "$MODE" in
	demo)
		install_missing
		build_and_install
		start_cluster "fsync = off"
		run_demo
		;;
	check)
		install_missing
		build_and_install
		start_cluster "fsync = off"
		run_demo >/dev/null
		run_checks
		;;
	readme)
		install_missing
		build_and_install
		start_cluster "fsync = off"
		PASSED=0 FAILED=0 rc=0
		run_readme
		echo "$PASSED passed, $FAILED failed"
		[ "$FAILED" -eq 0 ] && [ "$rc" -eq 0 ]
		;;
	bench)
		name=${2:?usage: harness.sh bench NAME}
		install_missing
		build_and_install
		start_cluster "max_locks_per_transaction = 256" "shared_buffers = 512MB"
		bash "$ROOT/test/bench/$name.sh"
		;;
	*)
		echo "usage: $0 demo|check|readme|bench NAME" >&2
		exit 2
		;;
esac
