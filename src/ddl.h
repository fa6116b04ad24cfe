/*-------------------------------------------------------------------------
 *
 * ddl.h
 *	  What the changing functions share: target checks, running SQL through
 *	  SPI, the journal, row fingerprints.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DEDUP_DDL_H
#define DEDUP_DDL_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/array.h"
#include "utils/relcache.h"
#include "fmgr.h"

/*
 * An order-independent fingerprint of a multiset of rows: the row count and
 * two 64-bit sums of 128-bit per-row hashes over the column values
 * (detoasted, so the same values stored differently hash alike).  Fingerprints add up:
 * fp(A + B) = fp(A) + fp(B).
 */
typedef struct DedupFingerprint
{
	int64		rows;
	uint64		h1;
	uint64		h2;
} DedupFingerprint;

/* The columns a fingerprint reads, prepared once per relation. */
typedef struct DedupFpColumn
{
	int			index;			/* attnum - 1 */
	int16		len;			/* attlen */
	bool		byval;
} DedupFpColumn;

typedef struct DedupFpColumns
{
	int			n;
	DedupFpColumn cols[FLEXIBLE_ARRAY_MEMBER];
} DedupFpColumns;

/* action.c: one action, one transaction, one journal entry */
typedef struct DedupAs
{
	Oid			userid;
	int			sec;
	int			nestlevel;
} DedupAs;

typedef struct DedupAction
{
	const char *name;			/* journal action: "backup", "merge_rows", ... */
	int64		id;				/* journal id, reserved when it began */
	int64		parent;			/* the action this is a step of, or 0 */
	int64		undoes;			/* for "undo": the entry reversed */
	List	   *objects;		/* qualified names of the relations touched */
	struct DedupAction *outer;
} DedupAction;

typedef void (*DedupBody) (FunctionCallInfo fcinfo, MemoryContext cxt, void *result);

extern void dedup_become(Oid role, DedupAs *saved);
extern void dedup_unbecome(DedupAs *saved);
extern DedupAction *dedup_action_begin(const char *name);
extern void dedup_action_touch(DedupAction *act, const char *qualname);
extern int64 dedup_action_end(DedupAction *act, const char *target, const char *detail);
extern DedupAction *dedup_current_action(void);
extern void dedup_action_reset(void);
extern void dedup_rethrow_unchanged(MemoryContext cxt);
extern void dedup_call(FunctionCallInfo fcinfo, DedupBody body, void *result);
extern bool dedup_try(void (*fn) (void *), void *arg, char **why);

/* journal.c: written and read only by dedup, as the journal's owner */
typedef struct DedupBackupInfo
{
	Oid			backup;			/* the backup table (journaled OID, name and owner) */
	Oid			source;			/* the table it was taken from, or InvalidOid if gone */
	char	   *source_name;	/* quoted qualified name, as journaled */
	int64		rows;
	char	   *fingerprint;	/* hex, as journaled */
	int64		entry;			/* journal id */
} DedupBackupInfo;

extern int64 dedup_journal_reserve_id(void);
extern int64 dedup_journal_write_row(int64 id, const char *action, const char *target,
									 int64 parent, int64 undoes, List *objects,
									 const char *detail);
extern int64 dedup_journal_write(const char *action, const char *target, const char *detail);
extern List *dedup_journal_rows(const char *sql, int nargs, Oid *types, Datum *values);
extern char *dedup_journal_value(const char *sql, int nargs, Oid *types, Datum *values);
extern char *dedup_journal_field(int64 id, const char *expr);
extern List *dedup_journal_backups(void);
extern DedupBackupInfo *dedup_journal_backup_of(Oid relid);
extern bool dedup_backup_matches(DedupBackupInfo *b);
extern void dedup_json_str(StringInfo buf, const char *key, const char *value);
extern void dedup_json_raw(StringInfo buf, const char *key, const char *json);
extern char *dedup_json_array(List *strings);

/* ddl.c */
extern void dedup_check_target(Oid relid, const char *verb);
extern char *dedup_qualified_name(Oid relid);
extern char *dedup_quoted_list(List *names);
extern Oid	dedup_lookup_relation(const char *qualname);
extern void dedup_exec(const char *sql);
extern char *dedup_query_value(const char *sql, int nargs, Oid *types, Datum *values);
extern char *dedup_query_value_nulls(const char *sql, int nargs, Oid *types, Datum *values,
									 const char *nulls);
extern List *dedup_query_column(const char *sql, int nargs, Oid *types, Datum *values,
								const char *nulls);
extern void dedup_exec_logged(List **log, const char *sql);
extern List *dedup_query_rows(const char *sql, int nargs, Oid *types, Datum *values);
extern void dedup_lock_tree(Oid relid, LOCKMODE mode);
extern void dedup_lock_pair(Oid a, LOCKMODE amode, Oid b, LOCKMODE bmode);

/* fingerprint.c */
extern DedupFpColumns *dedup_fp_columns(TupleDesc desc, AttrNumber *attnums, int n);
extern void dedup_fp_add_row(DedupFingerprint *fp, const DedupFpColumns *cols,
							 Datum *values, bool *isnull);
extern void dedup_fingerprint_relation(Oid relid, List *colnames, DedupFingerprint *fp);
extern char *dedup_fp_hex(const DedupFingerprint *fp);
extern bool dedup_fp_equal(const DedupFingerprint *a, const DedupFingerprint *b);
extern List *dedup_column_names(Oid relid);

/* drop.c: a drop read from the catalogs, then journaled and run */
typedef struct DedupDropPlan
{
	char	   *qual;			/* the table, quoted and qualified */
	char	   *definition;		/* JSON: tables (tree) and dependents */
	List	   *sql;			/* dependents' drops, then DROP TABLE */
	bool		cascade;
} DedupDropPlan;

extern DedupDropPlan *dedup_plan_drop(Oid relid, bool cascade);
extern int64 dedup_execute_drop(DedupDropPlan *plan, bool proven_empty);
extern bool dedup_drop_relation(Oid relid, bool cascade, bool require_empty);

/* backup.c */
extern Oid	dedup_backup_relation(Oid relid, const char *given_name);

/* merge.c */
extern void dedup_merge(Oid source, Oid keeper, ArrayType *given_key, bool drop_source,
						int64 *inserted, int64 *present, int64 *conflicts);

/* undo.c */
extern char *dedup_undo_internal(int64 journal_id);

#endif							/* DEDUP_DDL_H */
