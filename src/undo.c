/*-------------------------------------------------------------------------
 *
 * undo.c
 *	  dedup.undo(): reverse one journaled action, whole.
 *
 * An action's journal entry and the entries of its steps (children, whose
 * parent is the action) are reversed together, last step first:
 *
 *	 backup           drop the backup, if it still holds exactly what was
 *					  copied
 *	 drop             recreate the table exactly as captured (columns,
 *					  identity and sequences with their positions,
 *					  constraints, indexes, triggers, rules, RLS and
 *					  policies, owner, grants, comments, publications,
 *					  partitions), then the views, rules and foreign keys
 *					  dropped with it; rows it held come back from the
 *					  backup the drop names
 *	 restore          delete the rows it inserted
 *	 merge_rows       the rows it inserted are deleted; the source comes
 *					  back (its drop and backup are steps)
 *	 merge_extension  see merge_extension.c
 *	 unpartition      see unpartition.c
 *	 merge_members,
 *	 apply            their steps
 *
 * Rows an action wrote are found by the subtransaction that wrote them
 * (xmin: each statement that writes rows runs in one of its own, and
 * merge_extension's rebuild keeps every row's xmin), and their content is
 * checked: a row changed or deleted since no longer matches, and then the
 * undo refuses rather than lose that change.  Undo
 * of an entry that a later action depends on (it touched the same tables)
 * is refused too, naming the later entry.  Only the role that acted, or
 * one with its privileges, may undo; everything replayed was written into
 * the journal by dedup itself (journal.c), and statements that run user
 * code on a table run as that table's owner.  The undo is journaled.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "dedup.h"
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

/* First value of a journal query over entry id ($1), or NULL. */
static char *
first_of(int64 id, const char *sql)
{
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(id)};

	return dedup_journal_value(sql, 1, types, args);
}

/* Rows of a journal query over entry id ($1). */
static List *
rows_of(int64 id, const char *sql)
{
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(id)};

	return dedup_journal_rows(sql, 1, types, args);
}

/* A step for dedup_run_steps(): a statement and the role it runs as. */
char	  **
dedup_step(const char *sql, const char *run_as)
{
	char	  **step = palloc(sizeof(char *) * 2);

	step[0] = pstrdup(sql);
	step[1] = run_as ? pstrdup(run_as) : NULL;
	return step;
}

/*
 * Run statements, each as the caller or (run_as not NULL) as that role
 * inside a security-restricted operation; an error names the statement.
 */
void
dedup_run_steps(int64 id, List *steps, List **sql)
{
	ListCell   *lc;
	ErrorContextCallback callback;
	UndoContext ctx = {id, NULL};

	callback.callback = undo_error_context;
	callback.arg = &ctx;
	callback.previous = error_context_stack;
	error_context_stack = &callback;
	foreach(lc, steps)
	{
		char	  **step = (char **) lfirst(lc);

		ctx.stmt = step[0];
		CHECK_FOR_INTERRUPTS();
		if (step[1])
		{
			DedupAs		as;

			dedup_become(get_role_oid(step[1], false), &as);
			dedup_exec(step[0]);
			dedup_unbecome(&as);
		}
		else
			dedup_exec(step[0]);
		*sql = lappend(*sql, step[0]);
	}
	error_context_stack = callback.previous;
}

/*
 * Recreate what journaled drop entry id dropped: its tables (with their
 * partitions) and the dependents dropped with them, refusing when a name is
 * taken or something the definition refers to is gone.
 */
void
dedup_replay_drop(int64 id, int what, List **sql)
{
	char	   *taken;
	char	   *missing;

	taken = first_of(id, psprintf(
					 "SELECT x.name FROM dedup.journal j,"
					 "  LATERAL (SELECT t->>'qualname' AS name FROM pg_catalog.jsonb_array_elements(j.detail->'tables') t"
					 "            WHERE %s"
					 "           UNION ALL"
					 "           SELECT d->>'name' FROM pg_catalog.jsonb_array_elements(j.detail->'dependents') d"
					 "            WHERE d->>'kind' IN ('view', 'materialized view') AND %s) x"
					 " WHERE j.id OPERATOR(pg_catalog.=) $1 AND pg_catalog.to_regclass(x.name) IS NOT NULL",
					 (what & DEDUP_REPLAY_CREATE) ? "true" : "false",
					 (what & DEDUP_REPLAY_DEPENDENTS) ? "true" : "false"));
	if (taken)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("cannot undo journal entry " INT64_FORMAT ": relation %s already exists", id, taken),
				 errdetail("Nothing was changed."),
				 errhint("Rename or drop %s, then run the undo again.", taken)));

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
				 errhint("Recreate %s first, then run the undo again.", missing)));

	if (what & DEDUP_REPLAY_CREATE)
		dedup_run_steps(id, rows_of(id, "SELECT s.sql, s.run_as FROM dedup.journal j,"
									"       dedup._undo_steps(j.detail OPERATOR(pg_catalog.-) 'dependents') s"
									" WHERE j.id OPERATOR(pg_catalog.=) $1 AND s.phase OPERATOR(pg_catalog.=) 1"), sql);
	if (what & DEDUP_REPLAY_BUILD)
		dedup_run_steps(id, rows_of(id, "SELECT s.sql, s.run_as FROM dedup.journal j,"
									"       dedup._undo_steps(j.detail OPERATOR(pg_catalog.-) 'dependents') s"
									" WHERE j.id OPERATOR(pg_catalog.=) $1 AND s.phase OPERATOR(pg_catalog.=) 2"), sql);
	if (what & DEDUP_REPLAY_DEPENDENTS)
		dedup_run_steps(id, rows_of(id, "SELECT s.sql, s.run_as FROM dedup.journal j,"
									"       dedup._undo_steps(pg_catalog.jsonb_build_object('dependents', j.detail->'dependents')) s"
									" WHERE j.id OPERATOR(pg_catalog.=) $1"), sql);
}

/*
 * The 32-bit transaction id that rows a journaled statement wrote into
 * table carry as xmin; an error when it could have wrapped around since.
 */
TransactionId
dedup_rows_xid(uint64 xid, const char *table)
{
	uint64		now = U64FromFullTransactionId(ReadNextFullTransactionId());

	if (now - xid > (uint64) 1 << 30)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot undo: the rows written into %s are too old to be told apart", table),
				 errdetail("More than a billion transactions have run since. Nothing was changed."),
				 errhint("Restore from the journaled backups with dedup.restore_backup() instead.")));
	return (TransactionId) (xid & 0xFFFFFFFF);
}

/*
 * How many rows two queries of one text column do not have in common, as
 * multisets (0: the same rows, each as many times).  Rows compare by their
 * text form, ROW(...)::text, which is exact: 1.0 is not 1.00.  Runs as
 * role as (InvalidOid: the caller).
 */
int64
dedup_rows_differ(const char *a, const char *b, Oid as)
{
	DedupAs		saved;
	char	   *n;

	if (OidIsValid(as))
		dedup_become(as, &saved);
	n = dedup_query_value(psprintf("SELECT pg_catalog.count(*) FROM (((%s) EXCEPT ALL (%s))"
								   " UNION ALL ((%s) EXCEPT ALL (%s))) d", a, b, b, a),
						  0, NULL, NULL);
	if (OidIsValid(as))
		dedup_unbecome(&saved);
	return pg_strtoint64(n);
}

/*
 * Put sequences a journaled action advanced back where they were, those
 * that nobody used since (a sequence someone drew from stays ahead).
 */
void
dedup_undo_sequences(int64 id, const char *key, List **sql)
{
	ListCell   *lc;

	foreach(lc, rows_of(id, psprintf("SELECT s->>'sequence', s->>'last_value', s->>'is_called', s->>'advanced_to'"
									 "  FROM dedup.journal j, pg_catalog.jsonb_array_elements(j.detail->%s) s"
									 " WHERE j.id OPERATOR(pg_catalog.=) $1 AND s->>'advanced_to' IS NOT NULL",
									 quote_literal_cstr(key))))
	{
		char	  **s = (char **) lfirst(lc);
		Oid			seq = dedup_lookup_relation(s[0]);
		List	   *now;
		char	   *stmt;

		if (!OidIsValid(seq))
			continue;
		LockRelationOid(seq, ExclusiveLock);
		now = dedup_query_rows(psprintf("SELECT last_value, is_called FROM %s", s[0]), 0, NULL, NULL);
		if (strcmp(((char **) linitial(now))[0], s[3]) != 0 ||
			strcmp(((char **) linitial(now))[1], "t") != 0)
			continue;			/* drawn from since: it stays ahead */
		stmt = psprintf("SELECT pg_catalog.setval(%s, %s, %s)", quote_literal_cstr(s[0]), s[1],
						strcmp(s[2], "t") == 0 ? "true" : "false");
		dedup_exec_logged(sql, stmt);
	}
}

/* Undo the steps of entry id up to step last (0: all), last first. */
void
dedup_undo_children_upto(int64 id, int64 last, List **sql)
{
	ListCell   *lc;

	foreach(lc, rows_of(id, "SELECT c.id FROM dedup.journal c"
						" WHERE c.parent OPERATOR(pg_catalog.=) $1 ORDER BY c.id DESC"))
	{
		int64		child = pg_strtoint64(((char **) lfirst(lc))[0]);

		if (last == 0 || child <= last)
			(void) dedup_undo_entry(child, sql);
	}
}

void
dedup_undo_children(int64 id, List **sql)
{
	dedup_undo_children_upto(id, 0, sql);
}

static char *
undo_drop(int64 id, List **sql)
{
	char	   *target = dedup_journal_field(id, "j.target");
	char	   *rows_backup = dedup_journal_field(id, "j.detail->>'rows_backup'");
	char	   *ndeps;

	/*
	 * The tables, their rows, their constraints and indexes (built once, over
	 * all the rows; foreign keys checked once), then what depends on them.
	 */
	dedup_replay_drop(id, rows_backup ? DEDUP_REPLAY_CREATE : DEDUP_REPLAY_TABLES, sql);
	if (rows_backup)
	{
		char	   *bak = dedup_journal_field(pg_strtoint64(rows_backup), "j.detail->>'backup'");
		Oid			bakid = bak ? dedup_lookup_relation(bak) : InvalidOid;

		if (!OidIsValid(bakid))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("cannot undo journal entry " INT64_FORMAT ": backup %s of its rows no longer exists",
							id, bak ? bak : "?"),
					 errdetail("Nothing was changed.")));
		(void) dedup_restore(bakid, dedup_lookup_relation(target));
		*sql = lappend(*sql, psprintf("SELECT dedup.restore_backup(%s, %s)", quote_literal_cstr(bak),
									  quote_literal_cstr(target)));
	}
	dedup_replay_drop(id, rows_backup ? DEDUP_REPLAY_BUILD | DEDUP_REPLAY_DEPENDENTS : DEDUP_REPLAY_DEPENDENTS, sql);
	ndeps = dedup_journal_field(id, "(SELECT pg_catalog.count(*) FROM pg_catalog.jsonb_array_elements(j.detail->'dependents') d"
								"  WHERE d->>'drop' IS NOT NULL)");
	return psprintf("recreated table %s%s", target,
					strcmp(ndeps, "0") == 0 ? "" : psprintf(" and %s dependent%s", ndeps,
															strcmp(ndeps, "1") == 0 ? "" : "s"));
}

static char *
undo_backup(int64 id, List **sql)
{
	char	   *bak = dedup_journal_field(id, "j.detail->>'backup'");
	Oid			bakid = dedup_lookup_relation(bak);
	DedupBackupInfo *b = OidIsValid(bakid) ? dedup_journal_backup_of(bakid) : NULL;
	char	   *stmt;

	if (b == NULL || b->entry != id)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("cannot undo journal entry " INT64_FORMAT ": backup %s no longer exists", id, bak),
				 errdetail("Nothing was changed.")));
	dedup_check_target(bakid, "drop");
	LockRelationOid(bakid, AccessExclusiveLock);
	if (!dedup_backup_matches(b))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot undo journal entry " INT64_FORMAT ": backup %s has changed since it was taken", id, bak),
				 errdetail("It no longer holds the " INT64_FORMAT " rows with fingerprint %s it was taken with. Nothing was changed.",
						   b->rows, b->fingerprint),
				 errhint("Drop it yourself if it is no longer needed.")));
	stmt = psprintf("DROP TABLE %s", bak);
	dedup_exec_logged(sql, stmt);
	return psprintf("dropped backup %s", bak);
}

/*
 * Undo of a restore: the rows it inserted (those the restoring transaction
 * wrote) go, if they are still exactly the backup's rows.
 */
static char *
undo_restore(int64 id, List **sql)
{
	List	   *r = rows_of(id, "SELECT j.detail->>'target', j.detail->>'backup', j.detail->'rows'->>'xid',"
							"       j.detail->'rows'->>'count',"
							"       (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(c), ', ')"
							"          FROM dedup.journal b, pg_catalog.jsonb_array_elements_text(b.detail->'columns') c"
							"         WHERE b.id OPERATOR(pg_catalog.=) (j.detail->>'backup_entry')::pg_catalog.int8)"
							"  FROM dedup.journal j WHERE j.id OPERATOR(pg_catalog.=) $1");
	char	  **e = (char **) linitial(r);
	Oid			target = dedup_lookup_relation(e[0]);
	Oid			bak = dedup_lookup_relation(e[1]);
	TransactionId xid;
	char	   *mine;
	char	   *stmt;
	DedupAs		as;

	if (!OidIsValid(target) || !OidIsValid(bak))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("cannot undo journal entry " INT64_FORMAT ": %s no longer exists", id,
						OidIsValid(target) ? e[1] : e[0]),
				 errdetail("Nothing was changed.")));
	dedup_check_target(target, "undo a restore into");
	dedup_lock_tree(target, ShareRowExclusiveLock);
	xid = dedup_rows_xid(strtou64(e[2], NULL, 10), e[0]);
	mine = psprintf("SELECT ROW(%s)::pg_catalog.text FROM %s WHERE xmin OPERATOR(pg_catalog.=) '%u'::pg_catalog.xid",
					e[4], e[0], xid);
	if (dedup_rows_differ(mine, psprintf("SELECT ROW(%s)::pg_catalog.text FROM %s", e[4], e[1]),
						  dedup_rel_owner(target)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot undo journal entry " INT64_FORMAT ": the rows it restored into %s were changed since", id, e[0]),
				 errdetail("They are no longer exactly the rows of %s. Undoing would lose what changed. Nothing was changed.", e[1]),
				 errhint("Compare the table with the backup and delete by hand what should go.")));
	stmt = psprintf("DELETE FROM %s WHERE xmin OPERATOR(pg_catalog.=) '%u'::pg_catalog.xid", e[0], xid);
	dedup_become(dedup_rel_owner(target), &as);
	dedup_exec(stmt);
	dedup_unbecome(&as);
	*sql = lappend(*sql, stmt);
	dedup_undo_sequences(id, "sequences", sql);
	return psprintf("deleted the rows restored into %s", e[0]);
}

static char *
undo_merge_rows(int64 id, List **sql)
{
	char	   *keeper = dedup_journal_field(id, "j.detail->>'keeper'");
	char	   *source = dedup_journal_field(id, "j.detail->>'source'");
	char	   *dropped = dedup_journal_field(id, "j.detail->>'dropped_source'");

	dedup_undo_children(id, sql);
	dedup_unmerge(id, sql);
	dedup_undo_sequences(id, "sequences", sql);
	return psprintf("deleted the rows merged from %s into %s%s", source, keeper,
					strcmp(dropped, "true") == 0 ? psprintf(" and recreated %s", source) : "");
}

static char *
undo_compound(int64 id, List **sql)
{
	int64		n = list_length(rows_of(id, "SELECT 1 FROM dedup.journal c WHERE c.parent OPERATOR(pg_catalog.=) $1"));

	dedup_undo_children(id, sql);
	return psprintf("undid its " INT64_FORMAT " step%s", n, n == 1 ? "" : "s");
}

/* Undo entry id and its steps, by kind. */
char *
dedup_undo_entry(int64 id, List **sql)
{
	char	   *action = dedup_journal_field(id, "j.action");

	CHECK_FOR_INTERRUPTS();
	if (strcmp(action, "drop") == 0)
		return undo_drop(id, sql);
	if (strcmp(action, "backup") == 0)
		return undo_backup(id, sql);
	if (strcmp(action, "restore") == 0)
		return undo_restore(id, sql);
	if (strcmp(action, "merge_rows") == 0)
		return undo_merge_rows(id, sql);
	if (strcmp(action, "merge_extension") == 0)
		return dedup_undo_merge_extension(id, sql);
	if (strcmp(action, "unpartition") == 0)
		return dedup_undo_unpartition(id, sql);
	if (strcmp(action, "merge_members") == 0 || strcmp(action, "apply") == 0)
		return undo_compound(id, sql);
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("journal entry " INT64_FORMAT " (%s) cannot be undone", id, action),
			 errdetail("Nothing was changed.")));
	return NULL;				/* keep compiler quiet */
}

/*
 * Undo journal entry id (a whole action) inside the caller's SPI
 * connection; returns what was done.
 */
char *
dedup_undo_internal(int64 id)
{
	char	   *action = dedup_journal_field(id, "j.action");
	char	   *actor;
	char	   *undone;
	char	   *parent;
	char	   *later;
	char	   *result;
	List	   *sql = NIL;
	DedupAction *act;
	StringInfoData d;

	if (action == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("journal entry " INT64_FORMAT " does not exist", id),
				 errdetail("Nothing was changed."),
				 errhint("SELECT id, action, target FROM dedup.journal WHERE parent IS NULL ORDER BY id; lists the actions.")));
	parent = dedup_journal_field(id, "j.parent");
	if (parent)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("journal entry " INT64_FORMAT " is one step of entry %s", id, parent),
				 errdetail("An action is undone whole. Nothing was changed."),
				 errhint("Undo the action: SELECT dedup.undo(%s);", parent)));

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
	if (strcmp(action, "undo") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("journal entry " INT64_FORMAT " is an undo, which cannot be undone", id),
				 errdetail("Nothing was changed."),
				 errhint("Run the action again.")));

	/* only the role that acted, or one that has its privileges */
	actor = dedup_journal_field(id, "j.actor");
	if (!has_privs_of_role(GetUserId(), get_role_oid(actor, false)))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to undo journal entry " INT64_FORMAT, id),
				 errdetail("It was made by role \"%s\". Nothing was changed.", actor)));

	/* a later action that touched the same tables must be undone first */
	later = first_of(id, "SELECT pg_catalog.format('%s (%s)', m.id, m.action) FROM dedup.journal m, dedup.journal n"
					 " WHERE n.id OPERATOR(pg_catalog.=) $1 AND m.id OPERATOR(pg_catalog.>) n.id"
					 "   AND m.parent IS NULL AND m.action OPERATOR(pg_catalog.<>) 'undo'"
					 "   AND m.objects OPERATOR(pg_catalog.&&) n.objects"
					 "   AND NOT EXISTS (SELECT 1 FROM dedup.journal u WHERE u.undoes OPERATOR(pg_catalog.=) m.id)"
					 " ORDER BY m.id DESC LIMIT 1");
	if (later)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot undo journal entry " INT64_FORMAT " because later entry %s changed the same tables", id, later),
				 errdetail("Nothing was changed."),
				 errhint("Undo the later entry first: SELECT dedup.undo(%s);",
						 pnstrdup(later, strcspn(later, " ")))));

	act = dedup_action_begin("undo");
	act->undoes = id;
	result = dedup_undo_entry(id, &sql);

	initStringInfo(&d);
	appendStringInfoChar(&d, '{');
	dedup_json_str(&d, "undone_action", action);
	dedup_json_str(&d, "result", result);
	dedup_json_raw(&d, "sql", dedup_json_array(sql));
	appendStringInfoChar(&d, '}');
	(void) dedup_action_end(act, dedup_journal_field(id, "j.target"), d.data);
	return result;
}

/* The body of dedup.undo() under dedup_call(). */
static void
undo_body(FunctionCallInfo fcinfo, MemoryContext cxt, void *result)
{
	char	   *r = dedup_undo_internal(PG_GETARG_INT64(0));

	*(char **) result = MemoryContextStrdup(cxt, r);
}

/*
 * dedup.undo(journal_id bigint) RETURNS text
 *
 *	 SELECT dedup.undo(42);   -- 'recreated table public.members_full_orphans'
 */
Datum
dedup_undo(PG_FUNCTION_ARGS)
{
	char	   *result = NULL;

	dedup_call(fcinfo, undo_body, &result);
	PG_RETURN_TEXT_P(cstring_to_text(result));
}
