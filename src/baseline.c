/*-------------------------------------------------------------------------
 *
 * baseline.c
 *	  The state a plan starts from, recorded in the journal for
 *	  dedup.verify() to compare with.
 *
 * dedup.plan() (and dedup.apply(), before its first step) writes one
 * journal entry with action 'plan'.  It is not undoable and names no
 * object, so it never stands in the way of an undo.  Its detail holds:
 *
 *	 by, schemas, merge_extensions   what was planned
 *	 steps, digest                   how many steps, and a digest of their
 *									 actions, targets and hazards (apply
 *									 compares it with what it would do)
 *	 roles                           the roles asked about (access.c)
 *	 acls                            the distinct access code vectors
 *									 (dedup._access_codes), shared by tables
 *	 tables                          per table the plan changes, and per
 *									 name that keeps answering for one
 *									 (a merged extension): t name, o oid,
 *									 r exact rows, c columns, n NULL counts,
 *									 a index into acls, l row level security
 *									 and policies, f foreign keys, x the
 *									 columns roles may use through column
 *									 privileges alone ([role, privilege,
 *									 column]: a code in capitals does not
 *									 say which)
 *	 sequences                       those that feed their columns, with
 *									 their positions
 *	 views                           views and materialized views on them
 *
 * Tables no step touches are left out: nothing the plan does can change
 * them, and a baseline of 100,000 tables would not be compact.  Rows and
 * NULL counts are read in one pass over each table, under ACCESS SHARE,
 * with a snapshot taken after the lock; a table the caller cannot read
 * every row of has NULL counts.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "common/md5.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/value.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "dedup.h"
#include "ddl.h"
#include "plan.h"

/* An access code vector and the table it belongs to, for sharing them. */
typedef struct AclRef
{
	char	   *codes;
	int			table;			/* position in the baseline's table list */
} AclRef;

/* Position of relid in the sorted array of the baseline's relations, or -1. */
static int
rel_position(Oid *relids, int n, Oid relid)
{
	Oid		   *at = bsearch(&relid, relids, n, sizeof(Oid), oid_cmp);

	return at ? (int) (at - relids) : -1;
}

static int
cmp_aclref(const void *a, const void *b)
{
	return strcmp(((const AclRef *) a)->codes, ((const AclRef *) b)->codes);
}

/*
 * Exact rows of relid (with its partitions or inheritance children) and the
 * NULLs of each named column, in one pass under ACCESS SHARE (released
 * afterwards) with a snapshot taken after the locks.  False when the
 * caller could not read every row itself, or a member is a foreign table.
 */
bool
dedup_count_rows_and_nulls(Oid relid, List *cols, int64 *rows, int64 *nulls)
{
	List	   *members;
	ListCell   *lc;
	Snapshot	snapshot;
	int			ncols = list_length(cols);
	AttrNumber *attnums = palloc(sizeof(AttrNumber) * Max(ncols, 1));
	bool		ok = true;

	*rows = 0;
	memset(nulls, 0, sizeof(int64) * Max(ncols, 1));
	LockRelationOid(relid, AccessShareLock);
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)) ||
		pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK ||
		check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
	{
		UnlockRelationOid(relid, AccessShareLock);
		return false;
	}
	members = find_all_inheritors(relid, AccessShareLock, NULL);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	foreach(lc, members)
	{
		Relation	rel = relation_open(lfirst_oid(lc), NoLock);
		TableScanDesc scan;
		TupleTableSlot *slot;
		ListCell   *cc;
		AttrNumber	maxatt = 0;
		int			i = 0;

		if (rel->rd_rel->relkind == RELKIND_FOREIGN_TABLE)
			ok = false;
		if (!ok || !RELKIND_HAS_STORAGE(rel->rd_rel->relkind))
		{
			relation_close(rel, NoLock);
			continue;
		}
		foreach(cc, cols)
		{
			attnums[i] = get_attnum(RelationGetRelid(rel), (char *) lfirst(cc));
			maxatt = Max(maxatt, attnums[i]);
			i++;
		}
		scan = table_beginscan(rel, snapshot, 0, NULL);
		slot = table_slot_create(rel, NULL);
		while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
		{
			(*rows)++;
			if (((*rows) & 1023) == 0)
				CHECK_FOR_INTERRUPTS();
			slot_getsomeattrs(slot, maxatt);
			for (i = 0; i < ncols; i++)
				if (attnums[i] == InvalidAttrNumber || slot->tts_isnull[attnums[i] - 1])
					nulls[i]++;
		}
		ExecDropSingleTupleTableSlot(slot);
		table_endscan(scan);
		relation_close(rel, NoLock);
	}
	UnregisterSnapshot(snapshot);
	foreach(lc, members)
		UnlockRelationOid(lfirst_oid(lc), AccessShareLock);
	return ok;
}

/*
 * The sequences that feed the columns of the relations (an oid[]) with
 * their position, as a JSON array: s sequence, t table, c column, v
 * last_value, i is_called (both null when the caller may not read it).
 */
char *
dedup_sequences_state(Datum rels)
{
	Oid			types[1] = {OIDARRAYOID};
	Datum		args[1] = {rels};
	StringInfoData out;
	ListCell   *lc;

	initStringInfo(&out);
	appendStringInfoChar(&out, '[');
	foreach(lc, dedup_query_rows("SELECT s.seq::pg_catalog.text, s.rel::pg_catalog.regclass::pg_catalog.text, s.col,"
								 "       pg_catalog.has_sequence_privilege(s.seq, 'SELECT')"
								 "  FROM dedup._table_sequences($1) s ORDER BY 1, 2, 3", 1, types, args))
	{
		char	  **r = (char **) lfirst(lc);
		StringInfoData o;

		initStringInfo(&o);
		appendStringInfoChar(&o, '{');
		dedup_json_str(&o, "s", r[0]);
		dedup_json_str(&o, "t", r[1]);
		dedup_json_str(&o, "c", r[2]);
		if (strcmp(r[3], "t") == 0)
		{
			char	  **v = (char **) linitial(dedup_query_rows(psprintf("SELECT last_value, is_called FROM %s", r[0]),
															   0, NULL, NULL));

			dedup_json_raw(&o, "v", v[0]);
			dedup_json_raw(&o, "i", strcmp(v[1], "t") == 0 ? "true" : "false");
		}
		appendStringInfoChar(&o, '}');
		appendStringInfo(&out, "%s%s", out.len > 1 ? ", " : "", o.data);
	}
	appendStringInfoChar(&out, ']');
	return out.data;
}

/* A count in a subtransaction: -1 when the query fails (no privilege, RLS). */
typedef struct OrphanCount
{
	const char *sql;
	int64		n;
	Oid			owner;
} OrphanCount;

static void
orphan_count_body(void *arg)
{
	OrphanCount *c = (OrphanCount *) arg;

	c->n = pg_strtoint64(((char **) linitial(dedup_query_rows_as(c->sql, c->owner, 0, NULL, NULL)))[0]);
}

/*
 * The rows of conrelid without their row in confrelid, counted by the
 * query sql (dedup._fk_orphans_sql) in a subtransaction: -1 and *why when
 * the caller may not read every row of both, or the count fails.  It runs
 * as the owner of the referencing table, as PostgreSQL validates a foreign
 * key: planning it folds the tables' index expressions, their owners'
 * code, which never runs as the caller.
 */
int64
dedup_count_orphans(const char *sql, Oid conrelid, Oid confrelid, char **why)
{
	OrphanCount c = {sql, -1, InvalidOid};

	*why = NULL;
	if (!dedup_may_read_all(conrelid) || !dedup_may_read_all(confrelid))
	{
		*why = psprintf("you may not read every row of %s and %s: no SELECT privilege, or row level security applies to you",
						dedup_qualified_name(conrelid), dedup_qualified_name(confrelid));
		return -1;
	}
	c.owner = dedup_rel_owner(conrelid);
	return dedup_try(orphan_count_body, &c, why) ? c.n : -1;
}

/*
 * The foreign keys that touch the relations (an oid[]), and every NOT VALID
 * one of the plan's tables, with how many referencing rows lack their
 * referenced row now, as a JSON array of [table, constraint, count, the
 * query that counts them] (count null when the caller could not count).
 * verify() reports every such row; apply() fails only when there are more.
 */
static char *
orphans_state(DedupPlan *plan, Datum rels)
{
	Datum	   *oids = palloc(sizeof(Datum) * Max(plan->cat->ntables, 1));
	Oid			types[2] = {OIDARRAYOID, OIDARRAYOID};
	Datum		args[2];
	StringInfoData out;
	ListCell   *lc;
	int			i;

	for (i = 0; i < plan->cat->ntables; i++)
		oids[i] = ObjectIdGetDatum(plan->cat->tables[i].relid);
	args[0] = rels;
	args[1] = PointerGetDatum(construct_array(oids, plan->cat->ntables, OIDOID, sizeof(Oid), true, TYPALIGN_INT));
	initStringInfo(&out);
	appendStringInfoChar(&out, '[');
	foreach(lc, dedup_query_rows(dedup_orphan_fks_sql, 2, types, args))
	{
		char	  **r = (char **) lfirst(lc);
		OrphanCount c = {r[3], -1, InvalidOid};
		char	   *why = NULL;

		CHECK_FOR_INTERRUPTS();
		c.n = dedup_count_orphans(r[3], (Oid) strtoul(r[7], NULL, 10), (Oid) strtoul(r[8], NULL, 10), &why);
		appendStringInfoString(&out, out.len > 1 ? ", [" : "[");
		escape_json(&out, r[1]);
		appendStringInfoString(&out, ", ");
		escape_json(&out, r[2]);
		appendStringInfo(&out, ", %s, ", c.n >= 0 ? psprintf(INT64_FORMAT, c.n) : "null");
		escape_json(&out, r[3]);
		appendStringInfoChar(&out, ']');
	}
	appendStringInfoChar(&out, ']');
	return out.data;
}

/*
 * For the relations $1 (oid[]): each role of dedup._access_roles() that may
 * use a column through a column privilege and not through the table's,
 * as rel, role, privilege (SELECT, INSERT, UPDATE), column.  Only columns
 * with privileges of their own can answer.
 */
const char *dedup_column_privileges_sql =
"SELECT c.oid, r.name, p.priv, a.attname::pg_catalog.text"
"  FROM pg_catalog.pg_class c"
"  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attnum OPERATOR(pg_catalog.>) 0"
"       AND NOT a.attisdropped AND a.attacl IS NOT NULL"
"  CROSS JOIN pg_catalog.unnest(dedup._access_roles()) r(name)"
"  CROSS JOIN (VALUES ('SELECT'), ('INSERT'), ('UPDATE')) p(priv)"
" WHERE c.oid OPERATOR(pg_catalog.=) ANY ($1)"
"   AND NOT pg_catalog.has_table_privilege(r.name::pg_catalog.name, c.oid, p.priv)"
"   AND pg_catalog.has_column_privilege(r.name::pg_catalog.name, c.oid, a.attnum, p.priv)"
" ORDER BY 1, r.name COLLATE \"C\", 3, a.attnum";

/* The roles asked about, in the order access codes list them. */
List *
dedup_access_roles(void)
{
	return dedup_query_column("SELECT pg_catalog.unnest(dedup._access_roles())", 0, NULL, NULL, NULL);
}

/* md5 of the plan's steps (action, target, hazard), the plan's identity. */
static char *
steps_digest(DedupPlan *plan)
{
	StringInfoData buf;
	ListCell   *lc;
	char		hex[33];
	const char *errstr = NULL;

	initStringInfo(&buf);
	foreach(lc, plan->steps)
	{
		DedupStep  *s = (DedupStep *) lfirst(lc);

		appendStringInfo(&buf, "%s %s %s\n", dedup_step_action(s->kind), s->target,
						 s->hazard ? s->hazard : "");
	}
	if (!pg_md5_hash(buf.data, buf.len, hex, &errstr))
		elog(ERROR, "dedup: could not compute a digest: %s", errstr ? errstr : "?");
	return pstrdup(hex);
}

/* The relations of the baseline: what the plan changes or keeps answering for. */
static List *
baseline_tables(DedupPlan *plan)
{
	List	   *out = list_copy(plan->changed);
	ListCell   *lc;

	foreach(lc, plan->steps)
	{
		DedupStep  *s = (DedupStep *) lfirst(lc);

		if (s->kind == DEDUP_STEP_MERGE_EXTENSION ||
			(s->kind == DEDUP_STEP_MERGE_ROWS && !s->drop_source))
			out = list_append_unique_oid(out, s->relid);
	}
	list_sort(out, list_oid_cmp);
	return out;
}

/*
 * Write the baseline of plan as a journal entry ('plan'); by says which
 * function planned.  The caller is connected to SPI.  Returns its id.
 */
int64
dedup_record_baseline(DedupPlan *plan, const char *by)
{
	List	   *rels = baseline_tables(plan);
	int			nrels = list_length(rels);
	Datum	   *oids = palloc(sizeof(Datum) * Max(nrels, 1));
	Oid		   *relids = palloc(sizeof(Oid) * Max(nrels, 1));
	Oid			types[1] = {OIDARRAYOID};
	Datum		args[1];
	AclRef	   *acls = palloc(sizeof(AclRef) * Max(nrels, 1));
	int		   *aclindex = palloc0(sizeof(int) * Max(nrels, 1));
	char	  **rls = palloc0(sizeof(char *) * Max(nrels, 1));
	char	  **fks = palloc0(sizeof(char *) * Max(nrels, 1));
	StringInfoData *colprivs = palloc0(sizeof(StringInfoData) * Max(nrels, 1));
	StringInfoData d;
	StringInfoData tables;
	StringInfoData distinct;
	ListCell   *lc;
	int			i;
	int			ndistinct = 0;
	List	   *views = NIL;
	int			nestlevel = dedup_quiet_stats_begin(plan->cat);	/* our reads are not use */
	int64		id;

	i = 0;
	foreach(lc, rels)
	{
		relids[i] = lfirst_oid(lc);
		oids[i++] = ObjectIdGetDatum(lfirst_oid(lc));
	}
	args[0] = PointerGetDatum(construct_array(oids, nrels, OIDOID, sizeof(Oid), true, TYPALIGN_INT));

	/* access codes, shared among tables that have the same */
	foreach(lc, dedup_query_rows("SELECT rel, codes::pg_catalog.text FROM dedup._access_codes($1)",
								 1, types, args))
	{
		char	  **r = (char **) lfirst(lc);
		int			at = rel_position(relids, nrels, (Oid) strtoul(r[0], NULL, 10));

		if (at >= 0)
		{
			acls[at].codes = r[1];
			acls[at].table = at;
		}
	}
	for (i = 0; i < nrels; i++)
		if (acls[i].codes == NULL)
		{
			acls[i].codes = "{}";
			acls[i].table = i;
		}
	qsort(acls, nrels, sizeof(AclRef), cmp_aclref);
	initStringInfo(&distinct);
	for (i = 0; i < nrels; i++)
	{
		if (i == 0 || strcmp(acls[i].codes, acls[i - 1].codes) != 0)
		{
			char	   *json = dedup_query_value("SELECT pg_catalog.array_to_json($1::pg_catalog.text[])::pg_catalog.text",
												 1, (Oid[]) {TEXTOID}, (Datum[]) {CStringGetTextDatum(acls[i].codes)});

			appendStringInfo(&distinct, "%s%s", ndistinct ? ", " : "", json);
			ndistinct++;
		}
		aclindex[acls[i].table] = ndistinct - 1;
	}

	/* row level security, foreign keys */
	foreach(lc, dedup_query_rows("SELECT rel, rls, fks::pg_catalog.text FROM dedup._table_facts($1)",
								 1, types, args))
	{
		char	  **r = (char **) lfirst(lc);
		int			at = rel_position(relids, nrels, (Oid) strtoul(r[0], NULL, 10));

		if (at >= 0)
		{
			rls[at] = r[1];
			fks[at] = r[2];
		}
	}

	/* the columns roles may use through column privileges alone */
	foreach(lc, dedup_query_rows(dedup_column_privileges_sql, 1, types, args))
	{
		char	  **r = (char **) lfirst(lc);
		int			at = rel_position(relids, nrels, (Oid) strtoul(r[0], NULL, 10));

		if (at < 0)
			continue;
		if (colprivs[at].data == NULL)
			initStringInfo(&colprivs[at]);
		appendStringInfoString(&colprivs[at], colprivs[at].len ? ", [" : "[");
		escape_json(&colprivs[at], r[1]);
		appendStringInfoString(&colprivs[at], ", ");
		escape_json(&colprivs[at], r[2]);
		appendStringInfoString(&colprivs[at], ", ");
		escape_json(&colprivs[at], r[3]);
		appendStringInfoChar(&colprivs[at], ']');
	}

	/* rows and NULLs, table by table */
	initStringInfo(&tables);
	i = 0;
	foreach(lc, rels)
	{
		Oid			relid = lfirst_oid(lc);
		List	   *cols = dedup_column_names(relid);
		int64	   *nulls = palloc(sizeof(int64) * Max(list_length(cols), 1));
		int64		rows;
		bool		known;
		StringInfoData t;
		StringInfoData n;
		DedupTable *ct = dedup_find_table(plan->cat, relid);
		int			j;

		CHECK_FOR_INTERRUPTS();
		known = dedup_count_rows_and_nulls(relid, cols, &rows, nulls);
		initStringInfo(&t);
		appendStringInfoChar(&t, '{');
		dedup_json_str(&t, "t", dedup_qualified_name(relid));
		dedup_json_raw(&t, "o", psprintf("%u", relid));
		dedup_json_raw(&t, "r", known ? psprintf(INT64_FORMAT, rows) : "null");
		dedup_json_raw(&t, "c", dedup_json_array(cols));
		initStringInfo(&n);
		appendStringInfoChar(&n, '[');
		for (j = 0; j < list_length(cols); j++)
			appendStringInfo(&n, "%s%s", j ? ", " : "", known ? psprintf(INT64_FORMAT, nulls[j]) : "null");
		appendStringInfoChar(&n, ']');
		dedup_json_raw(&t, "n", n.data);
		dedup_json_raw(&t, "a", psprintf("%d", aclindex[i]));
		dedup_json_str(&t, "l", rls[i]);
		dedup_json_raw(&t, "f", fks[i] ? fks[i] : "[]");
		if (colprivs[i].data)
			dedup_json_raw(&t, "x", psprintf("[%s]", colprivs[i].data));
		appendStringInfoChar(&t, '}');
		appendStringInfo(&tables, "%s%s", i ? ", " : "", t.data);
		if (ct)
		{
			ListCell   *vc;

			foreach(vc, ct->dependents)
			{
				DedupDependent *dep = (DedupDependent *) lfirst(vc);

				if (dep->relkind == RELKIND_VIEW || dep->relkind == RELKIND_MATVIEW)
					views = list_append_unique(views, makeString(dedup_qualified_name(dep->relid)));
			}
		}
		i++;
	}

	initStringInfo(&d);
	appendStringInfoChar(&d, '{');
	dedup_json_str(&d, "by", by);
	dedup_json_raw(&d, "schemas", plan->schemas_text ?
				   dedup_query_value("SELECT pg_catalog.array_to_json($1::pg_catalog.text[])::pg_catalog.text",
									 1, (Oid[]) {TEXTOID}, (Datum[]) {CStringGetTextDatum(plan->schemas_text)}) :
				   "null");
	dedup_json_raw(&d, "merge_extensions", plan->merge_extensions ? "true" : "false");
	dedup_json_raw(&d, "steps", psprintf("%d", list_length(plan->steps)));
	dedup_json_str(&d, "digest", steps_digest(plan));
	dedup_json_raw(&d, "roles", dedup_json_array(dedup_access_roles()));
	dedup_json_raw(&d, "acls", psprintf("[%s]", distinct.data));
	dedup_json_raw(&d, "tables", psprintf("[%s]", tables.data));
	dedup_json_raw(&d, "sequences", dedup_sequences_state(args[0]));
	dedup_json_raw(&d, "orphans", orphans_state(plan, args[0]));
	{
		List	   *names = NIL;

		foreach(lc, views)
			names = lappend(names, strVal(lfirst(lc)));
		dedup_json_raw(&d, "views", dedup_json_array(names));
	}
	appendStringInfoChar(&d, '}');
	id = dedup_journal_write_row(0, "plan", plan->schemas_text ? plan->schemas_text : "all user schemas",
								 0, 0, NIL, d.data);
	dedup_quiet_stats_end(nestlevel);
	return id;
}

/*
 * The latest baseline recorded for these schemas (NULL: all user schemas),
 * or 0 when there is none.
 */
int64
dedup_latest_baseline(ArrayType *schemas)
{
	Oid			types[1] = {TEXTOID};
	Datum		args[1];
	char	   *v;

	if (schemas)
		args[0] = CStringGetTextDatum(dedup_schemas_text(schemas));
	v = dedup_journal_value(schemas ?
							"SELECT j.id FROM dedup.journal j WHERE j.action OPERATOR(pg_catalog.=) 'plan'"
							"   AND (j.detail->'schemas') OPERATOR(pg_catalog.=) pg_catalog.to_jsonb($1::pg_catalog.text[])"
							" ORDER BY j.id DESC LIMIT 1" :
							"SELECT j.id FROM dedup.journal j WHERE j.action OPERATOR(pg_catalog.=) 'plan'"
							"   AND (j.detail->'schemas') OPERATOR(pg_catalog.=) 'null'::pg_catalog.jsonb"
							" ORDER BY j.id DESC LIMIT 1",
							schemas ? 1 : 0, types, args);
	return v ? pg_strtoint64(v) : 0;
}
