/*-------------------------------------------------------------------------
 *
 * usage.c
 *	  Signs that a table is in current use, and what depends on it.
 *
 * For the members of duplicate groups (README "Signs of use"):
 *	 - what depends on the table or on anything it owns (its sequences,
 *	   row type, indexes, constraints), read from pg_depend: views, rules,
 *	   policies and triggers of other tables, BEGIN ATOMIC functions,
 *	   defaults that use its sequence, columns of its row type.  Each of
 *	   them makes a DROP without CASCADE fail, so each is a blocker too;
 *	 - function bodies (any language but C and internal) that mention its
 *	   name, found by splitting every body into identifiers once;
 *	 - scans recorded by the cumulative statistics (sequential and index,
 *	   over the whole partition tree, less one per index build and foreign
 *	   key validation), with the time of the last one where
 *	   the server keeps it (16 and later; src/compat.h).  dedup's own reads
 *	   are not counted: discovery runs with track_counts off
 *	   (dedup_quiet_stats_begin).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/transam.h"
#include "catalog/dependency.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "nodes/value.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"

#include "compat.h"
#include "dedup.h"

/* Scans since the statistics were reset that count as use. */
#define DEDUP_USE_MIN_SCANS 3

/* More than this many dependents are summed up as "and N more". */
#define DEDUP_MAX_MENTIONS 3

/*
 * The normal dependencies on user relations, types and constraints: few
 * (views, foreign keys, defaults that use a sequence, columns and
 * functions of a composite type), whatever the number of tables.  $1 is
 * FirstNormalObjectId: nothing the system made is a dedup table.
 */
static const char *normal_deps_sql =
"SELECT d.classid, d.objid, d.objsubid, d.refclassid, d.refobjid FROM pg_catalog.pg_depend d"
" WHERE d.deptype OPERATOR(pg_catalog.=) 'n' AND d.refobjid OPERATOR(pg_catalog.>=) $1"
"   AND d.refclassid IN ('pg_catalog.pg_class'::pg_catalog.regclass, 'pg_catalog.pg_type'::pg_catalog.regclass,"
"                        'pg_catalog.pg_constraint'::pg_catalog.regclass)";

/*
 * The indexes of user tables (the caller keeps those of the tables whose
 * scans it reads).  $1 is FirstNormalObjectId.
 */
static const char *indexes_sql =
"SELECT i.indrelid, i.indexrelid FROM pg_catalog.pg_index i"
" WHERE i.indrelid OPERATOR(pg_catalog.>=) $1";

/* Bodies of the functions users wrote (extension members left out). */
static const char *functions_sql =
"SELECT p.oid::pg_catalog.regprocedure::pg_catalog.text, p.prosrc"
"  FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_language l ON l.oid OPERATOR(pg_catalog.=) p.prolang"
" WHERE l.lanname OPERATOR(pg_catalog.<>) ALL ('{internal,c}'::pg_catalog.name[])"
"   AND p.pronamespace OPERATOR(pg_catalog.<>) ALL (ARRAY['pg_catalog'::pg_catalog.regnamespace,"
"                                                          'information_schema'::pg_catalog.regnamespace]::pg_catalog.oid[])"
"   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d"
"                    WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass"
"                      AND d.objid OPERATOR(pg_catalog.=) p.oid AND d.deptype OPERATOR(pg_catalog.=) 'e')"
" ORDER BY 1";

typedef struct MentionEntry
{
	char		token[NAMEDATALEN];	/* hash key */
	char	   *function;		/* the first function that mentions it */
} MentionEntry;

/*
 * Discovery's own reads must not look like use: turn track_counts off until
 * dedup_quiet_stats_end() (the statistics of relations opened meanwhile are
 * not counted; what the caller did before is kept and reported as usual).
 */
int
dedup_quiet_stats_begin(DedupCatalog *cat)
{
	int			nestlevel = NewGUCNestLevel();

	cat->stats_off = !pgstat_track_counts;

	(void) set_config_option("track_counts", "off", PGC_SUSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return nestlevel;
}

void
dedup_quiet_stats_end(int nestlevel)
{
	AtEOXact_GUC(true, nestlevel);
}

/*
 * The table that owns an object: the object itself when it is a table,
 * else the table reached by climbing its auto and internal dependencies
 * (a sequence, index, row type, array type, constraint, default, rule,
 * policy or trigger; a partition climbs on to its parent).  InvalidOid
 * when there is none.
 */
static Oid
owning_table(Relation deprel, Oid classid, Oid objid)
{
	Oid			table = InvalidOid;
	int			depth;

	for (depth = 0; depth <= 5 && OidIsValid(objid); depth++)
	{
		ScanKeyData key[2];
		SysScanDesc scan;
		HeapTuple	tup;
		Oid			upclass = InvalidOid;
		Oid			upobj = InvalidOid;

		if (classid == RelationRelationId)
		{
			char		kind = get_rel_relkind(objid);

			if (kind == RELKIND_RELATION || kind == RELKIND_PARTITIONED_TABLE)
				table = objid;
		}
		ScanKeyInit(&key[0], Anum_pg_depend_classid, BTEqualStrategyNumber, F_OIDEQ,
					ObjectIdGetDatum(classid));
		ScanKeyInit(&key[1], Anum_pg_depend_objid, BTEqualStrategyNumber, F_OIDEQ,
					ObjectIdGetDatum(objid));
		scan = systable_beginscan(deprel, DependDependerIndexId, true, NULL, 2, key);
		while (HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			Form_pg_depend d = (Form_pg_depend) GETSTRUCT(tup);

			if (d->deptype == DEPENDENCY_AUTO || d->deptype == DEPENDENCY_INTERNAL)
			{
				upclass = d->refclassid;
				upobj = d->refobjid;
				break;
			}
		}
		systable_endscan(scan);
		classid = upclass;
		objid = upobj;
	}
	return table;
}

/* A foreign key into table? */
static bool
foreign_key_into(Oid conoid, Oid table)
{
	HeapTuple	tup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(conoid));
	bool		result = false;

	if (HeapTupleIsValid(tup))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);

		result = con->contype == CONSTRAINT_FOREIGN && con->confrelid == table;
		ReleaseSysCache(tup);
	}
	return result;
}

static int
cmp_text(const ListCell *a, const ListCell *b)
{
	return strcmp((char *) lfirst(a), (char *) lfirst(b));
}

/*
 * t->mentions of the members: what depends, with a normal dependency, on a
 * member or on anything it owns, other than what the member itself owns,
 * foreign keys into it (the drop planner orders those) and its inheritance
 * children (listed by themselves).  Connected to SPI.
 */
static void
load_mentions(DedupCatalog *cat, bool *member)
{
	Oid			types[1] = {OIDOID};
	Datum		first[1] = {ObjectIdGetDatum(FirstNormalObjectId)};
	Relation	deprel;
	MemoryContext oldcxt;
	uint64		r;
	int			i;

	if (SPI_execute_with_args(normal_deps_sql, 1, types, first, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "dedup: dependency query failed");
	deprel = table_open(DependRelationId, AccessShareLock);
	oldcxt = MemoryContextSwitchTo(cat->cxt);
	for (r = 0; r < SPI_tuptable->numvals; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		ObjectAddress dep;
		Oid			refclass = DatumGetObjectId(SPI_getbinval(tup, desc, 4, &isnull));
		Oid			refobj = DatumGetObjectId(SPI_getbinval(tup, desc, 5, &isnull));
		Oid			table;
		int			k;
		DedupTable *t;
		char	   *what;

		CHECK_FOR_INTERRUPTS();
		dep.classId = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
		dep.objectId = DatumGetObjectId(SPI_getbinval(tup, desc, 2, &isnull));
		dep.objectSubId = DatumGetInt32(SPI_getbinval(tup, desc, 3, &isnull));
		table = owning_table(deprel, refclass, refobj);
		if ((k = dedup_table_index(cat, table)) < 0 || !member[k])
			continue;
		t = &cat->tables[k];
		if (owning_table(deprel, dep.classId, dep.objectId) == table)
			continue;			/* its own: goes with it */
		if (dep.classId == ConstraintRelationId && foreign_key_into(dep.objectId, table))
			continue;
		if (dep.classId == RelationRelationId && dep.objectSubId == 0 &&
			list_member_oid(t->children, dep.objectId))
			continue;
		what = getObjectDescription(&dep, true);
		if (what == NULL)
			continue;
		/* a view's or materialized view's query is its "_RETURN" rule */
		if (dep.classId == RewriteRelationId && strncmp(what, "rule _RETURN on ", 16) == 0)
			what = what + 16;
		if (refclass != RelationRelationId || refobj != table)
		{
			ObjectAddress ref = {refclass, refobj, 0};
			char	   *through = getObjectDescription(&ref, true);

			if (through)
				what = psprintf("%s (through %s)", what, through);
		}
		if (!list_member(t->mentions, makeString(what)))
			t->mentions = lappend(t->mentions, makeString(what));
	}
	MemoryContextSwitchTo(oldcxt);
	table_close(deprel, AccessShareLock);

	/* as strings, in a stable order */
	for (i = 0; i < cat->ntables; i++)
	{
		ListCell   *lc;

		if (!member[i] || cat->tables[i].mentions == NIL)
			continue;
		foreach(lc, cat->tables[i].mentions)
			lfirst(lc) = strVal(lfirst(lc));
		list_sort(cat->tables[i].mentions, cmp_text);
	}
}

typedef struct ScanEntry
{
	Oid			relid;			/* hash key: a member, or a leaf partition of one */
	int			member;			/* index of the member it counts for */
	int64		scans;			/* of it and its indexes */
	int			nindexes;
	TimestampTz last;
} ScanEntry;

/*
 * t->scans and t->last_read of the tables idx[0..n), from the cumulative
 * statistics: sequential and index scans of each table (of each leaf of a
 * partitioned one) and of its indexes, less one per index and per foreign
 * key of the table (building an index or validating a foreign key reads
 * the table once, and counts as a sequential scan).  Connected to SPI.
 */
static void
load_scans(DedupCatalog *cat, int *idx, int n)
{
	HASHCTL		ctl;
	HTAB	   *rels;
	List	   *relids = NIL;
	Oid			argtypes[1] = {OIDOID};
	Datum		args[1];
	ListCell   *lc;
	HASH_SEQ_STATUS seq;
	ScanEntry  *e;
	TimestampTz *last = palloc0(sizeof(TimestampTz) * Max(n, 1));
	uint64		r;
	int			i;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(ScanEntry);
	ctl.hcxt = CurrentMemoryContext;
	rels = hash_create("dedup scans", Max(n, 16), &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	for (i = 0; i < n; i++)
	{
		DedupTable *t = &cat->tables[idx[i]];
		List	   *tree = t->relkind == RELKIND_PARTITIONED_TABLE ?
			find_all_inheritors(t->relid, NoLock, NULL) : list_make1_oid(t->relid);

		CHECK_FOR_INTERRUPTS();
		t->scans = 0;
		foreach(lc, tree)
		{
			Oid			rel = lfirst_oid(lc);
			bool		found;

			if (rel != t->relid && get_rel_relkind(rel) != RELKIND_RELATION)
				continue;
			e = hash_search(rels, &rel, HASH_ENTER, &found);
			if (found)
				continue;
			e->member = i;
			e->scans = 0;
			e->nindexes = 0;
			e->last = 0;
			relids = lappend_oid(relids, rel);
		}
	}

	/* each table's own scans, then its indexes' */
	foreach(lc, relids)
	{
		Oid			rel = lfirst_oid(lc);
		PgStat_StatTabEntry *st = pgstat_fetch_stat_tabentry(rel);

		e = hash_search(rels, &rel, HASH_FIND, NULL);
		if (st)
		{
			e->scans += st->numscans;
			e->last = dedup_stat_last_scan(st);
		}
	}
	args[0] = ObjectIdGetDatum(FirstNormalObjectId);
	if (SPI_execute_with_args(indexes_sql, 1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "dedup: index query failed");
	for (r = 0; r < SPI_tuptable->numvals; r++)
	{
		bool		isnull;
		Oid			rel = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));
		Oid			index = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, &isnull));
		PgStat_StatTabEntry *st;

		CHECK_FOR_INTERRUPTS();
		e = hash_search(rels, &rel, HASH_FIND, NULL);
		if (e == NULL)
			continue;
		e->nindexes++;
		st = pgstat_fetch_stat_tabentry(index);
		if (st)
		{
			e->scans += st->numscans;
			e->last = Max(e->last, dedup_stat_last_scan(st));
		}
	}

	/* add up per member, less what building its indexes and checking its keys read */
	hash_seq_init(&seq, rels);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		DedupTable *t = &cat->tables[idx[e->member]];

		t->scans += Max(0, e->scans - e->nindexes -
						(e->relid == t->relid ? list_length(t->references) : 0));
		last[e->member] = Max(last[e->member], e->last);
	}
	for (i = 0; i < n; i++)
		if (last[i] != 0)
			cat->tables[idx[i]].last_read = MemoryContextStrdup(cat->cxt, timestamptz_to_str(last[i]));
	hash_destroy(rels);
}

/* Add every identifier of src to the table: unquoted ones folded to lower case. */
static void
add_tokens(HTAB *tokens, const char *src, const char *function)
{
	const unsigned char *p = (const unsigned char *) src;

	while (*p)
	{
		char		tok[NAMEDATALEN];
		int			n = 0;
		bool		found;
		MentionEntry *e;

		if (*p == '"')
		{
			p++;
			while (*p && !(*p == '"' && p[1] != '"'))
			{
				if (*p == '"')
					p++;		/* "" inside quotes */
				if (n < NAMEDATALEN - 1)
					tok[n++] = *p;
				p++;
			}
			if (*p)
				p++;
		}
		else if (isalpha(*p) || *p == '_' || *p >= 0x80)
		{
			while (isalnum(*p) || *p == '_' || *p == '$' || *p >= 0x80)
			{
				if (n < NAMEDATALEN - 1)
					tok[n++] = (*p >= 'A' && *p <= 'Z') ? *p + ('a' - 'A') : *p;
				p++;
			}
		}
		else
		{
			p++;
			continue;
		}
		if (n == 0)
			continue;
		tok[n] = '\0';
		e = hash_search(tokens, tok, HASH_ENTER, &found);
		if (!found)
			e->function = (char *) function;
	}
}

/* "depended on by a, b, c and 2 more" */
static char *
mentions_phrase(List *mentions)
{
	StringInfoData buf;
	ListCell   *lc;
	int			n = 0;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "depended on by ");
	foreach(lc, mentions)
	{
		if (n == DEDUP_MAX_MENTIONS)
		{
			appendStringInfo(&buf, " and %d more", list_length(mentions) - n);
			break;
		}
		appendStringInfo(&buf, "%s%s", n++ ? ", " : "", (char *) lfirst(lc));
	}
	return buf.data;
}

/*
 * Fill mentions, scans, last_read, use and in_use of the tables idx[0..n)
 * (group members).  The caller is not connected to SPI.
 */
void
dedup_load_usage(DedupCatalog *cat, int *idx, int n)
{
	MemoryContext oldcxt;
	bool	   *member;
	HASHCTL		ctl;
	HTAB	   *tokens;
	uint64		r;
	int			i;
	char	   *since;

	if (n == 0)
		return;
	member = palloc0(sizeof(bool) * cat->ntables);
	for (i = 0; i < n; i++)
		member[idx[i]] = true;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "dedup: SPI_connect failed");

	load_mentions(cat, member);

	/* scans recorded by the statistics, and since when */
	if (!cat->stats_off)
	{
		if (SPI_execute("SELECT pg_catalog.pg_stat_get_db_stat_reset_time(d.oid)::pg_catalog.text"
						"  FROM pg_catalog.pg_database d"
						" WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()",
						true, 0) != SPI_OK_SELECT)
			elog(ERROR, "dedup: statistics query failed");
		if (SPI_processed == 1)
		{
			char	   *at = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

			if (at)
				cat->stats_since = MemoryContextStrdup(cat->cxt, at);
		}
		load_scans(cat, idx, n);
	}

	/* function bodies, split into identifiers once */
	if (SPI_execute(functions_sql, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "dedup: function query failed");
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = NAMEDATALEN;
	ctl.entrysize = sizeof(MentionEntry);
	ctl.hcxt = CurrentMemoryContext;
	tokens = hash_create("dedup function tokens", 1024, &ctl,
						 HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	oldcxt = MemoryContextSwitchTo(cat->cxt);
	for (r = 0; r < SPI_tuptable->numvals; r++)
	{
		char	   *fn = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1);
		char	   *src = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2);

		CHECK_FOR_INTERRUPTS();
		if (src)
			add_tokens(tokens, src, fn);
	}

	since = cat->stats_since ?
		psprintf("since the statistics were reset at %s", cat->stats_since) :
		pstrdup("since the statistics began");
	for (i = 0; i < n; i++)
	{
		DedupTable *t = &cat->tables[idx[i]];
		MentionEntry *e;
		char		key[NAMEDATALEN];

		strlcpy(key, t->relname, NAMEDATALEN);
		if (t->mentions != NIL)
			t->use = lappend(t->use, mentions_phrase(t->mentions));
		e = hash_search(tokens, key, HASH_FIND, NULL);
		if (e)
			t->use = lappend(t->use, psprintf("mentioned by function %s", e->function));
		if (!cat->stats_off && t->scans >= DEDUP_USE_MIN_SCANS)
			t->use = lappend(t->use,
							 psprintf("read by " INT64_FORMAT " scans %s", t->scans, since));
		t->in_use = t->use != NIL;
	}
	MemoryContextSwitchTo(oldcxt);
	hash_destroy(tokens);
	SPI_finish();
}
