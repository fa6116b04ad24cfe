/*-------------------------------------------------------------------------
 *
 * unpartition.c
 *	  dedup.unpartition(): a partitioned table becomes one plain table of
 *	  the same name, every row and definition kept.
 *
 * One transaction, built from the safe operations:
 *	 1. refuse when a partition has dependents of its own (a view on one
 *		partition could not be recreated);
 *	 2. back up every row (journaled, verified);
 *	 3. drop the partitioned table with its partitions and dependents,
 *		capturing all of it in the journal (dedup_drop_relation);
 *	 4. recreate the table from the captured definition, as a plain table;
 *		insert the rows before its triggers, indexes and constraints come
 *		back; then those, the owner, grants, policies, sequence positions;
 *		then the indexes and foreign keys the partitions had defined for
 *		themselves; then the views, rules and foreign keys that were
 *		dropped with it;
 *	 5. prove the rows by fingerprint against the backup;
 *	 6. with absorb, merge the standalone look-alikes of the table (its
 *		duplicate group) with merge_rows and drop them (empty ones with
 *		drop_if_empty).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "dedup.h"
#include "ddl.h"

PG_FUNCTION_INFO_V1(dedup_unpartition);

static int64
unpartition_internal(Oid parent, bool absorb)
{
	char	   *name = get_rel_name(parent);
	char	   *nsp = get_namespace_name(get_rel_namespace(parent));
	char	   *qual = dedup_qualified_name(parent);
	HeapTuple	tup;
	bool		ispartition;
	Oid			types[2];
	Datum		args[2];
	List	   *lookalikes = NIL;
	List	   *blockers;
	List	   *cols;
	List	   *sql = NIL;
	List	   *absorbed = NIL;
	List	   *steps;
	ListCell   *lc;
	char	   *definition;
	char	   *drop_id;
	DedupDropPlan *plan;
	Oid			bakid;
	Oid			newid;
	DedupFingerprint want,
				have;
	StringInfoData ins;
	StringInfoData d;
	int64		rows;

	dedup_check_target(parent, "unpartition");
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(parent));
	ispartition = ((Form_pg_class) GETSTRUCT(tup))->relispartition;
	ReleaseSysCache(tup);
	if (get_rel_relkind(parent) != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a partitioned table", name),
				 errdetail("Nothing was changed.")));
	if (ispartition)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot unpartition \"%s\" because it is itself a partition", name),
				 errdetail("Nothing was changed."),
				 errhint("Unpartition the top of the partition tree.")));

	/* the look-alikes to absorb, found by discovery (which keeps no lock) */
	if (absorb)
	{
		types[0] = TEXTOID;
		types[1] = OIDOID;
		args[0] = CStringGetTextDatum(nsp);
		args[1] = ObjectIdGetDatum(parent);
		lookalikes = dedup_query_column(
			"WITH g AS (SELECT * FROM dedup.duplicate_groups(ARRAY[$1]::pg_catalog.name[]))"
			"SELECT g.tbl::pg_catalog.oid::pg_catalog.text FROM g"
			" WHERE g.group_id OPERATOR(pg_catalog.=)"
			"       (SELECT h.group_id FROM g h WHERE h.tbl::pg_catalog.oid OPERATOR(pg_catalog.=) $2)"
			"   AND g.tbl::pg_catalog.oid OPERATOR(pg_catalog.<>) $2"
			"   AND g.role OPERATOR(pg_catalog.<>) 'extension'"
			" ORDER BY g.tbl::pg_catalog.text", 2, types, args, NULL);
	}

	dedup_lock_tree(parent, AccessExclusiveLock);
	dedup_check_target(parent, "unpartition");

	/* dependents of single partitions cannot come back */
	types[0] = OIDOID;
	args[0] = ObjectIdGetDatum(parent);
	blockers = dedup_query_column(
		"SELECT pg_catalog.format('%s %s depends on partition %s', d->>'kind', d->>'name', t.relid::pg_catalog.regclass)"
		"  FROM pg_catalog.pg_partition_tree($1) t,"
		"       pg_catalog.jsonb_array_elements(dedup._dependents(t.relid)) d"
		" WHERE t.relid OPERATOR(pg_catalog.<>) $1", 1, types, args, NULL);
	if (blockers != NIL)
	{
		StringInfoData detail;

		initStringInfo(&detail);
		foreach(lc, blockers)
			appendStringInfo(&detail, "%s\n", (char *) lfirst(lc));
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("cannot unpartition \"%s\" because objects depend on its partitions", name),
				 errdetail_internal("%sNothing was changed.", detail.data),
				 errhint("Drop or redefine them on \"%s\" itself first.", name)));
	}

	/* capture, back up, drop */
	types[0] = REGCLASSOID;
	args[0] = ObjectIdGetDatum(parent);
	definition = dedup_query_value("SELECT dedup._table_definition($1, true)::pg_catalog.text",
								   1, types, args);
	steps = dedup_query_column("SELECT dedup._partition_extras($1)", 1, types, args, NULL);
	cols = dedup_column_names(parent);
	bakid = dedup_backup_relation(parent, NULL);
	sql = lappend(sql, psprintf("SELECT dedup.backup_table(%s)", quote_literal_cstr(qual)));
	dedup_fingerprint_relation(bakid, cols, &want);
	plan = dedup_plan_drop(parent, true);
	drop_id = psprintf(INT64_FORMAT, dedup_execute_drop(plan, false));
	sql = lappend(sql, psprintf("SELECT dedup.drop_if_empty(%s, cascade => true)  -- rows kept in %s",
								quote_literal_cstr(qual), dedup_qualified_name(bakid)));
	types[0] = TEXTOID;

	/* the plain table: sequences and CREATE ... */
	args[0] = CStringGetTextDatum(definition);
	foreach(lc, dedup_query_column("SELECT pg_catalog.jsonb_array_elements_text("
								   "  ($1::pg_catalog.jsonb->'pre') OPERATOR(pg_catalog.||)"
								   "  pg_catalog.jsonb_build_array($1::pg_catalog.jsonb->>'create'))",
								   1, types, args, NULL))
		dedup_exec_logged(&sql, (char *) lfirst(lc));
	newid = dedup_lookup_relation(qual);

	/* ... its rows, before any trigger, index or constraint exists ... */
	initStringInfo(&ins);
	foreach(lc, cols)
	{
		char	   *c = (char *) lfirst(lc);

		if (get_attgenerated(newid, get_attnum(newid, c)) == '\0')
			appendStringInfo(&ins, "%s%s", ins.len ? ", " : "", quote_identifier(c));
	}
	dedup_exec_logged(&sql, psprintf("INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s",
									 qual, ins.data, ins.data, dedup_qualified_name(bakid)));

	/* ... then everything else of its definition, the partitions' own
	 * indexes and foreign keys, and what was dropped with it */
	foreach(lc, dedup_query_column("SELECT pg_catalog.jsonb_array_elements_text($1::pg_catalog.jsonb->'post')",
								   1, types, args, NULL))
		dedup_exec_logged(&sql, (char *) lfirst(lc));
	foreach(lc, steps)
		dedup_exec_logged(&sql, (char *) lfirst(lc));
	args[0] = CStringGetTextDatum(plan->definition);
	foreach(lc, dedup_query_column("SELECT s FROM pg_catalog.jsonb_array_elements($1::pg_catalog.jsonb->'dependents')"
								   "       WITH ORDINALITY AS x(d, n),"
								   "  pg_catalog.jsonb_array_elements_text(x.d->'create') WITH ORDINALITY AS y(s, m)"
								   " ORDER BY x.n, y.m", 1, types, args, NULL))
		dedup_exec_logged(&sql, (char *) lfirst(lc));

	/* every row, and nothing else */
	CommandCounterIncrement();
	dedup_fingerprint_relation(newid, cols, &have);
	if (!dedup_fp_equal(&want, &have))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("the rows of \"%s\" do not match its backup after unpartitioning", name),
				 errdetail("The backup holds " INT64_FORMAT " rows (fingerprint %s); the table holds " INT64_FORMAT " (fingerprint %s). Nothing was changed.",
						   want.rows, dedup_fp_hex(&want), have.rows, dedup_fp_hex(&have))));

	/* the standalone look-alikes: empty ones dropped, others merged in */
	foreach(lc, lookalikes)
	{
		Oid			other = (Oid) strtoul((char *) lfirst(lc), NULL, 10);
		char	   *otherq = dedup_qualified_name(other);
		DedupUnknown why;

		if (dedup_count_rows(other, AccessExclusiveLock, false, 1, false, &why) == 0)
		{
			(void) dedup_drop_relation(other, false, true);
			sql = lappend(sql, psprintf("SELECT dedup.drop_if_empty(%s)",
										quote_literal_cstr(otherq)));
		}
		else
		{
			int64		i,
						p,
						c;

			sql = lappend(sql, psprintf("SELECT dedup.merge_rows(%s, %s, drop_source => true)",
										quote_literal_cstr(otherq), quote_literal_cstr(qual)));
			dedup_merge(other, newid, NULL, true, &i, &p, &c);
		}
		absorbed = lappend(absorbed, otherq);
	}

	rows = pg_strtoint64(dedup_query_value(psprintf("SELECT pg_catalog.count(*) FROM %s", qual),
										   0, NULL, NULL));
	initStringInfo(&d);
	appendStringInfoChar(&d, '{');
	dedup_json_str(&d, "table", qual);
	dedup_json_str(&d, "backup", dedup_qualified_name(bakid));
	dedup_json_raw(&d, "drop_entry", drop_id);
	dedup_json_raw(&d, "partition_rows", psprintf(INT64_FORMAT, want.rows));
	dedup_json_raw(&d, "carried_from_partitions", dedup_json_array(steps));
	dedup_json_raw(&d, "absorbed", dedup_json_array(absorbed));
	dedup_json_raw(&d, "rows", psprintf(INT64_FORMAT, rows));
	dedup_json_raw(&d, "sql", dedup_json_array(sql));
	appendStringInfoChar(&d, '}');
	dedup_journal_write("unpartition", qual, d.data);
	return rows;
}

/*
 * dedup.unpartition(parent regclass, absorb boolean DEFAULT true) RETURNS bigint
 *
 *	 SELECT dedup.unpartition('mentorship_bookings');
 *
 * Returns the row count of the resulting plain table.
 */
Datum
dedup_unpartition(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile int64 result = 0;

	PG_TRY();
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "dedup: SPI_connect failed");
		result = unpartition_internal(PG_GETARG_OID(0), PG_GETARG_BOOL(1));
		SPI_finish();
	}
	PG_CATCH();
	{
		dedup_rethrow_unchanged(cxt);
	}
	PG_END_TRY();
	PG_RETURN_INT64(result);
}
