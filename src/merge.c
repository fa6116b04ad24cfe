/*-------------------------------------------------------------------------
 *
 * merge.c
 *	  dedup.missing_rows(): which rows of a look-alike the keeper lacks.
 *	  dedup.merge_rows(): insert them, overwrite nothing, drop the source
 *	  only when nothing of it would be lost.
 *
 * Rows are matched on a key: the columns given (they must be those of a
 * unique index of the keeper), else the keeper's primary key, else its
 * first unique index over NOT NULL columns; keys compare with the key
 * type's own equality, as the keeper's index does.  Columns are matched by
 * name and only when their type, type modifier and collation are the same:
 * a value is never cast.  A row is "already present" only when the keeper
 * holds the same stored values (pg_catalog.record_image_eq: 1.0 is not
 * 1.00, 'ABC' is not 'abc' whatever the type's "=" says); a row whose key
 * the keeper holds with other values is a conflict.
 *
 * merge_rows runs as one action:
 *	 1. check ownership (the caller must own both tables, and they must
 *		have one owner) before taking any lock, then lock both in OID order
 *		(source SHARE, or ACCESS EXCLUSIVE when it will be dropped; keeper
 *		SHARE ROW EXCLUSIVE) and the sequences that feed the keeper, and
 *		check again;
 *	 2. read everything with a snapshot taken after the locks, with row
 *		level security off (a table whose policies would apply to us is an
 *		error, never a filtered subset);
 *	 3. refuse if a role could read or write through the keeper rows or
 *		columns of the source it could not before;
 *	 4. insert the missing rows as the keeper's owner, inside a security
 *		restricted operation (its triggers, defaults and constraints run as
 *		they would for the owner); advance every sequence that feeds a
 *		keeper column past the values now in it;
 *	 5. with drop_source, prove every source row and value is in the
 *		keeper, back the source up and drop it (both journaled as steps).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"
#include "utils/typcache.h"

#include "compat.h"
#include "dedup.h"
#include "ddl.h"

PG_FUNCTION_INFO_V1(dedup_missing_rows);
PG_FUNCTION_INFO_V1(dedup_merge_rows);
PG_FUNCTION_INFO_V1(dedup_same_values);
PG_FUNCTION_INFO_V1(dedup_merge_row);

/* What dedup._merge_row() saw of the rows whose key the keeper holds. */
static int64 tally_present = 0;
static int64 tally_conflicts = 0;

#define FETCH_BATCH 1000

typedef struct MergeColumn
{
	char	   *name;
	bool		generated;		/* computed by the keeper: compared, not inserted */
} MergeColumn;

typedef struct MergePlan
{
	Oid			source;
	Oid			keeper;
	Oid			owner;			/* of both */
	char	   *sq;				/* quoted qualified names */
	char	   *kq;
	List	   *key;			/* char *: the key columns */
	List	   *shared;			/* MergeColumn *: every column both have */
	List	   *extra;			/* char *: source columns the keeper lacks */
	char	   *keymatch;		/* k.key = s.key AND ... */
	char	   *same;			/* the keeper holds the same stored values */
	char	   *same_owner;		/* the same, with pg_catalog only (run as the owner) */
	char	   *inscols;		/* the columns inserted */
	char	   *selcols;		/* s.<the columns inserted> */
} MergePlan;

/* The result of one merge, as merge_rows reports it. */
typedef struct MergeResult
{
	int64		inserted;
	int64		present;
	int64		conflicts;
} MergeResult;

/* Pairs of values compared by one call of dedup._same_values() (FUNC_MAX_ARGS is 100). */
#define SAME_VALUES_PAIRS 48

/*
 * dedup._same_values(VARIADIC "any") RETURNS boolean
 *
 * True when each pair of arguments (1 and 2, 3 and 4, ...) holds the same
 * stored value, or both are null: pg_catalog.record_image_eq() of the two
 * rows, without forming them.  Both of a pair have the same type (merge
 * compares only such columns); a pair of different types is an error.
 */
Datum
dedup_same_values(PG_FUNCTION_ARGS)
{
	int			nargs = PG_NARGS();
	int16	   *lens = (int16 *) fcinfo->flinfo->fn_extra;
	bool	   *byvals;

	if (nargs % 2 != 0 || get_fn_expr_variadic(fcinfo->flinfo))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dedup._same_values() takes pairs of values")));
	if (lens == NULL)
	{
		lens = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, nargs * (sizeof(int16) + sizeof(bool)));
		byvals = (bool *) (lens + nargs);
		for (int i = 0; i < nargs; i += 2)
		{
			Oid			t1 = get_fn_expr_argtype(fcinfo->flinfo, i);
			Oid			t2 = get_fn_expr_argtype(fcinfo->flinfo, i + 1);

			if (!OidIsValid(t1) || t1 != t2)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("dedup._same_values() compares values of one type, not %s and %s",
								format_type_be(t1), format_type_be(t2))));
			get_typlenbyval(t1, &lens[i], &byvals[i]);
		}
		fcinfo->flinfo->fn_extra = lens;
	}
	byvals = (bool *) (lens + nargs);
	for (int i = 0; i < nargs; i += 2)
	{
		bool		n1 = PG_ARGISNULL(i);
		bool		n2 = PG_ARGISNULL(i + 1);

		if (n1 || n2)
		{
			if (n1 != n2)
				PG_RETURN_BOOL(false);
			continue;
		}
		if (!datum_image_eq(PG_GETARG_DATUM(i), PG_GETARG_DATUM(i + 1), byvals[i], lens[i]))
			PG_RETURN_BOOL(false);
	}
	PG_RETURN_BOOL(true);
}

/*
 * dedup._merge_row(found boolean, same boolean) RETURNS boolean
 *
 * The filter of merge_rows' one INSERT ... SELECT over source LEFT JOIN
 * keeper: true (insert it) for a source row whose key the keeper lacks;
 * for the others false, counting them as already present (same: the
 * keeper holds the same stored values) or in conflict.  One pass both
 * decides and counts.
 */
Datum
dedup_merge_row(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0) || !PG_GETARG_BOOL(0))
		PG_RETURN_BOOL(true);
	if (!PG_ARGISNULL(1) && PG_GETARG_BOOL(1))
		tally_present++;
	else
		tally_conflicts++;
	PG_RETURN_BOOL(false);
}

/* "NAME" of the equality operator of a type, qualified: OPERATOR(s.=). */
char *
dedup_equality_operator(Oid typid, const char *column)
{
	TypeCacheEntry *tce = lookup_type_cache(typid, TYPECACHE_EQ_OPR);
	HeapTuple	tup;
	char	   *op;

	if (!OidIsValid(tce->eq_opr) ||
		!HeapTupleIsValid(tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(tce->eq_opr))))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("key column \"%s\" has type %s, which has no equality operator",
						column, format_type_be(typid)),
				 errdetail("Rows cannot be matched on it. Nothing was changed."),
				 errhint("Pass another key: key => ARRAY['id']::name[].")));
	op = psprintf("OPERATOR(%s.%s)",
				  quote_identifier(get_namespace_name(((Form_pg_operator) GETSTRUCT(tup))->oprnamespace)),
				  NameStr(((Form_pg_operator) GETSTRUCT(tup))->oprname));
	ReleaseSysCache(tup);
	return op;
}

/*
 * The key: the columns given, which must be exactly the key columns of a
 * valid, non-partial unique index of the keeper (so that at most one
 * keeper row matches a source row); else the primary key; else the first
 * unique index (by name) over NOT NULL plain columns.
 */
static List *
resolve_key(Oid keeper, ArrayType *given)
{
	Oid			types[2] = {OIDOID, NAMEARRAYOID};
	Datum		args[2];
	char		nulls[2] = {' ', ' '};
	List	   *key;

	args[0] = ObjectIdGetDatum(keeper);
	args[1] = PointerGetDatum(given);
	nulls[1] = given ? ' ' : 'n';
	if (given && ArrayGetNItems(ARR_NDIM(given), ARR_DIMS(given)) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("key must name at least one column"),
				 errdetail("Nothing was changed.")));
	key = dedup_query_column(
		"WITH u AS ("
		"  SELECT c.relname, i.indisprimary, a.attname, a.attnotnull, x.n"
		"    FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.indexrelid"
		"   CROSS JOIN LATERAL pg_catalog.unnest(i.indkey::pg_catalog.int2[]) WITH ORDINALITY AS x(attnum, n)"
		"    JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid"
		"                                 AND a.attnum OPERATOR(pg_catalog.=) x.attnum"
		"   WHERE i.indrelid OPERATOR(pg_catalog.=) $1 AND i.indisunique AND i.indisvalid AND i.indimmediate"
		"     AND i.indpred IS NULL AND i.indexprs IS NULL"
		"     AND x.n OPERATOR(pg_catalog.<=) i.indnkeyatts),"
		" best AS (SELECT relname FROM u GROUP BY relname"
		"           HAVING CASE WHEN $2 IS NULL THEN pg_catalog.bool_and(attnotnull)"
		"                       ELSE pg_catalog.array_agg(attname::pg_catalog.text ORDER BY attname)"
		"                            OPERATOR(pg_catalog.=) (SELECT pg_catalog.array_agg(g::pg_catalog.text ORDER BY g)"
		"                                                      FROM pg_catalog.unnest($2) g) END"
		"           ORDER BY pg_catalog.bool_or(indisprimary) DESC, relname LIMIT 1)"
		"SELECT u.attname FROM u JOIN best USING (relname) ORDER BY u.n", 2, types, args, nulls);
	if (key == NIL && given)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_COLUMN_REFERENCE),
				 errmsg("no unique index of table \"%s\" has exactly the key columns given", get_rel_name(keeper)),
				 errdetail("A key must identify at most one row of the keeper, so that a row is never counted or merged twice. Nothing was changed."),
				 errhint("Create a unique index on those columns first, or leave key out to use the primary key.")));
	if (key == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("table \"%s\" has no primary key or unique index over NOT NULL columns",
						get_rel_name(keeper)),
				 errdetail("Rows cannot be matched without a key. Nothing was changed."),
				 errhint("Add a primary key to \"%s\", or pass the columns of a unique index: key => ARRAY['id']::name[].",
						 get_rel_name(keeper))));
	return key;
}

/* Text of a column's generation expression, or NULL. */
static char *
generation_expr(Oid relid, AttrNumber attnum)
{
	Oid			types[2] = {OIDOID, INT2OID};
	Datum		args[2] = {ObjectIdGetDatum(relid), Int16GetDatum(attnum)};

	return dedup_query_value("SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid) FROM pg_catalog.pg_attrdef d"
							 " WHERE d.adrelid OPERATOR(pg_catalog.=) $1 AND d.adnum OPERATOR(pg_catalog.=) $2",
							 2, types, args);
}

/*
 * Build the comparison plan.  The caller holds locks on both tables.
 */
static MergePlan *
plan_merge(Oid source, Oid keeper, ArrayType *given_key)
{
	MergePlan  *p = palloc0(sizeof(MergePlan));
	StringInfoData keymatch,
				krow,
				srow,
				pairs,
				ins,
				sel;
	int			npairs = 0;
	ListCell   *lc;
	Relation	srel,
				krel;
	TupleDesc	sdesc,
				kdesc;
	int			i;

	p->source = source;
	p->keeper = keeper;
	p->sq = dedup_qualified_name(source);
	p->kq = dedup_qualified_name(keeper);
	p->key = resolve_key(keeper, given_key);

	srel = relation_open(source, NoLock);
	krel = relation_open(keeper, NoLock);
	sdesc = RelationGetDescr(srel);
	kdesc = RelationGetDescr(krel);
	initStringInfo(&krow);
	initStringInfo(&srow);
	initStringInfo(&pairs);
	initStringInfo(&ins);
	initStringInfo(&sel);
	for (i = 0; i < sdesc->natts; i++)
	{
		Form_pg_attribute sa = TupleDescAttr(sdesc, i);
		Form_pg_attribute ka;
		AttrNumber	kn;
		MergeColumn *c;
		const char *q;

		if (sa->attisdropped)
			continue;
		kn = get_attnum(keeper, NameStr(sa->attname));
		if (kn == InvalidAttrNumber)
		{
			p->extra = lappend(p->extra, pstrdup(NameStr(sa->attname)));
			continue;
		}
		ka = TupleDescAttr(kdesc, kn - 1);
		if (sa->atttypid != ka->atttypid || sa->atttypmod != ka->atttypmod)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" is %s in \"%s\" but %s in \"%s\"", NameStr(sa->attname),
							format_type_with_typemod(sa->atttypid, sa->atttypmod), get_rel_name(source),
							format_type_with_typemod(ka->atttypid, ka->atttypmod), get_rel_name(keeper)),
					 errdetail("Values are compared and copied only between columns of the same type, modifier and collation: a cast could change them. Nothing was changed."),
					 errhint("Change the column of one of them first, or merge by hand.")));
		if (sa->attcollation != ka->attcollation)
			ereport(ERROR,
					(errcode(ERRCODE_COLLATION_MISMATCH),
					 errmsg("column \"%s\" has collation %s in \"%s\" but %s in \"%s\"", NameStr(sa->attname),
							OidIsValid(sa->attcollation) ? dedup_collation_name(sa->attcollation) : "none",
							get_rel_name(source),
							OidIsValid(ka->attcollation) ? dedup_collation_name(ka->attcollation) : "none",
							get_rel_name(keeper)),
					 errdetail("Values that one collation calls equal may differ in the other. Nothing was changed."),
					 errhint("Change the column of one of them first, or merge by hand.")));
		c = palloc0(sizeof(MergeColumn));
		c->name = pstrdup(NameStr(sa->attname));
		c->generated = ka->attgenerated != '\0';
		if (c->generated)
		{
			char	   *kexpr = generation_expr(keeper, kn);
			char	   *sexpr = sa->attgenerated ? generation_expr(source, sa->attnum) : NULL;

			if (sexpr == NULL || kexpr == NULL || strcmp(sexpr, kexpr) != 0)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("column \"%s\" is generated in \"%s\" but not the same way in \"%s\"",
								c->name, get_rel_name(keeper), get_rel_name(source)),
						 errdetail("Rows inserted into \"%s\" would have it computed, not copied, and the values of \"%s\" would be lost. Nothing was changed.",
								   get_rel_name(keeper), get_rel_name(source)),
						 errhint("Compare the column with dedup.compare_tables() and merge by hand.")));
		}
		q = quote_identifier(c->name);
		appendStringInfo(&krow, "%sk.%s", krow.len ? ", " : "", q);
		appendStringInfo(&srow, "%ss.%s", srow.len ? ", " : "", q);
		/* dedup._same_values takes at most SAME_VALUES_PAIRS pairs a call */
		if (npairs % SAME_VALUES_PAIRS == 0)
			appendStringInfo(&pairs, "%sdedup._same_values(", npairs ? ") AND " : "");
		else
			appendStringInfoString(&pairs, ", ");
		appendStringInfo(&pairs, "k.%s, s.%s", q, q);
		npairs++;
		if (!c->generated)
		{
			appendStringInfo(&ins, "%s%s", ins.len ? ", " : "", q);
			appendStringInfo(&sel, "%ss.%s", sel.len ? ", " : "", q);
		}
		p->shared = lappend(p->shared, c);
	}

	initStringInfo(&keymatch);
	foreach(lc, p->key)
	{
		char	   *name = (char *) lfirst(lc);
		AttrNumber	sn = get_attnum(source, name);
		const char *q = quote_identifier(name);

		if (sn == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("key column \"%s\" of \"%s\" is not in \"%s\"", name,
							get_rel_name(keeper), get_rel_name(source)),
					 errdetail("Rows cannot be matched without it. Nothing was changed."),
					 errhint("Pass the key to match on: key => ARRAY['id']::name[].")));
		appendStringInfo(&keymatch, "%sk.%s %s s.%s", keymatch.len ? " AND " : "", q,
						 dedup_equality_operator(TupleDescAttr(sdesc, sn - 1)->atttypid, name), q);
	}
	relation_close(srel, NoLock);
	relation_close(krel, NoLock);

	p->keymatch = keymatch.data;
	p->same = npairs ? psprintf("(%s))", pairs.data) : "true";
	p->same_owner = psprintf("pg_catalog.record_image_eq(ROW(%s), ROW(%s))", krow.data, srow.data);
	p->inscols = ins.data;
	p->selcols = sel.data;
	return p;
}

/*
 * The columns rows of keeper are matched on when no key is given (the
 * primary key, else the first unique index over NOT NULL columns), or an
 * error saying there is none.
 */
List *
dedup_merge_key(Oid keeper)
{
	return resolve_key(keeper, NULL);
}

/*
 * Lock, check, plan: what missing_rows and merge_rows share.  Privileges
 * are checked before any lock is taken, so that no one can lock what they
 * could not read (missing_rows) or change (merge_rows), and again after.
 */
static MergePlan *
prepare_merge(Oid source, Oid keeper, ArrayType *given_key, bool changing, bool drop_source)
{
	if (source == keeper)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source and keeper are the same table \"%s\"", get_rel_name(source)),
				 errdetail("Nothing was changed.")));
	for (int pass = 0; pass < 2; pass++)
	{
		if (changing)
		{
			dedup_check_target(keeper, "merge into");
			dedup_check_target(source, drop_source ? "drop" : "merge from");
			(void) dedup_check_same_owner(source, keeper);
		}
		else
		{
			dedup_check_readable(source);
			dedup_check_readable(keeper);
		}
		if (pass == 0)
			dedup_lock_pair(source, !changing ? AccessShareLock :
							drop_source ? AccessExclusiveLock : ShareLock,
							keeper, changing ? ShareRowExclusiveLock : AccessShareLock);
	}
	dedup_check_mergeable(source);
	dedup_check_mergeable(keeper);
	return plan_merge(source, keeper, given_key);
}

/*
 * dedup.missing_rows(source regclass, keeper regclass, key name[] DEFAULT NULL)
 *	 RETURNS TABLE (status text, row_data jsonb)
 *
 *	 SELECT * FROM dedup.missing_rows('members_full', 'members');
 *
 * 'missing': the key is not in the keeper.  'conflict': it is, with other
 * stored values in a shared column.  Read-only.  Rows stream into the
 * result (it spills to disk past work_mem), missing ones first, each
 * group ordered by key.
 */
Datum
dedup_missing_rows(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MergePlan  *p;
	char	   *sql;
	SPIPlanPtr	plan;
	Portal		portal;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", PG_ARGISNULL(0) ? "source" : "keeper"),
				 errhint("Name the tables: dedup.missing_rows('members_full', 'members').")));
	dedup_init_srf(fcinfo);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "dedup: SPI_connect failed");
	p = prepare_merge(PG_GETARG_OID(0), PG_GETARG_OID(1),
					  PG_ARGISNULL(2) ? NULL : PG_GETARG_ARRAYTYPE_P(2), false, false);
	sql = psprintf("SELECT CASE WHEN k.ctid IS NULL THEN 'missing' ELSE 'conflict' END,"
				   "       pg_catalog.to_jsonb(s.*)"
				   "  FROM %s s LEFT JOIN %s k ON %s"
				   " WHERE k.ctid IS NULL OR NOT %s"
				   " ORDER BY k.ctid IS NOT NULL, %s",
				   p->sq, p->kq, p->keymatch, p->same,
				   dedup_quoted_list_prefixed(p->key, "s."));

	/* a snapshot taken after the locks, for the whole scan */
	plan = SPI_prepare(sql, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "dedup: could not prepare the comparison: %s", SPI_result_code_string(SPI_result));
	PushActiveSnapshot(GetLatestSnapshot());
	portal = SPI_cursor_open(NULL, plan, NULL, NULL, true);
	for (;;)
	{
		uint64		i;

		SPI_cursor_fetch(portal, true, FETCH_BATCH);
		if (SPI_processed == 0)
			break;
		for (i = 0; i < SPI_processed; i++)
		{
			Datum		values[2];
			bool		nulls[2];

			values[0] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &nulls[0]);
			values[1] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &nulls[1]);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_cursor_close(portal);
	PopActiveSnapshot();
	SPI_finish();
	return (Datum) 0;
}

/* A count, or 0. */
static int64
count_of(MergePlan *p, const char *sql)
{
	char	   *v;

	/*
	 * As the tables' owner: planning the read folds their index
	 * expressions, the owner's code (the caller may read every row of both:
	 * dedup_merge checks).
	 */
	v = ((char **) linitial(dedup_query_rows_as(sql, p->owner, 0, NULL, NULL)))[0];
	return v ? pg_strtoint64(v) : 0;
}

/*
 * Insert the source rows whose key the keeper lacks, as the keeper's owner,
 * and count those whose key it holds, with the same stored values or not:
 * one statement, one join read after the locks (planned as the caller, run
 * as the owner: dedup_exec_as).  Records in rows which subtransaction wrote
 * the rows (undo finds them by it).
 */
static void
insert_missing(MergePlan *p, MergeResult *r, DedupRows *rows, List **sql)
{
	char	   *stmt;

	stmt = psprintf("INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE"
					" SELECT %s FROM %s s LEFT JOIN %s k ON %s"
					" WHERE dedup._merge_row(k.ctid IS NOT NULL, %s)",
					p->kq, p->inscols, p->selcols, p->sq, p->kq, p->keymatch, p->same);
	tally_present = tally_conflicts = 0;
	dedup_write_rows(stmt, p->owner, rows);
	r->inserted = rows->count;
	r->present = tally_present;
	r->conflicts = tally_conflicts;
	*sql = lappend(*sql, stmt);
}

/*
 * What dropping the source would lose, once the missing rows are in the
 * keeper: rows not in the keeper with the same values, and non-null values
 * of columns the keeper lacks.  An empty string when nothing.
 */
static char *
what_would_be_lost(MergePlan *p, int64 conflicts)
{
	StringInfoData lost;
	ListCell   *lc;
	int64		absent;

	initStringInfo(&lost);
	absent = count_of(p, psprintf("SELECT pg_catalog.count(*) FROM %s s"
							   " WHERE NOT EXISTS (SELECT 1 FROM %s k WHERE %s AND %s)",
							   p->sq, p->kq, p->keymatch, p->same_owner));
	if (conflicts > 0)
		appendStringInfo(&lost, INT64_FORMAT " row%s of \"%s\" conflict%s with \"%s\" (see dedup.missing_rows()).\n",
						 conflicts, conflicts == 1 ? "" : "s", get_rel_name(p->source),
						 conflicts == 1 ? "s" : "", get_rel_name(p->keeper));
	if (absent > conflicts)
		appendStringInfo(&lost, INT64_FORMAT " row%s of \"%s\" %s not in \"%s\" with the same values.\n",
						 absent - conflicts, absent - conflicts == 1 ? "" : "s",
						 get_rel_name(p->source), absent - conflicts == 1 ? "is" : "are",
						 get_rel_name(p->keeper));
	foreach(lc, p->extra)
	{
		char	   *c = (char *) lfirst(lc);
		int64		n = count_of(p, psprintf("SELECT pg_catalog.count(*) FROM %s s WHERE s.%s IS NOT NULL",
										  p->sq, quote_identifier(c)));

		if (n > 0)
			appendStringInfo(&lost, "Column \"%s\" has " INT64_FORMAT " non-null value%s that \"%s\" has no column for.\n",
							 c, n, n == 1 ? "" : "s", get_rel_name(p->keeper));
	}
	return lost.data;
}

/*
 * Merge source into keeper as one journaled action (see the file header).
 * The caller is connected to SPI.
 */
void
dedup_merge(Oid source, Oid keeper, ArrayType *given_key, bool drop_source,
			int64 *inserted, int64 *present, int64 *conflicts)
{
	DedupAction *act = dedup_action_begin("merge_rows");
	MergePlan  *p;
	MergeResult r = {0};
	DedupRows	rows;
	List	   *sql = NIL;
	List	   *seqs;
	List	   *gains;
	StringInfoData d;
	int64		backup_entry = 0;
	int64		drop_entry = 0;

	p = prepare_merge(source, keeper, given_key, true, drop_source);
	p->owner = dedup_rel_owner(keeper);
	dedup_require_read_all(source);
	dedup_require_read_all(keeper);
	seqs = dedup_lock_sequences(keeper);

	/* no role may read or write, through the keeper, what it could not */
	if (count_of(p, psprintf("SELECT pg_catalog.count(*) FROM (SELECT 1 FROM %s LIMIT 1) x", p->sq)) > 0)
	{
		gains = dedup_access_rows_gain(source, keeper);
		dedup_access_refuse(psprintf("merging \"%s\" into \"%s\"", get_rel_name(source),
									 get_rel_name(keeper)), gains);
	}

	insert_missing(p, &r, &rows, &sql);
	CommandCounterIncrement();
	dedup_advance_sequences(seqs, p->owner, &sql);

	if (drop_source)
	{
		char	   *lost = what_would_be_lost(p, r.conflicts);

		if (lost[0] != '\0')
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("dropping \"%s\" after merging it into \"%s\" would lose data",
							get_rel_name(source), get_rel_name(keeper)),
					 errdetail_internal("%sNothing was changed.", lost),
					 errhint("Resolve the conflicts, or first merge the table that supplies the missing columns (dedup.merge_extension), then merge again.")));
		/* a journaled backup (a fresh one is reused), then the drop (steps) */
		backup_entry = dedup_backup_entry(source);
		drop_entry = dedup_drop_relation(source, false, false, backup_entry);
		sql = lappend(sql, psprintf("DROP TABLE %s", p->sq));
	}

	dedup_action_touch(act, p->kq);
	initStringInfo(&d);
	appendStringInfoChar(&d, '{');
	dedup_json_str(&d, "source", p->sq);
	dedup_json_str(&d, "keeper", p->kq);
	dedup_json_raw(&d, "source_oid", psprintf("%u", source));
	dedup_json_raw(&d, "keeper_oid", psprintf("%u", keeper));
	dedup_json_raw(&d, "key", dedup_json_array(p->key));
	dedup_json_raw(&d, "inserted", psprintf(INT64_FORMAT, r.inserted));
	dedup_json_raw(&d, "already_present", psprintf(INT64_FORMAT, r.present));
	dedup_json_raw(&d, "conflicts", psprintf(INT64_FORMAT, r.conflicts));
	dedup_json_raw(&d, "columns_not_in_keeper", dedup_json_array(p->extra));
	dedup_json_raw(&d, "dropped_source", drop_source ? "true" : "false");
	dedup_rows_json(&d, "rows", p->kq, &rows);
	dedup_json_raw(&d, "sequences", dedup_sequences_json(seqs));
	dedup_json_raw(&d, "sql", dedup_json_array(sql));
	appendStringInfoChar(&d, '}');
	(void) dedup_action_end(act, p->kq, d.data);

	if (p->extra != NIL && !drop_source)
		ereport(NOTICE,
				(errmsg("\"%s\" has columns that \"%s\" lacks; their values were not merged",
						get_rel_name(source), get_rel_name(keeper)),
				 errdetail("Columns: %s.", dedup_quoted_list(p->extra))));
	*inserted = r.inserted;
	*present = r.present;
	*conflicts = r.conflicts;
	(void) drop_entry;
}

/* The body of dedup.merge_rows() under dedup_call(). */
static void
merge_rows_body(FunctionCallInfo fcinfo, MemoryContext cxt, void *result)
{
	MergeResult *r = (MergeResult *) result;

	dedup_merge(PG_GETARG_OID(0), PG_GETARG_OID(1),
				PG_ARGISNULL(2) ? NULL : PG_GETARG_ARRAYTYPE_P(2),
				PG_GETARG_BOOL(3), &r->inserted, &r->present, &r->conflicts);
}

/*
 * dedup.merge_rows(source regclass, keeper regclass, key name[] DEFAULT NULL,
 *					drop_source boolean DEFAULT false)
 *	 RETURNS TABLE (inserted bigint, already_present bigint, conflicts bigint)
 *
 *	 SELECT * FROM dedup.merge_rows('members_full', 'members');
 *
 * Inserts the rows of source whose key the keeper lacks (shared columns
 * only), overwrites nothing, and reports the rows already present and those
 * in conflict.  With drop_source, the source is then backed up and dropped,
 * only if no conflict remains and every non-null value of every source
 * column is in the keeper; otherwise an error says what would be lost.
 * dedup.undo() of its journal entry reverses all of it.
 */
Datum
dedup_merge_rows(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MergeResult r = {0};
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null",
						PG_ARGISNULL(0) ? "source" : PG_ARGISNULL(1) ? "keeper" : "drop_source"),
				 errdetail("Nothing was changed."),
				 errhint("Name the tables: dedup.merge_rows('members_full', 'members').")));
	dedup_init_srf(fcinfo);
	dedup_call(fcinfo, merge_rows_body, &r);
	values[0] = Int64GetDatum(r.inserted);
	values[1] = Int64GetDatum(r.present);
	values[2] = Int64GetDatum(r.conflicts);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}

/*
 * Undo of the insert of merge_rows entry id: the keeper's rows that its
 * transaction wrote and that are, key and stored values, rows of the source
 * (which is back by now: its drop, a step, was undone first).  Refused
 * unless exactly as many as it inserted are found: a row changed or
 * deleted since would otherwise be lost or kept wrongly.
 */
void
dedup_unmerge(int64 id, List **sql)
{
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(id)};
	List	   *r = dedup_journal_rows("SELECT j.detail->>'source', j.detail->>'keeper', j.detail->'rows'->>'xid',"
									   "       j.detail->'rows'->>'count'"
									   "  FROM dedup.journal j WHERE j.id OPERATOR(pg_catalog.=) $1", 1, types, args);
	char	  **e = (char **) linitial(r);
	List	   *keycols = NIL;
	ListCell   *lc;
	Datum	   *elems;
	Oid			source,
				keeper;
	int64		count = pg_strtoint64(e[3]);
	int64		found;
	MergePlan  *p;
	char	   *cond;
	char	   *stmt;
	int			n = 0;
	DedupAs		as;

	if (count == 0)
		return;
	source = dedup_lookup_relation(e[0]);
	keeper = dedup_lookup_relation(e[1]);
	if (!OidIsValid(source) || !OidIsValid(keeper))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("cannot undo journal entry " INT64_FORMAT ": %s no longer exists", id,
						OidIsValid(source) ? e[1] : e[0]),
				 errdetail("The rows it merged are found by comparing the two tables. Nothing was changed.")));
	foreach(lc, dedup_journal_rows("SELECT k FROM dedup.journal j, pg_catalog.jsonb_array_elements_text(j.detail->'key') k"
								   " WHERE j.id OPERATOR(pg_catalog.=) $1", 1, types, args))
		keycols = lappend(keycols, ((char **) lfirst(lc))[0]);
	elems = palloc(sizeof(Datum) * list_length(keycols));
	foreach(lc, keycols)
	{
		Name		nm = palloc0(NAMEDATALEN);

		namestrcpy(nm, (char *) lfirst(lc));
		elems[n++] = NameGetDatum(nm);
	}
	dedup_check_target(keeper, "undo a merge into");
	dedup_lock_pair(source, ShareLock, keeper, ShareRowExclusiveLock);
	p = plan_merge(source, keeper, construct_array(elems, n, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR));
	cond = psprintf("k.xmin OPERATOR(pg_catalog.=) '%u'::pg_catalog.xid"
					" AND EXISTS (SELECT 1 FROM %s s WHERE %s AND %s)",
					dedup_rows_xid(strtou64(e[2], NULL, 10), p->kq), p->sq, p->keymatch, p->same_owner);
	p->owner = dedup_rel_owner(keeper);
	dedup_become(p->owner, &as);
	found = count_of(p, psprintf("SELECT pg_catalog.count(*) FROM %s k WHERE %s", p->kq, cond));
	dedup_unbecome(&as);
	if (found != count)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot undo journal entry " INT64_FORMAT ": rows it merged into %s were changed since", id, p->kq),
				 errdetail_plural("It inserted " INT64_FORMAT " row; " INT64_FORMAT " of it is still as it was. Undoing would lose what changed. Nothing was changed.",
								  "It inserted " INT64_FORMAT " rows; " INT64_FORMAT " of them are still as they were. Undoing would lose what changed. Nothing was changed.",
								  count, count, found),
				 errhint("Compare the tables with dedup.missing_rows() and delete by hand what should go.")));
	stmt = psprintf("DELETE FROM %s k WHERE %s", p->kq, cond);
	dedup_become(dedup_rel_owner(keeper), &as);
	dedup_exec(stmt);
	dedup_unbecome(&as);
	*sql = lappend(*sql, stmt);
}
