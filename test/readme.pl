#!/usr/bin/env perl
# test/readme.pl: runs the README's examples and compares what they print
# with what the README shows.  Run by `bash test/harness.sh check` (and
# `bash test/harness.sh readme`, which runs only this), against the
# harness's throwaway cluster (PGHOST, PGPORT, PGUSER; PGBIN for psql).
#
#   perl test/readme.pl README.md
#
# The convention (README.md, "Examples in this README are tested"):
#
# * A fenced block whose first line is a psql prompt, `DB=# ` (or `DB=> `,
#   as psql shows it after SET ROLE to a role that is not a superuser), is a
#   psql session.  Each prompt line starts a statement, which goes on over
#   the following lines until one ends with `;` or a `\g...` command such
#   as `\gexec` (psql's own continuation prompt `DB-# ` may start those
#   lines; a `-- comment` after the `;` is allowed).
#   The lines after a statement, up to the next prompt, are exactly what
#   psql prints for it: the aligned table, notices, errors, command tags.
#   The "(N rows)" footer may be left out: it is compared only where shown.
#   Trailing blanks and blank lines at either end are ignored.  A line that
#   starts with `...` stands for any number of output lines (the rest of it
#   is a note for the reader).
# * DB names the database: `dedup_demo` (test/fixtures/demo.sql, then
#   CREATE EXTENSION dedup) or `pagila` (the Pagila sample from PAGILA_DIR,
#   then CREATE EXTENSION dedup; its blocks are skipped when Pagila is
#   missing).  A database is created when a block first uses it; blocks run
#   in README order, each seeing what the blocks before it did.
# * A fenced block marked `sql` runs as a script against dedup_demo (or the
#   database its marker names) and must succeed; its output is not shown, so
#   it is not compared.  Other blocks (shell commands, signatures) are not
#   run.
# * An HTML comment on the line just before a block changes how it runs:
#     <!-- example: fresh -->            recreate its database first
#     <!-- example: fresh bare -->       ... without CREATE EXTENSION dedup
#     <!-- example: db=pagila -->        the database of an `sql` block
#     <!-- example: skip REASON -->      not run; reported as skipped
# * Dates: backup names carry the day they were made.  The README writes
#   that day as 20261121; the runner reads it as today's date (YYYYMMDD, as
#   the server's now() gives it) in statements and in output alike.
#
# Prints one TAP-style line per block: `ok N - README.md:LINE ...`,
# `not ok N - ...` with the difference, or `ok N - ... # SKIP reason`; the
# last line is "N passed, N failed, N skipped".  Exits 1 if any failed.
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Temp qw(tempfile);

my $readme = shift // die "usage: readme.pl README.md\n";
my $root = dirname($readme) eq '' ? '.' : dirname($readme);
my $psql = ($ENV{PGBIN} ? "$ENV{PGBIN}/" : '') . 'psql';
my $pagila = $ENV{PAGILA_DIR} // "$root/../shared/realworld/pagila";
my $README_DATE = '20261121';
my $MARK = '@@dedup-readme-statement-end@@';

my %fixtures = (
	dedup_demo => sub { ["$root/test/fixtures/demo.sql"] },
	pagila => sub {
		return undef unless -f "$pagila/pagila-schema.sql";
		return ["$pagila/pagila-schema.sql", "$pagila/pagila-data.sql"];
	},
);

# psql: run input against db; returns (exit code, output with stderr)
sub psql_run {
	my ($db, $input, @opts) = @_;
	my ($fh, $file) = tempfile(UNLINK => 1);
	print $fh $input;
	close $fh;
	# from standard input, so that errors carry no "psql:file:line:" prefix
	my $out = `'$psql' -X @opts -d '$db' <'$file' 2>&1`;
	return ($? >> 8, $out);
}

my %made;    # databases created so far
sub make_db {
	my ($db, $bare) = @_;
	my $files = $fixtures{$db}->();
	return "no fixture for $db (Pagila not found at $pagila)" unless $files;
	my ($rc, $out) = psql_run('postgres',
		"DROP DATABASE IF EXISTS \"$db\" WITH (FORCE);\nCREATE DATABASE \"$db\";\n",
		'-q', '-v', 'ON_ERROR_STOP=1');
	die "could not create $db:\n$out" if $rc;
	my $load = "SET client_min_messages = warning;\n";
	$load .= "\\i " . $_ . "\n" for @$files;
	$load .= "CREATE EXTENSION dedup;\n" unless $bare;
	($rc, $out) = psql_run($db, $load, '-q', '-o', '/dev/null', '-v', 'ON_ERROR_STOP=1');
	die "could not load $db:\n$out" if $rc;
	$made{$db} = 1;
	return undef;
}

my $today;
sub today {
	return $today if defined $today;
	my ($rc, $out) = psql_run('postgres', "SELECT pg_catalog.to_char(pg_catalog.now(), 'YYYYMMDD');\n",
		'-A', '-t');
	die "could not read the date:\n$out" if $rc;
	($today) = $out =~ /(\d{8})/;
	return $today;
}

# Does the actual output (lines) match the expected lines, where a line
# starting with "..." matches any number of lines?
sub matches {
	my ($exp, $act) = @_;
	my %memo;
	my $m;
	$m = sub {
		my ($i, $j) = @_;
		my $k = "$i,$j";
		return $memo{$k} if exists $memo{$k};
		my $r;
		if ($i == @$exp) { $r = $j == @$act }
		elsif ($exp->[$i] =~ /^\s*\.\.\./) {
			$r = $m->($i + 1, $j) || ($j < @$act && $m->($i, $j + 1));
		}
		else { $r = $j < @$act && $exp->[$i] eq $act->[$j] && $m->($i + 1, $j + 1) }
		return $memo{$k} = $r ? 1 : 0;
	};
	return $m->(0, 0);
}

sub tidy {
	my @l = map { (my $x = $_) =~ s/\s+$//; $x } @_;
	shift @l while @l && $l[0] eq '';
	pop @l while @l && $l[-1] eq '';
	return @l;
}

# Split a psql block into statements: [[sql, [expected lines]], ...]
sub parse_session {
	my ($db, @lines) = @_;
	my (@stmts, $cur, $open);
	for my $line (@lines) {
		if ($line =~ /^\Q$db\E=[#>] (.*)$/) {
			$cur = [$1, []];
			push @stmts, $cur;
			$open = 1;
		}
		elsif ($open) {
			(my $cont = $line) =~ s/^\Q$db\E-[#>] //;
			$cur->[0] .= "\n$cont";
		}
		elsif ($cur) { push @{ $cur->[1] }, $line }
		else { return "text before the first prompt: $line" }
		if ($open) {
			(my $code = $cur->[0]) =~ s/--[^']*$//;
			$open = 0 if $code =~ /;\s*$/ || $code =~ /^\s*\\/ || $code =~ /\\g[a-z]*\s*$/;
		}
	}
	return "statement not ended with ';': $cur->[0]" if $open;
	return \@stmts;
}

# Read the README into blocks.
open my $in, '<', $readme or die "$readme: $!\n";
my @text = <$in>;
close $in;
chomp @text;
my @blocks;
for (my $i = 0; $i < @text; $i++) {
	next unless $text[$i] =~ /^```\s*(\S*)\s*$/;
	my ($info, $start) = ($1, $i + 1);
	my $j = $i + 1;
	$j++ while $j < @text && $text[$j] !~ /^```\s*$/;
	my @body = @text[$start .. $j - 1];
	my $marker = $i > 0 && $text[$i - 1] =~ /^<!--\s*example:\s*(.*?)\s*-->\s*$/ ? $1 : '';
	push @blocks, {info => $info, line => $start, body => \@body, marker => $marker};
	$i = $j;
}

my ($n, $passed, $failed, $skipped) = (0, 0, 0, 0);
for my $b (@blocks) {
	my @body = @{ $b->{body} };
	my ($first) = grep { /\S/ } @body;
	my $session = defined $first && $first =~ /^([A-Za-z_][A-Za-z0-9_]*)=[#>] /;
	my $db = $session ? $1 : undef;
	next unless $session || $b->{info} eq 'sql';
	my %opt;
	for my $w (split ' ', $b->{marker}) {
		if ($w =~ /^db=(\S+)$/) { $opt{db} = $1 }
		elsif ($w =~ /^(fresh|bare)$/) { $opt{$1} = 1 }
		elsif ($w eq 'skip') { ($opt{skip} = $b->{marker}) =~ s/^.*?\bskip\s*//; $opt{skip} ||= 'marked skip'; last }
		else { die "$readme:$b->{line}: unknown example marker '$w'\n" }
	}
	$db //= $opt{db} // 'dedup_demo';
	$n++;
	my $name = "README.md:$b->{line} ($db)";
	if ($opt{skip}) {
		print "ok $n - $name # SKIP $opt{skip}\n";
		$skipped++;
		next;
	}
	unless ($fixtures{$db}) {
		print "not ok $n - $name\n#   unknown database '$db' in the prompt: dedup_demo or pagila\n";
		$failed++;
		next;
	}
	if ($opt{fresh} || !$made{$db}) {
		my $why = make_db($db, $opt{bare});
		if ($why) {
			print "ok $n - $name # SKIP $why\n";
			$skipped++;
			next;
		}
	}
	my $date = today();
	s/$README_DATE/$date/g for @body;
	my @problems;
	if (!$session) {
		my ($rc, $out) = psql_run($db, join("\n", @body) . "\n", '-q', '-v', 'ON_ERROR_STOP=1');
		push @problems, "the block failed:", split /\n/, $out if $rc;
	}
	else {
		my $stmts = parse_session($db, @body);
		unless (ref $stmts) {
			print "not ok $n - $name\n#   $stmts\n";
			$failed++;
			next;
		}
		my $input = join '', map { "$_->[0]\n\\echo $MARK\n" } @$stmts;
		my ($rc, $out) = psql_run($db, $input);
		my @chunks = split /^\Q$MARK\E\n/m, $out, -1;
		for my $k (0 .. $#$stmts) {
			my @exp = tidy(@{ $stmts->[$k][1] });
			my @act = split /\n/, $chunks[$k] // '';
			# the "(N rows)" footer is compared only where the README shows it
			@act = grep { !/^\(\d+ rows?\)$/ } @act unless grep { /^\(\d+ rows?\)$/ } @exp;
			@act = tidy(@act);
			next if matches(\@exp, \@act);
			push @problems, "statement:", (map {"  $_"} split /\n/, $stmts->[$k][0]), "README shows:",
				(map {"  $_"} @exp),
				"psql prints:", (map {"  $_"} @act);
		}
	}
	if (@problems) {
		s/$date/$README_DATE/g for @problems;
		print "not ok $n - $name\n", map {"#   $_\n"} @problems;
		$failed++;
	}
	else {
		print "ok $n - $name\n";
		$passed++;
	}
}
print "1..$n\n";
print "README: $passed passed, $failed failed, $skipped skipped\n";
exit($failed ? 1 : 0);
