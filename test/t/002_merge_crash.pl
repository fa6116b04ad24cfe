# merge_extension swaps in storage it wrote outside shared buffers (the
# heap rewrite keeps each row's xmin; the base keeps its relfrozenxid), with
# indexes and TOAST built beside it.  A crash right after it commits must
# leave a table PostgreSQL reads and checks as its own, under both ways the
# new storage reaches disk:
#  - wal_level = minimal: the new files are not WAL-logged but synced at
#    commit, including rows written into the base later in the same
#    transaction;
#  - wal_level = replica: everything comes back through WAL replay.
# Then amcheck finds nothing wrong, VACUUM FREEZE freezes it, and undo
# splits the extension back out.  A backend killed in the middle of a merge
# leaves the tables as they were.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

sub setup_tables
{
	my ($node) = @_;
	$node->safe_psql('postgres', q{
	  CREATE EXTENSION dedup;
	  CREATE EXTENSION amcheck;
	  CREATE EXTENSION pg_visibility;
	  CREATE TABLE mb (id int PRIMARY KEY, dropme text, name text, doc text, n int);
	  ALTER TABLE mb SET (autovacuum_enabled = false);
	  CREATE INDEX mb_n ON mb (n);
	  CREATE TABLE mb_ext (id int PRIMARY KEY REFERENCES mb, bio text, name text);
	  INSERT INTO mb SELECT g, 'x', CASE WHEN g % 2 = 1 THEN 'n' || g END,
	                        CASE WHEN g % 100 = 0 THEN repeat(md5(g::text), 300) END, g
	    FROM generate_series(1, 20000) g;
	  ALTER TABLE mb DROP COLUMN dropme;
	  UPDATE mb SET n = n + 1 WHERE id % 7 = 0;
	  INSERT INTO mb_ext SELECT g, CASE WHEN g % 50 = 0 THEN repeat(md5(g::text), 400) ELSE 'bio ' || g END,
	                            CASE WHEN g % 2 = 0 THEN 'n' || g END
	    FROM generate_series(1, 15000) g;
	  CHECKPOINT;
	});
}

my $expect_sql = q{SELECT count(*), count(bio), count(name), sum(length(doc)), sum(length(bio)), sum(n),
	md5(string_agg(id || ':' || coalesce(name, '-') || ':' || coalesce(md5(bio), '-'), ',' ORDER BY id)) FROM mb};

sub check_table
{
	my ($node, $label, $expected) = @_;
	is($node->safe_psql('postgres', $expect_sql), $expected, "$label: rows and values as merged");
	is($node->safe_psql('postgres', q{SELECT count(*) FROM verify_heapam('mb')}), '0',
		"$label: verify_heapam finds nothing in the heap");
	is( $node->safe_psql('postgres',
			q{SELECT count(*) FROM verify_heapam((SELECT reltoastrelid FROM pg_class WHERE oid = 'mb'::regclass))}),
		'0', "$label: nor in its TOAST table");
	is( $node->safe_psql('postgres',
			q{SELECT count(bt_index_check(indexrelid, true)) FROM pg_index WHERE indrelid = 'mb'::regclass}),
		'2', "$label: both indexes hold every row");
	is( $node->safe_psql('postgres',
			q{SET enable_seqscan = off; SELECT count(*) FROM mb WHERE id BETWEEN 1 AND 30000}),
		'20001', "$label: every row is found through the primary key");
}

for my $wal_level ('minimal', 'replica')
{
	my $node = PostgreSQL::Test::Cluster->new("merge_$wal_level");
	$node->init(allows_streaming => $wal_level eq 'replica');
	$node->append_conf('postgresql.conf', "restart_after_crash = on\n");
	$node->start;
	setup_tables($node);

	# the merge, and a row written into the base afterwards, in one transaction
	$node->safe_psql('postgres', q{
	  BEGIN;
	  SELECT * FROM dedup.merge_extension('mb', 'mb_ext');
	  INSERT INTO mb (id, name, doc, n, bio) VALUES (30000, 'after the merge', repeat('y', 5000), 0, 'late');
	  COMMIT;
	});
	my $expected = $node->safe_psql('postgres', $expect_sql);
	$node->stop('immediate');
	$node->start;
	check_table($node, "wal_level=$wal_level, after a crash", $expected);

	$node->safe_psql('postgres', 'VACUUM (FREEZE) mb');
	is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_check_frozen('mb')}), '0',
		"wal_level=$wal_level: VACUUM FREEZE freezes every row");
	check_table($node, "wal_level=$wal_level, frozen", $expected);
	$node->stop('immediate');
	$node->start;
	check_table($node, "wal_level=$wal_level, frozen, after a second crash", $expected);

	# undo: the row written after the merge has no extension values and stays
	$node->safe_psql('postgres', q{UPDATE mb SET bio = NULL WHERE id = 30000});
	like( $node->safe_psql('postgres',
			q{SELECT dedup.undo(max(id)) FROM dedup.journal WHERE action = 'merge_extension'}),
		qr/^split public\.mb_ext back out of public\.mb$/,
		"wal_level=$wal_level: undo after the crashes splits the extension back out");
	is($node->safe_psql('postgres', q{SELECT count(*) FROM mb_ext}), '15000',
		"wal_level=$wal_level: the extension has its rows again");
	$node->stop;
}

# A backend killed while the merge builds the new storage: nothing changed.
my $node = PostgreSQL::Test::Cluster->new('merge_killed');
$node->init;
$node->append_conf('postgresql.conf', "restart_after_crash = on\n");
$node->start;
$node->safe_psql('postgres', q{
  CREATE EXTENSION dedup;
  CREATE TABLE big (id int PRIMARY KEY, v text);
  CREATE TABLE big_ext (id int PRIMARY KEY REFERENCES big, w text);
  INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 2000000) g;
  INSERT INTO big_ext SELECT g, md5(g::text) FROM generate_series(1, 2000000) g;
  CHECKPOINT;
});
my $before = $node->safe_psql('postgres', q{SELECT count(*), md5(string_agg(v, ',' ORDER BY id)) FROM big});
my ($out, $err) = ('', '');
my $h = IPC::Run::start(
	[ 'psql', '-X', '-d', $node->connstr('postgres'),
	  '-c', "SELECT * FROM dedup.merge_extension('big', 'big_ext', backup => false)" ],
	'>', \$out, '2>', \$err);
$node->poll_query_until('postgres',
	"SELECT count(*) > 0 FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%merge_extension(''big''%'")
  or die 'merge did not start';
select(undef, undef, undef, 1.5);    # let the build get going
my $pid = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%merge_extension(''big''%'");
ok($pid =~ /^\d+$/, 'the merge is running when the backend is killed');
kill 'KILL', $pid;
$h->finish;
$node->poll_query_until('postgres', 'SELECT true') or die 'server did not come back';
is($node->safe_psql('postgres', q{SELECT count(*), md5(string_agg(v, ',' ORDER BY id)) FROM big}),
	$before, 'the base is as it was');
is($node->safe_psql('postgres', q{SELECT count(*) FROM big_ext}), '2000000', 'the extension is as it was');
is( $node->safe_psql('postgres',
		q{SELECT count(*) FROM pg_attribute WHERE attrelid = 'big'::regclass AND attname = 'w'}),
	'0', 'the base has no column of the extension');
is($node->safe_psql('postgres', q{SELECT count(*) FROM dedup.journal}), '0', 'no journal row');
$node->stop;
done_testing();
