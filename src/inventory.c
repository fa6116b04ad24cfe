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
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "compat.h"
#include "dedup.h"

PG_FUNCTION_INFO_V1(dedup_inventory);

#define INVENTORY_COLS 14

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
	int			nestlevel;

	dedup_init_srf(fcinfo);
	cat = dedup_load_catalog(schemas, true);
	nestlevel = dedup_quiet_stats_begin(cat);	/* our reads are not use */
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
		dedup_load_columns(cat, t);
		dedup_load_pk(cat, t);

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
	dedup_quiet_stats_end(nestlevel);
	return (Datum) 0;
}
