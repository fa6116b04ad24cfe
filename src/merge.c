/*-------------------------------------------------------------------------
 *
 * merge.c
 *	  dedup.missing_rows(): which rows of a look-alike the keeper lacks.
 *	  dedup.merge_rows(): insert them, overwrite nothing, drop the source
 *	  only when nothing of it would be lost.
 *
 * Rows are matched on a key: the one given, else the keeper's primary key,
 * else its first unique index over NOT NULL columns.  Columns are matched
 * by name, and a value is compared or copied only through a cast that
 * cannot lose data (same type with a compatible typmod, or a widening:
 * int2 -> int4 -> int8 -> numeric, float4 -> float8, varchar <-> text).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "compat.h"
#include "ddl.h"

PG_FUNCTION_INFO_V1(dedup_missing_rows);
PG_FUNCTION_INFO_V1(dedup_merge_rows);

typedef struct MergeColumn
{
	char	   *name;
	Oid			type;			/* keeper's */
	int32		typmod;			/* keeper's */
	bool		generated;		/* in the keeper: computed, not inserted */
	char	   *cast;			/* "CAST(s.x AS type)" */
	char	   *same;			/* null-safe equality of k.x and the cast */
} MergeColumn;

typedef struct MergePlan
{
	Oid			source;
	Oid			keeper;
	char	   *sq;				/* quoted qualified names */
	char	   *kq;
	List	   *key;			/* MergeColumn *, the key */
	List	   *shared;			/* MergeColumn *, every column both have */
	List	   *extra;			/* char *, source columns the keeper lacks */
	char	   *keymatch;		/* k.key = s.key AND ... */
	char	   *allsame;		/* every shared column equal */
} MergePlan;

/* Can a value of (from, fromtypmod) become (to, totypmod) without loss? */
static bool
lossless(Oid from, int32 fromtypmod, Oid to, int32 totypmod)
{
	if (from == to)
		return totypmod < 0 || totypmod == fromtypmod ||
			((to == VARCHAROID || to == BPCHAROID) && fromtypmod >= 0 &&
			 totypmod >= fromtypmod);
	if (totypmod >= 0)
		return false;
	switch (from)
	{
		case INT2OID:
			return to == INT4OID || to == INT8OID || to == NUMERICOID;
		case INT4OID:
			return to == INT8OID || to == NUMERICOID;
		case INT8OID:
			return to == NUMERICOID;
		case FLOAT4OID:
			return to == FLOAT8OID;
		case VARCHAROID:
			return to == TEXTOID;
		case TEXTOID:
			return to == VARCHAROID;
	}
	return false;
}

/* "(k.c OP cast) or both null", with the keeper type's own equality. */
static char *
same_sql(const char *col, Oid type, const char *cast)
{
	TypeCacheEntry *tce = lookup_type_cache(type, TYPECACHE_EQ_OPR);
	HeapTuple	tup;
	char	   *op;

	if (!OidIsValid(tce->eq_opr) ||
		!HeapTupleIsValid(tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(tce->eq_opr))))
		/* no equality (json, point ...): compare the text forms */
		return psprintf("COALESCE(k.%s::pg_catalog.text OPERATOR(pg_catalog.=) %s::pg_catalog.text,"
						" k.%s IS NULL AND %s IS NULL)", col, cast, col, cast);
	op = psprintf("OPERATOR(%s.%s)",
				  quote_identifier(get_namespace_name(((Form_pg_operator) GETSTRUCT(tup))->oprnamespace)),
				  NameStr(((Form_pg_operator) GETSTRUCT(tup))->oprname));
	ReleaseSysCache(tup);
	return psprintf("COALESCE(k.%s %s %s, k.%s IS NULL AND %s IS NULL)", col, op, cast, col, cast);
}

/* The key: given, else the keeper's primary key, else a unique NOT NULL index. */
static List *
resolve_key(Oid keeper, ArrayType *given)
{
	Oid			types[1] = {OIDOID};
	Datum		args[1] = {ObjectIdGetDatum(keeper)};
	List	   *key;

	if (given)
	{
		Datum	   *elems;
		int			n,
					i;

		deconstruct_array(given, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR, &elems, NULL, &n);
		key = NIL;
		for (i = 0; i < n; i++)
			key = lappend(key, pstrdup(NameStr(*DatumGetName(elems[i]))));
		if (key == NIL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("key must name at least one column"),
					 errdetail("Nothing was changed.")));
		return key;
	}
	key = dedup_query_column(
		"SELECT a.attname FROM pg_catalog.pg_index i"
		" CROSS JOIN LATERAL pg_catalog.unnest(i.indkey::pg_catalog.int2[]) WITH ORDINALITY AS u(attnum, n)"
		"  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid"
		"                               AND a.attnum OPERATOR(pg_catalog.=) u.attnum"
		" WHERE i.indrelid OPERATOR(pg_catalog.=) $1 AND i.indisprimary"
		"   AND u.n OPERATOR(pg_catalog.<=) i.indnkeyatts"
		" ORDER BY u.n", 1, types, args, NULL);
	if (key != NIL)
		return key;
	key = dedup_query_column(
		"WITH u AS ("
		"  SELECT c.relname, a.attname, a.attnotnull, x.n"
		"    FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.indexrelid"
		"   CROSS JOIN LATERAL pg_catalog.unnest(i.indkey::pg_catalog.int2[]) WITH ORDINALITY AS x(attnum, n)"
		"    JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid"
		"                                 AND a.attnum OPERATOR(pg_catalog.=) x.attnum"
		"   WHERE i.indrelid OPERATOR(pg_catalog.=) $1 AND i.indisunique AND i.indisvalid"
		"     AND i.indpred IS NULL AND i.indexprs IS NULL"
		"     AND x.n OPERATOR(pg_catalog.<=) i.indnkeyatts),"
		" best AS (SELECT relname FROM u GROUP BY relname HAVING pg_catalog.bool_and(attnotnull)"
		"           ORDER BY relname LIMIT 1)"
		"SELECT u.attname FROM u JOIN best USING (relname) ORDER BY u.n", 1, types, args, NULL);
	if (key == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("table \"%s\" has no primary key or unique index over NOT NULL columns",
						get_rel_name(keeper)),
				 errdetail("Rows cannot be matched without a key. Nothing was changed."),
				 errhint("Pass the columns that identify a row: key => ARRAY['id']::name[].")));
	return key;
}

/* Build the comparison plan (inside SPI). */
static MergePlan *
plan_merge(Oid source, Oid keeper, ArrayType *given_key)
{
	MergePlan  *p = palloc0(sizeof(MergePlan));
	List	   *keynames;
	StringInfoData keymatch;
	StringInfoData allsame;
	ListCell   *lc;
	Relation	srel,
				krel;
	TupleDesc	sdesc,
				kdesc;
	int			i;

	if (source == keeper)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source and keeper are the same table \"%s\"", get_rel_name(source)),
				 errdetail("Nothing was changed.")));
	p->source = source;
	p->keeper = keeper;
	p->sq = dedup_qualified_name(source);
	p->kq = dedup_qualified_name(keeper);
	keynames = resolve_key(keeper, given_key);

	srel = relation_open(source, NoLock);
	krel = relation_open(keeper, NoLock);
	sdesc = RelationGetDescr(srel);
	kdesc = RelationGetDescr(krel);
	initStringInfo(&allsame);
	appendStringInfoString(&allsame, "true");
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
		if (!lossless(sa->atttypid, sa->atttypmod, ka->atttypid, ka->atttypmod))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" is %s in \"%s\" but %s in \"%s\"", NameStr(sa->attname),
							format_type_with_typemod(sa->atttypid, sa->atttypmod), get_rel_name(source),
							format_type_with_typemod(ka->atttypid, ka->atttypmod), get_rel_name(keeper)),
					 errdetail("A value is only copied through a cast that cannot lose data. Nothing was changed."),
					 errhint("Change the column type of one of them first.")));
		c = palloc0(sizeof(MergeColumn));
		c->name = pstrdup(NameStr(sa->attname));
		c->type = ka->atttypid;
		c->typmod = ka->atttypmod;
		c->generated = ka->attgenerated != '\0';
		q = quote_identifier(c->name);
		c->cast = (sa->atttypid == ka->atttypid && sa->atttypmod == ka->atttypmod) ?
			psprintf("s.%s", q) :
			psprintf("CAST(s.%s AS %s)", q, format_type_with_typemod(ka->atttypid, ka->atttypmod));
		c->same = same_sql(q, ka->atttypid, c->cast);
		p->shared = lappend(p->shared, c);
		appendStringInfo(&allsame, " AND %s", c->same);
	}
	relation_close(srel, NoLock);
	relation_close(krel, NoLock);

	initStringInfo(&keymatch);
	foreach(lc, keynames)
	{
		char	   *name = (char *) lfirst(lc);
		MergeColumn *c = NULL;
		ListCell   *sc;

		foreach(sc, p->shared)
			if (strcmp(((MergeColumn *) lfirst(sc))->name, name) == 0)
				c = (MergeColumn *) lfirst(sc);
		if (c == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("key column \"%s\" is not in both \"%s\" and \"%s\"", name,
							get_rel_name(source), get_rel_name(keeper)),
					 errdetail("Nothing was changed.")));
		p->key = lappend(p->key, c);
		appendStringInfo(&keymatch, "%s%s", keymatch.len ? " AND " : "", c->same);
	}
	p->keymatch = keymatch.data;
	p->allsame = allsame.data;
	return p;
}

/* Comma-separated quoted key columns, prefixed (e.g. "s."). */
static char *
key_list(MergePlan *p, const char *prefix)
{
	StringInfoData b;
	ListCell   *lc;

	initStringInfo(&b);
	foreach(lc, p->key)
		appendStringInfo(&b, "%s%s%s", b.len ? ", " : "", prefix,
						 quote_identifier(((MergeColumn *) lfirst(lc))->name));
	return b.data;
}

/*
 * dedup.missing_rows(source regclass, keeper regclass, key name[] DEFAULT NULL)
 *	 RETURNS TABLE (status text, row_data jsonb)
 *
 *	 SELECT * FROM dedup.missing_rows('members_full', 'members');
 *
 * 'missing': the key is not in the keeper.  'conflict': it is, with
 * different values in a shared column.  Read-only, with the caller's
 * privileges (row level security applies as to any query).
 */
Datum
dedup_missing_rows(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MergePlan  *p;
	char	   *sql;
	uint64		i;

	dedup_init_srf(fcinfo);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "dedup: SPI_connect failed");
	/* plan_merge opens both tables: lock them first, in OID order */
	dedup_lock_pair(PG_GETARG_OID(0), AccessShareLock, PG_GETARG_OID(1), AccessShareLock);
	p = plan_merge(PG_GETARG_OID(0), PG_GETARG_OID(1),
				   PG_ARGISNULL(2) ? NULL : PG_GETARG_ARRAYTYPE_P(2));
	sql = psprintf("SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM %s k WHERE %s) THEN 'missing'"
				   "            ELSE 'conflict' END AS status,"
				   "       pg_catalog.to_jsonb(s.*) AS row_data"
				   "  FROM %s s"
				   " WHERE NOT EXISTS (SELECT 1 FROM %s k WHERE %s AND %s)"
				   " ORDER BY 1 DESC, %s",
				   p->kq, p->keymatch, p->sq, p->kq, p->keymatch, p->allsame,
				   key_list(p, "s."));
	if (SPI_execute(sql, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "dedup: could not compare \"%s\" with \"%s\"", p->sq, p->kq);
	for (i = 0; i < SPI_processed; i++)
	{
		Datum		values[2];
		bool		nulls[2];

		CHECK_FOR_INTERRUPTS();
		values[0] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &nulls[0]);
		values[1] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &nulls[1]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

static int64
count_of(const char *sql)
{
	char	   *v = dedup_query_value(sql, 0, NULL, NULL);

	return v ? pg_strtoint64(v) : 0;
}

void
dedup_merge(Oid source, Oid keeper, ArrayType *given_key, bool drop_source,
			int64 *inserted, int64 *present, int64 *conflicts)
{
	MergePlan  *p;
	StringInfoData cols;
	StringInfoData vals;
	StringInfoData d;
	ListCell   *lc;
	List	   *sql = NIL;
	char	   *stmt;
	int64		missing;

	if (drop_source)
		dedup_check_target(source, "drop");
	dedup_check_target(keeper, "merge into");

	/*
	 * The strongest locks first, in OID order: no writer to either table
	 * until we commit, and no lock upgrade later (a source to be dropped is
	 * locked ACCESS EXCLUSIVE at once).
	 */
	dedup_lock_pair(source, drop_source ? AccessExclusiveLock : ShareLock,
					keeper, ShareRowExclusiveLock);
	if (drop_source)
		dedup_check_target(source, "drop");
	dedup_check_target(keeper, "merge into");

	p = plan_merge(source, keeper, given_key);

	missing = count_of(psprintf("SELECT pg_catalog.count(*) FROM %s s"
								" WHERE NOT EXISTS (SELECT 1 FROM %s k WHERE %s)",
								p->sq, p->kq, p->keymatch));
	*conflicts = count_of(psprintf("SELECT pg_catalog.count(*) FROM %s s"
								   " WHERE EXISTS (SELECT 1 FROM %s k WHERE %s)"
								   "   AND NOT EXISTS (SELECT 1 FROM %s k WHERE %s AND %s)",
								   p->sq, p->kq, p->keymatch, p->kq, p->keymatch, p->allsame));
	*present = count_of(psprintf("SELECT pg_catalog.count(*) FROM %s s"
								 " WHERE EXISTS (SELECT 1 FROM %s k WHERE %s AND %s)",
								 p->sq, p->kq, p->keymatch, p->allsame));

	/* insert what is missing: shared columns, overwriting nothing */
	initStringInfo(&cols);
	initStringInfo(&vals);
	foreach(lc, p->shared)
	{
		MergeColumn *c = (MergeColumn *) lfirst(lc);

		if (c->generated)
			continue;
		appendStringInfo(&cols, "%s%s", cols.len ? ", " : "", quote_identifier(c->name));
		appendStringInfo(&vals, "%s%s", vals.len ? ", " : "", c->cast);
	}
	*inserted = 0;
	if (missing > 0)
	{
		stmt = psprintf("INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s s"
						" WHERE NOT EXISTS (SELECT 1 FROM %s k WHERE %s)",
						p->kq, cols.data, vals.data, p->sq, p->kq, p->keymatch);
		if (SPI_execute(stmt, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "dedup: could not insert into \"%s\"", p->kq);
		*inserted = (int64) SPI_processed;
		sql = lappend(sql, stmt);
		CommandCounterIncrement();
	}

	if (drop_source)
	{
		StringInfoData lost;
		int64		still_missing;

		/* every non-null value of every source column must now be in the keeper */
		initStringInfo(&lost);
		if (*conflicts > 0)
			appendStringInfo(&lost, INT64_FORMAT " row%s of \"%s\" conflict%s with \"%s\" (see dedup.missing_rows()).\n",
							 *conflicts, *conflicts == 1 ? "" : "s", get_rel_name(source),
							 *conflicts == 1 ? "s" : "", get_rel_name(keeper));
		still_missing = count_of(psprintf("SELECT pg_catalog.count(*) FROM %s s"
										  " WHERE NOT EXISTS (SELECT 1 FROM %s k WHERE %s AND %s)",
										  p->sq, p->kq, p->keymatch, p->allsame));
		if (still_missing > *conflicts)
			appendStringInfo(&lost, INT64_FORMAT " rows of \"%s\" are not in \"%s\" with equal values.\n",
							 still_missing - *conflicts, get_rel_name(source), get_rel_name(keeper));
		foreach(lc, p->extra)
		{
			char	   *c = (char *) lfirst(lc);
			int64		n = count_of(psprintf("SELECT pg_catalog.count(*) FROM %s s WHERE s.%s IS NOT NULL",
											  p->sq, quote_identifier(c)));

			if (n > 0)
				appendStringInfo(&lost, "Column \"%s\" has " INT64_FORMAT " non-null value%s that \"%s\" has no column for.\n",
								 c, n, n == 1 ? "" : "s", get_rel_name(keeper));
		}
		if (lost.len > 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("dropping \"%s\" after merging it into \"%s\" would lose data",
							get_rel_name(source), get_rel_name(keeper)),
					 errdetail_internal("%sNothing was changed.", lost.data),
					 errhint("Resolve the conflicts, or first merge the table that supplies the missing columns (dedup.merge_extension), then merge again.")));
		/* a journaled backup, then the drop (itself journaled) */
		(void) dedup_backup_relation(source, NULL);
		sql = lappend(sql, psprintf("SELECT dedup.backup_table(%s)", quote_literal_cstr(p->sq)));
		(void) dedup_drop_relation(source, false, false);
		sql = lappend(sql, psprintf("DROP TABLE %s", p->sq));
	}

	initStringInfo(&d);
	appendStringInfoChar(&d, '{');
	dedup_json_str(&d, "source", p->sq);
	dedup_json_str(&d, "keeper", p->kq);
	{
		List	   *names = NIL;

		foreach(lc, p->key)
			names = lappend(names, ((MergeColumn *) lfirst(lc))->name);
		dedup_json_raw(&d, "key", dedup_json_array(names));
	}
	dedup_json_raw(&d, "inserted", psprintf(INT64_FORMAT, *inserted));
	dedup_json_raw(&d, "already_present", psprintf(INT64_FORMAT, *present));
	dedup_json_raw(&d, "conflicts", psprintf(INT64_FORMAT, *conflicts));
	dedup_json_raw(&d, "columns_not_in_keeper", dedup_json_array(p->extra));
	dedup_json_raw(&d, "dropped_source", drop_source ? "true" : "false");
	dedup_json_raw(&d, "sql", dedup_json_array(sql));
	appendStringInfoChar(&d, '}');
	dedup_journal_write("merge", p->kq, d.data);

	if (p->extra != NIL && !drop_source)
		ereport(NOTICE,
				(errmsg("\"%s\" has columns that \"%s\" lacks; their values were not merged",
						get_rel_name(source), get_rel_name(keeper)),
				 errdetail("Columns: %s.", dedup_quoted_list(p->extra))));
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
 */
Datum
dedup_merge_rows(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext cxt = CurrentMemoryContext;
	volatile int64 inserted = 0,
				present = 0,
				conflicts = 0;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("source, keeper and drop_source must not be null")));
	dedup_init_srf(fcinfo);
	PG_TRY();
	{
		int64		i,
					p,
					c;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "dedup: SPI_connect failed");
		dedup_merge(PG_GETARG_OID(0), PG_GETARG_OID(1),
					PG_ARGISNULL(2) ? NULL : PG_GETARG_ARRAYTYPE_P(2),
					PG_GETARG_BOOL(3), &i, &p, &c);
		inserted = i;
		present = p;
		conflicts = c;
		SPI_finish();
	}
	PG_CATCH();
	{
		dedup_rethrow_unchanged(cxt);
	}
	PG_END_TRY();
	values[0] = Int64GetDatum(inserted);
	values[1] = Int64GetDatum(present);
	values[2] = Int64GetDatum(conflicts);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}
