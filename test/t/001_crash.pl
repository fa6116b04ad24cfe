# Crashes and restarts around dedup's writes.
#  - A committed backup survives a crash: its pages were written outside
#    shared buffers and must come back through WAL replay, with the
#    fingerprint recorded in the journal still matching.
#  - A backend killed in the middle of a backup leaves no table, no journal
#    row, and a server that restarts cleanly.
#  - A committed drop_if_empty survives a crash and can still be undone.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', "restart_after_crash = on\n");
$node->start;
$node->safe_psql('postgres', q{
  CREATE EXTENSION dedup;
  CREATE TABLE kept (id int PRIMARY KEY, v text, big text);
  INSERT INTO kept SELECT g, md5(g::text), CASE WHEN g % 1000 = 0 THEN repeat(md5(g::text), 400) END
    FROM generate_series(1, 100000) g;
  CREATE TABLE big (id int, v text);
  INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 3000000) g;
  CREATE TABLE empty_dup (id int PRIMARY KEY, note text DEFAULT 'x');
  CHECKPOINT;
});

# 1. a committed backup, then an immediate (crash) shutdown: WAL replay
$node->safe_psql('postgres', "SELECT dedup.backup_table('kept', 'kept_bak')");
$node->stop('immediate');
$node->start;
is($node->safe_psql('postgres', 'SELECT count(*) FROM kept_bak'),
	'100000', 'backup rows survive a crash');
is( $node->safe_psql(
		'postgres',
		'SELECT count(*) FROM (SELECT * FROM kept EXCEPT ALL SELECT * FROM kept_bak) d'),
	'0',
	'backup content survives a crash');
$node->safe_psql('postgres', 'CREATE TABLE kept_again (LIKE kept)');
is($node->safe_psql('postgres', "SELECT dedup.restore_backup('kept_bak', 'kept_again')"),
	'100000', 'the fingerprint journaled before the crash still matches');

# 2. a backend killed in the middle of a backup
my $journal_before = $node->safe_psql('postgres', 'SELECT count(*) FROM dedup.journal');
my ($out, $err) = ('', '');
my $h = IPC::Run::start(
	[ 'psql', '-X', '-d', $node->connstr('postgres'),
	  '-c', "SELECT dedup.backup_table('big', 'big_bak')" ],
	'>', \$out, '2>', \$err);
$node->poll_query_until('postgres',
	"SELECT count(*) > 0 FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%backup_table(''big''%'")
  or die 'backup did not start';
select(undef, undef, undef, 0.5);    # let the copy get going
my $pid = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%backup_table(''big''%'");
ok($pid =~ /^\d+$/, 'the backup is running when the backend is killed');
kill 'KILL', $pid;
$h->finish;
isnt($out, "big_bak\n", 'the killed backup did not return');
$node->poll_query_until('postgres', 'SELECT true') or die 'server did not come back';
is($node->safe_psql('postgres', "SELECT to_regclass('big_bak') IS NULL"),
	't', 'no backup table is left after a crash mid-backup');
is($node->safe_psql('postgres', 'SELECT count(*) FROM dedup.journal'),
	$journal_before, 'no journal row is left after a crash mid-backup');
is($node->safe_psql('postgres', 'SELECT count(*) FROM big'),
	'3000000', 'the source table is intact');

# 3. a committed drop survives a crash and can be undone afterwards
$node->safe_psql('postgres', "SELECT dedup.drop_if_empty('empty_dup')");
$node->stop('immediate');
$node->start;
is($node->safe_psql('postgres', "SELECT to_regclass('empty_dup') IS NULL"),
	't', 'a committed drop survives a crash');
like($node->safe_psql('postgres',
		"SELECT dedup.undo(max(id)) FROM dedup.journal WHERE action = 'drop'"),
	qr/^recreated table public\.empty_dup$/, 'and undo recreates it after the restart');
is($node->safe_psql('postgres',
		"SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'empty_dup'::regclass"),
	q{'x'::text}, 'with its column default');

$node->stop;
done_testing();
