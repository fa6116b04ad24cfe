/*-------------------------------------------------------------------------
 *
 * catalog.c
 *	  Load the catalog model: tables, columns, keys, foreign keys, views,
 *	  rules, policies, triggers, children and publications.
 *
 * Everything is read through SPI with a handful of set-oriented queries
 * (one per kind of fact, joined to the table set by hash), so a database
 * with 10,000 tables costs a few catalog scans rather than 10,000 of them.
 * No user table is locked here: only catalogs are read.  Every catalog
 * reference is schema-qualified and every value is a $n parameter.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/transam.h"
#include "catalog/namespace.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_index.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"

#include "dedup.h"
#include "ddl.h"

static const char *tables_sql =
"SELECT c.oid, n.nspname, c.relname, c.relkind, c.relispartition,"
"       COALESCE(i.inhparent, 0::pg_catalog.oid),"
"       c.relrowsecurity, c.reltuples::pg_catalog.float8, c.relnatts, c.relowner"
"  FROM pg_catalog.pg_class c"
"  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
"  LEFT JOIN pg_catalog.pg_inherits i"
"         ON i.inhrelid OPERATOR(pg_catalog.=) c.oid"
"        AND i.inhseqno OPERATOR(pg_catalog.=) 1"
" WHERE c.relkind IN ('r', 'p')"
"   AND " DEDUP_SCAN_FILTER
" ORDER BY c.oid";

/* $1 is always the oid[] of the tables loaded by tables_sql. */
#define IN_SET(col) col " IN (SELECT pg_catalog.unnest($1::pg_catalog.oid[]))"

/*
 * Top-level foreign keys touching the set (partition clones have a
 * conparentid).  pk_to_pk: the referencing side is exactly the referencing
 * table's primary key and the referenced side the referenced table's.
 */
static const char *fk_sql =
"WITH pk AS ("
"  SELECT p.conrelid, (SELECT pg_catalog.array_agg(x ORDER BY x)"
"                        FROM pg_catalog.unnest(p.conkey) x) AS cols"
"    FROM pg_catalog.pg_constraint p WHERE p.contype OPERATOR(pg_catalog.=) 'p')"
"SELECT k.oid, k.conname, k.conrelid, k.confrelid,"
"       COALESCE((SELECT pg_catalog.array_agg(x ORDER BY x) FROM pg_catalog.unnest(k.conkey) x)"
"                  OPERATOR(pg_catalog.=) fpk.cols"
"            AND (SELECT pg_catalog.array_agg(x ORDER BY x) FROM pg_catalog.unnest(k.confkey) x)"
"                  OPERATOR(pg_catalog.=) tpk.cols, false)"
"  FROM pg_catalog.pg_constraint k"
"  LEFT JOIN pk fpk ON fpk.conrelid OPERATOR(pg_catalog.=) k.conrelid"
"  LEFT JOIN pk tpk ON tpk.conrelid OPERATOR(pg_catalog.=) k.confrelid"
" WHERE k.contype OPERATOR(pg_catalog.=) 'f'"
"   AND k.conparentid OPERATOR(pg_catalog.=) 0"
"   AND (" IN_SET("k.conrelid") " OR " IN_SET("k.confrelid") ")"
" ORDER BY k.conrelid, k.conname";

/*
 * Views and rules of other relations that depend on a table.  Driven from
 * pg_rewrite (few rows) into pg_depend's depender index: the LATERAL keeps
 * the planner from scanning all of pg_depend.  Filtered to the set in C.
 */
static const char *dependents_sql =
"SELECT DISTINCT d.refobjid, r.ev_class, c.relkind, r.rulename"
"  FROM pg_catalog.pg_rewrite r"
"  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) r.ev_class"
" CROSS JOIN LATERAL ("
"   SELECT x.refobjid FROM pg_catalog.pg_depend x"
"    WHERE x.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass"
"      AND x.objid OPERATOR(pg_catalog.=) r.oid"
"      AND x.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
"      AND x.refobjid OPERATOR(pg_catalog.<>) r.ev_class) d"
" ORDER BY 1, 2, 4";

static const char *counts_sql =
"SELECT 'p'::pg_catalog.\"char\", p.polrelid, pg_catalog.count(*)::pg_catalog.int4"
"  FROM pg_catalog.pg_policy p WHERE " IN_SET("p.polrelid") " GROUP BY 2"
" UNION ALL "
"SELECT 't', g.tgrelid, pg_catalog.count(*)::pg_catalog.int4"
"  FROM pg_catalog.pg_trigger g WHERE NOT g.tgisinternal AND " IN_SET("g.tgrelid")
" GROUP BY 2";

/*
 * Primary keys: attnums in key order, of every user table (few rows; the
 * caller keeps those of the set: cheaper than matching a large set here).
 * $1 is FirstNormalObjectId.
 */
static const char *pk_sql =
"SELECT p.conrelid, p.conkey FROM pg_catalog.pg_constraint p"
" WHERE p.contype OPERATOR(pg_catalog.=) 'p' AND p.conrelid OPERATOR(pg_catalog.>=) $1";

static const char *children_sql =
"SELECT i.inhparent, i.inhrelid FROM pg_catalog.pg_inherits i"
" WHERE " IN_SET("i.inhparent") " ORDER BY 1, 2";

static const char *publications_sql =
"SELECT r.prrelid, p.pubname FROM pg_catalog.pg_publication_rel r"
"  JOIN pg_catalog.pg_publication p ON p.oid OPERATOR(pg_catalog.=) r.prpubid"
" WHERE " IN_SET("r.prrelid") " ORDER BY 1, 2";

/*
 * Sizes: a partitioned table's size is the sum over its partition tree.
 * pg_total_relation_size() releases its lock at once.
 */
static const char *sizes_sql =
"SELECT c.oid,"
"       CASE WHEN c.relkind OPERATOR(pg_catalog.=) 'p' THEN"
"         (SELECT COALESCE(pg_catalog.sum(pg_catalog.pg_total_relation_size(t.relid)), 0)::pg_catalog.int8"
"            FROM pg_catalog.pg_partition_tree(c.oid) t)"
"       ELSE pg_catalog.pg_total_relation_size(c.oid) END"
"  FROM pg_catalog.pg_class c WHERE " IN_SET("c.oid");

/* Run a read-only catalog query; errors if it does not return rows. */
SPITupleTable *
dedup_catalog_query(const char *sql, int nargs, Oid *argtypes, Datum *values,
				  const char *nulls)
{
	int			rc;

	rc = SPI_execute_with_args(sql, nargs, argtypes, values, nulls, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "dedup: catalog query failed: %s", SPI_result_code_string(rc));
	return SPI_tuptable;
}

static Oid
get_oid(HeapTuple tup, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	return isnull ? InvalidOid : DatumGetObjectId(d);
}

static char *
get_name(HeapTuple tup, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	return isnull ? NULL : pstrdup(NameStr(*DatumGetName(d)));
}

static int
cmp_table_oid(const void *a, const void *b)
{
	Oid			x = ((const DedupTable *) a)->relid;
	Oid			y = ((const DedupTable *) b)->relid;

	return (x > y) - (x < y);
}

int
dedup_table_index(DedupCatalog *cat, Oid relid)
{
	int			lo = 0,
				hi = cat->ntables - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;
		Oid			m = cat->tables[mid].relid;

		if (m == relid)
			return mid;
		if (m < relid)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

DedupTable *
dedup_find_table(DedupCatalog *cat, Oid relid)
{
	int			i = dedup_table_index(cat, relid);

	return i < 0 ? NULL : &cat->tables[i];
}

static int
cmp_table_name(const void *a, const void *b)
{
	const DedupTable *x = *(const DedupTable *const *) a;
	const DedupTable *y = *(const DedupTable *const *) b;
	int			c = strcmp(x->nspname, y->nspname);

	return c != 0 ? c : strcmp(x->relname, y->relname);
}

/*
 * Give every table its rank in (schema, name) byte order, so that every
 * later sort by name compares two integers.
 */
static void
rank_by_name(DedupCatalog *cat)
{
	DedupTable **byname = palloc(sizeof(DedupTable *) * Max(cat->ntables, 1));
	int			i;

	for (i = 0; i < cat->ntables; i++)
		byname[i] = &cat->tables[i];
	qsort(byname, cat->ntables, sizeof(DedupTable *), cmp_table_name);
	for (i = 0; i < cat->ntables; i++)
		byname[i]->name_rank = i;
	pfree(byname);
}

/*
 * Load every table of the chosen schemas (NULL: every user schema) with the
 * facts grouping and the reports need.  The model is allocated in the
 * caller's memory context.
 */
DedupCatalog *
dedup_load_catalog(ArrayType *schemas, bool with_sizes)
{
	MemoryContext cxt = CurrentMemoryContext;
	MemoryContext oldcxt;
	DedupCatalog *cat = palloc0(sizeof(DedupCatalog));
	SPITupleTable *tt;
	Oid			argtypes[1];
	Datum		args[1];
	char		nulls[1];
	Datum	   *oids;
	ArrayType  *oidarr;
	uint64		i;
	int			t;

	cat->cxt = cxt;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "dedup: SPI_connect failed");

	/* tables */
	argtypes[0] = NAMEARRAYOID;
	args[0] = PointerGetDatum(schemas);
	nulls[0] = schemas ? ' ' : 'n';
	tt = dedup_catalog_query(tables_sql, 1, argtypes, args, nulls);

	oldcxt = MemoryContextSwitchTo(cxt);
	cat->ntables = (int) tt->numvals;
	cat->tables = palloc0(sizeof(DedupTable) * Max(cat->ntables, 1));
	oids = palloc(sizeof(Datum) * Max(cat->ntables, 1));
	for (i = 0; i < tt->numvals; i++)
	{
		HeapTuple	tup = tt->vals[i];
		TupleDesc	desc = tt->tupdesc;
		DedupTable *tbl = &cat->tables[i];
		bool		isnull;

		CHECK_FOR_INTERRUPTS();
		tbl->relid = get_oid(tup, desc, 1);
		tbl->nspname = get_name(tup, desc, 2);
		tbl->relname = get_name(tup, desc, 3);
		tbl->qualname = quote_qualified_identifier(tbl->nspname, tbl->relname);
		tbl->relkind = DatumGetChar(SPI_getbinval(tup, desc, 4, &isnull));
		tbl->ispartition = DatumGetBool(SPI_getbinval(tup, desc, 5, &isnull));
		tbl->parent = get_oid(tup, desc, 6);
		tbl->rls_enabled = DatumGetBool(SPI_getbinval(tup, desc, 7, &isnull));
		tbl->reltuples = DatumGetFloat8(SPI_getbinval(tup, desc, 8, &isnull));
		tbl->relnatts = DatumGetInt16(SPI_getbinval(tup, desc, 9, &isnull));
		tbl->owner = get_oid(tup, desc, 10);
		tbl->ncols = -1;		/* columns and key are loaded on demand */
		tbl->npk = -1;
		tbl->extends = -1;
		tbl->uf = (int) i;
		tbl->nrows = DEDUP_ROWS_UNKNOWN;
		tbl->total_bytes = -1;
		oids[i] = ObjectIdGetDatum(tbl->relid);
	}
	/* tables_sql orders by oid already; keep the invariant explicit */
	qsort(cat->tables, cat->ntables, sizeof(DedupTable), cmp_table_oid);
	for (t = 0; t < cat->ntables; t++)
		cat->tables[t].uf = t;
	oidarr = construct_array(oids, cat->ntables, OIDOID, sizeof(Oid), true,
							 TYPALIGN_INT);
	MemoryContextSwitchTo(oldcxt);

	argtypes[0] = OIDARRAYOID;
	args[0] = PointerGetDatum(oidarr);
	nulls[0] = ' ';

	/* foreign keys */
	tt = dedup_catalog_query(fk_sql, 1, argtypes, args, nulls);
	oldcxt = MemoryContextSwitchTo(cxt);
	for (i = 0; i < tt->numvals; i++)
	{
		HeapTuple	tup = tt->vals[i];
		DedupFk    *fk = palloc0(sizeof(DedupFk));
		DedupTable *from,
				   *to;
		bool		isnull;

		CHECK_FOR_INTERRUPTS();
		fk->conoid = get_oid(tup, tt->tupdesc, 1);
		fk->conname = get_name(tup, tt->tupdesc, 2);
		fk->from = get_oid(tup, tt->tupdesc, 3);
		fk->to = get_oid(tup, tt->tupdesc, 4);
		fk->pk_to_pk = DatumGetBool(SPI_getbinval(tup, tt->tupdesc, 5, &isnull));
		from = dedup_find_table(cat, fk->from);
		to = dedup_find_table(cat, fk->to);
		if (from && fk->from != fk->to)
			from->references = lappend(from->references, fk);
		if (to && fk->from != fk->to)
			to->referenced_by = lappend(to->referenced_by, fk);
	}
	MemoryContextSwitchTo(oldcxt);

	/* views and rules that depend on a table */
	tt = dedup_catalog_query(dependents_sql, 1, argtypes, args, nulls);
	oldcxt = MemoryContextSwitchTo(cxt);
	for (i = 0; i < tt->numvals; i++)
	{
		HeapTuple	tup = tt->vals[i];
		DedupTable *tbl = dedup_find_table(cat, get_oid(tup, tt->tupdesc, 1));
		DedupDependent *dep;
		bool		isnull;
		char	   *rulename;

		if (tbl == NULL)
			continue;
		dep = palloc0(sizeof(DedupDependent));
		dep->relid = get_oid(tup, tt->tupdesc, 2);
		dep->relkind = DatumGetChar(SPI_getbinval(tup, tt->tupdesc, 3, &isnull));
		rulename = get_name(tup, tt->tupdesc, 4);
		if (dep->relkind == RELKIND_VIEW)
			dep->phrase = psprintf("view %s", dedup_qualified_name(dep->relid));
		else if (dep->relkind == RELKIND_MATVIEW)
			dep->phrase = psprintf("materialized view %s",
								   dedup_qualified_name(dep->relid));
		else
			dep->phrase = psprintf("rule %s on %s", quote_identifier(rulename),
								   dedup_qualified_name(dep->relid));
		tbl->dependents = lappend(tbl->dependents, dep);
	}
	MemoryContextSwitchTo(oldcxt);

	/* policy and trigger counts */
	tt = dedup_catalog_query(counts_sql, 1, argtypes, args, nulls);
	for (i = 0; i < tt->numvals; i++)
	{
		HeapTuple	tup = tt->vals[i];
		bool		isnull;
		char		what = DatumGetChar(SPI_getbinval(tup, tt->tupdesc, 1, &isnull));
		DedupTable *tbl = dedup_find_table(cat, get_oid(tup, tt->tupdesc, 2));
		int32		n = DatumGetInt32(SPI_getbinval(tup, tt->tupdesc, 3, &isnull));

		if (tbl == NULL)
			continue;
		if (what == 'p')
			tbl->npolicies = n;
		else
			tbl->ntriggers = n;
	}

	/* primary keys */
	{
		Oid			types[1] = {OIDOID};
		Datum		first[1] = {ObjectIdGetDatum(FirstNormalObjectId)};

		tt = dedup_catalog_query(pk_sql, 1, types, first, NULL);
	}
	oldcxt = MemoryContextSwitchTo(cxt);
	for (i = 0; i < tt->numvals; i++)
	{
		DedupTable *tbl = dedup_find_table(cat, get_oid(tt->vals[i], tt->tupdesc, 1));
		bool		isnull;
		Datum		d = SPI_getbinval(tt->vals[i], tt->tupdesc, 2, &isnull);
		Datum	   *elems;
		int			nelems;
		int			k;

		if (tbl == NULL || isnull)
			continue;
		deconstruct_array(DatumGetArrayTypeP(d), INT2OID, sizeof(int16), true,
						  TYPALIGN_SHORT, &elems, NULL, &nelems);
		tbl->pkatts = palloc(sizeof(int16) * Max(nelems, 1));
		for (k = 0; k < nelems; k++)
			tbl->pkatts[k] = DatumGetInt16(elems[k]);
		tbl->npkatts = nelems;
	}
	MemoryContextSwitchTo(oldcxt);

	/* partitions and inheritance children */
	tt = dedup_catalog_query(children_sql, 1, argtypes, args, nulls);
	oldcxt = MemoryContextSwitchTo(cxt);
	for (i = 0; i < tt->numvals; i++)
	{
		DedupTable *tbl = dedup_find_table(cat, get_oid(tt->vals[i], tt->tupdesc, 1));

		if (tbl)
			tbl->children = lappend_oid(tbl->children,
										get_oid(tt->vals[i], tt->tupdesc, 2));
	}
	MemoryContextSwitchTo(oldcxt);

	/* publications that name a table explicitly */
	tt = dedup_catalog_query(publications_sql, 1, argtypes, args, nulls);
	oldcxt = MemoryContextSwitchTo(cxt);
	for (i = 0; i < tt->numvals; i++)
	{
		DedupTable *tbl = dedup_find_table(cat, get_oid(tt->vals[i], tt->tupdesc, 1));

		if (tbl)
			tbl->publications = lappend(tbl->publications,
										get_name(tt->vals[i], tt->tupdesc, 2));
	}
	MemoryContextSwitchTo(oldcxt);

	if (with_sizes)
	{
		tt = dedup_catalog_query(sizes_sql, 1, argtypes, args, nulls);
		for (i = 0; i < tt->numvals; i++)
		{
			bool		isnull;
			DedupTable *tbl = dedup_find_table(cat, get_oid(tt->vals[i], tt->tupdesc, 1));
			Datum		d = SPI_getbinval(tt->vals[i], tt->tupdesc, 2, &isnull);

			if (tbl && !isnull)
				tbl->total_bytes = DatumGetInt64(d);
		}
	}

	SPI_finish();

	/* names are parsed and ranked once, for every table */
	for (t = 0; t < cat->ntables; t++)
		dedup_parse_name(&cat->tables[t]);
	rank_by_name(cat);

	return cat;
}

/*
 * Columns of a table (names and types, attnum order), from the syscache,
 * the first time they are needed.  Most tables of a large database are
 * never compared with another, so their columns are never read.
 */
void
dedup_load_columns(DedupCatalog *cat, DedupTable *t)
{
	MemoryContext oldcxt;
	AttrNumber	attnum;

	if (t->ncols >= 0)
		return;
	oldcxt = MemoryContextSwitchTo(cat->cxt);
	t->cols = palloc(sizeof(char *) * Max(t->relnatts, 1));
	t->coltypes = palloc(sizeof(Oid) * Max(t->relnatts, 1));
	t->colnums = palloc(sizeof(int16) * Max(t->relnatts, 1));
	t->ncols = 0;
	for (attnum = 1; attnum <= t->relnatts; attnum++)
	{
		HeapTuple	tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(t->relid),
										  Int16GetDatum(attnum));
		Form_pg_attribute att;

		if (!HeapTupleIsValid(tup))
			continue;			/* dropped table: keep what we have */
		att = (Form_pg_attribute) GETSTRUCT(tup);
		if (!att->attisdropped)
		{
			t->cols[t->ncols] = pstrdup(NameStr(att->attname));
			t->coltypes[t->ncols] = att->atttypid;
			t->colnums[t->ncols] = attnum;
			t->ncols++;
		}
		ReleaseSysCache(tup);
	}
	MemoryContextSwitchTo(oldcxt);
}

/*
 * Columns of the tables idx[0..n) that are not loaded yet, in one pass
 * over pg_attribute: grouping compares every member of a name family, and
 * one sequential read of the catalog costs less than an index lookup per
 * table.
 */
void
dedup_load_columns_of(DedupCatalog *cat, int *idx, int n)
{
	bool	   *want = palloc0(sizeof(bool) * Max(cat->ntables, 1));
	int			nwant = 0;
	Relation	attrel;
	SysScanDesc scan;
	HeapTuple	tup;
	MemoryContext oldcxt;
	int			i;

	oldcxt = MemoryContextSwitchTo(cat->cxt);
	for (i = 0; i < n; i++)
	{
		DedupTable *t = &cat->tables[idx[i]];

		if (t->ncols >= 0 || want[idx[i]])
			continue;
		want[idx[i]] = true;
		nwant++;
		t->cols = palloc0(sizeof(char *) * Max(t->relnatts, 1));
		t->coltypes = palloc(sizeof(Oid) * Max(t->relnatts, 1));
		t->colnums = palloc(sizeof(int16) * Max(t->relnatts, 1));
	}
	if (nwant > 0)
	{
		attrel = table_open(AttributeRelationId, AccessShareLock);
		scan = systable_beginscan(attrel, InvalidOid, false, NULL, 0, NULL);
		while (HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			Form_pg_attribute att = (Form_pg_attribute) GETSTRUCT(tup);
			int			k;
			DedupTable *t;

			if (att->attnum <= 0 || att->attisdropped ||
				att->attrelid < cat->tables[0].relid ||
				(k = dedup_table_index(cat, att->attrelid)) < 0 || !want[k])
				continue;
			t = &cat->tables[k];
			if (att->attnum > t->relnatts)
				continue;
			t->cols[att->attnum - 1] = pstrdup(NameStr(att->attname));
			t->coltypes[att->attnum - 1] = att->atttypid;
		}
		systable_endscan(scan);
		table_close(attrel, AccessShareLock);
	}

	/* attnum order, without the gaps dropped columns left */
	for (i = 0; i < cat->ntables; i++)
	{
		DedupTable *t = &cat->tables[i];
		int			a;

		if (!want[i])
			continue;
		CHECK_FOR_INTERRUPTS();
		t->ncols = 0;
		for (a = 0; a < t->relnatts; a++)
			if (t->cols[a])
			{
				t->cols[t->ncols] = t->cols[a];
				t->coltypes[t->ncols] = t->coltypes[a];
				t->colnums[t->ncols] = a + 1;
				t->ncols++;
			}
	}
	MemoryContextSwitchTo(oldcxt);
	pfree(want);
}

/*
 * Primary key columns of a table, in key order, from the attnums the
 * catalog query loaded and the table's columns.
 */
void
dedup_load_pk(DedupCatalog *cat, DedupTable *t)
{
	MemoryContext oldcxt;
	int			i,
				c;

	if (t->npk >= 0)
		return;
	dedup_load_columns(cat, t);
	oldcxt = MemoryContextSwitchTo(cat->cxt);
	t->npk = 0;
	t->pk = palloc(sizeof(char *) * Max(t->npkatts, 1));
	for (i = 0; i < t->npkatts; i++)
		for (c = 0; c < t->ncols; c++)
			if (t->colnums[c] == t->pkatts[i])
				t->pk[t->npk++] = t->cols[c];
	MemoryContextSwitchTo(oldcxt);
}
