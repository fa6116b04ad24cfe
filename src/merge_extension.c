/*-------------------------------------------------------------------------
 *
 * merge_extension.c
 *	  dedup.merge_extension(): fold a 1:1 extension table into its base.
 *
 * The extension's primary key is a foreign key to the base's.  Its other
 * columns are added to the base and filled by key; columns both tables
 * have are compared value by value (stored values, not "=").  The base
 * keeps its OID: its rows are rebuilt beside it and swapped in (swap.c),
 * so every grant, policy, trigger, view, foreign key, identity and
 * sequence, publication and statistic of the base stays as it was, and
 * ids handed out by its sequences go on from where they were.  The
 * extension's name becomes a view over the base that answers as the table
 * did (compat_view.c).
 *
 * The action is a short phase controller over an ExtMerge:
 *
 *	 check_merge     ownership, locks (SHARE on both, in OID order), the
 *					 1:1 key, columns, what of the extension can be carried
 *	 compare_rows    extension rows without a base row, conflicts, values
 *					 that fill base NULLs
 *	 check_access    role by role: nobody reads or writes more, or less
 *	 take_backups    journaled backups of both tables (steps)
 *	 build_merged    the merged rows and the base's indexes, beside the base
 *					 (readers of the base go on; writers wait)
 *	 check_merged    the CHECKs swap_in declares hold for the merged rows
 *	 swap_in         under ACCESS EXCLUSIVE, catalog work only: columns
 *					 added, storage swapped, what the extension had carried
 *					 over, foreign keys repointed, the extension dropped
 *					 (a step), the compatibility view created
 *
 * dedup.undo() of the journal entry reverses all of it (undo_merge).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/heapam_xlog.h"
#include "access/rewriteheap.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "commands/tablecmds.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "storage/procarray.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"

#include "compat.h"
#include "dedup.h"
#include "ddl.h"

PG_FUNCTION_INFO_V1(dedup_merge_extension);

#define MERGE_BATCH 1000

/* A column of the extension other than its key. */
typedef struct ExtColumn
{
	char	   *name;
	bool		own;			/* not in the base: added to it */
	char	   *definition;		/* "name type [COLLATE c]" */
	char	   *defexpr;		/* its default, or NULL */
	bool		notnull;
	char	   *comment;
	int64		filled;			/* shared: base NULLs the extension fills */
} ExtColumn;

/*
 * A statement that carries something of the extension over to the base, or
 * points a foreign key at it.  A CHECK or foreign key that held before is
 * added NOT VALID and marked valid, so that no scan runs while readers
 * wait: check_merged proved it on the merged rows (check), or it holds by
 * how they are built (nothing to check).
 */
typedef struct ExtCarry
{
	char	   *stmt;
	Oid			relid;			/* the table the constraint is on */
	char	   *conname;		/* marked valid after stmt, or NULL */
	char	   *check;			/* a CHECK expression to prove first, or NULL */
} ExtCarry;

/* Everything one merge_extension knows, phase by phase. */
typedef struct ExtMerge
{
	/* arguments */
	Oid			base;
	Oid			ext;
	const char *on_conflict;	/* error | keep_base | take_extension */
	bool		compat_view;
	bool		backup;
	bool		preview;		/* only the checks, under ACCESS SHARE (dedup.plan) */

	/* check_merge */
	char	   *bq;				/* quoted qualified names */
	char	   *eq;
	char	   *bname;
	char	   *ename;
	Oid			owner;
	List	   *bkey;			/* char *: the base's key columns ... */
	List	   *ekey;			/* ... and the extension's, pairwise */
	List	   *cols;			/* ExtColumn * */
	char	   *keymatch;		/* b.k = e.k AND ... */
	bool		key_fk_valid;	/* the extension's key references the base's, validated */
	List	   *carry;			/* ExtCarry *: the extension's constraints and indexes, rebuilt on the base */
	List	   *repoint;		/* ExtCarry *: foreign keys into the extension, pointing at the base */
	List	   *repoint_names;	/* char *: "constraint on table", for the journal */
	List	   *ecols;			/* char *: the extension's columns, in order */
	char	   *definer_view;	/* the view definer dependents read, or NULL */

	/* compare_rows */
	int64		ext_rows;
	int64		conflicts;
	List	   *filled;			/* char *: shared columns whose base NULLs get values */

	/* check_access */
	List	   *grants;

	/* take_backups */
	int64		base_backup;	/* journal ids */
	int64		ext_backup;

	/* build_merged, swap_in */
	DedupRebuild *rb;
	DedupRows	rows;
	int64		drop_entry;
	List	   *sql;
	List	   *notices;
	char	   *carried;		/* JSON array: the constraints and indexes put on the base */
} ExtMerge;


static void check_merge(ExtMerge *m);
static void compare_rows(ExtMerge *m);
static void check_access(ExtMerge *m);
static void take_backups(ExtMerge *m);
static void build_merged(ExtMerge *m);
static void check_merged(ExtMerge *m);
static void swap_in(ExtMerge *m);

/* Rows of a query over the two tables ($1 extension, $2 base). */
static List *
rows_ext_base(ExtMerge *m, const char *sql)
{
	Oid			types[2] = {OIDOID, OIDOID};
	Datum		args[2] = {ObjectIdGetDatum(m->ext), ObjectIdGetDatum(m->base)};

	return dedup_query_rows(sql, 2, types, args);
}

/* Column names of the own (added) or shared columns. */
static List *
column_names(ExtMerge *m, bool own)
{
	List	   *out = NIL;
	ListCell   *lc;

	foreach(lc, m->cols)
		if (((ExtColumn *) lfirst(lc))->own == own)
			out = lappend(out, ((ExtColumn *) lfirst(lc))->name);
	return out;
}

/* A refusal naming what of the extension cannot be carried over. */
static void
refuse_objects(ExtMerge *m, List *what, const char *hint)
{
	StringInfoData d;
	ListCell   *lc;

	if (what == NIL)
		return;
	initStringInfo(&d);
	foreach(lc, what)
		appendStringInfo(&d, "%s.\n", (char *) lfirst(lc));
	appendStringInfoString(&d, "Nothing was changed.");
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot merge \"%s\" into \"%s\": some of what it has cannot be carried over",
					m->ename, m->bname),
			 errdetail_internal("%s", d.data),
			 errhint("%s", hint)));
}

/*
 * check_merge
 *		On entry nothing is locked.  On exit both tables are locked SHARE
 *		(readers go on, writers wait), the caller owns both and they have
 *		one owner, and m holds the key, the columns and the statements that
 *		carry the extension's constraints and indexes over; anything of the
 *		extension that cannot be carried over was refused, named.
 */
static void
check_merge(ExtMerge *m)
{
	Relation	erel;
	Relation	brel;
	TupleDesc	edesc;
	List	   *pairs;
	List	   *refused = NIL;
	ListCell   *lc;
	StringInfoData keymatch;
	int			i;

	if (strcmp(m->on_conflict, "error") != 0 && strcmp(m->on_conflict, "keep_base") != 0 &&
		strcmp(m->on_conflict, "take_extension") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("on_conflict must be 'error', 'keep_base' or 'take_extension', not \"%s\"", m->on_conflict),
				 errdetail("Nothing was changed.")));
	if (m->base == m->ext)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("base and extension are the same table \"%s\"", get_rel_name(m->base)),
				 errdetail("Nothing was changed.")));

	/* ownership before any lock, then again under the lock */
	dedup_check_target(m->base, "merge into");
	dedup_check_target(m->ext, "drop");
	dedup_check_same_owner(m->ext, m->base);
	dedup_lock_pair(m->base, m->preview ? AccessShareLock : ShareLock,
					m->ext, m->preview ? AccessShareLock : ShareLock);
	dedup_check_target(m->base, "merge into");
	dedup_check_target(m->ext, "drop");
	m->owner = dedup_check_same_owner(m->ext, m->base);
	dedup_check_mergeable(m->base);
	dedup_check_mergeable(m->ext);

	/*
	 * The base's rows move to new places (ctids) and the extension goes:
	 * nothing of this session may still point at them, as CLUSTER requires.
	 * An AFTER trigger event queued for later (a DEFERRABLE foreign key or
	 * constraint trigger) names its row by ctid, and would check another
	 * row at commit; an open cursor would go on reading, or UPDATE ...
	 * WHERE CURRENT OF would change, a row that is not the one it fetched.
	 */
	{
		Relation	r = table_open(m->base, NoLock);

		CheckTableNotInUse(r, "merge into");
		table_close(r, NoLock);
		r = table_open(m->ext, NoLock);
		CheckTableNotInUse(r, "merge");
		table_close(r, NoLock);
	}
	m->bq = dedup_qualified_name(m->base);
	m->eq = dedup_qualified_name(m->ext);
	m->bname = get_rel_name(m->base);
	m->ename = get_rel_name(m->ext);
	if (get_rel_relkind(m->base) != RELKIND_RELATION || get_rel_relkind(m->ext) != RELKIND_RELATION ||
		get_rel_relispartition(m->base) || get_rel_relispartition(m->ext))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot merge \"%s\" into \"%s\": both must be plain tables", m->ename, m->bname),
				 errdetail("A partitioned table or a partition cannot be merged this way. Nothing was changed."),
				 errhint("Turn it into one plain table first: dedup.unpartition().")));

	/* the 1:1 key: the extension's primary key is a foreign key to the base's */
	pairs = rows_ext_base(m,
						  "SELECT ea.attname, ba.attname, f.convalidated::pg_catalog.text"
						  "  FROM pg_catalog.pg_constraint f"
						  "  JOIN pg_catalog.pg_constraint pe ON pe.conrelid OPERATOR(pg_catalog.=) f.conrelid AND pe.contype OPERATOR(pg_catalog.=) 'p'"
						  "  JOIN pg_catalog.pg_constraint pb ON pb.conrelid OPERATOR(pg_catalog.=) f.confrelid AND pb.contype OPERATOR(pg_catalog.=) 'p'"
						  " CROSS JOIN LATERAL ROWS FROM (pg_catalog.unnest(f.conkey), pg_catalog.unnest(f.confkey)) WITH ORDINALITY u(ek, bk, n)"
						  "  JOIN pg_catalog.pg_attribute ea ON ea.attrelid OPERATOR(pg_catalog.=) f.conrelid AND ea.attnum OPERATOR(pg_catalog.=) u.ek"
						  "  JOIN pg_catalog.pg_attribute ba ON ba.attrelid OPERATOR(pg_catalog.=) f.confrelid AND ba.attnum OPERATOR(pg_catalog.=) u.bk"
						  " WHERE f.oid OPERATOR(pg_catalog.=) (SELECT f2.oid FROM pg_catalog.pg_constraint f2"
						  "   JOIN pg_catalog.pg_constraint p2 ON p2.conrelid OPERATOR(pg_catalog.=) f2.conrelid AND p2.contype OPERATOR(pg_catalog.=) 'p'"
						  "   JOIN pg_catalog.pg_constraint q2 ON q2.conrelid OPERATOR(pg_catalog.=) f2.confrelid AND q2.contype OPERATOR(pg_catalog.=) 'p'"
						  "  WHERE f2.conrelid OPERATOR(pg_catalog.=) $1 AND f2.confrelid OPERATOR(pg_catalog.=) $2 AND f2.contype OPERATOR(pg_catalog.=) 'f'"
						  "    AND (SELECT pg_catalog.array_agg(x ORDER BY x) FROM pg_catalog.unnest(f2.conkey) x) OPERATOR(pg_catalog.=)"
						  "        (SELECT pg_catalog.array_agg(x ORDER BY x) FROM pg_catalog.unnest(p2.conkey) x)"
						  "    AND (SELECT pg_catalog.array_agg(x ORDER BY x) FROM pg_catalog.unnest(f2.confkey) x) OPERATOR(pg_catalog.=)"
						  "        (SELECT pg_catalog.array_agg(x ORDER BY x) FROM pg_catalog.unnest(q2.conkey) x)"
						  "  ORDER BY f2.conname LIMIT 1)"
						  " ORDER BY u.n");
	if (pairs == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" is not a 1:1 extension of \"%s\"", m->ename, m->bname),
				 errdetail("Its primary key must be a foreign key to the primary key of \"%s\". Nothing was changed.", m->bname),
				 errhint("Merge look-alikes with dedup.merge_rows() instead.")));
	initStringInfo(&keymatch);
	foreach(lc, pairs)
	{
		char	  **p = (char **) lfirst(lc);

		m->ekey = lappend(m->ekey, p[0]);
		m->bkey = lappend(m->bkey, p[1]);
		m->key_fk_valid = strcmp(p[2], "true") == 0;
		appendStringInfo(&keymatch, "%sb.%s OPERATOR(pg_catalog.=) e.%s", keymatch.len ? " AND " : "",
						 quote_identifier(p[1]), quote_identifier(p[0]));
	}
	m->keymatch = keymatch.data;

	/* the extension's columns: its own, or shared with the base */
	erel = relation_open(m->ext, NoLock);
	brel = relation_open(m->base, NoLock);
	edesc = RelationGetDescr(erel);
	for (i = 0; i < edesc->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(edesc, i);
		ExtColumn  *c;
		AttrNumber	battnum;

		if (a->attisdropped || list_position_str(m->ekey, NameStr(a->attname)) >= 0)
			continue;
		c = palloc0(sizeof(ExtColumn));
		c->name = pstrdup(NameStr(a->attname));
		battnum = get_attnum(m->base, c->name);
		c->own = battnum == InvalidAttrNumber;
		c->notnull = a->attnotnull;
		c->definition = psprintf("%s %s%s", quote_identifier(c->name),
								 format_type_with_typemod(a->atttypid, a->atttypmod),
								 OidIsValid(a->attcollation) && a->attcollation != get_typcollation(a->atttypid) ?
								 psprintf(" COLLATE %s", dedup_collation_name(a->attcollation)) : "");
		if (a->attidentity || a->attgenerated)
			refused = lappend(refused, psprintf("column %s of %s is an %s column",
												quote_identifier(c->name), m->eq,
												a->attidentity ? "identity" : "generated"));
		if (!c->own)
		{
			Form_pg_attribute ba = TupleDescAttr(RelationGetDescr(brel), battnum - 1);

			if (ba->atttypid != a->atttypid || ba->atttypmod != a->atttypmod ||
				ba->attcollation != a->attcollation)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("column \"%s\" is %s in \"%s\" but %s in \"%s\"", c->name,
								format_type_with_typemod(a->atttypid, a->atttypmod), m->ename,
								format_type_with_typemod(ba->atttypid, ba->atttypmod), m->bname),
						 errdetail("Shared columns are compared and merged only when their type, modifier and collation are the same: a cast could change values. Nothing was changed."),
						 errhint("Change the column of one of them first.")));
			if (ba->attgenerated)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("column \"%s\" is generated in \"%s\"", c->name, m->bname),
						 errdetail("The values \"%s\" holds for it would be lost: \"%s\" computes its own. Nothing was changed.",
								   m->ename, m->bname),
						 errhint("Rename or drop the column in \"%s\" first.", m->ename)));
		}
		m->cols = lappend(m->cols, c);
	}
	relation_close(erel, NoLock);
	relation_close(brel, NoLock);
	m->ecols = dedup_column_names(m->ext);
	foreach(lc, rows_ext_base(m, "SELECT a.attname, pg_catalog.pg_get_expr(d.adbin, d.adrelid),"
							  "       pg_catalog.col_description($1, a.attnum)"
							  "  FROM pg_catalog.pg_attribute a LEFT JOIN pg_catalog.pg_attrdef d"
							  "       ON d.adrelid OPERATOR(pg_catalog.=) a.attrelid AND d.adnum OPERATOR(pg_catalog.=) a.attnum"
							  " WHERE a.attrelid OPERATOR(pg_catalog.=) $1 AND a.attnum OPERATOR(pg_catalog.>) 0"
							  "   AND NOT a.attisdropped AND $2 IS NOT NULL"))
	{
		char	  **r = (char **) lfirst(lc);
		ListCell   *cc;

		foreach(cc, m->cols)
			if (strcmp(((ExtColumn *) lfirst(cc))->name, r[0]) == 0)
			{
				((ExtColumn *) lfirst(cc))->defexpr = r[1];
				((ExtColumn *) lfirst(cc))->comment = r[2];
			}
	}

	/*
	 * What of the extension comes over: CHECK constraints, foreign keys and
	 * indexes (unique ones as constraints when they were) on its columns,
	 * NOT NULL as a CHECK that holds for the rows the extension had.  What
	 * cannot: exclusion constraints, triggers and rules (they would fire
	 * for every base row), publications, constraints or indexes the base
	 * already has a name for.
	 */
	foreach(lc, rows_ext_base(m,
							  "SELECT 'refuse', pg_catalog.format('exclusion constraint %I', k.conname), NULL, NULL, NULL"
							  "  FROM pg_catalog.pg_constraint k WHERE k.conrelid OPERATOR(pg_catalog.=) $1 AND k.contype OPERATOR(pg_catalog.=) 'x'"
							  " UNION ALL "
							  "SELECT 'refuse', pg_catalog.format('trigger %I', t.tgname), NULL, NULL, NULL FROM pg_catalog.pg_trigger t"
							  " WHERE t.tgrelid OPERATOR(pg_catalog.=) $1 AND NOT t.tgisinternal"
							  " UNION ALL "
							  "SELECT 'refuse', pg_catalog.format('rule %I', r.rulename), NULL, NULL, NULL FROM pg_catalog.pg_rewrite r"
							  " WHERE r.ev_class OPERATOR(pg_catalog.=) $1"
							  " UNION ALL "
							  "SELECT 'refuse', pg_catalog.format('%s %s, which reads it as its owner %s', d->>'kind', d->>'name', d->>'owner'),"
							  "       NULL, NULL, NULL"
							  "  FROM pg_catalog.jsonb_array_elements(dedup._dependents($1::pg_catalog.regclass)) d"
							  " WHERE d->>'kind' IN ('view', 'materialized view', 'rule') AND NOT (d->>'security_invoker')::pg_catalog.bool"
							  "   AND pg_catalog.to_regrole(pg_catalog.quote_ident(d->>'owner')) OPERATOR(pg_catalog.<>)"
							  "       (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) $1)"
							  "   AND NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) (d->>'owner'))"
							  " UNION ALL "
							  "SELECT 'refuse', pg_catalog.format('membership in publication %I', p.pubname), NULL, NULL, NULL"
							  "  FROM pg_catalog.pg_publication_rel pr JOIN pg_catalog.pg_publication p ON p.oid OPERATOR(pg_catalog.=) pr.prpubid"
							  " WHERE pr.prrelid OPERATOR(pg_catalog.=) $1"
							  " UNION ALL "
							  "SELECT 'refuse', pg_catalog.format('constraint %I (the base has one of that name)', k.conname), NULL, NULL, NULL"
							  "  FROM pg_catalog.pg_constraint k WHERE k.conrelid OPERATOR(pg_catalog.=) $1 AND k.contype IN ('c', 'f', 'u')"
							  "   AND k.conname OPERATOR(pg_catalog.<>) ALL (SELECT f.conname FROM pg_catalog.pg_constraint f"
							  "        WHERE f.conrelid OPERATOR(pg_catalog.=) $1 AND f.confrelid OPERATOR(pg_catalog.=) $2)"
							  "   AND EXISTS (SELECT 1 FROM pg_catalog.pg_constraint o WHERE o.conrelid OPERATOR(pg_catalog.=) $2"
							  "                AND o.conname OPERATOR(pg_catalog.=) k.conname)"
							  " UNION ALL "
							  /*
							   * a CHECK proven on the transient heap: not one that reads a
							   * system column (tableoid), which is the transient's there;
							   * PostgreSQL validates that one by a scan after the swap
							   */
							  "SELECT 'carry', pg_catalog.format('ALTER TABLE %s ADD CONSTRAINT %I %s%s', $2::pg_catalog.regclass, k.conname,"
							  "                                  pg_catalog.pg_get_constraintdef(k.oid),"
							  "                                  CASE WHEN o.proven THEN ' NOT VALID' ELSE '' END),"
							  "       k.conname, pg_catalog.pg_get_expr(k.conbin, k.conrelid), o.proven::pg_catalog.text"
							  "  FROM pg_catalog.pg_constraint k"
							  " CROSS JOIN LATERAL (SELECT k.convalidated AND NOT EXISTS (SELECT 1 FROM pg_catalog.unnest(k.conkey) s(attnum)"
							  "                                                           WHERE s.attnum OPERATOR(pg_catalog.<) 0)) o(proven)"
							  " WHERE k.conrelid OPERATOR(pg_catalog.=) $1 AND k.contype OPERATOR(pg_catalog.=) 'c'"
							  " UNION ALL "
							  /* a foreign key over the extension's own columns only holds for every merged row */
							  "SELECT 'carry', pg_catalog.format('ALTER TABLE %s ADD CONSTRAINT %I %s%s', $2::pg_catalog.regclass, k.conname,"
							  "                                  pg_catalog.pg_get_constraintdef(k.oid),"
							  "                                  CASE WHEN o.own THEN ' NOT VALID' ELSE '' END),"
							  "       k.conname, NULL, o.own::pg_catalog.text"
							  "  FROM pg_catalog.pg_constraint k"
							  " CROSS JOIN LATERAL (SELECT k.convalidated AND NOT EXISTS (SELECT 1 FROM pg_catalog.unnest(k.conkey) u(attnum)"
							  "          JOIN pg_catalog.pg_attribute ea ON ea.attrelid OPERATOR(pg_catalog.=) $1 AND ea.attnum OPERATOR(pg_catalog.=) u.attnum"
							  "          JOIN pg_catalog.pg_attribute ba ON ba.attrelid OPERATOR(pg_catalog.=) $2"
							  "                                         AND ba.attname OPERATOR(pg_catalog.=) ea.attname AND NOT ba.attisdropped)) o(own)"
							  " WHERE k.conrelid OPERATOR(pg_catalog.=) $1 AND k.contype OPERATOR(pg_catalog.=) 'f'"
							  "   AND k.confrelid OPERATOR(pg_catalog.<>) $1"	/* pointed at the base below */
							  "   AND NOT (k.confrelid OPERATOR(pg_catalog.=) $2"
							  "            AND k.conkey OPERATOR(pg_catalog.@>) (SELECT p.conkey FROM pg_catalog.pg_constraint p"
							  "                 WHERE p.conrelid OPERATOR(pg_catalog.=) $1 AND p.contype OPERATOR(pg_catalog.=) 'p'))"
							  " UNION ALL "
							  "SELECT 'carry', pg_catalog.format('%s; ALTER TABLE %s ADD CONSTRAINT %I UNIQUE USING INDEX %I',"
							  "         dedup._index_statement(k.conindid::pg_catalog.regclass, $2::pg_catalog.regclass, k.conname),"
							  "         $2::pg_catalog.regclass, k.conname, k.conname), NULL, NULL, NULL"
							  "  FROM pg_catalog.pg_constraint k WHERE k.conrelid OPERATOR(pg_catalog.=) $1 AND k.contype OPERATOR(pg_catalog.=) 'u'"
							  " UNION ALL "
							  "SELECT 'carry', dedup._index_statement(i.indexrelid::pg_catalog.regclass, $2::pg_catalog.regclass), NULL, NULL, NULL"
							  "  FROM pg_catalog.pg_index i WHERE i.indrelid OPERATOR(pg_catalog.=) $1"
							  "   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid OPERATOR(pg_catalog.=) i.indexrelid)"
							  " ORDER BY 1, 2"))
	{
		char	  **r = (char **) lfirst(lc);

		if (strcmp(r[0], "refuse") == 0)
			refused = lappend(refused, r[1]);
		else
		{
			ExtCarry   *c = palloc0(sizeof(ExtCarry));

			c->stmt = r[1];
			c->relid = m->base;
			if (r[4] != NULL && strcmp(r[4], "true") == 0)
			{
				c->conname = r[2];
				c->check = r[3];
			}
			m->carry = lappend(m->carry, c);
		}
	}
	refuse_objects(m, refused,
				   "Drop or redefine them on the base after the merge, or drop them from the extension first; then merge again.");

	/* NOT NULL of the extension: must hold for every row that has extension data */
	foreach(lc, m->cols)
	{
		ExtColumn  *c = (ExtColumn *) lfirst(lc);

		if (c->own && c->notnull)
		{
			ExtCarry   *k = palloc0(sizeof(ExtCarry));

			/* rows without extension data have all its columns NULL: it holds */
			k->relid = m->base;
			k->conname = dedup_derived_name(m->ename, c->name, "not_null");
			k->stmt = psprintf("ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s IS NOT NULL OR ROW(%s) IS NULL) NOT VALID",
							   m->bq, quote_identifier(k->conname), quote_identifier(c->name),
							   dedup_quoted_list(column_names(m, true)));
			m->carry = lappend(m->carry, k);
		}
	}

	/*
	 * Foreign keys into the extension point at the base: the extension's
	 * key columns stand for the base's, its other columns keep their names.
	 * One of the extension's own (a member's mentor) goes onto the base
	 * too, its columns named as the base names them.
	 */
	foreach(lc, rows_ext_base(m,
							  "SELECT k.oid, pg_catalog.format('%I on %s', k.conname, k.conrelid::pg_catalog.regclass),"
							  "       k.conrelid, k.conname, k.convalidated::pg_catalog.text"
							  "  FROM pg_catalog.pg_constraint k"
							  " WHERE k.contype OPERATOR(pg_catalog.=) 'f' AND k.confrelid OPERATOR(pg_catalog.=) $1"
							  "   AND k.conparentid OPERATOR(pg_catalog.=) 0"
							  "   AND $2 IS NOT NULL ORDER BY 2"))
	{
		char	  **r = (char **) lfirst(lc);
		List	   *targets = NIL;
		List	   *on_cols = NIL;
		ListCell   *tc;
		Oid			types[4] = {OIDOID, REGCLASSOID, TEXTARRAYOID, TEXTARRAYOID};
		Datum		args[4];
		ExtCarry   *k = palloc0(sizeof(ExtCarry));
		bool		holds = m->key_fk_valid && strcmp(r[4], "true") == 0;
		bool		own = (Oid) strtoul(r[2], NULL, 10) == m->ext;

		args[0] = ObjectIdGetDatum((Oid) strtoul(r[0], NULL, 10));
		foreach(tc, dedup_query_column("SELECT a.attname FROM pg_catalog.pg_constraint k"
									   " CROSS JOIN LATERAL pg_catalog.unnest(k.confkey) WITH ORDINALITY u(attnum, n)"
									   "  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) k.confrelid"
									   "                               AND a.attnum OPERATOR(pg_catalog.=) u.attnum"
									   " WHERE k.oid OPERATOR(pg_catalog.=) $1 ORDER BY u.n", 1, types, args, NULL))
		{
			int			at = list_position_str(m->ekey, (char *) lfirst(tc));

			targets = lappend(targets, at >= 0 ? list_nth(m->bkey, at) : lfirst(tc));
			/* a value the base may change (a shared column) proves nothing */
			if (at < 0 && get_attnum(m->base, (char *) lfirst(tc)) != InvalidAttrNumber)
				holds = false;
		}
		if (own)
			foreach(tc, dedup_query_column("SELECT a.attname FROM pg_catalog.pg_constraint k"
										   " CROSS JOIN LATERAL pg_catalog.unnest(k.conkey) WITH ORDINALITY u(attnum, n)"
										   "  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) k.conrelid"
										   "                               AND a.attnum OPERATOR(pg_catalog.=) u.attnum"
										   " WHERE k.oid OPERATOR(pg_catalog.=) $1 ORDER BY u.n", 1, types, args, NULL))
			{
				int			at = list_position_str(m->ekey, (char *) lfirst(tc));

				on_cols = lappend(on_cols, at >= 0 ? list_nth(m->bkey, at) : lfirst(tc));
				/* a referencing value the merge may fill or replace proves nothing either */
				if (at < 0 && get_attnum(m->base, (char *) lfirst(tc)) != InvalidAttrNumber)
					holds = false;
			}
		args[1] = ObjectIdGetDatum(m->base);
		args[2] = dedup_text_array(targets);
		args[3] = own ? dedup_text_array(on_cols) : (Datum) 0;

		/*
		 * Its values were keys of the extension, which are keys of the base
		 * (with the same values in the extension's own columns): it holds.
		 */
		k->stmt = own ?
			dedup_query_value("SELECT dedup._fk_statement($1, $2, $3::pg_catalog.name[], $2, $4::pg_catalog.name[])",
							  4, types, args) :
			dedup_query_value("SELECT dedup._fk_statement($1, $2, $3::pg_catalog.name[])",
							  3, types, args);
		k->relid = own ? m->base : (Oid) strtoul(r[2], NULL, 10);
		if (holds)
		{
			k->stmt = psprintf("%s NOT VALID", k->stmt);
			k->conname = r[3];
		}
		m->repoint = lappend(m->repoint, k);
		m->repoint_names = lappend(m->repoint_names, r[1]);
	}

	/* without the compatibility view, what reads the extension would be lost */
	if (!m->compat_view)
	{
		Oid			types[1] = {REGCLASSOID};
		Datum		args[1] = {ObjectIdGetDatum(m->ext)};
		List	   *deps = dedup_query_column("SELECT pg_catalog.format('%s %s depends on %s', d->>'kind', d->>'name', $1)"
											  "  FROM pg_catalog.jsonb_array_elements(dedup._dependents($1)) d"
											  " WHERE d->>'kind' IN ('view', 'materialized view', 'rule')",
											  1, types, args, NULL);

		if (deps != NIL)
			refuse_objects(m, deps, "Keep compat_view => true (the default), or drop or redefine them first.");
	}
}

/*
 * compare_rows
 *		On entry the locks of check_merge are held; everything is read with
 *		a snapshot taken after them.  Refuses extension rows with no base
 *		row, conflicting values (unless on_conflict decides), rows the
 *		compatibility view could not tell apart, and values filled into
 *		columns the base's row level security policies read.  On exit
 *		m->filled lists the shared columns whose base values change.
 */
/* The first value of a read of the two tables, as their owner. */
static char *
owner_value(ExtMerge *m, const char *sql)
{
	return ((char **) linitial(dedup_query_rows_as(sql, m->owner, 0, NULL, NULL)))[0];
}

static void
compare_rows(ExtMerge *m)
{
	StringInfoData sel;
	StringInfoData any_conflict;
	List	   *counts;
	char	  **row;
	char	   *n;
	ListCell   *lc;
	int			i;
	bool		take = strcmp(m->on_conflict, "take_extension") == 0;
	List	   *replaced = NIL; /* shared columns whose non-NULL base values change */

	/*
	 * The rows are read as the tables' owner: planning the reads folds the
	 * tables' index expressions, the owner's code, never run as the caller.
	 * The caller must be able to read every row of both itself.
	 */
	dedup_require_read_all(m->base);
	dedup_require_read_all(m->ext);
	n = owner_value(m, psprintf("SELECT pg_catalog.count(*) FROM %s e WHERE NOT EXISTS (SELECT 1 FROM %s b WHERE %s)",
								m->eq, m->bq, m->keymatch));
	if (strcmp(n, "0") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("%s row%s of \"%s\" %s no row in \"%s\"", n, strcmp(n, "1") == 0 ? "" : "s",
						m->ename, strcmp(n, "1") == 0 ? "has" : "have", m->bname),
				 errdetail("Their values would have nowhere to go. Nothing was changed."),
				 errhint("Find them with: SELECT * FROM %s e WHERE NOT EXISTS (SELECT 1 FROM %s b WHERE %s);",
						 m->eq, m->bq, m->keymatch)));

	/* per shared column: stored values that differ, base NULLs filled */
	initStringInfo(&sel);
	initStringInfo(&any_conflict);
	appendStringInfoString(&sel, "SELECT pg_catalog.count(*)");
	foreach(lc, m->cols)
	{
		ExtColumn  *c = (ExtColumn *) lfirst(lc);
		const char *q = quote_identifier(c->name);
		char	   *differ;

		if (c->own)
			continue;
		differ = psprintf("(b.%s IS NOT NULL AND e.%s IS NOT NULL AND NOT pg_catalog.record_image_eq(ROW(b.%s), ROW(e.%s)))",
						  q, q, q, q);
		appendStringInfo(&sel, ", pg_catalog.count(*) FILTER (WHERE %s), pg_catalog.count(*) FILTER (WHERE b.%s IS NULL AND e.%s IS NOT NULL)",
						 differ, q, q);
		appendStringInfo(&any_conflict, "%s%s", any_conflict.len ? " OR " : "", differ);
	}
	if (any_conflict.len > 0)
		appendStringInfo(&sel, ", pg_catalog.count(*) FILTER (WHERE %s)", any_conflict.data);
	appendStringInfo(&sel, " FROM %s b JOIN %s e ON %s", m->bq, m->eq, m->keymatch);
	counts = dedup_query_rows_as(sel.data, m->owner, 0, NULL, NULL);
	row = (char **) linitial(counts);
	m->ext_rows = pg_strtoint64(row[0]);
	i = 1;
	foreach(lc, m->cols)
	{
		ExtColumn  *c = (ExtColumn *) lfirst(lc);
		int64		differ;

		if (c->own)
			continue;
		differ = pg_strtoint64(row[i++]);
		c->filled = pg_strtoint64(row[i++]) + (take ? differ : 0);
		if (c->filled > 0)
			m->filled = lappend(m->filled, c->name);
		if (take && differ > 0)
			replaced = lappend(replaced, c->name);
	}
	m->conflicts = any_conflict.len > 0 ? pg_strtoint64(row[i]) : 0;
	if (m->conflicts > 0 && strcmp(m->on_conflict, "error") == 0)
	{
		StringInfoData det;

		initStringInfo(&det);
		foreach(lc, dedup_query_rows_as(psprintf("SELECT pg_catalog.to_jsonb(e.*)::pg_catalog.text FROM %s b JOIN %s e ON %s"
												 " WHERE %s ORDER BY 1 LIMIT 3", m->bq, m->eq, m->keymatch,
												 any_conflict.data), m->owner, 0, NULL, NULL))
			appendStringInfo(&det, "%s\n", ((char **) lfirst(lc))[0]);
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg(INT64_FORMAT " row%s of \"%s\" %s with \"%s\" in a shared column",
						m->conflicts, m->conflicts == 1 ? "" : "s", m->ename,
						m->conflicts == 1 ? "disagrees" : "disagree", m->bname),
				 errdetail_internal("First of them:\n%sNothing was changed.", det.data),
				 errhint("Pass on_conflict => 'keep_base' or 'take_extension' to decide.")));
	}

	/* the compatibility view tells the extension's rows by their own columns */
	if (m->compat_view)
	{
		List	   *own = column_names(m, true);
		int64		blank;

		blank = own == NIL ? m->ext_rows :
			pg_strtoint64(owner_value(m, psprintf("SELECT pg_catalog.count(*) FROM %s e WHERE ROW(%s) IS NULL",
												  m->eq, dedup_quoted_list_prefixed(own, "e."))));
		if (blank > 0 && (own != NIL ||
						  m->ext_rows != pg_strtoint64(owner_value(m, psprintf("SELECT pg_catalog.count(*) FROM %s", m->bq)))))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg(INT64_FORMAT " row%s of \"%s\" %s no value in any column of its own",
							blank, blank == 1 ? "" : "s", m->ename, blank == 1 ? "has" : "have"),
					 errdetail("After the merge the view \"%s\" shows a base row when one of those columns has a value, so it could not show %s and would not answer as the table did. Nothing was changed.",
							   m->ename, blank == 1 ? "it" : "them"),
					 errhint("Delete those rows or give them a value, or pass compat_view => false.")));
	}

	/* values filled into a column the base's policies read change who sees what */
	if (m->filled != NIL)
	{
		Oid			types[2] = {OIDOID, TEXTARRAYOID};
		Datum		args[2] = {ObjectIdGetDatum(m->base), dedup_text_array(m->filled)};
		List	   *pols = dedup_query_column(
			"SELECT DISTINCT pg_catalog.format('policy %I reads column %I', p.polname, a.attname)"
			"  FROM pg_catalog.pg_policy p JOIN pg_catalog.pg_depend d"
			"       ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_policy'::pg_catalog.regclass AND d.objid OPERATOR(pg_catalog.=) p.oid"
			"      AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid OPERATOR(pg_catalog.=) $1"
			"  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) $1 AND a.attnum OPERATOR(pg_catalog.=) d.refobjsubid"
			" WHERE p.polrelid OPERATOR(pg_catalog.=) $1 AND a.attname::pg_catalog.text OPERATOR(pg_catalog.=) ANY ($2)"
			"   AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) $1 AND c.relrowsecurity)"
			" ORDER BY 1", 2, types, args, NULL);

		dedup_access_refuse(psprintf("filling NULL values of \"%s\" from \"%s\"", m->bname, m->ename),
							pols);
		/* the base's foreign keys are never rechecked by the swap */
		pols = dedup_query_column(
			"SELECT pg_catalog.format('foreign key %I covers column %I', k.conname, a.attname)"
			"  FROM pg_catalog.pg_constraint k CROSS JOIN LATERAL pg_catalog.unnest(k.conkey) u(attnum)"
			"  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) k.conrelid AND a.attnum OPERATOR(pg_catalog.=) u.attnum"
			" WHERE k.conrelid OPERATOR(pg_catalog.=) $1 AND k.contype OPERATOR(pg_catalog.=) 'f'"
			"   AND a.attname::pg_catalog.text OPERATOR(pg_catalog.=) ANY ($2) ORDER BY 1", 2, types, args, NULL);
		refuse_objects(m, pols, "Fill those values in the base by hand (UPDATE) first, then merge again.");
	}

	/*
	 * A base value that take_extension replaces may be one that a foreign
	 * key references (another table's, or one of the extension's that
	 * comes over): the rows that referenced it would reference nothing, and
	 * the swap runs no trigger that would notice.
	 */
	if (replaced != NIL)
	{
		Oid			types[2] = {OIDOID, TEXTARRAYOID};
		Datum		args[2] = {ObjectIdGetDatum(m->base), dedup_text_array(replaced)};

		refuse_objects(m, dedup_query_column(
						   "SELECT DISTINCT pg_catalog.format('foreign key %I of %s references column %I, whose values on_conflict => ''take_extension'' changes',"
						   "                                  k.conname, k.conrelid::pg_catalog.regclass, a.attname)"
						   "  FROM pg_catalog.pg_constraint k CROSS JOIN LATERAL pg_catalog.unnest(k.confkey) u(attnum)"
						   "  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) k.confrelid AND a.attnum OPERATOR(pg_catalog.=) u.attnum"
						   " WHERE k.confrelid OPERATOR(pg_catalog.=) $1 AND k.contype OPERATOR(pg_catalog.=) 'f'"
						   "   AND a.attname::pg_catalog.text OPERATOR(pg_catalog.=) ANY ($2) ORDER BY 1", 2, types, args, NULL),
					   "Change those values in the base by hand (UPDATE, which the foreign keys check) first, or merge with on_conflict => 'keep_base'.");
	}
}

/*
 * check_access
 *		Role by role: nobody reads or writes through the base a value of
 *		the extension it could not before, nobody loses what it could do
 *		through the extension's name, and row level security filters each
 *		role alike.  Otherwise refuse, unless that outcome was accepted.
 *		On exit m->grants holds the column grants that keep access as it
 *		was.
 */
static void
check_access(ExtMerge *m)
{
	List	   *changes = dedup_access_extension_change(m->base, m->ext, column_names(m, true),
														m->filled, m->bkey, m->compat_view,
														&m->grants);

	dedup_access_refuse(psprintf("merging \"%s\" into \"%s\"", m->ename, m->bname), changes);
}

/* take_backups: journaled backups of both tables, when asked for. */
static void
take_backups(ExtMerge *m)
{
	if (!m->backup)
		return;
	m->base_backup = dedup_backup_entry(m->base);
	m->ext_backup = dedup_backup_entry(m->ext);
}

/*
 * build_merged
 *		On entry both tables are locked SHARE: readers go on, writers wait.
 *		Creates the transient heap (the base's columns, then the
 *		extension's own) and fills it with one join read after the locks,
 *		nothing run but the join (no trigger, default or constraint).  Each
 *		row is written as CLUSTER writes it (rewriteheap.c): it keeps the
 *		transaction stamp (xmin) of the base row it comes from, so rows an
 *		earlier action wrote are still told apart by it, and undoing that
 *		action still finds them.  Then builds the base's indexes on it.
 */
static void
build_merged(ExtMerge *m)
{
	List	   *added = NIL;
	StringInfoData sel;
	Relation	base;
	Relation	transient;
	TupleDesc	desc;
	SPIPlanPtr	plan;
	Portal		portal;
	RewriteState rw;
	Snapshot	snap;
	Datum	   *values;
	bool	   *nulls;
	ListCell   *lc;
	int			natts;
	int			i;
	DedupAs		as;

	foreach(lc, m->cols)
		if (((ExtColumn *) lfirst(lc))->own)
			added = lappend(added, ((ExtColumn *) lfirst(lc))->definition);
	m->rb = dedup_rebuild_begin(m->base, added);
	m->sql = lappend(m->sql, psprintf("-- %s rebuilt beside it as %s, with the columns of %s",
									  m->bq, m->rb->transientq, m->eq));

	/* the base row's ctid, then one output column per attribute of the transient heap */
	base = table_open(m->base, NoLock);
	transient = table_open(m->rb->transient, NoLock);
	desc = RelationGetDescr(transient);
	natts = desc->natts;
	initStringInfo(&sel);
	appendStringInfoString(&sel, "b.ctid");
	for (i = 0; i < natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(desc, i);
		const char *q = quote_identifier(NameStr(a->attname));
		ExtColumn  *shared = NULL;

		appendStringInfoString(&sel, ", ");
		if (a->attisdropped)
		{
			appendStringInfoString(&sel, "NULL");
			continue;
		}
		foreach(lc, m->cols)
			if (strcmp(((ExtColumn *) lfirst(lc))->name, NameStr(a->attname)) == 0)
				shared = (ExtColumn *) lfirst(lc);
		if (shared == NULL)
			appendStringInfo(&sel, "b.%s", q);
		else if (shared->own)
			appendStringInfo(&sel, "e.%s", q);
		else if (strcmp(m->on_conflict, "take_extension") == 0)
			appendStringInfo(&sel, "CASE WHEN e.%s IS NULL THEN b.%s ELSE e.%s END", q, q, q);
		else
			appendStringInfo(&sel, "CASE WHEN b.%s IS NULL THEN e.%s ELSE b.%s END", q, q, q);
	}

	/* read as the owner, with a snapshot taken after the locks */
	dedup_become(m->owner, &as);
	plan = SPI_prepare(psprintf("SELECT %s FROM %s b LEFT JOIN %s e ON %s", sel.data, m->bq, m->eq, m->keymatch),
					   0, NULL);
	if (plan == NULL)
		elog(ERROR, "dedup: could not prepare the merge: %s", SPI_result_code_string(SPI_result));
	snap = RegisterSnapshot(GetLatestSnapshot());
	PushActiveSnapshot(snap);
	portal = SPI_cursor_open(NULL, plan, NULL, NULL, true);

	/* nothing is frozen or dropped: every row keeps its stamp as it is */
	rw = begin_heap_rewrite(base, transient, GetOldestNonRemovableTransactionId(base),
							base->rd_rel->relfrozenxid, base->rd_rel->relminmxid);
	m->rows.count = 0;
	values = palloc(sizeof(Datum) * (natts + 1));
	nulls = palloc(sizeof(bool) * (natts + 1));
	for (;;)
	{
		uint64		r;

		SPI_cursor_fetch(portal, true, MERGE_BATCH);
		if (SPI_processed == 0)
			break;
		for (r = 0; r < SPI_processed; r++)
		{
			HeapTupleData old;
			Buffer		buf;
			HeapTuple	stamp;
			HeapTuple	tup;

			heap_deform_tuple(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, values, nulls);
			old.t_self = *(ItemPointer) DatumGetPointer(values[0]);
			if (!heap_fetch(base, snap, &old, &buf, false))
				elog(ERROR, "dedup: row (%u,%u) of %s vanished while locked",
					 ItemPointerGetBlockNumber(&old.t_self), ItemPointerGetOffsetNumber(&old.t_self), m->bq);
			stamp = heap_copytuple(&old);
			ReleaseBuffer(buf);

			/*
			 * Its inserting transaction and command as they are; no deleter
			 * or locker (none can be left by the swap, which waits for
			 * them), no update chain.
			 */
			HeapTupleHeaderSetXmax(stamp->t_data, InvalidTransactionId);
			stamp->t_data->t_infomask &= ~(HEAP_XMAX_BITS | HEAP_UPDATED);
			stamp->t_data->t_infomask |= HEAP_XMAX_INVALID;
			stamp->t_data->t_ctid = stamp->t_self;

			for (i = 0; i < natts; i++)
				if (TupleDescAttr(desc, i)->attisdropped)
					nulls[i + 1] = true;
			tup = heap_form_tuple(desc, values + 1, nulls + 1);
			rewrite_heap_tuple(rw, stamp, tup);
			heap_freetuple(tup);
			heap_freetuple(stamp);
			m->rows.count++;
		}
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
	}
	end_heap_rewrite(rw);
	SPI_cursor_close(portal);
	PopActiveSnapshot();
	UnregisterSnapshot(snap);
	dedup_unbecome(&as);
	table_close(transient, NoLock);
	table_close(base, NoLock);
	CommandCounterIncrement();

	m->rb->kept_stamps = true;
	dedup_rebuild_indexes(m->rb);
}

/*
 * check_merged
 *		On entry the merged rows are built beside the base, which readers
 *		still read.  Proves on them, as the owner, what swap_in will declare
 *		without a scan: each CHECK of the base over a column whose values
 *		were filled, and each CHECK of the extension that it carries over,
 *		holds for every row.  Refuses otherwise, naming the constraint.
 */
static void
check_merged(ExtMerge *m)
{
	List	   *checks = NIL;	/* char *[3]: constraint, its table, expression */
	ListCell   *lc;
	DedupAs		as;

	if (m->filled != NIL)
	{
		Oid			types[2] = {OIDOID, TEXTARRAYOID};
		Datum		args[2] = {ObjectIdGetDatum(m->base), dedup_text_array(m->filled)};

		foreach(lc, dedup_query_rows(
					"SELECT DISTINCT k.conname, NULL, pg_catalog.pg_get_expr(k.conbin, k.conrelid),"
					"       (SELECT pg_catalog.bool_or(s.attnum OPERATOR(pg_catalog.<) 0) FROM pg_catalog.unnest(k.conkey) s(attnum))::pg_catalog.text"
					"  FROM pg_catalog.pg_constraint k CROSS JOIN LATERAL pg_catalog.unnest(k.conkey) u(attnum)"
					"  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) k.conrelid AND a.attnum OPERATOR(pg_catalog.=) u.attnum"
					" WHERE k.conrelid OPERATOR(pg_catalog.=) $1 AND k.contype OPERATOR(pg_catalog.=) 'c' AND k.convalidated"
					"   AND a.attname::pg_catalog.text OPERATOR(pg_catalog.=) ANY ($2) ORDER BY 1", 2, types, args))
		{
			char	  **r = (char **) lfirst(lc);

			/* proven on the transient heap, it would read the transient's system columns */
			if (strcmp(r[3], "true") == 0)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("check constraint \"%s\" of \"%s\" reads a system column and covers a column the merge fills",
								r[0], m->bname),
						 errdetail("It cannot be proven on the rebuilt rows, and the base's constraints are not checked again. Nothing was changed."),
						 errhint("Fill those values in the base by hand (UPDATE) first, then merge again.")));
			r[1] = m->bname;
			checks = lappend(checks, r);
		}
	}
	foreach(lc, m->carry)
	{
		ExtCarry   *k = (ExtCarry *) lfirst(lc);

		if (k->check)
		{
			char	  **r = palloc(sizeof(char *) * 3);

			r[0] = k->conname;
			r[1] = m->ename;
			r[2] = k->check;
			checks = lappend(checks, r);
		}
	}

	foreach(lc, checks)
	{
		char	  **r = (char **) lfirst(lc);
		char	   *n;

		/* the constraint's own expression, evaluated as the owner */
		dedup_become(m->owner, &as);
		n = dedup_query_value(psprintf("SELECT pg_catalog.count(*) FROM %s WHERE (%s) IS FALSE",
									   m->rb->transientq, r[2]), 0, NULL, NULL);
		dedup_unbecome(&as);
		if (strcmp(n, "0") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("merged rows of \"%s\" and \"%s\" violate check constraint \"%s\" of \"%s\"",
							m->bname, m->ename, r[0], r[1]),
					 errdetail("%s row%s would fail it. Nothing was changed.", n, strcmp(n, "1") == 0 ? "" : "s"),
					 r[1] == m->bname ?
					 errhint("Fix the values of \"%s\" that would fill \"%s\" first, then merge again.", m->ename, m->bname) :
					 errhint("A constraint of \"%s\" must also hold for the rows of \"%s\" that have no row in it (its columns are NULL there): change or drop it first, then merge again.",
							 m->ename, m->bname)));
	}
}

/*
 * create_compat_view
 *		The extension's name as a view over the base that answers as the
 *		table did (security_invoker, so the caller's privileges and the
 *		base's policies apply): its columns, the rows that have a value in
 *		one of its own columns, its defaults, owner, privileges and comment.
 *		It is automatically updatable, so UPDATE and INSERT ... ON CONFLICT
 *		work through it; a trigger on the base turns an INSERT for a key the
 *		base has into setting that row's extension columns, and DELETE sets
 *		them back to NULL (compat_view.c).  Then what read the extension is
 *		recreated over it.
 */
static void
create_compat_view(ExtMerge *m, char *eacl, char *ecomment, const char *drop_definition)
{
	StringInfoData cols;
	StringInfoData keyargs;
	List	   *own = column_names(m, true);
	List	   *definer;
	char	   *select;
	ListCell   *lc;
	char	   *trigger = dedup_derived_name(m->ename, "", "dedup_compat");
	Oid			types[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(drop_definition)};

	m->definer_view = dedup_derived_name(m->ename, "", "dedup_rows");

	initStringInfo(&cols);
	foreach(lc, m->ecols)
	{
		char	   *c = (char *) lfirst(lc);
		int			at = list_position_str(m->ekey, c);

		if (at >= 0 && strcmp((char *) list_nth(m->bkey, at), c) != 0)
			appendStringInfo(&cols, "%sb.%s AS %s", cols.len ? ", " : "",
							 quote_identifier((char *) list_nth(m->bkey, at)), quote_identifier(c));
		else
			appendStringInfo(&cols, "%sb.%s", cols.len ? ", " : "", quote_identifier(c));
	}
	select = psprintf("SELECT %s FROM %s b WHERE NOT (ROW(%s) IS NULL)", cols.data, m->bq,
					  dedup_quoted_list_prefixed(own, "b."));

	/*
	 * Views and rules that read the extension as their owner (not
	 * security_invoker) keep reading it as their owner: they are recreated
	 * over a view that reads the base as the extension's owner did, which
	 * then leaves the name to the compatibility view and is readable by its
	 * owner only.
	 */
	definer = dedup_query_rows("SELECT s.sql, s.run_as FROM dedup._undo_steps(pg_catalog.jsonb_build_object('dependents',"
							   "  (SELECT COALESCE(pg_catalog.jsonb_agg(d), '[]') FROM pg_catalog.jsonb_array_elements($1::pg_catalog.jsonb->'dependents') d"
							   "    WHERE d->>'kind' IN ('view', 'materialized view', 'rule')"
							   "      AND NOT (d->>'security_invoker')::pg_catalog.bool))) s", 1, types, args);
	if (definer != NIL)
	{
		dedup_exec_logged(&m->sql, psprintf("CREATE VIEW %s AS %s", m->eq, select));
		if (m->owner != GetUserId())
			dedup_exec_logged(&m->sql, psprintf("ALTER VIEW %s OWNER TO %s", m->eq,
												quote_identifier(GetUserNameFromId(m->owner, false))));
		dedup_exec_logged(&m->sql, dedup_set_acl_sql(m->eq, NULL, "TABLE"));
		dedup_run_steps(0, definer, &m->sql);
		dedup_exec_logged(&m->sql, psprintf("ALTER VIEW %s RENAME TO %s", m->eq, quote_identifier(m->definer_view)));
		dedup_exec_logged(&m->sql, psprintf("COMMENT ON VIEW %s IS %s",
											quote_qualified_identifier(get_namespace_name(get_rel_namespace(m->base)), m->definer_view),
											quote_literal_cstr(psprintf("dedup: what read %s as its owner reads %s through this view", m->eq, m->bq))));
	}
	else
		m->definer_view = NULL;

	dedup_exec_logged(&m->sql, psprintf("CREATE VIEW %s WITH (security_invoker = true) AS %s", m->eq, select));
	foreach(lc, m->cols)
	{
		ExtColumn  *c = (ExtColumn *) lfirst(lc);

		if (c->own && c->defexpr)
			dedup_exec_logged(&m->sql, psprintf("ALTER VIEW %s ALTER COLUMN %s SET DEFAULT %s", m->eq,
												quote_identifier(c->name), c->defexpr));
	}

	/* the triggers: key columns (view name, base name), then the own columns */
	initStringInfo(&keyargs);
	appendStringInfo(&keyargs, "%s, '%d'", quote_literal_cstr(m->bq), list_length(m->bkey));
	for (int i = 0; i < list_length(m->bkey); i++)
		appendStringInfo(&keyargs, ", %s, %s", quote_literal_cstr((char *) list_nth(m->ekey, i)),
						 quote_literal_cstr((char *) list_nth(m->bkey, i)));
	foreach(lc, own)
		appendStringInfo(&keyargs, ", %s", quote_literal_cstr((char *) lfirst(lc)));
	dedup_exec_logged(&m->sql, psprintf("CREATE TRIGGER %s BEFORE INSERT ON %s FOR EACH ROW"
										" EXECUTE FUNCTION dedup._compat_insert(%s)",
										quote_identifier(trigger), m->bq, keyargs.data));
	dedup_exec_logged(&m->sql, psprintf("CREATE TRIGGER %s INSTEAD OF DELETE ON %s FOR EACH ROW"
										" EXECUTE FUNCTION dedup._compat_delete(%s)",
										quote_identifier(trigger), m->eq, keyargs.data));

	if (dedup_rel_owner(m->base) != GetUserId())
		dedup_exec_logged(&m->sql, psprintf("ALTER VIEW %s OWNER TO %s", m->eq,
											quote_identifier(GetUserNameFromId(m->owner, false))));
	dedup_exec_logged(&m->sql, dedup_set_acl_sql(m->eq, eacl, "TABLE"));
	dedup_exec_logged(&m->sql, psprintf("COMMENT ON VIEW %s IS %s", m->eq,
										quote_literal_cstr(psprintf("%s%sdedup: merged into %s; this view answers as the table did",
																	ecomment ? ecomment : "", ecomment ? " / " : "", m->bq))));
	foreach(lc, m->cols)
	{
		ExtColumn  *c = (ExtColumn *) lfirst(lc);

		if (c->comment)
			dedup_exec_logged(&m->sql, psprintf("COMMENT ON COLUMN %s.%s IS %s", m->eq, quote_identifier(c->name),
												quote_literal_cstr(c->comment)));
	}

	/* security_invoker views that read the extension read the compatibility view */
	dedup_run_steps(0, dedup_query_rows(
						"SELECT s.sql, s.run_as FROM dedup._undo_steps(pg_catalog.jsonb_build_object('dependents',"
						"  (SELECT COALESCE(pg_catalog.jsonb_agg(d), '[]') FROM pg_catalog.jsonb_array_elements($1::pg_catalog.jsonb->'dependents') d"
						"    WHERE d->>'kind' IN ('view', 'materialized view', 'rule')"
						"      AND (d->>'security_invoker')::pg_catalog.bool))) s", 1, types, args),
					&m->sql);
}

/*
 * swap_in
 *		On entry the merged rows and indexes are built and both tables are
 *		locked SHARE.  Takes ACCESS EXCLUSIVE on both (readers wait from
 *		here to commit) and does catalog work only: the extension's columns
 *		added to the base, the base's storage swapped with the merged one,
 *		what the extension had carried over (built as the owner), the
 *		extension dropped (a journaled step, its rows in its backup),
 *		foreign keys into it pointing at the base, the compatibility view.
 */
static void
swap_in(ExtMerge *m)
{
	StringInfoData add;
	ListCell   *lc;
	char	   *eacl;
	char	   *ecomment;
	DedupDropPlan *plan;
	List	   *own = column_names(m, true);
	instr_time	start,
				now;
	DedupAs		as;
	char	   *cons_before;
	char	   *idx_before;

	/* read while only SHARE is held: the extension's face and its drop */
	eacl = dedup_query_value(psprintf("SELECT c.relacl::pg_catalog.text FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) %u",
									  m->ext), 0, NULL, NULL);
	ecomment = dedup_query_value(psprintf("SELECT pg_catalog.obj_description(%u, 'pg_class')", m->ext), 0, NULL, NULL);
	plan = dedup_plan_drop(m->ext, true);

	/* the WAL of the build goes out while readers still read */
	/*
	 * (the end of our last record: the insert position is past a page
	 * header when it sits on a page boundary, and flushing to it fails)
	 */
	XLogFlush(XactLastRecEnd);

	dedup_lock_pair(m->base, AccessExclusiveLock, m->ext, AccessExclusiveLock);
	INSTR_TIME_SET_CURRENT(start);

	initStringInfo(&add);
	foreach(lc, m->cols)
		if (((ExtColumn *) lfirst(lc))->own)
			appendStringInfo(&add, "%sADD COLUMN %s", add.len ? ", " : "", ((ExtColumn *) lfirst(lc))->definition);
	if (add.len > 0)
		dedup_exec_logged(&m->sql, psprintf("ALTER TABLE %s %s", m->bq, add.data));
	dedup_rebuild_swap(m->rb, &m->sql);

	/* the extension's comments, serial sequences, constraints and indexes */
	foreach(lc, m->cols)
	{
		ExtColumn  *c = (ExtColumn *) lfirst(lc);

		if (c->own && c->comment)
			dedup_exec_logged(&m->sql, psprintf("COMMENT ON COLUMN %s.%s IS %s", m->bq, quote_identifier(c->name),
												quote_literal_cstr(c->comment)));
	}
	/* (the base's name is a parameter: it may hold any character) */
	foreach(lc, dedup_query_column("SELECT pg_catalog.format('ALTER SEQUENCE %s OWNED BY %s.%I', d.objid::pg_catalog.regclass, $2, a.attname)"
								   "  FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_attribute a"
								   "       ON a.attrelid OPERATOR(pg_catalog.=) d.refobjid AND a.attnum OPERATOR(pg_catalog.=) d.refobjsubid"
								   "  JOIN pg_catalog.pg_class sc ON sc.oid OPERATOR(pg_catalog.=) d.objid AND sc.relkind OPERATOR(pg_catalog.=) 'S'"
								   " WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
								   "   AND d.refobjid OPERATOR(pg_catalog.=) $1 AND d.deptype OPERATOR(pg_catalog.=) 'a'"
								   "   AND d.refobjsubid OPERATOR(pg_catalog.>) 0",
								   2, (Oid[]) {OIDOID, TEXTOID},
								   (Datum[]) {ObjectIdGetDatum(m->ext), CStringGetTextDatum(m->bq)}, NULL))
		dedup_exec_logged(&m->sql, (char *) lfirst(lc));

	/* what the base has now, to tell what comes over (undo drops it) */
	cons_before = dedup_query_value(psprintf("SELECT pg_catalog.array_agg(k.oid)::pg_catalog.text FROM pg_catalog.pg_constraint k"
											 " WHERE k.conrelid OPERATOR(pg_catalog.=) %u", m->base), 0, NULL, NULL);
	idx_before = dedup_query_value(psprintf("SELECT pg_catalog.array_agg(i.indexrelid)::pg_catalog.text FROM pg_catalog.pg_index i"
											" WHERE i.indrelid OPERATOR(pg_catalog.=) %u", m->base), 0, NULL, NULL);

	/* the extension goes (its rows are in its backup), then what it had comes over */
	m->drop_entry = dedup_execute_drop(plan, false, m->ext_backup);
	m->sql = lappend(m->sql, psprintf("DROP TABLE %s  -- with what depended on it, journaled", m->eq));
	dedup_become(m->owner, &as);
	foreach(lc, m->carry)
	{
		ExtCarry   *k = (ExtCarry *) lfirst(lc);

		dedup_exec(k->stmt);
		m->sql = lappend(m->sql, k->stmt);
	}
	dedup_unbecome(&as);
	foreach(lc, m->grants)
		dedup_exec_logged(&m->sql, (char *) lfirst(lc));
	/* (PostgreSQL checks a foreign key as the referenced table's owner) */
	foreach(lc, m->repoint)
		dedup_exec_logged(&m->sql, ((ExtCarry *) lfirst(lc))->stmt);
	foreach(lc, list_concat_copy(m->carry, m->repoint))
	{
		ExtCarry   *k = (ExtCarry *) lfirst(lc);

		if (k->conname)
		{
			dedup_constraint_set_valid(k->relid, k->conname);
			m->sql = lappend(m->sql, psprintf("-- constraint %s on %s holds for every row: marked valid",
											  quote_identifier(k->conname), dedup_qualified_name(k->relid)));
		}
	}
	{
		Oid			types[3] = {OIDOID, TEXTOID, TEXTOID};
		Datum		args[3] = {ObjectIdGetDatum(m->base), CStringGetTextDatum(cons_before ? cons_before : "{}"),
		CStringGetTextDatum(idx_before ? idx_before : "{}")};

		m->carried = dedup_query_value(
			"SELECT COALESCE(pg_catalog.jsonb_agg(o.x ORDER BY o.x::pg_catalog.text), '[]')::pg_catalog.text FROM ("
			" SELECT pg_catalog.jsonb_build_object('constraint', k.conname) FROM pg_catalog.pg_constraint k"
			"  WHERE k.conrelid OPERATOR(pg_catalog.=) $1 AND k.oid OPERATOR(pg_catalog.<>) ALL ($2::pg_catalog.oid[])"
			" UNION ALL"
			" SELECT pg_catalog.jsonb_build_object('index', i.indexrelid::pg_catalog.regclass::pg_catalog.text) FROM pg_catalog.pg_index i"
			"  WHERE i.indrelid OPERATOR(pg_catalog.=) $1 AND i.indexrelid OPERATOR(pg_catalog.<>) ALL ($3::pg_catalog.oid[])"
			"    AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c WHERE c.conindid OPERATOR(pg_catalog.=) i.indexrelid"
			"                     AND c.conrelid OPERATOR(pg_catalog.=) $1)) o(x)", 3, types, args);
	}
	if (m->compat_view)
		create_compat_view(m, eacl, ecomment, plan->definition);
	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, start);
	elog(DEBUG1, "dedup: merge_extension held ACCESS EXCLUSIVE for %.1f ms before commit",
		 INSTR_TIME_GET_MILLISEC(now));
	(void) own;
}

/* The journal detail of a merge_extension. */
static char *
merge_detail(ExtMerge *m)
{
	StringInfoData d;
	List	   *own = column_names(m, true);

	initStringInfo(&d);
	appendStringInfoChar(&d, '{');
	dedup_json_str(&d, "base", m->bq);
	dedup_json_str(&d, "extension", m->eq);
	dedup_json_raw(&d, "base_oid", psprintf("%u", m->base));
	dedup_json_raw(&d, "base_key", dedup_json_array(m->bkey));
	dedup_json_raw(&d, "extension_key", dedup_json_array(m->ekey));
	dedup_json_str(&d, "on_conflict", m->on_conflict);
	dedup_json_raw(&d, "columns_added", dedup_json_array(own));
	dedup_json_raw(&d, "columns_filled", dedup_json_array(m->filled));
	dedup_json_raw(&d, "rows_merged", psprintf(INT64_FORMAT, m->ext_rows));
	dedup_json_raw(&d, "conflicts", psprintf(INT64_FORMAT, m->conflicts));
	dedup_json_raw(&d, "foreign_keys_repointed", dedup_json_array(m->repoint_names));
	dedup_json_raw(&d, "carried", m->carried ? m->carried : "[]");
	dedup_json_raw(&d, "compat_view", m->compat_view ? "true" : "false");
	dedup_json_str(&d, "compat_trigger", m->compat_view ? dedup_derived_name(m->ename, "", "dedup_compat") : NULL);
	dedup_json_str(&d, "definer_view", m->definer_view ?
				   quote_qualified_identifier(get_namespace_name(get_rel_namespace(m->base)), m->definer_view) : NULL);
	dedup_json_raw(&d, "base_backup", m->base_backup ? psprintf(INT64_FORMAT, m->base_backup) : "null");
	dedup_json_raw(&d, "extension_backup", m->ext_backup ? psprintf(INT64_FORMAT, m->ext_backup) : "null");
	dedup_json_raw(&d, "drop_entry", psprintf(INT64_FORMAT, m->drop_entry));
	dedup_json_raw(&d, "sql", dedup_json_array(m->sql));
	appendStringInfoChar(&d, '}');
	return d.data;
}

/* merge_extension as one journaled action: the phase controller. */
static void
merge_extension_internal(ExtMerge *m)
{
	DedupAction *act = dedup_action_begin("merge_extension");

	check_merge(m);
	compare_rows(m);
	check_access(m);
	take_backups(m);
	build_merged(m);
	check_merged(m);
	swap_in(m);

	dedup_action_touch(act, m->bq);
	dedup_action_touch(act, m->eq);
	(void) dedup_action_end(act, m->bq, merge_detail(m));
}

/*
 * What the merge of entry id put into base and was changed since, as lines
 * of a detail; NULL when nothing: every base row's extension columns still
 * hold what the extension's backup holds for it (NULL when it had no row),
 * no row of the backup lost its base row, and every value the merge filled
 * in is still there.  Writes to the base's own columns and new rows without
 * extension values are no loss: undo keeps them.
 */
static char *
merge_changed_since(int64 id, const char *bq, const char *ext_backup_entry, const char *base_backup_entry)
{
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(id)};
	List	   *r = dedup_journal_rows(psprintf(
		"SELECT (SELECT x.detail->>'backup' FROM dedup.journal x WHERE x.id OPERATOR(pg_catalog.=) %s),"
		"       (SELECT x.detail->>'backup' FROM dedup.journal x WHERE x.id OPERATOR(pg_catalog.=) %s),"
		"       (SELECT pg_catalog.string_agg(pg_catalog.format('b.%%I', c), ', ')"
		"          FROM pg_catalog.jsonb_array_elements_text(j.detail->'columns_added') c),"
		"       (SELECT pg_catalog.string_agg(pg_catalog.format('e.%%I', c), ', ')"
		"          FROM pg_catalog.jsonb_array_elements_text(j.detail->'columns_added') c),"
		"       (SELECT pg_catalog.string_agg(pg_catalog.format('b.%%I OPERATOR(pg_catalog.=) e.%%I', bk, ek), ' AND ')"
		"          FROM ROWS FROM (pg_catalog.jsonb_array_elements_text(j.detail->'base_key'),"
		"                          pg_catalog.jsonb_array_elements_text(j.detail->'extension_key')) u(bk, ek)),"
		"       (SELECT pg_catalog.string_agg(pg_catalog.format('b.%%I OPERATOR(pg_catalog.=) bb.%%I', bk, bk), ' AND ')"
		"          FROM pg_catalog.jsonb_array_elements_text(j.detail->'base_key') bk),"
		"       j.detail->>'on_conflict'"
		"  FROM dedup.journal j WHERE j.id OPERATOR(pg_catalog.=) $1",
		ext_backup_entry, base_backup_entry), 1, types, args);
	char	  **e = (char **) linitial(r);
	StringInfoData out;
	ListCell   *lc;
	int64		n;
	DedupAs		as;

	initStringInfo(&out);
	dedup_become(dedup_rel_owner(dedup_lookup_relation(bq)), &as);
	if (e[2])
	{
		n = pg_strtoint64(dedup_query_value(psprintf("SELECT pg_catalog.count(*) FROM %s b LEFT JOIN %s e ON %s"
													 " WHERE NOT pg_catalog.record_image_eq(ROW(%s), ROW(%s))",
													 bq, e[0], e[4], e[2], e[3]), 0, NULL, NULL));
		if (n > 0)
			appendStringInfo(&out, INT64_FORMAT " row%s of %s hold%s other values in the merged columns than the merge gave %s.\n",
							 n, n == 1 ? "" : "s", bq, n == 1 ? "s" : "", n == 1 ? "it" : "them");
	}
	n = pg_strtoint64(dedup_query_value(psprintf("SELECT pg_catalog.count(*) FROM %s e WHERE NOT EXISTS (SELECT 1 FROM %s b WHERE %s)",
												 e[0], bq, e[4]), 0, NULL, NULL));
	if (n > 0)
		appendStringInfo(&out, INT64_FORMAT " row%s of %s that had extension values %s deleted.\n",
						 n, n == 1 ? "" : "s", bq, n == 1 ? "was" : "were");
	foreach(lc, dedup_journal_rows("SELECT c FROM dedup.journal j, pg_catalog.jsonb_array_elements_text(j.detail->'columns_filled') c"
								   " WHERE j.id OPERATOR(pg_catalog.=) $1", 1, types, args))
	{
		const char *q = quote_identifier(((char **) lfirst(lc))[0]);
		char	   *merged = strcmp(e[6], "take_extension") == 0 ?
			psprintf("CASE WHEN e.%s IS NULL THEN bb.%s ELSE e.%s END", q, q, q) :
			psprintf("CASE WHEN bb.%s IS NULL THEN e.%s ELSE bb.%s END", q, q, q);

		n = pg_strtoint64(dedup_query_value(psprintf("SELECT pg_catalog.count(*) FROM %s b JOIN %s bb ON %s LEFT JOIN %s e ON %s"
													 " WHERE NOT pg_catalog.record_image_eq(ROW(b.%s), ROW(%s))",
													 bq, e[1], e[5], e[0], e[4], q, merged), 0, NULL, NULL));
		if (n > 0)
			appendStringInfo(&out, "Column %s of " INT64_FORMAT " row%s no longer holds what the merge filled in.\n",
							 q, n, n == 1 ? "" : "s");
	}
	dedup_unbecome(&as);
	return out.len > 0 ? out.data : NULL;
}

/*
 * Undo of a merge_extension: refused when the backups were not taken, or
 * when something the merge put in was changed since (merge_changed_since).  The compatibility view and its triggers go, the
 * foreign keys that were repointed go, base values that were filled are
 * put back from the base's backup, the added columns are dropped; then the
 * steps are undone, last first: the extension comes back with what
 * depended on it and its rows from its backup, and the backups go.
 */
char *
dedup_undo_merge_extension(int64 id, List **sql)
{
	List	   *r = dedup_journal_rows("SELECT j.detail->>'base', j.detail->>'extension', j.detail->>'base_backup',"
									   "       j.detail->>'extension_backup', j.detail->>'compat_view', j.detail->>'compat_trigger',"
									   "       NULL, NULL, NULL,"
									   "       j.detail->>'drop_entry', j.detail->>'definer_view'"
									   "  FROM dedup.journal j WHERE j.id OPERATOR(pg_catalog.=) $1",
									   1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(id)});
	char	  **e = (char **) linitial(r);
	char	   *bq = e[0];
	char	   *eq = e[1];
	Oid			base = dedup_lookup_relation(bq);
	char	   *changed;
	ListCell   *lc;
	DedupAs		as;
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(id)};

	if (!OidIsValid(base))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("cannot undo journal entry " INT64_FORMAT ": table %s no longer exists", id, bq),
				 errdetail("Nothing was changed.")));
	if (e[2] == NULL || e[3] == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot undo journal entry " INT64_FORMAT ": it ran with backup => false", id),
				 errdetail("Without the backups the values as they were cannot be put back. Nothing was changed.")));
	dedup_check_target(base, "undo a merge into");
	dedup_lock_tree(base, AccessExclusiveLock);
	changed = merge_changed_since(id, bq, e[3], e[2]);
	if (changed)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot undo journal entry " INT64_FORMAT ": what the merge put into %s was changed since", id, bq),
				 errdetail_internal("%sUndoing would lose it. Nothing was changed.", changed),
				 errhint("Restore from the journaled backups with dedup.restore_backup() and merge by hand what should stay.")));

	/* the compatibility view, its trigger, the views recreated over it */
	if (strcmp(e[4], "true") == 0)
	{
		List	   *views = dedup_journal_rows("SELECT d->>'name', d->>'kind' FROM dedup.journal j,"
											   "  pg_catalog.jsonb_array_elements((SELECT x.detail->'dependents' FROM dedup.journal x"
											   "                                    WHERE x.id OPERATOR(pg_catalog.=) (j.detail->>'drop_entry')::pg_catalog.int8))"
											   "  WITH ORDINALITY AS t(d, n)"
											   " WHERE j.id OPERATOR(pg_catalog.=) $1 AND d->>'kind' IN ('view', 'materialized view')"
											   " ORDER BY t.n DESC", 1, types, args);

		foreach(lc, views)
		{
			char	  **v = (char **) lfirst(lc);

			if (OidIsValid(dedup_lookup_relation(v[0])))
				dedup_exec_logged(sql, psprintf("DROP %s %s", strcmp(v[1], "view") == 0 ? "VIEW" : "MATERIALIZED VIEW", v[0]));
		}
		dedup_exec_logged(sql, psprintf("DROP TRIGGER %s ON %s", quote_identifier(e[5]), bq));
		dedup_exec_logged(sql, psprintf("DROP VIEW %s", eq));
		if (e[10])
			dedup_exec_logged(sql, psprintf("DROP VIEW %s", e[10]));
	}

	/* foreign keys that were pointed at the base */
	foreach(lc, dedup_journal_rows("SELECT pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I', d->>'table', d->>'constraint')"
								   "  FROM dedup.journal j, pg_catalog.jsonb_array_elements("
								   "    (SELECT x.detail->'dependents' FROM dedup.journal x"
								   "      WHERE x.id OPERATOR(pg_catalog.=) (j.detail->>'drop_entry')::pg_catalog.int8)) d"
								   " WHERE j.id OPERATOR(pg_catalog.=) $1 AND d->>'kind' OPERATOR(pg_catalog.=) 'foreign key'",
								   1, types, args))
		dedup_exec_logged(sql, ((char **) lfirst(lc))[0]);

	/*
	 * what came over from the extension and is not dropped with the added
	 * columns (a CHECK or unique index over a shared column, a foreign key
	 * of the extension to itself over one)
	 */
	foreach(lc, dedup_journal_rows("SELECT CASE WHEN c ? 'constraint'"
								   "            THEN pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS %I', j.detail->>'base', c->>'constraint')"
								   "            ELSE pg_catalog.format('DROP INDEX IF EXISTS %s', c->>'index') END"
								   "  FROM dedup.journal j, pg_catalog.jsonb_array_elements(COALESCE(j.detail->'carried', '[]')) c"
								   " WHERE j.id OPERATOR(pg_catalog.=) $1 ORDER BY c ? 'index'", 1, types, args))
		dedup_exec_logged(sql, ((char **) lfirst(lc))[0]);

	/* values filled into the base go back to what its backup holds */
	foreach(lc, dedup_journal_rows("SELECT b.detail->>'backup', pg_catalog.array_to_string(ARRAY("
								   "         SELECT pg_catalog.format('%I = bk.%I', c, c)"
								   "           FROM pg_catalog.jsonb_array_elements_text(j.detail->'columns_filled') c), ', '),"
								   "       pg_catalog.array_to_string(ARRAY("
								   "         SELECT pg_catalog.format('b.%I', c) FROM pg_catalog.jsonb_array_elements_text(j.detail->'columns_filled') c), ', '),"
								   "       pg_catalog.array_to_string(ARRAY("
								   "         SELECT pg_catalog.format('bk.%I', c) FROM pg_catalog.jsonb_array_elements_text(j.detail->'columns_filled') c), ', '),"
								   "       pg_catalog.array_to_string(ARRAY("
								   "         SELECT pg_catalog.format('b.%I OPERATOR(pg_catalog.=) bk.%I', k, k)"
								   "           FROM pg_catalog.jsonb_array_elements_text(j.detail->'base_key') k), ' AND ')"
								   "  FROM dedup.journal j JOIN dedup.journal b ON b.id OPERATOR(pg_catalog.=) (j.detail->>'base_backup')::pg_catalog.int8"
								   " WHERE j.id OPERATOR(pg_catalog.=) $1"
								   "   AND pg_catalog.jsonb_array_length(j.detail->'columns_filled') OPERATOR(pg_catalog.>) 0",
								   1, types, args))
	{
		char	  **u = (char **) lfirst(lc);
		char	   *stmt = psprintf("UPDATE %s b SET %s FROM %s bk WHERE %s AND NOT pg_catalog.record_image_eq(ROW(%s), ROW(%s))",
									bq, u[1], u[0], u[4], u[2], u[3]);

		dedup_become(dedup_rel_owner(base), &as);
		dedup_exec(stmt);
		dedup_unbecome(&as);
		*sql = lappend(*sql, stmt);
	}

	/* the added columns (their constraints, indexes and grants go with them) */
	foreach(lc, dedup_journal_rows("SELECT pg_catalog.string_agg(pg_catalog.format('DROP COLUMN %I', c), ', ')"
								   "  FROM dedup.journal j, pg_catalog.jsonb_array_elements_text(j.detail->'columns_added') c"
								   " WHERE j.id OPERATOR(pg_catalog.=) $1", 1, types, args))
		if (((char **) lfirst(lc))[0])
			dedup_exec_logged(sql, psprintf("ALTER TABLE %s %s", bq, ((char **) lfirst(lc))[0]));

	/* the extension with its rows, then the backups */
	dedup_undo_children(id, sql);
	return psprintf("split %s back out of %s", eq, bq);
}

/*
 * Merge extension ext into base as one journaled action (a step of the
 * action under way, if any).  The caller is connected to SPI.
 */
void
dedup_merge_extension_run(Oid base, Oid ext, const char *on_conflict, bool compat_view,
						  bool backup, DedupExtResult *res)
{
	ExtMerge	m;

	memset(&m, 0, sizeof(m));
	m.base = base;
	m.ext = ext;
	m.on_conflict = on_conflict;
	m.compat_view = compat_view;
	m.backup = backup;
	merge_extension_internal(&m);
	res->added = column_names(&m, true);
	res->merged = m.ext_rows;
	res->conflicts = m.conflicts;
	res->repointed = list_length(m.repoint);
}

/*
 * For dedup.plan() and dedup.plan_sql(): run the checks of a merge of ext
 * into base (the default on_conflict 'error', with the compatibility view)
 * without changing anything, under ACCESS SHARE locks.  A merge that would
 * refuse raises its error here; otherwise out describes what the merge
 * would do.
 */
void
dedup_merge_extension_preview(Oid base, Oid ext, DedupExtPreview *out)
{
	ExtMerge	m;
	ListCell   *lc;

	memset(&m, 0, sizeof(m));
	m.base = base;
	m.ext = ext;
	m.on_conflict = "error";
	m.compat_view = true;
	m.preview = true;
	check_merge(&m);
	compare_rows(&m);
	check_access(&m);

	memset(out, 0, sizeof(*out));
	foreach(lc, m.cols)
	{
		ExtColumn  *c = (ExtColumn *) lfirst(lc);

		if (!c->own)
		{
			out->shared = lappend(out->shared, c->name);
			continue;
		}
		out->added = lappend(out->added, c->name);
		out->definitions = lappend(out->definitions, c->definition);
		out->defaults = lappend(out->defaults, c->defexpr);
		out->comments = lappend(out->comments, c->comment);
	}
	out->base_key = m.bkey;
	out->ext_key = m.ekey;
	out->ext_columns = m.ecols;
	out->filled = m.filled;
	foreach(lc, list_concat_copy(m.carry, m.repoint))
	{
		ExtCarry   *k = (ExtCarry *) lfirst(lc);

		if (list_member_ptr(m.carry, k))
			out->carry = lappend(out->carry, k->stmt);
		else
			out->repoint = lappend(out->repoint, k->stmt);
		/* the merge marks it valid once proven; a script validates it */
		if (k->conname)
			out->validate = lappend(out->validate,
									psprintf("ALTER TABLE %s VALIDATE CONSTRAINT %s",
											 dedup_qualified_name(k->relid), quote_identifier(k->conname)));
	}
	out->repoint_names = m.repoint_names;
	out->grants = m.grants;
	out->rows = m.ext_rows;
}

/* The body of dedup.merge_extension() under dedup_call(). */
static void
merge_extension_body(FunctionCallInfo fcinfo, MemoryContext cxt, void *result)
{
	DedupExtResult *res = (DedupExtResult *) result;
	DedupExtResult r = {0};
	MemoryContext old;
	ListCell   *lc;

	dedup_merge_extension_run(PG_GETARG_OID(0), PG_GETARG_OID(1),
							  text_to_cstring(PG_GETARG_TEXT_PP(2)),
							  PG_GETARG_BOOL(3), PG_GETARG_BOOL(4), &r);
	old = MemoryContextSwitchTo(cxt);
	foreach(lc, r.added)
		res->added = lappend(res->added, pstrdup((char *) lfirst(lc)));
	MemoryContextSwitchTo(old);
	res->merged = r.merged;
	res->conflicts = r.conflicts;
	res->repointed = r.repointed;
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
	DedupExtResult res;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	char	  **names;
	ListCell   *lc;
	int			i = 0;

	for (i = 0; i < 5; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not be null",
							(const char *[]) {"base", "extension", "on_conflict", "compat_view", "backup"}[i]),
					 errdetail("Nothing was changed.")));
	dedup_init_srf(fcinfo);
	memset(&res, 0, sizeof(res));
	dedup_call(fcinfo, merge_extension_body, &res);

	names = palloc(sizeof(char *) * Max(list_length(res.added), 1));
	i = 0;
	foreach(lc, res.added)
		names[i++] = (char *) lfirst(lc);
	values[0] = dedup_name_array(names, i);
	values[1] = Int64GetDatum(res.merged);
	values[2] = Int64GetDatum(res.conflicts);
	values[3] = Int32GetDatum(res.repointed);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}
