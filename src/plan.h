/*-------------------------------------------------------------------------
 *
 * plan.h
 *	  The consolidation plan: what dedup.plan() shows, dedup.apply() runs,
 *	  dedup.plan_sql() writes as plain SQL and dedup.verify() checks.
 *
 * plan.c builds a DedupPlan from the catalog model (dedup.h): for each
 * duplicate group the backups, unpartitions, extension merges, row merges
 * and drops that consolidate it, and what stays with the reason.
 * baseline.c records the state the plan starts from in the journal;
 * apply.c runs the steps; verify.c compares the database with the
 * baseline; report.c renders plan and groups as text; script.c writes the
 * plan and its rollback as SQL that needs no extension.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DEDUP_PLAN_H
#define DEDUP_PLAN_H

#include "postgres.h"

#include "nodes/pg_list.h"
#include "utils/array.h"

#include "dedup.h"
#include "ddl.h"

/* The kinds of step, in the order the plan runs them. */
typedef enum DedupStepKind
{
	DEDUP_STEP_BACKUP,
	DEDUP_STEP_UNPARTITION,
	DEDUP_STEP_MERGE_EXTENSION,
	DEDUP_STEP_MERGE_ROWS,
	DEDUP_STEP_DROP,
	DEDUP_STEP_KEEP,			/* nothing is done: the table stays, and why */
	DEDUP_STEP_VERIFY
} DedupStepKind;

typedef struct DedupStep
{
	int			number;			/* 1..n, in order */
	DedupStepKind kind;
	int			group_id;
	Oid			relid;			/* the table the step acts on (InvalidOid: verify) */
	char	   *target;			/* its quoted qualified name */
	Oid			into;			/* merges: the keeper or base */
	char	   *into_name;
	bool		drop_source;	/* merge_rows: the look-alike goes afterwards */
	char	   *backup_name;	/* backup: its name (unqualified) */
	bool		reused;			/* backup: a fresh journaled backup is there already */
	int64		rows;			/* rows the table holds, as planned (-1 unknown) */
	int64		missing;		/* merge_rows: rows the keeper lacks */
	int64		present;		/* merge_rows: rows already in the keeper */
	int64		conflicts;		/* merge_rows: rows whose key the keeper has with other values */
	List	   *merge_columns;	/* merge_rows: char *, the columns inserted */
	char	   *merge_keymatch; /* merge_rows: k.key = s.key ... */
	char	   *merge_same;		/* merge_rows: the keeper row holds the same values */
	List	   *merge_extra;	/* merge_rows: source columns the keeper has none for */
	int			drop_order;		/* drop: its place in the drop order */
	DedupExtPreview *ext;		/* merge_extension: what it will do */
	char	   *hazard;			/* NULL for a safe step, else the risk */
	char	   *reason;
	char	   *sql;			/* the statement apply() runs for it, or NULL */
} DedupStep;

typedef struct DedupPlan
{
	DedupCatalog *cat;
	ArrayType  *schemas;		/* as given, or NULL */
	char	   *schemas_text;	/* for messages and statements: '{public}' or NULL */
	bool		merge_extensions;
	List	   *steps;			/* DedupStep *, in order */
	List	   *changed;		/* Oid: keepers a step changes (rows, columns, storage) */
} DedupPlan;

/* plan.c */
extern DedupPlan *dedup_build_plan(ArrayType *schemas, bool merge_extensions);
extern const char *dedup_step_action(DedupStepKind kind);
extern bool dedup_plan_changes_something(DedupPlan *plan);
extern char *dedup_schemas_text(ArrayType *schemas);

/* baseline.c */
extern int64 dedup_record_baseline(DedupPlan *plan, const char *by);
extern int64 dedup_latest_baseline(ArrayType *schemas);
extern List *dedup_access_roles(void);
extern bool dedup_count_rows_and_nulls(Oid relid, List *cols, int64 *rows, int64 *nulls);
extern int64 dedup_count_orphans(const char *sql, Oid conrelid, Oid confrelid, char **why);
extern char *dedup_sequences_state(Datum rels);

/* verify.c */
typedef struct DedupCheck
{
	char	   *name;
	char	   *target;
	int			ok;				/* 1 ok, 0 not ok, -1 could not be checked */
	bool		preexisting;	/* not ok, and it was so at the baseline */
	char	   *detail;
} DedupCheck;

extern const char *dedup_orphan_fks_sql;
extern const char *dedup_column_privileges_sql;
extern List *dedup_verify_checks(ArrayType *schemas, int64 baseline);

#endif							/* DEDUP_PLAN_H */
