/*-------------------------------------------------------------------------
 *
 * action.c
 *	  One action, one transaction, one journal entry: the wrapper every
 *	  changing function goes through, and whose identity code runs under.
 *
 * dedup_call() is the entry of every SQL-callable function that changes
 * something: it connects SPI, runs the function's body, and turns any
 * error into one that says "Nothing was changed." (the error aborts the
 * caller's transaction or subtransaction, so that is always true).
 *
 * dedup_action_begin() / dedup_action_end() bracket one journaled action.
 * The action's journal id is reserved when it begins; steps it takes that
 * are actions of their own (a backup, a drop) are journaled meanwhile with
 * it as their parent, and the action's own row is written when it ends.
 * dedup.undo() of that row reverses the whole action.
 *
 * dedup_become() runs code as another role inside a security-restricted
 * operation, as CREATE INDEX, CLUSTER and REFRESH MATERIALIZED VIEW do:
 * user code on a table (index expressions, CHECK constraints, triggers,
 * defaults, materialized view queries) runs as the table's owner, and the
 * journal is written as its owner.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "ddl.h"

/* The innermost action under way in this backend, or NULL. */
static DedupAction *current_action = NULL;

/*
 * Run as role inside a security-restricted operation, with search_path
 * pinned, until dedup_unbecome().  An error in between is cleaned up by
 * the (sub)transaction abort, which restores the user and the settings.
 */
void
dedup_become(Oid role, DedupAs *saved)
{
	GetUserIdAndSecContext(&saved->userid, &saved->sec);
	SetUserIdAndSecContext(role, saved->sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	saved->nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	/* every row or an error, never a policy-filtered subset */
	(void) set_config_option("row_security", "off", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
}

void
dedup_unbecome(DedupAs *saved)
{
	AtEOXact_GUC(false, saved->nestlevel);
	SetUserIdAndSecContext(saved->userid, saved->sec);
}

/*
 * Begin a journaled action.  Inside another action it becomes one of its
 * steps (parent).  The caller is connected to SPI.
 */
DedupAction *
dedup_action_begin(const char *name)
{
	DedupAction *act = palloc0(sizeof(DedupAction));

	act->name = name;
	act->outer = current_action;
	act->parent = current_action ? current_action->id : 0;
	act->id = dedup_journal_reserve_id();
	current_action = act;
	return act;
}

/* Record that the action created, changed or dropped relation qualname. */
void
dedup_action_touch(DedupAction *act, const char *qualname)
{
	ListCell   *lc;

	foreach(lc, act->objects)
		if (strcmp((char *) lfirst(lc), qualname) == 0)
			return;
	act->objects = lappend(act->objects, pstrdup(qualname));
}

/*
 * End an action: write its journal row (target, detail as JSON text) under
 * the id reserved when it began.  Its objects count for its parent too.
 */
int64
dedup_action_end(DedupAction *act, const char *target, const char *detail)
{
	ListCell   *lc;

	Assert(current_action == act);
	(void) dedup_journal_write_row(act->id, act->name, target, act->parent, act->undoes,
								   act->objects, detail);
	current_action = act->outer;
	if (act->outer)
		foreach(lc, act->objects)
			dedup_action_touch(act->outer, (char *) lfirst(lc));
	return act->id;
}

/* The action under way, or NULL. */
DedupAction *
dedup_current_action(void)
{
	return current_action;
}

/* At the end of a failed transaction no action is under way any more. */
void
dedup_action_reset(void)
{
	current_action = NULL;
}

/*
 * Called from PG_CATCH: re-throw the error with the detail that nothing
 * was changed (the error aborts the transaction or the caller's
 * subtransaction, so that is true of every action).
 */
void
dedup_rethrow_unchanged(MemoryContext cxt)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(cxt);
	edata = CopyErrorData();
	FlushErrorState();
	if (edata->detail == NULL)
		edata->detail = pstrdup("Nothing was changed.");
	else if (strstr(edata->detail, "Nothing was changed.") == NULL)
		edata->detail = psprintf("%s\nNothing was changed.", edata->detail);
	ReThrowError(edata);
}

/*
 * The entry of every SQL-callable function that changes something: body
 * runs connected to SPI; it leaves its results in cxt (the caller's memory,
 * which outlives SPI).  Any error is re-thrown saying nothing was changed.
 */
void
dedup_call(FunctionCallInfo fcinfo, DedupBody body, void *result)
{
	MemoryContext cxt = CurrentMemoryContext;
	DedupAction *volatile saved = current_action;

	PG_TRY();
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "dedup: SPI_connect failed");
		body(fcinfo, cxt, result);
		SPI_finish();
	}
	PG_CATCH();
	{
		current_action = saved;
		dedup_rethrow_unchanged(cxt);
	}
	PG_END_TRY();
}

/*
 * Run fn in a subtransaction: true if it succeeded, else false with the
 * error's text in *why and everything it did rolled back.  A cancel is
 * never swallowed.
 */
bool
dedup_try(void (*fn) (void *), void *arg, char **why)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	DedupAction *volatile saved = current_action;
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
		current_action = saved;
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
			edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
			ReThrowError(edata);
		*why = edata->detail ?
			psprintf("%s: %s", edata->message, edata->detail) : pstrdup(edata->message);
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

/* Give up an action that turned out to change nothing: no journal row. */
void
dedup_action_cancel(DedupAction *act)
{
	Assert(current_action == act);
	current_action = act->outer;
}

/*
 * Run stmt, which writes rows, as role as (InvalidOid: the caller; see
 * dedup_exec_as) in a subtransaction of its own, and record which (sub)transaction wrote them
 * and how many.  The rows carry that id as xmin until they are changed, and
 * no other statement of the action shares it: undo selects exactly them by
 * it, and checks their content before it touches them.
 */
void
dedup_write_rows(const char *stmt, Oid as, DedupRows *rows)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		rows->count = OidIsValid(as) ? dedup_exec_as(stmt, as) : dedup_exec(stmt);
		rows->xid = U64FromFullTransactionId(GetCurrentFullTransactionId());
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		PG_RE_THROW();
	}
	PG_END_TRY();
}

/* "key": {"table": ..., "xid": ..., "count": ...} */
void
dedup_rows_json(StringInfo buf, const char *key, const char *table, DedupRows *rows)
{
	StringInfoData o;

	initStringInfo(&o);
	appendStringInfoChar(&o, '{');
	dedup_json_str(&o, "table", table);
	dedup_json_str(&o, "xid", psprintf(UINT64_FORMAT, rows->xid));
	dedup_json_raw(&o, "count", psprintf(INT64_FORMAT, rows->count));
	appendStringInfoChar(&o, '}');
	dedup_json_raw(buf, key, o.data);
}
