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
