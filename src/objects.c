/*-------------------------------------------------------------------------
 *
 * objects.c
 *	  Duplicate schema objects and drift: indexes, constraints, policies and
 *	  triggers that repeat another one of the same table, and how two
 *	  look-alike tables differ.
 *
 *	 dedup.duplicate_indexes()      identical and prefix indexes; invalid ones
 *	 dedup.duplicate_constraints()  one constraint under two names
 *	 dedup.duplicate_policies()     identical and overlapping permissive policies
 *	 dedup.duplicate_triggers()     one trigger under two names
 *	 dedup.compare_tables()         what differs between two tables
 *
 * All of them only read.  Each kind of object is loaded with one catalog
 * query through SPI (the schema filter shared with discovery, every value a
 * $n parameter) and compared in C from catalog fields: an index column by
 * column (attribute or expression tree, operator class, collation, options),
 * a trigger by type bits, function, arguments, columns and WHEN tree.
 * Constraints and policies are compared by their normalized definitions,
 * which name no object of their own.  Deparsed definitions are shown, never
 * edited; every drop_sql is built from names.
 *
 * Which object of a group is kept: the one the database leans on (the
 * primary key's index, an index a constraint owns or a foreign key uses, the
 * replica identity, a partition's copy of its parent's object, a trigger a
 * constraint owns), else the older (lower OID), else the shorter name.  The
 * queries return each table's objects in that order, so the first object of
 * a group is its keeper.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_am_d.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "nodes/primnodes.h"
#include "storage/lockdefs.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"

#include "compat.h"
#include "dedup.h"
#include "ddl.h"

PG_FUNCTION_INFO_V1(dedup_duplicate_indexes);
PG_FUNCTION_INFO_V1(dedup_duplicate_constraints);
PG_FUNCTION_INFO_V1(dedup_duplicate_policies);
PG_FUNCTION_INFO_V1(dedup_duplicate_triggers);
PG_FUNCTION_INFO_V1(dedup_compare_tables);

/*
 * What every kind of object has; the first member of each kind's struct.
 * rank orders a table's objects keeper first: > 0 means the database leans
 * on it (dedup never suggests dropping it), and inherited objects (a
 * partition's or child's copy) are never reported at all: their parent's
 * object is.
 */
typedef struct DupObject
{
	Oid			oid;
	Oid			relid;
	char	   *name;
	char	   *nspname;		/* the table's schema (the object's too) */
	char	   *qualtable;		/* the table, quoted and qualified */
	int			rank;
	bool		inherited;
	int			dup_of;			/* index of the object it repeats, or -1 */
} DupObject;

/* The leading columns of every object query, in this order. */
#define OBJ_COLS 7

typedef struct IndexObj
{
	DupObject	obj;
	char	   *def;			/* pg_get_indexdef, shown by compare_tables */
	char		contype;		/* 'p', 'u' or 'x' when a constraint owns it, else 0 */
	Oid			am;
	char		relkind;
	bool		valid;
	bool		building;		/* CREATE INDEX CONCURRENTLY still under way */
	bool		unique;
	bool		nulls_not_distinct;
	bool		immediate;
	bool		mappable;		/* every column exists on the table compared with */
	int			nkey;
	int			natts;
	int16	   *keys;			/* natts attnums, 0 for an expression */
	Oid		   *opclass;		/* nkey each */
	Oid		   *collation;
	int16	   *options;
	List	   *exprs;
	Node	   *pred;
	int64		bytes;
	int			prefix_of;		/* index of the longer index it is a prefix of, or -1 */
} IndexObj;

typedef struct ConstraintObj
{
	DupObject	obj;
	char		contype;
	char	   *def;			/* pg_get_constraintdef */
} ConstraintObj;

typedef struct PolicyObj
{
	DupObject	obj;
	char		cmd;			/* polcmd: r a w d or * */
	bool		permissive;
	int			nroles;
	Oid		   *roles;			/* 0 is PUBLIC */
	char	   *def;			/* POLICY_DEF: command, type, roles, USING, WITH CHECK */
	Oid			owner;
	bool		forced;			/* FORCE ROW LEVEL SECURITY */
} PolicyObj;

typedef struct TriggerObj
{
	DupObject	obj;
	char	   *def;			/* pg_get_triggerdef */
	int16		type;
	Oid			func;
	char		enabled;
	int			ncols;
	int16	   *cols;			/* sorted */
	bytea	   *args;
	Node	   *qual;
	bool		deferrable;
	bool		deferred;
	char	   *oldtable;
	char	   *newtable;
	bool		mappable;
} TriggerObj;

/* An expression rewritten from one table's columns to another's. */
typedef struct RemapContext
{
	Oid			from;
	Oid			to;
	bool		ok;
} RemapContext;

typedef bool (*SameFn) (DupObject *a, DupObject *b);
typedef void (*FillFn) (DupObject *o, HeapTuple tup, TupleDesc desc);
typedef char *(*TextFn) (DupObject *o);

/* reading catalog rows, matching */
static Datum col_datum(HeapTuple tup, TupleDesc desc, int col, bool *isnull);
static char *col_text(HeapTuple tup, TupleDesc desc, int col);
static bool col_bool(HeapTuple tup, TupleDesc desc, int col);
static Node *col_node(HeapTuple tup, TupleDesc desc, int col);
static void *col_vector(HeapTuple tup, TupleDesc desc, int col, int *n, bool is_oid);
static void load_object(DupObject *o, HeapTuple tup, TupleDesc desc);
static DupObject **load_objects(const char *sql, int nargs, Oid *types, Datum *values,
								const char *nulls, Size size, FillFn fill, int *n);
static void match_repeats(DupObject **objs, int n, SameFn same);
static DupObject **scan_objects(FunctionCallInfo fcinfo, const char *sql, Size size,
								FillFn fill, SameFn same, int *n);
static Datum name_datum(const char *s);
static Datum text_or_null(const char *s, bool *isnull);
static void put_repeats(ReturnSetInfo *rsinfo, DupObject **objs, int n, TextFn definition,
						TextFn drop);

/* expressions */
static bool exprs_equal(Node *a, Node *b);
static AttrNumber remap_attnum(AttrNumber attnum, Oid from, Oid to, bool *ok);
static Node *remap_vars_mutator(Node *node, RemapContext *cxt);
static Node *remap_vars(Node *node, Oid from, Oid to, bool *ok);

/* indexes */
static void fill_index(DupObject *o, HeapTuple tup, TupleDesc desc);
static Node *index_expr(IndexObj *x, int k);
static bool same_key_column(IndexObj *a, int ka, IndexObj *b, int kb);
static bool index_has_column(IndexObj *x, int from, int16 attnum);
static bool same_index(DupObject *oa, DupObject *ob);
static bool same_valid_index(DupObject *a, DupObject *b);
static bool index_covers(IndexObj *longer, IndexObj *shorter);
static void match_prefixes(DupObject **objs, int n);

/* constraints */
static void fill_constraint(DupObject *o, HeapTuple tup, TupleDesc desc);
static bool same_constraint(DupObject *oa, DupObject *ob);
static char *constraint_definition(DupObject *o);
static char *constraint_drop(DupObject *o);

/* policies */
static List *load_rls_roles(void);
static void fill_policy(DupObject *o, HeapTuple tup, TupleDesc desc);
static bool same_policy(DupObject *a, DupObject *b);
static bool policy_names_role(PolicyObj *p, Oid role);
static bool policy_reaches(PolicyObj *p, Oid r);
static const char *command_phrase(char cmd);
static void append_role(StringInfo buf, Oid role);
static char *policy_overlap(PolicyObj *p, PolicyObj *q, List *rls_roles);

/* triggers */
static int	cmp_int16(const void *a, const void *b);
static void fill_trigger(DupObject *o, HeapTuple tup, TupleDesc desc);
static bool same_string(const char *a, const char *b);
static bool same_trigger(DupObject *oa, DupObject *ob);
static char *trigger_definition(DupObject *o);
static char *trigger_drop(DupObject *o);

/* compare_tables */
static void put_compare_rows(ReturnSetInfo *rsinfo, const char *sql, Datum *args);
static void map_index_to(IndexObj *x, Oid to);
static void map_trigger_to(TriggerObj *t, Oid to);
static void put_unmatched(ReturnSetInfo *rsinfo, const char *type, DupObject **as, int na,
						  DupObject **bs, int nb, SameFn same, TextFn shown);
static char *index_definition(DupObject *o);
static int	without_constraint_indexes(DupObject **objs, int n);
static bool same_index_and_validity(DupObject *a, DupObject *b);

/* ------------------------------------------------------------------------
 * Reading catalog rows
 * ------------------------------------------------------------------------
 */

static Datum
col_datum(HeapTuple tup, TupleDesc desc, int col, bool *isnull)
{
	return SPI_getbinval(tup, desc, col, isnull);
}

static char *
col_text(HeapTuple tup, TupleDesc desc, int col)
{
	return SPI_getvalue(tup, desc, col);
}

static bool
col_bool(HeapTuple tup, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = col_datum(tup, desc, col, &isnull);

	return !isnull && DatumGetBool(d);
}

/* An expression stored as pg_node_tree, or NULL. */
static Node *
col_node(HeapTuple tup, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = col_datum(tup, desc, col, &isnull);

	return isnull ? NULL : (Node *) stringToNode(TextDatumGetCString(d));
}

/* An int2vector or oidvector column, copied: *n receives its length. */
static void *
col_vector(HeapTuple tup, TupleDesc desc, int col, int *n, bool is_oid)
{
	bool		isnull;
	Datum		d = col_datum(tup, desc, col, &isnull);
	void	   *out;

	*n = 0;
	if (isnull)
		return palloc(sizeof(Oid));
	if (is_oid)
	{
		oidvector  *v = (oidvector *) PG_DETOAST_DATUM(d);

		*n = v->dim1;
		out = palloc(sizeof(Oid) * Max(*n, 1));
		memcpy(out, v->values, sizeof(Oid) * *n);
	}
	else
	{
		int2vector *v = (int2vector *) PG_DETOAST_DATUM(d);

		*n = v->dim1;
		out = palloc(sizeof(int16) * Max(*n, 1));
		memcpy(out, v->values, sizeof(int16) * *n);
	}
	return out;
}

/* Columns 1..OBJ_COLS: oid, table oid, name, schema, table name, rank, inherited. */
static void
load_object(DupObject *o, HeapTuple tup, TupleDesc desc)
{
	bool		isnull;

	o->oid = DatumGetObjectId(col_datum(tup, desc, 1, &isnull));
	o->relid = DatumGetObjectId(col_datum(tup, desc, 2, &isnull));
	o->name = col_text(tup, desc, 3);
	o->nspname = col_text(tup, desc, 4);
	o->qualtable = quote_qualified_identifier(o->nspname, col_text(tup, desc, 5));
	o->rank = DatumGetInt32(col_datum(tup, desc, 6, &isnull));
	o->inherited = col_bool(tup, desc, 7);
	o->dup_of = -1;
}

/*
 * Run an object query (the caller is connected to SPI) and build one object
 * of the given size per row with fill().
 */
static DupObject **
load_objects(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls,
			 Size size, FillFn fill, int *n)
{
	SPITupleTable *tt = dedup_catalog_query(sql, nargs, types, values, nulls);
	DupObject **objs = palloc(sizeof(DupObject *) * Max(tt->numvals, 1));
	uint64		i;

	for (i = 0; i < tt->numvals; i++)
	{
		CHECK_FOR_INTERRUPTS();
		objs[i] = palloc0(size);
		load_object(objs[i], tt->vals[i], tt->tupdesc);
		fill(objs[i], tt->vals[i], tt->tupdesc);
	}
	*n = (int) tt->numvals;
	return objs;
}

/*
 * Mark each object that repeats an earlier one of its table.  Objects come
 * sorted by table and, within a table, keeper first; so the first earlier
 * object an object matches that repeats nothing itself is the keeper of its
 * group, and every repeat points at that keeper.
 */
static void
match_repeats(DupObject **objs, int n, SameFn same)
{
	int			start = 0;
	int			i,
				j;

	for (i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (i > 0 && objs[i]->relid != objs[i - 1]->relid)
			start = i;
		for (j = start; j < i; j++)
		{
			if (objs[j]->dup_of < 0 && same(objs[j], objs[i]))
			{
				objs[i]->dup_of = j;
				break;
			}
		}
	}
}

/*
 * What the four duplicate_* functions start with: the result set, then the
 * objects of the schemas in argument 0 (NULL: every user schema), matched.
 * The caller is left connected to SPI and calls SPI_finish() when done.
 */
static DupObject **
scan_objects(FunctionCallInfo fcinfo, const char *sql, Size size,
			 FillFn fill, SameFn same, int *n)
{
	Oid			types[1] = {NAMEARRAYOID};
	Datum		values[1];
	char		nulls[1];
	DupObject **objs;

	dedup_init_srf(fcinfo);
	values[0] = PG_ARGISNULL(0) ? (Datum) 0 : PG_GETARG_DATUM(0);
	nulls[0] = PG_ARGISNULL(0) ? 'n' : ' ';
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "dedup: SPI_connect failed");
	objs = load_objects(sql, 1, types, values, nulls, size, fill, n);
	match_repeats(objs, *n, same);
	return objs;
}

static Datum
name_datum(const char *s)
{
	Name		nm = palloc0(NAMEDATALEN);

	namestrcpy(nm, s);
	return NameGetDatum(nm);
}

static Datum
text_or_null(const char *s, bool *isnull)
{
	*isnull = (s == NULL);
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

/*
 * The rows of duplicate_constraints and duplicate_triggers: (tbl, name,
 * duplicate_of, definition, drop_sql) for each repeat, except a
 * partition's or child's copy of its parent's.  drop() gives the statement
 * that drops it, or NULL where dedup does not suggest the drop.
 */
static void
put_repeats(ReturnSetInfo *rsinfo, DupObject **objs, int n, TextFn definition,
			TextFn drop)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		DupObject  *o = objs[i];
		Datum		values[5];
		bool		nulls[5] = {0};

		CHECK_FOR_INTERRUPTS();
		if (o->dup_of < 0 || o->inherited)
			continue;
		values[0] = ObjectIdGetDatum(o->relid);
		values[1] = name_datum(o->name);
		values[2] = name_datum(objs[o->dup_of]->name);
		values[3] = text_or_null(definition(o), &nulls[3]);
		values[4] = text_or_null(drop(o), &nulls[4]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/* ------------------------------------------------------------------------
 * Expressions
 * ------------------------------------------------------------------------
 */

/* Two stored expressions (or both none) are the same tree; locations aside. */
static bool
exprs_equal(Node *a, Node *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return equal(a, b);
}

/*
 * The attribute number of the column named like from's attnum in to, or
 * clears *ok when to has no such column.  System columns keep theirs.
 */
static AttrNumber
remap_attnum(AttrNumber attnum, Oid from, Oid to, bool *ok)
{
	char	   *name;
	AttrNumber	mapped;

	if (attnum <= 0 || from == to)
		return attnum;
	name = get_attname(from, attnum, true);
	mapped = name ? get_attnum(to, name) : InvalidAttrNumber;
	if (mapped == InvalidAttrNumber)
		*ok = false;
	return mapped;
}

static Node *
remap_vars_mutator(Node *node, RemapContext *cxt)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Var) && ((Var *) node)->varlevelsup == 0)
	{
		Var		   *v = (Var *) copyObject(node);

		v->varattno = remap_attnum(v->varattno, cxt->from, cxt->to, &cxt->ok);
		v->varattnosyn = v->varattno;
		return (Node *) v;
	}
	return expression_tree_mutator(node, remap_vars_mutator, (void *) cxt);
}

/*
 * An expression over table from (an index expression or predicate, a
 * trigger's WHEN) rewritten over table to, column by column name, so that
 * two tables whose columns sit at different positions compare by meaning.
 * Clears *ok when to lacks a column the expression reads.
 */
static Node *
remap_vars(Node *node, Oid from, Oid to, bool *ok)
{
	RemapContext cxt;

	if (node == NULL || from == to)
		return node;
	cxt.from = from;
	cxt.to = to;
	cxt.ok = true;
	node = remap_vars_mutator(node, &cxt);
	if (!cxt.ok)
		*ok = false;
	return node;
}

/* ------------------------------------------------------------------------
 * Indexes
 * ------------------------------------------------------------------------
 */

/*
 * Every index of the tables in scope (materialized views too, as Supabase's
 * duplicate_index lint has them).  rank: 3 the primary key's index; 2 an
 * index a constraint owns, or a partition's index attached to its parent's;
 * 1 an index a foreign key uses, or the replica identity; 0 otherwise.
 */
#define INDEX_QUERY(where) \
"SELECT i.indexrelid, i.indrelid, ic.relname, n.nspname, c.relname," \
"       CASE WHEN i.indisprimary THEN 3" \
"            WHEN h.inhrelid IS NOT NULL OR k.oid IS NOT NULL THEN 2" \
"            WHEN i.indisreplident OR EXISTS (" \
"                   SELECT 1 FROM pg_catalog.pg_constraint f" \
"                    WHERE f.contype OPERATOR(pg_catalog.=) 'f'" \
"                      AND f.conindid OPERATOR(pg_catalog.=) i.indexrelid) THEN 1" \
"            ELSE 0 END," \
"       h.inhrelid IS NOT NULL," \
"       pg_catalog.pg_get_indexdef(i.indexrelid), k.contype, ic.relam, ic.relkind," \
"       i.indisvalid AND i.indisready AND i.indislive," \
"       EXISTS (SELECT 1 FROM pg_catalog.pg_stat_progress_create_index p" \
"                WHERE p.index_relid OPERATOR(pg_catalog.=) i.indexrelid)," \
"       i.indisunique, i.indnullsnotdistinct, i.indimmediate, i.indnkeyatts," \
"       i.indkey, i.indclass, i.indcollation, i.indoption, i.indexprs, i.indpred," \
"       CASE WHEN ic.relkind OPERATOR(pg_catalog.=) 'I' THEN" \
"              (SELECT COALESCE(pg_catalog.sum(pg_catalog.pg_relation_size(t.relid)), 0)::pg_catalog.int8" \
"                 FROM pg_catalog.pg_partition_tree(i.indexrelid) t)" \
"            ELSE pg_catalog.pg_relation_size(i.indexrelid) END" \
"  FROM pg_catalog.pg_index i" \
"  JOIN pg_catalog.pg_class ic ON ic.oid OPERATOR(pg_catalog.=) i.indexrelid" \
"  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.indrelid" \
"  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace" \
"  LEFT JOIN pg_catalog.pg_inherits h ON h.inhrelid OPERATOR(pg_catalog.=) i.indexrelid" \
"  LEFT JOIN pg_catalog.pg_constraint k ON k.conindid OPERATOR(pg_catalog.=) i.indexrelid" \
"        AND k.conrelid OPERATOR(pg_catalog.=) i.indrelid AND k.contype IN ('p', 'u', 'x')" \
" WHERE c.relkind IN ('r', 'p', 'm') AND " where \
" ORDER BY n.nspname, c.relname, 6 DESC, i.indexrelid, pg_catalog.octet_length(ic.relname)"

static void
fill_index(DupObject *o, HeapTuple tup, TupleDesc desc)
{
	IndexObj   *x = (IndexObj *) o;
	bool		isnull;
	Datum		d;
	int			n;
	int			c = OBJ_COLS;
	Node	   *exprs;

	x->def = col_text(tup, desc, ++c);
	d = col_datum(tup, desc, ++c, &isnull);
	x->contype = isnull ? 0 : DatumGetChar(d);
	x->am = DatumGetObjectId(col_datum(tup, desc, ++c, &isnull));
	x->relkind = DatumGetChar(col_datum(tup, desc, ++c, &isnull));
	x->valid = col_bool(tup, desc, ++c);
	x->building = col_bool(tup, desc, ++c);
	x->unique = col_bool(tup, desc, ++c);
	x->nulls_not_distinct = col_bool(tup, desc, ++c);
	x->immediate = col_bool(tup, desc, ++c);
	x->nkey = DatumGetInt16(col_datum(tup, desc, ++c, &isnull));
	x->keys = col_vector(tup, desc, ++c, &x->natts, false);
	x->opclass = col_vector(tup, desc, ++c, &n, true);
	x->collation = col_vector(tup, desc, ++c, &n, true);
	x->options = col_vector(tup, desc, ++c, &n, false);
	exprs = col_node(tup, desc, ++c);
	x->exprs = (List *) exprs;
	x->pred = col_node(tup, desc, ++c);
	x->bytes = DatumGetInt64(col_datum(tup, desc, ++c, &isnull));
	x->mappable = true;
	x->prefix_of = -1;
}

/* The expression of key column k (whose attnum is 0). */
static Node *
index_expr(IndexObj *x, int k)
{
	int			nth = 0;
	int			i;

	for (i = 0; i < k; i++)
		if (x->keys[i] == 0)
			nth++;
	return (Node *) list_nth(x->exprs, nth);
}

/* Key column ka of a and kb of b: same column or expression, opclass, collation, order. */
static bool
same_key_column(IndexObj *a, int ka, IndexObj *b, int kb)
{
	if (a->keys[ka] != b->keys[kb] || a->opclass[ka] != b->opclass[kb] ||
		a->collation[ka] != b->collation[kb] || a->options[ka] != b->options[kb])
		return false;
	return a->keys[ka] != 0 || equal(index_expr(a, ka), index_expr(b, kb));
}

/* Is attnum one of x's columns from position from on? */
static bool
index_has_column(IndexObj *x, int from, int16 attnum)
{
	int			i;

	for (i = from; i < x->natts; i++)
		if (x->keys[i] == attnum)
			return true;
	return false;
}

/*
 * Identical as indexes: access method, key columns in order (each with its
 * operator class, collation and options), INCLUDE columns (in any order),
 * predicate, uniqueness (with NULLS NOT DISTINCT and deferrability).  Two
 * exclusion constraints' indexes are left to duplicate_constraints: their
 * operators may differ.  Validity is the caller's business.
 */
static bool
same_index(DupObject *oa, DupObject *ob)
{
	IndexObj   *a = (IndexObj *) oa;
	IndexObj   *b = (IndexObj *) ob;
	int			i;

	if (!a->mappable || !b->mappable || a->am != b->am || a->nkey != b->nkey ||
		a->natts != b->natts || a->unique != b->unique ||
		(a->unique && a->nulls_not_distinct != b->nulls_not_distinct) ||
		a->immediate != b->immediate || (a->contype == 'x' && b->contype == 'x'))
		return false;
	for (i = 0; i < a->nkey; i++)
		if (!same_key_column(a, i, b, i))
			return false;
	for (i = a->nkey; i < a->natts; i++)
		if (!index_has_column(b, b->nkey, a->keys[i]))
			return false;
	return exprs_equal(a->pred, b->pred);
}

/*
 * A non-unique btree whose key columns lead another valid btree's, with the
 * same predicate, and whose INCLUDE columns the other holds too: the longer
 * index answers every query the shorter one does.
 */
static bool
index_covers(IndexObj *longer, IndexObj *shorter)
{
	int			i;

	if (longer->am != BTREE_AM_OID || shorter->am != BTREE_AM_OID ||
		!longer->valid || shorter->unique || shorter->nkey >= longer->nkey ||
		!exprs_equal(shorter->pred, longer->pred))
		return false;
	for (i = 0; i < shorter->nkey; i++)
		if (!same_key_column(shorter, i, longer, i))
			return false;
	for (i = shorter->nkey; i < shorter->natts; i++)
		if (!index_has_column(longer, 0, shorter->keys[i]))
			return false;
	return true;
}

static bool
same_valid_index(DupObject *a, DupObject *b)
{
	return ((IndexObj *) a)->valid && ((IndexObj *) b)->valid && same_index(a, b);
}

/*
 * Point every droppable index that is a prefix of a longer one at the
 * longest such index of its table (which is never itself a prefix of
 * another, nor a repeat: its keeper would be as long).
 */
static void
match_prefixes(DupObject **objs, int n)
{
	int			start = 0;
	int			end;
	int			i,
				j;

	while (start < n)
	{
		for (end = start; end < n && objs[end]->relid == objs[start]->relid; end++)
			;
		for (i = start; i < end; i++)
		{
			IndexObj   *x = (IndexObj *) objs[i];

			CHECK_FOR_INTERRUPTS();
			if (!x->valid || x->obj.dup_of >= 0 || x->obj.rank > 0)
				continue;
			for (j = start; j < end; j++)
			{
				IndexObj   *y = (IndexObj *) objs[j];

				if (j != i && y->obj.dup_of < 0 && index_covers(y, x) &&
					(x->prefix_of < 0 || y->nkey > ((IndexObj *) objs[x->prefix_of])->nkey))
					x->prefix_of = j;
			}
		}
		start = end;
	}
}

/*
 * dedup.duplicate_indexes(schemas name[] DEFAULT NULL) RETURNS TABLE (
 *	 tbl regclass, index regclass, duplicate_of regclass,
 *	 kind text, index_bytes bigint, drop_sql text)
 *
 *	 SELECT index, duplicate_of, kind, drop_sql FROM dedup.duplicate_indexes();
 *
 * kind is 'identical', 'prefix' (the index's keys lead duplicate_of's), or
 * 'invalid' (a failed CREATE INDEX CONCURRENTLY; duplicate_of is NULL).
 * drop_sql is NULL where dedup does not suggest the drop: the index is
 * behind a constraint, a foreign key uses it, or it is the replica identity.
 */
Datum
dedup_duplicate_indexes(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			n;
	int			i;
	DupObject **objs = scan_objects(fcinfo, INDEX_QUERY(DEDUP_SCAN_FILTER),
									sizeof(IndexObj), fill_index, same_valid_index, &n);

	match_prefixes(objs, n);
	for (i = 0; i < n; i++)
	{
		IndexObj   *x = (IndexObj *) objs[i];
		Datum		values[6];
		bool		nulls[6] = {0};
		const char *kind;
		int			of;

		CHECK_FOR_INTERRUPTS();
		if (x->obj.inherited)
			continue;
		if (!x->valid)
		{
			/* a build under way, or a partitioned index awaiting its partitions */
			if (x->building || x->relkind == RELKIND_PARTITIONED_INDEX || x->obj.rank > 0)
				continue;
			kind = "invalid";
			of = -1;
		}
		else if (x->obj.dup_of >= 0)
		{
			kind = "identical";
			of = x->obj.dup_of;
		}
		else if (x->prefix_of >= 0)
		{
			kind = "prefix";
			of = x->prefix_of;
		}
		else
			continue;

		values[0] = ObjectIdGetDatum(x->obj.relid);
		values[1] = ObjectIdGetDatum(x->obj.oid);
		if (of >= 0)
			values[2] = ObjectIdGetDatum(objs[of]->oid);
		else
			nulls[2] = true;
		values[3] = CStringGetTextDatum(kind);
		values[4] = Int64GetDatum(x->bytes);
		if (x->obj.rank > 0)
			nulls[5] = true;
		else
			values[5] = CStringGetTextDatum(psprintf("DROP INDEX %s",
													 quote_qualified_identifier(x->obj.nspname,
																				x->obj.name)));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

/* ------------------------------------------------------------------------
 * Constraints
 * ------------------------------------------------------------------------
 */

/*
 * Check, foreign key, unique, primary key and exclusion constraints.  rank:
 * 2 inherited (from a parent table or a partitioned table's constraint);
 * 1 a unique or primary key constraint whose index a foreign key uses.
 */
static const char *constraints_sql =
"SELECT k.oid, k.conrelid, k.conname, n.nspname, c.relname,"
"       CASE WHEN k.coninhcount OPERATOR(pg_catalog.>) 0 OR NOT k.conislocal"
"                 OR k.conparentid OPERATOR(pg_catalog.<>) 0 THEN 2"
"            WHEN k.contype IN ('p', 'u') AND EXISTS ("
"                   SELECT 1 FROM pg_catalog.pg_constraint f"
"                    WHERE f.contype OPERATOR(pg_catalog.=) 'f'"
"                      AND f.conindid OPERATOR(pg_catalog.=) k.conindid) THEN 1"
"            ELSE 0 END,"
"       k.coninhcount OPERATOR(pg_catalog.>) 0 OR NOT k.conislocal"
"         OR k.conparentid OPERATOR(pg_catalog.<>) 0,"
"       k.contype, pg_catalog.pg_get_constraintdef(k.oid)"
"  FROM pg_catalog.pg_constraint k"
"  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) k.conrelid"
"  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
" WHERE c.relkind IN ('r', 'p') AND k.contype IN ('c', 'f', 'u', 'p', 'x')"
"   AND " DEDUP_SCAN_FILTER
" ORDER BY n.nspname, c.relname, 6 DESC, k.oid, pg_catalog.octet_length(k.conname)";

static void
fill_constraint(DupObject *o, HeapTuple tup, TupleDesc desc)
{
	ConstraintObj *k = (ConstraintObj *) o;
	bool		isnull;

	k->contype = DatumGetChar(col_datum(tup, desc, OBJ_COLS + 1, &isnull));
	k->def = col_text(tup, desc, OBJ_COLS + 2);
}

/*
 * The same type and normalized definition: for a foreign key that includes
 * the referenced table and columns, MATCH, actions, deferrability and NOT
 * VALID.
 */
static bool
same_constraint(DupObject *oa, DupObject *ob)
{
	ConstraintObj *a = (ConstraintObj *) oa;
	ConstraintObj *b = (ConstraintObj *) ob;

	return a->contype == b->contype && a->def && b->def && strcmp(a->def, b->def) == 0;
}

static char *
constraint_definition(DupObject *o)
{
	return ((ConstraintObj *) o)->def;
}

/* NULL for a constraint whose index a foreign key uses */
static char *
constraint_drop(DupObject *o)
{
	if (o->rank > 0)
		return NULL;
	return psprintf("ALTER TABLE %s DROP CONSTRAINT %s", o->qualtable, quote_identifier(o->name));
}

/*
 * dedup.duplicate_constraints(schemas name[] DEFAULT NULL) RETURNS TABLE (
 *	 tbl regclass, constraint_name name, duplicate_of name, definition text,
 *	 drop_sql text)
 *
 *	 SELECT tbl, constraint_name, duplicate_of, drop_sql FROM dedup.duplicate_constraints();
 *
 * drop_sql is NULL when a foreign key uses the duplicate's index.
 */
Datum
dedup_duplicate_constraints(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			n;
	DupObject **objs = scan_objects(fcinfo, constraints_sql, sizeof(ConstraintObj),
									fill_constraint, same_constraint, &n);

	put_repeats(rsinfo, objs, n, constraint_definition, constraint_drop);
	SPI_finish();
	return (Datum) 0;
}

/* ------------------------------------------------------------------------
 * Policies
 * ------------------------------------------------------------------------
 */

/*
 * A policy's definition without its name or table: type, command, roles (in
 * name order), USING and WITH CHECK.  Two policies with the same one are
 * identical, on one table or on two.
 */
#define POLICY_DEF(p) \
"pg_catalog.format('AS %s FOR %s TO %s%s%s'," \
"  CASE WHEN " p ".polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END," \
"  CASE " p ".polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'" \
"                    WHEN 'd' THEN 'DELETE' ELSE 'ALL' END," \
"  (SELECT pg_catalog.string_agg(x.r, ', ' ORDER BY x.r)" \
"     FROM (SELECT CASE WHEN r OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'" \
"                  ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(r)) END" \
"             FROM pg_catalog.unnest(" p ".polroles) r) x(r))," \
"  ' USING (' OPERATOR(pg_catalog.||) pg_catalog.pg_get_expr(" p ".polqual, " p ".polrelid)" \
"    OPERATOR(pg_catalog.||) ')'," \
"  ' WITH CHECK (' OPERATOR(pg_catalog.||) pg_catalog.pg_get_expr(" p ".polwithcheck, " p ".polrelid)" \
"    OPERATOR(pg_catalog.||) ')')"

static const char *policies_sql =
"SELECT p.oid, p.polrelid, p.polname, n.nspname, c.relname, 0, false,"
"       p.polcmd, p.polpermissive, p.polroles, " POLICY_DEF("p") ","
"       c.relowner, c.relforcerowsecurity"
"  FROM pg_catalog.pg_policy p"
"  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) p.polrelid"
"  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
" WHERE c.relkind IN ('r', 'p') AND " DEDUP_SCAN_FILTER
" ORDER BY n.nspname, c.relname, p.oid, pg_catalog.octet_length(p.polname)";

/* Roles row level security applies to (not superusers, not BYPASSRLS). */
static const char *rls_roles_sql =
"SELECT r.oid FROM pg_catalog.pg_roles r"
" WHERE NOT r.rolsuper AND NOT r.rolbypassrls"
"   AND r.rolname::pg_catalog.text NOT LIKE 'pg\\_%'"
" ORDER BY r.rolname";

/* The roles of rls_roles_sql, as a List of Oids. */
static List *
load_rls_roles(void)
{
	SPITupleTable *tt = dedup_catalog_query(rls_roles_sql, 0, NULL, NULL, NULL);
	List	   *roles = NIL;
	uint64		i;
	bool		isnull;

	for (i = 0; i < tt->numvals; i++)
		roles = lappend_oid(roles, DatumGetObjectId(col_datum(tt->vals[i], tt->tupdesc, 1, &isnull)));
	return roles;
}

static void
fill_policy(DupObject *o, HeapTuple tup, TupleDesc desc)
{
	PolicyObj  *p = (PolicyObj *) o;
	bool		isnull;
	Datum	   *elems;
	int			i;

	p->cmd = DatumGetChar(col_datum(tup, desc, OBJ_COLS + 1, &isnull));
	p->permissive = col_bool(tup, desc, OBJ_COLS + 2);
	deconstruct_array(DatumGetArrayTypeP(col_datum(tup, desc, OBJ_COLS + 3, &isnull)),
					  OIDOID, sizeof(Oid), true, TYPALIGN_INT, &elems, NULL, &p->nroles);
	p->roles = palloc(sizeof(Oid) * Max(p->nroles, 1));
	for (i = 0; i < p->nroles; i++)
		p->roles[i] = DatumGetObjectId(elems[i]);
	p->def = col_text(tup, desc, OBJ_COLS + 4);
	p->owner = DatumGetObjectId(col_datum(tup, desc, OBJ_COLS + 5, &isnull));
	p->forced = col_bool(tup, desc, OBJ_COLS + 6);
}

static bool
same_policy(DupObject *a, DupObject *b)
{
	return strcmp(((PolicyObj *) a)->def, ((PolicyObj *) b)->def) == 0;
}

static bool
policy_names_role(PolicyObj *p, Oid role)
{
	int			i;

	for (i = 0; i < p->nroles; i++)
		if (p->roles[i] == role)
			return true;
	return false;
}

/* Does p apply to role r, directly or through r's membership? */
static bool
policy_reaches(PolicyObj *p, Oid r)
{
	int			i;

	for (i = 0; i < p->nroles; i++)
		if (p->roles[i] == ACL_ID_PUBLIC || has_privs_of_role(r, p->roles[i]))
			return true;
	return false;
}

static const char *
command_phrase(char cmd)
{
	switch (cmd)
	{
		case 'r':
			return "SELECT";
		case 'a':
			return "INSERT";
		case 'w':
			return "UPDATE";
		case 'd':
			return "DELETE";
		default:
			return "every command";
	}
}

static void
append_role(StringInfo buf, Oid role)
{
	char	   *name = GetUserNameFromId(role, true);

	appendStringInfo(buf, "%s%s", buf->len ? ", " : "",
					 name ? quote_identifier(name) : psprintf("role %u", role));
}

/*
 * When two permissive policies of one table apply to one role for one
 * command, the phrase saying to which roles (else NULL).
 *
 * A policy applies to PUBLIC's every role, to the roles it names, and to
 * every role that has the privileges of one it names (INHERIT membership,
 * as PostgreSQL decides).  Only roles row level security can apply to count:
 * not superusers, not BYPASSRLS (rls_roles, in name order).  Two policies
 * both TO PUBLIC overlap for PUBLIC.  Otherwise the roles that one of them
 * names and both reach are listed; then the roles that neither names but
 * both reach through membership, unless a listed role already implies them,
 * or they are the table's owner or a member of it (row level security does
 * not apply to the owner unless the table forces it).
 */
static char *
policy_overlap(PolicyObj *p, PolicyObj *q, List *rls_roles)
{
	StringInfoData roles;
	List	   *named = NIL;
	char		cmd;
	ListCell   *lc,
			   *lc2;

	if (!p->permissive || !q->permissive)
		return NULL;
	if (p->cmd != q->cmd && p->cmd != '*' && q->cmd != '*')
		return NULL;
	cmd = p->cmd == '*' ? q->cmd : p->cmd;

	initStringInfo(&roles);
	if (policy_names_role(p, ACL_ID_PUBLIC) && policy_names_role(q, ACL_ID_PUBLIC))
		appendStringInfoString(&roles, "PUBLIC");
	else
	{
		foreach(lc, rls_roles)
		{
			Oid			r = lfirst_oid(lc);

			if ((policy_names_role(p, r) || policy_names_role(q, r)) &&
				policy_reaches(p, r) && policy_reaches(q, r))
			{
				named = lappend_oid(named, r);
				append_role(&roles, r);
			}
		}
		foreach(lc, rls_roles)
		{
			Oid			r = lfirst_oid(lc);
			bool		implied = false;

			if (list_member_oid(named, r) || !policy_reaches(p, r) || !policy_reaches(q, r) ||
				(!p->forced && has_privs_of_role(r, p->owner)))
				continue;
			foreach(lc2, named)
				implied = implied || has_privs_of_role(r, lfirst_oid(lc2));
			if (implied)
				continue;
			append_role(&roles, r);
			appendStringInfoString(&roles, " (through membership)");
		}
	}
	if (roles.len == 0)
		return NULL;
	return psprintf("both apply to %s for %s; PostgreSQL combines permissive policies with OR, "
					"so a row is allowed when either one allows it",
					command_phrase(cmd), roles.data);
}

/*
 * dedup.duplicate_policies(schemas name[] DEFAULT NULL) RETURNS TABLE (
 *	 tbl regclass, policy name, duplicate_of name, kind text, detail text,
 *	 drop_sql text)
 *
 *	 SELECT tbl, policy, duplicate_of, kind, detail FROM dedup.duplicate_policies();
 *
 * 'identical': the same type, command, roles, USING and WITH CHECK.
 * 'overlapping permissive': two permissive policies that apply to one role
 * for one command; drop_sql is NULL, as merging them can change who sees
 * what.  One row per pair, the later policy first.
 */
Datum
dedup_duplicate_policies(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			n;
	int			i,
				j;
	int			start = 0;
	DupObject **objs = scan_objects(fcinfo, policies_sql, sizeof(PolicyObj),
									fill_policy, same_policy, &n);
	List	   *rls_roles = load_rls_roles();

	for (i = 0; i < n; i++)
	{
		PolicyObj  *p = (PolicyObj *) objs[i];
		Datum		values[6];
		bool		nulls[6] = {0};

		CHECK_FOR_INTERRUPTS();
		if (i > 0 && objs[i]->relid != objs[i - 1]->relid)
			start = i;
		values[0] = ObjectIdGetDatum(p->obj.relid);
		values[1] = name_datum(p->obj.name);
		if (p->obj.dup_of >= 0)
		{
			values[2] = name_datum(objs[p->obj.dup_of]->name);
			values[3] = CStringGetTextDatum("identical");
			values[4] = CStringGetTextDatum(psprintf("both are %s", p->def));
			values[5] = CStringGetTextDatum(psprintf("DROP POLICY %s ON %s",
													 quote_identifier(p->obj.name),
													 p->obj.qualtable));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			continue;
		}
		for (j = start; j < i; j++)
		{
			char	   *detail;

			if (objs[j]->dup_of >= 0 ||
				(detail = policy_overlap((PolicyObj *) objs[j], p, rls_roles)) == NULL)
				continue;
			values[2] = name_datum(objs[j]->name);
			values[3] = CStringGetTextDatum("overlapping permissive");
			values[4] = CStringGetTextDatum(detail);
			nulls[5] = true;
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	SPI_finish();
	return (Datum) 0;
}

/* ------------------------------------------------------------------------
 * Triggers
 * ------------------------------------------------------------------------
 */

/*
 * User triggers (not the ones PostgreSQL makes for foreign keys).  rank:
 * 2 a partition's clone of its parent's trigger; 1 a constraint trigger.
 */
#define TRIGGER_QUERY(where) \
"SELECT t.oid, t.tgrelid, t.tgname, n.nspname, c.relname," \
"       CASE WHEN t.tgparentid OPERATOR(pg_catalog.<>) 0 THEN 2" \
"            WHEN t.tgconstraint OPERATOR(pg_catalog.<>) 0 THEN 1 ELSE 0 END," \
"       t.tgparentid OPERATOR(pg_catalog.<>) 0," \
"       pg_catalog.pg_get_triggerdef(t.oid), t.tgtype, t.tgfoid, t.tgenabled," \
"       t.tgattr, t.tgargs, t.tgqual, t.tgdeferrable, t.tginitdeferred," \
"       t.tgoldtable, t.tgnewtable" \
"  FROM pg_catalog.pg_trigger t" \
"  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) t.tgrelid" \
"  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace" \
" WHERE NOT t.tgisinternal AND c.relkind IN ('r', 'p') AND " where \
" ORDER BY n.nspname, c.relname, 6 DESC, t.oid, pg_catalog.octet_length(t.tgname)"

static int
cmp_int16(const void *a, const void *b)
{
	return *(const int16 *) a - *(const int16 *) b;
}

static void
fill_trigger(DupObject *o, HeapTuple tup, TupleDesc desc)
{
	TriggerObj *t = (TriggerObj *) o;
	bool		isnull;
	Datum		d;
	int			c = OBJ_COLS;

	t->def = col_text(tup, desc, ++c);
	t->type = DatumGetInt16(col_datum(tup, desc, ++c, &isnull));
	t->func = DatumGetObjectId(col_datum(tup, desc, ++c, &isnull));
	t->enabled = DatumGetChar(col_datum(tup, desc, ++c, &isnull));
	t->cols = col_vector(tup, desc, ++c, &t->ncols, false);
	qsort(t->cols, t->ncols, sizeof(int16), cmp_int16);
	d = col_datum(tup, desc, ++c, &isnull);
	t->args = isnull ? (bytea *) cstring_to_text("") : DatumGetByteaPCopy(d);
	t->qual = col_node(tup, desc, ++c);
	t->deferrable = col_bool(tup, desc, ++c);
	t->deferred = col_bool(tup, desc, ++c);
	t->oldtable = col_text(tup, desc, ++c);
	t->newtable = col_text(tup, desc, ++c);
	t->mappable = true;
}

static bool
same_string(const char *a, const char *b)
{
	return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}

/*
 * The same timing, events, level, columns, WHEN, function and arguments,
 * enabled state, deferrability and transition table names.  A disabled copy
 * of an enabled trigger is not a repeat: dropping either changes what runs.
 */
static bool
same_trigger(DupObject *oa, DupObject *ob)
{
	TriggerObj *a = (TriggerObj *) oa;
	TriggerObj *b = (TriggerObj *) ob;

	return a->mappable && b->mappable && a->type == b->type && a->func == b->func &&
		a->enabled == b->enabled && a->deferrable == b->deferrable &&
		a->deferred == b->deferred && a->ncols == b->ncols &&
		memcmp(a->cols, b->cols, sizeof(int16) * a->ncols) == 0 &&
		VARSIZE_ANY_EXHDR(a->args) == VARSIZE_ANY_EXHDR(b->args) &&
		memcmp(VARDATA_ANY(a->args), VARDATA_ANY(b->args), VARSIZE_ANY_EXHDR(a->args)) == 0 &&
		same_string(a->oldtable, b->oldtable) && same_string(a->newtable, b->newtable) &&
		exprs_equal(a->qual, b->qual);
}

static char *
trigger_definition(DupObject *o)
{
	return ((TriggerObj *) o)->def;
}

static char *
trigger_drop(DupObject *o)
{
	return psprintf("DROP TRIGGER %s ON %s", quote_identifier(o->name), o->qualtable);
}

/*
 * dedup.duplicate_triggers(schemas name[] DEFAULT NULL) RETURNS TABLE (
 *	 tbl regclass, trigger_name name, duplicate_of name, definition text,
 *	 drop_sql text)
 *
 *	 SELECT tbl, trigger_name, duplicate_of, drop_sql FROM dedup.duplicate_triggers();
 */
Datum
dedup_duplicate_triggers(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			n;
	DupObject **objs = scan_objects(fcinfo, TRIGGER_QUERY(DEDUP_SCAN_FILTER),
									sizeof(TriggerObj), fill_trigger, same_trigger, &n);

	put_repeats(rsinfo, objs, n, trigger_definition, trigger_drop);
	SPI_finish();
	return (Datum) 0;
}

/* ------------------------------------------------------------------------
 * compare_tables
 * ------------------------------------------------------------------------
 */

/* The two tables as rows (side, rel); $1 is a, $2 is b. */
#define SIDES "(VALUES ('a', $1::pg_catalog.oid), ('b', $2::pg_catalog.oid)) s(side, rel)"

/*
 * Columns: one row for a column only one table has, else one per property
 * that differs.  Collations are compared where both types have one (else
 * the type differs already); a definition shows COLLATE only where it is not
 * the type's own.
 */
static const char *compare_columns_sql =
"WITH col AS ("
"  SELECT s.side, a.attname, a.attnum,"
"         pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,"
"         CASE WHEN a.attgenerated OPERATOR(pg_catalog.=) '' THEN"
"           pg_catalog.pg_get_expr(d.adbin, d.adrelid) END AS def,"
"         CASE WHEN a.attnotnull THEN 'NOT NULL' ELSE 'NULL' END AS nullable,"
"         CASE WHEN co.oid IS NOT NULL THEN"
"           pg_catalog.format('%I.%I', cn.nspname, co.collname) END AS coll,"
"         a.attcollation OPERATOR(pg_catalog.<>) t.typcollation AS own_coll,"
"         CASE a.attidentity WHEN 'a' THEN 'GENERATED ALWAYS AS IDENTITY'"
"                            WHEN 'd' THEN 'GENERATED BY DEFAULT AS IDENTITY' END AS ident,"
"         CASE WHEN a.attgenerated OPERATOR(pg_catalog.=) 's' THEN"
"           pg_catalog.format('GENERATED ALWAYS AS (%s) STORED',"
"                             pg_catalog.pg_get_expr(d.adbin, d.adrelid)) END AS gen"
"    FROM " SIDES
"    JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) s.rel"
"     AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped"
"    JOIN pg_catalog.pg_type t ON t.oid OPERATOR(pg_catalog.=) a.atttypid"
"    LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid OPERATOR(pg_catalog.=) a.attrelid"
"     AND d.adnum OPERATOR(pg_catalog.=) a.attnum"
"    LEFT JOIN pg_catalog.pg_collation co ON co.oid OPERATOR(pg_catalog.=) a.attcollation"
"    LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid OPERATOR(pg_catalog.=) co.collnamespace),"
"shown AS ("
"  SELECT col.*, pg_catalog.concat_ws(' ', type,"
"           CASE WHEN own_coll THEN 'COLLATE ' OPERATOR(pg_catalog.||) coll END,"
"           ident, gen, 'DEFAULT ' OPERATOR(pg_catalog.||) def,"
"           CASE WHEN nullable OPERATOR(pg_catalog.=) 'NOT NULL' THEN nullable END) AS full_def"
"    FROM col),"
"pair AS ("
"  SELECT COALESCE(x.attname, y.attname) AS name,"
"         COALESCE(x.attnum, 10000 OPERATOR(pg_catalog.+) y.attnum) AS ord,"
"         x.attname IS NOT NULL AND y.attname IS NOT NULL AS both_sides,"
"         x.full_def AS a_full, y.full_def AS b_full, x.type AS a_type, y.type AS b_type,"
"         x.def AS a_def, y.def AS b_def, x.nullable AS a_null, y.nullable AS b_null,"
"         x.coll AS a_coll, y.coll AS b_coll, x.ident AS a_ident, y.ident AS b_ident,"
"         x.gen AS a_gen, y.gen AS b_gen"
"    FROM (SELECT * FROM shown WHERE side OPERATOR(pg_catalog.=) 'a') x"
"    FULL JOIN (SELECT * FROM shown WHERE side OPERATOR(pg_catalog.=) 'b') y"
"      ON x.attname OPERATOR(pg_catalog.=) y.attname)"
"SELECT 'column', p.name::pg_catalog.text, v.in_a, v.in_b, v.difference"
"  FROM pair p CROSS JOIN LATERAL (VALUES"
"    (1, p.a_full, p.b_full, CASE WHEN p.b_type IS NULL THEN 'only in a'"
"                                 WHEN p.a_type IS NULL THEN 'only in b' END),"
"    (2, p.a_type, p.b_type, 'type differs'),"
"    (3, p.a_coll, p.b_coll, 'collation differs'),"
"    (4, p.a_ident, p.b_ident, 'identity differs'),"
"    (5, p.a_gen, p.b_gen, 'generation differs'),"
"    (6, p.a_def, p.b_def, 'default differs'),"
"    (7, p.a_null, p.b_null, 'nullability differs')) v(n, in_a, in_b, difference)"
" WHERE CASE WHEN v.n OPERATOR(pg_catalog.=) 1 THEN NOT p.both_sides"
"            WHEN v.n OPERATOR(pg_catalog.=) 3 THEN"
"              v.in_a OPERATOR(pg_catalog.<>) v.in_b"	/* both collatable */
"            ELSE p.both_sides AND v.in_a IS DISTINCT FROM v.in_b END"
" ORDER BY p.ord, v.n";

/*
 * Constraints by definition (pg_get_constraintdef names no constraint and,
 * but for a foreign key to its own table, no table of its own).  A foreign
 * key to its own table matches one to the other table's own by its columns
 * and rules, read from the catalog.
 */
static const char *compare_constraints_sql =
"WITH k AS ("
"  SELECT s.side, k.conname, pg_catalog.pg_get_constraintdef(k.oid) AS def,"
"         CASE WHEN k.contype OPERATOR(pg_catalog.=) 'f'"
"                   AND k.confrelid OPERATOR(pg_catalog.=) k.conrelid THEN"
"           pg_catalog.format('self %s %s %s %s %s %s %s %s %s',"
"             ARRAY(SELECT a.attname FROM pg_catalog.unnest(k.conkey) WITH ORDINALITY u(n, o)"
"                     JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) k.conrelid"
"                      AND a.attnum OPERATOR(pg_catalog.=) u.n ORDER BY u.o),"
"             ARRAY(SELECT a.attname FROM pg_catalog.unnest(k.confkey) WITH ORDINALITY u(n, o)"
"                     JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) k.conrelid"
"                      AND a.attnum OPERATOR(pg_catalog.=) u.n ORDER BY u.o),"
"             k.confupdtype, k.confdeltype, k.confmatchtype, k.condeferrable, k.condeferred,"
"             k.convalidated,"
"             ARRAY(SELECT a.attname FROM pg_catalog.unnest(k.confdelsetcols) u(n)"
"                     JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) k.conrelid"
"                      AND a.attnum OPERATOR(pg_catalog.=) u.n))"
"         ELSE pg_catalog.format('%s %s', k.contype, pg_catalog.pg_get_constraintdef(k.oid))"
"         END AS key"
"    FROM " SIDES
"    JOIN pg_catalog.pg_constraint k ON k.conrelid OPERATOR(pg_catalog.=) s.rel"
"   WHERE k.contype IN ('c', 'f', 'u', 'p', 'x'))"
"SELECT 'constraint', x.conname::pg_catalog.text,"
"       CASE x.side WHEN 'a' THEN x.def END, CASE x.side WHEN 'b' THEN x.def END,"
"       'only in ' OPERATOR(pg_catalog.||) x.side"
"  FROM k x"
" WHERE NOT EXISTS (SELECT 1 FROM k y WHERE y.side OPERATOR(pg_catalog.<>) x.side"
"                      AND y.key OPERATOR(pg_catalog.=) x.key)"
" ORDER BY x.side, x.conname";

/* Policies by POLICY_DEF. */
static const char *compare_policies_sql =
"WITH p AS ("
"  SELECT s.side, p.polname, " POLICY_DEF("p") " AS def"
"    FROM " SIDES
"    JOIN pg_catalog.pg_policy p ON p.polrelid OPERATOR(pg_catalog.=) s.rel)"
"SELECT 'policy', x.polname::pg_catalog.text,"
"       CASE x.side WHEN 'a' THEN x.def END, CASE x.side WHEN 'b' THEN x.def END,"
"       'only in ' OPERATOR(pg_catalog.||) x.side"
"  FROM p x"
" WHERE NOT EXISTS (SELECT 1 FROM p y WHERE y.side OPERATOR(pg_catalog.<>) x.side"
"                      AND y.def OPERATOR(pg_catalog.=) x.def)"
" ORDER BY x.side, x.polname";

static const char *compare_rls_sql =
"SELECT 'rls', v.what,"
"       CASE WHEN v.on_a THEN 'enabled' ELSE 'disabled' END,"
"       CASE WHEN v.on_b THEN 'enabled' ELSE 'disabled' END,"
"       CASE WHEN v.on_a THEN 'enabled in a only' ELSE 'enabled in b only' END"
"  FROM pg_catalog.pg_class ca, pg_catalog.pg_class cb,"
"       LATERAL (VALUES"
"         (1, 'row level security', ca.relrowsecurity, cb.relrowsecurity),"
"         (2, 'force row level security', ca.relforcerowsecurity, cb.relforcerowsecurity))"
"         v(n, what, on_a, on_b)"
" WHERE ca.oid OPERATOR(pg_catalog.=) $1 AND cb.oid OPERATOR(pg_catalog.=) $2"
"   AND v.on_a OPERATOR(pg_catalog.<>) v.on_b"
" ORDER BY v.n";

/*
 * Privileges by grantee, on the table (its owner's defaults when it has no
 * ACL) and on each column; the grantor does not matter.
 */
static const char *compare_grants_sql =
"WITH g AS ("
"  SELECT s.side, NULL::pg_catalog.name AS col, a.grantee, a.privilege_type, a.is_grantable"
"    FROM " SIDES
"    JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) s.rel,"
"         pg_catalog.aclexplode(COALESCE(c.relacl, pg_catalog.acldefault('r', c.relowner))) a"
"  UNION ALL"
"  SELECT s.side, att.attname, a.grantee, a.privilege_type, a.is_grantable"
"    FROM " SIDES
"    JOIN pg_catalog.pg_attribute att ON att.attrelid OPERATOR(pg_catalog.=) s.rel"
"     AND att.attnum OPERATOR(pg_catalog.>) 0 AND NOT att.attisdropped,"
"         pg_catalog.aclexplode(att.attacl) a),"
"per AS ("
"  SELECT side, col, grantee,"
"         pg_catalog.string_agg(privilege_type OPERATOR(pg_catalog.||)"
"           CASE WHEN is_grantable THEN ' WITH GRANT OPTION' ELSE '' END,"
"           ', ' ORDER BY privilege_type) AS privs"
"    FROM g GROUP BY side, col, grantee)"
"SELECT 'grant',"
"       pg_catalog.format('%s%s',"
"         CASE COALESCE(x.grantee, y.grantee) WHEN 0 THEN 'PUBLIC'"
"           ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(COALESCE(x.grantee, y.grantee))) END,"
"         ' on column ' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(COALESCE(x.col, y.col))),"
"       x.privs, y.privs,"
"       CASE WHEN x.privs IS NULL THEN 'only in b' WHEN y.privs IS NULL THEN 'only in a'"
"            ELSE 'privileges differ' END"
"  FROM (SELECT * FROM per WHERE side OPERATOR(pg_catalog.=) 'a') x"
"  FULL JOIN (SELECT * FROM per WHERE side OPERATOR(pg_catalog.=) 'b') y"
"    ON x.col IS NOT DISTINCT FROM y.col AND x.grantee OPERATOR(pg_catalog.=) y.grantee"
" WHERE x.privs IS DISTINCT FROM y.privs"
" ORDER BY COALESCE(x.col, y.col) NULLS FIRST, 2";

/* Put every row of a compare query (five text columns) into the result. */
static void
put_compare_rows(ReturnSetInfo *rsinfo, const char *sql, Datum *args)
{
	Oid			types[2] = {OIDOID, OIDOID};
	SPITupleTable *tt = dedup_catalog_query(sql, 2, types, args, NULL);
	uint64		i;
	int			j;

	for (j = 0; j < 5; j++)
		if (SPI_gettypeid(tt->tupdesc, j + 1) != TEXTOID)
			elog(ERROR, "dedup: compare query column %d is not text", j + 1);

	for (i = 0; i < tt->numvals; i++)
	{
		Datum		values[5];
		bool		nulls[5];

		CHECK_FOR_INTERRUPTS();
		for (j = 0; j < 5; j++)
			values[j] = SPI_getbinval(tt->vals[i], tt->tupdesc, j + 1, &nulls[j]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/* Rewrite b's index columns, expressions and predicate over table to. */
static void
map_index_to(IndexObj *x, Oid to)
{
	Oid			from = x->obj.relid;
	int			i;

	for (i = 0; i < x->natts; i++)
		x->keys[i] = remap_attnum(x->keys[i], from, to, &x->mappable);
	x->exprs = (List *) remap_vars((Node *) x->exprs, from, to, &x->mappable);
	x->pred = remap_vars(x->pred, from, to, &x->mappable);
}

static void
map_trigger_to(TriggerObj *t, Oid to)
{
	Oid			from = t->obj.relid;
	int			i;

	for (i = 0; i < t->ncols; i++)
		t->cols[i] = remap_attnum(t->cols[i], from, to, &t->mappable);
	qsort(t->cols, t->ncols, sizeof(int16), cmp_int16);
	t->qual = remap_vars(t->qual, from, to, &t->mappable);
}

/*
 * Objects of a that b has no equal of, and of b that a has none of; b's
 * objects were rewritten over a's columns first.
 */
static void
put_unmatched(ReturnSetInfo *rsinfo, const char *type, DupObject **as, int na,
			  DupObject **bs, int nb, SameFn same, TextFn shown)
{
	bool	   *b_matched = palloc0(sizeof(bool) * Max(nb, 1));
	int			i,
				j;
	int			pass;

	for (pass = 0; pass < 2; pass++)
	{
		for (i = 0; i < (pass == 0 ? na : nb); i++)
		{
			DupObject  *o = pass == 0 ? as[i] : bs[i];
			bool		matched = false;
			Datum		values[5];
			bool		nulls[5] = {0};

			CHECK_FOR_INTERRUPTS();
			if (pass == 0)
			{
				for (j = 0; j < nb; j++)
					if (same(o, bs[j]))
						matched = b_matched[j] = true;
			}
			else
				matched = b_matched[i];
			if (matched)
				continue;
			values[0] = CStringGetTextDatum(type);
			values[1] = CStringGetTextDatum(o->name);
			values[2 + pass] = text_or_null(shown(o), &nulls[2 + pass]);
			nulls[3 - pass] = true;
			values[4] = CStringGetTextDatum(pass == 0 ? "only in a" : "only in b");
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
}

static char *
index_definition(DupObject *o)
{
	return ((IndexObj *) o)->def;
}

/*
 * Leave out the indexes a constraint owns (compare_tables compares the
 * constraints); returns how many are left, in order.
 */
static int
without_constraint_indexes(DupObject **objs, int n)
{
	int			kept = 0;
	int			i;

	for (i = 0; i < n; i++)
		if (((IndexObj *) objs[i])->contype == 0)
			objs[kept++] = objs[i];
	return kept;
}

/* An invalid index equals only an invalid one. */
static bool
same_index_and_validity(DupObject *a, DupObject *b)
{
	return ((IndexObj *) a)->valid == ((IndexObj *) b)->valid && same_index(a, b);
}

/*
 * dedup.compare_tables(a regclass, b regclass) RETURNS TABLE (
 *	 object_type text, object_name text, in_a text, in_b text, difference text)
 *
 *	 SELECT * FROM dedup.compare_tables('members', 'members_old');
 *
 * Only differences: columns (one row per differing property), then
 * constraints, indexes, policies and triggers present on one side only
 * (compared by definition, never by name), RLS flags, and privileges.
 * Both tables are locked ACCESS SHARE, in OID order, and read with a
 * snapshot taken once the locks are granted.
 */
Datum
dedup_compare_tables(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			a = PG_GETARG_OID(0);
	Oid			b = PG_GETARG_OID(1);
	Oid			types[1] = {OIDOID};
	Datum		args[2];
	Datum		arg;
	DupObject **ia,
			  **ib,
			  **ta,
			  **tb;
	int			nia,
				nib,
				nta,
				ntb;
	int			i;

	dedup_init_srf(fcinfo);
	dedup_lock_pair(a, AccessShareLock, b, AccessShareLock);
	for (i = 0; i < 2; i++)
	{
		Oid			rel = i == 0 ? a : b;
		char		kind = get_rel_relkind(rel);

		if (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("\"%s\" is not a table", dedup_qualified_name(rel)),
					 errdetail("compare_tables compares ordinary and partitioned tables.")));
	}

	/*
	 * Read with a snapshot taken after the locks: the statement's own may
	 * predate a change we waited for.
	 */
	PushActiveSnapshot(GetLatestSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "dedup: SPI_connect failed");
	args[0] = ObjectIdGetDatum(a);
	args[1] = ObjectIdGetDatum(b);
	put_compare_rows(rsinfo, compare_columns_sql, args);
	put_compare_rows(rsinfo, compare_constraints_sql, args);

	arg = args[0];
	ia = load_objects(INDEX_QUERY("c.oid OPERATOR(pg_catalog.=) $1"), 1, types, &arg, NULL,
					  sizeof(IndexObj), fill_index, &nia);
	arg = args[1];
	ib = load_objects(INDEX_QUERY("c.oid OPERATOR(pg_catalog.=) $1"), 1, types, &arg, NULL,
					  sizeof(IndexObj), fill_index, &nib);
	nia = without_constraint_indexes(ia, nia);
	nib = without_constraint_indexes(ib, nib);
	for (i = 0; i < nib; i++)
		map_index_to((IndexObj *) ib[i], a);
	put_unmatched(rsinfo, "index", ia, nia, ib, nib, same_index_and_validity, index_definition);

	put_compare_rows(rsinfo, compare_policies_sql, args);

	arg = args[0];
	ta = load_objects(TRIGGER_QUERY("c.oid OPERATOR(pg_catalog.=) $1"), 1, types, &arg, NULL,
					  sizeof(TriggerObj), fill_trigger, &nta);
	arg = args[1];
	tb = load_objects(TRIGGER_QUERY("c.oid OPERATOR(pg_catalog.=) $1"), 1, types, &arg, NULL,
					  sizeof(TriggerObj), fill_trigger, &ntb);
	for (i = 0; i < ntb; i++)
		map_trigger_to((TriggerObj *) tb[i], a);
	put_unmatched(rsinfo, "trigger", ta, nta, tb, ntb, same_trigger, trigger_definition);

	put_compare_rows(rsinfo, compare_rls_sql, args);
	put_compare_rows(rsinfo, compare_grants_sql, args);
	SPI_finish();
	PopActiveSnapshot();
	return (Datum) 0;
}
