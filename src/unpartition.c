/*-------------------------------------------------------------------------
 *
 * unpartition.c
 *	  dedup.unpartition(): a partitioned table becomes one plain table of
 *	  the same name, every row and definition kept.
 *
 * One action, a short phase controller over an Unpartition:
 *
 *	 lock_and_check   ownership, then ACCESS EXCLUSIVE on the whole tree and
 *					  the sequences its columns use; everything after works
 *					  on the OID, read again under the lock (a rename while
 *					  we waited changes nothing)
 *	 back_up          a journaled backup of every row (a step)
 *	 replace          the tree dropped with its dependents (a journaled
 *					  step whose rows are in that backup); the plain table
 *					  created from the captured definition, owned by the
 *					  table's owner before anything runs on it; the rows put
 *					  in as the owner, before its triggers, indexes and
 *					  constraints return (those as the owner, inside a
 *					  security-restricted operation); the partitions' own
 *					  indexes and foreign keys; the dependents
 *	 prove            the rows, by fingerprint, against the backup
 *	 absorb           the standalone look-alikes of the table (its duplicate
 *					  group, the table owner's only, never a backup): empty
 *					  ones dropped, others merged and dropped when nothing
 *					  of them would be lost (each a step; one that cannot go
 *					  is kept, with a notice saying why)
 *
 * dedup.undo() of the journal entry puts the partitioned table back, with
 * its partitions, rows and dependents.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_class.h"
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

PG_FUNCTION_INFO_V1(dedup_unpartition);

typedef struct Unpartition
{
	Oid			parent;			/* the partitioned table, then the plain one */
	bool		absorb;
	char	   *qual;			/* its name, read under the lock */
	Oid			owner;
	List	   *lookalikes;		/* Oid */
	List	   *seqs;			/* DedupSequence * */
	List	   *cols;			/* char *: its columns */
	char	   *definition;		/* JSON: the table as one plain table */
	List	   *extras;			/* char *: the partitions' own indexes and foreign keys */
	Oid			backup;
	int64		backup_entry;
	int64		drop_entry;
	DedupFingerprint want;
	DedupRows	rows;
	List	   *absorbed;		/* char * */
	List	   *kept;			/* char * */
	List	   *sql;
} Unpartition;

/*
 * lock_and_check
 *		On entry nothing is locked.  On exit the tree and its sequences are
 *		locked ACCESS EXCLUSIVE and everything in u was read under the lock.
 */
static void
lock_and_check(Unpartition *u)
{
	HeapTuple	tup;
	bool		ispartition;
	List	   *blockers;
	ListCell   *lc;
	Oid			types[1] = {OIDOID};
	Datum		args[1] = {ObjectIdGetDatum(u->parent)};

	dedup_check_target(u->parent, "unpartition");
	/* the look-alikes, from discovery (which keeps no lock) */
	if (u->absorb)
		u->lookalikes = dedup_group_duplicates(u->parent);
	dedup_lock_tree(u->parent, AccessExclusiveLock);
	dedup_check_target(u->parent, "unpartition");
	u->qual = dedup_qualified_name(u->parent);
	u->owner = dedup_rel_owner(u->parent);

	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(u->parent));
	ispartition = ((Form_pg_class) GETSTRUCT(tup))->relispartition;
	ReleaseSysCache(tup);
	if (get_rel_relkind(u->parent) != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a partitioned table", get_rel_name(u->parent)),
				 errdetail("Nothing was changed.")));
	if (ispartition)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot unpartition \"%s\" because it is itself a partition", get_rel_name(u->parent)),
				 errdetail("Nothing was changed."),
				 errhint("Unpartition the top of the partition tree.")));
	foreach(lc, find_all_inheritors(u->parent, NoLock, NULL))
		if (get_rel_relkind(lfirst_oid(lc)) == RELKIND_FOREIGN_TABLE)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot unpartition \"%s\" because its partition \"%s\" is a foreign table",
							get_rel_name(u->parent), get_rel_name(lfirst_oid(lc))),
					 errdetail("Its rows live on another server; dedup cannot move and count them exactly. Nothing was changed.")));

	/* dependents of single partitions cannot come back */
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
				 errmsg("cannot unpartition \"%s\" because objects depend on its partitions", get_rel_name(u->parent)),
				 errdetail_internal("%sNothing was changed.", detail.data),
				 errhint("Drop or redefine them on \"%s\" itself first.", get_rel_name(u->parent))));
	}
	u->seqs = dedup_lock_sequences(u->parent);
	u->cols = dedup_column_names(u->parent);
}

/* back_up: every row, into a journaled backup (a step). */
static void
back_up(Unpartition *u)
{
	u->backup = dedup_backup_relation(u->parent, NULL, &u->backup_entry);
	if (u->backup_entry == 0)
		u->backup_entry = dedup_journal_backup_of(u->backup)->entry;
	dedup_fingerprint_relation(u->backup, u->cols, &u->want);
}

/*
 * replace
 *		On entry the tree is locked and backed up.  On exit the plain table
 *		has the tree's name, rows, definition and dependents, and u->parent
 *		is its OID.
 */
static void
replace(Unpartition *u)
{
	Oid			types[1] = {REGCLASSOID};
	Datum		args[1] = {ObjectIdGetDatum(u->parent)};
	DedupDropPlan *plan;
	StringInfoData ins;
	ListCell   *lc;
	List	   *steps;
	char	   *owner_name;

	/* read before the drop: the definition as one plain table, the partitions' extras */
	u->definition = dedup_query_value("SELECT dedup._table_definition($1, true)::pg_catalog.text",
									  1, types, args);
	u->extras = dedup_query_column("SELECT dedup._partition_extras($1)", 1, types, args, NULL);
	plan = dedup_plan_drop(u->parent, true);
	u->drop_entry = dedup_execute_drop(plan, false, u->backup_entry);
	u->sql = lappend(u->sql, psprintf("DROP TABLE %s  -- with its partitions and dependents, journaled", u->qual));

	/* the plain table: sequences, CREATE, owner; its rows; then the rest */
	types[0] = TEXTOID;
	args[0] = CStringGetTextDatum(u->definition);
	foreach(lc, dedup_query_column("SELECT s FROM pg_catalog.jsonb_array_elements_text("
								   "  ($1::pg_catalog.jsonb->'pre') OPERATOR(pg_catalog.||)"
								   "  pg_catalog.jsonb_build_array($1::pg_catalog.jsonb->>'create', $1::pg_catalog.jsonb->>'owner_sql')) s"
								   " WHERE s IS NOT NULL", 1, types, args, NULL))
		dedup_exec_logged(&u->sql, (char *) lfirst(lc));
	u->parent = dedup_lookup_relation(u->qual);
	if (!OidIsValid(u->parent))
		elog(ERROR, "dedup: could not create the plain table %s", u->qual);

	initStringInfo(&ins);
	foreach(lc, u->cols)
	{
		char	   *c = (char *) lfirst(lc);

		if (get_attgenerated(u->parent, get_attnum(u->parent, c)) == '\0')
			appendStringInfo(&ins, "%s%s", ins.len ? ", " : "", quote_identifier(c));
	}
	{
		char	   *stmt = psprintf("INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s",
									u->qual, ins.data, ins.data, dedup_qualified_name(u->backup));

		dedup_write_rows(stmt, u->owner, &u->rows);
		u->sql = lappend(u->sql, stmt);
	}

	/* constraints, indexes and the partitions' own ones run user code: as the owner */
	owner_name = GetUserNameFromId(u->owner, false);
	steps = NIL;
	foreach(lc, dedup_query_column("SELECT pg_catalog.jsonb_array_elements_text($1::pg_catalog.jsonb->'build')",
								   1, types, args, NULL))
		steps = lappend(steps, dedup_step((char *) lfirst(lc), owner_name));
	foreach(lc, dedup_query_column("SELECT pg_catalog.jsonb_array_elements_text($1::pg_catalog.jsonb->'post')",
								   1, types, args, NULL))
		steps = lappend(steps, dedup_step((char *) lfirst(lc), NULL));
	foreach(lc, u->extras)
		steps = lappend(steps, dedup_step((char *) lfirst(lc), owner_name));
	dedup_run_steps(0, steps, &u->sql);

	/* what depended on the tree */
	args[0] = CStringGetTextDatum(plan->definition);
	dedup_run_steps(0, dedup_query_rows("SELECT s.sql, s.run_as FROM dedup._undo_steps("
										"  pg_catalog.jsonb_build_object('dependents', $1::pg_catalog.jsonb->'dependents')) s",
										1, types, args), &u->sql);
}

/* prove: the plain table holds exactly the rows of the backup. */
static void
prove(Unpartition *u)
{
	DedupFingerprint have;

	CommandCounterIncrement();
	dedup_fingerprint_relation(u->parent, u->cols, &have);
	if (!dedup_fp_equal(&u->want, &have))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("the rows of \"%s\" do not match its backup after unpartitioning", get_rel_name(u->parent)),
				 errdetail("The backup holds " INT64_FORMAT " rows (fingerprint %s); the table holds " INT64_FORMAT " (fingerprint %s). Nothing was changed.",
						   u->want.rows, dedup_fp_hex(&u->want), have.rows, dedup_fp_hex(&have))));
	/* the recreated table's sequences, past every value it holds now */
	u->seqs = dedup_lock_sequences(u->parent);
	dedup_advance_sequences(u->seqs, u->owner, &u->sql);
}

/* A look-alike's way into the plain table, tried in a subtransaction. */
typedef struct Absorb
{
	Oid			table;
	Oid			into;
	bool		empty;
} Absorb;

static void
absorb_one(void *arg)
{
	Absorb	   *a = (Absorb *) arg;
	int64		i,
				p,
				c;

	if (a->empty)
	{
		if (dedup_drop_relation(a->table, false, true, 0) == 0)
			elog(ERROR, "dedup: \"%s\" is no longer empty", get_rel_name(a->table));
	}
	else
		dedup_merge(a->table, a->into, NULL, true, &i, &p, &c);
}

/*
 * absorb: the standalone look-alikes, each its own step.  Only tables of
 * the table's owner that are not backups; one that cannot go without
 * losing something is kept, with a notice.
 */
static void
absorb(Unpartition *u)
{
	ListCell   *lc;

	foreach(lc, u->lookalikes)
	{
		Absorb		a;
		char	   *why = NULL;
		char	   *q;
		DedupUnknown unknown;

		a.table = lfirst_oid(lc);
		a.into = u->parent;
		if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(a.table)))
			continue;
		q = dedup_qualified_name(a.table);
		if (dedup_rel_owner(a.table) != u->owner || dedup_journal_backup_of(a.table) != NULL ||
			dedup_named_like_backup(get_rel_name(a.table)))
			continue;
		a.empty = dedup_count_rows(a.table, AccessShareLock, false, 1, false, &unknown) == 0;
		if (dedup_try(absorb_one, &a, &why))
			u->absorbed = lappend(u->absorbed, q);
		else
		{
			u->kept = lappend(u->kept, psprintf("%s: %s", q, why));
			ereport(NOTICE,
					(errmsg("look-alike %s was kept", q),
					 errdetail("%s", why)));
		}
	}
}

/* unpartition as one journaled action: the phase controller. */
static int64
unpartition_internal(Oid parent, bool absorb_lookalikes)
{
	DedupAction *act = dedup_action_begin("unpartition");
	Unpartition u;
	StringInfoData d;
	int64		rows;

	memset(&u, 0, sizeof(u));
	u.parent = parent;
	u.absorb = absorb_lookalikes;

	lock_and_check(&u);
	back_up(&u);
	replace(&u);
	prove(&u);
	absorb(&u);

	rows = pg_strtoint64(dedup_query_value(psprintf("SELECT pg_catalog.count(*) FROM %s", u.qual),
										   0, NULL, NULL));
	dedup_action_touch(act, u.qual);
	initStringInfo(&d);
	appendStringInfoChar(&d, '{');
	dedup_json_str(&d, "table", u.qual);
	dedup_json_str(&d, "backup", dedup_qualified_name(u.backup));
	dedup_json_raw(&d, "backup_entry", psprintf(INT64_FORMAT, u.backup_entry));
	dedup_json_raw(&d, "drop_entry", psprintf(INT64_FORMAT, u.drop_entry));
	dedup_json_raw(&d, "partition_rows", psprintf(INT64_FORMAT, u.want.rows));
	dedup_json_raw(&d, "carried_from_partitions", dedup_json_array(u.extras));
	dedup_json_raw(&d, "absorbed", dedup_json_array(u.absorbed));
	dedup_json_raw(&d, "kept", dedup_json_array(u.kept));
	dedup_rows_json(&d, "rows", u.qual, &u.rows);
	dedup_json_raw(&d, "sequences", dedup_sequences_json(u.seqs));
	dedup_json_raw(&d, "sql", dedup_json_array(u.sql));
	appendStringInfoChar(&d, '}');
	(void) dedup_action_end(act, u.qual, d.data);
	return rows;
}

/*
 * Undo of an unpartition: the absorbed look-alikes come back first (their
 * steps); then, when the plain table's rows are still the ones unpartition
 * wrote, the plain table goes with the dependents it was given, and the
 * partitioned table comes back from the journaled drop with its rows from
 * the backup; the backup goes last.
 */
char *
dedup_undo_unpartition(int64 id, List **sql)
{
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(id)};
	List	   *r = dedup_journal_rows("SELECT j.detail->>'table', (j.detail->>'drop_entry'), NULL, NULL, NULL,"
									   "       j.detail->>'backup'"
									   "  FROM dedup.journal j WHERE j.id OPERATOR(pg_catalog.=) $1", 1, types, args);
	char	  **e = (char **) linitial(r);
	char	   *qual = e[0];
	int64		drop_entry = pg_strtoint64(e[1]);
	Oid			plain;
	char	   *cols;
	ListCell   *lc;

	/* the look-alikes it absorbed: the steps after the drop, last first */
	foreach(lc, dedup_journal_rows("SELECT c.id FROM dedup.journal c, dedup.journal j"
								   " WHERE j.id OPERATOR(pg_catalog.=) $1 AND c.parent OPERATOR(pg_catalog.=) j.id"
								   "   AND c.id OPERATOR(pg_catalog.>) (j.detail->>'drop_entry')::pg_catalog.int8"
								   " ORDER BY c.id DESC", 1, types, args))
		(void) dedup_undo_entry(pg_strtoint64(((char **) lfirst(lc))[0]), sql);

	plain = dedup_lookup_relation(qual);
	if (!OidIsValid(plain))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("cannot undo journal entry " INT64_FORMAT ": table %s no longer exists", id, qual),
				 errdetail("Nothing was changed.")));
	dedup_check_target(plain, "undo the unpartitioning of");
	dedup_lock_tree(plain, AccessExclusiveLock);
	cols = dedup_quoted_list(dedup_column_names(plain));
	if (dedup_rows_differ(psprintf("SELECT ROW(%s)::pg_catalog.text FROM %s", cols, qual),
						  psprintf("SELECT ROW(%s)::pg_catalog.text FROM %s", cols, e[5]),
						  dedup_rel_owner(plain)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot undo journal entry " INT64_FORMAT ": rows of %s were written since", id, qual),
				 errdetail("It no longer holds exactly the rows of its backup %s. Undoing would lose what was written since. Nothing was changed.", e[5]),
				 errhint("Restore from the journaled backup with dedup.restore_backup() instead.")));

	/* the plain table and what it was given of the tree's dependents */
	args[0] = Int64GetDatum(drop_entry);
	foreach(lc, dedup_journal_rows("SELECT d->>'drop', d->>'name', d->>'kind' FROM dedup.journal j,"
								   "       pg_catalog.jsonb_array_elements(j.detail->'dependents') WITH ORDINALITY t(d, n)"
								   " WHERE j.id OPERATOR(pg_catalog.=) $1 AND d->>'drop' IS NOT NULL"
								   " ORDER BY t.n DESC", 1, types, args))
	{
		char	  **dep = (char **) lfirst(lc);

		if (strcmp(dep[2], "view") != 0 && strcmp(dep[2], "materialized view") != 0)
			dedup_exec_logged(sql, dep[0]);
		else if (OidIsValid(dedup_lookup_relation(dep[1])))
			dedup_exec_logged(sql, dep[0]);
	}
	dedup_exec_logged(sql, psprintf("DROP TABLE %s", qual));

	/* the tree with its rows, then the backup */
	dedup_undo_children_upto(id, drop_entry, sql);
	return psprintf("recreated partitioned table %s", qual);
}

/* The body of dedup.unpartition() under dedup_call(). */
static void
unpartition_body(FunctionCallInfo fcinfo, MemoryContext cxt, void *result)
{
	*(int64 *) result = unpartition_internal(PG_GETARG_OID(0), PG_GETARG_BOOL(1));
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
	int64		result = 0;

	dedup_call(fcinfo, unpartition_body, &result);
	PG_RETURN_INT64(result);
}
