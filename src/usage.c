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
 *	   over the whole partition tree), with the time of the last one where
 *	   the server keeps it (16 and later; src/compat.h).  dedup's own reads
 *	   are not counted: discovery runs with track_counts off
 *	   (dedup_quiet_stats_begin).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "compat.h"
#include "dedup.h"

/* Scans since the statistics were reset that count as use. */
#define DEDUP_USE_MIN_SCANS 3

/* More than this many dependents are summed up as "and N more". */
#define DEDUP_MAX_MENTIONS 3

/*
 * Objects with a normal dependency on a table or on anything it owns
 * (auto and internal dependencies, followed four levels down), other than
 * foreign keys into it, which the drop planner orders by themselves.
 */
static const char *mentions_sql =
"WITH RECURSIVE owned(rel, classid, objid, depth) AS ("
"  SELECT t, 'pg_catalog.pg_class'::pg_catalog.regclass::pg_catalog.oid, t, 0"
"    FROM pg_catalog.unnest($1::pg_catalog.oid[]) t"
"  UNION"
"  SELECT o.rel, d.classid, d.objid, o.depth + 1"
"    FROM owned o JOIN pg_catalog.pg_depend d"
"      ON d.refclassid OPERATOR(pg_catalog.=) o.classid AND d.refobjid OPERATOR(pg_catalog.=) o.objid"
"   WHERE d.deptype IN ('a', 'i') AND o.depth OPERATOR(pg_catalog.<) 4)"
"SELECT DISTINCT o.rel,"
"       CASE WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass THEN"
"              (SELECT CASE c.relkind WHEN 'v' THEN 'view ' WHEN 'm' THEN 'materialized view '"
"                      ELSE 'rule ' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(r.rulename::pg_catalog.text)"
"                           OPERATOR(pg_catalog.||) ' on ' END"
"                      OPERATOR(pg_catalog.||) r.ev_class::pg_catalog.regclass::pg_catalog.text"
"                 FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) r.ev_class"
"                WHERE r.oid OPERATOR(pg_catalog.=) d.objid)"
"            ELSE pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid) END"
"       OPERATOR(pg_catalog.||)"
"       CASE WHEN o.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
"             AND o.objid OPERATOR(pg_catalog.=) o.rel THEN ''"
"            ELSE ' (through ' OPERATOR(pg_catalog.||) pg_catalog.pg_describe_object(o.classid, o.objid, 0)"
"                 OPERATOR(pg_catalog.||) ')' END"
"  FROM owned o JOIN pg_catalog.pg_depend d"
"    ON d.refclassid OPERATOR(pg_catalog.=) o.classid AND d.refobjid OPERATOR(pg_catalog.=) o.objid"
" WHERE d.deptype OPERATOR(pg_catalog.=) 'n'"
"   AND NOT EXISTS (SELECT 1 FROM owned x WHERE x.rel OPERATOR(pg_catalog.=) o.rel"
"                      AND x.classid OPERATOR(pg_catalog.=) d.classid AND x.objid OPERATOR(pg_catalog.=) d.objid)"
"   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k"
"                    WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_constraint'::pg_catalog.regclass"
"                      AND k.oid OPERATOR(pg_catalog.=) d.objid AND k.contype OPERATOR(pg_catalog.=) 'f'"
"                      AND k.confrelid OPERATOR(pg_catalog.=) o.rel)"
"   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits h"
"                    WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
"                      AND h.inhrelid OPERATOR(pg_catalog.=) d.objid AND h.inhparent OPERATOR(pg_catalog.=) o.rel)"
" ORDER BY 1, 2";

/* Scans of each table (its whole partition tree) and of its indexes. */
static const char *scans_sql =
"SELECT t.oid,"
"       (SELECT pg_catalog.sum(pg_catalog.pg_stat_get_numscans(m.oid)"
"               OPERATOR(pg_catalog.+) COALESCE((SELECT pg_catalog.sum(pg_catalog.pg_stat_get_numscans(i.indexrelid))"
"                                                  FROM pg_catalog.pg_index i"
"                                                 WHERE i.indrelid OPERATOR(pg_catalog.=) m.oid), 0))"
"          FROM (SELECT t.oid WHERE c.relkind OPERATOR(pg_catalog.<>) 'p'"
"                UNION ALL SELECT p.relid FROM pg_catalog.pg_partition_tree(t.oid) p"
"                 WHERE c.relkind OPERATOR(pg_catalog.=) 'p' AND p.isleaf) m)::pg_catalog.int8,"
"       (SELECT pg_catalog.max(GREATEST(" DEDUP_LAST_SCAN_SQL("m.oid") ","
"               (SELECT pg_catalog.max(" DEDUP_LAST_SCAN_SQL("i.indexrelid") ") FROM pg_catalog.pg_index i"
"                 WHERE i.indrelid OPERATOR(pg_catalog.=) m.oid)))"
"          FROM (SELECT t.oid WHERE c.relkind OPERATOR(pg_catalog.<>) 'p'"
"                UNION ALL SELECT p.relid FROM pg_catalog.pg_partition_tree(t.oid) p"
"                 WHERE c.relkind OPERATOR(pg_catalog.=) 'p' AND p.isleaf) m)::pg_catalog.text"
"  FROM pg_catalog.unnest($1::pg_catalog.oid[]) t(oid)"
"  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) t.oid";

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
	Datum	   *oids;
	Oid			argtypes[1] = {OIDARRAYOID};
	Datum		args[1];
	HASHCTL		ctl;
	HTAB	   *tokens;
	uint64		r;
	int			i;
	char	   *since;

	if (n == 0)
		return;
	oids = palloc(sizeof(Datum) * n);
	for (i = 0; i < n; i++)
		oids[i] = ObjectIdGetDatum(cat->tables[idx[i]].relid);
	args[0] = PointerGetDatum(construct_array(oids, n, OIDOID, sizeof(Oid), true, TYPALIGN_INT));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "dedup: SPI_connect failed");

	/* what depends on each table or on what it owns */
	if (SPI_execute_with_args(mentions_sql, 1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "dedup: dependency query failed");
	oldcxt = MemoryContextSwitchTo(cat->cxt);
	for (r = 0; r < SPI_tuptable->numvals; r++)
	{
		bool		isnull;
		DedupTable *t = dedup_find_table(cat, DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[r],
																			 SPI_tuptable->tupdesc, 1, &isnull)));
		char	   *what = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2);

		CHECK_FOR_INTERRUPTS();
		if (t && what)
			t->mentions = lappend(t->mentions, what);
	}
	MemoryContextSwitchTo(oldcxt);

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
		if (SPI_execute_with_args(scans_sql, 1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "dedup: statistics query failed");
		oldcxt = MemoryContextSwitchTo(cat->cxt);
		for (r = 0; r < SPI_tuptable->numvals; r++)
		{
			bool		isnull;
			HeapTuple	tup = SPI_tuptable->vals[r];
			DedupTable *t = dedup_find_table(cat, DatumGetObjectId(SPI_getbinval(tup, SPI_tuptable->tupdesc, 1, &isnull)));
			Datum		d = SPI_getbinval(tup, SPI_tuptable->tupdesc, 2, &isnull);

			if (t == NULL)
				continue;
			t->scans = isnull ? 0 : DatumGetInt64(d);
			t->last_read = SPI_getvalue(tup, SPI_tuptable->tupdesc, 3);
		}
		MemoryContextSwitchTo(oldcxt);
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
							 t->last_read ?
							 psprintf("read by " INT64_FORMAT " scans %s, last at %s",
									  t->scans, since, t->last_read) :
							 psprintf("read by " INT64_FORMAT " scans %s", t->scans, since));
		t->in_use = t->use != NIL;
	}
	MemoryContextSwitchTo(oldcxt);
	hash_destroy(tokens);
	SPI_finish();
}
