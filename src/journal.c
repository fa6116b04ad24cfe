/*-------------------------------------------------------------------------
 *
 * journal.c
 *	  The journal of changes (dedup.journal): written and read only by dedup.
 *
 * Nobody is granted INSERT, UPDATE or DELETE on dedup.journal.  dedup's C
 * code writes a row under the identity of the journal's owner (the
 * superuser who created the extension), inside a security-restricted
 * operation, in the same transaction as the change it describes: a rolled
 * back action leaves no row.  The actor is the role that called dedup,
 * taken before the switch.  Rows are read the same way, so undo() and
 * restore_backup() only ever replay what dedup itself wrote, and the
 * caller needs no privilege on the journal to use them.  A trigger refuses
 * UPDATE and DELETE: the journal is append-only.
 *
 * An action's row is written when the action is done, under the id
 * reserved when it began (action.c); the entries of its steps (a backup, a
 * drop) were written meanwhile and name it as their parent.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "storage/lmgr.h"
#include "utils/syscache.h"

#include "compat.h"
#include "dedup.h"
#include "ddl.h"

PG_FUNCTION_INFO_V1(dedup_journal_append_only);

/*
 * dedup._journal_append_only() RETURNS trigger: BEFORE INSERT OR UPDATE OR
 * DELETE (for each row) and BEFORE TRUNCATE on dedup.journal.  Rows are
 * added and the table truncated only by the journal's owner (dedup writes as
 * the owner; a role that was granted INSERT could otherwise forge an entry
 * that undo() replays); rows are never changed or deleted.
 */
Datum
dedup_journal_append_only(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "dedup._journal_append_only: not called as a trigger");
	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) ||
		TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
	{
		if (has_privs_of_role(GetUserId(), trigdata->tg_relation->rd_rel->relowner))
			return TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) ?
				PointerGetDatum(trigdata->tg_trigtuple) : PointerGetDatum(NULL);
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) ?
				 errmsg("only dedup writes to dedup.journal") :
				 errmsg("only the owner of dedup.journal may truncate it"),
				 TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) ?
				 errdetail("dedup.undo() replays what the journal holds, so only dedup's own functions add rows to it, as its owner.") :
				 errdetail("The journal is what dedup.undo() and dedup.restore_backup() work from.")));
	}
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("dedup.journal is append-only"),
			 errdetail("Journal rows record what was done; they are never changed or deleted."),
			 errhint("Undo an action with dedup.undo(id); that adds a row.")));
	PG_RETURN_NULL();			/* not reached */
}

/* OID of dedup.journal (in the extension's schema). */
static Oid
journal_relid(void)
{
	Oid			ext = get_extension_oid("dedup", false);
	Oid			nsp = get_namespace_oid("dedup", true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid("journal", nsp) : InvalidOid;

	/* the extension's own table (schema dedup is fixed by dedup.control) */
	if (!OidIsValid(relid) || getExtensionOfObject(RelationRelationId, relid) != ext)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table \"journal\" of extension \"dedup\" does not exist"),
				 errhint("Reinstall the extension: DROP EXTENSION dedup; CREATE EXTENSION dedup;")));
	return relid;
}

/* Become the journal's owner for reading or writing it. */
static void
become_journal_owner(DedupAs *saved)
{
	Oid			relid = journal_relid();
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "dedup: cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	dedup_become(owner, saved);
}

/* Reserve the id of a journal row to be written later (dedup_journal_write_id). */
int64
dedup_journal_reserve_id(void)
{
	DedupAs		saved;
	char	   *v;

	become_journal_owner(&saved);
	v = dedup_query_value("SELECT pg_catalog.nextval(pg_catalog.pg_get_serial_sequence('dedup.journal', 'id'))",
						  0, NULL, NULL);
	dedup_unbecome(&saved);
	return pg_strtoint64(v);
}

/*
 * Write the journal row id (reserved, or 0 for a new one) inside the
 * caller's SPI connection.  parent and undoes are 0 when not set; objects
 * lists the relations the action touched (qualified names); detail is a
 * JSON object as text.  Returns the row's id.
 */
int64
dedup_journal_write_row(int64 id, const char *action, const char *target,
						int64 parent, int64 undoes, List *objects, const char *detail)
{
	Oid			types[8] = {INT8OID, NAMEOID, TEXTOID, TEXTOID, INT8OID, INT8OID, TEXTARRAYOID, TEXTOID};
	Datum		values[8];
	char		nulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	NameData	actor;
	DedupAs		saved;
	char	   *v;

	namestrcpy(&actor, GetUserNameFromId(GetUserId(), false));
	values[0] = Int64GetDatum(id);
	nulls[0] = id > 0 ? ' ' : 'n';
	values[1] = NameGetDatum(&actor);
	values[2] = CStringGetTextDatum(action);
	values[3] = CStringGetTextDatum(target);
	values[4] = Int64GetDatum(parent);
	nulls[4] = parent > 0 ? ' ' : 'n';
	values[5] = Int64GetDatum(undoes);
	nulls[5] = undoes > 0 ? ' ' : 'n';
	values[6] = dedup_text_array(objects);
	values[7] = CStringGetTextDatum(detail);

	become_journal_owner(&saved);
	v = dedup_query_value_nulls(
		"INSERT INTO dedup.journal (id, actor, action, target, parent, undoes, objects, detail)"
		" OVERRIDING SYSTEM VALUE"
		" VALUES (COALESCE($1, pg_catalog.nextval(pg_catalog.pg_get_serial_sequence('dedup.journal', 'id'))),"
		"         $2, $3, $4, $5, $6, $7, $8::pg_catalog.jsonb) RETURNING id",
		8, types, values, nulls);
	dedup_unbecome(&saved);
	if (v == NULL)
		elog(ERROR, "dedup: could not write the journal");
	return pg_strtoint64(v);
}

/*
 * Rows of a query over dedup.journal, read as the journal's owner (the
 * caller needs no privilege on it); as dedup_query_rows().
 */
List *
dedup_journal_rows(const char *sql, int nargs, Oid *types, Datum *values)
{
	DedupAs		saved;
	List	   *rows;

	become_journal_owner(&saved);
	rows = dedup_query_rows(sql, nargs, types, values);
	dedup_unbecome(&saved);
	return rows;
}

/* First column of the first row of a journal query, or NULL. */
char *
dedup_journal_value(const char *sql, int nargs, Oid *types, Datum *values)
{
	List	   *rows = dedup_journal_rows(sql, nargs, types, values);

	return rows ? ((char **) linitial(rows))[0] : NULL;
}

/* One field of journal entry id: expr is an expression over "j". */
char *
dedup_journal_field(int64 id, const char *expr)
{
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(id)};

	return dedup_journal_value(psprintf("SELECT %s FROM dedup.journal j WHERE j.id OPERATOR(pg_catalog.=) $1", expr),
							   1, types, args);
}

/*
 * The backups dedup took that still exist: a journaled backup entry, not
 * undone, whose table still has the journaled OID, name and owner.  A table
 * is never taken for a backup by its name or contents alone.
 */
List *
dedup_journal_backups(void)
{
	List	   *out = NIL;
	ListCell   *lc;

	foreach(lc, dedup_journal_rows(
				"SELECT j.id, j.detail->>'backup_oid', j.detail->>'backup', j.detail->>'source_oid',"
				"       j.detail->>'source', j.detail->>'rows', j.detail->>'fingerprint', j.detail->>'owner'"
				"  FROM dedup.journal j"
				" WHERE j.action OPERATOR(pg_catalog.=) 'backup'"
				"   AND NOT EXISTS (SELECT 1 FROM dedup.journal u WHERE u.undoes OPERATOR(pg_catalog.=) j.id)"
				" ORDER BY j.id", 0, NULL, NULL))
	{
		char	  **r = (char **) lfirst(lc);
		Oid			bak = r[1] ? (Oid) strtoul(r[1], NULL, 10) : InvalidOid;
		Oid			src = r[3] ? (Oid) strtoul(r[3], NULL, 10) : InvalidOid;
		HeapTuple	tup;
		char	   *owner;
		DedupBackupInfo *b;

		CHECK_FOR_INTERRUPTS();
		if (!OidIsValid(bak) || r[2] == NULL || r[7] == NULL)
			continue;
		tup = SearchSysCache1(RELOID, ObjectIdGetDatum(bak));
		if (!HeapTupleIsValid(tup))
			continue;
		owner = GetUserNameFromId(((Form_pg_class) GETSTRUCT(tup))->relowner, true);
		ReleaseSysCache(tup);
		if (owner == NULL || strcmp(owner, r[7]) != 0 ||
			strcmp(dedup_qualified_name(bak), r[2]) != 0)
			continue;
		b = palloc0(sizeof(DedupBackupInfo));
		b->entry = pg_strtoint64(r[0]);
		b->backup = bak;
		b->source_oid = src;
		b->source_name = r[4];
		b->owner = r[7];
		b->source = (OidIsValid(src) && r[4] && SearchSysCacheExists1(RELOID, ObjectIdGetDatum(src)) &&
					 strcmp(dedup_qualified_name(src), r[4]) == 0) ? src : InvalidOid;
		b->rows = r[5] ? pg_strtoint64(r[5]) : 0;
		b->fingerprint = r[6];
		out = lappend(out, b);
	}
	return out;
}

/* The live backup whose table is relid, or NULL. */
DedupBackupInfo *
dedup_journal_backup_of(Oid relid)
{
	ListCell   *lc;

	foreach(lc, dedup_journal_backups())
		if (((DedupBackupInfo *) lfirst(lc))->backup == relid)
			return (DedupBackupInfo *) lfirst(lc);
	return NULL;
}

/*
 * Does the backup still hold exactly what was journaled?  Reads it under
 * AccessShareLock (kept until the end of the transaction).
 */
bool
dedup_backup_matches(DedupBackupInfo *b)
{
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(b->entry)};
	List	   *cols = NIL;
	ListCell   *lc;
	DedupFingerprint now;

	foreach(lc, dedup_journal_rows("SELECT c FROM dedup.journal j,"
								   "       pg_catalog.jsonb_array_elements_text(j.detail->'columns') c"
								   " WHERE j.id OPERATOR(pg_catalog.=) $1", 1, types, args))
		cols = lappend(cols, ((char **) lfirst(lc))[0]);
	LockRelationOid(b->backup, AccessShareLock);
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(b->backup)))
		return false;
	dedup_fingerprint_relation(b->backup, cols, &now);
	return now.rows == b->rows && b->fingerprint != NULL &&
		strcmp(dedup_fp_hex(&now), b->fingerprint) == 0;
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
 * Write a journal row for a change made outside dedup_action_begin/end:
 * it becomes a step of the action under way, if any.
 */
int64
dedup_journal_write(const char *action, const char *target, const char *detail)
{
	DedupAction *cur = dedup_current_action();

	return dedup_journal_write_row(0, action, target, cur ? cur->id : 0, 0, NIL, detail);
}
