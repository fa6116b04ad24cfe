/*-------------------------------------------------------------------------
 *
 * grouping.c
 *	  Form duplicate groups, pick each group's keeper, give every member a
 *	  role, evidence and verdict, and plan which empty duplicates can be
 *	  dropped and in what order.
 *
 * Grouping rules (README "Grouping rules"):
 *	 - strong: two tables of one schema whose names reduce to the same stem
 *	   (date, leftover and version affixes stripped, case ignored);
 *	 - weak: an ORM twin "<app>_<model>" whose model part matches another
 *	   table's stem once underscores and plural endings are ignored; it
 *	   counts only with column-name similarity >= 0.5 and when neither
 *	   table has a foreign key to the other (a junction table points at the
 *	   table it shares a name with; a twin does not);
 *	 - structure: a table whose primary key references another table's
 *	   primary key is that table's 1:1 extension;
 *	 - groups are transitive (union-find); attached partitions and
 *	   inheritance children belong to their parent and join no group.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "catalog/pg_operator.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "dedup.h"
#include "ddl.h"

#define ORM_TWIN_MIN_SIMILARITY 0.5

static int
uf_find(DedupCatalog *cat, int i)
{
	while (cat->tables[i].uf != i)
	{
		cat->tables[i].uf = cat->tables[cat->tables[i].uf].uf;
		i = cat->tables[i].uf;
	}
	return i;
}

static void
uf_union(DedupCatalog *cat, int a, int b)
{
	int			ra = uf_find(cat, a);
	int			rb = uf_find(cat, b);

	if (ra != rb)
		cat->tables[Max(ra, rb)].uf = Min(ra, rb);
}


/* qsort helpers over arrays of table indexes */
static DedupCatalog *sort_cat;

static int
cmp_idx_name(const void *a, const void *b)
{
	return sort_cat->tables[*(const int *) a].name_rank -
		sort_cat->tables[*(const int *) b].name_rank;
}

static int
cmp_idx_stem(const void *a, const void *b)
{
	DedupTable *x = &sort_cat->tables[*(const int *) a];
	DedupTable *y = &sort_cat->tables[*(const int *) b];
	int			c = strcmp(x->nspname, y->nspname);

	return c != 0 ? c : strcmp(x->stem, y->stem);
}

static int
cmp_idx_ormkey(const void *a, const void *b)
{
	DedupTable *x = &sort_cat->tables[*(const int *) a];
	DedupTable *y = &sort_cat->tables[*(const int *) b];
	int			c = strcmp(x->nspname, y->nspname);

	return c != 0 ? c : strcmp(x->ormkey, y->ormkey);
}

/* Sort table indexes by schema, then name. */
void
dedup_sort_by_name(DedupCatalog *cat, int *idx, int n)
{
	sort_cat = cat;
	qsort(idx, n, sizeof(int), cmp_idx_name);
}

const char *
dedup_role_name(DedupRole role)
{
	switch (role)
	{
		case DEDUP_ROLE_KEEPER:
			return "keeper";
		case DEDUP_ROLE_DUPLICATE:
			return "duplicate";
		case DEDUP_ROLE_EXTENSION:
			return "extension";
		case DEDUP_ROLE_NONE:
			break;
	}
	return NULL;
}

/*
 * Column-name similarity: the Jaccard index of the two sets of column
 * names, compared case-insensitively.
 */
float4
dedup_column_similarity(DedupCatalog *cat, DedupTable *a, DedupTable *b)
{
	int			shared = 0;
	int			i,
				j;

	dedup_load_columns(cat, a);
	dedup_load_columns(cat, b);
	if (a->ncols + b->ncols == 0)
		return 1.0;
	for (i = 0; i < a->ncols; i++)
		for (j = 0; j < b->ncols; j++)
			if (pg_strcasecmp(a->cols[i], b->cols[j]) == 0)
			{
				shared++;
				break;
			}
	return (float4) shared / (float4) (a->ncols + b->ncols - shared);
}

static bool
has_fk_to(DedupTable *from, Oid to)
{
	ListCell   *lc;

	foreach(lc, from->references)
		if (((DedupFk *) lfirst(lc))->to == to)
			return true;
	return false;
}

/*
 * Weak ORM-twin edges: each "<app>_<model>" split of a table's stem (and
 * the whole stem) is looked up among the ORM keys of the same schema.
 */
static void
link_orm_twins(DedupCatalog *cat, int *elig, int nelig)
{
	int		   *byorm = palloc(sizeof(int) * Max(nelig, 1));
	int			e;

	memcpy(byorm, elig, sizeof(int) * nelig);
	sort_cat = cat;
	qsort(byorm, nelig, sizeof(int), cmp_idx_ormkey);

	for (e = 0; e < nelig; e++)
	{
		DedupTable *a = &cat->tables[elig[e]];
		int			slen = strlen(a->stem);
		int			p;

		CHECK_FOR_INTERRUPTS();
		for (p = -1; p < slen - 1; p++)
		{
			char	   *key;
			int			lo = 0,
						hi = nelig - 1,
						first = -1;
			int			k;

			if (p >= 0 && (a->stem[p] != '_' || p == 0))
				continue;
			key = p < 0 ? a->ormkey : dedup_orm_key(a->stem + p + 1, slen - p - 1);
			if (key[0] == '\0')
				continue;

			/* first entry with (nspname, ormkey) >= (a->nspname, key) */
			while (lo <= hi)
			{
				int			mid = lo + (hi - lo) / 2;
				DedupTable *m = &cat->tables[byorm[mid]];
				int			c = strcmp(m->nspname, a->nspname);

				if (c == 0)
					c = strcmp(m->ormkey, key);
				if (c >= 0)
				{
					first = mid;
					hi = mid - 1;
				}
				else
					lo = mid + 1;
			}
			for (k = first; k >= 0 && k < nelig; k++)
			{
				DedupTable *b = &cat->tables[byorm[k]];
				float4		sim;

				if (strcmp(b->nspname, a->nspname) != 0 || strcmp(b->ormkey, key) != 0)
					break;
				if (b == a || strcmp(b->stem, a->stem) == 0)
					continue;
				/* a whole-name match is found from both sides: take it once */
				if (p < 0 && strcmp(a->relname, b->relname) > 0)
					continue;
				if (has_fk_to(a, b->relid) || has_fk_to(b, a->relid))
					continue;
				sim = dedup_column_similarity(cat, a, b);
				if (sim < ORM_TWIN_MIN_SIMILARITY)
					continue;
				uf_union(cat, elig[e], byorm[k]);
				a->orm_twin = true;
				a->evidence = lappend(a->evidence,
									  psprintf("ORM twin of %s (column similarity %.2f)",
											   b->qualname, sim));
				b->evidence = lappend(b->evidence,
									  psprintf("has ORM twin %s (column similarity %.2f)",
											   a->qualname, sim));
			}
		}
	}
	pfree(byorm);
}

/* Structural edges: a table whose primary key references another's. */
static void
link_extensions(DedupCatalog *cat, int *elig, int nelig)
{
	int			e;

	for (e = 0; e < nelig; e++)
	{
		DedupTable *t = &cat->tables[elig[e]];
		ListCell   *lc;

		foreach(lc, t->references)
		{
			DedupFk    *fk = (DedupFk *) lfirst(lc);
			int			b = dedup_table_index(cat, fk->to);

			if (!fk->pk_to_pk || b < 0 || !cat->tables[b].eligible)
				continue;
			t->extends = b;
			uf_union(cat, elig[e], b);
			t->evidence = lappend(t->evidence,
								  psprintf("1:1 extension: primary key references %s (foreign key %s)",
										   cat->tables[b].qualname,
										   quote_identifier(fk->conname)));
			break;
		}
	}
}

/*
 * Choose the keeper among members[0..n): the only member with rows; else
 * the one with the base name; else the most referenced; ties by name.
 * Extensions are never keepers.  Members are sorted by name on entry.
 */
static int
choose_keeper(DedupCatalog *cat, int *members, int n, char **reason)
{
	int			ncand = 0;
	int			withrows = -1;
	int			nwithrows = 0;
	bool		unknown = false;
	int			best = -1;
	int			bestrefs = -1;
	int			i;

	for (i = 0; i < n; i++)
		if (cat->tables[members[i]].extends < 0)
			ncand++;

#define CANDIDATE(t) (ncand == 0 || (t)->extends < 0)
	for (i = 0; i < n; i++)
	{
		DedupTable *t = &cat->tables[members[i]];

		if (!CANDIDATE(t))
			continue;
		if (t->unknown_reason != DEDUP_KNOWN)
			unknown = true;
		else if (t->nrows > 0)
		{
			nwithrows++;
			withrows = members[i];
		}
	}
	if (!unknown && nwithrows == 1)
	{
		*reason = "keeper: the only member with rows";
		return withrows;
	}

	/*
	 * base name: nothing stripped and not an ORM twin; among case variants
	 * the first all-lower-case name wins
	 */
	for (i = 0; i < n; i++)
	{
		DedupTable *t = &cat->tables[members[i]];

		if (CANDIDATE(t) && t->name_evidence == NIL && !t->orm_twin &&
			(best < 0 ||
			 (strcmp(t->relname, t->stem) == 0 &&
			  strcmp(cat->tables[best].relname, cat->tables[best].stem) != 0)))
			best = members[i];
	}
	if (best >= 0)
	{
		*reason = nwithrows > 1 ? "keeper: base name (several members hold rows)" :
			"keeper: base name";
		return best;
	}

	for (i = 0; i < n; i++)
	{
		DedupTable *t = &cat->tables[members[i]];

		if (CANDIDATE(t) && list_length(t->referenced_by) > bestrefs)
		{
			best = members[i];
			bestrefs = list_length(t->referenced_by);
		}
	}
#undef CANDIDATE
	*reason = bestrefs > 0 ?
		psprintf("keeper: most referenced (%d foreign key%s)", bestrefs,
				 bestrefs == 1 ? "" : "s") :
		"keeper: first by name";
	return best;
}

/* The equality operator of a type as "OPERATOR(schema.=)", or NULL. */
static char *
eq_operator_sql(Oid typid)
{
	TypeCacheEntry *tce = lookup_type_cache(typid, TYPECACHE_EQ_OPR);
	HeapTuple	tup;
	Form_pg_operator op;
	char	   *sql;

	if (!OidIsValid(tce->eq_opr))
		return NULL;
	tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(tce->eq_opr));
	if (!HeapTupleIsValid(tup))
		return NULL;
	op = (Form_pg_operator) GETSTRUCT(tup);
	sql = psprintf("OPERATOR(%s.%s)",
				   quote_identifier(get_namespace_name(op->oprnamespace)),
				   NameStr(op->oprname));
	ReleaseSysCache(tup);
	return sql;
}

static int
column_index(DedupTable *t, const char *name)
{
	int			i;

	for (i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i], name) == 0)
			return i;
	return -1;
}

/*
 * Compare a duplicate that holds rows with its keeper on the keeper's
 * primary key: how many of its rows have no key in the keeper (missing),
 * and how many have the key with different values in the shared columns
 * (conflicts).  False when they cannot be compared (no key, different key
 * types, a type without equality).
 */
static bool
compare_with_keeper(DedupTable *d, DedupTable *k, int64 *missing, int64 *conflicts)
{
	StringInfoData keymatch;
	StringInfoData same;
	StringInfoData sql;
	int			i;
	int			rc;
	bool		isnull;

	if (k->npk == 0)
		return false;
	initStringInfo(&keymatch);
	initStringInfo(&same);
	for (i = 0; i < k->npk; i++)
	{
		int			ki = column_index(k, k->pk[i]);
		int			di = column_index(d, k->pk[i]);
		char	   *op;

		if (ki < 0 || di < 0 || k->coltypes[ki] != d->coltypes[di] ||
			(op = eq_operator_sql(k->coltypes[ki])) == NULL)
			return false;
		appendStringInfo(&keymatch, "%sk.%s %s d.%s", i ? " AND " : "",
						 quote_identifier(k->pk[i]), op, quote_identifier(k->pk[i]));
	}
	for (i = 0; i < d->ncols; i++)
	{
		int			ki = column_index(k, d->cols[i]);
		char	   *op;
		const char *c = quote_identifier(d->cols[i]);

		if (ki < 0)
			continue;
		if (k->coltypes[ki] != d->coltypes[i] ||
			(op = eq_operator_sql(d->coltypes[i])) == NULL)
			return false;
		appendStringInfo(&same, " AND (k.%s %s d.%s OR (k.%s IS NULL AND d.%s IS NULL))",
						 c, op, c, c, c);
	}
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT pg_catalog.count(*) FILTER (WHERE NOT m.found),"
					 "       pg_catalog.count(*) FILTER (WHERE m.found AND NOT m.same)"
					 "  FROM (SELECT EXISTS (SELECT 1 FROM %s k WHERE %s) AS found,"
					 "               EXISTS (SELECT 1 FROM %s k WHERE %s%s) AS same"
					 "          FROM %s d) m",
					 k->qualname, keymatch.data, k->qualname, keymatch.data,
					 same.data, d->qualname);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "dedup: SPI_connect failed");
	rc = SPI_execute(sql.data, true, 0);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "dedup: comparison of %s with %s failed", d->qualname, k->qualname);
	*missing = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	*conflicts = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	SPI_finish();
	return true;
}

/* Columns of d that the keeper lacks, as ", N columns not in keeper: a, b". */
static char *
extra_columns_phrase(DedupTable *d, DedupTable *k)
{
	StringInfoData buf;
	int			n = 0;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < d->ncols; i++)
		if (column_index(k, d->cols[i]) < 0)
			appendStringInfo(&buf, "%s%s", n++ ? ", " : "", quote_identifier(d->cols[i]));
	if (n == 0)
		return "";
	return psprintf("; %d column%s not in keeper: %s", n, n == 1 ? "" : "s", buf.data);
}

static char *
rows_verdict(DedupCatalog *cat, DedupTable *d, DedupTable *k)
{
	int64		missing,
				conflicts;
	char	   *extra;

	dedup_load_columns(cat, d);
	dedup_load_columns(cat, k);
	dedup_load_pk(cat, k);
	extra = extra_columns_phrase(d, k);

	if (!compare_with_keeper(d, k, &missing, &conflicts))
		return psprintf("merge into keeper (no comparable primary key)%s", extra);
	if (missing == 0 && conflicts == 0)
		return psprintf("all rows present in keeper%s", extra);
	if (conflicts == 0)
		return psprintf(INT64_FORMAT " row%s missing from keeper%s", missing,
						missing == 1 ? "" : "s", extra);
	return psprintf(INT64_FORMAT " row%s missing from keeper, " INT64_FORMAT
					" conflicting%s", missing, missing == 1 ? "" : "s", conflicts, extra);
}

static void
set_verdicts(DedupCatalog *cat, bool exact)
{
	int			i;

	for (i = 0; i < cat->ntables; i++)
	{
		DedupTable *t = &cat->tables[i];
		DedupTable *k;

		if (t->group_id == 0)
			continue;
		k = &cat->tables[cat->group_keeper[t->group_id]];
		if (t->role == DEDUP_ROLE_KEEPER)
			t->verdict = "keep";
		else if (t->role == DEDUP_ROLE_EXTENSION)
			t->verdict = psprintf("1:1 extension of %s: merge with dedup.merge_extension()",
								  cat->tables[t->extends].qualname);
		else if (t->unknown_reason != DEDUP_KNOWN)
			t->verdict = psprintf("emptiness unknown: %s",
								  dedup_unknown_phrase(t->unknown_reason));
		else if (t->nrows == 0 && t->safe_to_drop)
			t->verdict = "empty: safe to drop";
		else if (t->nrows == 0)
			t->verdict = psprintf("empty: drop blocked by %s%s",
								  (char *) linitial(t->blockers),
								  list_length(t->blockers) > 1 ?
								  psprintf(" and %d more", list_length(t->blockers) - 1) : "");
		else if (exact && k->unknown_reason == DEDUP_KNOWN)
			t->verdict = rows_verdict(cat, t, k);
		else
			t->verdict = "merge into keeper";
	}
}

/*
 * Build the duplicate groups.  Every member is read (AccessShareLock,
 * released at once): exactly counted with exact_counts, otherwise only
 * "empty or not".  Fills group ids, roles, similarity, evidence, the drop
 * plan and verdicts.
 */
void
dedup_build_groups(DedupCatalog *cat, bool exact_counts)
{
	int		   *elig = palloc(sizeof(int) * Max(cat->ntables, 1));
	int			nelig = 0;
	int		   *order;
	int		   *size;
	List	  **members;
	int		   *keepers;
	char	  **reasons;
	int			ncomp = 0;
	int			i,
				g;

	for (i = 0; i < cat->ntables; i++)
		if (cat->tables[i].eligible)
			elig[nelig++] = i;

	/* strong: same schema and stem */
	order = palloc(sizeof(int) * Max(nelig, 1));
	memcpy(order, elig, sizeof(int) * nelig);
	sort_cat = cat;
	qsort(order, nelig, sizeof(int), cmp_idx_stem);
	for (i = 1; i < nelig; i++)
		if (cmp_idx_stem(&order[i - 1], &order[i]) == 0)
			uf_union(cat, order[i - 1], order[i]);

	link_orm_twins(cat, elig, nelig);
	link_extensions(cat, elig, nelig);

	/* components of two or more tables (indexed by root), members by name */
	size = palloc0(sizeof(int) * Max(cat->ntables, 1));
	for (i = 0; i < nelig; i++)
		size[uf_find(cat, elig[i])]++;
	members = palloc0(sizeof(List *) * Max(cat->ntables, 1));
	sort_cat = cat;
	qsort(elig, nelig, sizeof(int), cmp_idx_name);
	for (i = 0; i < nelig; i++)
	{
		int			r = uf_find(cat, elig[i]);

		if (size[r] >= 2)
			members[r] = lappend_int(members[r], elig[i]);
	}

	/* read the members, choose each component's keeper */
	keepers = palloc(sizeof(int) * Max(cat->ntables, 1));
	reasons = palloc0(sizeof(char *) * Max(cat->ntables, 1));
	for (i = 0; i < cat->ntables; i++)
	{
		ListCell   *lc;
		int		   *mem;
		int			m = 0;

		if (members[i] == NIL)
			continue;
		mem = palloc(sizeof(int) * list_length(members[i]));
		foreach(lc, members[i])
		{
			CHECK_FOR_INTERRUPTS();
			mem[m] = lfirst_int(lc);
			dedup_probe_table(&cat->tables[mem[m]], exact_counts);
			m++;
		}
		keepers[ncomp] = choose_keeper(cat, mem, m, &reasons[i]);
		ncomp++;
	}

	/* group ids follow the keepers' names */
	sort_cat = cat;
	qsort(keepers, ncomp, sizeof(int), cmp_idx_name);
	cat->ngroups = ncomp;
	cat->group_keeper = palloc(sizeof(int) * (ncomp + 1));
	for (g = 0; g < ncomp; g++)
	{
		DedupTable *k = &cat->tables[keepers[g]];
		int			root = uf_find(cat, keepers[g]);
		ListCell   *lc;

		cat->group_keeper[g + 1] = keepers[g];
		foreach(lc, members[root])
		{
			DedupTable *t = &cat->tables[lfirst_int(lc)];

			t->group_id = g + 1;
			t->role = t == k ? DEDUP_ROLE_KEEPER :
				t->extends >= 0 ? DEDUP_ROLE_EXTENSION : DEDUP_ROLE_DUPLICATE;
			if (exact_counts)
				t->similarity = dedup_column_similarity(cat, t, k);
			t->evidence = list_concat(list_copy(t->name_evidence), t->evidence);
			if (t == k)
				t->evidence = lcons(reasons[root], t->evidence);
			else if (t->evidence == NIL && strcmp(t->lowername, k->lowername) == 0)
				t->evidence = list_make1(psprintf("same name as %s ignoring case",
												  k->qualname));
			else if (t->evidence == NIL)
				t->evidence = list_make1(psprintf("base name of the group of %s",
												  k->qualname));
		}
	}

	dedup_plan_drops(cat);
	set_verdicts(cat, exact_counts);
}

/*
 * Plan the drops of empty duplicates.  A drop is safe when nothing but
 * other safe drops depends on the table: no view or rule, no partition or
 * inheritance child, no publication, and every foreign key into it comes
 * from a table dropped earlier.  drop_order is a topological order
 * (referencing tables first), ties broken by name.
 */
void
dedup_plan_drops(DedupCatalog *cat)
{
	int			i;
	bool		changed = true;
	int		   *cand;
	int			ncand = 0;
	int		   *indeg;
	int			next = 1;
	bool		progress = true;

	cand = palloc(sizeof(int) * Max(cat->ntables, 1));
	for (i = 0; i < cat->ntables; i++)
	{
		DedupTable *t = &cat->tables[i];
		ListCell   *lc;

		t->safe_to_drop = false;
		t->drop_order = 0;
		t->blockers = NIL;
		if (t->role != DEDUP_ROLE_DUPLICATE || t->unknown_reason != DEDUP_KNOWN ||
			t->nrows != 0)
			continue;
		foreach(lc, t->dependents)
			t->blockers = lappend(t->blockers,
								  psprintf("dependent %s", ((DedupDependent *) lfirst(lc))->phrase));
		foreach(lc, t->children)
			t->blockers = lappend(t->blockers,
								  psprintf("%s %s", t->relkind == RELKIND_PARTITIONED_TABLE ?
										   "attached partition" : "inheritance child",
										   dedup_qualified_name(lfirst_oid(lc))));
		foreach(lc, t->publications)
			t->blockers = lappend(t->blockers,
								  psprintf("member of publication %s",
										   quote_identifier((char *) lfirst(lc))));
		t->safe_to_drop = (t->blockers == NIL);
		cand[ncand++] = i;
	}

	/* a foreign key from anything not dropped first blocks the drop */
	while (changed)
	{
		changed = false;
		for (i = 0; i < ncand; i++)
		{
			DedupTable *t = &cat->tables[cand[i]];
			ListCell   *lc;

			if (!t->safe_to_drop)
				continue;
			foreach(lc, t->referenced_by)
			{
				DedupTable *from = dedup_find_table(cat, ((DedupFk *) lfirst(lc))->from);

				if (from == NULL || !from->safe_to_drop)
				{
					t->safe_to_drop = false;
					changed = true;
					break;
				}
			}
		}
	}
	for (i = 0; i < ncand; i++)
	{
		DedupTable *t = &cat->tables[cand[i]];
		ListCell   *lc;

		foreach(lc, t->referenced_by)
		{
			DedupFk    *fk = (DedupFk *) lfirst(lc);
			DedupTable *from = dedup_find_table(cat, fk->from);

			if (from == NULL || !from->safe_to_drop)
				t->blockers = lappend(t->blockers,
									  psprintf("foreign key %s from %s",
											   quote_identifier(fk->conname),
											   dedup_qualified_name(fk->from)));
		}
	}

	/* topological order, referencing tables first, ties by name */
	sort_cat = cat;
	qsort(cand, ncand, sizeof(int), cmp_idx_name);
	indeg = palloc0(sizeof(int) * Max(cat->ntables, 1));
	for (i = 0; i < ncand; i++)
	{
		DedupTable *t = &cat->tables[cand[i]];

		if (t->safe_to_drop)
			indeg[cand[i]] = list_length(t->referenced_by);
	}
	while (progress)
	{
		progress = false;
		for (i = 0; i < ncand; i++)
		{
			DedupTable *t = &cat->tables[cand[i]];
			ListCell   *lc;

			CHECK_FOR_INTERRUPTS();
			if (!t->safe_to_drop || t->drop_order > 0 || indeg[cand[i]] > 0)
				continue;
			t->drop_order = next++;
			progress = true;
			foreach(lc, t->references)
			{
				int			to = dedup_table_index(cat, ((DedupFk *) lfirst(lc))->to);

				if (to >= 0)
					indeg[to]--;
			}
		}
	}
	/* what is left sits on a foreign-key cycle */
	for (i = 0; i < ncand; i++)
	{
		DedupTable *t = &cat->tables[cand[i]];

		if (t->safe_to_drop && t->drop_order == 0)
		{
			t->safe_to_drop = false;
			t->blockers = lappend(t->blockers,
								  "foreign-key cycle with other empty duplicates");
		}
	}
}
