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
extern void dedup_action_cancel(DedupAction *act);

/*
 * Rows one statement wrote: its transaction (or subtransaction), which the
 * rows carry as xmin until someone changes them, and how many.
 */
typedef struct DedupRows
{
	uint64		xid;			/* FullTransactionId */
	int64		count;
} DedupRows;

extern void dedup_write_rows(const char *stmt, Oid as, DedupRows *rows);
extern void dedup_rows_json(StringInfo buf, const char *key, const char *table, DedupRows *rows);

/* access.c: who can read and write what, role by role */
extern char *dedup_accept_access_change;
extern List *dedup_access_rows_gain(Oid from, Oid into);
extern List *dedup_access_extension_change(Oid base, Oid ext, List *own_cols, List *shared_filled,
										   List *key_cols, bool compat_view, List **grants);
extern void dedup_access_refuse(const char *what, List *changes);

/* sequences.c: sequences stay ahead of their columns */
typedef struct DedupSequence
{
	Oid			seq;
	char	   *qual;
	Oid			table;
	char	   *column;
	int64		increment;
	int64		last_value;		/* as found, after the lock */
	bool		is_called;
	int64		edge;			/* max (min) of the column afterwards */
	bool		advanced;
	int64		new_value;
} DedupSequence;

extern List *dedup_lock_sequences(Oid relid);
extern void dedup_advance_sequences(List *seqs, Oid owner, List **sql);
extern char *dedup_sequences_json(List *seqs);

/* journal.c: written and read only by dedup, as the journal's owner */
typedef struct DedupBackupInfo
{
	Oid			backup;			/* the backup table (journaled OID, name and owner) */
	Oid			source;			/* the table it was taken from, or InvalidOid if gone */
	Oid			source_oid;		/* that table's OID, as journaled */
	char	   *source_name;	/* quoted qualified name, as journaled */
	char	   *owner;			/* owner of the table and the backup, as journaled */
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
extern void dedup_check_readable(Oid relid);
extern void dedup_check_mergeable(Oid relid);
extern Oid	dedup_check_same_owner(Oid source, Oid keeper);
extern int	list_position_str(List *list, const char *str);
extern Oid	dedup_rel_owner(Oid relid);
extern char *dedup_collation_name(Oid collid);
extern char *dedup_derived_name(const char *a, const char *b, const char *suffix);
extern char *dedup_qualified_name(Oid relid);
extern char *dedup_set_acl_sql(const char *qualname, const char *acl, const char *kind);
extern char *dedup_quoted_list(List *names);
extern char *dedup_quoted_list_prefixed(List *names, const char *prefix);
extern Oid	dedup_lookup_relation(const char *qualname);
extern int64 dedup_exec(const char *sql);
extern int64 dedup_exec_as(const char *sql, Oid as);
extern char *dedup_query_value(const char *sql, int nargs, Oid *types, Datum *values);
extern char *dedup_query_value_nulls(const char *sql, int nargs, Oid *types, Datum *values,
									 const char *nulls);
extern List *dedup_query_column(const char *sql, int nargs, Oid *types, Datum *values,
								const char *nulls);
extern void dedup_exec_logged(List **log, const char *sql);
extern List *dedup_query_rows(const char *sql, int nargs, Oid *types, Datum *values);
extern List *dedup_query_rows_as(const char *sql, Oid as, int nargs, Oid *types, Datum *values);
extern bool dedup_may_read_all(Oid relid);
extern void dedup_require_read_all(Oid relid);
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
extern int64 dedup_execute_drop(DedupDropPlan *plan, bool proven_empty, int64 rows_backup);
extern int64 dedup_drop_relation(Oid relid, bool cascade, bool require_empty, int64 rows_backup);

/* swap.c: a table's rows rebuilt beside it and swapped in */
typedef struct DedupRebuild
{
	Oid			table;
	Oid			transient;		/* the new heap: the table's columns, plus added ones */
	char	   *transientq;		/* its quoted qualified name */
	List	   *pairs;			/* Oid pairs: an index of the table, its copy */
	List	   *reindex;		/* Oid: indexes rebuilt after the swap */
	bool		kept_stamps;	/* rows kept their xmin: the table keeps its relfrozenxid */
} DedupRebuild;

extern DedupRebuild *dedup_rebuild_begin(Oid table, List *added);
extern void dedup_rebuild_indexes(DedupRebuild *rb);
extern void dedup_rebuild_swap(DedupRebuild *rb, List **sql);
extern void dedup_constraint_set_valid(Oid relid, const char *conname);

/* undo.c */
extern char **dedup_step(const char *sql, const char *run_as);
extern void dedup_run_steps(int64 id, List *steps, List **sql);
#define DEDUP_REPLAY_CREATE 1		/* the tables, empty, without constraints or indexes */
#define DEDUP_REPLAY_BUILD 4		/* their constraints, indexes and the rest */
#define DEDUP_REPLAY_TABLES (DEDUP_REPLAY_CREATE | DEDUP_REPLAY_BUILD)
#define DEDUP_REPLAY_DEPENDENTS 2
extern void dedup_replay_drop(int64 id, int what, List **sql);
extern TransactionId dedup_rows_xid(uint64 xid, const char *table);
extern int64 dedup_rows_differ(const char *a, const char *b, Oid as);
extern void dedup_undo_sequences(int64 id, const char *key, List **sql);
extern void dedup_undo_children(int64 id, List **sql);
extern void dedup_undo_children_upto(int64 id, int64 last, List **sql);
extern char *dedup_undo_entry(int64 id, List **sql);

/* merge_extension.c */
typedef struct DedupExtResult
{
	List	   *added;
	int64		merged;
	int64		conflicts;
	int			repointed;
} DedupExtResult;

extern void dedup_merge_extension_run(Oid base, Oid ext, const char *on_conflict,
									  bool compat_view, bool backup, DedupExtResult *res);

/* What a merge_extension would do, from its checks alone (dedup.plan) */
typedef struct DedupExtPreview
{
	List	   *added;			/* char *: the extension's own columns, added to the base */
	List	   *definitions;	/* char *: "name type [COLLATE c]" of each, in order */
	List	   *defaults;		/* char *: the default of each, or NULL */
	List	   *comments;		/* char *: the comment of each, or NULL */
	List	   *shared;			/* char *: columns both tables have */
	List	   *filled;			/* char *: shared columns whose base NULLs get values */
	List	   *base_key;		/* char *: the base's key columns ... */
	List	   *ext_key;		/* ... and the extension's, pairwise */
	List	   *ext_columns;	/* char *: every column of the extension, in order */
	List	   *carry;			/* char *: statements carrying its constraints and indexes */
	List	   *repoint;		/* char *: foreign keys into it, pointing at the base */
	List	   *repoint_names;
	List	   *validate;		/* char *: VALIDATE CONSTRAINT of what carry and repoint add NOT VALID */
	List	   *grants;			/* char *: column grants that keep access as it was */
	int64		rows;
} DedupExtPreview;

extern void dedup_merge_extension_preview(Oid base, Oid ext, DedupExtPreview *out);

/* discovery for the changing functions (grouping.c) */
extern List *dedup_group_duplicates(Oid keeper);
extern bool dedup_named_like_backup(const char *relname);

/* merge_extension.c, unpartition.c: their undo */
extern char *dedup_undo_merge_extension(int64 id, List **sql);
extern char *dedup_undo_unpartition(int64 id, List **sql);
extern Oid	dedup_unpartition_run(Oid parent, bool absorb_lookalikes);
extern List *dedup_unpartition_refusals(Oid parent);

/* backup.c */
extern char *dedup_backup_suffix;
extern Oid	dedup_backup_relation(Oid relid, const char *given_name, int64 *entry);
extern int64 dedup_restore(Oid bakid, Oid target);
extern int64 dedup_backup_entry(Oid relid);
extern char *dedup_backup_name_planned(Oid relid, bool *reused);

/* merge.c */
extern void dedup_merge(Oid source, Oid keeper, ArrayType *given_key, bool drop_source,
						int64 *inserted, int64 *present, int64 *conflicts);
extern List *dedup_merge_key(Oid keeper);
extern char *dedup_equality_operator(Oid typid, const char *column);
extern void dedup_unmerge(int64 id, List **sql);

/* undo.c */
extern char *dedup_undo_internal(int64 journal_id);

#endif							/* DEDUP_DDL_H */
