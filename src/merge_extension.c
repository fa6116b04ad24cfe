/*-------------------------------------------------------------------------
 *
 * merge_extension.c
 *	  dedup.merge_extension(): fold a 1:1 extension table into its base.
 *
 * The extension's key is a foreign key to the base's key.  Its own columns
 * are added to the base (type, collation, default, comment; NOT NULL and
 * CHECK constraints where the data allows), values are copied by key, and
 * shared columns are compared: equal or null is fine, differences follow
 * on_conflict.  Foreign keys that pointed at the extension point at the
 * base; its triggers are carried when the base has none of that name; then
 * it is dropped (journaled) and, with compat_view, replaced by a
 * security_invoker view of the same name and columns over the base, with an
 * INSTEAD OF trigger for INSERT and DELETE (UPDATE is automatic).
 *
 * No one gains access.  A role keeps exactly its access to the base's
 * existing columns.  A privilege it held on the extension is granted on the
 * new columns only when the extension did not filter its rows (no row level
 * security) or the base's policies for that role and command are the same
 * as the extension's.  A role whose table-level privilege on the base would
 * otherwise reach the new columns gets it on the old columns only.
 * Policies are never copied: an extension policy would widen access to the
 * base's own rows.
 *
 * One transaction under ACCESS EXCLUSIVE on both tables, like the
 * hand-written ALTER TABLE ... ADD COLUMN; UPDATE ... FROM; DROP TABLE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/xlog.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "compat.h"
#include "dedup.h"
#include "ddl.h"

PG_FUNCTION_INFO_V1(dedup_merge_extension);

typedef struct ExtColumn
{
	char	   *name;
	bool		own;			/* not in the base: added */
	char	   *type;			/* format_type of the extension's column */
	char	   *collate;		/* " COLLATE x" or "" */
	char	   *defexpr;		/* default expression or NULL */
	bool		notnull;
	char	   *comment;
	char	   *same;			/* shared: equality of b.x and e.x, null-safe */
} ExtColumn;

typedef struct ExtResult
{
	List	   *added;
	int64		merged;
	int64		conflicts;
	int			repointed;
} ExtResult;

static char *
query1(const char *sql, Oid a, Oid b)
{
	Oid			types[2] = {OIDOID, OIDOID};
	Datum		args[2] = {ObjectIdGetDatum(a), ObjectIdGetDatum(b)};

	return dedup_query_value(sql, 2, types, args);
}

static List *
queryn(const char *sql, Oid a, Oid b)
{
	Oid			types[2] = {OIDOID, OIDOID};
	Datum		args[2] = {ObjectIdGetDatum(a), ObjectIdGetDatum(b)};

	return dedup_query_column(sql, 2, types, args, NULL);
}

/* DEBUG1 timing of the steps taken under ACCESS EXCLUSIVE (the reader stall). */
static instr_time phase_b_start;

static void
phase_b_mark(const char *what)
{
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, phase_b_start);
	elog(DEBUG1, "dedup: merge_extension, %.1f ms under ACCESS EXCLUSIVE: %s",
		 INSTR_TIME_GET_MILLISEC(now), what);
}

/* Rows of a query over the two tables ($1 and $2), as arrays of columns. */
static List *
queryrows(const char *sql, Oid a, Oid b)
{
	Oid			types[2] = {OIDOID, OIDOID};
	Datum		args[2] = {ObjectIdGetDatum(a), ObjectIdGetDatum(b)};

	return dedup_query_rows(sql, 2, types, args);
}

static void
merge_extension_internal(Oid base, Oid ext, const char *on_conflict, bool compat_view,
						 bool backup, ExtResult *res)
{
	char	   *bq = dedup_qualified_name(base);
	char	   *eq = dedup_qualified_name(ext);
	char	   *bname = get_rel_name(base);
	char	   *ename = get_rel_name(ext);
	List	   *bkey;
	List	   *ekey;
	List	   *cols = NIL;
	List	   *sql = NIL;
	List	   *notices = NIL;
	List	   *late = NIL;		/* statements read in phase A, run in phase B */
	DedupDropPlan *plan_b = NULL;
	DedupDropPlan *plan_e = NULL;
	StringInfoData keymatch;
	StringInfoData add;
	StringInfoData conflict_where;
	StringInfoData d;
	ListCell   *lc,
			   *lc2;
	char	   *eacl;
	char	   *eowner;
	char	   *ecomment;
	char	   *n;
	Relation	erel;
	TupleDesc	edesc;
	int			i;

	memset(res, 0, sizeof(*res));
	if (strcmp(on_conflict, "error") != 0 && strcmp(on_conflict, "keep_base") != 0 &&
		strcmp(on_conflict, "take_extension") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("on_conflict must be 'error', 'keep_base' or 'take_extension', not \"%s\"", on_conflict),
				 errdetail("Nothing was changed.")));
	if (base == ext)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("base and extension are the same table \"%s\"", bname),
				 errdetail("Nothing was changed.")));
	dedup_check_target(base, "merge into");
	dedup_check_target(ext, "drop");
	/* phase A under SHARE: readers go on, writers wait */
	dedup_lock_pair(base, ShareLock, ext, ShareLock);
	dedup_check_target(base, "merge into");
	dedup_check_target(ext, "drop");
	if (get_rel_relkind(base) != RELKIND_RELATION || has_subclass(base) ||
		get_rel_relispartition(base))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot merge into \"%s\": it is partitioned, a partition, or has inheritance children", bname),
				 errdetail("Nothing was changed."),
				 errhint("Turn it into one plain table first: dedup.unpartition().")));

	/* the 1:1 foreign key: the extension's primary key references the base's */
	ekey = queryn("SELECT a.attname FROM pg_catalog.pg_constraint k"
				  " CROSS JOIN LATERAL pg_catalog.unnest(k.conkey) WITH ORDINALITY u(attnum, n)"
				  "  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) k.conrelid AND a.attnum OPERATOR(pg_catalog.=) u.attnum"
				  " WHERE k.oid OPERATOR(pg_catalog.=) (SELECT f.oid FROM pg_catalog.pg_constraint f"
				  "   JOIN pg_catalog.pg_constraint pe ON pe.conrelid OPERATOR(pg_catalog.=) f.conrelid AND pe.contype OPERATOR(pg_catalog.=) 'p'"
				  "   JOIN pg_catalog.pg_constraint pb ON pb.conrelid OPERATOR(pg_catalog.=) f.confrelid AND pb.contype OPERATOR(pg_catalog.=) 'p'"
				  "  WHERE f.conrelid OPERATOR(pg_catalog.=) $1 AND f.confrelid OPERATOR(pg_catalog.=) $2 AND f.contype OPERATOR(pg_catalog.=) 'f'"
				  "    AND (SELECT pg_catalog.array_agg(x ORDER BY x) FROM pg_catalog.unnest(f.conkey) x) OPERATOR(pg_catalog.=) (SELECT pg_catalog.array_agg(x ORDER BY x) FROM pg_catalog.unnest(pe.conkey) x)"
				  "    AND (SELECT pg_catalog.array_agg(x ORDER BY x) FROM pg_catalog.unnest(f.confkey) x) OPERATOR(pg_catalog.=) (SELECT pg_catalog.array_agg(x ORDER BY x) FROM pg_catalog.unnest(pb.conkey) x)"
				  "  ORDER BY f.conname LIMIT 1)"
				  " ORDER BY u.n", ext, base);
	if (ekey == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" is not a 1:1 extension of \"%s\"", ename, bname),
				 errdetail("Its primary key must be a foreign key to the primary key of \"%s\". Nothing was changed.", bname),
				 errhint("Merge look-alikes with dedup.merge_rows() instead.")));
	bkey = queryn("SELECT a.attname FROM pg_catalog.pg_constraint k"
				  " CROSS JOIN LATERAL pg_catalog.unnest(k.confkey) WITH ORDINALITY u(attnum, n)"
				  "  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) k.confrelid AND a.attnum OPERATOR(pg_catalog.=) u.attnum"
				  " WHERE k.oid OPERATOR(pg_catalog.=) (SELECT f.oid FROM pg_catalog.pg_constraint f"
				  "   JOIN pg_catalog.pg_constraint pe ON pe.conrelid OPERATOR(pg_catalog.=) f.conrelid AND pe.contype OPERATOR(pg_catalog.=) 'p'"
				  "  WHERE f.conrelid OPERATOR(pg_catalog.=) $1 AND f.confrelid OPERATOR(pg_catalog.=) $2 AND f.contype OPERATOR(pg_catalog.=) 'f'"
				  "    AND (SELECT pg_catalog.array_agg(x ORDER BY x) FROM pg_catalog.unnest(f.conkey) x) OPERATOR(pg_catalog.=) (SELECT pg_catalog.array_agg(x ORDER BY x) FROM pg_catalog.unnest(pe.conkey) x)"
				  "  ORDER BY f.conname LIMIT 1)"
				  " ORDER BY u.n", ext, base);

	initStringInfo(&keymatch);
	forboth(lc, ekey, lc2, bkey)
		appendStringInfo(&keymatch, "%sb.%s OPERATOR(pg_catalog.=) e.%s", keymatch.len ? " AND " : "",
						 quote_identifier((char *) lfirst(lc2)), quote_identifier((char *) lfirst(lc)));

	/* no extension row may lack its base row */
	n = dedup_query_value(psprintf("SELECT pg_catalog.count(*) FROM %s e WHERE NOT EXISTS (SELECT 1 FROM %s b WHERE %s)",
								   eq, bq, keymatch.data), 0, NULL, NULL);
	if (strcmp(n, "0") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("%s row%s of \"%s\" %s no row in \"%s\"", n, strcmp(n, "1") == 0 ? "" : "s",
						ename, strcmp(n, "1") == 0 ? "has" : "have", bname),
				 errdetail("Their values would have nowhere to go. Nothing was changed."),
				 errhint("Find them with: SELECT * FROM %s e WHERE NOT EXISTS (SELECT 1 FROM %s b WHERE %s);",
						 eq, bq, keymatch.data)));

	/* the extension's columns: shared with the base, or its own */
	erel = relation_open(ext, NoLock);
	edesc = RelationGetDescr(erel);
	for (i = 0; i < edesc->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(edesc, i);
		ExtColumn  *c;
		AttrNumber	battnum;
		char	   *q;

		if (a->attisdropped)
			continue;
		foreach(lc, ekey)
			if (strcmp((char *) lfirst(lc), NameStr(a->attname)) == 0)
				break;
		if (lc != NULL)
			continue;			/* a key column */
		if (a->attidentity || a->attgenerated)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("column \"%s\" of \"%s\" is an identity or generated column", NameStr(a->attname), ename),
					 errdetail("Only plain columns can be merged into \"%s\". Nothing was changed.", bname)));
		c = palloc0(sizeof(ExtColumn));
		c->name = pstrdup(NameStr(a->attname));
		q = pstrdup(quote_identifier(c->name));
		battnum = get_attnum(base, c->name);
		c->own = battnum == InvalidAttrNumber;
		c->type = format_type_with_typemod(a->atttypid, a->atttypmod);
		c->collate = (OidIsValid(a->attcollation) && a->attcollation != get_typcollation(a->atttypid)) ?
			psprintf(" COLLATE %s", dedup_query_value(psprintf("SELECT %u::pg_catalog.regcollation::pg_catalog.text", a->attcollation), 0, NULL, NULL)) : "";
		c->notnull = a->attnotnull;
		c->defexpr = query1(psprintf("SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid) FROM pg_catalog.pg_attrdef d"
									 " WHERE d.adrelid OPERATOR(pg_catalog.=) $1 AND d.adnum OPERATOR(pg_catalog.=) %d"
									 "   AND $2 IS NOT NULL", a->attnum), ext, base);
		c->comment = query1(psprintf("SELECT pg_catalog.col_description($1, %d) WHERE $2 IS NOT NULL", a->attnum),
							ext, base);
		if (!c->own)
		{
			Oid			btype = get_atttype(base, battnum);

			if (btype != a->atttypid)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("column \"%s\" is %s in \"%s\" but %s in \"%s\"", c->name, c->type, ename,
								format_type_be(btype), bname),
						 errdetail("Shared columns must have the same type to be compared. Nothing was changed.")));
			c->same = psprintf("(b.%s IS NULL OR e.%s IS NULL OR b.%s::pg_catalog.text OPERATOR(pg_catalog.=) e.%s::pg_catalog.text)",
							   q, q, q, q);
		}
		cols = lappend(cols, c);
	}
	relation_close(erel, NoLock);

	/* shared columns: equal or null is fine; differences follow on_conflict */
	initStringInfo(&conflict_where);
	foreach(lc, cols)
	{
		ExtColumn  *c = (ExtColumn *) lfirst(lc);

		if (!c->own)
			appendStringInfo(&conflict_where, "%sNOT %s", conflict_where.len ? " OR " : "", c->same);
	}
	if (conflict_where.len > 0)
	{
		res->conflicts = pg_strtoint64(dedup_query_value(
			psprintf("SELECT pg_catalog.count(*) FROM %s b JOIN %s e ON %s WHERE %s", bq, eq, keymatch.data,
					 conflict_where.data), 0, NULL, NULL));
		if (res->conflicts > 0 && strcmp(on_conflict, "error") == 0)
		{
			List	   *first = dedup_query_column(
				psprintf("SELECT pg_catalog.to_jsonb(e.*)::pg_catalog.text FROM %s b JOIN %s e ON %s WHERE %s"
						 " ORDER BY 1 LIMIT 3", bq, eq, keymatch.data, conflict_where.data),
				0, NULL, NULL, NULL);
			StringInfoData det;

			initStringInfo(&det);
			foreach(lc, first)
				appendStringInfo(&det, "%s\n", (char *) lfirst(lc));
			ereport(ERROR,
					(errcode(ERRCODE_UNIQUE_VIOLATION),
					 errmsg(INT64_FORMAT " row%s of \"%s\" %s with \"%s\" in a shared column",
							res->conflicts, res->conflicts == 1 ? "" : "s", ename,
							res->conflicts == 1 ? "disagrees" : "disagree", bname),
					 errdetail_internal("First of them:\n%sNothing was changed.", det.data),
					 errhint("Pass on_conflict => 'keep_base' or 'take_extension' to decide.")));
		}
	}

	if (backup)
	{
		(void) dedup_backup_relation(base, NULL);
		(void) dedup_backup_relation(ext, NULL);
		sql = lappend(sql, psprintf("SELECT dedup.backup_table(%s)", quote_literal_cstr(bq)));
		sql = lappend(sql, psprintf("SELECT dedup.backup_table(%s)", quote_literal_cstr(eq)));
	}

	/*
	 * Phase A, still under SHARE: build the merged table beside the base.
	 * A shadow like the base (defaults, generated columns, storage) plus
	 * the extension's own columns, filled by one join, with the base's
	 * constraints and indexes under temporary names.
	 */
	{
		char	   *nspname = get_namespace_name(get_rel_namespace(base));
		char	   *sname = psprintf("%.40s_dedup_merge", bname);
		char	   *sq = quote_qualified_identifier(nspname, sname);
		char	   *persistence = query1("SELECT CASE c.relpersistence WHEN 'u' THEN 'UNLOGGED ' ELSE '' END"
										 "  FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) $1 AND $2 IS NOT NULL",
										 base, ext);
		char	   *options = query1("SELECT pg_catalog.array_to_string(c.reloptions, ', ')"
									 "  FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) $1 AND $2 IS NOT NULL",
									 base, ext);
		StringInfoData inscols;
		StringInfoData selcols;
		List	   *renames = NIL;	/* pairs: "CONSTRAINT"|"INDEX", temp, original */
		List	   *identity;
		Oid			newid;
		int			k = 0;

		if (OidIsValid(get_relname_relid(sname, get_rel_namespace(base))))
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_TABLE),
					 errmsg("relation \"%s\" already exists", sname),
					 errdetail("dedup builds the merged table under that name. Nothing was changed."),
					 errhint("Drop or rename it first.")));
		dedup_exec_logged(&sql, psprintf("CREATE %sTABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING GENERATED"
										 " INCLUDING STORAGE INCLUDING COMPRESSION)", persistence, sq, bq));
		if (options && options[0])
			dedup_exec_logged(&sql, psprintf("ALTER TABLE %s SET (%s)", sq, options));
		dedup_exec_logged(&sql, psprintf("ALTER TABLE %s OWNER TO %s", sq,
										 quote_identifier(query1("SELECT pg_catalog.pg_get_userbyid(c.relowner) FROM pg_catalog.pg_class c"
																 " WHERE c.oid OPERATOR(pg_catalog.=) $1 AND $2 IS NOT NULL", base, ext))));

		/* the extension's own columns, with their defaults and comments */
		initStringInfo(&add);
		foreach(lc, cols)
		{
			ExtColumn  *c = (ExtColumn *) lfirst(lc);

			if (!c->own)
				continue;
			appendStringInfo(&add, "%sADD COLUMN %s %s%s", add.len ? ", " : "", quote_identifier(c->name),
							 c->type, c->collate);
			res->added = lappend(res->added, c->name);
		}
		if (add.len > 0)
			dedup_exec_logged(&sql, psprintf("ALTER TABLE %s %s", sq, add.data));

		/* one join fills it: every base row, with its extension's values */
		initStringInfo(&inscols);
		initStringInfo(&selcols);
		foreach(lc, dedup_column_names(base))
		{
			char	   *c = (char *) lfirst(lc);
			const char *q = quote_identifier(c);
			ExtColumn  *shared = NULL;

			if (get_attgenerated(base, get_attnum(base, c)) != '\0')
				continue;
			foreach(lc2, cols)
				if (!((ExtColumn *) lfirst(lc2))->own && strcmp(((ExtColumn *) lfirst(lc2))->name, c) == 0)
					shared = (ExtColumn *) lfirst(lc2);
			appendStringInfo(&inscols, "%s%s", inscols.len ? ", " : "", q);
			if (shared == NULL)
				appendStringInfo(&selcols, "%sb.%s", selcols.len ? ", " : "", q);
			else if (strcmp(on_conflict, "take_extension") == 0)
				appendStringInfo(&selcols, "%sCOALESCE(e.%s, b.%s)", selcols.len ? ", " : "", q, q);
			else
				appendStringInfo(&selcols, "%sCOALESCE(b.%s, e.%s)", selcols.len ? ", " : "", q, q);
		}
		foreach(lc, cols)
		{
			const char *q = quote_identifier(((ExtColumn *) lfirst(lc))->name);

			if (!((ExtColumn *) lfirst(lc))->own)
				continue;
			appendStringInfo(&inscols, ", %s", q);
			appendStringInfo(&selcols, ", e.%s", q);
		}
		dedup_exec_logged(&sql, psprintf("INSERT INTO %s (%s) SELECT %s FROM %s b LEFT JOIN %s e ON %s",
										 sq, inscols.data, selcols.data, bq, eq, keymatch.data));
		res->merged = pg_strtoint64(dedup_query_value(psprintf("SELECT pg_catalog.count(*) FROM %s", eq),
													  0, NULL, NULL));

		/* the base's constraints and indexes, under temporary names */
		foreach(lc, queryrows("SELECT k.conname, pg_catalog.pg_get_constraintdef(k.oid)"
							  "  FROM pg_catalog.pg_constraint k WHERE k.conrelid OPERATOR(pg_catalog.=) $1"
							  "   AND k.contype IN ('p', 'u', 'x', 'c', 'f') AND k.conislocal AND $2 IS NOT NULL"
							  " ORDER BY k.contype OPERATOR(pg_catalog.=) 'f', k.conname", base, ext))
		{
			char	  **row = (char **) lfirst(lc);	/* name, definition */
			char	   *tmp = psprintf("%.40s_dedup_c%d", bname, ++k);

			dedup_exec_logged(&sql, psprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", sq, quote_identifier(tmp), row[1]));
			renames = lappend(renames, list_make3(pstrdup("CONSTRAINT"), tmp, row[0]));
		}
		foreach(lc, queryrows("SELECT ic.relname, CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END,"
							  "       pg_catalog.substring(pg_catalog.pg_get_indexdef(i.indexrelid), ' USING (.*)$')"
							  "  FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid OPERATOR(pg_catalog.=) i.indexrelid"
							  " WHERE i.indrelid OPERATOR(pg_catalog.=) $1 AND $2 IS NOT NULL"
							  "   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid OPERATOR(pg_catalog.=) i.indexrelid)"
							  " ORDER BY ic.relname", base, ext))
		{
			char	  **row = (char **) lfirst(lc);	/* name, UNIQUE or not, definition */
			char	   *tmp = psprintf("%.40s_dedup_i%d", bname, ++k);

			dedup_exec_logged(&sql, psprintf("CREATE %sINDEX %s ON %s USING %s", row[1],
											 quote_identifier(tmp), sq, row[2]));
			renames = lappend(renames, list_make3(pstrdup("INDEX"), tmp, row[0]));
		}

		/* the extension's own columns: defaults, NOT NULL, comments, CHECKs, sequences */
		foreach(lc, cols)
		{
			ExtColumn  *c = (ExtColumn *) lfirst(lc);
			const char *q = quote_identifier(c->name);

			if (!c->own)
				continue;
			if (c->defexpr)
				dedup_exec_logged(&sql, psprintf("ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s", sq, q, c->defexpr));
			if (c->notnull)
			{
				n = dedup_query_value(psprintf("SELECT pg_catalog.count(*) FROM %s WHERE %s IS NULL", sq, q), 0, NULL, NULL);
				if (strcmp(n, "0") == 0)
					dedup_exec_logged(&sql, psprintf("ALTER TABLE %s ALTER COLUMN %s SET NOT NULL", sq, q));
				else
					notices = lappend(notices, psprintf("column %s stays nullable: %s rows of \"%s\" had no row in \"%s\"", q, n, bname, ename));
			}
			if (c->comment)
				dedup_exec_logged(&sql, psprintf("COMMENT ON COLUMN %s.%s IS %s", sq, q, quote_literal_cstr(c->comment)));
		}
		foreach(lc, queryrows("SELECT pg_catalog.quote_ident(k.conname), pg_catalog.pg_get_expr(k.conbin, k.conrelid)"
							  "  FROM pg_catalog.pg_constraint k WHERE k.conrelid OPERATOR(pg_catalog.=) $1 AND k.contype OPERATOR(pg_catalog.=) 'c'"
							  "   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint o WHERE o.conrelid OPERATOR(pg_catalog.=) $2 AND o.conname OPERATOR(pg_catalog.=) k.conname)"
							  " ORDER BY k.conname", ext, base))
		{
			char	  **row = (char **) lfirst(lc);	/* quoted name, expression */

			n = dedup_query_value(psprintf("SELECT pg_catalog.count(*) FROM %s WHERE NOT COALESCE((%s), true)", sq, row[1]),
								  0, NULL, NULL);
			if (strcmp(n, "0") == 0)
				dedup_exec_logged(&sql, psprintf("ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s)", sq, row[0], row[1]));
			else
				notices = lappend(notices, psprintf("constraint %s not added: %s rows of \"%s\" violate it", row[0], n, bname));
		}
		foreach(lc, queryn(psprintf("SELECT pg_catalog.format('ALTER SEQUENCE %%s OWNED BY %s.%%I', d.objid::pg_catalog.regclass, a.attname)"
									"  FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) d.refobjid AND a.attnum OPERATOR(pg_catalog.=) d.refobjsubid"
									"  JOIN pg_catalog.pg_class sc ON sc.oid OPERATOR(pg_catalog.=) d.objid AND sc.relkind OPERATOR(pg_catalog.=) 'S'"
									" WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
									"   AND d.refobjid IN ($1, $2) AND d.deptype OPERATOR(pg_catalog.=) 'a' AND d.refobjsubid OPERATOR(pg_catalog.>) 0",
									sq), ext, base))
			dedup_exec_logged(&sql, (char *) lfirst(lc));	/* serial sequences of both follow their columns */

		/* the base's identity columns come back with their sequence's name and options */
		identity = queryn("SELECT pg_catalog.format('ALTER TABLE %s ALTER COLUMN %I ADD GENERATED %s AS IDENTITY"
						  " (SEQUENCE NAME %s INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s%s)',"
						  "       $1::pg_catalog.regclass, a.attname,"
						  "       CASE a.attidentity WHEN 'a' THEN 'ALWAYS' ELSE 'BY DEFAULT' END, d.objid::pg_catalog.regclass,"
						  "       s.seqincrement, s.seqmin, s.seqmax, s.seqstart, s.seqcache,"
						  "       CASE WHEN s.seqcycle THEN ' CYCLE' ELSE ' NO CYCLE' END)"
						  "  FROM pg_catalog.pg_attribute a"
						  "  JOIN pg_catalog.pg_depend d ON d.refobjid OPERATOR(pg_catalog.=) a.attrelid AND d.refobjsubid OPERATOR(pg_catalog.=) a.attnum"
						  "   AND d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype OPERATOR(pg_catalog.=) 'i'"
						  "  JOIN pg_catalog.pg_sequence s ON s.seqrelid OPERATOR(pg_catalog.=) d.objid"
						  " WHERE a.attrelid OPERATOR(pg_catalog.=) $1 AND a.attidentity OPERATOR(pg_catalog.<>) '' AND $2 IS NOT NULL",
						  base, ext);

		/*
		 * Read now, run in phase B after the extension is dropped (its drop
		 * drops these foreign keys, journaled): foreign keys that pointed at
		 * the extension, pointing at the base; the extension's triggers; the
		 * privileges on the new columns.
		 */

		/* foreign keys that pointed at the extension point at the base */
		{
			Oid			types[3] = {OIDOID, OIDOID, TEXTOID};
			Datum		args[3];

			args[0] = ObjectIdGetDatum(ext);
			args[1] = ObjectIdGetDatum(base);
			args[2] = CStringGetTextDatum(dedup_quoted_list(bkey));
			foreach(lc, dedup_query_column(
						"SELECT pg_catalog.format('ALTER TABLE %s ADD CONSTRAINT %I %s',"
						"         k.conrelid::pg_catalog.regclass, k.conname,"
						"         pg_catalog.regexp_replace(pg_catalog.pg_get_constraintdef(k.oid),"
						"           ' REFERENCES .*\\(.*?\\)', ' REFERENCES ' OPERATOR(pg_catalog.||) $2::pg_catalog.regclass::pg_catalog.text"
						"             OPERATOR(pg_catalog.||) '(' OPERATOR(pg_catalog.||) $3 OPERATOR(pg_catalog.||) ')'))"
						"  FROM pg_catalog.pg_constraint k"
						" WHERE k.contype OPERATOR(pg_catalog.=) 'f' AND k.confrelid OPERATOR(pg_catalog.=) $1"
						"   AND k.conrelid OPERATOR(pg_catalog.<>) $1 AND k.conparentid OPERATOR(pg_catalog.=) 0"
						"   AND (SELECT pg_catalog.array_agg(x ORDER BY x) FROM pg_catalog.unnest(k.confkey) x) OPERATOR(pg_catalog.=)"
						"       (SELECT pg_catalog.array_agg(x ORDER BY x) FROM pg_catalog.pg_constraint p, pg_catalog.unnest(p.conkey) x"
						"         WHERE p.conrelid OPERATOR(pg_catalog.=) $1 AND p.contype OPERATOR(pg_catalog.=) 'p')"
						" ORDER BY k.conname", 3, types, args, NULL))
			{
				late = lappend(late, lfirst(lc));
				res->repointed++;
			}
		}

		/* triggers of the extension the base has no trigger of that name for */
		foreach(lc, queryn("SELECT pg_catalog.replace(pg_catalog.pg_get_triggerdef(t.oid),"
						   "         ' ON ' OPERATOR(pg_catalog.||) $1::pg_catalog.regclass::pg_catalog.text OPERATOR(pg_catalog.||) ' ',"
						   "         ' ON ' OPERATOR(pg_catalog.||) $2::pg_catalog.regclass::pg_catalog.text OPERATOR(pg_catalog.||) ' ')"
						   "  FROM pg_catalog.pg_trigger t WHERE t.tgrelid OPERATOR(pg_catalog.=) $1 AND NOT t.tgisinternal"
						   "   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger o WHERE o.tgrelid OPERATOR(pg_catalog.=) $2 AND o.tgname OPERATOR(pg_catalog.=) t.tgname)"
						   " ORDER BY t.tgname", ext, base))
			late = lappend(late, lfirst(lc));

		/*
		 * Privileges on the new columns: carried from the extension only where
		 * they expose no row the role could not read there.  Roles whose
		 * table-level privilege on the base would reach the new columns keep it
		 * on the old columns only.
		 */
		if (res->added != NIL)
		{
			Oid			types[3] = {OIDOID, OIDOID, TEXTOID};
			Datum		args[3];

			args[0] = ObjectIdGetDatum(ext);
			args[1] = ObjectIdGetDatum(base);
			args[2] = CStringGetTextDatum(dedup_quoted_list(res->added));
			foreach(lc, dedup_query_column(
						"WITH e AS (SELECT c.relrowsecurity, c.relowner, a.grantee, a.privilege_type"
						"             FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a"
						"            WHERE c.oid OPERATOR(pg_catalog.=) $1"
						"              AND a.privilege_type IN ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES')),"
						" pol AS (SELECT p.polrelid, r.role, p.polcmd, p.polpermissive,"
						"                pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS qual,"
						"                pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS chk"
						"           FROM pg_catalog.pg_policy p, pg_catalog.unnest(p.polroles) r(role)"
						"          WHERE p.polrelid IN ($1, $2)),"
						" ok AS (SELECT e.grantee, e.privilege_type FROM e"
						"         WHERE e.grantee OPERATOR(pg_catalog.=) e.relowner OR NOT e.relrowsecurity"
						"            OR ((SELECT c.relrowsecurity FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) $2)"
						"                AND NOT EXISTS ((SELECT polcmd, polpermissive, qual, chk FROM pol"
						"                                  WHERE polrelid OPERATOR(pg_catalog.=) $1 AND role IN (0, e.grantee))"
						"                                EXCEPT (SELECT polcmd, polpermissive, qual, chk FROM pol"
						"                                  WHERE polrelid OPERATOR(pg_catalog.=) $2 AND role IN (0, e.grantee)))"
						"                AND NOT EXISTS ((SELECT polcmd, polpermissive, qual, chk FROM pol"
						"                                  WHERE polrelid OPERATOR(pg_catalog.=) $2 AND role IN (0, e.grantee))"
						"                                EXCEPT (SELECT polcmd, polpermissive, qual, chk FROM pol"
						"                                  WHERE polrelid OPERATOR(pg_catalog.=) $1 AND role IN (0, e.grantee))))),"
						" b AS (SELECT c.relowner, a.grantee, a.privilege_type"
						"         FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a"
						"        WHERE c.oid OPERATOR(pg_catalog.=) $2"
						"          AND a.privilege_type IN ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES')"
						"          AND a.grantee OPERATOR(pg_catalog.<>) c.relowner),"
						" oldcols AS (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum) AS l"
						"               FROM pg_catalog.pg_attribute a WHERE a.attrelid OPERATOR(pg_catalog.=) $2 AND a.attnum OPERATOR(pg_catalog.>) 0"
						"                AND NOT a.attisdropped AND a.attname::pg_catalog.text OPERATOR(pg_catalog.<>) ALL"
						"                    (SELECT pg_catalog.btrim(x) FROM pg_catalog.unnest(pg_catalog.string_to_array($3, ',')) x))"
						"SELECT pg_catalog.format('REVOKE %s ON TABLE %s FROM %s; GRANT %s (%s) ON TABLE %s TO %s', b.privilege_type,"
						"       $2::pg_catalog.regclass, CASE b.grantee WHEN 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(b.grantee)) END,"
						"       b.privilege_type, (SELECT l FROM oldcols), $2::pg_catalog.regclass,"
						"       CASE b.grantee WHEN 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(b.grantee)) END)"
						"  FROM b WHERE NOT EXISTS (SELECT 1 FROM ok WHERE ok.grantee OPERATOR(pg_catalog.=) b.grantee"
						"                            AND ok.privilege_type OPERATOR(pg_catalog.=) b.privilege_type)"
						" UNION ALL "
						"SELECT pg_catalog.format('GRANT %s (%s) ON TABLE %s TO %s', ok.privilege_type, $3, $2::pg_catalog.regclass,"
						"       CASE ok.grantee WHEN 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(ok.grantee)) END)"
						"  FROM ok WHERE ok.grantee OPERATOR(pg_catalog.<>) (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) $2)"
						"   AND NOT EXISTS (SELECT 1 FROM b WHERE b.grantee OPERATOR(pg_catalog.=) ok.grantee"
						"                    AND b.privilege_type OPERATOR(pg_catalog.=) ok.privilege_type)"
						" ORDER BY 1", 3, types, args, NULL))
				late = lappend(late, lfirst(lc));
		}

		/* both drops, read from the catalogs while only SHARE is held */
		plan_b = dedup_plan_drop(base, true);
		plan_e = dedup_plan_drop(ext, true);

		/*
		 * Write out the WAL of phase A now, while readers still read: the
		 * commit, which ends phase B, then has little left to flush.
		 */
		XLogFlush(GetXLogInsertRecPtr());

		/*
		 * Phase B, ACCESS EXCLUSIVE, catalog work only: the base goes (its
		 * definition and dependents journaled), the shadow takes its name,
		 * its constraints' and indexes' names, its identity, and everything
		 * else of its definition; then what depended on it comes back.
		 */
		dedup_lock_pair(base, AccessExclusiveLock, ext, AccessExclusiveLock);
		INSTR_TIME_SET_CURRENT(phase_b_start);
		(void) dedup_execute_drop(plan_b, false);
		phase_b_mark("base dropped");
		sql = lappend(sql, psprintf("SELECT dedup.drop_if_empty(%s, cascade => true)  -- rows now in %s",
									quote_literal_cstr(bq), sq));
		dedup_exec_logged(&sql, psprintf("ALTER TABLE %s RENAME TO %s", sq, quote_identifier(bname)));
		foreach(lc, renames)
		{
			List	   *r = (List *) lfirst(lc);

			if (strcmp((char *) linitial(r), "CONSTRAINT") == 0)
				dedup_exec_logged(&sql, psprintf("ALTER TABLE %s RENAME CONSTRAINT %s TO %s", bq,
												 quote_identifier((char *) lsecond(r)), quote_identifier((char *) lthird(r))));
			else
				dedup_exec_logged(&sql, psprintf("ALTER INDEX %s RENAME TO %s",
												 quote_qualified_identifier(nspname, (char *) lsecond(r)),
												 quote_identifier((char *) lthird(r))));
		}
		newid = dedup_lookup_relation(bq);
		foreach(lc, identity)
			dedup_exec_logged(&sql, (char *) lfirst(lc));
		{
			Oid			types[2] = {TEXTOID, TEXTOID};
			Datum		args[2];

			args[0] = CStringGetTextDatum(plan_b->definition);
			args[1] = CStringGetTextDatum(eq);
			/* its definition, less what phase A built */
			foreach(lc, dedup_query_column(
						"SELECT s FROM pg_catalog.jsonb_array_elements_text($1::pg_catalog.jsonb->'tables'->0->'post')"
						"      WITH ORDINALITY x(s, n)"
						" WHERE s NOT LIKE 'CREATE INDEX %' AND s NOT LIKE 'CREATE UNIQUE INDEX %'"
						"   AND s NOT LIKE 'ALTER TABLE % ADD CONSTRAINT %'"
						" ORDER BY x.n", 1, types, args, NULL))
				dedup_exec_logged(&sql, (char *) lfirst(lc));
			/* what depended on it, except the extension's own foreign key */
			foreach(lc, dedup_query_column(
						"SELECT s FROM pg_catalog.jsonb_array_elements($1::pg_catalog.jsonb->'dependents') WITH ORDINALITY x(d, n),"
						"  pg_catalog.jsonb_array_elements_text(x.d->'create') WITH ORDINALITY y(s, m)"
						" WHERE NOT (x.d->>'kind' OPERATOR(pg_catalog.=) 'foreign key'"
						"            AND pg_catalog.starts_with(s, 'ALTER TABLE ' OPERATOR(pg_catalog.||) $2 OPERATOR(pg_catalog.||) ' '))"
						" ORDER BY x.n, y.m", 2, types, args, NULL))
				dedup_exec_logged(&sql, (char *) lfirst(lc));
		}
		base = newid;
		phase_b_mark("merged table renamed, its definition and dependents restored");
	}

	/* remember the extension's face before dropping it */
	eacl = query1("SELECT c.relacl::pg_catalog.text FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) $1 AND $2 IS NOT NULL", ext, base);
	eowner = query1("SELECT pg_catalog.pg_get_userbyid(c.relowner) FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) $1 AND $2 IS NOT NULL", ext, base);
	ecomment = query1("SELECT pg_catalog.obj_description($1, 'pg_class') WHERE $2 IS NOT NULL", ext, base);
	{
		StringInfoData viewcols;
		List	   *ecolnames = dedup_column_names(ext);
		int			k;

		initStringInfo(&viewcols);
		foreach(lc, ecolnames)
		{
			char	   *c = (char *) lfirst(lc);
			const char *src = c;

			k = 0;
			foreach(lc2, ekey)
			{
				if (strcmp((char *) lfirst(lc2), c) == 0)
					src = (char *) list_nth(bkey, k);
				k++;
			}
			appendStringInfo(&viewcols, "%sb.%s", viewcols.len ? ", " : "", quote_identifier(src));
			if (src != c)
				appendStringInfo(&viewcols, " AS %s", quote_identifier(c));
		}

		/* the extension goes, journaled with its dependents */
		(void) dedup_execute_drop(plan_e, false);
		foreach(lc, late)
			dedup_exec_logged(&sql, (char *) lfirst(lc));
		sql = lappend(sql, psprintf("SELECT dedup.drop_if_empty(%s, cascade => true)  -- values now in %s",
									quote_literal_cstr(eq), bq));

		if (compat_view)
		{
			StringInfoData fn;
			StringInfoData upd;
			StringInfoData clear;
			StringInfoData where;
			char	   *fname = psprintf("%s.%s", quote_identifier(get_namespace_name(get_rel_namespace(base))),
										 quote_identifier(psprintf("%.40s_dedup_compat", ename)));

			dedup_exec_logged(&sql, psprintf("CREATE VIEW %s WITH (security_invoker = true) AS SELECT %s FROM %s b",
											 eq, viewcols.data, bq));
			initStringInfo(&upd);
			initStringInfo(&clear);
			initStringInfo(&where);
			foreach(lc, cols)
			{
				const char *q = quote_identifier(((ExtColumn *) lfirst(lc))->name);

				/* a shared column the client left out keeps the base's value */
				if (((ExtColumn *) lfirst(lc))->own)
					appendStringInfo(&upd, "%s%s = NEW.%s", upd.len ? ", " : "", q, q);
				else
					appendStringInfo(&upd, "%s%s = COALESCE(NEW.%s, %s)", upd.len ? ", " : "", q, q, q);
				if (((ExtColumn *) lfirst(lc))->own)
					appendStringInfo(&clear, "%s%s = DEFAULT", clear.len ? ", " : "", q);
			}
			k = 0;
			forboth(lc, ekey, lc2, bkey)
				appendStringInfo(&where, "%s%s = %%s.%s", where.len ? " AND " : "",
								 quote_identifier((char *) lfirst(lc2)), quote_identifier((char *) lfirst(lc)));
			initStringInfo(&fn);
			appendStringInfo(&fn,
							 "CREATE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql"
							 " SET search_path = pg_catalog, pg_temp AS $dedup$\n"
							 "BEGIN\n"
							 "  -- dedup: %s was merged into %s; its rows are the base's rows\n"
							 "  IF TG_OP = 'DELETE' THEN\n"
							 "    %s\n"
							 "    RETURN OLD;\n"
							 "  END IF;\n"
							 "  %s\n"
							 "  IF NOT FOUND THEN\n"
							 "    RAISE EXCEPTION 'no row in %%', %s USING ERRCODE = 'foreign_key_violation';\n"
							 "  END IF;\n"
							 "  RETURN NEW;\n"
							 "END\n$dedup$",
							 fname, eq, bq,
							 clear.len ? psprintf("UPDATE %s SET %s WHERE %s;", bq, clear.data, psprintf(where.data, "OLD")) : "NULL;",
							 upd.len ? psprintf("UPDATE %s SET %s WHERE %s;", bq, upd.data, psprintf(where.data, "NEW")) :
							 psprintf("PERFORM FROM %s WHERE %s;", bq, psprintf(where.data, "NEW")),
							 quote_literal_cstr(bq));
			dedup_exec_logged(&sql, fn.data);
			dedup_exec_logged(&sql, psprintf("CREATE TRIGGER dedup_compat INSTEAD OF INSERT OR DELETE ON %s"
											 " FOR EACH ROW EXECUTE FUNCTION %s()", eq, fname));
			/* an INSERT that leaves a column out gets the extension's default */
			foreach(lc, cols)
			{
				ExtColumn  *c = (ExtColumn *) lfirst(lc);

				if (c->defexpr)
					dedup_exec_logged(&sql, psprintf("ALTER VIEW %s ALTER COLUMN %s SET DEFAULT %s", eq,
													 quote_identifier(c->name), c->defexpr));
			}
			if (eowner)
				dedup_exec_logged(&sql, psprintf("ALTER VIEW %s OWNER TO %s", eq, quote_identifier(eowner)));
			dedup_exec_logged(&sql, psprintf("SELECT dedup._set_acl(%s::regclass, %s, 'TABLE')", quote_literal_cstr(eq),
											 eacl ? psprintf("%s::aclitem[]", quote_literal_cstr(eacl)) : "NULL"));
			dedup_exec_logged(&sql, psprintf("COMMENT ON VIEW %s IS %s", eq,
											 quote_literal_cstr(psprintf("%s%sdedup: merged into %s; this view keeps old clients working",
																		 ecomment ? ecomment : "", ecomment ? " / " : "", bq))));
			/* views that were over the extension come back over the view */
			{
				Oid			types[1] = {TEXTOID};
				Datum		args[1] = {CStringGetTextDatum(plan_e->definition)};

				foreach(lc, dedup_query_column(
							"SELECT s FROM pg_catalog.jsonb_array_elements($1::pg_catalog.jsonb->'dependents') WITH ORDINALITY x(d, n),"
							"  pg_catalog.jsonb_array_elements_text(x.d->'create') WITH ORDINALITY y(s, m)"
							" WHERE x.d->>'kind' IN ('view', 'materialized view', 'rule')"
							" ORDER BY x.n, y.m", 1, types, args, NULL))
					dedup_exec_logged(&sql, (char *) lfirst(lc));
			}
		}
	}

	phase_b_mark("extension dropped, compatibility view created");
	foreach(lc, notices)
		ereport(NOTICE, (errmsg("%s", (char *) lfirst(lc))));

	initStringInfo(&d);
	appendStringInfoChar(&d, '{');
	dedup_json_str(&d, "kind", "extension");
	dedup_json_str(&d, "base", bq);
	dedup_json_str(&d, "extension", eq);
	dedup_json_str(&d, "on_conflict", on_conflict);
	dedup_json_raw(&d, "columns_added", dedup_json_array(res->added));
	dedup_json_raw(&d, "rows_merged", psprintf(INT64_FORMAT, res->merged));
	dedup_json_raw(&d, "conflicts", psprintf(INT64_FORMAT, res->conflicts));
	dedup_json_raw(&d, "fks_repointed", psprintf("%d", res->repointed));
	dedup_json_raw(&d, "compat_view", compat_view ? "true" : "false");
	dedup_json_raw(&d, "sql", dedup_json_array(sql));
	appendStringInfoChar(&d, '}');
	dedup_journal_write("merge", bq, d.data);
}

/*
 * dedup.merge_extension(base regclass, extension regclass,
 *		on_conflict text DEFAULT 'error', compat_view boolean DEFAULT true,
 *		backup boolean DEFAULT true)
 *	 RETURNS TABLE (columns_added name[], rows_merged bigint, conflicts bigint,
 *					fks_repointed int)
 *
 *	 SELECT * FROM dedup.merge_extension('members', 'community_members');
 */
Datum
dedup_merge_extension(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext cxt = CurrentMemoryContext;
	ExtResult	res;
	ExtResult  *volatile out = NULL;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	char	  **names;
	ListCell   *lc;
	int			i = 0;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3) || PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("no argument of dedup.merge_extension() may be null")));
	dedup_init_srf(fcinfo);
	PG_TRY();
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "dedup: SPI_connect failed");
		merge_extension_internal(PG_GETARG_OID(0), PG_GETARG_OID(1),
								 text_to_cstring(PG_GETARG_TEXT_PP(2)),
								 PG_GETARG_BOOL(3), PG_GETARG_BOOL(4), &res);
		out = MemoryContextAlloc(cxt, sizeof(ExtResult));
		*out = res;
		{
			MemoryContext old = MemoryContextSwitchTo(cxt);

			out->added = NIL;
			foreach(lc, res.added)
				out->added = lappend(out->added, pstrdup((char *) lfirst(lc)));
			MemoryContextSwitchTo(old);
		}
		SPI_finish();
	}
	PG_CATCH();
	{
		dedup_rethrow_unchanged(cxt);
	}
	PG_END_TRY();

	names = palloc(sizeof(char *) * Max(list_length(out->added), 1));
	foreach(lc, out->added)
		names[i++] = (char *) lfirst(lc);
	values[0] = dedup_name_array(names, i);
	values[1] = Int64GetDatum(out->merged);
	values[2] = Int64GetDatum(out->conflicts);
	values[3] = Int32GetDatum(out->repointed);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}
