/*-------------------------------------------------------------------------
 *
 * inventory.c
 *	  dedup.inventory(): every table of the chosen schemas with what a
 *	  consolidation needs to know about it, including exact emptiness.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "compat.h"
#include "dedup.h"

PG_FUNCTION_INFO_V1(dedup_inventory);

#define INVENTORY_COLS 14

/*
 * Column counts and primary keys of the tables ($1), read in two catalog
 * queries rather than table by table (dedup_load_columns / dedup_load_pk
 * open each table: on 100,000 tables that was seconds).
 */
static const char *columns_sql =
"SELECT a.attrelid, pg_catalog.count(*)::pg_catalog.int4"
"  FROM pg_catalog.unnest($1::pg_catalog.oid[]) s(oid)"
"  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) s.oid"
" WHERE a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped GROUP BY a.attrelid";
static const char *pk_sql =
"SELECT k.conrelid, pg_catalog.array_agg(a.attname ORDER BY u.n)"
"  FROM pg_catalog.unnest($1::pg_catalog.oid[]) s(oid)"
"  JOIN pg_catalog.pg_constraint k ON k.conrelid OPERATOR(pg_catalog.=) s.oid"
" CROSS JOIN LATERAL pg_catalog.unnest(k.conkey) WITH ORDINALITY u(attnum, n)"
"  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) k.conrelid"
"                               AND a.attnum OPERATOR(pg_catalog.=) u.attnum"
" WHERE k.contype OPERATOR(pg_catalog.=) 'p'"
" GROUP BY k.conrelid";

/* Fill ncols and the primary key of every table of cat from the catalogs. */
static void
load_columns_and_keys(DedupCatalog *cat)
{
	Datum	   *oids = palloc(sizeof(Datum) * Max(cat->ntables, 1));
	Oid			types[1] = {OIDARRAYOID};
	Datum		args[1];
	MemoryContext old;
	uint64		r;
	int			i;
	int			nest;

	for (i = 0; i < cat->ntables; i++)
	{
		oids[i] = ObjectIdGetDatum(cat->tables[i].relid);
		cat->tables[i].npk = 0;
	}
	args[0] = PointerGetDatum(construct_array(oids, cat->ntables, OIDOID, sizeof(Oid), true, TYPALIGN_INT));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "dedup: SPI_connect failed");
	nest = dedup_catalog_settings();
	if (SPI_execute_with_args(columns_sql, 1, types, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "dedup: catalog query failed");
	for (r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		DedupTable *t = dedup_find_table(cat, DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull)));

		if (t)
			t->ncols = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, &isnull));
	}
	if (SPI_execute_with_args(pk_sql, 1, types, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "dedup: catalog query failed");
	old = MemoryContextSwitchTo(cat->cxt);
	for (r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		DedupTable *t = dedup_find_table(cat, DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull)));
		Datum	   *names;
		int			n;

		if (t == NULL)
			continue;
		deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, &isnull)),
						  NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR, &names, NULL, &n);
		t->pk = palloc(sizeof(char *) * Max(n, 1));
		for (i = 0; i < n; i++)
			t->pk[i] = pstrdup(NameStr(*DatumGetName(names[i])));
		t->npk = n;
	}
	MemoryContextSwitchTo(old);
	AtEOXact_GUC(true, nest);
	SPI_finish();
}

static const char *
kind_name(DedupTable *t)
{
	if (t->ispartition)
		return "partition";
	if (t->relkind == RELKIND_PARTITIONED_TABLE)
		return "partitioned";
	if (OidIsValid(t->parent))
		return "inheritance child";
	return "table";
}

/*
 * dedup.inventory(schemas name[] DEFAULT NULL) RETURNS TABLE (tbl regclass,
 *	 schema_name name, table_name name, kind text, is_empty boolean,
 *	 est_rows bigint, total_bytes bigint, n_columns int, primary_key name[],
 *	 referenced_by regclass[], dependent_views regclass[],
 *	 rls_enabled boolean, n_policies int, n_triggers int)
 *
 *	 SELECT tbl, kind, is_empty FROM dedup.inventory('{public}');
 *
 * is_empty is exact: each table is read under AccessShareLock with a fresh
 * snapshot, and the lock is released at once.  NULL when the caller could
 * not see every row itself (no SELECT privilege, row level security).
 */
Datum
dedup_inventory(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ArrayType  *schemas = PG_ARGISNULL(0) ? NULL : PG_GETARG_ARRAYTYPE_P(0);
	DedupCatalog *cat;
	int		   *order;
	int			i;

	dedup_init_srf(fcinfo);
	cat = dedup_load_catalog(schemas, true);
	load_columns_and_keys(cat);
	order = palloc(sizeof(int) * Max(cat->ntables, 1));
	for (i = 0; i < cat->ntables; i++)
		order[i] = i;
	dedup_sort_by_name(cat, order, cat->ntables);

	for (i = 0; i < cat->ntables; i++)
	{
		DedupTable *t = &cat->tables[order[i]];
		Datum		values[INVENTORY_COLS];
		bool		nulls[INVENTORY_COLS] = {0};
		List	   *refs = NIL;
		List	   *views = NIL;
		ListCell   *lc;
		NameData	nsp,
					rel;

		CHECK_FOR_INTERRUPTS();
		dedup_probe_table(t, false);

		foreach(lc, t->referenced_by)
			refs = list_append_unique_oid(refs, ((DedupFk *) lfirst(lc))->from);
		foreach(lc, t->dependents)
		{
			DedupDependent *d = (DedupDependent *) lfirst(lc);

			if (d->relkind == RELKIND_VIEW || d->relkind == RELKIND_MATVIEW)
				views = list_append_unique_oid(views, d->relid);
		}
		list_sort(refs, list_oid_cmp);
		list_sort(views, list_oid_cmp);

		namestrcpy(&nsp, t->nspname);
		namestrcpy(&rel, t->relname);
		values[0] = ObjectIdGetDatum(t->relid);
		values[1] = NameGetDatum(&nsp);
		values[2] = NameGetDatum(&rel);
		values[3] = CStringGetTextDatum(kind_name(t));
		if (t->unknown_reason != DEDUP_KNOWN)
			nulls[4] = true;
		else
			values[4] = BoolGetDatum(t->nrows == 0);
		if (t->reltuples < 0)
			nulls[5] = true;
		else
			values[5] = Int64GetDatum((int64) t->reltuples);
		if (t->total_bytes < 0)
			nulls[6] = true;
		else
			values[6] = Int64GetDatum(t->total_bytes);
		values[7] = Int32GetDatum(t->ncols);
		if (t->npk == 0)
			nulls[8] = true;
		else
			values[8] = dedup_name_array(t->pk, t->npk);
		values[9] = dedup_oid_array(refs);
		values[10] = dedup_oid_array(views);
		values[11] = BoolGetDatum(t->rls_enabled);
		values[12] = Int32GetDatum(t->npolicies);
		values[13] = Int32GetDatum(t->ntriggers);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
