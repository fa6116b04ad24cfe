/*-------------------------------------------------------------------------
 *
 * journal.c
 *	  The journal of changes (dedup.journal) and the guard that makes every
 *	  changing function one action in one transaction.
 *
 * A journal row is written through SPI in the same transaction as the
 * change it describes, so a rolled-back action leaves no row.  The stamp
 * trigger fills actor and at itself (a caller cannot write another role's
 * name) and refuses updates: the journal is append-only.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "ddl.h"

PG_FUNCTION_INFO_V1(dedup_journal_stamp);

/*
 * dedup._journal_stamp() RETURNS trigger: BEFORE INSERT OR UPDATE on
 * dedup.journal.  Stamps actor = current_user and at = now() on insert;
 * refuses updates.
 */
Datum
dedup_journal_stamp(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	int			attnums[2];
	Datum		values[2];
	bool		nulls[2] = {false, false};
	NameData   *actor;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "dedup._journal_stamp: not called as a trigger");
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("dedup.journal is append-only"),
				 errdetail("Journal rows record what was done; they are never changed."),
				 errhint("Undo an action with dedup.undo(id); that adds a row.")));

	desc = trigdata->tg_relation->rd_att;
	attnums[0] = SPI_fnumber(desc, "actor");
	attnums[1] = SPI_fnumber(desc, "at");
	actor = palloc0(sizeof(NameData));
	namestrcpy(actor, GetUserNameFromId(GetUserId(), false));
	values[0] = NameGetDatum(actor);
	values[1] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	return PointerGetDatum(heap_modify_tuple_by_cols(trigdata->tg_trigtuple, desc,
													 2, attnums, values, nulls));
}

/*
 * Error early, before any work, when the caller may not write the journal.
 */
void
dedup_check_journal_access(void)
{
	Oid			nsp = get_namespace_oid("dedup", false);
	Oid			journal = get_relname_relid("journal", nsp);

	if (!OidIsValid(journal) ||
		pg_class_aclcheck(journal, GetUserId(), ACL_INSERT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table dedup.journal"),
				 errdetail("Every change dedup makes is journaled; the caller must be allowed to insert journal rows. Nothing was changed."),
				 errhint("A superuser can run: GRANT INSERT, SELECT ON dedup.journal TO %s;",
						 quote_identifier(GetUserNameFromId(GetUserId(), false)))));
}

/*
 * Write one journal row (inside an SPI connection); returns its id.
 * detail is a JSON object as text.
 */
int64
dedup_journal_write(const char *action, const char *target, const char *detail)
{
	Oid			types[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];
	bool		isnull;
	int			rc;

	values[0] = CStringGetTextDatum(action);
	values[1] = CStringGetTextDatum(target);
	values[2] = CStringGetTextDatum(detail);
	rc = SPI_execute_with_args("INSERT INTO dedup.journal (action, target, detail)"
							   " VALUES ($1, $2, $3::pg_catalog.jsonb) RETURNING id",
							   3, types, values, NULL, false, 1);
	if (rc != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
		elog(ERROR, "dedup: could not write the journal: %s", SPI_result_code_string(rc));
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
									   1, &isnull));
}

/* Append "key": "value" (JSON-escaped) to a JSON object being built. */
void
dedup_json_str(StringInfo buf, const char *key, const char *value)
{
	if (buf->len > 1)
		appendStringInfoString(buf, ", ");
	escape_json(buf, key);
	appendStringInfoString(buf, ": ");
	if (value)
		escape_json(buf, value);
	else
		appendStringInfoString(buf, "null");
}

/* Append "key": <raw JSON> to a JSON object being built. */
void
dedup_json_raw(StringInfo buf, const char *key, const char *json)
{
	if (buf->len > 1)
		appendStringInfoString(buf, ", ");
	escape_json(buf, key);
	appendStringInfo(buf, ": %s", json);
}

/* A JSON array of strings. */
char *
dedup_json_array(List *strings)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	foreach(lc, strings)
	{
		if (lc != list_head(strings))
			appendStringInfoString(&buf, ", ");
		escape_json(&buf, (char *) lfirst(lc));
	}
	appendStringInfoChar(&buf, ']');
	return buf.data;
}

/*
 * Called from PG_CATCH of every changing function: re-throw the error with
 * the detail that nothing was changed (the error aborts the transaction or
 * the caller's subtransaction, so that is true of every action).
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
