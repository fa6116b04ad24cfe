/*-------------------------------------------------------------------------
 *
 * plan.c
 *	  dedup.plan(): the steps that consolidate every duplicate group, in a
 *	  safe order, each with its hazard, its reason and the statement that
 *	  dedup.apply() runs for it.  Changes nothing; records a baseline.
 *
 * The plan is built from the catalog model and the duplicate groups of
 * discovery (grouping.c), never from report text.  For each group:
 *
 *	 backup           every table a later step changes or drops, when it
 *					  holds rows (and a partitioned keeper before it is
 *					  unpartitioned, as unpartition backs it up in any case);
 *					  a fresh journaled backup is reused
 *	 unpartition      a partitioned keeper none of whose partitions holds a
 *					  row becomes one plain table (before anything is merged
 *					  into it: rows and columns need a plain table)
 *	 merge_extension  with merge_extensions, a 1:1 extension of the keeper
 *					  is folded into it (before the look-alikes, whose
 *					  columns it may give a home)
 *	 merge_rows       a look-alike holding rows: the rows the keeper lacks
 *					  are inserted; the look-alike is dropped only when every
 *					  row and non-null value of it is in the keeper
 *					  afterwards, otherwise it stays with the hazard
 *	 drop             the empty duplicates discovery calls safe, in
 *					  drop_order; backups are never dropped
 *	 keep             what stays, with the reason: backups; every member
 *					  of a group whose keeper is not clear-cut; a look-alike
 *					  shown to be a copy by weak evidence only, or in use
 *	 verify           dedup.verify() against the baseline
 *
 * Steps run phase by phase across groups (a foreign key between two
 * groups' duplicates orders their drops).  Whether a merge would succeed is
 * found out by running its checks read-only, under ACCESS SHARE: a step
 * that would refuse is not planned; the table stays and the refusal is the
 * reason.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"

#include "compat.h"
#include "dedup.h"
#include "ddl.h"
#include "plan.h"

PG_FUNCTION_INFO_V1(dedup_plan);

/* What the plan knows about one group while it is built. */
typedef struct PlanGroup
{
	DedupTable *keeper;
	bool		keeper_plain;	/* a plain table by the time rows are merged */
	DedupTable *ext;			/* an extension merged into the keeper, or NULL */
	DedupExtPreview *ext_preview;
} PlanGroup;

/* Steps collected phase by phase, then numbered. */
typedef struct PlanBuild
{
	DedupPlan  *plan;
	List	   *backups;
	List	   *unpartitions;
	List	   *ext_merges;
	List	   *row_merges;
	List	   *drops;
	List	   *keeps;
	bool	   *backed_up;		/* by table index */
} PlanBuild;

/* A look-alike holding rows, compared with its keeper read-only. */
typedef struct RowPreview
{
	DedupTable *source;
	DedupTable *keeper;
	DedupTable *ext;			/* merged into the keeper first, or NULL */
	DedupExtPreview *ext_preview;
	int64		rows;
	int64		missing;
	int64		present;
	int64		conflicts;
	List	   *lost;			/* char *: values the keeper has no column for */
	List	   *access;			/* char *: access a merge would change */
	List	   *inscols;		/* char *: the columns a merge inserts */
	char	   *keymatch;		/* k.key = s.key AND ... */
	char	   *same;			/* the keeper row k holds the values of s */
	List	   *extra;			/* char *: source columns the keeper has none for */
} RowPreview;

/* A 1:1 extension and its base, for the read-only checks of merge_extension. */
typedef struct ExtArgs
{
	Oid			base;
	Oid			ext;
	DedupExtPreview *out;
} ExtArgs;

static const char *const step_actions[] = {
	"backup", "unpartition", "merge_extension", "merge_rows", "drop", "keep", "verify"
};

const char *
dedup_step_action(DedupStepKind kind)
{
	return step_actions[kind];
}

/* The text form of a name[] of schemas: '{public,app}'. */
char *
dedup_schemas_text(ArrayType *schemas)
{
	Oid			out;
	bool		isvarlena;

	getTypeOutputInfo(NAMEARRAYOID, &out, &isvarlena);
	return OidOutputFunctionCall(out, PointerGetDatum(schemas));
}

/* Does the plan change anything (more than keep and verify)? */
bool
dedup_plan_changes_something(DedupPlan *plan)
{
	ListCell   *lc;

	foreach(lc, plan->steps)
	{
		DedupStepKind k = ((DedupStep *) lfirst(lc))->kind;

		if (k != DEDUP_STEP_KEEP && k != DEDUP_STEP_VERIFY)
			return true;
	}
	return false;
}

static DedupStep *
new_step(DedupStepKind kind, DedupTable *t)
{
	DedupStep  *s = palloc0(sizeof(DedupStep));

	s->kind = kind;
	if (t)
	{
		s->relid = t->relid;
		s->target = t->qualname;
		s->group_id = t->group_id;
		s->rows = t->unknown_reason == DEDUP_KNOWN ? t->nrows : -1;
	}
	return s;
}

static char *
lit(const char *s)
{
	return quote_literal_cstr(s);
}

/* "a, b, c" */
static char *
join_phrases(List *phrases)
{
	StringInfoData b;
	ListCell   *lc;

	initStringInfo(&b);
	foreach(lc, phrases)
		appendStringInfo(&b, "%s%s", b.len ? ", " : "", (char *) lfirst(lc));
	return b.data;
}

static char *
rows_phrase(int64 n)
{
	return psprintf(INT64_FORMAT " row%s", n, n == 1 ? "" : "s");
}

/* A table that stays, and why. */
static void
keep(PlanBuild *pb, DedupTable *t, const char *hazard, char *reason)
{
	DedupStep  *s = new_step(DEDUP_STEP_KEEP, t);

	s->hazard = hazard ? pstrdup(hazard) : NULL;
	s->reason = reason;
	pb->keeps = lappend(pb->keeps, s);
}

/* The backup of t before a step changes or drops it (once per table). */
static void
backup(PlanBuild *pb, DedupTable *t, const char *why)
{
	int			i = dedup_table_index(pb->plan->cat, t->relid);
	DedupStep  *s;

	if (pb->backed_up[i])
		return;
	pb->backed_up[i] = true;
	s = new_step(DEDUP_STEP_BACKUP, t);
	s->backup_name = dedup_backup_name_planned(t->relid, &s->reused);
	s->reason = psprintf("%s%s", why,
						 s->reused ? "; a fresh journaled backup already holds its rows and is reused" : "");
	s->sql = psprintf("SELECT dedup.backup_table(%s, %s)", lit(t->qualname), lit(s->backup_name));
	pb->backups = lappend(pb->backups, s);
}

/* Run fn in a subtransaction: NULL when it succeeded, else the error's text. */
static char *
try_read_only(void (*fn) (void *), void *arg)
{
	char	   *why = NULL;

	return dedup_try(fn, arg, &why) ? NULL : why;
}

/* A column of rel by name, or NULL. */
static Form_pg_attribute
column_of(Relation rel, const char *name)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;

	for (i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped &&
			strcmp(NameStr(TupleDescAttr(desc, i)->attname), name) == 0)
			return TupleDescAttr(desc, i);
	return NULL;
}

static bool
same_column_type(Form_pg_attribute a, Form_pg_attribute b)
{
	return a->atttypid == b->atttypid && a->atttypmod == b->atttypmod &&
		a->attcollation == b->attcollation;
}

/*
 * Compare a look-alike with its keeper, as merge_rows would after the
 * steps before it: the keeper seen with the columns an extension merged
 * into it brings (values filled as merge_extension fills them).  Read
 * only, under ACCESS SHARE; an error says why a merge would refuse.
 */
static void
preview_rows(void *arg)
{
	RowPreview *p = (RowPreview *) arg;
	Relation	srel,
				krel,
				erel = NULL;
	TupleDesc	sdesc;
	List	   *key;
	StringInfoData keeper_cols,
				keymatch,
				kshared,
				sshared,
				lostcols,
				sql;
	List	   *inscols = NIL;
	List	   *lost_names = NIL;
	ListCell   *lc;
	List	   *row;
	char	   *vk;
	int			i;
	int			nlost = 0;
	Oid			owner;

	dedup_check_target(p->keeper->relid, "merge into");
	dedup_check_target(p->source->relid, "merge from");
	owner = dedup_check_same_owner(p->source->relid, p->keeper->relid);
	LockRelationOid(p->source->relid, AccessShareLock);
	LockRelationOid(p->keeper->relid, AccessShareLock);
	dedup_check_mergeable(p->source->relid);
	dedup_check_mergeable(p->keeper->relid);
	key = dedup_merge_key(p->keeper->relid);

	srel = relation_open(p->source->relid, AccessShareLock);
	krel = relation_open(p->keeper->relid, AccessShareLock);
	if (p->ext)
		erel = relation_open(p->ext->relid, AccessShareLock);
	sdesc = RelationGetDescr(srel);

	/* the keeper as it will be: its columns (shared ones filled), the extension's own */
	initStringInfo(&keeper_cols);
	for (i = 0; i < RelationGetDescr(krel)->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(RelationGetDescr(krel), i);
		const char *q = quote_identifier(NameStr(a->attname));

		if (a->attisdropped)
			continue;
		if (p->ext && list_position_str(p->ext_preview->shared, NameStr(a->attname)) >= 0)
			appendStringInfo(&keeper_cols, "%sCASE WHEN k.%s IS NULL THEN e.%s ELSE k.%s END AS %s",
							 keeper_cols.len ? ", " : "", q, q, q, q);
		else
			appendStringInfo(&keeper_cols, "%sk.%s", keeper_cols.len ? ", " : "", q);
	}
	if (p->ext)
	{
		StringInfoData on;
		ListCell   *b,
				   *e;

		foreach(lc, p->ext_preview->added)
			appendStringInfo(&keeper_cols, ", e.%s", quote_identifier((char *) lfirst(lc)));
		initStringInfo(&on);
		forboth(b, p->ext_preview->base_key, e, p->ext_preview->ext_key)
			appendStringInfo(&on, "%se.%s OPERATOR(pg_catalog.=) k.%s", on.len ? " AND " : "",
							 quote_identifier((char *) lfirst(e)), quote_identifier((char *) lfirst(b)));
		vk = psprintf("(SELECT %s FROM %s k LEFT JOIN %s e ON %s)", keeper_cols.data,
					  p->keeper->qualname, p->ext->qualname, on.data);
	}
	else
		vk = p->keeper->qualname;

	/* columns: shared with the keeper (same type), or values it has no column for */
	initStringInfo(&kshared);
	initStringInfo(&sshared);
	initStringInfo(&lostcols);
	for (i = 0; i < sdesc->natts; i++)
	{
		Form_pg_attribute sa = TupleDescAttr(sdesc, i);
		Form_pg_attribute ka;
		const char *name = NameStr(sa->attname);
		const char *q = quote_identifier(name);

		if (sa->attisdropped)
			continue;
		ka = column_of(krel, name);
		if (ka == NULL && erel && list_position_str(p->ext_preview->added, name) >= 0)
			ka = column_of(erel, name);
		if (ka == NULL)
		{
			appendStringInfo(&lostcols, ", pg_catalog.count(s.%s)", q);
			lost_names = lappend(lost_names, pstrdup(name));
			nlost++;
			continue;
		}
		if (!same_column_type(sa, ka))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" is %s in \"%s\" but %s in \"%s\"", name,
							format_type_with_typemod(sa->atttypid, sa->atttypmod), p->source->relname,
							format_type_with_typemod(ka->atttypid, ka->atttypmod), p->keeper->relname),
					 errdetail("Rows are compared and merged only between columns of the same type, modifier and collation.")));
		if (ka->attgenerated != sa->attgenerated)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("column \"%s\" is generated in one of \"%s\" and \"%s\" only", name,
							p->source->relname, p->keeper->relname)));
		appendStringInfo(&kshared, "%sk.%s", kshared.len ? ", " : "", q);
		appendStringInfo(&sshared, "%ss.%s", sshared.len ? ", " : "", q);
		if (!ka->attgenerated)
			inscols = lappend(inscols, pstrdup(name));
	}
	initStringInfo(&keymatch);
	foreach(lc, key)
	{
		char	   *name = (char *) lfirst(lc);
		Form_pg_attribute sa = column_of(srel, name);

		if (sa == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("key column \"%s\" of \"%s\" is not in \"%s\"", name,
							p->keeper->relname, p->source->relname)));
		appendStringInfo(&keymatch, "%sk.%s %s s.%s", keymatch.len ? " AND " : "",
						 quote_identifier(name), dedup_equality_operator(sa->atttypid, name),
						 quote_identifier(name));
	}
	relation_close(srel, NoLock);
	relation_close(krel, NoLock);
	if (erel)
		relation_close(erel, NoLock);

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT pg_catalog.count(*),"
					 "       pg_catalog.count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM %s k WHERE %s)),"
					 "       pg_catalog.count(*) FILTER (WHERE EXISTS (SELECT 1 FROM %s k WHERE %s"
					 "                     AND pg_catalog.record_image_eq(ROW(%s), ROW(%s))))%s"
					 "  FROM %s s",
					 vk, keymatch.data, vk, keymatch.data, kshared.data, sshared.data,
					 lostcols.data, p->source->qualname);
	/*
	 * Read as the tables' owner (planning folds their index expressions,
	 * the owner's code), by a caller who may read every row of them.
	 */
	dedup_require_read_all(p->source->relid);
	dedup_require_read_all(p->keeper->relid);
	if (p->ext)
		dedup_require_read_all(p->ext->relid);
	row = dedup_query_rows_as(sql.data, owner, 0, NULL, NULL);
	{
		char	  **r = (char **) linitial(row);

		p->rows = pg_strtoint64(r[0]);
		p->missing = pg_strtoint64(r[1]);
		p->present = pg_strtoint64(r[2]);
		p->conflicts = p->rows - p->missing - p->present;
		i = 3;
		foreach(lc, lost_names)
		{
			int64		n = pg_strtoint64(r[i++]);

			if (n > 0)
				p->lost = lappend(p->lost, psprintf("column %s (" INT64_FORMAT " value%s)",
													quote_identifier((char *) lfirst(lc)), n,
													n == 1 ? "" : "s"));
		}
	}
	if (p->rows > 0)
		p->access = dedup_access_rows_gain(p->source->relid, p->keeper->relid);
	p->inscols = inscols;
	p->keymatch = keymatch.data;
	p->same = psprintf("pg_catalog.record_image_eq(ROW(%s), ROW(%s))", kshared.data, sshared.data);
	p->extra = lost_names;
}

/* (subtransaction body) the read-only checks of merge_extension */
static void
preview_extension(void *arg)
{
	ExtArgs    *a = (ExtArgs *) arg;

	dedup_merge_extension_preview(a->base, a->ext, a->out);
}

/* Why dropping t (a table with rows) would fail without cascade, or NULL. */
static char *
drop_blockers(DedupTable *t)
{
	StringInfoData b;
	ListCell   *lc;

	initStringInfo(&b);
	foreach(lc, t->dependents)
		appendStringInfo(&b, "%sdependent %s", b.len ? ", " : "",
						 ((DedupDependent *) lfirst(lc))->phrase);
	foreach(lc, t->referenced_by)
		appendStringInfo(&b, "%sforeign key %s from %s", b.len ? ", " : "",
						 quote_identifier(((DedupFk *) lfirst(lc))->conname),
						 dedup_qualified_name(((DedupFk *) lfirst(lc))->from));
	foreach(lc, t->children)
		appendStringInfo(&b, "%sinheritance child %s", b.len ? ", " : "",
						 dedup_qualified_name(lfirst_oid(lc)));
	foreach(lc, t->publications)
		appendStringInfo(&b, "%smember of publication %s", b.len ? ", " : "",
						 quote_identifier((char *) lfirst(lc)));
	return b.len ? b.data : NULL;
}

/* A look-alike that holds rows: merged (and dropped when nothing would be lost), or kept. */
static void
plan_lookalike(PlanBuild *pb, PlanGroup *g, DedupTable *t)
{
	RowPreview	p;
	char	   *err;
	char	   *blockers;
	DedupStep  *s;
	StringInfoData why;

	memset(&p, 0, sizeof(p));
	p.source = t;
	p.keeper = g->keeper;
	p.ext = g->ext;
	p.ext_preview = g->ext_preview;
	if (!g->keeper_plain)
	{
		keep(pb, t, "not comparable",
			 psprintf("%s is partitioned and its partitions hold rows: merge %s into it by hand",
					  g->keeper->qualname, t->qualname));
		return;
	}
	err = try_read_only(preview_rows, &p);
	if (err)
	{
		keep(pb, t, "not comparable", psprintf("its rows cannot be merged into %s: %s",
											   g->keeper->qualname, err));
		return;
	}
	/* what discovery reads only as "holds rows", the preview measured */
	t->verdict = psprintf("%s%s",
						  p.missing == 0 && p.conflicts == 0 ? "all rows present in keeper" :
						  p.conflicts == 0 ? psprintf(INT64_FORMAT " row%s missing from keeper", p.missing,
													  p.missing == 1 ? "" : "s") :
						  psprintf(INT64_FORMAT " row%s missing from keeper, " INT64_FORMAT " conflicting",
								   p.missing, p.missing == 1 ? "" : "s", p.conflicts),
						  p.lost ? psprintf("; not in keeper: %s", join_phrases(p.lost)) : "");
	if (p.access != NIL)
	{
		keep(pb, t, "access", psprintf("merging it into %s would change who can read or write what: %s",
									   g->keeper->qualname, join_phrases(p.access)));
		return;
	}
	blockers = drop_blockers(t);

	/* the rows the keeper lacks go in, if any */
	if (p.missing > 0 || (p.conflicts == 0 && p.lost == NIL && blockers == NULL))
	{
		s = new_step(DEDUP_STEP_MERGE_ROWS, t);
		s->into = g->keeper->relid;
		s->into_name = g->keeper->qualname;
		s->missing = p.missing;
		s->present = p.present;
		s->conflicts = p.conflicts;
		s->rows = p.rows;
		s->merge_columns = p.inscols;
		s->merge_keymatch = p.keymatch;
		s->merge_same = p.same;
		s->merge_extra = p.extra;
		s->drop_source = p.conflicts == 0 && p.lost == NIL && blockers == NULL;
		s->sql = psprintf("SELECT * FROM dedup.merge_rows(%s, %s, drop_source => %s)",
						  lit(t->qualname), lit(g->keeper->qualname), s->drop_source ? "true" : "false");
		initStringInfo(&why);
		appendStringInfo(&why, "%s: " INT64_FORMAT " already in %s, " INT64_FORMAT " inserted",
						 rows_phrase(p.rows), p.present, g->keeper->qualname, p.missing);
		if (s->drop_source)
			appendStringInfo(&why, "; then dropped: every row and value of it is in %s", g->keeper->qualname);
		else
			appendStringInfoString(&why, "; it stays (see below)");
		s->reason = why.data;
		pb->row_merges = lappend(pb->row_merges, s);
		backup(pb, t, psprintf("holds %s; merged into %s%s", rows_phrase(p.rows), g->keeper->qualname,
							   s->drop_source ? " and dropped" : ""));
		if (p.missing > 0)
			backup(pb, g->keeper, psprintf("receives %s from %s", rows_phrase(p.missing), t->qualname));
		if (p.missing > 0)
			pb->plan->changed = list_append_unique_oid(pb->plan->changed, g->keeper->relid);
		if (s->drop_source)
			return;
	}

	initStringInfo(&why);
	if (p.conflicts > 0)
		appendStringInfo(&why, "%s of it conflict%s with %s (SELECT * FROM dedup.missing_rows(%s, %s) WHERE status = 'conflict')",
						 rows_phrase(p.conflicts), p.conflicts == 1 ? "s" : "", g->keeper->qualname,
						 lit(t->qualname), lit(g->keeper->qualname));
	if (p.lost != NIL)
	{
		ListCell   *lc;

		appendStringInfo(&why, "%sdropping it would lose values %s has no column for:", why.len ? "; " : "",
						 g->keeper->qualname);
		foreach(lc, p.lost)
			appendStringInfo(&why, "%s %s", lc == list_head(p.lost) ? "" : ",", (char *) lfirst(lc));
	}
	if (blockers && p.conflicts == 0 && p.lost == NIL)
		appendStringInfo(&why, "every row of it is in %s, but dropping it needs what depends on it dropped too: %s",
						 g->keeper->qualname, blockers);
	keep(pb, t, p.conflicts > 0 ? "conflicts" : p.lost != NIL ? "would lose values" : "blocked", why.data);
}

/* The extensions of the group's keeper: merged with merge_extensions, else kept. */
static void
plan_extension(PlanBuild *pb, PlanGroup *g, DedupTable *t)
{
	DedupCatalog *cat = pb->plan->cat;
	DedupExtPreview *prev;
	DedupStep  *s;
	char	   *err;
	ExtArgs		a;

	if (t->extends < 0 || &cat->tables[t->extends] != g->keeper)
	{
		keep(pb, t, NULL, psprintf("1:1 extension of %s, which is not the keeper of its group",
								   t->extends >= 0 ? cat->tables[t->extends].qualname : "another table"));
		return;
	}
	if (!pb->plan->merge_extensions)
	{
		keep(pb, t, NULL, psprintf("1:1 extension of %s: merged into it only with merge_extensions => true",
								   g->keeper->qualname));
		return;
	}
	if (g->ext != NULL)
	{
		keep(pb, t, NULL, psprintf("another extension of %s (%s) is merged first: plan again after it",
								   g->keeper->qualname, g->ext->qualname));
		return;
	}
	if (!g->keeper_plain)
	{
		keep(pb, t, "not comparable", psprintf("%s is partitioned: an extension is merged only into a plain table",
											   g->keeper->qualname));
		return;
	}
	prev = palloc0(sizeof(DedupExtPreview));
	a.base = g->keeper->relid;
	a.ext = t->relid;
	a.out = prev;
	err = try_read_only(preview_extension, &a);
	if (err)
	{
		keep(pb, t, "refused", psprintf("merging it into %s would be refused: %s", g->keeper->qualname, err));
		return;
	}
	g->ext = t;
	g->ext_preview = prev;
	backup(pb, g->keeper, psprintf("%s gains the columns of %s", g->keeper->qualname, t->qualname));
	backup(pb, t, psprintf("merged into %s, then replaced by a view", g->keeper->qualname));
	s = new_step(DEDUP_STEP_MERGE_EXTENSION, t);
	s->into = g->keeper->relid;
	s->into_name = g->keeper->qualname;
	s->ext = prev;
	s->reason = psprintf("1:1 extension of %s: columns {%s} added to it, %s merged; %s becomes a view that answers as the table did",
						 g->keeper->qualname, dedup_quoted_list(prev->added), rows_phrase(prev->rows),
						 t->qualname);
	s->sql = psprintf("SELECT * FROM dedup.merge_extension(%s, %s)", lit(g->keeper->qualname), lit(t->qualname));
	pb->ext_merges = lappend(pb->ext_merges, s);
	pb->plan->changed = list_append_unique_oid(pb->plan->changed, g->keeper->relid);
}

/* (subtransaction body) why unpartition would refuse, as an error */
static void
check_unpartition(void *arg)
{
	DedupTable *k = (DedupTable *) arg;
	List	   *why;

	dedup_check_target(k->relid, "unpartition");
	why = dedup_unpartition_refusals(k->relid);
	if (why != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s", dedup_quoted_list(why))));
}

/* The keeper: unpartitioned when it is partitioned and no partition holds a row. */
static void
plan_keeper(PlanBuild *pb, PlanGroup *g)
{
	DedupTable *k = g->keeper;
	DedupStep  *s;
	char	   *err;

	g->keeper_plain = k->relkind != RELKIND_PARTITIONED_TABLE;
	if (g->keeper_plain || k->unknown_reason != DEDUP_KNOWN || k->nrows != 0 || k->ispartition)
		return;
	err = try_read_only(check_unpartition, k);
	if (err)
	{
		keep(pb, k, "refused", psprintf("partitioned, but it cannot become one plain table: %s", err));
		return;
	}
	backup(pb, k, "unpartition replaces it (no row: the backup is empty)");
	s = new_step(DEDUP_STEP_UNPARTITION, k);
	s->reason = psprintf("partitioned, and no partition holds a row: becomes one plain table of the same name%s",
						 k->children ? psprintf(" (its %d partitions go)", list_length(k->children)) : "");
	s->sql = psprintf("SELECT dedup.unpartition(%s, absorb => false)", lit(k->qualname));
	pb->unpartitions = lappend(pb->unpartitions, s);
	pb->plan->changed = list_append_unique_oid(pb->plan->changed, k->relid);
	g->keeper_plain = true;
}

/* An empty duplicate: dropped when discovery calls it safe, else kept with why. */
static void
plan_empty(PlanBuild *pb, DedupTable *t)
{
	DedupStep  *s;

	if (!t->safe_to_drop)
	{
		/* the hazard that the verdict names first */
		keep(pb, t, t->strength < DEDUP_STRENGTH_MEDIUM ? "weak evidence" :
			 t->in_use ? "in use" : t->blockers ? "blocked" : "not safe",
			 pstrdup(t->verdict));
		return;
	}
	if (!dedup_owns_relation(t->relid))
	{
		keep(pb, t, "not owner", psprintf("empty, but only its owner %s may drop it",
										  GetUserNameFromId(dedup_rel_owner(t->relid), false)));
		return;
	}
	s = new_step(DEDUP_STEP_DROP, t);
	s->drop_order = t->drop_order;
	s->rows = 0;
	s->sql = psprintf("SELECT dedup.drop_if_empty(%s)", lit(t->qualname));
	pb->drops = lappend(pb->drops, s);
}

static int
cmp_drop_order(const ListCell *a, const ListCell *b)
{
	return ((DedupStep *) lfirst(a))->drop_order - ((DedupStep *) lfirst(b))->drop_order;
}

/*
 * Drops stay safe only together: a table some other safe drop was to clear
 * a foreign key for (the referencing table now stays) stays too.
 */
static void
settle_drops(PlanBuild *pb)
{
	DedupCatalog *cat = pb->plan->cat;
	bool	   *dropped = palloc0(sizeof(bool) * Max(cat->ntables, 1));
	bool		changed = true;
	ListCell   *lc;

	foreach(lc, pb->drops)
		dropped[dedup_table_index(cat, ((DedupStep *) lfirst(lc))->relid)] = true;
	while (changed)
	{
		changed = false;
		foreach(lc, pb->drops)
		{
			DedupStep  *s = (DedupStep *) lfirst(lc);
			int			ti = dedup_table_index(cat, s->relid);
			DedupTable *t = &cat->tables[ti];
			ListCell   *fc;

			foreach(fc, t->referenced_by)
			{
				DedupFk    *fk = (DedupFk *) lfirst(fc);
				int			from = dedup_table_index(cat, fk->from);

				if (from >= 0 && dropped[from])
					continue;
				keep(pb, t, "blocked", psprintf("empty, but foreign key %s from %s, which stays, refers to it",
												 quote_identifier(fk->conname), dedup_qualified_name(fk->from)));
				pb->drops = foreach_delete_current(pb->drops, lc);
				dropped[ti] = false;
				changed = true;
				break;
			}
		}
	}
	list_sort(pb->drops, cmp_drop_order);
	{
		int			n = 0;

		foreach(lc, pb->drops)
		{
			DedupStep  *s = (DedupStep *) lfirst(lc);

			s->drop_order = ++n;
			s->reason = psprintf("empty duplicate of %s (drop order %d)",
								 cat->tables[cat->group_keeper[s->group_id]].qualname, n);
		}
	}
}

/*
 * Build the plan for the schemas (NULL: every user schema).  The caller is
 * connected to SPI.  Reads only: every table is read under ACCESS SHARE,
 * released as discovery releases it, or held to the end of a preview's
 * subtransaction.
 */
DedupPlan *
dedup_build_plan(ArrayType *schemas, bool merge_extensions)
{
	DedupPlan  *plan = palloc0(sizeof(DedupPlan));
	PlanBuild	pb;
	DedupCatalog *cat;
	int		   *idx;
	int			n;
	int			i;
	PlanGroup  *groups;
	ListCell   *lc;
	DedupStep  *v;
	int			number = 0;
	int			nestlevel;

	plan->schemas = schemas;
	plan->merge_extensions = merge_extensions;
	plan->schemas_text = schemas ?
		dedup_schemas_text(schemas) : NULL;
	cat = plan->cat = dedup_load_catalog(schemas, false);
	nestlevel = dedup_quiet_stats_begin(cat);	/* our reads are not use */
	dedup_build_groups(cat, false);

	memset(&pb, 0, sizeof(pb));
	pb.plan = plan;
	pb.backed_up = palloc0(sizeof(bool) * Max(cat->ntables, 1));

	/* each group: keeper, extensions, then duplicates (report order) */
	groups = palloc0(sizeof(PlanGroup) * (cat->ngroups + 1));
	idx = dedup_group_members(cat, &n);
	for (i = 0; i < n; i++)
	{
		DedupTable *t = &cat->tables[idx[i]];
		PlanGroup  *pg = &groups[t->group_id];
		char	   *unclear = cat->group_unclear[t->group_id];

		CHECK_FOR_INTERRUPTS();
		if (t->role == DEDUP_ROLE_BACKUP)
		{
			/* discovery did not read it (find_empty_duplicates does not) */
			keep(&pb, t, NULL, psprintf("a backup of %s: a plan never merges or drops one; dedup.drop_backup() drops it once it is no longer needed",
										t->journaled ? t->journaled->source_name :
										cat->tables[cat->group_keeper[t->group_id]].qualname));
			continue;
		}
		/* discovery read "empty or not"; a member with rows is counted exactly */
		if (t->unknown_reason == DEDUP_KNOWN && t->nrows > 0)
			dedup_probe_table(t, true);
		if (t->unknown_reason == DEDUP_GONE)
			continue;			/* dropped by another session while we read */
		if (t->role == DEDUP_ROLE_KEEPER)
		{
			pg->keeper = t;
			if (unclear == NULL)
				plan_keeper(&pb, pg);
		}
		else if (unclear)
			keep(&pb, t, "keeper unclear", psprintf("the keeper of its group is not clear-cut (%s): nothing in the group is merged or dropped",
												   unclear));
		else if (t->role == DEDUP_ROLE_EXTENSION)
			plan_extension(&pb, pg, t);
		else if (t->role != DEDUP_ROLE_DUPLICATE)
			keep(&pb, t, NULL, pstrdup(t->verdict));
		else if (t->unknown_reason != DEDUP_KNOWN)
			keep(&pb, t, "unknown", pstrdup(t->verdict));
		else if (t->nrows == 0)
			plan_empty(&pb, t);
		else if (t->strength < DEDUP_STRENGTH_MEDIUM)
			keep(&pb, t, "weak evidence", psprintf("holds %s, and the evidence that it is a copy of %s is weak: check that the application does not use it before merging it",
												   rows_phrase(t->nrows), pg->keeper->qualname));
		else if (t->in_use)
			keep(&pb, t, "in use", psprintf("holds %s and is in use (%s): merge it once the application no longer uses it",
											rows_phrase(t->nrows), (char *) linitial(t->use)));
		else
			plan_lookalike(&pb, pg, t);
	}
	dedup_quiet_stats_end(nestlevel);
	settle_drops(&pb);

	v = new_step(DEDUP_STEP_VERIFY, NULL);
	v->target = plan->schemas_text ? plan->schemas_text : "all user schemas";
	v->reason = "the database checked against the baseline: rows, NULLs, foreign keys, sequences, access, views, backups, RLS, groups left";
	v->sql = plan->schemas_text ?
		psprintf("SELECT * FROM dedup.verify(%s)", lit(plan->schemas_text)) :
		pstrdup("SELECT * FROM dedup.verify()");

	plan->steps = list_concat(plan->steps, pb.backups);
	plan->steps = list_concat(plan->steps, pb.unpartitions);
	plan->steps = list_concat(plan->steps, pb.ext_merges);
	plan->steps = list_concat(plan->steps, pb.row_merges);
	plan->steps = list_concat(plan->steps, pb.drops);
	plan->steps = list_concat(plan->steps, pb.keeps);
	plan->steps = lappend(plan->steps, v);
	foreach(lc, plan->steps)
		((DedupStep *) lfirst(lc))->number = ++number;
	return plan;
}

/*
 * dedup.plan(schemas name[] DEFAULT NULL, merge_extensions boolean DEFAULT false)
 *	 RETURNS TABLE (step int, action text, target text, hazard text,
 *					reason text, sql text)
 *
 *	 SELECT step, action, target, hazard, reason FROM dedup.plan();
 *
 * Changes nothing but the journal, where it records the baseline that
 * dedup.verify() compares with (an entry with action 'plan').
 */
Datum
dedup_plan(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ArrayType  *schemas = PG_ARGISNULL(0) ? NULL : PG_GETARG_ARRAYTYPE_P(0);
	bool		merge_extensions = PG_ARGISNULL(1) ? false : PG_GETARG_BOOL(1);
	DedupPlan  *plan;
	ListCell   *lc;

	dedup_init_srf(fcinfo);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "dedup: SPI_connect failed");
	plan = dedup_build_plan(schemas, merge_extensions);
	(void) dedup_record_baseline(plan, "plan");
	foreach(lc, plan->steps)
	{
		DedupStep  *s = (DedupStep *) lfirst(lc);
		Datum		values[6];
		bool		nulls[6] = {0};

		values[0] = Int32GetDatum(s->number);
		values[1] = CStringGetTextDatum(dedup_step_action(s->kind));
		values[2] = CStringGetTextDatum(s->target);
		nulls[3] = s->hazard == NULL;
		if (s->hazard)
			values[3] = CStringGetTextDatum(s->hazard);
		nulls[4] = s->reason == NULL;
		if (s->reason)
			values[4] = CStringGetTextDatum(s->reason);
		nulls[5] = s->sql == NULL;
		if (s->sql)
			values[5] = CStringGetTextDatum(s->sql);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}
