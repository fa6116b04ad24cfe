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
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "compat.h"
#include "ddl.h"

PG_FUNCTION_INFO_V1(dedup_set_acl);

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
static int
spi_run(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls,
		long tcount)
{
	SPIPlanPtr	plan;
	int			rc;

	plan = SPI_prepare(sql, nargs, types);
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

void
dedup_exec(const char *sql)
{
	(void) spi_run(sql, 0, NULL, NULL, NULL, 0);
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
	if (SPI_processed == 0)
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
	for (i = 0; i < SPI_processed; i++)
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
	for (i = 0; i < SPI_processed; i++)
	{
		char	  **row = palloc(sizeof(char *) * SPI_tuptable->tupdesc->natts);

		for (j = 0; j < SPI_tuptable->tupdesc->natts; j++)
			row[j] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, j + 1);
		out = lappend(out, row);
	}
	return out;
}

/*
 * dedup._set_acl(rel regclass, acl aclitem[], kind text) RETURNS void
 *
 * Sets the privileges of rel to exactly acl (NULL: the owner's default
 * privileges only), with REVOKE and GRANT through SPI, whatever default
 * privileges a newly created relation received.  kind is TABLE or SEQUENCE.
 */
Datum
dedup_set_acl(PG_FUNCTION_ARGS)
{
	Oid			types[3] = {REGCLASSOID, ACLITEMARRAYOID, TEXTOID};
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};
	List	   *stmts;
	ListCell   *lc;
	const char *kind;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(2))
		PG_RETURN_VOID();
	kind = text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (strcmp(kind, "TABLE") != 0 && strcmp(kind, "SEQUENCE") != 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("kind must be TABLE or SEQUENCE, not \"%s\"", kind)));
	values[0] = PG_GETARG_DATUM(0);
	values[1] = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
	nulls[1] = PG_ARGISNULL(1) ? 'n' : ' ';
	values[2] = PG_GETARG_DATUM(2);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "dedup: SPI_connect failed");

	/* revoke everything anyone holds now ... */
	stmts = dedup_query_column(
		"SELECT pg_catalog.format('REVOKE ALL ON %s %s FROM %s', $3, $1,"
		"         CASE a.grantee WHEN 0 THEN 'PUBLIC'"
		"              ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END)"
		"  FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a"
		" WHERE c.oid OPERATOR(pg_catalog.=) $1"
		" GROUP BY a.grantee ORDER BY a.grantee",
		3, types, values, nulls);

	/* ... then grant exactly what acl says, in its order */
	stmts = list_concat(stmts, dedup_query_column(
		"SELECT pg_catalog.format('GRANT %s ON %s %s TO %s%s',"
		"         pg_catalog.string_agg(a.privilege_type, ', ' ORDER BY a.privilege_type), $3, $1,"
		"         CASE a.grantee WHEN 0 THEN 'PUBLIC'"
		"              ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END,"
		"         CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)"
		"  FROM pg_catalog.aclexplode(COALESCE($2, pg_catalog.acldefault("
		"         CASE $3 WHEN 'SEQUENCE' THEN 's'::\"char\" ELSE 'r'::\"char\" END,"
		"         (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) $1))))"
		"       WITH ORDINALITY AS a(grantor, grantee, privilege_type, is_grantable, n)"
		" GROUP BY a.grantee, a.is_grantable ORDER BY pg_catalog.min(a.n)",
		3, types, values, nulls));

	foreach(lc, stmts)
		dedup_exec((char *) lfirst(lc));
	SPI_finish();
	PG_RETURN_VOID();
}
