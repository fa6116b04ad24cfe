/*-------------------------------------------------------------------------
 *
 * merge_members.c
 *	  dedup.merge_members(): the whole "one members table" consolidation in
 *	  one call, one transaction and one journal entry.
 *
 *	 1. the look-alikes that need nothing of the extension: each of their
 *		columns is the keeper's, and the extension fills no column the
 *		keeper has (merged before or after it, they end the same; before,
 *		readers of the keeper never wait for them);
 *	 2. merge_extension of the 1:1 extension, so that the columns a
 *		look-alike shares only with the extension (bio) have a home in the
 *		keeper (it backs up both tables);
 *	 3. the other look-alikes.
 *
 * Look-alikes default to the keeper's duplicates from discovery, never a
 * backup, only tables of the keeper's owner.  An empty one is dropped; the
 * others go through merge_rows(drop_source => true), which backs the
 * look-alike up and drops it only when every row and value of it is in the
 * keeper; a look-alike that cannot go has its missing rows merged and is
 * kept, and its step says why; one that cannot be merged at all is kept,
 * and its step says why.
 *
 * Each step is an action of its own, journaled as a step of the
 * merge_members entry: dedup.undo() of that entry reverses everything.
 * Run again on a consolidated database it finds nothing to do and changes
 * nothing.  Backups are named <table>_backup_<dedup.backup_suffix or the
 * date>; a fresh backup that holds exactly a table's rows is reused.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"

#include "compat.h"
#include "dedup.h"
#include "ddl.h"

PG_FUNCTION_INFO_V1(dedup_merge_members);

typedef struct Step
{
	char	   *action;
	char	   *target;
	char	   *detail;
} Step;

/* A look-alike's way out, tried in a subtransaction. */
typedef struct LookAlike
{
	Oid			table;
	Oid			keeper;
	bool		empty;
	int64		inserted;
	int64		present;
	int64		conflicts;
} LookAlike;

static void
step(List **steps, const char *action, char *target, char *detail)
{
	Step	   *s = palloc(sizeof(Step));

	s->action = pstrdup(action);
	s->target = target;
	s->detail = detail;
	*steps = lappend(*steps, s);
}

static void
drop_lookalike(void *arg)
{
	LookAlike  *a = (LookAlike *) arg;

	if (a->empty)
	{
		if (dedup_drop_relation(a->table, false, true, 0) == 0)
			elog(ERROR, "dedup: \"%s\" is no longer empty", get_rel_name(a->table));
	}
	else
		dedup_merge(a->table, a->keeper, NULL, true, &a->inserted, &a->present, &a->conflicts);
}

static void
keep_lookalike(void *arg)
{
	LookAlike  *a = (LookAlike *) arg;

	dedup_merge(a->table, a->keeper, NULL, false, &a->inserted, &a->present, &a->conflicts);
}

/*
 * One look-alike: gone when nothing of it would be lost; else its missing
 * rows merged and kept; else (it cannot be merged at all) kept.  Each way
 * is a step saying what happened and why.
 */
static void
merge_lookalike(List **steps, Oid table, Oid keeper, const char *kq)
{
	LookAlike	a = {0};
	char	   *why = NULL;
	char	   *why_kept = NULL;
	char	   *q = dedup_qualified_name(table);
	DedupUnknown unknown;

	a.table = table;
	a.keeper = keeper;
	a.empty = dedup_count_rows(a.table, AccessShareLock, false, 1, false, &unknown) == 0;
	if (dedup_try(drop_lookalike, &a, &why))
		step(steps, a.empty ? "drop_if_empty" : "merge_rows+drop", q,
			 a.empty ? pstrdup("empty: dropped") :
			 psprintf(INT64_FORMAT " inserted into %s, " INT64_FORMAT " already present: every row and value is in %s, dropped (backed up first)",
					  a.inserted, kq, a.present, kq));
	else if (!a.empty && dedup_try(keep_lookalike, &a, &why_kept))
		step(steps, "merge_rows", q,
			 psprintf(INT64_FORMAT " inserted into %s, " INT64_FORMAT " already present, " INT64_FORMAT " conflicting; kept: %s",
					  a.inserted, kq, a.present, a.conflicts, why));
	else
		step(steps, "kept", q, why_kept ? why_kept : why);
}

/* Does the extension have a column, other than its key, that the keeper has? */
static bool
extension_fills_keeper(Oid keeper, Oid ext)
{
	Oid			types[2] = {OIDOID, OIDOID};
	Datum		args[2] = {ObjectIdGetDatum(ext), ObjectIdGetDatum(keeper)};

	return strcmp(dedup_query_value(
					  "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute e"
					  "  JOIN pg_catalog.pg_attribute k ON k.attrelid OPERATOR(pg_catalog.=) $2"
					  "       AND k.attname OPERATOR(pg_catalog.=) e.attname AND k.attnum OPERATOR(pg_catalog.>) 0 AND NOT k.attisdropped"
					  " WHERE e.attrelid OPERATOR(pg_catalog.=) $1 AND e.attnum OPERATOR(pg_catalog.>) 0 AND NOT e.attisdropped"
					  "   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid OPERATOR(pg_catalog.=) $1"
					  "                    AND i.indisprimary AND e.attnum OPERATOR(pg_catalog.=) ANY (i.indkey)))",
					  2, types, args), "t") == 0;
}

/* Has the look-alike a column that the keeper lacks and the extension has? */
static bool
needs_extension(Oid table, Oid keeper, Oid ext)
{
	Oid			types[3] = {OIDOID, OIDOID, OIDOID};
	Datum		args[3] = {ObjectIdGetDatum(table), ObjectIdGetDatum(keeper), ObjectIdGetDatum(ext)};

	return strcmp(dedup_query_value(
					  "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute l"
					  "  JOIN pg_catalog.pg_attribute e ON e.attrelid OPERATOR(pg_catalog.=) $3"
					  "       AND e.attname OPERATOR(pg_catalog.=) l.attname AND e.attnum OPERATOR(pg_catalog.>) 0 AND NOT e.attisdropped"
					  " WHERE l.attrelid OPERATOR(pg_catalog.=) $1 AND l.attnum OPERATOR(pg_catalog.>) 0 AND NOT l.attisdropped"
					  "   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute k WHERE k.attrelid OPERATOR(pg_catalog.=) $2"
					  "                    AND k.attname OPERATOR(pg_catalog.=) l.attname AND k.attnum OPERATOR(pg_catalog.>) 0"
					  "                    AND NOT k.attisdropped))",
					  3, types, args), "t") == 0;
}

/* Is relid a table dedup should never merge as a look-alike: a backup? */
static bool
is_backup(Oid relid)
{
	return dedup_journal_backup_of(relid) != NULL || dedup_named_like_backup(get_rel_name(relid));
}

/*
 * The keeper's look-alikes from discovery: members of its duplicate group
 * with the role 'duplicate' (never an extension or a backup), of the
 * keeper's owner.
 */
static List *
default_lookalikes(Oid keeper, Oid ext)
{
	List	   *out = NIL;
	ListCell   *lc;

	foreach(lc, dedup_group_duplicates(keeper))
	{
		Oid			t = lfirst_oid(lc);

		if (t != ext && dedup_rel_owner(t) == dedup_rel_owner(keeper) && !is_backup(t))
			out = lappend_oid(out, t);
	}
	return out;
}

/* Is ext (still) a 1:1 extension table, not yet merged (a view by now)? */
static bool
extension_pending(Oid ext)
{
	return OidIsValid(ext) && get_rel_relkind(ext) == RELKIND_RELATION;
}

static List *
merge_members_internal(Oid keeper, Oid ext, ArrayType *given, const char *keeper_name,
					   const char *ext_name)
{
	DedupAction *act;
	List	   *steps = NIL;
	List	   *lookalikes = NIL;
	List	   *late = NIL;
	ListCell   *lc;
	char	   *kq;
	StringInfoData d;

	if (keeper_name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("keeper must not be null"),
				 errdetail("Nothing was changed."),
				 errhint("Name the table to keep: dedup.merge_members(keeper => 'schema.table').")));
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
	dedup_check_target(keeper, "merge into");
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
			Oid			t = nulls[i] ? InvalidOid : DatumGetObjectId(elems[i]);

			if (!OidIsValid(t))
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_TABLE),
						 errmsg("look-alike %d of look_alikes does not exist", i + 1),
						 errdetail("Nothing was changed.")));
			if (t == keeper || t == ext)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("look_alikes must not name the keeper or the extension"),
						 errdetail("Nothing was changed.")));
			if (is_backup(t))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("\"%s\" is a backup, not a look-alike", get_rel_name(t)),
						 errdetail("Backups are never merged or dropped as a side effect. Nothing was changed."),
						 errhint("Drop a backup you no longer need with dedup.drop_backup().")));
			lookalikes = lappend_oid(lookalikes, t);
		}
	}
	else
		lookalikes = default_lookalikes(keeper, extension_pending(ext) ? ext : InvalidOid);

	if (!extension_pending(ext) && lookalikes == NIL)
	{
		step(&steps, "nothing to do", kq,
			 psprintf("%s has no extension to merge and no look-alike left", kq));
		return steps;
	}

	act = dedup_action_begin("merge_members");

	/* 1. look-alikes that need nothing of the extension */
	if (extension_pending(ext) && !extension_fills_keeper(keeper, ext))
	{
		foreach(lc, lookalikes)
			if (!needs_extension(lfirst_oid(lc), keeper, ext))
				merge_lookalike(&steps, lfirst_oid(lc), keeper, kq);
			else
				late = lappend_oid(late, lfirst_oid(lc));
	}
	else
		late = lookalikes;

	/* 2. the extension, so that its columns have a home in the keeper */
	if (extension_pending(ext))
	{
		char	   *eq = dedup_qualified_name(ext);
		DedupExtResult r = {0};

		dedup_merge_extension_run(keeper, ext, "error", true, true, &r);
		step(&steps, "merge_extension", eq,
			 psprintf("columns {%s} added to %s, " INT64_FORMAT " rows merged, " INT64_FORMAT " conflicts, %d foreign keys repointed; %s is now a view",
					  dedup_quoted_list(r.added), kq, r.merged, r.conflicts, r.repointed, eq));
	}

	/* 3. the other look-alikes */
	foreach(lc, late)
		merge_lookalike(&steps, lfirst_oid(lc), keeper, kq);

	dedup_action_touch(act, kq);
	initStringInfo(&d);
	appendStringInfoChar(&d, '{');
	dedup_json_str(&d, "keeper", kq);
	dedup_json_str(&d, "extension", OidIsValid(ext) ? dedup_qualified_name(ext) : NULL);
	{
		List	   *names = NIL;

		foreach(lc, steps)
			names = lappend(names, psprintf("%s %s: %s", ((Step *) lfirst(lc))->action,
											((Step *) lfirst(lc))->target, ((Step *) lfirst(lc))->detail));
		dedup_json_raw(&d, "steps", dedup_json_array(names));
	}
	appendStringInfoChar(&d, '}');
	(void) dedup_action_end(act, kq, d.data);
	return steps;
}

/* The body of dedup._merge_members() under dedup_call(). */
static void
merge_members_body(FunctionCallInfo fcinfo, MemoryContext cxt, void *result)
{
	List	   *s;
	MemoryContext old;
	ListCell   *lc;

	s = merge_members_internal(PG_ARGISNULL(0) ? InvalidOid : PG_GETARG_OID(0),
							   PG_ARGISNULL(1) ? InvalidOid : PG_GETARG_OID(1),
							   PG_ARGISNULL(2) ? NULL : PG_GETARG_ARRAYTYPE_P(2),
							   PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3)),
							   PG_ARGISNULL(4) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(4)));
	old = MemoryContextSwitchTo(cxt);
	foreach(lc, s)
	{
		Step	   *src = (Step *) lfirst(lc);
		Step	   *dst = palloc(sizeof(Step));

		dst->action = pstrdup(src->action);
		dst->target = pstrdup(src->target);
		dst->detail = pstrdup(src->detail);
		*(List **) result = lappend(*(List **) result, dst);
	}
	MemoryContextSwitchTo(old);
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
	List	   *steps = NIL;
	ListCell   *lc;
	int			n = 0;

	dedup_init_srf(fcinfo);
	dedup_call(fcinfo, merge_members_body, &steps);
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
