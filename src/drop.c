/*-------------------------------------------------------------------------
 *
 * drop.c
 *	  dedup.drop_if_empty(): drop a table only when it provably holds no row.
 *
 * The order is what makes it safe:
 *	 1. check ownership (before locking, so no one can lock what they could
 *		not drop), then take ACCESS EXCLUSIVE on the table and every
 *		partition, honouring the caller's lock_timeout, and check again;
 *	 2. read the table with a snapshot taken after the locks were granted:
 *		a row committed by anyone before that keeps the table, whatever the
 *		caller's own (REPEATABLE READ or SERIALIZABLE) snapshot says;
 *	 3. collect what depends on it (views, rules, foreign keys, inheritance
 *		children): an error without cascade, dropped with it otherwise;
 *	 4. capture the full definition of the table, its partitions and every
 *		dependent in the journal, then drop through SPI.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "catalog/partition.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "dedup.h"
#include "ddl.h"

PG_FUNCTION_INFO_V1(dedup_drop_if_empty);
PG_FUNCTION_INFO_V1(dedup_drop_backup);

static Oid	backup_source(Oid relid, const char **how);
static void drop_backup_body(FunctionCallInfo fcinfo, MemoryContext cxt, void *result);

/*
 * Everything a drop of relid needs, read from the catalogs: its dependents
 * (an error listing them when cascade is false), the definition of the
 * whole tree and of every dependent, and the statements to run.  Reads
 * only; the caller holds a lock that keeps the definition from changing
 * (SHARE is enough: DDL on the table waits for it).
 */
DedupDropPlan *
dedup_plan_drop(Oid relid, bool cascade)
{
	DedupDropPlan *plan = palloc0(sizeof(DedupDropPlan));
	char	   *name = get_rel_name(relid);
	char	   *qual = dedup_qualified_name(relid);
	Oid			types[2];
	Datum		args[2];
	char	   *deps;
	List	   *dep_lines;
	List	   *drops;
	List	   *tree;
	List	   *sql = NIL;
	Datum	   *oids;
	ListCell   *lc;
	StringInfoData stmt;
	char	   *definition;
	int			n;

	/* dependents */
	types[0] = REGCLASSOID;
	args[0] = ObjectIdGetDatum(relid);
	deps = dedup_query_value("SELECT dedup._dependents($1)::pg_catalog.text", 1, types, args);
	types[0] = TEXTOID;
	args[0] = CStringGetTextDatum(deps);
	dep_lines = dedup_query_column("SELECT pg_catalog.format('%s %s', d->>'kind', d->>'name')"
								   "  FROM pg_catalog.jsonb_array_elements($1::pg_catalog.jsonb) d", 1, types, args, NULL);
	if (dep_lines != NIL && !cascade)
	{
		StringInfoData detail;

		initStringInfo(&detail);
		foreach(lc, dep_lines)
			appendStringInfo(&detail, "%s depends on table %s\n", (char *) lfirst(lc), qual);
		appendStringInfoString(&detail, "Nothing was changed.");
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("cannot drop table \"%s\" because other objects depend on it", name),
				 errdetail_internal("%s", detail.data),
				 errhint("Use dedup.drop_if_empty(%s, cascade => true) to drop them too; each is captured in the journal first and dedup.undo() recreates it.",
						 quote_literal_cstr(qual))));
	}

	/* capture the whole tree (parents first) and the dependents */
	tree = find_all_inheritors(relid, NoLock, NULL);
	oids = palloc(sizeof(Datum) * list_length(tree));
	n = 0;
	foreach(lc, tree)
		oids[n++] = ObjectIdGetDatum(lfirst_oid(lc));
	types[0] = OIDARRAYOID;
	types[1] = TEXTOID;
	args[0] = PointerGetDatum(construct_array(oids, n, OIDOID, sizeof(Oid), true, TYPALIGN_INT));
	args[1] = CStringGetTextDatum(deps);
	definition = dedup_query_value(
		"SELECT pg_catalog.jsonb_build_object("
		"  'tables', pg_catalog.jsonb_agg(dedup._table_definition(u.o::pg_catalog.regclass) ORDER BY u.n),"
		"  'dependents', $2::pg_catalog.jsonb)::pg_catalog.text"
		"  FROM pg_catalog.unnest($1::pg_catalog.oid[]) WITH ORDINALITY AS u(o, n)",
		2, types, args);

	/* what will run: dependents last-created first, then the table */
	types[0] = TEXTOID;
	args[0] = CStringGetTextDatum(deps);
	drops = dedup_query_column("SELECT d->>'drop'"
							   "  FROM pg_catalog.jsonb_array_elements($1::pg_catalog.jsonb)"
							   "       WITH ORDINALITY AS x(d, n)"
							   " WHERE d->>'drop' IS NOT NULL ORDER BY x.n DESC", 1, types, args, NULL);
	initStringInfo(&stmt);
	appendStringInfo(&stmt, "DROP TABLE %s", qual);
	if (get_rel_relkind(relid) != RELKIND_PARTITIONED_TABLE)
		foreach(lc, tree)		/* inheritance children go with their parent */
			if (lfirst_oid(lc) != relid)
				appendStringInfo(&stmt, ", %s", dedup_qualified_name(lfirst_oid(lc)));
	sql = list_concat(drops, list_make1(stmt.data));

	plan->qual = qual;
	plan->definition = definition;
	plan->sql = sql;
	plan->cascade = cascade;
	return plan;
}

/*
 * Run the plan as one journaled "drop" (a step of the action under way, if
 * any): the definitions go to the journal in the same transaction as the
 * drop.  rows_backup is the journal id of a backup that holds the table's
 * rows (0 when it had none): undo puts them back from it.  Returns the
 * journal id.
 */
int64
dedup_execute_drop(DedupDropPlan *plan, bool proven_empty, int64 rows_backup)
{
	DedupAction *act = dedup_action_begin("drop");
	StringInfoData d;
	ListCell   *lc;
	Oid			types[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(plan->definition)};

	foreach(lc, plan->sql)
		dedup_exec((char *) lfirst(lc));
	foreach(lc, dedup_query_column("SELECT t->>'qualname' FROM pg_catalog.jsonb_array_elements($1::pg_catalog.jsonb->'tables') t"
								   " UNION ALL "
								   "SELECT d->>'name' FROM pg_catalog.jsonb_array_elements($1::pg_catalog.jsonb->'dependents') d"
								   " WHERE d->>'kind' IN ('view', 'materialized view')", 1, types, args, NULL))
		dedup_action_touch(act, (char *) lfirst(lc));

	initStringInfo(&d);
	appendStringInfo(&d, "%.*s", (int) strlen(plan->definition) - 1, plan->definition);
	dedup_json_raw(&d, "rows", proven_empty ? "0" : "null");
	dedup_json_raw(&d, "rows_backup", rows_backup > 0 ? psprintf(INT64_FORMAT, rows_backup) : "null");
	dedup_json_raw(&d, "cascade", plan->cascade ? "true" : "false");
	dedup_json_raw(&d, "sql", dedup_json_array(plan->sql));
	appendStringInfoChar(&d, '}');
	return dedup_action_end(act, plan->qual, d.data);
}

/*
 * Drop relid after capturing it in the journal.  With require_empty, only
 * when no row is visible under ACCESS EXCLUSIVE (0 otherwise, with a
 * notice); without, the caller has proven under its own locks that every
 * row is kept elsewhere (merge_rows) and backed it up: rows_backup is that
 * backup's journal id.  Returns the drop's journal id.
 */
int64
dedup_drop_relation(Oid relid, bool cascade, bool require_empty, int64 rows_backup)
{
	char	   *name = get_rel_name(relid);
	char	   *qual;
	HeapTuple	tup;
	bool		ispartition;
	Oid			parent = InvalidOid;
	DedupUnknown why;
	int64		rows;
	ListCell   *lc;

	dedup_check_target(relid, "drop");
	LockRelationOid(relid, AccessExclusiveLock);
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table \"%s\" was dropped by another transaction", name ? name : "?"),
				 errdetail("Nothing was changed.")));
	dedup_check_target(relid, "drop");
	qual = dedup_qualified_name(relid);

	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	ispartition = ((Form_pg_class) GETSTRUCT(tup))->relispartition;
	ReleaseSysCache(tup);
	if (ispartition)
	{
		parent = get_partition_parent(relid, false);
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("cannot drop table \"%s\" because it is a partition of \"%s\"",
						name, get_rel_name(parent)),
				 errdetail("Nothing was changed."),
				 errhint("Detach it first: ALTER TABLE %s DETACH PARTITION %s;",
						 dedup_qualified_name(parent), qual)));
	}

	/* emptiness: locks on every partition, then a fresh snapshot, then read */
	rows = dedup_count_rows(relid, AccessExclusiveLock, false, require_empty ? 0 : 1,
							false, &why);
	if (rows == DEDUP_ROWS_UNKNOWN)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("could not read table \"%s\": %s", name, dedup_unknown_phrase(why)),
				 errdetail("Nothing was changed.")));
	if (rows > 0 && require_empty)
	{
		ereport(NOTICE,
				(errmsg("table \"%s\" was not dropped: it holds " INT64_FORMAT " visible row%s",
						name, rows, rows == 1 ? "" : "s"),
				 errdetail("Rows were counted after every writer was locked out, with a snapshot taken then.")));
		/* nothing changed: let readers and writers back in at once */
		foreach(lc, find_all_inheritors(relid, NoLock, NULL))
			UnlockRelationOid(lfirst_oid(lc), AccessExclusiveLock);
		UnlockRelationOid(relid, AccessExclusiveLock);	/* ours, taken first */
		return 0;
	}

	return dedup_execute_drop(dedup_plan_drop(relid, cascade), require_empty, rows_backup);
}

/* The body of dedup.drop_if_empty() under dedup_call(). */
static void
drop_if_empty_body(FunctionCallInfo fcinfo, MemoryContext cxt, void *result)
{
	*(bool *) result = dedup_drop_relation(PG_GETARG_OID(0), PG_GETARG_BOOL(1), true, 0) > 0;
}

/*
 * dedup.drop_if_empty(tbl regclass, cascade boolean DEFAULT false) RETURNS boolean
 *
 *	 SELECT dedup.drop_if_empty('public.members_full_orphans');
 *
 * true: dropped (journaled; dedup.undo(id) recreates it).  false, with a
 * notice: the table holds rows and was left alone.  An error, changing
 * nothing, when something depends on it and cascade is false.
 */
Datum
dedup_drop_if_empty(PG_FUNCTION_ARGS)
{
	bool		dropped = false;

	dedup_call(fcinfo, drop_if_empty_body, &dropped);
	PG_RETURN_BOOL(dropped);
}

/*
 * The table relid is a backup of, or InvalidOid when it is not a backup
 * (*how = NULL) or its source is gone.  A backup dedup.backup_table took
 * is known by its journal entry; any other table is a backup only by its
 * name ("<t>_backup_<date>", "<t>_bak", "backup_<t>" ...), of the table
 * with its stem in the same schema.
 */
static Oid
backup_source(Oid relid, const char **how)
{
	DedupBackupInfo *b = dedup_journal_backup_of(relid);
	DedupTable	t;

	if (b)
	{
		*how = "taken by dedup.backup_table";
		return b->source;
	}
	memset(&t, 0, sizeof(t));
	t.relname = get_rel_name(relid);
	dedup_parse_name(&t);
	if ((t.affixes & DEDUP_AFFIX_BACKUP) == 0)
	{
		*how = NULL;
		return InvalidOid;
	}
	*how = "named as a backup";
	return get_relname_relid(t.stem, get_rel_namespace(relid));
}

/* The body of dedup.drop_backup() under dedup_call(). */
static void
drop_backup_body(FunctionCallInfo fcinfo, MemoryContext cxt, void *result)
{
	Oid			relid = PG_GETARG_OID(0);
	bool		force = PG_GETARG_BOOL(1);
	const char *how;
	Oid			source;
	DedupUnknown why;
	int64		rows;
	char	   *name;

	/*
	 * Lock the backup and its source together (OID order): writers of the
	 * source wait too, so a row it loses while we compare cannot be lost
	 * with the backup.  Then look again.
	 */
	dedup_check_target(relid, "drop");
	source = backup_source(relid, &how);
	if (OidIsValid(source))
		dedup_lock_pair(relid, AccessExclusiveLock, source, ShareLock);
	else
		LockRelationOid(relid, AccessExclusiveLock);
	dedup_check_target(relid, "drop");
	name = get_rel_name(relid);
	if (backup_source(relid, &how) != source)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the source of backup \"%s\" changed while it was being locked", name),
				 errdetail("Nothing was changed."),
				 errhint("Call dedup.drop_backup() again.")));
	if (how == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("table \"%s\" is not a backup", name),
				 errdetail("It was not taken by dedup.backup_table and is not named as a backup.  Nothing was changed."),
				 errhint("Use dedup.drop_if_empty() for tables that are not backups.")));
	rows = dedup_count_rows(relid, AccessExclusiveLock, false, 0, false, &why);
	if (rows == DEDUP_ROWS_UNKNOWN)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("could not read table \"%s\": %s", name, dedup_unknown_phrase(why)),
				 errdetail("Nothing was changed.")));
	if (rows > 0 && !force)
	{
		Oid			types[2] = {REGCLASSOID, REGCLASSOID};
		Datum		args[2];
		int64		missing;

		if (!OidIsValid(source))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg_plural("backup \"%s\" holds " INT64_FORMAT " row and its source is gone",
								   "backup \"%s\" holds " INT64_FORMAT " rows and its source is gone",
								   rows, name, rows),
					 errdetail("Its rows may exist nowhere else.  Nothing was changed."),
					 errhint("Restore them with dedup.restore_backup(), or pass force => true to drop it anyway.")));
		args[0] = ObjectIdGetDatum(relid);
		args[1] = ObjectIdGetDatum(source);
		missing = pg_strtoint64(dedup_query_value("SELECT pg_catalog.count(*)::pg_catalog.text FROM dedup.missing_rows($1, $2)",
												  2, types, args));
		if (missing > 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg_plural("backup \"%s\" holds " INT64_FORMAT " row that \"%s\" lacks or holds with other values",
								   "backup \"%s\" holds " INT64_FORMAT " rows that \"%s\" lacks or holds with other values",
								   missing, name, missing, get_rel_name(source)),
					 errdetail("dedup.missing_rows(%s, %s) lists them.  Nothing was changed.",
							   quote_literal_cstr(dedup_qualified_name(relid)),
							   quote_literal_cstr(dedup_qualified_name(source))),
					 errhint("Merge them with dedup.merge_rows(), or pass force => true to drop the backup anyway.")));
	}
	*(bool *) result = dedup_drop_relation(relid, false, false, 0) > 0;
}

/*
 * dedup.drop_backup(tbl regclass, force boolean DEFAULT false) RETURNS boolean
 *
 *	 SELECT dedup.drop_backup('public.members_backup_20261121');
 *
 * Drops a backup: a table dedup.backup_table took (its journal entry) or
 * one named as a backup.  Under ACCESS EXCLUSIVE on the backup and SHARE
 * on its source, a backup that holds rows is dropped only when every one of
 * them is in its source (same key, same values: dedup.missing_rows finds
 * none); force => true drops it anyway.
 * Journaled like drop_if_empty; an error for any other table, or when
 * something depends on it.  Nothing else ever drops a backup.
 */
Datum
dedup_drop_backup(PG_FUNCTION_ARGS)
{
	bool		dropped = false;

	dedup_call(fcinfo, drop_backup_body, &dropped);
	PG_RETURN_BOOL(dropped);
}
