/*-------------------------------------------------------------------------
 *
 * undo.c
 *	  dedup.undo(): reverse one journal entry.
 *
 *	 drop    recreate the table exactly as captured (columns, identity and
 *			 sequences with their positions, constraints, indexes, triggers,
 *			 rules, RLS and policies, owner, grants, comments, publications,
 *			 partitions), then the views, rules and foreign keys dropped with
 *			 it; the rows were none.
 *	 backup  drop the backup, if it still holds exactly what was copied.
 *
 * It refuses, changing nothing, when a name is taken, when something the
 * definition refers to is gone, or when the entry was already undone.  The
 * undo is itself journaled.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "ddl.h"

PG_FUNCTION_INFO_V1(dedup_undo);

/* First key of the advisory locks that serialize undos ("dedu" in ASCII). */
#define DEDUP_UNDO_LOCK_SPACE 1684366453

/* Error context: which statement of which undo failed. */
typedef struct UndoContext
{
	int64		id;
	const char *stmt;
} UndoContext;

static void
undo_error_context(void *arg)
{
	UndoContext *u = (UndoContext *) arg;

	if (u->stmt)
		errcontext("dedup.undo(" INT64_FORMAT ") running: %s", u->id, u->stmt);
}

/* A value of journal entry id, as text. */
static char *
entry_value(int64 id, const char *expr)
{
	return dedup_journal_field(id, expr);
}

/* First value the journal query returns, or NULL. */
static char *
first_of(int64 id, const char *sql)
{
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(id)};

	return dedup_journal_value(sql, 1, types, args);
}

/* First column of every row of a journal query over entry id. */
static List *
journal_column(int64 id, const char *sql)
{
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(id)};
	List	   *out = NIL;
	ListCell   *lc;

	foreach(lc, dedup_journal_rows(sql, 1, types, args))
		if (((char **) lfirst(lc))[0])
			out = lappend(out, ((char **) lfirst(lc))[0]);
	return out;
}

static char *
undo_drop(int64 id, List **sql)
{
	char	   *taken;
	char	   *missing;
	List	   *steps;
	ListCell   *lc;
	ErrorContextCallback callback;
	UndoContext ctx = {id, NULL};
	char	   *ndeps;

	/* names must be free */
	taken = first_of(id,
					 "SELECT x.name FROM dedup.journal j,"
					 "  LATERAL (SELECT t->>'qualname' AS name FROM pg_catalog.jsonb_array_elements(j.detail->'tables') t"
					 "           UNION ALL"
					 "           SELECT d->>'name' FROM pg_catalog.jsonb_array_elements(j.detail->'dependents') d"
					 "            WHERE d->>'kind' IN ('view', 'materialized view')) x"
					 " WHERE j.id OPERATOR(pg_catalog.=) $1 AND pg_catalog.to_regclass(x.name) IS NOT NULL");
	if (taken)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("cannot undo journal entry " INT64_FORMAT ": relation %s already exists", id, taken),
				 errdetail("Nothing was changed."),
				 errhint("Rename or drop %s, then run dedup.undo(" INT64_FORMAT ") again.", taken, id)));

	/* what the definition refers to must still exist */
	missing = first_of(id,
					   "SELECT pg_catalog.format('schema %s', t->>'schema') FROM dedup.journal j,"
					   "       pg_catalog.jsonb_array_elements(j.detail->'tables') t"
					   " WHERE j.id OPERATOR(pg_catalog.=) $1"
					   "   AND pg_catalog.to_regnamespace(pg_catalog.quote_ident(t->>'schema')) IS NULL"
					   " UNION ALL "
					   "SELECT pg_catalog.format('role %s', t->>'owner') FROM dedup.journal j,"
					   "       pg_catalog.jsonb_array_elements(j.detail->'tables') t"
					   " WHERE j.id OPERATOR(pg_catalog.=) $1"
					   "   AND pg_catalog.to_regrole(pg_catalog.quote_ident(t->>'owner')) IS NULL"
					   " UNION ALL "
					   "SELECT pg_catalog.format('table %s', r) FROM dedup.journal j,"
					   "       pg_catalog.jsonb_array_elements(j.detail->'tables') t,"
					   "       pg_catalog.jsonb_array_elements_text(t->'references') r"
					   " WHERE j.id OPERATOR(pg_catalog.=) $1 AND pg_catalog.to_regclass(r) IS NULL"
					   "   AND NOT EXISTS (SELECT 1 FROM pg_catalog.jsonb_array_elements(j.detail->'tables') s"
					   "                    WHERE s->>'qualname' OPERATOR(pg_catalog.=) r)");
	if (missing)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("cannot undo journal entry " INT64_FORMAT ": %s no longer exists", id, missing),
				 errdetail("The dropped table refers to it. Nothing was changed."),
				 errhint("Recreate %s first, then run dedup.undo(" INT64_FORMAT ") again.", missing, id)));

	steps = journal_column(id, "SELECT s FROM dedup.journal j, dedup._undo_steps(j.detail) s"
						   " WHERE j.id OPERATOR(pg_catalog.=) $1");
	callback.callback = undo_error_context;
	callback.arg = &ctx;
	callback.previous = error_context_stack;
	error_context_stack = &callback;
	foreach(lc, steps)
	{
		ctx.stmt = (char *) lfirst(lc);
		CHECK_FOR_INTERRUPTS();
		dedup_exec(ctx.stmt);
	}
	error_context_stack = callback.previous;
	*sql = steps;

	ndeps = entry_value(id, "(SELECT pg_catalog.count(*) FROM pg_catalog.jsonb_array_elements(j.detail->'dependents') d"
						"  WHERE d->>'drop' IS NOT NULL)");
	return psprintf("recreated table %s%s", entry_value(id, "j.target"),
					strcmp(ndeps, "0") == 0 ? "" : psprintf(" and %s dependent%s", ndeps,
															strcmp(ndeps, "1") == 0 ? "" : "s"));
}

static char *
undo_backup(int64 id, List **sql)
{
	char	   *bak = entry_value(id, "j.detail->>'backup'");
	Oid			bakid = dedup_lookup_relation(bak);
	char	   *recorded_oid = entry_value(id, "j.detail->>'backup_oid'");
	char	   *fphex = entry_value(id, "j.detail->>'fingerprint'");
	int64		rows = pg_strtoint64(entry_value(id, "j.detail->>'rows'"));
	List	   *cols;
	DedupFingerprint now;
	char	   *stmt;

	if (!OidIsValid(bakid) || strcmp(psprintf("%u", bakid), recorded_oid) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("cannot undo journal entry " INT64_FORMAT ": backup %s no longer exists", id, bak),
				 errdetail("Nothing was changed.")));
	dedup_check_target(bakid, "drop");
	LockRelationOid(bakid, AccessExclusiveLock);
	cols = journal_column(id, "SELECT pg_catalog.jsonb_array_elements_text(j.detail->'columns')"
						  "  FROM dedup.journal j WHERE j.id OPERATOR(pg_catalog.=) $1");
	dedup_fingerprint_relation(bakid, cols, &now);
	if (now.rows != rows || strcmp(dedup_fp_hex(&now), fphex) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot undo journal entry " INT64_FORMAT ": backup %s has changed since it was taken", id, bak),
				 errdetail("It held " INT64_FORMAT " rows (fingerprint %s) and now holds " INT64_FORMAT " (fingerprint %s). Nothing was changed.",
						   rows, fphex, now.rows, dedup_fp_hex(&now)),
				 errhint("Drop it yourself if it is no longer needed.")));
	stmt = psprintf("DROP TABLE %s", bak);
	dedup_exec(stmt);
	*sql = list_make1(stmt);
	return psprintf("dropped backup %s", bak);
}

/*
 * Undo journal entry id inside the caller's SPI connection; returns what
 * was done.  Also used by restore_backup() to recreate a dropped table.
 */
char *
dedup_undo_internal(int64 id)
{
	char	   *action = entry_value(id, "j.action");
	DedupAction *act;
	char	   *actor;
	char	   *undone;
	char	   *result;
	List	   *sql = NIL;
	StringInfoData d;

	if (action == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("journal entry " INT64_FORMAT " does not exist", id),
				 errdetail("Nothing was changed."),
				 errhint("SELECT id, action, target FROM dedup.journal ORDER BY id; lists the entries.")));
	/*
	 * Undos of one entry take turns (a transaction-level advisory lock in a
	 * key space of dedup's own), so the second sees the first's journal row.
	 */
	{
		Oid			types[1] = {INT8OID};
		Datum		args[1] = {Int64GetDatum(id)};

		(void) dedup_query_value("SELECT pg_catalog.pg_advisory_xact_lock(" CppAsString2(DEDUP_UNDO_LOCK_SPACE) ","
								 " ($1 OPERATOR(pg_catalog.%) 2147483647)::pg_catalog.int4)",
								 1, types, args);
	}
	undone = first_of(id, "SELECT u.id FROM dedup.journal u WHERE u.undoes OPERATOR(pg_catalog.=) $1");
	if (undone)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("journal entry " INT64_FORMAT " was already undone by entry %s", id, undone),
				 errdetail("Nothing was changed.")));

	/* only the role that acted, or one that has its privileges */
	actor = entry_value(id, "j.actor");
	if (!has_privs_of_role(GetUserId(), get_role_oid(actor, false)))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to undo journal entry " INT64_FORMAT, id),
				 errdetail("It was made by role \"%s\". Nothing was changed.", actor)));

	act = dedup_action_begin("undo");
	if (strcmp(action, "drop") == 0)
		result = undo_drop(id, &sql);
	else if (strcmp(action, "backup") == 0)
		result = undo_backup(id, &sql);
	else
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("journal entry " INT64_FORMAT " (%s) cannot be undone", id, action),
				 errdetail("Drops and backups can be undone. Nothing was changed.")));

	initStringInfo(&d);
	appendStringInfoChar(&d, '{');
	dedup_json_str(&d, "undone_action", action);
	dedup_json_str(&d, "result", result);
	dedup_json_raw(&d, "sql", dedup_json_array(sql));
	appendStringInfoChar(&d, '}');
	act->undoes = id;
	dedup_action_end(act, entry_value(id, "j.target"), d.data);
	return result;
}

/*
 * dedup.undo(journal_id bigint) RETURNS text
 *
 *	 SELECT dedup.undo(42);   -- 'recreated table public.members_full_orphans'
 */
Datum
dedup_undo(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = CurrentMemoryContext;
	char	   *volatile result = NULL;

	PG_TRY();
	{
		char	   *r;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "dedup: SPI_connect failed");
		r = dedup_undo_internal(PG_GETARG_INT64(0));
		result = MemoryContextStrdup(cxt, r);
		SPI_finish();
	}
	PG_CATCH();
	{
		dedup_rethrow_unchanged(cxt);
	}
	PG_END_TRY();
	PG_RETURN_TEXT_P(cstring_to_text(result));
}
