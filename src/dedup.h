/*-------------------------------------------------------------------------
 *
 * dedup.h
 *	  The catalog model shared by every capability of dedup.
 *
 * catalog.c loads a DedupCatalog (tables, columns, keys, foreign keys,
 * dependents) through SPI in a few set-oriented queries; naming.c parses
 * table names into a stem plus affixes; grouping.c forms the duplicate
 * groups, picks keepers and plans drops; emptiness.c decides, by reading
 * the table under a lock, whether rows exist.  The SQL-callable functions
 * (inventory.c, discovery.c) only format what the model holds.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DEDUP_H
#define DEDUP_H

#include "postgres.h"

#include "nodes/pg_list.h"
#include "storage/lockdefs.h"
#include "utils/array.h"

/* Result of reading a table: rows present, absent, or not knowable by us. */
#define DEDUP_ROWS_UNKNOWN	(-1)

/* Why a row count could not be taken (DedupTable.unknown_reason). */
typedef enum DedupUnknown
{
	DEDUP_KNOWN = 0,
	DEDUP_NO_PRIVILEGE,			/* caller lacks SELECT */
	DEDUP_RLS,					/* row level security filters the caller */
	DEDUP_OTHER_TEMP,			/* temporary table of another session */
	DEDUP_GONE,					/* dropped while we looked */
	DEDUP_FOREIGN				/* a partition or child is a foreign table */
} DedupUnknown;

typedef enum DedupRole
{
	DEDUP_ROLE_NONE = 0,
	DEDUP_ROLE_KEEPER,
	DEDUP_ROLE_DUPLICATE,
	DEDUP_ROLE_EXTENSION,
	DEDUP_ROLE_BACKUP
} DedupRole;

/* How strongly a member is shown to be a copy of its keeper (README). */
typedef enum DedupStrength
{
	DEDUP_STRENGTH_NONE = 0,	/* keepers and extensions */
	DEDUP_STRENGTH_WEAK,
	DEDUP_STRENGTH_MEDIUM,
	DEDUP_STRENGTH_STRONG
} DedupStrength;

/* What a name's affixes say (DedupTable.affixes, bits; naming.c). */
#define DEDUP_AFFIX_LEFTOVER	0x01	/* _old _copy _tmp _orig _prev ..., old_ tmp_ */
#define DEDUP_AFFIX_DATE		0x02	/* _2026_01, _20260118 ... */
#define DEDUP_AFFIX_BACKUP		0x04	/* _backup _bak _bkp, backup_ bak_ */
#define DEDUP_AFFIX_AMBIGUOUS	0x08	/* _new _archive: may be the live one */
#define DEDUP_AFFIX_VERSION		0x10	/* _v2, v3_ */
#define DEDUP_AFFIX_NUMBER		0x20	/* a bare copy number: t2, t_2 (set when joined) */
#define DEDUP_AFFIX_FIRST		0x40	/* _v1, v1_, v0_: the first generation */
/* affixes that say "this is a copy left behind" */
#define DEDUP_AFFIX_EXPLICIT	(DEDUP_AFFIX_LEFTOVER | DEDUP_AFFIX_DATE | \
								 DEDUP_AFFIX_BACKUP | DEDUP_AFFIX_FIRST)

/* One foreign key (top-level constraint only; partition clones are skipped). */
typedef struct DedupFk
{
	Oid			conoid;
	char	   *conname;
	Oid			from;			/* referencing table */
	Oid			to;				/* referenced table */
	bool		pk_to_pk;		/* from's primary key references to's primary key */
} DedupFk;

/* Something other than a foreign key that depends on a table. */
typedef struct DedupDependent
{
	Oid			relid;			/* the view, or the table carrying the rule */
	char		relkind;
	char	   *phrase;			/* e.g. view public.member_names */
} DedupDependent;

typedef struct DedupTable
{
	/* from the catalog */
	Oid			relid;
	char	   *nspname;
	char	   *relname;
	char	   *qualname;		/* quoted, schema-qualified */
	int			name_rank;		/* position in (schema, name) byte order */
	char		relkind;		/* RELKIND_RELATION or RELKIND_PARTITIONED_TABLE */
	bool		ispartition;
	Oid			parent;			/* pg_inherits parent, or InvalidOid */
	bool		rls_enabled;
	Oid			owner;
	double		reltuples;		/* a hint only; -1 when never analyzed */
	int16		relnatts;
	int			ncols;			/* -1 until dedup_load_columns() */
	char	  **cols;			/* column names in attnum order */
	Oid		   *coltypes;
	int16	   *colnums;		/* their attnums */
	int			npkatts;		/* primary key attnums, from the catalog */
	int16	   *pkatts;
	int			npk;			/* -1 until dedup_load_pk() */
	char	  **pk;				/* primary key columns in key order */
	int			npolicies;
	int			ntriggers;
	int64		total_bytes;	/* only when loaded with sizes */
	List	   *referenced_by;	/* DedupFk *, from other tables */
	List	   *references;		/* DedupFk *, to other tables */
	List	   *dependents;		/* DedupDependent *: views and rules */
	List	   *children;		/* Oid: partitions and inheritance children */
	List	   *publications;	/* char *: publications naming the table */

	/* from the name (naming.c) */
	bool		eligible;		/* may join a duplicate group */
	char	   *lowername;
	char	   *stem;			/* name less date/leftover/version affixes */
	int			affixes;		/* DEDUP_AFFIX_* bits */
	int			number_len;		/* length of a bare copy number ending the stem */
	List	   *name_evidence;	/* char *: one phrase per affix */
	char	   *ormkey;			/* stem without underscores and plural ending */

	/* from grouping (grouping.c) */
	int			uf;				/* union-find parent (index) */
	int			group_id;		/* 0 when in no group */
	DedupRole	role;
	int			extends;		/* index of the table whose PK our PK references, or -1 */
	bool		orm_twin;		/* its name is an ORM twin of another member's */
	bool		drifted;		/* joined as a leftover whose columns drifted (weak) */
	int			nextensions;	/* tables of its schema whose PK references its PK */
	struct DedupBackupInfo *journaled;	/* taken by dedup.backup_table, or NULL */
	bool		is_backup;		/* journaled, or named as a backup */
	float4		similarity;		/* column-name similarity to the keeper */
	DedupStrength strength;		/* of being a copy of the keeper */
	List	   *evidence;		/* char *: why this table is in its group */
	char	   *verdict;

	/* signs of current use (usage.c), for group members */
	bool		in_use;
	List	   *use;			/* char *: each sign of use */
	List	   *mentions;		/* char *: what depends on it or on what it owns */
	int64		scans;			/* seq + index scans recorded, -1 unknown */
	char	   *last_read;		/* timestamp text (16+), or NULL */

	/* from reading the table (emptiness.c), filled on demand */
	bool		probed;
	bool		counted;
	DedupUnknown unknown_reason;
	int64		nrows;			/* exact when counted, else 0 or 1 (has rows) */

	/* drop plan (grouping.c) */
	bool		safe_to_drop;
	int			drop_order;		/* 1..n among safe drops, 0 when not safe */
	List	   *blockers;		/* char * */
} DedupTable;

typedef struct DedupCatalog
{
	MemoryContext cxt;			/* where the model lives */
	int			ntables;
	DedupTable *tables;			/* sorted by relid */
	int			ngroups;
	int		   *group_keeper;	/* [1..ngroups]: index of each group's keeper */
	char	  **group_unclear;	/* [1..ngroups]: why the keeper is not clear-cut, or NULL */
	char	   *stats_since;	/* when the statistics were last reset, or NULL */
	bool		stats_off;		/* track_counts is off: no statistics */
} DedupCatalog;

/*
 * Which tables a scan covers, as a condition on pg_namespace n and pg_class
 * c, with $1 the name[] the caller gave: the tables of those schemas, or when
 * $1 is NULL, every user schema.  That leaves out pg_catalog, pg_toast and
 * temp schemas (all "pg_*"), information_schema, dedup's own schema,
 * extension-owned tables, and the schemas Supabase manages.  Every scan of
 * dedup (discovery, duplicate objects) uses this one condition.
 */
#define DEDUP_MANAGED_SCHEMAS \
	"'auth','storage','realtime','_realtime','vault','graphql'," \
	"'graphql_public','extensions','pgsodium','pgsodium_masks'," \
	"'supabase_functions','supabase_migrations','net','cron'," \
	"'pgbouncer','_analytics'"

#define DEDUP_SCAN_FILTER \
"CASE WHEN $1 IS NULL THEN" \
"  n.nspname OPERATOR(pg_catalog.<>) ALL (ARRAY[" DEDUP_MANAGED_SCHEMAS "]::pg_catalog.name[])" \
"  AND n.nspname::pg_catalog.text NOT LIKE 'pg\\_%'" \
"  AND n.nspname OPERATOR(pg_catalog.<>) 'information_schema'" \
"  AND n.oid NOT IN (SELECT e.extnamespace FROM pg_catalog.pg_extension e" \
"                     WHERE e.extname OPERATOR(pg_catalog.=) 'dedup')" \
"  AND c.oid NOT IN (SELECT d.objid FROM pg_catalog.pg_depend d" \
"                     WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass" \
"                       AND d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass" \
"                       AND d.deptype OPERATOR(pg_catalog.=) 'e')" \
"  ELSE n.nspname OPERATOR(pg_catalog.=) ANY ($1) END"

/* catalog.c */
struct SPITupleTable;
extern struct SPITupleTable *dedup_catalog_query(const char *sql, int nargs, Oid *argtypes,
												 Datum *values, const char *nulls);
extern DedupCatalog *dedup_load_catalog(ArrayType *schemas, bool with_sizes);
extern int	dedup_catalog_settings(void);
extern DedupTable *dedup_find_table(DedupCatalog *cat, Oid relid);
extern int	dedup_table_index(DedupCatalog *cat, Oid relid);
extern void dedup_load_columns(DedupCatalog *cat, DedupTable *t);
extern void dedup_load_columns_of(DedupCatalog *cat, int *idx, int n);
extern void dedup_load_pk(DedupCatalog *cat, DedupTable *t);

/* usage.c */
extern void dedup_load_usage(DedupCatalog *cat, int *idx, int n);
extern int	dedup_quiet_stats_begin(DedupCatalog *cat);
extern void dedup_quiet_stats_end(int nestlevel);

/* naming.c */
extern void dedup_parse_name(DedupTable *t);
extern char *dedup_orm_key(const char *name, int len);

/* grouping.c */
extern void dedup_build_groups(DedupCatalog *cat, bool exact_counts);
extern void dedup_plan_drops(DedupCatalog *cat);
extern float4 dedup_column_similarity(DedupCatalog *cat, DedupTable *a, DedupTable *b);
extern const char *dedup_role_name(DedupRole role);
extern const char *dedup_strength_name(DedupStrength s);
extern bool dedup_compare_rows(DedupTable *d, DedupTable *k, int64 *missing, int64 *conflicts);
extern void dedup_sort_by_name(DedupCatalog *cat, int *idx, int n);

/* emptiness.c */
extern int64 dedup_count_rows(Oid relid, LOCKMODE lockmode, bool release,
							  int64 limit, bool check_access,
							  DedupUnknown *why);
extern void dedup_probe_table(DedupTable *t, bool exact);
extern const char *dedup_unknown_phrase(DedupUnknown why);

/* discovery.c */
extern int *dedup_group_members(DedupCatalog *cat, int *n);

/* dedup.c */
extern Datum dedup_oid_array(List *oids);
extern Datum dedup_text_array(List *strings);
extern Datum dedup_name_array(char **names, int n);

#endif							/* DEDUP_H */
