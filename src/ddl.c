/*-------------------------------------------------------------------------
 *
 * ddl.c
 *	  Checks every changing function makes on the table it is given, and
 *	  running SQL through SPI (so PostgreSQL's permission checks, dependency
 *	  tracking and event triggers apply to everything dedup does).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/catalog.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "tcop/dest.h"
#include "tcop/tcopprot.h"
#include "common/hashfn.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "compat.h"
#include "ddl.h"


/*
 * "schema.name" of any relation, quoted as needed, for statements, messages
 * and evidence phrases (independent of the caller's search_path).
 */
char *
dedup_qualified_name(Oid relid)
{
	char	   *rel = get_rel_name(relid);

	if (rel == NULL)
		return psprintf("relation %u", relid);
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), rel);
}

/*
 * Refuse what dedup never changes: a relation that is not a table, system
 * and extension-owned tables, other sessions' temporary tables, and tables
 * the caller does not own.  verb completes "cannot %s table".
 */
void
dedup_check_target(Oid relid, const char *verb)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Form_pg_class form;
	char	   *name;
	Oid			ext;

	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table with OID %u does not exist", relid),
				 errdetail("It may have been dropped by another transaction. Nothing was changed.")));
	form = (Form_pg_class) GETSTRUCT(tup);
	name = pstrdup(NameStr(form->relname));

	if (form->relkind != RELKIND_RELATION && form->relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", name),
				 errdetail("dedup only works on ordinary and partitioned tables. Nothing was changed.")));
	if (IsCatalogRelationOid(relid) || IsSystemClass(relid, form) ||
		form->relnamespace == PG_CATALOG_NAMESPACE ||
		strcmp(get_namespace_name(form->relnamespace), "information_schema") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot %s system table \"%s\"", verb, name),
				 errdetail("Nothing was changed.")));
	if (form->relpersistence == RELPERSISTENCE_TEMP &&
		!isTempOrTempToastNamespace(form->relnamespace))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot %s temporary table \"%s\" of another session", verb, name),
				 errdetail("Nothing was changed.")));
	ReleaseSysCache(tup);

	ext = getExtensionOfObject(RelationRelationId, relid);
	if (OidIsValid(ext))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot %s table \"%s\" because it belongs to extension \"%s\"",
						verb, name, get_extension_name(ext)),
				 errdetail("Nothing was changed."),
				 errhint("Tables of an extension are managed by the extension.")));
	if (!dedup_owns_relation(relid))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table \"%s\"", name),
				 errdetail("Only its owner, or a member of the owning role, may %s it through dedup. Nothing was changed.", verb)));
}

/*
 * For read-only functions that compare rows: the relation is a table the
 * caller may SELECT from (checked before any lock is taken, and again by
 * the caller after).
 */
void
dedup_check_readable(Oid relid)
{
	char		relkind = get_rel_relkind(relid);

	if (relkind == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table with OID %u does not exist", relid),
				 errdetail("It may have been dropped by another transaction.")));
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", get_rel_name(relid)),
				 errdetail("dedup only works on ordinary and partitioned tables.")));
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", get_rel_name(relid)),
				 errhint("Ask its owner for SELECT on it.")));
}

/* Is relid an inheritance parent or child (not a partition)? */
static bool
in_inheritance(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Form_pg_class form;
	bool		result;

	if (!HeapTupleIsValid(tup))
		return false;
	form = (Form_pg_class) GETSTRUCT(tup);
	result = (form->relkind == RELKIND_RELATION && form->relhassubclass) ||
		(!form->relispartition && has_superclass(relid));
	ReleaseSysCache(tup);
	return result;
}

/*
 * Refuse what a merge cannot do honestly: tables in an inheritance tree
 * (a parent's scan includes its children), tables whose rows cannot all be
 * read (foreign partitions), and tables whose policies apply to their owner
 * (FORCE ROW LEVEL SECURITY: dedup must see every row, never a subset).
 */
void
dedup_check_mergeable(Oid relid)
{
	char	   *name = get_rel_name(relid);
	ListCell   *lc;

	if (in_inheritance(relid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot merge table \"%s\" because it is part of an inheritance tree", name),
				 errdetail("A parent's rows include its children's, so rows would be counted twice. Nothing was changed."),
				 errhint("Detach it with ALTER TABLE ... NO INHERIT first.")));
	foreach(lc, find_all_inheritors(relid, NoLock, NULL))
	{
		HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(lfirst_oid(lc)));
		Form_pg_class form;

		if (!HeapTupleIsValid(tup))
			continue;
		form = (Form_pg_class) GETSTRUCT(tup);
		if (form->relkind == RELKIND_FOREIGN_TABLE)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot merge table \"%s\" because its partition \"%s\" is a foreign table",
							name, NameStr(form->relname)),
					 errdetail("dedup cannot read and count its rows exactly. Nothing was changed.")));
		if (form->relrowsecurity && form->relforcerowsecurity)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("cannot merge table \"%s\" because row level security is forced on \"%s\"",
							name, NameStr(form->relname)),
					 errdetail("Its policies apply to its owner, and dedup must read every row, never a filtered subset. Nothing was changed."),
					 errhint("In one transaction: ALTER TABLE %s NO FORCE ROW LEVEL SECURITY; run the merge; ALTER TABLE %s FORCE ROW LEVEL SECURITY;",
							 dedup_qualified_name(lfirst_oid(lc)), dedup_qualified_name(lfirst_oid(lc)))));
		ReleaseSysCache(tup);
	}
}

/* Both tables must have one owner: a merge runs as that owner.  Returns it. */
Oid
dedup_check_same_owner(Oid source, Oid keeper)
{
	Oid			sowner = dedup_rel_owner(source);
	Oid			kowner = dedup_rel_owner(keeper);

	if (sowner != kowner)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot merge \"%s\" into \"%s\" because they have different owners",
						get_rel_name(source), get_rel_name(keeper)),
				 errdetail("\"%s\" is owned by %s and \"%s\" by %s; a table of another role is never merged as a side effect. Nothing was changed.",
						   get_rel_name(source), GetUserNameFromId(sowner, false),
						   get_rel_name(keeper), GetUserNameFromId(kowner, false)),
				 errhint("If that is intended: ALTER TABLE %s OWNER TO %s;",
						 dedup_qualified_name(source), quote_identifier(GetUserNameFromId(kowner, false)))));
	return kowner;
}


/* The owner of a relation. */
Oid
dedup_rel_owner(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "dedup: cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/* Position of a string in a List of strings, or -1. */
int
list_position_str(List *list, const char *str)
{
	ListCell   *lc;

	foreach(lc, list)
		if (strcmp((char *) lfirst(lc), str) == 0)
			return foreach_current_index(lc);
	return -1;
}

/* "schema"."name" of a collation. */
char *
dedup_collation_name(Oid collid)
{
	HeapTuple	tup = SearchSysCache1(COLLOID, ObjectIdGetDatum(collid));
	Form_pg_collation form;
	char	   *name;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "dedup: cache lookup failed for collation %u", collid);
	form = (Form_pg_collation) GETSTRUCT(tup);
	name = quote_qualified_identifier(get_namespace_name(form->collnamespace), NameStr(form->collname));
	ReleaseSysCache(tup);
	return name;
}

/*
 * A name made of parts, "<a>_<b>_<suffix>" (b may be empty), that fits in
 * 63 bytes: when it would not, a's and b's text is cut on a character
 * boundary and a hash of the whole name keeps it unique.  Never a byte cut
 * in the middle of a character.
 */
char *
dedup_derived_name(const char *a, const char *b, const char *suffix)
{
	char	   *name = b[0] ? psprintf("%s_%s_%s", a, b, suffix) : psprintf("%s_%s", a, suffix);
	char	   *tail;
	char	   *head;
	int			keep;

	if (strlen(name) < NAMEDATALEN)
		return name;
	tail = psprintf("_%08x_%s", hash_bytes((const unsigned char *) name, strlen(name)), suffix);
	head = b[0] ? psprintf("%s_%s", a, b) : pstrdup(a);
	keep = pg_mbcliplen(head, strlen(head), NAMEDATALEN - 1 - strlen(tail));
	return psprintf("%.*s%s", keep, head, tail);
}

/* The OID of a relation named by a (quoted, qualified) name, or InvalidOid. */
Oid
dedup_lookup_relation(const char *qualname)
{
	Oid			types[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(qualname)};
	char	   *oid = dedup_query_value("SELECT pg_catalog.to_regclass($1)::pg_catalog.oid",
										1, types, args);

	return oid ? (Oid) strtoul(oid, NULL, 10) : InvalidOid;
}

/* Lock a table and its partition tree; name was read before any wait. */
static void
lock_tree_named(Oid relid, LOCKMODE mode, const char *name)
{
	LockRelationOid(relid, mode);
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 name ? errmsg("table \"%s\" was dropped by another transaction", name) :
				 errmsg("table with OID %u was dropped by another transaction", relid),
				 errdetail("Nothing was changed.")));
	if (has_subclass(relid))
		(void) find_all_inheritors(relid, mode, NULL);
}

/*
 * Lock a table and every partition or inheritance child, parents first.
 * A table dropped by the transaction we waited for is a clean error.
 */
void
dedup_lock_tree(Oid relid, LOCKMODE mode)
{
	lock_tree_named(relid, mode, get_rel_name(relid));
}

/*
 * Lock two tables (and their trees), each in its own mode, in OID order so
 * that two actions on the same pair wait for each other instead of
 * deadlocking.  Both names are read before the first wait.
 */
void
dedup_lock_pair(Oid a, LOCKMODE amode, Oid b, LOCKMODE bmode)
{
	char	   *aname = get_rel_name(a);
	char	   *bname = get_rel_name(b);

	if (a < b)
	{
		lock_tree_named(a, amode, aname);
		lock_tree_named(b, bmode, bname);
	}
	else
	{
		lock_tree_named(b, bmode, bname);
		lock_tree_named(a, amode, aname);
	}
}

/*
 * Run one statement through SPI (the caller is connected) with a snapshot
 * taken now.  Every read that decides what dedup copies, compares, counts
 * or drops happens after the locks it needs were granted; a caller's
 * REPEATABLE READ or SERIALIZABLE snapshot may predate rows committed
 * before that, so it is never used (the referential-integrity triggers do
 * the same).  Returns the SPI result code; errors propagate.
 */
/*
 * dedup's own SQL calls its functions by name (dedup._x(...)).  A function
 * planted in schema dedup with more specific argument types would be
 * called instead, with the caller's rights: so once per transaction, before
 * the first statement, check that every function there belongs to the
 * extension dedup (not merely to an extension: a role that owns a trusted
 * extension may add its own function to it) and that no one but the
 * schema's owner may create one.
 */
static void
check_own_schema(void)
{
	static LocalTransactionId checked = InvalidLocalTransactionId;
	int			rc;

	if (checked == dedup_my_lxid())
		return;
	rc = SPI_execute("SELECT pg_catalog.format('function %s%s', p.oid::pg_catalog.regprocedure,"
					 "         (SELECT ' of extension ' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(e.extname)"
					 "            FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_extension e ON e.oid OPERATOR(pg_catalog.=) d.refobjid"
					 "           WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass"
					 "             AND d.objid OPERATOR(pg_catalog.=) p.oid AND d.deptype OPERATOR(pg_catalog.=) 'e'"
					 "             AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass))"
					 "  FROM pg_catalog.pg_proc p"
					 " WHERE p.pronamespace OPERATOR(pg_catalog.=) 'dedup'::pg_catalog.regnamespace"
					 "   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d"
					 "        WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass"
					 "          AND d.objid OPERATOR(pg_catalog.=) p.oid AND d.deptype OPERATOR(pg_catalog.=) 'e'"
					 "          AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass"
					 "          AND d.refobjid OPERATOR(pg_catalog.=) (SELECT e.oid FROM pg_catalog.pg_extension e"
					 "                                                   WHERE e.extname OPERATOR(pg_catalog.=) 'dedup'))"
					 " UNION ALL "
					 "SELECT pg_catalog.format('CREATE granted to %s',"
					 "         CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE a.grantee::pg_catalog.regrole::pg_catalog.text END)"
					 "  FROM pg_catalog.pg_namespace n, pg_catalog.aclexplode(n.nspacl) a"
					 " WHERE n.oid OPERATOR(pg_catalog.=) 'dedup'::pg_catalog.regnamespace"
					 "   AND a.privilege_type OPERATOR(pg_catalog.=) 'CREATE' AND a.grantee OPERATOR(pg_catalog.<>) n.nspowner"
					 " LIMIT 1", true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "dedup: could not check schema dedup: %s", SPI_result_code_string(rc));
	if (SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("schema dedup is not dedup's alone: %s",
						SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1)),
				 errdetail("dedup calls its own functions by name; another role's function there could run in their place. Nothing was changed."),
				 errhint("Drop what is not part of the extension from schema dedup and revoke CREATE on it from everyone but its owner.")));
	checked = dedup_my_lxid();
}

static int
spi_run(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls,
		long tcount)
{
	SPIPlanPtr	plan;
	int			rc;

	check_own_schema();

	/* reads may use parallel workers (the planner never gives them writes) */
	plan = SPI_prepare_cursor(sql, nargs, types, CURSOR_OPT_PARALLEL_OK);
	if (plan == NULL)
		elog(ERROR, "dedup: could not prepare \"%s\": %s", sql,
			 SPI_result_code_string(SPI_result));
	rc = SPI_execute_snapshot(plan, values, nulls, GetLatestSnapshot(), InvalidSnapshot,
							  false, true, tcount);
	SPI_freeplan(plan);
	if (rc < 0)
		elog(ERROR, "dedup: could not run \"%s\": %s", sql, SPI_result_code_string(rc));
	return rc;
}

/*
 * Run one statement that writes rows as role as, planned as the caller:
 * names are looked up (and schema dedup's functions found) with the
 * caller's rights, while every table and function is checked against, and
 * every trigger, default and constraint runs as, role as, inside a
 * security-restricted operation.  The plan is executed at once, never
 * cached, so it is never parsed again under role as (which may have no
 * right to use schema dedup).  Reads with a snapshot taken now.  Returns
 * the number of rows written.
 */
int64
dedup_exec_as(const char *sql, Oid as)
{
	List	   *raw;
	List	   *queries;
	PlannedStmt *plan;
	QueryDesc  *qd;
	Snapshot	snap;
	DedupAs		saved;
	int64		n;

	check_own_schema();
	raw = pg_parse_query(sql);
	if (list_length(raw) != 1)
		elog(ERROR, "dedup: expected one statement: %s", sql);
	queries = pg_analyze_and_rewrite_fixedparams(linitial_node(RawStmt, raw), sql, NULL, 0, NULL);
	if (list_length(queries) != 1)
		elog(ERROR, "dedup: a statement rewritten into several cannot be run this way: %s", sql);
	CommandCounterIncrement();
	dedup_become(as, &saved);
	/* planning folds the tables' index expressions: the owner's code */
	plan = pg_plan_query(linitial_node(Query, queries), sql, 0, NULL);
	snap = GetLatestSnapshot();
	PushActiveSnapshot(snap);
	UpdateActiveSnapshotCommandId();
	qd = CreateQueryDesc(plan, sql, GetActiveSnapshot(), InvalidSnapshot, None_Receiver, NULL, NULL, 0);
	ExecutorStart(qd, 0);
	ExecutorRun(qd, ForwardScanDirection, 0, true);
	n = (int64) qd->estate->es_processed;
	ExecutorFinish(qd);
	ExecutorEnd(qd);
	FreeQueryDesc(qd);
	PopActiveSnapshot();
	dedup_unbecome(&saved);
	CommandCounterIncrement();
	return n;
}

/* Run one statement; returns the number of rows it processed. */
int64
dedup_exec(const char *sql)
{
	(void) spi_run(sql, 0, NULL, NULL, NULL, 0);
	return (int64) SPI_processed;
}

/* "a, b, c": a List of names as quoted identifiers, comma-separated. */
char *
dedup_quoted_list(List *names)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, names)
		appendStringInfo(&buf, "%s%s", buf.len ? ", " : "", quote_identifier((char *) lfirst(lc)));
	return buf.data;
}

/* "p.a, p.b": a List of names as quoted identifiers with a prefix. */
char *
dedup_quoted_list_prefixed(List *names, const char *prefix)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, names)
		appendStringInfo(&buf, "%s%s%s", buf.len ? ", " : "", prefix,
						 quote_identifier((char *) lfirst(lc)));
	return buf.data;
}

/* Run one statement and append it to *log, the SQL a journal row records. */
void
dedup_exec_logged(List **log, const char *sql)
{
	dedup_exec(sql);
	*log = lappend(*log, pstrdup(sql));
}

/* First column of the first row as text (NULL if no row or null). */
char *
dedup_query_value_nulls(const char *sql, int nargs, Oid *types, Datum *values,
						const char *nulls)
{
	(void) spi_run(sql, nargs, types, values, nulls, 0);
	if (SPI_processed == 0 || SPI_tuptable == NULL)
		return NULL;
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

char *
dedup_query_value(const char *sql, int nargs, Oid *types, Datum *values)
{
	return dedup_query_value_nulls(sql, nargs, types, values, NULL);
}

/*
 * First column of every row, as a List of strings (null values skipped).
 * nulls marks null parameters as SPI_execute_with_args does (NULL: none).
 */
List *
dedup_query_column(const char *sql, int nargs, Oid *types, Datum *values,
				   const char *nulls)
{
	List	   *out = NIL;
	uint64		i;

	(void) spi_run(sql, nargs, types, values, nulls, 0);
	for (i = 0; SPI_tuptable != NULL && i < SPI_processed; i++)
	{
		char	   *v = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);

		if (v)
			out = lappend(out, v);
	}
	return out;
}

/*
 * Every row, as an array of its columns' text values (NULL for a null), so
 * that no value ever has to be packed into and split out of one string.
 */
List *
dedup_query_rows(const char *sql, int nargs, Oid *types, Datum *values)
{
	List	   *out = NIL;
	uint64		i;
	int			j;

	(void) spi_run(sql, nargs, types, values, NULL, 0);
	for (i = 0; SPI_tuptable != NULL && i < SPI_processed; i++)
	{
		char	  **row = palloc(sizeof(char *) * SPI_tuptable->tupdesc->natts);

		for (j = 0; j < SPI_tuptable->tupdesc->natts; j++)
			row[j] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, j + 1);
		out = lappend(out, row);
	}
	return out;
}

/*
 * The statement that sets the privileges of relation qualname (quoted and
 * qualified) to acl (an aclitem[] in text form; NULL: the owner's default
 * privileges), kind TABLE or SEQUENCE.  Every argument is cast to the exact
 * type of dedup._set_acl, so no other function of that name can be chosen
 * over it, not even an overload planted in schema dedup (with an untyped
 * NULL or 'TABLE', one taking text would win).
 */
char *
dedup_set_acl_sql(const char *qualname, const char *acl, const char *kind)
{
	return psprintf("SELECT dedup._set_acl(%s::pg_catalog.regclass, %s::pg_catalog.aclitem[], %s::pg_catalog.text)",
					quote_literal_cstr(qualname), acl ? quote_literal_cstr(acl) : "NULL",
					quote_literal_cstr(kind));
}

/*
 * dedup_query_rows() of a read, planned and run as role as: the owner of
 * the tables it reads.  Planning a read of a table folds its index
 * expressions and predicates, and reading a view runs its functions: the
 * owner's code, which must never run as the caller.  Inside a
 * security-restricted operation, with search_path pinned and row level
 * security off; the owner is not subject to its own FORCE ROW LEVEL
 * SECURITY here (as in PostgreSQL's own foreign key checks), so it reads
 * every row or fails.  The caller checks first that it may read every row
 * itself (dedup_may_read_all); an error is cleaned up by the (sub)transaction
 * abort.
 */
List *
dedup_query_rows_as(const char *sql, Oid as, int nargs, Oid *types, Datum *values)
{
	DedupAs		saved;
	List	   *rows;
	Oid			userid;
	int			sec;

	dedup_become(as, &saved);
	GetUserIdAndSecContext(&userid, &sec);
	SetUserIdAndSecContext(userid, sec | SECURITY_NOFORCE_RLS);
	rows = dedup_query_rows(sql, nargs, types, values);
	dedup_unbecome(&saved);
	return rows;
}

/* May the caller SELECT every column of relid (on the table, or column by column)? */
static bool
may_select_all(Oid relid)
{
	return pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK ||
		pg_attribute_aclcheck_all(relid, GetUserId(), ACL_SELECT, ACLMASK_ALL) == ACLCHECK_OK;
}

/*
 * May the caller read every row of relid: SELECT on it (or on all its
 * columns), and no row level security that applies to it.
 */
bool
dedup_may_read_all(Oid relid)
{
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
		return false;
	return may_select_all(relid) && check_enable_rls(relid, InvalidOid, true) != RLS_ENABLED;
}

/*
 * Raise what a read of relid as the caller would raise when the caller may
 * not read every row of it (before it is read as its owner instead).
 */
void
dedup_require_read_all(Oid relid)
{
	if (!may_select_all(relid))
		aclcheck_error(ACLCHECK_NO_PRIV, get_relkind_objtype(get_rel_relkind(relid)), get_rel_name(relid));
	if (check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("query would be affected by row-level security policy for table \"%s\"",
						get_rel_name(relid)),
				 errhint("dedup reads every row or none: it needs a role that row level security does not apply to.")));
}
