/*-------------------------------------------------------------------------
 *
 * report.c
 *	  dedup.report(): the groups, the plan and what stays, as one text to
 *	  read in psql or the Supabase SQL editor.
 *
 * The plan is the one dedup.plan() makes for the same schemas, with the
 * merge_extensions of the latest plan recorded for them (false when none):
 * plan -> report shows what was planned.  It changes nothing and records
 * nothing.
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
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "dedup.h"
#include "ddl.h"
#include "plan.h"

PG_FUNCTION_INFO_V1(dedup_report);

static char *
rows_text(DedupTable *t)
{
	if (t->unknown_reason != DEDUP_KNOWN)
		return pstrdup("? rows");
	return psprintf(INT64_FORMAT " row%s", t->nrows, t->nrows == 1 ? "" : "s");
}

/* "name" padded to width (names are ASCII-quoted identifiers or UTF-8) */
static void
append_padded(StringInfo buf, const char *s, int width)
{
	int			len = pg_mbstrlen(s);

	appendStringInfoString(buf, s);
	while (len++ < width)
		appendStringInfoChar(buf, ' ');
}

/* The merge_extensions of the latest plan recorded for these schemas. */
static bool
planned_merge_extensions(ArrayType *schemas)
{
	int64		id = dedup_latest_baseline(schemas);
	char	   *v;

	if (id == 0)
		return false;
	v = dedup_journal_field(id, "j.detail->>'merge_extensions'");
	return v && strcmp(v, "true") == 0;
}

static char *
build_report(ArrayType *schemas)
{
	bool		merge_extensions = planned_merge_extensions(schemas);
	DedupPlan  *plan = dedup_build_plan(schemas, merge_extensions);
	DedupCatalog *cat = plan->cat;
	StringInfoData r;
	ListCell   *lc;
	int		   *idx;
	int			n;
	int			i;
	int			width = 0;
	int			counts[DEDUP_STEP_VERIFY + 1] = {0};
	int			nhazards = 0;

	foreach(lc, plan->steps)
	{
		DedupStep  *s = (DedupStep *) lfirst(lc);

		counts[s->kind]++;
		if (s->hazard)
			nhazards++;
		width = Max(width, pg_mbstrlen(s->target));
	}
	idx = dedup_group_members(cat, &n);
	for (i = 0; i < n; i++)
		width = Max(width, pg_mbstrlen(cat->tables[idx[i]].qualname));

	initStringInfo(&r);
	appendStringInfo(&r, "dedup report for database %s, %s\n",
					 quote_identifier(get_database_name(MyDatabaseId)),
					 plan->schemas_text ? psprintf("schemas %s", plan->schemas_text) : "all user schemas");
	{
		static const char *const names[][2] = {
			{"backup", "backups"}, {"unpartition", "unpartitions"},
			{"extension merge", "extension merges"}, {"row merge", "row merges"}, {"drop", "drops"}};
		StringInfoData what;
		int			k;

		initStringInfo(&what);
		for (k = DEDUP_STEP_BACKUP; k <= DEDUP_STEP_DROP; k++)
			if (counts[k] > 0)
				appendStringInfo(&what, "%s%d %s", what.len ? ", " : "", counts[k], names[k][counts[k] == 1 ? 0 : 1]);
		appendStringInfo(&r, "plan (merge_extensions => %s): %d step%s: %s; %d table%s stay%s%s\n",
						 merge_extensions ? "true" : "false", list_length(plan->steps),
						 list_length(plan->steps) == 1 ? "" : "s", what.len ? what.data : "nothing to change",
						 counts[DEDUP_STEP_KEEP], counts[DEDUP_STEP_KEEP] == 1 ? "" : "s",
						 counts[DEDUP_STEP_KEEP] == 1 ? "s" : "",
						 nhazards ? psprintf(", %d with a hazard", nhazards) : "");
	}

	/* the groups */
	appendStringInfo(&r, "\nDuplicate groups (%d)\n", cat->ngroups);
	for (i = 0; i < n; i++)
	{
		DedupTable *t = &cat->tables[idx[i]];

		CHECK_FOR_INTERRUPTS();
		if (t->role == DEDUP_ROLE_KEEPER)
		{
			appendStringInfo(&r, "  group %d: keeper %s, %s%s\n", t->group_id, t->qualname, rows_text(t),
							 t->relkind == RELKIND_PARTITIONED_TABLE ? ", partitioned" : "");
			if (cat->group_unclear[t->group_id])
				appendStringInfo(&r, "    keeper not clear-cut: %s\n", cat->group_unclear[t->group_id]);
			continue;
		}
		appendStringInfoString(&r, "    ");
		append_padded(&r, t->qualname, width);
		appendStringInfo(&r, "  %-9s  %-6s  %12s  %s\n", dedup_role_name(t->role),
						 t->strength == DEDUP_STRENGTH_NONE ? "" : dedup_strength_name(t->strength),
						 t->role == DEDUP_ROLE_BACKUP ? "" : rows_text(t),
						 t->role == DEDUP_ROLE_BACKUP ? "a backup: kept" : t->verdict ? t->verdict : "");
	}

	/* the steps that change something */
	appendStringInfoString(&r, "\nPlanned steps\n");
	foreach(lc, plan->steps)
	{
		DedupStep  *s = (DedupStep *) lfirst(lc);

		if (s->kind == DEDUP_STEP_KEEP)
			continue;
		appendStringInfo(&r, "  %4d  %-15s  ", s->number, dedup_step_action(s->kind));
		append_padded(&r, s->target, width);
		appendStringInfo(&r, "  %s%s%s\n", s->hazard ? psprintf("[%s] ", s->hazard) : "",
						 s->reason ? s->reason : "",
						 s->kind == DEDUP_STEP_BACKUP ? psprintf(" -> %s", s->backup_name) : "");
	}

	/* what stays */
	appendStringInfoString(&r, "\nWhat stays, and why\n");
	if (counts[DEDUP_STEP_KEEP] == 0)
		appendStringInfoString(&r, "  nothing: every member of every group is consolidated\n");
	foreach(lc, plan->steps)
	{
		DedupStep  *s = (DedupStep *) lfirst(lc);

		if (s->kind != DEDUP_STEP_KEEP)
			continue;
		appendStringInfo(&r, "  %4d  ", s->number);
		append_padded(&r, s->target, width);
		appendStringInfo(&r, "  %s%s\n", s->hazard ? psprintf("[%s] ", s->hazard) : "", s->reason);
	}

	{
		char	   *args = psprintf("%s%s%s", plan->schemas_text ? quote_literal_cstr(plan->schemas_text) : "",
									plan->schemas_text && merge_extensions ? ", " : "",
									merge_extensions ? "merge_extensions => true" : "");

		appendStringInfo(&r, "\nNext: BEGIN; SELECT * FROM dedup.apply(%s); SELECT * FROM dedup.verify(%s) WHERE ok IS NOT TRUE; COMMIT;\n",
						 args, plan->schemas_text ? quote_literal_cstr(plan->schemas_text) : "");
		appendStringInfo(&r, "Without the extension (hosted Supabase): SELECT dedup.plan_sql(%s); and keep SELECT dedup.rollback_sql(%s);\n",
						 args, args);
	}
	return r.data;
}

/*
 * dedup.report(schemas name[] DEFAULT NULL) RETURNS text
 *
 *	 SELECT dedup.report();
 */
Datum
dedup_report(PG_FUNCTION_ARGS)
{
	ArrayType  *schemas = PG_ARGISNULL(0) ? NULL : PG_GETARG_ARRAYTYPE_P(0);
	MemoryContext cxt = CurrentMemoryContext;
	char	   *text;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "dedup: SPI_connect failed");
	text = MemoryContextStrdup(cxt, build_report(schemas));
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(text));
}
