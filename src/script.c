/*-------------------------------------------------------------------------
 *
 * script.c
 *	  dedup.plan_sql() and dedup.rollback_sql(): the plan, and the way back,
 *	  as plain SQL scripts that run where dedup is not installed (hosted
 *	  Supabase loads no custom C).
 *
 * A script is one transaction: BEGIN; settings; three temporary helper
 * functions whose bodies are those of dedup._set_acl, dedup._rows_fingerprint
 * and dedup._shape (so they compute exactly what the plan computed); one
 * DO block per step; a final check; COMMIT.  Every step that drops or
 * replaces a table first locks it, then checks that it is as planned (still
 * empty; rows and fingerprint; definition): a failed check raises an error,
 * and the whole script rolls back.  Every step first looks whether it is
 * done already (the backup is there, the table is gone or plain), so a
 * second run changes nothing.  Each step raises a NOTICE saying what it did.
 *
 * Every statement is built from catalog fields (the definitions dedup
 * captures for undo, with privileges set by the script's own helper),
 * identifiers quoted, values as literals; the script runs with
 * search_path = pg_catalog, pg_temp, and row_security off (a table whose
 * policies would filter the runner is an error, never a subset).
 *
 * The rollback script undoes the steps last first, from the backups the
 * first script took: dropped tables are recreated from their captured
 * definitions (rows from their backups), rows merged into a keeper are
 * deleted, an unpartitioned table gets its partitions back, the backups go.
 * It refuses when what it would delete or replace was changed since.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#include "dedup.h"
#include "ddl.h"
#include "plan.h"

PG_FUNCTION_INFO_V1(dedup_plan_sql);
PG_FUNCTION_INFO_V1(dedup_rollback_sql);

typedef struct Script Script;

static Datum catalog_oids(DedupCatalog *cat);
static void forward_merge_extension(Script *sc, DedupStep *s);
static void rollback_merge_extension(Script *sc, DedupStep *s);

/* Settings a script runs with; rows are fingerprinted under the same. */
static const char *const script_settings[][2] = {
	{"search_path", "pg_catalog, pg_temp"},
	{"row_security", "off"},
	{"DateStyle", "ISO, YMD"},
	{"IntervalStyle", "postgres"},
	{"TimeZone", "UTC"},
	{"extra_float_digits", "1"},
	{"bytea_output", "hex"},
	{"lc_monetary", "C"},
};

#define NSETTINGS lengthof(script_settings)

/* What a script knows of one table, read when it is written. */
typedef struct TableState
{
	char	   *qual;
	int64		rows;
	char	   *fp;				/* dedup._rows_fingerprint */
	char	   *shape;			/* dedup._shape */
} TableState;

struct Script
{
	DedupPlan  *plan;
	StringInfoData out;
	int64		baseline;
	StringInfoData body;		/* the steps, in the DO block */
};

static char *
lit(const char *s)
{
	return quote_literal_cstr(s);
}

/*
 * Text for a "--" comment of a script: names may hold line breaks, which
 * would end the comment and make the rest of the name SQL; each is written
 * as \n or \r.
 */
static char *
cmt(const char *s)
{
	StringInfoData o;

	if (s == NULL)
		return NULL;
	initStringInfo(&o);
	for (; *s; s++)
	{
		if (*s == '\n')
			appendStringInfoString(&o, "\\n");
		else if (*s == '\r')
			appendStringInfoString(&o, "\\r");
		else
			appendStringInfoChar(&o, *s);
	}
	return o.data;
}

/* Apply the script settings until script_settings_end(). */
static int
script_settings_begin(void)
{
	int			nest = NewGUCNestLevel();
	int			i;

	for (i = 0; i < NSETTINGS; i++)
		(void) set_config_option(script_settings[i][0], script_settings[i][1], PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	return nest;
}

static TableState *
table_state(const char *qual)
{
	TableState *t = palloc0(sizeof(TableState));
	Oid			types[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(qual)};
	char	  **r;

	t->qual = pstrdup(qual);
	r = (char **) linitial(dedup_query_rows("SELECT f.n, f.fp, dedup._shape($1::pg_catalog.regclass)"
											"  FROM dedup._rows_fingerprint($1::pg_catalog.regclass) f",
											1, types, args));
	t->rows = pg_strtoint64(r[0]);
	t->fp = r[1];
	t->shape = r[2];
	return t;
}

/* A dollar-quote tag that does not occur in body. */
static char *
dollar_tag(const char *body, const char *base)
{
	char	   *tag = psprintf("$%s$", base);
	int			n = 1;

	while (strstr(body, tag) != NULL)
		tag = psprintf("$%s_%d$", base, n++);
	return tag;
}

/*
 * One step: a labelled block of the script's one DO block (EXIT leaves it
 * when the step is done already).
 */
static void
emit_block(Script *sc, int step, const char *body)
{
	appendStringInfo(&sc->body, "<<step_%d>>\nBEGIN\n%sEND step_%d;\n\n", step, body, step);
}

/* The steps as one DO block, so that the first error ends the script. */
static void
emit_steps(Script *sc)
{
	StringInfoData b;
	char	   *tag;

	initStringInfo(&b);
	appendStringInfo(&b, "DECLARE\n  _n bigint;\n  _fp text;\n  _x bigint;\n  _t text;\n  _c bigint;\n  _b boolean;\n  _w bigint;\n  _runner name := current_user;\nBEGIN\n%sEND\n",
					 sc->body.data);
	tag = dollar_tag(b.data, "dedup");
	appendStringInfo(&sc->out, "DO %s\n%s%s;\n\n", tag, b.data, tag);
}

/* EXECUTE of a statement, in a block. */
static void
exec(StringInfo b, const char *stmt)
{
	appendStringInfo(b, "  EXECUTE %s;\n", lit(stmt));
}

static void
exec_all(StringInfo b, List *stmts)
{
	ListCell   *lc;

	foreach(lc, stmts)
		exec(b, (char *) lfirst(lc));
}

/*
 * EXECUTE of a statement that writes rows of relid, or adds columns to it,
 * or proves its constraints, as relid's owner, as dedup runs it
 * (dedup_exec_as): the table's triggers, defaults, CHECKs and index
 * expressions are its owner's code, and never run as whoever runs the
 * script.  (Whoever may drop the table may take its owner's role.)  _w is
 * the number of rows it wrote.
 */
static void
exec_as_owner(StringInfo b, const char *stmt, Oid relid)
{
	char	   *owner = GetUserNameFromId(dedup_rel_owner(relid), false);

	appendStringInfo(b, "  IF current_user <> %s THEN\n    EXECUTE %s;\n  END IF;\n",
					 lit(owner), lit(psprintf("SET LOCAL ROLE %s", quote_identifier(owner))));
	exec(b, stmt);
	appendStringInfoString(b, "  GET DIAGNOSTICS _w = ROW_COUNT;\n");
	appendStringInfoString(b, "  EXECUTE pg_catalog.format('SET LOCAL ROLE %I', _runner);\n");
}

static void
exec_all_as_owner(StringInfo b, List *stmts, Oid relid)
{
	ListCell   *lc;

	foreach(lc, stmts)
		exec_as_owner(b, (char *) lfirst(lc), relid);
}

/* RAISE EXCEPTION with a message and detail (format strings of PL/pgSQL's format()). */
static void
raise_changed(StringInfo b, int step, const char *message_fmt, const char *args, const char *hint)
{
	appendStringInfo(b, "    RAISE EXCEPTION USING MESSAGE = format(%s%s%s), DETAIL = 'Nothing was changed: the whole script rolls back.', HINT = %s;\n",
					 lit(psprintf("dedup step %d: %s", step, message_fmt)), args ? ", " : "", args ? args : "",
					 lit(hint));
}

#define REPLAN_HINT "The database changed since it was planned. Take a new copy, plan again there, and run the new script."

/* The rows of a table must still be as planned: count and fingerprint. */
static void
guard_rows(StringInfo b, int step, TableState *t)
{
	appendStringInfo(b, "  SELECT f.n, f.fp INTO _n, _fp FROM pg_temp.dedup_rows(%s) f;\n", lit(t->qual));
	appendStringInfo(b, "  IF _n <> " INT64_FORMAT " OR _fp <> %s THEN\n", t->rows, lit(t->fp));
	raise_changed(b, step, psprintf("%%s holds %%s rows (fingerprint %%s); it held " INT64_FORMAT " (fingerprint %s) when the plan was made", t->rows, t->fp),
				  psprintf("%s, _n, _fp", lit(t->qual)), REPLAN_HINT);
	appendStringInfoString(b, "  END IF;\n");
}

/* The definition of a table must still be as planned. */
static void
guard_shape(StringInfo b, int step, TableState *t)
{
	appendStringInfo(b, "  IF pg_temp.dedup_shape(%s) <> %s THEN\n", lit(t->qual), lit(t->shape));
	raise_changed(b, step, "the definition of %s changed since the plan was made (columns, constraints, indexes, triggers, policies or privileges)",
				  lit(t->qual), REPLAN_HINT);
	appendStringInfoString(b, "  END IF;\n");
}

static void
notice(StringInfo b, int step, const char *fmt, const char *args)
{
	appendStringInfo(b, "  RAISE NOTICE '%%', format(%s%s%s);\n", lit(psprintf("dedup step %d: %s", step, fmt)),
					 args ? ", " : "", args ? args : "");
}

/* Leave the step after a notice that it is done already. */
static void
done_already(StringInfo b, int step, const char *what)
{
	appendStringInfoString(b, "  ");
	notice(b, step, "done already: %s", lit(what));
	appendStringInfo(b, "    EXIT step_%d;\n", step);
}

/* Leave the step, done already, when relation rel (quoted) no longer exists. */
static void
done_if_gone(StringInfo b, int step, const char *rel, const char *what)
{
	appendStringInfo(b, "  IF pg_catalog.to_regclass(%s) IS NULL THEN\n", lit(rel));
	done_already(b, step, what);
	appendStringInfoString(b, "  END IF;\n");
}

/* Column names of relid that are not generated, quoted, comma-separated. */
static char *
insert_columns(Oid relid)
{
	StringInfoData c;
	ListCell   *lc;

	initStringInfo(&c);
	foreach(lc, dedup_column_names(relid))
	{
		char	   *name = (char *) lfirst(lc);

		if (get_attgenerated(relid, get_attnum(relid, name)) == '\0')
			appendStringInfo(&c, "%s%s", c.len ? ", " : "", quote_identifier(name));
	}
	return c.data;
}

/*
 * Move the sequences that feed relid's columns past the values in them,
 * as dedup_advance_sequences() does: never back.
 */
static void
advance_sequences(StringInfo b, Oid relid, const char *qual)
{
	Oid			types[1] = {OIDARRAYOID};
	Datum		one[1] = {ObjectIdGetDatum(relid)};
	Datum		args[1];
	ListCell   *lc;

	args[0] = PointerGetDatum(construct_array(one, 1, OIDOID, sizeof(Oid), true, TYPALIGN_INT));
	foreach(lc, dedup_query_rows("SELECT s.seq::pg_catalog.text, s.col, q.seqincrement > 0"
								 "  FROM dedup._table_sequences($1) s"
								 "  JOIN pg_catalog.pg_sequence q ON q.seqrelid OPERATOR(pg_catalog.=) s.seq ORDER BY 1, 2",
								 1, types, args))
	{
		char	  **r = (char **) lfirst(lc);
		bool		up = strcmp(r[2], "t") == 0;

		appendStringInfo(b, "  EXECUTE %s INTO _x;\n",
						 lit(psprintf("SELECT %s(%s)::pg_catalog.int8 FROM %s", up ? "pg_catalog.max" : "pg_catalog.min",
									  quote_identifier(r[1]), qual)));
		appendStringInfo(b, "  EXECUTE %s INTO _n, _b;\n",
						 lit(psprintf("SELECT last_value, is_called FROM %s", r[0])));
		appendStringInfo(b, "  IF _x IS NOT NULL AND (CASE WHEN _b THEN _n %s (SELECT seqincrement FROM pg_catalog.pg_sequence WHERE seqrelid = %s::pg_catalog.regclass) ELSE _n END) %s _x THEN\n"
						 "    PERFORM pg_catalog.setval(%s, _x, true);\n  END IF;\n",
						 "+", lit(r[0]), up ? "<=" : ">=", lit(r[0]));
	}
}

/* Statements of a query returning one text column. */
static List *
statements(const char *sql, const char *arg)
{
	Oid			types[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(arg)};

	return dedup_query_column(sql, 1, types, args, NULL);
}

/*
 * The statements that recreate a table and its partitions (tables only,
 * parents first) from the definition captured now.
 */
static List *
tree_statements(const char *qual)
{
	return statements("SELECT s.sql FROM dedup._undo_steps(pg_catalog.jsonb_build_object('tables', COALESCE("
					  "  (SELECT pg_catalog.jsonb_agg(dedup._table_definition(t.relid, false, 'pg_temp.dedup_set_acl') ORDER BY t.level, t.relid)"
					  "     FROM pg_catalog.pg_partition_tree($1::pg_catalog.regclass) t),"
					  "  pg_catalog.jsonb_build_array(dedup._table_definition($1::pg_catalog.regclass, false, 'pg_temp.dedup_set_acl'))))) s",
					  qual);
}

/* The dependents of a table: the statements that drop them, last created first. */
static List *
dependent_drops(const char *qual)
{
	return statements("SELECT d->>'drop' FROM pg_catalog.jsonb_array_elements(dedup._dependents($1::pg_catalog.regclass,"
					  "  'pg_temp.dedup_set_acl')) WITH ORDINALITY x(d, n) WHERE d->>'drop' IS NOT NULL ORDER BY x.n DESC",
					  qual);
}

/* ... and the statements that recreate them. */
static List *
dependent_creates(const char *qual)
{
	return statements("SELECT s.sql FROM dedup._undo_steps(pg_catalog.jsonb_build_object('dependents',"
					  "  dedup._dependents($1::pg_catalog.regclass, 'pg_temp.dedup_set_acl'))) s", qual);
}

/* The backup step of a table, by the table's OID (NULL when the plan has none). */
static DedupStep *
backup_of(DedupPlan *plan, Oid relid)
{
	ListCell   *lc;

	foreach(lc, plan->steps)
	{
		DedupStep  *s = (DedupStep *) lfirst(lc);

		if (s->kind == DEDUP_STEP_BACKUP && s->relid == relid)
			return s;
	}
	return NULL;
}

static char *
backup_qual(DedupStep *bak)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(bak->relid)), bak->backup_name);
}

/* The comment a backup gets: as dedup.backup_table() writes it when the rows are as planned. */
static char *
backup_comment(DedupStep *s, TableState *t, bool planned)
{
	if (planned)
	{
		DedupFingerprint fp;

		dedup_fingerprint_relation(s->relid, dedup_column_names(s->relid), &fp);
		return psprintf("dedup backup of %s: " INT64_FORMAT " rows, fingerprint %s", s->target, fp.rows, dedup_fp_hex(&fp));
	}
	return psprintf("dedup backup of %s, taken by a dedup.plan_sql() script", s->target);
}

/*
 * backup: a copy of the table, as dedup.backup_table() makes it (same
 * columns, the table's owner, no privileges, row level security with no
 * policy), proven equal to the table by count and fingerprint.
 */
static void
forward_backup(Script *sc, DedupStep *s)
{
	StringInfoData b;
	TableState *t = table_state(s->target);
	char	   *bq = backup_qual(s);
	char	   *planned = backup_comment(s, t, true);
	char	   *other = backup_comment(s, t, false);
	bool		forced;
	char		relkind = get_rel_relkind(s->relid);

	forced = strcmp(dedup_query_value(psprintf("SELECT relforcerowsecurity FROM pg_catalog.pg_class WHERE oid = %u", s->relid),
									  0, NULL, NULL), "t") == 0;
	initStringInfo(&b);
	appendStringInfo(&b, "  IF pg_catalog.to_regclass(%s) IS NOT NULL THEN\n", lit(bq));
	appendStringInfo(&b, "    IF pg_catalog.obj_description(%s::pg_catalog.regclass, 'pg_class') IN (%s, %s) THEN\n",
					 lit(bq), lit(planned), lit(other));
	appendStringInfoString(&b, "  ");
	done_already(&b, s->number, psprintf("%s is the backup of %s", bq, s->target));
	appendStringInfoString(&b, "    END IF;\n");
	raise_changed(&b, s->number, "%s exists and is not the backup this script takes", lit(bq),
				  "Rename or drop it, or plan again with SET dedup.backup_suffix to another name.");
	appendStringInfoString(&b, "  END IF;\n");
	exec(&b, psprintf("LOCK TABLE %s IN SHARE MODE", s->target));
	guard_shape(&b, s->number, t);
	exec(&b, psprintf("CREATE TABLE %s (LIKE %s)", bq, s->target));
	exec(&b, psprintf("ALTER TABLE %s OWNER TO %s", bq,
					  quote_identifier(GetUserNameFromId(dedup_rel_owner(s->relid), false))));
	appendStringInfo(&b, "  PERFORM pg_temp.dedup_set_acl(%s, NULL, 'TABLE');\n", lit(bq));
	exec(&b, psprintf("ALTER TABLE %s ENABLE ROW LEVEL SECURITY", bq));
	if (forced)
		exec(&b, psprintf("ALTER TABLE %s FORCE ROW LEVEL SECURITY", bq));
	exec(&b, psprintf("INSERT INTO %s SELECT * FROM %s%s", bq, relkind == RELKIND_RELATION ? "ONLY " : "", s->target));
	appendStringInfo(&b, "  SELECT f.n, f.fp INTO _n, _fp FROM pg_temp.dedup_rows(%s) f;\n", lit(s->target));
	appendStringInfo(&b, "  SELECT f.n, f.fp INTO _x, _t FROM pg_temp.dedup_rows(%s) f;\n", lit(bq));
	appendStringInfoString(&b, "  IF _n <> _x OR _fp <> _t THEN\n");
	raise_changed(&b, s->number, "the backup %s does not hold the rows of %s", psprintf("%s, %s", lit(bq), lit(s->target)),
				  "Look for a trigger or rule on the backup.");
	appendStringInfoString(&b, "  END IF;\n");
	appendStringInfo(&b, "  IF _n = " INT64_FORMAT " AND _fp = %s THEN\n", t->rows, lit(t->fp));
	appendStringInfo(&b, "  ");
	exec(&b, psprintf("COMMENT ON TABLE %s IS %s", bq, lit(planned)));
	appendStringInfoString(&b, "  ELSE\n  ");
	exec(&b, psprintf("COMMENT ON TABLE %s IS %s", bq, lit(other)));
	appendStringInfoString(&b, "  END IF;\n");
	notice(&b, s->number, "%s rows of %s copied into %s", psprintf("_n, %s, %s", lit(s->target), lit(bq)));
	emit_block(sc, s->number, b.data);
}

/* drop: an empty table, still empty and as planned. */
static void
forward_drop(Script *sc, DedupStep *s)
{
	StringInfoData b;
	TableState *t = table_state(s->target);

	initStringInfo(&b);
	done_if_gone(&b, s->number, s->target, psprintf("%s is gone", s->target));
	exec(&b, psprintf("LOCK TABLE %s IN ACCESS EXCLUSIVE MODE", s->target));
	appendStringInfo(&b, "  EXECUTE %s INTO _b;\n", lit(psprintf("SELECT EXISTS (SELECT 1 FROM %s)", s->target)));
	appendStringInfoString(&b, "  IF _b THEN\n");
	raise_changed(&b, s->number, "%s holds rows now; it was empty when the plan was made", lit(s->target), REPLAN_HINT);
	appendStringInfoString(&b, "  END IF;\n");
	guard_shape(&b, s->number, t);
	exec(&b, psprintf("DROP TABLE %s", s->target));
	notice(&b, s->number, "%s was empty: dropped", lit(s->target));
	emit_block(sc, s->number, b.data);
}

/*
 * unpartition: the tree replaced by one plain table of the same name, as
 * dedup.unpartition() does: the dependents and the tree dropped, the plain
 * table created from the captured definition, the rows put back from the
 * backup, the rest of the definition, the partitions' own indexes and
 * foreign keys, the dependents, the sequences.
 */
static void
forward_unpartition(Script *sc, DedupStep *s)
{
	StringInfoData b;
	TableState *t = table_state(s->target);
	DedupStep  *bak = backup_of(sc->plan, s->relid);
	char	   *bq = backup_qual(bak);
	char	   *cols = insert_columns(s->relid);
	Oid			types[1] = {REGCLASSOID};
	Datum		args[1] = {ObjectIdGetDatum(s->relid)};
	char	   *def = dedup_query_value("SELECT dedup._table_definition($1, true, 'pg_temp.dedup_set_acl')::pg_catalog.text",
										1, types, args);

	initStringInfo(&b);
	appendStringInfo(&b, "  IF (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass(%s)) = 'r' THEN\n",
					 lit(s->target));
	done_already(&b, s->number, psprintf("%s is one plain table", s->target));
	appendStringInfoString(&b, "  END IF;\n");
	exec(&b, psprintf("LOCK TABLE %s IN ACCESS EXCLUSIVE MODE", s->target));
	guard_rows(&b, s->number, t);
	guard_shape(&b, s->number, t);
	exec_all(&b, dependent_drops(s->target));
	exec(&b, psprintf("DROP TABLE %s", s->target));
	exec_all(&b, statements("SELECT s FROM pg_catalog.jsonb_array_elements_text(($1::pg_catalog.jsonb->'pre')"
							"  OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array($1::pg_catalog.jsonb->>'create',"
							"  $1::pg_catalog.jsonb->>'owner_sql')) s WHERE s IS NOT NULL", def));
	exec_as_owner(&b, psprintf("INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s", s->target, cols, cols, bq), s->relid);
	exec_all(&b, statements("SELECT pg_catalog.jsonb_array_elements_text($1::pg_catalog.jsonb->'build')", def));
	exec_all(&b, statements("SELECT pg_catalog.jsonb_array_elements_text($1::pg_catalog.jsonb->'post')", def));
	exec_all(&b, dedup_query_column("SELECT dedup._partition_extras($1)", 1, types, args, NULL));
	exec_all(&b, dependent_creates(s->target));
	advance_sequences(&b, s->relid, s->target);
	appendStringInfo(&b, "  SELECT f.n, f.fp INTO _n, _fp FROM pg_temp.dedup_rows(%s) f;\n", lit(s->target));
	appendStringInfo(&b, "  SELECT f.n, f.fp INTO _x, _t FROM pg_temp.dedup_rows(%s) f;\n", lit(bq));
	appendStringInfoString(&b, "  IF _n <> _x OR _fp <> _t THEN\n");
	raise_changed(&b, s->number, "the rows of %s do not match its backup %s after unpartitioning",
				  psprintf("%s, %s", lit(s->target), lit(bq)), "Look for a trigger or rule that changes inserted rows.");
	appendStringInfoString(&b, "  END IF;\n");
	notice(&b, s->number, "%s is one plain table now (%s rows)", psprintf("%s, _n", lit(s->target)));
	emit_block(sc, s->number, b.data);
}

/* Does a step before s change the definition of relid (unpartition, merge_extension)? */
static bool
reshaped_before(DedupPlan *plan, DedupStep *s, Oid relid)
{
	ListCell   *lc;

	foreach(lc, plan->steps)
	{
		DedupStep  *o = (DedupStep *) lfirst(lc);

		if (o == s)
			break;
		if ((o->kind == DEDUP_STEP_UNPARTITION && o->relid == relid) ||
			(o->kind == DEDUP_STEP_MERGE_EXTENSION && o->into == relid))
			return true;
	}
	return false;
}

/* Lock two tables in OID order, as merge_rows does. */
static void
lock_pair(StringInfo b, Oid a, const char *aq, const char *amode, Oid k, const char *kq, const char *kmode)
{
	if (a < k)
	{
		exec(b, psprintf("LOCK TABLE %s IN %s MODE", aq, amode));
		exec(b, psprintf("LOCK TABLE %s IN %s MODE", kq, kmode));
	}
	else
	{
		exec(b, psprintf("LOCK TABLE %s IN %s MODE", kq, kmode));
		exec(b, psprintf("LOCK TABLE %s IN %s MODE", aq, amode));
	}
}

/*
 * merge_rows: the rows the keeper lacks inserted, as dedup.merge_rows()
 * does; with drop_source, the look-alike dropped once every row and value
 * of it is in the keeper.
 */
static void
forward_merge_rows(Script *sc, DedupStep *s)
{
	StringInfoData b;
	TableState *t = table_state(s->target);
	TableState *k = table_state(s->into_name);
	ListCell   *lc;

	initStringInfo(&b);
	if (s->drop_source)
	{
		done_if_gone(&b, s->number, s->target,
					 psprintf("%s was merged into %s and is gone", s->target, s->into_name));
	}
	lock_pair(&b, s->relid, s->target, s->drop_source ? "ACCESS EXCLUSIVE" : "SHARE",
			  s->into, s->into_name, "SHARE ROW EXCLUSIVE");
	guard_rows(&b, s->number, t);
	guard_shape(&b, s->number, t);
	if (!reshaped_before(sc->plan, s, s->into))
		guard_shape(&b, s->number, k);
	appendStringInfo(&b, "  EXECUTE %s INTO _x, _c;\n",
					 lit(psprintf("SELECT pg_catalog.count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM %s k WHERE %s)),"
								  "       pg_catalog.count(*) FILTER (WHERE EXISTS (SELECT 1 FROM %s k WHERE %s)"
								  "                          AND NOT EXISTS (SELECT 1 FROM %s k WHERE %s AND %s))"
								  "  FROM %s s", s->into_name, s->merge_keymatch, s->into_name, s->merge_keymatch,
								  s->into_name, s->merge_keymatch, s->merge_same, s->target)));
	if (!s->drop_source)
	{
		appendStringInfoString(&b, "  IF _x = 0 THEN\n");
		done_already(&b, s->number, psprintf("every row of %s has its key in %s", s->target, s->into_name));
		appendStringInfoString(&b, "  END IF;\n");
	}
	appendStringInfo(&b, "  IF _c <> " INT64_FORMAT " THEN\n", s->conflicts);
	raise_changed(&b, s->number, psprintf("%%s rows of %%s conflict with %%s; " INT64_FORMAT " did when the plan was made", s->conflicts),
				  psprintf("_c, %s, %s", lit(s->target), lit(s->into_name)), REPLAN_HINT);
	appendStringInfoString(&b, "  END IF;\n");
	exec_as_owner(&b, psprintf("INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s s WHERE NOT EXISTS (SELECT 1 FROM %s k WHERE %s)",
							   s->into_name, dedup_quoted_list(s->merge_columns), dedup_quoted_list_prefixed(s->merge_columns, "s."),
							   s->target, s->into_name, s->merge_keymatch), s->into);
	appendStringInfoString(&b, "  _n := _w;\n");
	advance_sequences(&b, s->into, s->into_name);
	if (s->drop_source)
	{
		StringInfoData lost;

		initStringInfo(&lost);
		appendStringInfo(&lost, "SELECT pg_catalog.count(*) FROM %s s WHERE NOT EXISTS (SELECT 1 FROM %s k WHERE %s AND %s)",
						 s->target, s->into_name, s->merge_keymatch, s->merge_same);
		foreach(lc, s->merge_extra)
			appendStringInfo(&lost, " OR s.%s IS NOT NULL", quote_identifier((char *) lfirst(lc)));
		appendStringInfo(&b, "  EXECUTE %s INTO _x;\n", lit(lost.data));
		appendStringInfoString(&b, "  IF _x <> 0 THEN\n");
		raise_changed(&b, s->number, "dropping %s after merging it into %s would lose %s rows or values",
					  psprintf("%s, %s, _x", lit(s->target), lit(s->into_name)), REPLAN_HINT);
		appendStringInfoString(&b, "  END IF;\n");
		exec(&b, psprintf("DROP TABLE %s", s->target));
		notice(&b, s->number, "%s rows of %s inserted into %s; every row and value of it is there: dropped",
			   psprintf("_n, %s, %s", lit(s->target), lit(s->into_name)));
	}
	else
		notice(&b, s->number, "%s rows of %s inserted into %s; it stays",
			   psprintf("_n, %s, %s", lit(s->target), lit(s->into_name)));
	emit_block(sc, s->number, b.data);
}

/*
 * The final check of a script: what the plan drops is gone, what it keeps
 * is there; no keeper holds fewer rows than its backup; no foreign key
 * touching a changed table has more rows without their referenced row
 * than when the plan was made; every sequence feeding a changed table is
 * ahead of its column; every view of the schemas compiles.
 */
static void
forward_verify(Script *sc, DedupStep *v)
{
	StringInfoData b;
	ListCell   *lc;
	int			checks = 0;
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(sc->baseline)};

	initStringInfo(&b);
	foreach(lc, sc->plan->steps)
	{
		DedupStep  *s = (DedupStep *) lfirst(lc);

		if (s->kind == DEDUP_STEP_DROP || (s->kind == DEDUP_STEP_MERGE_ROWS && s->drop_source))
		{
			appendStringInfo(&b, "  IF pg_catalog.to_regclass(%s) IS NOT NULL THEN\n", lit(s->target));
			raise_changed(&b, v->number, "%s is still there", lit(s->target), "Look at the steps before.");
			appendStringInfoString(&b, "  END IF;\n");
			checks++;
		}
		else if (s->kind == DEDUP_STEP_BACKUP && list_member_oid(sc->plan->changed, s->relid))
		{
			appendStringInfo(&b, "  SELECT f.n INTO _n FROM pg_temp.dedup_rows(%s) f;\n", lit(s->target));
			appendStringInfo(&b, "  SELECT f.n INTO _x FROM pg_temp.dedup_rows(%s) f;\n", lit(backup_qual(s)));
			appendStringInfoString(&b, "  IF _n < _x THEN\n");
			raise_changed(&b, v->number, "%s holds %s rows, fewer than the %s of its backup %s",
						  psprintf("%s, _n, _x, %s", lit(s->target), lit(backup_qual(s))), "Look at the steps before.");
			appendStringInfoString(&b, "  END IF;\n");
			checks++;
		}
	}

	/* foreign keys: no more orphans than the baseline counted */
	foreach(lc, dedup_journal_rows("SELECT o->>0, o->>1, o->>2, o->>3 FROM dedup.journal j,"
								   "       pg_catalog.jsonb_array_elements(j.detail->'orphans') o"
								   " WHERE j.id OPERATOR(pg_catalog.=) $1 ORDER BY 1, 2", 1, types, args))
	{
		char	  **r = (char **) lfirst(lc);

		if (r[3] == NULL)
			continue;
		appendStringInfo(&b, "  EXECUTE %s INTO _x;\n", lit(r[3]));
		appendStringInfo(&b, "  IF _x > %s THEN\n", r[2]);
		raise_changed(&b, v->number, psprintf("%%s rows of %%s have no row their foreign key %%s refers to; %s did when the plan was made", r[2]),
					  psprintf("_x, %s, %s", lit(r[0]), lit(r[1])), "Look at the steps before.");
		appendStringInfoString(&b, "  END IF;\n");
		checks++;
	}

	/* views compile */
	foreach(lc, dedup_query_column("SELECT pg_catalog.format('%I.%I', n.nspname, c.relname)"
								   "  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
								   " WHERE c.relkind OPERATOR(pg_catalog.=) 'v'"
								   "   AND c.relnamespace OPERATOR(pg_catalog.=) ANY (SELECT t.relnamespace FROM pg_catalog.pg_class t"
								   "                              WHERE t.oid OPERATOR(pg_catalog.=) ANY ($1))"
								   "   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d"
								   "                    WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
								   "                      AND d.objid OPERATOR(pg_catalog.=) c.oid AND d.deptype OPERATOR(pg_catalog.=) 'e')"
								   " ORDER BY 1", 1, (Oid[]) {OIDARRAYOID}, (Datum[]) {catalog_oids(sc->plan->cat)}, NULL))
	{
		/*
		 * parsed and rewritten, not planned: the planner evaluates immutable
		 * functions of constant arguments, which would run the view owner's
		 * code as the one who runs the script
		 */
		appendStringInfo(&b, "  IF pg_catalog.to_regclass(%s) IS NOT NULL THEN\n  ", lit((char *) lfirst(lc)));
		exec(&b, psprintf("PREPARE dedup_view_check AS SELECT 1 FROM %s", (char *) lfirst(lc)));
		appendStringInfoString(&b, "  ");
		exec(&b, "DEALLOCATE dedup_view_check");
		appendStringInfoString(&b, "  END IF;\n");
		checks++;
	}
	notice(&b, v->number, psprintf("%d checks passed", checks), NULL);
	emit_block(sc, v->number, b.data);
}

/* oid[] of every table of the plan's catalog */
static Datum
catalog_oids(DedupCatalog *cat)
{
	Datum	   *oids = palloc(sizeof(Datum) * Max(cat->ntables, 1));
	int			i;

	for (i = 0; i < cat->ntables; i++)
		oids[i] = ObjectIdGetDatum(cat->tables[i].relid);
	return PointerGetDatum(construct_array(oids, cat->ntables, OIDOID, sizeof(Oid), true, TYPALIGN_INT));
}

/* CREATE OR REPLACE of a temporary function with the body of a dedup function. */
static void
helper(Script *sc, const char *name, const char *signature, const char *language, const char *source)
{
	char	   *body = dedup_query_value("SELECT p.prosrc FROM pg_catalog.pg_proc p"
										 " WHERE p.oid OPERATOR(pg_catalog.=) $1::pg_catalog.regprocedure",
										 1, (Oid[]) {TEXTOID}, (Datum[]) {CStringGetTextDatum(source)});
	char	   *tag = dollar_tag(body, "body");

	appendStringInfo(&sc->out, "CREATE OR REPLACE FUNCTION pg_temp.%s%s\nLANGUAGE %s SET search_path = pg_catalog, pg_temp\nAS %s%s%s;\n",
					 name, signature, language, tag, body, tag);
}

/* BEGIN, settings, helpers. */
static void
header(Script *sc, const char *what)
{
	int			i;
	ListCell   *lc;

	appendStringInfo(&sc->out,
					 "-- %s for database %s, %s (merge_extensions => %s)\n"
					 "-- Written by dedup.%s() at %s from the plan recorded in journal entry " INT64_FORMAT ".\n"
					 "-- Plain SQL: it needs no extension.  Run it whole, as the owner of the tables or a member\n"
					 "-- of that role (rows are written as the table's owner, SET LOCAL ROLE):\n"
					 "--   psql -v ON_ERROR_STOP=1 -f this.sql    or paste it into the Supabase SQL editor.\n"
					 "-- It is one transaction.  Every step that drops or replaces a table first checks, under\n"
					 "-- its lock, that the table is as planned; if not, it raises an error and nothing is kept.\n"
					 "-- Run again, every step finds itself done and changes nothing.\n",
					 what, cmt(quote_identifier(get_database_name(MyDatabaseId))),
					 sc->plan->schemas_text ? psprintf("schemas %s", cmt(sc->plan->schemas_text)) : "all user schemas",
					 sc->plan->merge_extensions ? "true" : "false",
					 strcmp(what, "dedup plan") == 0 ? "plan_sql" : "rollback_sql",
					 dedup_query_value("SELECT pg_catalog.to_char(pg_catalog.now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS UTC')", 0, NULL, NULL),
					 sc->baseline);
	appendStringInfoString(&sc->out, "--\n-- The steps:\n");
	foreach(lc, sc->plan->steps)
	{
		DedupStep  *s = (DedupStep *) lfirst(lc);

		appendStringInfo(&sc->out, "--   %d %s %s%s%s\n", s->number, dedup_step_action(s->kind), cmt(s->target),
						 s->hazard ? psprintf(" [%s]", cmt(s->hazard)) : "", s->reason ? psprintf(": %s", cmt(s->reason)) : "");
	}
	appendStringInfoString(&sc->out, "\nBEGIN;\n");
	for (i = 0; i < NSETTINGS; i++)
		appendStringInfo(&sc->out, "SET LOCAL %s = %s;\n", script_settings[i][0],
						 strcmp(script_settings[i][0], "search_path") == 0 ?
						 script_settings[i][1] : lit(script_settings[i][1]));
	appendStringInfoString(&sc->out, "SET LOCAL lock_timeout = '10s';\n\n-- helpers: the bodies of dedup._set_acl, dedup._rows_fingerprint and dedup._shape\n");
	helper(sc, "dedup_set_acl", "(rel regclass, acl aclitem[], kind text) RETURNS void", "plpgsql",
		   "dedup._set_acl(regclass, aclitem[], text)");
	helper(sc, "dedup_rows", "(rel regclass, OUT n bigint, OUT fp text)", "plpgsql",
		   "dedup._rows_fingerprint(regclass)");
	helper(sc, "dedup_shape", "(rel regclass) RETURNS text", "sql", "dedup._shape(regclass)");
	appendStringInfoChar(&sc->out, '\n');
}


/* rollback of a drop: the table recreated from its captured definition. */
static void
rollback_drop(Script *sc, DedupStep *s)
{
	StringInfoData b;
	TableState *t = table_state(s->target);

	initStringInfo(&b);
	appendStringInfo(&b, "  IF pg_catalog.to_regclass(%s) IS NOT NULL THEN\n", lit(s->target));
	appendStringInfo(&b, "    IF pg_temp.dedup_shape(%s) = %s THEN\n  ", lit(s->target), lit(t->shape));
	done_already(&b, s->number, psprintf("%s is there", s->target));
	appendStringInfoString(&b, "    END IF;\n");
	raise_changed(&b, s->number, "a table %s exists that is not the one the plan dropped", lit(s->target),
				  "Rename or drop it, then run the rollback again.");
	appendStringInfoString(&b, "  END IF;\n");
	/* a safe drop has no dependents but foreign keys from tables dropped
	 * before it, which come back with those tables */
	exec_all(&b, tree_statements(s->target));
	notice(&b, s->number, "%s recreated as it was", lit(s->target));
	emit_block(sc, s->number, b.data);
}

/*
 * rollback of merge_rows: the look-alike recreated with its rows from its
 * backup (when it was dropped), and the rows the merge inserted deleted
 * from the keeper when they are still exactly the look-alike's rows.
 */
static void
rollback_merge_rows(Script *sc, DedupStep *s)
{
	StringInfoData b;
	TableState *t = table_state(s->target);
	DedupStep  *bs = backup_of(sc->plan, s->relid);
	DedupStep  *bk = backup_of(sc->plan, s->into);
	char	   *bsq = bs ? backup_qual(bs) : NULL;

	initStringInfo(&b);
	if (s->drop_source && bsq)
	{
		char	   *cols = insert_columns(s->relid);

		appendStringInfo(&b, "  IF pg_catalog.to_regclass(%s) IS NULL THEN\n", lit(s->target));
		appendStringInfo(&b, "    SELECT f.n, f.fp INTO _n, _fp FROM pg_temp.dedup_rows(%s) f;\n", lit(bsq));
		appendStringInfo(&b, "    IF _n <> " INT64_FORMAT " OR _fp <> %s THEN\n  ", t->rows, lit(t->fp));
		raise_changed(&b, s->number, "the backup %s no longer holds the rows of %s", psprintf("%s, %s", lit(bsq), lit(s->target)),
					  "Restore it by hand from what is left.");
		appendStringInfoString(&b, "    END IF;\n");
		exec_all(&b, tree_statements(s->target));
		exec_as_owner(&b, psprintf("INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s", s->target, cols, cols, bsq), s->relid);
		exec_all(&b, dependent_creates(s->target));
		notice(&b, s->number, "%s recreated with its %s rows", psprintf("%s, _n", lit(s->target)));
		appendStringInfoString(&b, "  END IF;\n");
	}
	if (s->missing > 0 && bk && bsq)
	{
		char	   *merged = psprintf("FROM %s k WHERE EXISTS (SELECT 1 FROM %s s WHERE %s AND %s)"
									  " AND NOT EXISTS (SELECT 1 FROM %s s WHERE %s)",
									  s->into_name, bsq, s->merge_keymatch, s->merge_same,
									  backup_qual(bk), s->merge_keymatch);

		/*
		 * a second run: the undo of the backups dropped each one that its
		 * table holds the rows of again (deleting the merged rows needs
		 * both)
		 */
		appendStringInfo(&b, "  IF pg_catalog.to_regclass(%s) IS NULL OR pg_catalog.to_regclass(%s) IS NULL THEN\n",
						 lit(bsq), lit(backup_qual(bk)));
		done_already(&b, s->number, psprintf("the rows merged from %s were deleted from %s (a backup they are told apart by is gone)",
											 s->target, s->into_name));
		appendStringInfoString(&b, "  END IF;\n");
		exec(&b, psprintf("LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE", s->into_name));
		appendStringInfo(&b, "  EXECUTE %s INTO _x;\n", lit(psprintf("SELECT pg_catalog.count(*) %s", merged)));
		appendStringInfoString(&b, "  IF _x = 0 THEN\n");
		done_already(&b, s->number, psprintf("no row merged from %s is left in %s", s->target, s->into_name));
		appendStringInfo(&b, "  ELSIF _x <> " INT64_FORMAT " THEN\n", s->missing);
		raise_changed(&b, s->number, psprintf("%%s of the " INT64_FORMAT " rows merged from %%s into %%s are still as they were: the others were changed since, and deleting the rest would lose that", s->missing),
					  psprintf("_x, %s, %s", lit(s->target), lit(s->into_name)),
					  "Compare the keeper with the backups and delete by hand what should go.");
		appendStringInfoString(&b, "  END IF;\n");
		exec_as_owner(&b, psprintf("DELETE %s", merged), s->into);
		notice(&b, s->number, "the %s rows merged from %s deleted from %s",
			   psprintf("_x, %s, %s", lit(s->target), lit(s->into_name)));
	}
	if (b.len == 0)
		appendStringInfo(&b, "  RAISE NOTICE 'dedup step %d: nothing to undo';\n", s->number);
	emit_block(sc, s->number, b.data);
}

/*
 * rollback of unpartition: when the plain table still holds exactly the
 * rows of its backup, it is replaced by the partitioned table as it was,
 * with the rows and dependents.
 */
static void
rollback_unpartition(Script *sc, DedupStep *s)
{
	StringInfoData b;
	DedupStep  *bak = backup_of(sc->plan, s->relid);
	char	   *bq = backup_qual(bak);
	char	   *cols = insert_columns(s->relid);

	initStringInfo(&b);
	appendStringInfo(&b, "  IF (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass(%s)) = 'p' THEN\n",
					 lit(s->target));
	done_already(&b, s->number, psprintf("%s is partitioned", s->target));
	appendStringInfoString(&b, "  END IF;\n");
	exec(&b, psprintf("LOCK TABLE %s IN ACCESS EXCLUSIVE MODE", s->target));
	appendStringInfo(&b, "  SELECT f.n, f.fp INTO _n, _fp FROM pg_temp.dedup_rows(%s) f;\n", lit(s->target));
	appendStringInfo(&b, "  SELECT f.n, f.fp INTO _x, _t FROM pg_temp.dedup_rows(%s) f;\n", lit(bq));
	appendStringInfoString(&b, "  IF _n <> _x OR _fp <> _t THEN\n");
	raise_changed(&b, s->number, "rows of %s were written since it was unpartitioned (%s rows; its backup %s holds %s): rolling back would lose them",
				  psprintf("%s, _n, %s, _x", lit(s->target), lit(bq)), "Copy them aside first, then restore by hand.");
	appendStringInfoString(&b, "  END IF;\n");
	exec_all(&b, dependent_drops(s->target));
	exec(&b, psprintf("DROP TABLE %s", s->target));
	exec_all(&b, tree_statements(s->target));
	exec_as_owner(&b, psprintf("INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s", s->target, cols, cols, bq), s->relid);
	exec_all(&b, dependent_creates(s->target));
	notice(&b, s->number, "%s is partitioned again, with its %s rows", psprintf("%s, _n", lit(s->target)));
	emit_block(sc, s->number, b.data);
}

/* rollback of a backup: it goes, when it holds what its table holds again. */
static void
rollback_backup(Script *sc, DedupStep *s)
{
	StringInfoData b;
	char	   *bq = backup_qual(s);
	TableState *t = table_state(s->target);

	initStringInfo(&b);
	done_if_gone(&b, s->number, bq, psprintf("%s is gone", bq));
	if (s->reused)
	{
		notice(&b, s->number, "%s was there before the plan: kept", lit(bq));
		emit_block(sc, s->number, b.data);
		return;
	}
	appendStringInfo(&b, "  IF pg_catalog.obj_description(%s::pg_catalog.regclass, 'pg_class') NOT IN (%s, %s) THEN\n",
					 lit(bq), lit(backup_comment(s, t, true)), lit(backup_comment(s, t, false)));
	appendStringInfoString(&b, "  ");
	notice(&b, s->number, "%s is not the backup the plan took: kept", lit(bq));
	appendStringInfo(&b, "    EXIT step_%d;\n  END IF;\n", s->number);
	/* compared and dropped under the locks: no write in between */
	exec(&b, psprintf("LOCK TABLE %s IN ACCESS EXCLUSIVE MODE", bq));
	exec(&b, psprintf("LOCK TABLE %s IN SHARE MODE", s->target));
	appendStringInfo(&b, "  SELECT f.n, f.fp INTO _n, _fp FROM pg_temp.dedup_rows(%s) f;\n", lit(bq));
	appendStringInfo(&b, "  SELECT f.n, f.fp INTO _x, _t FROM pg_temp.dedup_rows(%s) f;\n", lit(s->target));
	appendStringInfoString(&b, "  IF _n <> _x OR _fp <> _t THEN\n  ");
	notice(&b, s->number, "%s holds other rows than %s now: kept", psprintf("%s, %s", lit(bq), lit(s->target)));
	appendStringInfo(&b, "    EXIT step_%d;\n  END IF;\n", s->number);
	exec(&b, psprintf("DROP TABLE %s", bq));
	notice(&b, s->number, "%s dropped: %s holds its rows again", psprintf("%s, %s", lit(bq), lit(s->target)));
	emit_block(sc, s->number, b.data);
}

/* What a script writes for one kind of step (NULL: a comment only). */
typedef void (*StepWriter) (Script *sc, DedupStep *s);

static const StepWriter forward_writers[] = {
	[DEDUP_STEP_BACKUP] = forward_backup,
	[DEDUP_STEP_UNPARTITION] = forward_unpartition,
	[DEDUP_STEP_MERGE_EXTENSION] = forward_merge_extension,
	[DEDUP_STEP_MERGE_ROWS] = forward_merge_rows,
	[DEDUP_STEP_DROP] = forward_drop,
	[DEDUP_STEP_KEEP] = NULL,
	[DEDUP_STEP_VERIFY] = forward_verify,
};

static const StepWriter rollback_writers[] = {
	[DEDUP_STEP_BACKUP] = rollback_backup,
	[DEDUP_STEP_UNPARTITION] = rollback_unpartition,
	[DEDUP_STEP_MERGE_EXTENSION] = rollback_merge_extension,
	[DEDUP_STEP_MERGE_ROWS] = rollback_merge_rows,
	[DEDUP_STEP_DROP] = rollback_drop,
	[DEDUP_STEP_KEEP] = NULL,
	[DEDUP_STEP_VERIFY] = NULL,
};

/*
 * A script of the plan: the header, then each step as writers says, in the
 * plan's order or (backwards, for the rollback) last first, then COMMIT.
 */
static char *
write_script(DedupPlan *plan, int64 baseline, const char *what, const StepWriter *writers, bool backwards)
{
	Script		sc;
	int			n = list_length(plan->steps);
	int			i;
	int			quiet = dedup_quiet_stats_begin(plan->cat); /* our reads are not use */
	int			nest = script_settings_begin();

	memset(&sc, 0, sizeof(sc));
	sc.plan = plan;
	sc.baseline = baseline;
	initStringInfo(&sc.out);
	initStringInfo(&sc.body);
	header(&sc, what);
	for (i = 0; i < n; i++)
	{
		DedupStep  *s = (DedupStep *) list_nth(plan->steps, backwards ? n - 1 - i : i);

		CHECK_FOR_INTERRUPTS();
		if (writers[s->kind] == NULL && backwards)
			continue;
		appendStringInfo(&sc.body, "-- %sstep %d: %s %s%s%s\n", backwards ? "undo " : "", s->number,
						 dedup_step_action(s->kind), cmt(s->target),
						 s->hazard ? psprintf(" [%s]", cmt(s->hazard)) : "", s->reason ? psprintf(": %s", cmt(s->reason)) : "");
		if (writers[s->kind])
			writers[s->kind] (&sc, s);
		else
			appendStringInfoString(&sc.body, "-- (nothing to do)\n\n");
	}
	emit_steps(&sc);
	appendStringInfoString(&sc.out, "COMMIT;\n");
	AtEOXact_GUC(true, nest);
	dedup_quiet_stats_end(quiet);
	return sc.out.data;
}

/*
 * dedup.plan_sql(schemas name[] DEFAULT NULL, merge_extensions boolean DEFAULT false) RETURNS text
 *
 *	 \copy (SELECT dedup.plan_sql()) TO 'plan.sql'
 *
 * Records the plan's baseline, as dedup.plan() does.
 */
Datum
dedup_plan_sql(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = CurrentMemoryContext;
	DedupPlan  *plan;
	char	   *text;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "dedup: SPI_connect failed");
	plan = dedup_build_plan(PG_ARGISNULL(0) ? NULL : PG_GETARG_ARRAYTYPE_P(0),
							PG_ARGISNULL(1) ? false : PG_GETARG_BOOL(1));
	text = MemoryContextStrdup(cxt, write_script(plan, dedup_record_baseline(plan, "plan_sql"),
													"dedup plan", forward_writers, false));
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(text));
}

/*
 * dedup.rollback_sql(schemas name[] DEFAULT NULL, merge_extensions boolean DEFAULT false) RETURNS text
 *
 *	 \copy (SELECT dedup.rollback_sql()) TO 'rollback.sql'
 *
 * Written from the same plan as dedup.plan_sql() with the same arguments,
 * before that script runs.  Records nothing.
 */
Datum
dedup_rollback_sql(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = CurrentMemoryContext;
	DedupPlan  *plan;
	char	   *text;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "dedup: SPI_connect failed");
	plan = dedup_build_plan(PG_ARGISNULL(0) ? NULL : PG_GETARG_ARRAYTYPE_P(0),
							PG_ARGISNULL(1) ? false : PG_GETARG_BOOL(1));
	text = MemoryContextStrdup(cxt, write_script(plan, dedup_latest_baseline(plan->schemas),
													"dedup rollback", rollback_writers, true));
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(text));
}

/* Everything a script needs to merge an extension, read when it is written. */
typedef struct ExtScript
{
	DedupExtPreview *p;
	char	   *eq;				/* the extension, quoted and qualified */
	char	   *ename;
	char	   *bq;				/* the base */
	char	   *nsp;			/* the base's schema, quoted */
	char	   *owner;			/* the owner of both, quoted */
	char	   *eacl;			/* the extension's privileges, or NULL */
	char	   *ecomment;
	char	   *trigger;		/* the compatibility triggers' name */
	char	   *fn_insert;		/* their functions, qualified */
	char	   *fn_delete;
	char	   *definer_view;	/* name of the view definer dependents read, or NULL */
	char	   *select;			/* the compatibility view's query */
	char	   *deps;			/* dedup._dependents of the extension, as JSON text */
	List	   *notnull;		/* char *: NOT NULL, not generated columns of the base */
	List	   *owned_by;		/* char *: the statements giving them to the base */
	List	   *comments;		/* char *: COMMENT ON COLUMN of the view */
	List	   *triggers;		/* char *[2]: enabled user triggers of the base, and their state */
	List	   *base_indexes;	/* char *: indexes (qualified), constraints and triggers of the base now */
	List	   *base_constraints;
	List	   *base_triggers;
} ExtScript;

static ExtScript *
ext_script(DedupStep *s)
{
	ExtScript  *x = palloc0(sizeof(ExtScript));
	Oid			types[2] = {OIDOID, OIDOID};
	Datum		args[2] = {ObjectIdGetDatum(s->relid), ObjectIdGetDatum(s->into)};
	ListCell   *lc;
	StringInfoData cols;

	x->p = s->ext;
	x->eq = s->target;
	x->ename = get_rel_name(s->relid);
	x->bq = s->into_name;
	x->nsp = pstrdup(quote_identifier(get_namespace_name(get_rel_namespace(s->into))));
	x->owner = pstrdup(quote_identifier(GetUserNameFromId(dedup_rel_owner(s->into), false)));
	x->eacl = dedup_query_value("SELECT c.relacl::pg_catalog.text FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) $1",
								1, types, args);
	x->ecomment = dedup_query_value("SELECT pg_catalog.obj_description($1, 'pg_class')", 1, types, args);
	x->trigger = dedup_derived_name(x->ename, "", "dedup_compat");
	x->fn_insert = psprintf("%s.%s", x->nsp, quote_identifier(dedup_derived_name(x->ename, "", "dedup_compat_insert")));
	x->fn_delete = psprintf("%s.%s", x->nsp, quote_identifier(dedup_derived_name(x->ename, "", "dedup_compat_delete")));
	x->deps = dedup_query_value("SELECT dedup._dependents($1::pg_catalog.regclass, 'pg_temp.dedup_set_acl')::pg_catalog.text",
								1, types, args);

	/* the view's query: the extension's columns, its key as the base names it */
	initStringInfo(&cols);
	foreach(lc, x->p->ext_columns)
	{
		char	   *c = (char *) lfirst(lc);
		int			at = list_position_str(x->p->ext_key, c);

		if (at >= 0 && strcmp((char *) list_nth(x->p->base_key, at), c) != 0)
			appendStringInfo(&cols, "%sb.%s AS %s", cols.len ? ", " : "",
							 quote_identifier((char *) list_nth(x->p->base_key, at)), quote_identifier(c));
		else
			appendStringInfo(&cols, "%sb.%s", cols.len ? ", " : "", quote_identifier(c));
	}
	x->select = psprintf("SELECT %s FROM %s b WHERE NOT (ROW(%s) IS NULL)", cols.data, x->bq,
						 dedup_quoted_list_prefixed(x->p->added, "b."));
	if (dedup_query_value("SELECT 1 FROM pg_catalog.jsonb_array_elements($1::pg_catalog.jsonb) d"
						  " WHERE d->>'kind' IN ('view', 'materialized view', 'rule')"
						  "   AND NOT (d->>'security_invoker')::pg_catalog.bool LIMIT 1",
						  1, (Oid[]) {TEXTOID}, (Datum[]) {CStringGetTextDatum(x->deps)}))
		x->definer_view = dedup_derived_name(x->ename, "", "dedup_rows");

	foreach(lc, dedup_query_rows("SELECT a.attname FROM pg_catalog.pg_attribute a"
								 " WHERE a.attrelid OPERATOR(pg_catalog.=) $2 AND a.attnum OPERATOR(pg_catalog.>) 0"
								 "   AND NOT a.attisdropped AND a.attnotnull AND a.attgenerated OPERATOR(pg_catalog.=) ''"
								 "   AND $1 IS NOT NULL ORDER BY a.attnum", 2, types, args))
		x->notnull = lappend(x->notnull, ((char **) lfirst(lc))[0]);
	foreach(lc, dedup_query_rows("SELECT d.objid::pg_catalog.regclass::pg_catalog.text,"
								 "       pg_catalog.format('ALTER SEQUENCE %s OWNED BY %s.%I', d.objid::pg_catalog.regclass,"
								 "                         $2::pg_catalog.regclass, a.attname)"
								 "  FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_attribute a"
								 "       ON a.attrelid OPERATOR(pg_catalog.=) d.refobjid AND a.attnum OPERATOR(pg_catalog.=) d.refobjsubid"
								 "  JOIN pg_catalog.pg_class sc ON sc.oid OPERATOR(pg_catalog.=) d.objid AND sc.relkind OPERATOR(pg_catalog.=) 'S'"
								 " WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
								 "   AND d.refobjid OPERATOR(pg_catalog.=) $1 AND d.deptype OPERATOR(pg_catalog.=) 'a'"
								 "   AND d.refobjsubid OPERATOR(pg_catalog.>) 0 ORDER BY 1", 2, types, args))
		x->owned_by = lappend(x->owned_by, ((char **) lfirst(lc))[1]);
	foreach(lc, dedup_query_rows("SELECT pg_catalog.format('COMMENT ON COLUMN %s.%I IS %L', $1::pg_catalog.regclass, a.attname, d.description)"
								 "  FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_description d"
								 "       ON d.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
								 "      AND d.objoid OPERATOR(pg_catalog.=) a.attrelid AND d.objsubid OPERATOR(pg_catalog.=) a.attnum"
								 " WHERE a.attrelid OPERATOR(pg_catalog.=) $1 AND a.attnum OPERATOR(pg_catalog.>) 0"
								 "   AND NOT a.attisdropped AND $2 IS NOT NULL ORDER BY a.attnum", 2, types, args))
		x->comments = lappend(x->comments, ((char **) lfirst(lc))[0]);
	foreach(lc, dedup_query_rows("SELECT t.tgname, CASE t.tgenabled WHEN 'A' THEN 'ENABLE ALWAYS' WHEN 'R' THEN 'ENABLE REPLICA'"
								 "                   ELSE 'ENABLE' END"
								 "  FROM pg_catalog.pg_trigger t WHERE t.tgrelid OPERATOR(pg_catalog.=) $2 AND NOT t.tgisinternal"
								 "   AND t.tgenabled OPERATOR(pg_catalog.<>) 'D' AND $1 IS NOT NULL ORDER BY 1", 2, types, args))
		x->triggers = lappend(x->triggers, lfirst(lc));
	x->base_indexes = dedup_query_column("SELECT i.indexrelid::pg_catalog.regclass::pg_catalog.text FROM pg_catalog.pg_index i"
										 " WHERE i.indrelid OPERATOR(pg_catalog.=) $2 AND $1 IS NOT NULL", 2, types, args, NULL);
	x->base_constraints = dedup_query_column("SELECT k.conname::pg_catalog.text FROM pg_catalog.pg_constraint k"
											 " WHERE k.conrelid OPERATOR(pg_catalog.=) $2 AND $1 IS NOT NULL", 2, types, args, NULL);
	x->base_triggers = dedup_query_column("SELECT t.tgname::pg_catalog.text FROM pg_catalog.pg_trigger t"
										  " WHERE t.tgrelid OPERATOR(pg_catalog.=) $2 AND NOT t.tgisinternal AND $1 IS NOT NULL",
										  2, types, args, NULL);
	return x;
}

/*
 * "a.k1 OPERATOR(pg_catalog.=) b.k1 AND ...": the key columns of two rows,
 * each named as the base names them (a_base) or as the extension does.
 */
static char *
key_pairs(ExtScript *x, const char *a, bool a_base, const char *b, bool b_base)
{
	StringInfoData m;
	ListCell   *bk,
			   *ek;

	initStringInfo(&m);
	forboth(bk, x->p->base_key, ek, x->p->ext_key)
		appendStringInfo(&m, "%s%s.%s OPERATOR(pg_catalog.=) %s.%s", m.len ? " AND " : "",
						 a, quote_identifier((char *) lfirst(a_base ? bk : ek)),
						 b, quote_identifier((char *) lfirst(b_base ? bk : ek)));
	return m.data;
}

/* ARRAY['a', 'b']::text[] */
static char *
text_array_sql(List *strings)
{
	StringInfoData a;
	ListCell   *lc;

	initStringInfo(&a);
	foreach(lc, strings)
		appendStringInfo(&a, "%s%s", a.len ? ", " : "", lit((char *) lfirst(lc)));
	return psprintf("ARRAY[%s]::text[]", a.data);
}

/* The statements of dependents of the extension, by whether they read it as the invoker. */
static List *
ext_dependents(ExtScript *x, bool invoker)
{
	return statements(psprintf("SELECT s.sql FROM dedup._undo_steps(pg_catalog.jsonb_build_object('dependents',"
							   "  (SELECT COALESCE(pg_catalog.jsonb_agg(d), '[]') FROM pg_catalog.jsonb_array_elements($1::pg_catalog.jsonb) d"
							   "    WHERE d->>'kind' IN ('view', 'materialized view', 'rule')"
							   "      AND %s(d->>'security_invoker')::pg_catalog.bool))) s", invoker ? "" : "NOT "),
					  x->deps);
}

/* The compatibility triggers' functions, in plain PL/pgSQL (compat_view.c says what they do). */
static void
compat_functions(StringInfo b, ExtScript *x)
{
	StringInfoData f;
	StringInfoData keynew;
	StringInfoData set;
	StringInfoData nulls;
	StringInfoData fill;
	ListCell   *lc;
	ListCell   *bk,
			   *ek;
	char	   *tag;

	initStringInfo(&keynew);
	initStringInfo(&set);
	initStringInfo(&nulls);
	initStringInfo(&fill);
	forboth(bk, x->p->base_key, ek, x->p->ext_key)
		appendStringInfo(&keynew, "%sb.%s OPERATOR(pg_catalog.=) NEW.%s", keynew.len ? " AND " : "",
						 quote_identifier((char *) lfirst(bk)), quote_identifier((char *) lfirst(bk)));
	foreach(lc, x->p->added)
	{
		const char *q = quote_identifier((char *) lfirst(lc));

		appendStringInfo(&set, "%s%s = NEW.%s", set.len ? ", " : "", q, q);
		appendStringInfo(&nulls, "%s%s = NULL", nulls.len ? ", " : "", q);
	}
	foreach(lc, x->notnull)
	{
		const char *q = quote_identifier((char *) lfirst(lc));

		appendStringInfo(&fill, "  IF NEW.%s IS NULL THEN\n    NEW.%s := existing.%s;\n  END IF;\n", q, q, q);
	}

	/* BEFORE INSERT on the base */
	initStringInfo(&f);
	appendStringInfo(&f,
					 "DECLARE\n  existing %s%%ROWTYPE;\nBEGIN\n"
					 "  -- a row without the extension's values is a plain insert into the base\n"
					 "  IF ROW(%s) IS NULL THEN\n    RETURN NEW;\n  END IF;\n"
					 "  IF %s THEN\n    RETURN NEW;\n  END IF;\n"
					 "  SELECT b.* INTO existing FROM ONLY %s b WHERE %s;\n"
					 "  IF NOT FOUND THEN\n    RETURN NEW;\n  END IF;\n"
					 "  -- the extension row is inserted: its values go onto the base row\n"
					 "  IF ROW(%s) IS NULL THEN\n    UPDATE ONLY %s AS b SET %s WHERE %s;\n    RETURN NULL;\n  END IF;\n"
					 "  -- the key is taken: the base row's other values fill the insert, which meets the key\n"
					 "%s  RETURN NEW;\nEND\n",
					 x->bq, dedup_quoted_list_prefixed(x->p->added, "NEW."),
					 psprintf("ROW(%s) IS NULL", dedup_quoted_list_prefixed(x->p->base_key, "NEW.")),
					 x->bq, key_pairs(x, "b", true, "NEW", true), dedup_quoted_list_prefixed(x->p->added, "existing."),
					 x->bq, set.data, keynew.data, fill.data);
	tag = dollar_tag(f.data, "fn");
	exec(b, psprintf("CREATE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS %s\n%s%s",
					 x->fn_insert, tag, f.data, tag));
	exec(b, psprintf("REVOKE ALL ON FUNCTION %s() FROM PUBLIC", x->fn_insert));

	/* INSTEAD OF DELETE on the view */
	initStringInfo(&f);
	appendStringInfo(&f,
					 "BEGIN\n  -- the extension's columns of that base row go back to NULL; the base row stays\n"
					 "  UPDATE ONLY %s AS b SET %s WHERE %s;\n"
					 "  IF FOUND THEN\n    RETURN OLD;\n  END IF;\n  RETURN NULL;\nEND\n",
					 x->bq, nulls.data, key_pairs(x, "b", true, "OLD", false));
	tag = dollar_tag(f.data, "fn");
	exec(b, psprintf("CREATE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS %s\n%s%s",
					 x->fn_delete, tag, f.data, tag));
	exec(b, psprintf("REVOKE ALL ON FUNCTION %s() FROM PUBLIC", x->fn_delete));
}

/*
 * merge_extension: as dedup.merge_extension() does it, with plain SQL: the
 * extension's own columns added to the base and filled by key (shared
 * NULLs filled; the base's triggers do not fire, as they do not for the
 * rebuild), its sequences, the extension dropped with what depends on it,
 * its constraints and indexes carried over, the grants that keep access
 * as it was, foreign keys repointed, and its name answering as a
 * security_invoker view whose INSERT and DELETE triggers are PL/pgSQL
 * functions the script creates beside the base.
 */
static void
forward_merge_extension(Script *sc, DedupStep *s)
{
	StringInfoData b;
	ExtScript  *x = ext_script(s);
	TableState *t = table_state(s->target);
	TableState *k = table_state(s->into_name);
	StringInfoData add;
	StringInfoData upd;
	ListCell   *lc;
	char	   *km = key_pairs(x, "b", true, "e", false);

	initStringInfo(&b);
	appendStringInfo(&b, "  IF (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass(%s)) = 'v' THEN\n",
					 lit(x->eq));
	done_already(&b, s->number, psprintf("%s is a view over %s", x->eq, x->bq));
	appendStringInfoString(&b, "  END IF;\n");
	lock_pair(&b, s->relid, x->eq, "ACCESS EXCLUSIVE", s->into, x->bq, "ACCESS EXCLUSIVE");
	guard_rows(&b, s->number, t);
	guard_shape(&b, s->number, t);
	if (!reshaped_before(sc->plan, s, s->into))
		guard_shape(&b, s->number, k);
	appendStringInfo(&b, "  EXECUTE %s INTO _x;\n",
					 lit(psprintf("SELECT pg_catalog.count(*) FROM %s e WHERE NOT EXISTS (SELECT 1 FROM %s b WHERE %s)",
								  x->eq, x->bq, km)));
	appendStringInfoString(&b, "  IF _x <> 0 THEN\n");
	raise_changed(&b, s->number, "%s rows of %s have no row in %s", psprintf("_x, %s, %s", lit(x->eq), lit(x->bq)), REPLAN_HINT);
	appendStringInfoString(&b, "  END IF;\n");
	if (x->p->shared)
	{
		StringInfoData differ;

		initStringInfo(&differ);
		foreach(lc, x->p->shared)
		{
			const char *q = quote_identifier((char *) lfirst(lc));

			appendStringInfo(&differ, "%s(b.%s IS NOT NULL AND e.%s IS NOT NULL AND NOT pg_catalog.record_image_eq(ROW(b.%s), ROW(e.%s)))",
							 differ.len ? " OR " : "", q, q, q, q);
		}
		appendStringInfo(&b, "  EXECUTE %s INTO _x;\n",
						 lit(psprintf("SELECT pg_catalog.count(*) FROM %s b JOIN %s e ON %s WHERE %s",
									  x->bq, x->eq, km, differ.data)));
		appendStringInfoString(&b, "  IF _x <> 0 THEN\n");
		raise_changed(&b, s->number, "%s rows of %s disagree with %s in a shared column",
					  psprintf("_x, %s, %s", lit(x->eq), lit(x->bq)), REPLAN_HINT);
		appendStringInfoString(&b, "  END IF;\n");
	}

	/* the columns, then the values */
	initStringInfo(&add);
	foreach(lc, x->p->definitions)
		appendStringInfo(&add, "%sADD COLUMN %s", add.len ? ", " : "", (char *) lfirst(lc));
	if (add.len)
		exec_as_owner(&b, psprintf("ALTER TABLE %s %s", x->bq, add.data), s->into);
	initStringInfo(&upd);
	foreach(lc, x->p->added)
		appendStringInfo(&upd, "%s%s = e.%s", upd.len ? ", " : "", quote_identifier((char *) lfirst(lc)),
						 quote_identifier((char *) lfirst(lc)));
	foreach(lc, x->p->shared)
	{
		const char *q = quote_identifier((char *) lfirst(lc));

		appendStringInfo(&upd, "%s%s = CASE WHEN b.%s IS NULL THEN e.%s ELSE b.%s END", upd.len ? ", " : "", q, q, q, q);
	}
	foreach(lc, x->triggers)
		exec(&b, psprintf("ALTER TABLE %s DISABLE TRIGGER %s", x->bq, quote_identifier(((char **) lfirst(lc))[0])));
	if (upd.len)
		exec_as_owner(&b, psprintf("UPDATE %s b SET %s FROM %s e WHERE %s", x->bq, upd.data, x->eq, km), s->into);
	foreach(lc, x->triggers)
		exec(&b, psprintf("ALTER TABLE %s %s TRIGGER %s", x->bq, ((char **) lfirst(lc))[1],
						  quote_identifier(((char **) lfirst(lc))[0])));
	{
		ListCell   *nc,
				   *cc;

		forboth(nc, x->p->added, cc, x->p->comments)
			if (lfirst(cc))
				exec(&b, psprintf("COMMENT ON COLUMN %s.%s IS %s", x->bq, quote_identifier((char *) lfirst(nc)),
								  lit((char *) lfirst(cc))));
	}
	exec_all(&b, x->owned_by);

	/* the extension goes with what depends on it; what it had comes over */
	exec_all(&b, dependent_drops(x->eq));
	exec(&b, psprintf("DROP TABLE %s", x->eq));
	exec_all(&b, x->p->carry);
	exec_all(&b, x->p->grants);
	exec_all(&b, x->p->repoint);
	exec_all_as_owner(&b, x->p->validate, s->into);

	/* its name: a view that answers as the table did */
	if (x->definer_view)
	{
		exec(&b, psprintf("CREATE VIEW %s AS %s", x->eq, x->select));
		exec(&b, psprintf("ALTER VIEW %s OWNER TO %s", x->eq, x->owner));
		appendStringInfo(&b, "  PERFORM pg_temp.dedup_set_acl(%s, NULL, 'TABLE');\n", lit(x->eq));
		exec_all(&b, ext_dependents(x, false));
		exec(&b, psprintf("ALTER VIEW %s RENAME TO %s", x->eq, quote_identifier(x->definer_view)));
		exec(&b, psprintf("COMMENT ON VIEW %s.%s IS %s", x->nsp, quote_identifier(x->definer_view),
						  lit(psprintf("dedup: what read %s as its owner reads %s through this view", x->eq, x->bq))));
	}
	exec(&b, psprintf("CREATE VIEW %s WITH (security_invoker = true) AS %s", x->eq, x->select));
	{
		ListCell   *nc,
				   *dc;

		forboth(nc, x->p->added, dc, x->p->defaults)
			if (lfirst(dc))
				exec(&b, psprintf("ALTER VIEW %s ALTER COLUMN %s SET DEFAULT %s", x->eq,
								  quote_identifier((char *) lfirst(nc)), (char *) lfirst(dc)));
	}
	compat_functions(&b, x);
	exec(&b, psprintf("CREATE TRIGGER %s BEFORE INSERT ON %s FOR EACH ROW EXECUTE FUNCTION %s()",
					  quote_identifier(x->trigger), x->bq, x->fn_insert));
	exec(&b, psprintf("CREATE TRIGGER %s INSTEAD OF DELETE ON %s FOR EACH ROW EXECUTE FUNCTION %s()",
					  quote_identifier(x->trigger), x->eq, x->fn_delete));
	exec(&b, psprintf("ALTER VIEW %s OWNER TO %s", x->eq, x->owner));
	appendStringInfo(&b, "  PERFORM pg_temp.dedup_set_acl(%s, %s, 'TABLE');\n", lit(x->eq),
					 x->eacl ? psprintf("%s::pg_catalog.aclitem[]", lit(x->eacl)) : "NULL");
	exec(&b, psprintf("COMMENT ON VIEW %s IS %s", x->eq,
					  lit(psprintf("%s%sdedup: merged into %s; this view answers as the table did",
								   x->ecomment ? x->ecomment : "", x->ecomment ? " / " : "", x->bq))));
	exec_all(&b, x->comments);
	exec_all(&b, ext_dependents(x, true));

	appendStringInfo(&b, "  EXECUTE %s INTO _x;\n", lit(psprintf("SELECT pg_catalog.count(*) FROM %s", x->eq)));
	appendStringInfo(&b, "  IF _x <> " INT64_FORMAT " THEN\n", t->rows);
	raise_changed(&b, s->number, psprintf("the view %%s shows %%s rows; the table had " INT64_FORMAT, t->rows),
				  psprintf("%s, _x", lit(x->eq)), "Look for a trigger or rule that changed rows.");
	appendStringInfoString(&b, "  END IF;\n");
	notice(&b, s->number, "%s merged into %s (columns %s); %s is a view now",
		   psprintf("%s, %s, %s, %s", lit(x->eq), lit(x->bq), lit(dedup_quoted_list(x->p->added)), lit(x->eq)));
	emit_block(sc, s->number, b.data);
}

/*
 * rollback of merge_extension: when every value the merge put into the
 * base is still there as the extension's backup holds it, the view and
 * its triggers go, the base loses the columns and the values it gained,
 * and the extension comes back with its rows and dependents.
 */
static void
rollback_merge_extension(Script *sc, DedupStep *s)
{
	StringInfoData b;
	ExtScript  *x = ext_script(s);
	DedupStep  *be = backup_of(sc->plan, s->relid);
	DedupStep  *bb = backup_of(sc->plan, s->into);
	char	   *beq = backup_qual(be);
	char	   *bbq = backup_qual(bb);
	char	   *cols = insert_columns(s->relid);
	StringInfoData drop;
	ListCell   *lc;

	initStringInfo(&b);
	appendStringInfo(&b, "  IF (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass(%s)) = 'r' THEN\n",
					 lit(x->eq));
	done_already(&b, s->number, psprintf("%s is a table", x->eq));
	appendStringInfoString(&b, "  END IF;\n");
	exec(&b, psprintf("LOCK TABLE %s IN ACCESS EXCLUSIVE MODE", x->bq));

	/*
	 * nothing written since that undoing would lose, as dedup.undo() checks
	 * it: every base row's added columns still hold what the extension's
	 * backup holds for it (NULL when it had no row), every row of that
	 * backup still has its base row, and every filled column still holds
	 * what the merge gave it.  Writes to the base's own values are no loss:
	 * they stay.
	 */
	{
		StringInfoData changed;

		initStringInfo(&changed);
		if (x->p->added)
			appendStringInfo(&changed, "(SELECT pg_catalog.count(*) FROM %s b LEFT JOIN %s e ON %s"
							 " WHERE NOT pg_catalog.record_image_eq(ROW(%s), ROW(%s)))",
							 x->bq, beq, key_pairs(x, "b", true, "e", false),
							 dedup_quoted_list_prefixed(x->p->added, "b."),
							 dedup_quoted_list_prefixed(x->p->added, "e."));
		appendStringInfo(&changed, "%s(SELECT pg_catalog.count(*) FROM %s e WHERE NOT EXISTS (SELECT 1 FROM %s b WHERE %s))",
						 changed.len ? " + " : "", beq, x->bq, key_pairs(x, "b", true, "e", false));
		foreach(lc, x->p->filled)
		{
			const char *q = quote_identifier((char *) lfirst(lc));

			appendStringInfo(&changed, " + (SELECT pg_catalog.count(*) FROM %s b JOIN %s bb ON %s LEFT JOIN %s e ON %s"
							 " WHERE NOT pg_catalog.record_image_eq(ROW(b.%s), ROW(CASE WHEN bb.%s IS NULL THEN e.%s ELSE bb.%s END)))",
							 x->bq, bbq, key_pairs(x, "b", true, "bb", true), beq, key_pairs(x, "b", true, "e", false),
							 q, q, q, q);
		}
		appendStringInfo(&b, "  EXECUTE %s INTO _x;\n", lit(psprintf("SELECT %s", changed.data)));
	}
	appendStringInfoString(&b, "  IF _x IS DISTINCT FROM 0 THEN\n");
	raise_changed(&b, s->number, "%s rows of %s differ from its backup %s: they were written since, and undoing the merge would lose that",
				  psprintf("_x, %s, %s", lit(x->eq), lit(beq)), "Copy them aside first, then undo by hand.");
	appendStringInfoString(&b, "  END IF;\n");

	/* the view and what the merge gave the base */
	exec_all(&b, dependent_drops(x->eq));
	exec(&b, psprintf("DROP VIEW %s", x->eq));
	if (x->definer_view)
		exec(&b, psprintf("DROP VIEW %s.%s", x->nsp, quote_identifier(x->definer_view)));
	exec(&b, psprintf("DROP TRIGGER %s ON %s", quote_identifier(x->trigger), x->bq));
	exec(&b, psprintf("DROP FUNCTION %s()", x->fn_insert));
	exec(&b, psprintf("DROP FUNCTION %s()", x->fn_delete));
	foreach(lc, x->triggers)
		exec(&b, psprintf("ALTER TABLE %s DISABLE TRIGGER %s", x->bq, quote_identifier(((char **) lfirst(lc))[0])));
	foreach(lc, x->p->filled)
	{
		const char *q = quote_identifier((char *) lfirst(lc));

		exec_as_owner(&b, psprintf("UPDATE %s b SET %s = NULL FROM %s k WHERE %s AND k.%s IS NULL AND b.%s IS NOT NULL",
								   x->bq, q, bbq, key_pairs(x, "b", true, "k", true), q, q), s->into);
	}
	foreach(lc, x->triggers)
		exec(&b, psprintf("ALTER TABLE %s %s TRIGGER %s", x->bq, ((char **) lfirst(lc))[1],
						  quote_identifier(((char **) lfirst(lc))[0])));
	initStringInfo(&drop);
	foreach(lc, x->p->added)
		appendStringInfo(&drop, "%sDROP COLUMN %s", drop.len ? ", " : "", quote_identifier((char *) lfirst(lc)));
	if (drop.len)
		exec(&b, psprintf("ALTER TABLE %s %s", x->bq, drop.data));
	/* what was carried onto the base and did not go with the columns */
	appendStringInfo(&b, "  FOR _t IN SELECT pg_catalog.format('ALTER TABLE %%s DROP CONSTRAINT %%I', k.conrelid::pg_catalog.regclass, k.conname)"
					 " FROM pg_catalog.pg_constraint k WHERE k.conrelid = %s::pg_catalog.regclass AND k.conname::text <> ALL (%s)"
					 " UNION ALL SELECT pg_catalog.format('DROP INDEX %%s', i.indexrelid::pg_catalog.regclass) FROM pg_catalog.pg_index i"
					 " WHERE i.indrelid = %s::pg_catalog.regclass AND i.indexrelid::pg_catalog.regclass::text <> ALL (%s)"
					 "   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = i.indexrelid) LOOP\n"
					 "    EXECUTE _t;\n  END LOOP;\n",
					 lit(x->bq), text_array_sql(x->base_constraints), lit(x->bq),
					 text_array_sql(x->base_indexes));

	/* the extension, its rows, its dependents */
	exec_all(&b, tree_statements(x->eq));
	exec_as_owner(&b, psprintf("INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s", x->eq, cols, cols, beq), s->relid);
	exec_all(&b, dependent_creates(x->eq));
	notice(&b, s->number, "%s is a table again; %s lost the columns and values it gained",
		   psprintf("%s, %s", lit(x->eq), lit(x->bq)));
	emit_block(sc, s->number, b.data);
}
