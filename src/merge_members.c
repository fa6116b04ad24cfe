/*-------------------------------------------------------------------------
 *
 * merge_members.c
 *	  dedup.merge_members(): the whole "one members table" workflow in one
 *	  call and one transaction.
 *
 *	 1. a journaled backup of every table it touches that holds rows;
 *	 2. merge_rows from each look-alike of the keeper (default: the
 *		keeper's duplicate group from discovery), nothing dropped yet;
 *	 3. merge_extension of the 1:1 extension;
 *	 4. the look-alikes that are now redundant go: empty ones through
 *		drop_if_empty, the others through merge_rows(drop_source => true),
 *		which only drops when no value would be lost.  Columns a look-alike
 *		shares only with the extension (bio) exist in the keeper by then,
 *		so their values are compared too.  A look-alike that cannot go
 *		without losing something is kept and the step says why.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/resowner.h"

#include "compat.h"
#include "dedup.h"
#include "ddl.h"

PG_FUNCTION_INFO_V1(dedup_merge_members);

typedef struct Step
{
	const char *action;
	char	   *target;
	char	   *detail;
} Step;

typedef struct DropArgs
{
	Oid			table;
	Oid			keeper;
	bool		empty;
	int64		inserted;
} DropArgs;

static void
drop_lookalike(void *arg)
{
	DropArgs   *a = (DropArgs *) arg;
	int64		p,
				c;

	if (a->empty)
		(void) dedup_drop_relation(a->table, false, true);
	else
		dedup_merge(a->table, a->keeper, NULL, true, &a->inserted, &p, &c);
}

/*
 * Run fn in a subtransaction; false (and the error's text) if it failed.
 * A cancel is never swallowed.
 */
static bool
try_step(void (*fn) (void *), void *arg, char **why)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool ok = true;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		fn(arg);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
			ReThrowError(edata);
		*why = edata->detail ?
			psprintf("%s: %s", edata->message, edata->detail) : pstrdup(edata->message);
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

static void
step(List **steps, const char *action, char *target, char *detail)
{
	Step	   *s = palloc(sizeof(Step));

	s->action = action;
	s->target = target;
	s->detail = detail;
	*steps = lappend(*steps, s);
}

static int64
rows_of(Oid rel)
{
	DedupUnknown why;

	return dedup_count_rows(rel, AccessShareLock, false, 0, false, &why);
}

static List *
merge_members_internal(Oid keeper, Oid ext, ArrayType *given, const char *keeper_name,
					   const char *ext_name)
{
	List	   *steps = NIL;
	List	   *lookalikes = NIL;
	List	   *nonempty = NIL;
	ListCell   *lc;
	char	   *kq;

	if (!OidIsValid(keeper))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table \"%s\" does not exist", keeper_name),
				 errdetail("Nothing was changed."),
				 errhint("Name the table to keep: dedup.merge_members(keeper => 'schema.table').")));
	if (!OidIsValid(ext) && ext_name != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table \"%s\" does not exist", ext_name),
				 errdetail("Nothing was changed."),
				 errhint("Pass extension => NULL when there is no 1:1 extension to merge.")));
	kq = dedup_qualified_name(keeper);

	if (given)
	{
		Datum	   *elems;
		bool	   *nulls;
		int			n,
					i;

		deconstruct_array(given, REGCLASSOID, sizeof(Oid), true, TYPALIGN_INT, &elems, &nulls, &n);
		for (i = 0; i < n; i++)
		{
			if (nulls[i])
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_TABLE),
						 errmsg("look-alike %d of look_alikes does not exist", i + 1),
						 errdetail("Nothing was changed.")));
			lookalikes = lappend_oid(lookalikes, DatumGetObjectId(elems[i]));
		}
	}
	else
	{
		Oid			types[3] = {TEXTOID, OIDOID, OIDOID};
		Datum		args[3];

		args[0] = CStringGetTextDatum(get_namespace_name(get_rel_namespace(keeper)));
		args[1] = ObjectIdGetDatum(keeper);
		args[2] = ObjectIdGetDatum(ext);
		foreach(lc, dedup_query_column(
					"WITH g AS (SELECT * FROM dedup.duplicate_groups(ARRAY[$1]::pg_catalog.name[]))"
					"SELECT g.tbl::pg_catalog.oid::pg_catalog.text FROM g"
					" WHERE g.group_id OPERATOR(pg_catalog.=)"
					"       (SELECT h.group_id FROM g h WHERE h.tbl::pg_catalog.oid OPERATOR(pg_catalog.=) $2)"
					"   AND g.tbl::pg_catalog.oid NOT IN ($2, $3)"
					"   AND g.role OPERATOR(pg_catalog.<>) 'extension'"
					" ORDER BY g.tbl::pg_catalog.text", 3, types, args, NULL))
			lookalikes = lappend_oid(lookalikes, (Oid) strtoul((char *) lfirst(lc), NULL, 10));
	}
	foreach(lc, lookalikes)
		if (lfirst_oid(lc) == keeper || lfirst_oid(lc) == ext)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("look_alikes must not name the keeper or the extension"),
					 errdetail("Nothing was changed.")));

	/* 1. backups of everything touched that holds rows */
	{
		List	   *touched = list_make1_oid(keeper);

		if (OidIsValid(ext))
			touched = lappend_oid(touched, ext);
		touched = list_concat(touched, list_copy(lookalikes));
		foreach(lc, touched)
		{
			Oid			t = lfirst_oid(lc);
			int64		n = rows_of(t);

			if (n == 0)
				continue;
			if (list_member_oid(lookalikes, t))
				nonempty = lappend_oid(nonempty, t);
			step(&steps, "backup", dedup_qualified_name(t),
				 psprintf(INT64_FORMAT " rows into %s", n,
						  dedup_qualified_name(dedup_backup_relation(t, NULL))));
		}
	}

	/* 2. the look-alikes' missing rows */
	foreach(lc, nonempty)
	{
		int64		i,
					p,
					c;

		dedup_merge(lfirst_oid(lc), keeper, NULL, false, &i, &p, &c);
		step(&steps, "merge_rows", dedup_qualified_name(lfirst_oid(lc)),
			 psprintf(INT64_FORMAT " inserted into %s, " INT64_FORMAT " already present, " INT64_FORMAT " conflicting",
					  i, kq, p, c));
	}

	/* 3. the extension */
	if (OidIsValid(ext))
	{
		char	   *eq = dedup_qualified_name(ext);
		Oid			types[4] = {REGCLASSOID, REGCLASSOID, TEXTOID, TEXTOID};
		Datum		args[4] = {ObjectIdGetDatum(keeper), ObjectIdGetDatum(ext),
							   CStringGetTextDatum(kq), CStringGetTextDatum(eq)};
		char	   *r = dedup_query_value(
			"SELECT pg_catalog.format('columns %s added to %s, %s rows merged, %s conflicts, %s foreign keys repointed; %s is now a view',"
			"       m.columns_added, $3, m.rows_merged, m.conflicts, m.fks_repointed, $4)"
			"  FROM dedup.merge_extension($1, $2, backup => false) m", 4, types, args);

		step(&steps, "merge_extension", eq, r);
		keeper = dedup_lookup_relation(kq);	/* the merged table is a new relation */
	}

	/* 4. the redundant look-alikes */
	foreach(lc, lookalikes)
	{
		DropArgs	a;
		char	   *why = NULL;
		char	   *q = dedup_qualified_name(lfirst_oid(lc));

		a.table = lfirst_oid(lc);
		a.keeper = keeper;
		a.empty = !list_member_oid(nonempty, a.table);
		a.inserted = 0;
		if (try_step(drop_lookalike, &a, &why))
			step(&steps, a.empty ? "drop_if_empty" : "merge_rows+drop", q,
				 a.empty ? pstrdup("empty: dropped") :
				 psprintf("every value is in %s: dropped (" INT64_FORMAT " more rows inserted)", kq, a.inserted));
		else
			step(&steps, "kept", q, why);
	}
	return steps;
}

/*
 * dedup._merge_members(keeper regclass, extension regclass,
 *		look_alikes regclass[], keeper_name text, extension_name text)
 *	 RETURNS TABLE (step int, action text, target text, detail text)
 *
 * Called by dedup.merge_members(), which resolves the caller's names.
 */
Datum
dedup_merge_members(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext cxt = CurrentMemoryContext;
	List	   *volatile steps = NIL;
	ListCell   *lc;
	int			n = 0;

	dedup_init_srf(fcinfo);
	PG_TRY();
	{
		List	   *s;
		MemoryContext old;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "dedup: SPI_connect failed");
		s = merge_members_internal(PG_ARGISNULL(0) ? InvalidOid : PG_GETARG_OID(0),
								   PG_ARGISNULL(1) ? InvalidOid : PG_GETARG_OID(1),
								   PG_ARGISNULL(2) ? NULL : PG_GETARG_ARRAYTYPE_P(2),
								   PG_ARGISNULL(3) ? "(null)" : text_to_cstring(PG_GETARG_TEXT_PP(3)),
								   PG_ARGISNULL(4) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(4)));
		old = MemoryContextSwitchTo(cxt);
		foreach(lc, s)
		{
			Step	   *src = (Step *) lfirst(lc);
			Step	   *dst = palloc(sizeof(Step));

			dst->action = pstrdup(src->action);
			dst->target = pstrdup(src->target);
			dst->detail = pstrdup(src->detail);
			steps = lappend(steps, dst);
		}
		MemoryContextSwitchTo(old);
		SPI_finish();
	}
	PG_CATCH();
	{
		dedup_rethrow_unchanged(cxt);
	}
	PG_END_TRY();

	foreach(lc, steps)
	{
		Step	   *s = (Step *) lfirst(lc);
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = Int32GetDatum(++n);
		values[1] = CStringGetTextDatum(s->action);
		values[2] = CStringGetTextDatum(s->target);
		values[3] = CStringGetTextDatum(s->detail);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
