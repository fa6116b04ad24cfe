/*-------------------------------------------------------------------------
 *
 * discovery.c
 *	  dedup.duplicate_groups() and dedup.find_empty_duplicates(): the
 *	  duplicate groups of the catalog model, as reports.
 *
 * Both are read-only.  Every group member is read under AccessShareLock,
 * released as soon as it is read, with a snapshot taken after the lock.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"

#include "compat.h"
#include "dedup.h"
#include "ddl.h"

PG_FUNCTION_INFO_V1(dedup_duplicate_groups);
PG_FUNCTION_INFO_V1(dedup_find_empty_duplicates);

static int	role_rank(DedupRole role);
static int	member_cmp(const void *a, const void *b);

static DedupCatalog *member_cat;

static int
role_rank(DedupRole role)
{
	return role == DEDUP_ROLE_KEEPER ? 0 : role == DEDUP_ROLE_EXTENSION ? 1 :
		role == DEDUP_ROLE_DUPLICATE ? 2 : 3;
}

/* group, then keeper / extensions / duplicates / backups, then schema and name */
static int
member_cmp(const void *a, const void *b)
{
	DedupTable *x = &member_cat->tables[*(const int *) a];
	DedupTable *y = &member_cat->tables[*(const int *) b];
	int			c;

	if (x->group_id != y->group_id)
		return x->group_id - y->group_id;
	c = role_rank(x->role) - role_rank(y->role);
	return c != 0 ? c : x->name_rank - y->name_rank;
}

/* Indexes of every group member, in report order; *n receives the count. */
int *
dedup_group_members(DedupCatalog *cat, int *n)
{
	int		   *idx = palloc(sizeof(int) * Max(cat->ntables, 1));
	int			i;

	*n = 0;
	for (i = 0; i < cat->ntables; i++)
		if (cat->tables[i].group_id > 0)
			idx[(*n)++] = i;
	member_cat = cat;
	qsort(idx, *n, sizeof(int), member_cmp);
	return idx;
}

/*
 * What both reports start with: the catalog of the schemas in argument 0,
 * grouped (exact_counts: every member counted), members in report order.
 * dedup's own reads are kept out of the statistics until the caller's
 * dedup_quiet_stats_end(*nestlevel).
 */
static DedupCatalog *
load_groups(FunctionCallInfo fcinfo, bool exact_counts, int **idx, int *n, int *nestlevel)
{
	ArrayType  *schemas = PG_ARGISNULL(0) ? NULL : PG_GETARG_ARRAYTYPE_P(0);
	DedupCatalog *cat;

	dedup_init_srf(fcinfo);
	cat = dedup_load_catalog(schemas, false);
	*nestlevel = dedup_quiet_stats_begin(cat);
	dedup_build_groups(cat, exact_counts);
	*idx = dedup_group_members(cat, n);
	return cat;
}

/*
 * dedup.duplicate_groups(schemas name[] DEFAULT NULL) RETURNS TABLE (
 *	 group_id int, keeper regclass, tbl regclass, role text,
 *	 is_empty boolean, row_count bigint, similarity real,
 *	 evidence text[], verdict text, strength text)
 *
 *	 SELECT group_id, tbl, role, row_count, verdict FROM dedup.duplicate_groups();
 *
 * row_count is exact (every member is read); verdicts compare members that
 * hold rows with the keeper on its primary key.  strength is NULL for
 * keepers and extensions.
 */
Datum
dedup_duplicate_groups(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int		   *idx;
	int			n;
	int			i;
	int			nestlevel;
	DedupCatalog *cat = load_groups(fcinfo, true, &idx, &n, &nestlevel);

	for (i = 0; i < n; i++)
	{
		DedupTable *t = &cat->tables[idx[i]];
		Datum		values[10];
		bool		nulls[10] = {0};

		CHECK_FOR_INTERRUPTS();
		values[0] = Int32GetDatum(t->group_id);
		values[1] = ObjectIdGetDatum(cat->tables[cat->group_keeper[t->group_id]].relid);
		values[2] = ObjectIdGetDatum(t->relid);
		values[3] = CStringGetTextDatum(dedup_role_name(t->role));
		if (t->unknown_reason != DEDUP_KNOWN)
			nulls[4] = nulls[5] = true;
		else
		{
			values[4] = BoolGetDatum(t->nrows == 0);
			values[5] = Int64GetDatum(t->nrows);
		}
		values[6] = Float4GetDatum(t->similarity);
		values[7] = dedup_text_array(t->evidence);
		values[8] = CStringGetTextDatum(t->verdict);
		if (t->strength == DEDUP_STRENGTH_NONE)
			nulls[9] = true;
		else
			values[9] = CStringGetTextDatum(dedup_strength_name(t->strength));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	dedup_quiet_stats_end(nestlevel);
	return (Datum) 0;
}

/*
 * dedup.find_empty_duplicates(schemas name[] DEFAULT NULL) RETURNS TABLE (
 *	 group_id int, keeper regclass, keeper_rows bigint, duplicate regclass,
 *	 safe_to_drop boolean, blockers text[], drop_order int,
 *	 strength text, verdict text)
 *
 *	 SELECT duplicate, safe_to_drop, blockers, drop_order
 *	   FROM dedup.find_empty_duplicates() ORDER BY drop_order;
 *
 * Lists every duplicate that is empty (never an extension, a backup or a
 * keeper), with its strength and the verdict that says why it is or is not
 * safe.  Only "empty or not" is read for members; the keeper is counted
 * exactly.
 */
Datum
dedup_find_empty_duplicates(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int		   *idx;
	int			n;
	int			i;
	int			nestlevel;
	DedupCatalog *cat = load_groups(fcinfo, false, &idx, &n, &nestlevel);

	for (i = 0; i < n; i++)
	{
		DedupTable *t = &cat->tables[idx[i]];
		DedupTable *k = &cat->tables[cat->group_keeper[t->group_id]];
		Datum		values[9];
		bool		nulls[9] = {0};

		CHECK_FOR_INTERRUPTS();
		if (t->role != DEDUP_ROLE_DUPLICATE || t->unknown_reason != DEDUP_KNOWN ||
			t->nrows != 0)
			continue;
		dedup_probe_table(k, true);
		values[0] = Int32GetDatum(t->group_id);
		values[1] = ObjectIdGetDatum(k->relid);
		if (k->unknown_reason != DEDUP_KNOWN)
			nulls[2] = true;
		else
			values[2] = Int64GetDatum(k->nrows);
		values[3] = ObjectIdGetDatum(t->relid);
		values[4] = BoolGetDatum(t->safe_to_drop);
		values[5] = dedup_text_array(t->blockers);
		if (t->drop_order > 0)
			values[6] = Int32GetDatum(t->drop_order);
		else
			nulls[6] = true;
		values[7] = CStringGetTextDatum(dedup_strength_name(t->strength));
		values[8] = CStringGetTextDatum(t->verdict);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	dedup_quiet_stats_end(nestlevel);
	return (Datum) 0;
}

/*
 * For the changing functions (merge_members, unpartition): the other
 * members of keeper's duplicate group that are copies of it (never an
 * extension, never a leftover joined with drifted columns, which is only
 * proposed for a check, and never the keeper itself, whichever member
 * discovery would keep), in name order, from the same grouping rules as
 * dedup.duplicate_groups().
 */
List *
dedup_group_duplicates(Oid keeper)
{
	Datum		nsp = CStringGetDatum(get_namespace_name(get_rel_namespace(keeper)));
	ArrayType  *schemas;
	DedupCatalog *cat;
	DedupTable *k;
	int		   *idx;
	int			n;
	int			i;
	int			nestlevel;
	List	   *out = NIL;

	{
		NameData	name;

		namestrcpy(&name, DatumGetCString(nsp));
		nsp = NameGetDatum(&name);
		schemas = construct_array(&nsp, 1, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR);
		cat = dedup_load_catalog(schemas, false);
	}
	nestlevel = dedup_quiet_stats_begin(cat);
	dedup_build_groups(cat, false);
	dedup_quiet_stats_end(nestlevel);
	k = dedup_find_table(cat, keeper);
	if (k == NULL || k->group_id == 0)
		return NIL;
	idx = dedup_group_members(cat, &n);
	dedup_sort_by_name(cat, idx, n);
	for (i = 0; i < n; i++)
	{
		DedupTable *t = &cat->tables[idx[i]];

		if (t->group_id == k->group_id && t != k && !t->drifted &&
			(t->role == DEDUP_ROLE_DUPLICATE || t->role == DEDUP_ROLE_KEEPER))
			out = lappend_oid(out, t->relid);
	}
	return out;
}
