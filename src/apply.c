/*-------------------------------------------------------------------------
 *
 * apply.c
 *	  dedup.apply(): run the plan in the caller's transaction, as one
 *	  journaled action whose steps are the actions it runs.
 *
 * The phases:
 *	 plan          the plan of dedup.plan() for the same arguments, built
 *				   now; if the latest plan recorded with dedup.plan() (since
 *				   the last apply) differs from it, refuse: the database
 *				   changed since it was reviewed
 *	 lock budget   refuse before anything runs when the steps would lock
 *				   more objects than half of the shared lock table holds
 *	 baseline      recorded in the journal, as dedup.plan() does
 *	 steps         each through the C function of its action, journaled as a
 *				   step of the apply entry; an error names the step, and
 *				   rolls everything back
 *	 verify        the checks of dedup.verify() against that baseline; any
 *				   one that fails is an error, and nothing is kept
 *
 * dedup.undo() of the apply entry reverses every step, last first.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"

#include "compat.h"
#include "dedup.h"
#include "ddl.h"
#include "plan.h"

PG_FUNCTION_INFO_V1(dedup_apply);

/* What apply() returns for one step. */
typedef struct Applied
{
	int			number;
	char	   *action;
	char	   *target;
	char	   *result;
} Applied;

/*
 * Refuse when the latest plan recorded by dedup.plan() for these arguments,
 * after the last apply, is not the plan apply would run now.
 */
static void
check_reviewed(DedupPlan *plan, int64 baseline)
{
	Oid			types[2] = {BOOLOID, INT8OID};
	Datum		args[2];
	List	   *rows;
	char	  **r;

	args[0] = BoolGetDatum(plan->merge_extensions);
	args[1] = Int64GetDatum(baseline);
	rows = dedup_journal_rows(
		"SELECT p.id, p.detail->>'digest', p.detail->>'steps', n.detail->>'digest', n.detail->>'steps'"
		"  FROM dedup.journal p, dedup.journal n"
		" WHERE n.id OPERATOR(pg_catalog.=) $2 AND p.action OPERATOR(pg_catalog.=) 'plan'"
		"   AND p.detail->>'by' OPERATOR(pg_catalog.=) 'plan'"
		"   AND (p.detail->'schemas') OPERATOR(pg_catalog.=) (n.detail->'schemas')"
		"   AND (p.detail->>'merge_extensions')::pg_catalog.bool OPERATOR(pg_catalog.=) $1"
		"   AND p.id OPERATOR(pg_catalog.<) $2"
		"   AND NOT EXISTS (SELECT 1 FROM dedup.journal a WHERE a.action OPERATOR(pg_catalog.=) 'apply'"
		"                      AND a.id OPERATOR(pg_catalog.>) p.id)"
		" ORDER BY p.id DESC LIMIT 1", 2, types, args);
	if (rows == NIL)
		return;
	r = (char **) linitial(rows);
	if (strcmp(r[1], r[3]) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the plan is not the one reviewed"),
				 errdetail("dedup.plan() recorded %s steps in journal entry %s; the database has changed since and the plan now has %s. Nothing was changed.",
						   r[2], r[0], r[4]),
				 errhint("Review it again: SELECT * FROM dedup.plan(%s%s); then run dedup.apply() with the same arguments.",
						 plan->schemas_text ? quote_literal_cstr(plan->schemas_text) : "",
						 plan->merge_extensions ? (plan->schemas_text ? ", merge_extensions => true" : "merge_extensions => true") : "")));
}

/*
 * Refuse a plan whose steps would hold more locks than half the shared lock
 * table (every lock a transaction takes on a table, its indexes, TOAST
 * table, row types and sequences is held until it ends).  The estimate
 * counts, per table dropped or replaced, the table and every object that
 * depends on it directly, plus a few for each other step.
 */
static void
check_lock_budget(DedupPlan *plan)
{
	List	   *tables = NIL;
	ListCell   *lc;
	int64		needed = 50;
	int			ndrops = 0;
	int			nother = 0;
	int64		per_backend = max_locks_per_xact;
	int64		slots;
	int64		budget;
	char	   *deps;
	Datum	   *oids;
	int			n = 0;
	int			maxconn = atoi(GetConfigOption("max_connections", false, false));
	int			maxprep = atoi(GetConfigOption("max_prepared_transactions", false, false));

	foreach(lc, plan->steps)
	{
		DedupStep  *s = (DedupStep *) lfirst(lc);

		switch (s->kind)
		{
			case DEDUP_STEP_DROP:
				ndrops++;
				tables = lappend_oid(tables, s->relid);
				needed += 3;
				break;
			case DEDUP_STEP_BACKUP:
				nother++;
				needed += 8;
				break;
			case DEDUP_STEP_UNPARTITION:
			case DEDUP_STEP_MERGE_EXTENSION:
			case DEDUP_STEP_MERGE_ROWS:
				nother++;
				tables = lappend_oid(tables, s->relid);
				needed += 40;
				break;
			default:
				break;
		}
	}
	oids = palloc(sizeof(Datum) * Max(list_length(tables), 1));
	foreach(lc, tables)
		oids[n++] = ObjectIdGetDatum(lfirst_oid(lc));
	deps = dedup_query_value("SELECT pg_catalog.count(*) FROM pg_catalog.pg_depend d"
							 " WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
							 "   AND d.refobjid OPERATOR(pg_catalog.=) ANY ($1)",
							 1, (Oid[]) {OIDARRAYOID},
							 (Datum[]) {PointerGetDatum(construct_array(oids, n, OIDOID, sizeof(Oid), true, TYPALIGN_INT))});
	needed += pg_strtoint64(deps);

	slots = per_backend * (maxconn + maxprep);
	budget = slots / 2;
	if (needed > budget)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("the plan needs about " INT64_FORMAT " locks, more than one transaction should take", needed),
				 errdetail("Its %d drops and %d other changes hold their locks until the transaction ends. The shared lock table has room for max_locks_per_transaction (" INT64_FORMAT ") × (max_connections (%d) + max_prepared_transactions (%d)) = " INT64_FORMAT " locks, and dedup.apply() takes at most half of it. Nothing was changed.",
						   ndrops, nother, per_backend, maxconn, maxprep, slots),
				 errhint("Raise max_locks_per_transaction to at least " INT64_FORMAT " and restart the server, or apply one schema at a time: dedup.apply(schemas => '{name}').",
						 (needed * 2 + (maxconn + maxprep) - 1) / (maxconn + maxprep))));
}

/* In the steps after one that replaced table old by new, the table is new. */
static void
follow_replacement(List *steps, ListCell *after, Oid old, Oid new)
{
	ListCell   *lc;

	for_each_cell(lc, steps, lnext(steps, after))
	{
		DedupStep  *s = (DedupStep *) lfirst(lc);

		if (s->relid == old)
			s->relid = new;
		if (s->into == old)
			s->into = new;
	}
}

/* The verification step: every check of dedup.verify() against the baseline. */
static char *
verify_step(DedupPlan *plan, int64 baseline)
{
	List	   *failed = NIL;
	ListCell   *lc;
	int			n = 0;
	int			before = 0;
	StringInfoData d;
	List	   *checks;

	/* the catalog queries read the active snapshot: one that sees the steps */
	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	checks = dedup_verify_checks(plan->schemas, baseline);
	PopActiveSnapshot();
	foreach(lc, checks)
	{
		DedupCheck *c = (DedupCheck *) lfirst(lc);

		if (c->ok == 0 && !c->preexisting)
			failed = lappend(failed, psprintf("%s %s: %s", c->name, c->target, c->detail));
		else if (c->ok == 0)
			before++;
		else
			n++;
	}
	if (failed != NIL)
	{
		initStringInfo(&d);
		foreach(lc, failed)
			appendStringInfo(&d, "%s\n", (char *) lfirst(lc));
		appendStringInfoString(&d, "Nothing was changed.");
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg_plural("%d check failed after the steps", "%d checks failed after the steps",
							   list_length(failed), list_length(failed)),
				 errdetail_internal("%s", d.data)));
	}
	return before == 0 ? psprintf("%d checks passed", n) :
		psprintf("%d checks passed; %d thing%s found wrong were so before the plan (SELECT * FROM dedup.verify() WHERE ok IS NOT TRUE)",
				 n, before, before == 1 ? "" : "s");
}

/* Run one step; returns what it did. */
static char *
run_step(DedupPlan *plan, ListCell *cell, int64 baseline)
{
	DedupStep  *s = (DedupStep *) lfirst(cell);

	CHECK_FOR_INTERRUPTS();
	switch (s->kind)
	{
		case DEDUP_STEP_BACKUP:
			{
				int64		entry;
				Oid			bak = dedup_backup_relation(s->relid, s->backup_name, &entry);

				return entry > 0 ?
					psprintf(INT64_FORMAT " rows into %s", s->rows, dedup_qualified_name(bak)) :
					psprintf("%s already holds its rows (reused)", dedup_qualified_name(bak));
			}
		case DEDUP_STEP_UNPARTITION:
			{
				Oid			plain = dedup_unpartition_run(s->relid, false);

				follow_replacement(plan->steps, cell, s->relid, plain);
				return pstrdup("one plain table now");
			}
		case DEDUP_STEP_MERGE_EXTENSION:
			{
				DedupExtResult r;

				memset(&r, 0, sizeof(r));
				dedup_merge_extension_run(s->into, s->relid, "error", true, true, &r);
				return psprintf("columns {%s} added to %s, " INT64_FORMAT " rows merged, %d foreign keys repointed; %s is now a view",
								dedup_quoted_list(r.added), s->into_name, r.merged, r.repointed, s->target);
			}
		case DEDUP_STEP_MERGE_ROWS:
			{
				int64		inserted,
							present,
							conflicts;

				dedup_merge(s->relid, s->into, NULL, s->drop_source, &inserted, &present, &conflicts);
				return psprintf(INT64_FORMAT " inserted into %s, " INT64_FORMAT " already present, " INT64_FORMAT " conflicting%s",
								inserted, s->into_name, present, conflicts,
								s->drop_source ? "; dropped (backed up first)" : "; kept");
			}
		case DEDUP_STEP_DROP:
			if (dedup_drop_relation(s->relid, false, true, 0) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("table %s holds rows now", s->target)));
			return pstrdup("dropped");
		case DEDUP_STEP_KEEP:
			return psprintf("left as it is%s%s", s->hazard ? ": " : "", s->hazard ? s->hazard : "");
		case DEDUP_STEP_VERIFY:
			return verify_step(plan, baseline);
	}
	return NULL;				/* keep compiler quiet */
}

/*
 * apply as one journaled action; returns one Applied per step.  The
 * caller is connected to SPI (dedup_call).
 */
static List *
apply_internal(ArrayType *schemas, bool merge_extensions)
{
	DedupPlan  *plan = dedup_build_plan(schemas, merge_extensions);
	DedupAction *act;
	int64		baseline;
	List	   *out = NIL;
	ListCell   *lc;
	StringInfoData d;
	List	   *lines = NIL;
	int			quiet;

	/* nothing to do: no journal entry, nothing changed */
	if (!dedup_plan_changes_something(plan))
	{
		foreach(lc, plan->steps)
		{
			DedupStep  *s = (DedupStep *) lfirst(lc);
			Applied    *a = palloc(sizeof(Applied));

			a->number = s->number;
			a->action = pstrdup(dedup_step_action(s->kind));
			a->target = s->target;
			a->result = s->kind == DEDUP_STEP_VERIFY ? pstrdup("nothing to do: nothing was changed") :
				psprintf("left as it is%s%s", s->hazard ? ": " : "", s->hazard ? s->hazard : "");
			out = lappend(out, a);
		}
		return out;
	}

	check_lock_budget(plan);
	baseline = dedup_record_baseline(plan, "apply");
	check_reviewed(plan, baseline);

	act = dedup_action_begin("apply");

	/*
	 * Each step's result says what it did: the notices of the functions it
	 * calls are not shown.  The steps' reads are not counted as use (a
	 * failed apply leaves no scans behind that a later plan would take for
	 * the application's); the verification, a plan, keeps its own out.
	 */
	quiet = dedup_quiet_stats_begin(plan->cat);
	(void) set_config_option("client_min_messages", "warning", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	foreach(lc, plan->steps)
	{
		DedupStep  *s = (DedupStep *) lfirst(lc);
		Applied    *a = palloc(sizeof(Applied));
		MemoryContext cxt = CurrentMemoryContext;

		if (s->kind == DEDUP_STEP_VERIFY && quiet >= 0)
		{
			dedup_quiet_stats_end(quiet);
			quiet = -1;
		}
		a->number = s->number;
		a->action = pstrdup(dedup_step_action(s->kind));
		a->target = s->target;
		PG_TRY();
		{
			a->result = run_step(plan, lc, baseline);
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(cxt);
			edata = CopyErrorData();
			FlushErrorState();
			edata->message = psprintf("step %d of the plan (%s %s) failed: %s",
									  s->number, a->action, s->target, edata->message);
			ReThrowError(edata);
		}
		PG_END_TRY();
		out = lappend(out, a);
		lines = lappend(lines, psprintf("%d %s %s: %s", a->number, a->action, a->target, a->result));
	}
	if (quiet >= 0)
		dedup_quiet_stats_end(quiet);

	initStringInfo(&d);
	appendStringInfoChar(&d, '{');
	dedup_json_raw(&d, "baseline", psprintf(INT64_FORMAT, baseline));
	dedup_json_raw(&d, "merge_extensions", merge_extensions ? "true" : "false");
	dedup_json_raw(&d, "steps", dedup_json_array(lines));
	appendStringInfoChar(&d, '}');
	(void) dedup_action_end(act, plan->schemas_text ? plan->schemas_text : "all user schemas", d.data);
	return out;
}

/* The body of dedup.apply() under dedup_call(). */
static void
apply_body(FunctionCallInfo fcinfo, MemoryContext cxt, void *result)
{
	List	   *applied;
	ListCell   *lc;
	MemoryContext old;

	applied = apply_internal(PG_ARGISNULL(0) ? NULL : PG_GETARG_ARRAYTYPE_P(0),
							 PG_ARGISNULL(1) ? false : PG_GETARG_BOOL(1));
	old = MemoryContextSwitchTo(cxt);
	foreach(lc, applied)
	{
		Applied    *src = (Applied *) lfirst(lc);
		Applied    *dst = palloc(sizeof(Applied));

		dst->number = src->number;
		dst->action = pstrdup(src->action);
		dst->target = pstrdup(src->target);
		dst->result = pstrdup(src->result);
		*(List **) result = lappend(*(List **) result, dst);
	}
	MemoryContextSwitchTo(old);
}

/*
 * dedup.apply(schemas name[] DEFAULT NULL, merge_extensions boolean DEFAULT false)
 *	 RETURNS TABLE (step int, action text, target text, result text)
 *
 *	 BEGIN; SELECT * FROM dedup.apply(); COMMIT;
 *
 * Runs the plan of dedup.plan() with the same arguments in the caller's
 * transaction: all of it, or (an error naming the step) nothing.
 */
Datum
dedup_apply(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	List	   *applied = NIL;
	ListCell   *lc;

	dedup_init_srf(fcinfo);
	dedup_call(fcinfo, apply_body, &applied);
	foreach(lc, applied)
	{
		Applied    *a = (Applied *) lfirst(lc);
		Datum		values[4];
		bool		nulls[4] = {0};

		values[0] = Int32GetDatum(a->number);
		values[1] = CStringGetTextDatum(a->action);
		values[2] = CStringGetTextDatum(a->target);
		values[3] = CStringGetTextDatum(a->result);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
