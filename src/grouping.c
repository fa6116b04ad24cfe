/*-------------------------------------------------------------------------
 *
 * grouping.c
 *	  Form duplicate groups, pick each group's keeper, give every member a
 *	  role, evidence and verdict, and plan which empty duplicates can be
 *	  dropped and in what order.
 *
 * Grouping rules (README "Grouping rules"):
 *	 - names: tables of one schema whose names reduce to the same stem
 *	   (naming.c) join the family's base name when their columns agree
 *	   (similarity >= 0.5 or a subset: may_join); a bare copy number ("t2")
 *	   joins its base name with the same columns; a name that is the base
 *	   name plus affixes only leftovers carry joins it with drifted
 *	   columns too, as weak evidence (drifted_leftover);
 *	 - ORM twins "<app>_<model>" whose model part matches another table's
 *	   stem, with column similarity >= 0.5;
 *	 - no edge joins two tables that a foreign key links or whose primary
 *	   keys are on different columns (copy_conflict);
 *	 - backups: journaled ones join their source, named ones their family;
 *	 - structure: the only same-schema table whose primary key references
 *	   another table's primary key is its 1:1 extension;
 *	 - groups are transitive (union-find); attached partitions and
 *	   inheritance children belong to their parent and join no group.
 * Then each group's keeper (choose_keeper), each member's strength
 * (copy_strength), the drop plan (dedup_plan_drops) and the verdicts.
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
		case DEDUP_ROLE_BACKUP:
			return "backup";
		case DEDUP_ROLE_NONE:
			break;
	}
	return NULL;
}

/* The position of column name in t (case ignored), or -1. */
static int
column_position(DedupTable *t, const char *name)
{
	int			j;

	for (j = 0; j < t->ncols; j++)
		if (pg_strcasecmp(t->cols[j], name) == 0)
			return j;
	return -1;
}

/*
 * Column-name similarity: the Jaccard index of the two sets of column
 * names, compared case-insensitively.
 */
float4
dedup_column_similarity(DedupCatalog *cat, DedupTable *a, DedupTable *b)
{
	int			shared = 0;
	int			i;

	dedup_load_columns(cat, a);
	dedup_load_columns(cat, b);
	if (a->ncols + b->ncols == 0)
		return 1.0;
	for (i = 0; i < a->ncols; i++)
		if (column_position(b, a->cols[i]) >= 0)
			shared++;
	return (float4) shared / (float4) (a->ncols + b->ncols - shared);
}

/*
 * The first position in sorted[0..n) (ordered by schema, then stem or ORM
 * key) whose (schema, key) is at or after (nsp, key); n when none is.
 */
static int
lower_bound(DedupCatalog *cat, int *sorted, int n, const char *nsp, const char *key,
			bool ormkey)
{
	int			lo = 0,
				hi = n;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;
		DedupTable *m = &cat->tables[sorted[mid]];
		int			c = strcmp(m->nspname, nsp);

		if (c == 0)
			c = strcmp(ormkey ? m->ormkey : m->stem, key);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
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

/* Do a and b have primary keys on differently named columns? */
static bool
keys_differ(DedupCatalog *cat, DedupTable *a, DedupTable *b)
{
	int			i,
				j;

	if (a->npkatts == 0 || b->npkatts == 0)
		return false;
	dedup_load_pk(cat, a);
	dedup_load_pk(cat, b);
	if (a->npk != b->npk)
		return true;
	for (i = 0; i < a->npk; i++)
	{
		for (j = 0; j < b->npk; j++)
			if (pg_strcasecmp(a->pk[i], b->pk[j]) == 0)
				break;
		if (j == b->npk)
			return true;
	}
	return false;
}

/*
 * Why a and b cannot be copies of each other whatever their names say, or
 * NULL: one references the other (a history, junction or child table), or
 * their primary keys are on different columns (a live table keyed by id
 * beside its history keyed by (id, version)).
 */
static const char *
copy_conflict(DedupCatalog *cat, DedupTable *a, DedupTable *b)
{
	if (has_fk_to(a, b->relid) || has_fk_to(b, a->relid))
		return "a foreign key links them";
	if (keys_differ(cat, a, b))
		return "their primary keys are on different columns";
	return NULL;
}

/* Column i of a is in b under the same name (case ignored) and type. */
static bool
column_in(DedupTable *a, int i, DedupTable *b)
{
	int			j = column_position(b, a->cols[i]);

	return j >= 0 && a->coltypes[i] == b->coltypes[j];
}

/* Every column of a is in b with the same type. */
static bool
columns_within(DedupCatalog *cat, DedupTable *a, DedupTable *b)
{
	int			i;

	dedup_load_columns(cat, a);
	dedup_load_columns(cat, b);
	for (i = 0; i < a->ncols; i++)
		if (!column_in(a, i, b))
			return false;
	return true;
}

static bool
same_columns(DedupCatalog *cat, DedupTable *a, DedupTable *b)
{
	return columns_within(cat, a, b) && columns_within(cat, b, a);
}

/*
 * May member m join the family of a by name?  Only when their columns
 * agree too: a column-name similarity of at least 0.5, or every column of
 * m in a with the same type (a copy taken before a gained columns).  A
 * name alone is not enough ("sensor_temp" of temperatures beside
 * "sensor"), and nothing joins across a copy_conflict().
 */
static bool
may_join(DedupCatalog *cat, DedupTable *a, DedupTable *m)
{
	if (copy_conflict(cat, a, m))
		return false;
	return dedup_column_similarity(cat, a, m) >= ORM_TWIN_MIN_SIMILARITY ||
		columns_within(cat, m, a);
}

/* name folded to lower case (ASCII), underscores removed */
static char *
squeezed(const char *name)
{
	char	   *s = palloc(strlen(name) + 1);
	int			n = 0;

	for (; *name; name++)
		if (*name != '_')
			s[n++] = pg_ascii_tolower((unsigned char) *name);
	s[n] = '\0';
	return s;
}

/*
 * Does column name refer to table b by name: "<b>_id" or "<b>id", b in
 * singular or plural ("sensor_id", "categoryId" for "categories")?
 */
static bool
names_reference_to(const char *name, DedupTable *b)
{
	char	   *s = pstrdup(name);
	int			len = strlen(s);
	int			i;

	for (i = 0; i < len; i++)
		s[i] = pg_ascii_tolower((unsigned char) s[i]);
	if (len < 3 || strcmp(s + len - 2, "id") != 0)
		return false;
	len -= 2;
	if (s[len - 1] == '_')
		len--;
	return len > 0 && strcmp(dedup_orm_key(s, len), b->ormkey) == 0;
}

/* Is column name one of t's primary key columns (case ignored)? */
static bool
in_primary_key(DedupTable *t, const char *name)
{
	int			i;

	for (i = 0; i < t->npk; i++)
		if (pg_strcasecmp(t->pk[i], name) == 0)
			return true;
	return false;
}

/*
 * May m join the base-named table a as a leftover whose columns drifted,
 * though may_join() refused it?  Weak evidence only (copy_strength), never
 * safe to drop.  All of these must hold:
 *	 - a carries no affix, and every affix of m says "copy": leftover, date,
 *	   backup, first version ("v1_website", "orders_old_2023"); not an
 *	   affix a live table also carries (_new, _archive, _v2);
 *	 - nothing rules them out (copy_conflict: a foreign key links them, or
 *	   their primary keys are on different columns);
 *	 - m does not refer to a by name: a column "<a>_id" that a lacks makes
 *	   m a child of a ("sensor_temp" readings with sensor_id), not a copy;
 *	 - they share at least one column that says something: any shared
 *	   column but a primary key column of a that is not named after a (a
 *	   bare "id" is in nearly every table; "website_id" of "website" is
 *	   its identity).
 * Column types are not compared: an older version may have other types
 * (integer ids that became uuids).
 */
static bool
drifted_leftover(DedupCatalog *cat, DedupTable *a, DedupTable *m)
{
	int			shared = 0;
	int			i;

	if (a->affixes != 0 || m->affixes == 0 || (m->affixes & ~DEDUP_AFFIX_EXPLICIT) != 0)
		return false;
	if (copy_conflict(cat, a, m))
		return false;
	dedup_load_columns(cat, a);
	dedup_load_columns(cat, m);
	dedup_load_pk(cat, a);
	for (i = 0; i < m->ncols; i++)
	{
		if (column_position(a, m->cols[i]) < 0)
		{
			if (names_reference_to(m->cols[i], a))
				return false;
			continue;
		}
		if (in_primary_key(a, m->cols[i]) && strstr(squeezed(m->cols[i]), a->ormkey) == NULL)
			continue;
		shared++;
	}
	return shared > 0;
}

/*
 * Name edges: tables of one schema whose names reduce to the same stem.
 * Each member joins the family's base name (nothing stripped; among case
 * variants the all-lower-case one) when may_join() allows; a family
 * without a base name gathers around its first member by name.  A bare
 * copy number joins the base name it was added to.
 */
static void
link_stem_families(DedupCatalog *cat, int *elig, int nelig)
{
	int		   *order = palloc(sizeof(int) * Max(nelig, 1));
	int			lo,
				hi,
				i;

	memcpy(order, elig, sizeof(int) * nelig);
	sort_cat = cat;
	qsort(order, nelig, sizeof(int), cmp_idx_stem);

	/* every member of a family is compared: read their columns at once */
	{
		int		   *fam = palloc(sizeof(int) * Max(nelig, 1));
		int			nfam = 0;

		for (lo = 0; lo < nelig; lo = hi)
		{
			for (hi = lo + 1; hi < nelig && cmp_idx_stem(&order[lo], &order[hi]) == 0; hi++)
				;
			for (i = lo; hi - lo >= 2 && i < hi; i++)
				fam[nfam++] = order[i];
		}
		dedup_load_columns_of(cat, fam, nfam);
		pfree(fam);
	}

	for (lo = 0; lo < nelig; lo = hi)
	{
		int			anchor = -1;

		CHECK_FOR_INTERRUPTS();
		for (hi = lo + 1; hi < nelig && cmp_idx_stem(&order[lo], &order[hi]) == 0; hi++)
			;
		if (hi - lo < 2)
			continue;
		dedup_sort_by_name(cat, order + lo, hi - lo);
		for (i = lo; i < hi; i++)
		{
			DedupTable *t = &cat->tables[order[i]];

			if (t->affixes == 0 &&
				(anchor < 0 || (strcmp(t->relname, t->stem) == 0 &&
								strcmp(cat->tables[anchor].relname, cat->tables[anchor].stem) != 0)))
				anchor = order[i];
		}
		if (anchor < 0)
			anchor = order[lo];
		for (i = lo; i < hi; i++)
		{
			DedupTable *m = &cat->tables[order[i]];

			if (order[i] == anchor)
				continue;
			if (may_join(cat, &cat->tables[anchor], m))
				uf_union(cat, anchor, order[i]);
			else if (drifted_leftover(cat, &cat->tables[anchor], m))
			{
				uf_union(cat, anchor, order[i]);
				m->drifted = true;
			}
		}
	}

	/* a bare copy number ("t2") joins the base name "t" with the same columns */
	for (i = 0; i < nelig; i++)
	{
		DedupTable *t = &cat->tables[order[i]];
		char	   *stem;
		int			j;

		if (t->number_len == 0)
			continue;
		CHECK_FOR_INTERRUPTS();
		stem = pnstrdup(t->stem, strlen(t->stem) - t->number_len);
		for (j = lower_bound(cat, order, nelig, t->nspname, stem, false); j < nelig; j++)
		{
			DedupTable *b = &cat->tables[order[j]];

			if (strcmp(b->nspname, t->nspname) != 0 || strcmp(b->stem, stem) != 0)
				break;
			if (b->affixes == 0 && strcmp(b->relname, b->stem) == 0 &&
				copy_conflict(cat, b, t) == NULL && same_columns(cat, b, t))
			{
				uf_union(cat, order[j], order[i]);
				t->affixes |= DEDUP_AFFIX_NUMBER;
				t->name_evidence = lappend(t->name_evidence,
										   psprintf("copy number \"%s\"",
													t->stem + strlen(stem)));
				break;
			}
		}
	}
	pfree(order);
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
			int			k;

			if (p >= 0 && (a->stem[p] != '_' || p == 0))
				continue;
			key = p < 0 ? a->ormkey : dedup_orm_key(a->stem + p + 1, slen - p - 1);
			if (key[0] == '\0')
				continue;

			for (k = lower_bound(cat, byorm, nelig, a->nspname, key, true); k < nelig; k++)
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
				if (copy_conflict(cat, a, b))
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

/* The same-schema table whose primary key t's primary key references, or -1. */
static int
extended_table(DedupCatalog *cat, DedupTable *t, DedupFk **via)
{
	ListCell   *lc;

	foreach(lc, t->references)
	{
		DedupFk    *fk = (DedupFk *) lfirst(lc);
		int			b = dedup_table_index(cat, fk->to);

		if (fk->pk_to_pk && b >= 0 && cat->tables[b].eligible &&
			strcmp(cat->tables[b].nspname, t->nspname) == 0)
		{
			*via = fk;
			return b;
		}
	}
	return -1;
}

/*
 * Structural edges: a table whose primary key references another table's
 * primary key, in the same schema, is that table's 1:1 extension, when it
 * is the only one (several are subtypes of a supertype, not copies) and
 * has no copies of its own (then its copies are compared with it, in a
 * group of its own).
 */
static void
link_extensions(DedupCatalog *cat, int *elig, int nelig)
{
	int		   *size = palloc0(sizeof(int) * Max(cat->ntables, 1));
	int			e;

	for (e = 0; e < nelig; e++)
	{
		DedupFk    *fk;
		int			b = extended_table(cat, &cat->tables[elig[e]], &fk);

		size[uf_find(cat, elig[e])]++;
		if (b >= 0)
			cat->tables[b].nextensions++;
	}
	for (e = 0; e < nelig; e++)
	{
		DedupTable *t = &cat->tables[elig[e]];
		DedupFk    *fk;
		int			b = extended_table(cat, t, &fk);

		if (b < 0)
			continue;
		if (cat->tables[b].nextensions > 1)
			continue;
		if (size[uf_find(cat, elig[e])] > 1 || t->is_backup)
		{
			t->evidence = lappend(t->evidence,
								  psprintf("1:1 extension of %s (grouped with its own copies)",
										   cat->tables[b].qualname));
			continue;
		}
		t->extends = b;
		uf_union(cat, elig[e], b);
		t->evidence = lappend(t->evidence,
							  psprintf("1:1 extension: primary key references %s (foreign key %s)",
									   cat->tables[b].qualname,
									   quote_identifier(fk->conname)));
	}
	pfree(size);
}

/*
 * Backups: the ones dedup.backup_table took (journaled, checked by OID,
 * name and owner) join their source's group when it is in the same
 * schema; tables named as backups are backups too, by name only.
 */
static void
mark_backups(DedupCatalog *cat, int *elig, int nelig)
{
	ListCell   *lc;
	int			e;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "dedup: SPI_connect failed");
	foreach(lc, dedup_journal_backups())
	{
		DedupBackupInfo *b = (DedupBackupInfo *) lfirst(lc);
		DedupTable *t = dedup_find_table(cat, b->backup);
		MemoryContext oldcxt;

		if (t == NULL || !t->eligible)
			continue;
		oldcxt = MemoryContextSwitchTo(cat->cxt);
		t->journaled = palloc(sizeof(DedupBackupInfo));
		*t->journaled = *b;
		t->journaled->source_name = pstrdup(b->source_name);
		t->journaled->fingerprint = b->fingerprint ? pstrdup(b->fingerprint) : NULL;
		MemoryContextSwitchTo(oldcxt);
		t->is_backup = true;
	}
	SPI_finish();
	for (e = 0; e < nelig; e++)
		if (cat->tables[elig[e]].affixes & DEDUP_AFFIX_BACKUP)
			cat->tables[elig[e]].is_backup = true;
}

static void
link_journaled_backups(DedupCatalog *cat, int *elig, int nelig)
{
	int			e;

	for (e = 0; e < nelig; e++)
	{
		DedupTable *t = &cat->tables[elig[e]];
		int			s;

		if (t->journaled == NULL || !OidIsValid(t->journaled->source))
			continue;
		s = dedup_table_index(cat, t->journaled->source);
		if (s >= 0 && cat->tables[s].eligible &&
			strcmp(cat->tables[s].nspname, t->nspname) == 0)
			uf_union(cat, elig[e], s);
	}
}

/* Is t read by something outside its group: a foreign key from a non-member? */
static bool
referenced_from_outside(DedupCatalog *cat, DedupTable *t)
{
	ListCell   *lc;

	foreach(lc, t->referenced_by)
	{
		DedupTable *from = dedup_find_table(cat, ((DedupFk *) lfirst(lc))->from);

		if (from == NULL || uf_find(cat, from - cat->tables) != uf_find(cat, t - cat->tables))
			return true;
	}
	return false;
}

/* "a, b and c" of the names of tables idx[0..n) */
static char *
name_list(DedupCatalog *cat, int *idx, int n)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < n; i++)
		appendStringInfo(&buf, "%s%s", i == 0 ? "" : i == n - 1 ? " and " : ", ",
						 cat->tables[idx[i]].qualname);
	return buf.data;
}

/*
 * Choose the keeper among members[0..n) (sorted by name; rows read and
 * signs of use loaded).  Extensions and backups never keep.
 *	 1. The base name (nothing stripped, not an ORM twin) keeps over every
 *		name that says "copy" (leftover, date, backup, first version).
 *	 2. Another version of it ("_v2", "v3_") is its rival: the only one of
 *		them in use keeps; with none in use, the only one holding rows;
 *		else it is not clear-cut.
 *	 3. Without a base name, the only name that does not say "copy" keeps;
 *		else the only contender in use, or holding rows; else it is not
 *		clear-cut.
 * *unclear receives why it is not clear-cut, or NULL.  Returns -1 when no
 * member may keep.
 */
static int
choose_keeper(DedupCatalog *cat, int *members, int n, char **reason, char **unclear)
{
	int		   *cont = palloc(sizeof(int) * n);
	int			ncont = 0;
	int		   *used = palloc(sizeof(int) * n);
	int			nused = 0;
	int			base = -1;
	int			ncand = 0;
	int			nextension = 0;
	int			i;

	*unclear = NULL;
	for (i = 0; i < n; i++)
		if (cat->tables[members[i]].extends >= 0)
			nextension++;

#define CANDIDATE(t) (!(t)->is_backup && ((t)->extends < 0 || nextension == n))
	for (i = 0; i < n; i++)
	{
		DedupTable *t = &cat->tables[members[i]];

		if (!CANDIDATE(t))
			continue;
		ncand++;
		if (t->affixes == 0 && !t->orm_twin &&
			(base < 0 || (strcmp(t->relname, t->stem) == 0 &&
						  strcmp(cat->tables[base].relname, cat->tables[base].stem) != 0)))
			base = members[i];
	}
	if (ncand == 0)
		return -1;

	/* contenders: the base and its rivals, or every name not saying "copy" */
	for (i = 0; i < n; i++)
	{
		DedupTable *t = &cat->tables[members[i]];

		if (!CANDIDATE(t) || (t->affixes & DEDUP_AFFIX_EXPLICIT))
			continue;
		if (base >= 0 && members[i] != base && !(t->affixes & DEDUP_AFFIX_VERSION))
			continue;
		if (base >= 0 && t->affixes == 0 && members[i] != base)
			continue;			/* a case variant of the base */
		cont[ncont++] = members[i];
	}
	if (ncont == 0)				/* only names that say "copy" */
		for (i = 0; i < n; i++)
			if (CANDIDATE(&cat->tables[members[i]]))
				cont[ncont++] = members[i];
#undef CANDIDATE

	if (ncont == 1)
	{
		*reason = base == cont[0] ? "keeper: base name" :
			(cat->tables[cont[0]].affixes & DEDUP_AFFIX_EXPLICIT) ?
			"keeper: the only member that is not a backup or an extension" :
			"keeper: the only member whose name is not a leftover's";
		return cont[0];
	}

	for (i = 0; i < ncont; i++)
	{
		DedupTable *t = &cat->tables[cont[i]];

		if (t->in_use || referenced_from_outside(cat, t))
			used[nused++] = cont[i];
	}
	if (nused == 1)
	{
		*reason = psprintf("keeper: the only one of %s in use", name_list(cat, cont, ncont));
		return used[0];
	}
	if (nused == 0)
	{
		int			withrows = -1;
		int			nempty = 0;

		for (i = 0; i < ncont; i++)
		{
			DedupTable *t = &cat->tables[cont[i]];

			if (t->unknown_reason != DEDUP_KNOWN)
				break;
			if (t->nrows > 0)
				withrows = cont[i];
			else
				nempty++;
		}
		if (i == ncont && nempty == ncont - 1 && withrows >= 0)
		{
			*reason = psprintf("keeper: the only one of %s with rows", name_list(cat, cont, ncont));
			return withrows;
		}
	}
	*unclear = nused == 0 ?
		psprintf("nothing shows which of %s the application uses", name_list(cat, cont, ncont)) :
		psprintf("%s each show use", name_list(cat, used, nused));

	/* a suggestion only: the base, else the first by name */
	if (base >= 0)
	{
		*reason = "keeper (not clear-cut): base name";
		return base;
	}
	*reason = "keeper (not clear-cut): first by name";
	return cont[0];
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
bool
dedup_compare_rows(DedupTable *d, DedupTable *k, int64 *missing, int64 *conflicts)
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

/* Columns of d that the keeper lacks, as "; N columns not in keeper: a, b". */
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
rows_verdict(DedupCatalog *cat, DedupTable *d, DedupTable *k, const char *target)
{
	int64		missing,
				conflicts;
	char	   *extra;

	dedup_load_columns(cat, d);
	dedup_load_columns(cat, k);
	dedup_load_pk(cat, k);
	extra = extra_columns_phrase(d, k);

	if (!dedup_compare_rows(d, k, &missing, &conflicts))
		return psprintf("merge into %s (no comparable primary key)%s", target, extra);
	if (missing == 0 && conflicts == 0)
		return psprintf("all rows present in %s%s", target, extra);
	if (conflicts == 0)
		return psprintf(INT64_FORMAT " row%s missing from %s%s", missing,
						missing == 1 ? "" : "s", target, extra);
	return psprintf(INT64_FORMAT " row%s missing from %s, " INT64_FORMAT
					" conflicting%s", missing, missing == 1 ? "" : "s", target, conflicts, extra);
}

/* "shares a, b and c (3 of 14 column names)" of t and k */
static char *
shared_columns_phrase(DedupCatalog *cat, DedupTable *t, DedupTable *k)
{
	StringInfoData buf;
	int			n = 0;
	int			i;

	dedup_load_columns(cat, t);
	dedup_load_columns(cat, k);
	initStringInfo(&buf);
	for (i = 0; i < t->ncols; i++)
		if (column_position(k, t->cols[i]) >= 0)
			appendStringInfo(&buf, "%s%s", n++ ? ", " : "", quote_identifier(t->cols[i]));
	return psprintf("shares %s (%d of %d column names)", n ? buf.data : "nothing", n,
					t->ncols + k->ncols - n);
}

/*
 * What to check about a leftover whose columns drifted from its keeper k's:
 * "columns differ (36% alike): it may be an older version of k that
 * drifted; compare with dedup.compare_tables(t, k) before <what>".
 */
static char *
drift_phrase(DedupTable *t, DedupTable *k, const char *what)
{
	return psprintf("columns differ (%d%% alike): it may be an older version of %s that drifted; compare with dedup.compare_tables(%s, %s) before %s",
					Max(1, (int) (t->similarity * 100 + 0.5)), k->qualname,
					quote_literal_cstr(t->qualname), quote_literal_cstr(k->qualname), what);
}

const char *
dedup_strength_name(DedupStrength s)
{
	switch (s)
	{
		case DEDUP_STRENGTH_STRONG:
			return "strong";
		case DEDUP_STRENGTH_MEDIUM:
			return "medium";
		case DEDUP_STRENGTH_WEAK:
			return "weak";
		case DEDUP_STRENGTH_NONE:
			break;
	}
	return NULL;
}

/*
 * How strongly t is shown to be a copy of its keeper k, with the phrase
 * that says why (README "Strength"):
 *	 strong  a name that says "copy" (leftover, date, backup, first version)
 *			 and the same columns and types as the keeper, or a subset of them;
 *	 medium  a name that says "copy" and column-name similarity >= 0.5; or
 *			 another name of the same table (ORM twin, case variant, copy
 *			 number, the other of a version pair) with the same columns and
 *			 types;
 *	 weak	 anything else, and whatever copy_conflict() rules out; always a
 *			 leftover joined with drifted columns (drifted_leftover).
 */
static DedupStrength
copy_strength(DedupCatalog *cat, DedupTable *t, DedupTable *k, char **why)
{
	bool		copyname = (t->affixes & DEDUP_AFFIX_EXPLICIT) != 0;
	const char *conflict = copy_conflict(cat, t, k);

	if (conflict)
	{
		*why = psprintf("not a copy of %s: %s", k->qualname, conflict);
		return DEDUP_STRENGTH_WEAK;
	}
	if (t->drifted)
	{
		*why = psprintf("leftover name, but columns drifted from %s: %s",
						k->qualname, shared_columns_phrase(cat, t, k));
		return DEDUP_STRENGTH_WEAK;
	}
	if (same_columns(cat, t, k))
	{
		*why = psprintf("same columns and types as %s", k->qualname);
		return copyname ? DEDUP_STRENGTH_STRONG :
			(t->affixes & DEDUP_AFFIX_AMBIGUOUS) ? DEDUP_STRENGTH_WEAK : DEDUP_STRENGTH_MEDIUM;
	}
	if (columns_within(cat, t, k))
	{
		*why = psprintf("its columns are a subset of %s's, same types", k->qualname);
		return copyname ? DEDUP_STRENGTH_STRONG : DEDUP_STRENGTH_WEAK;
	}
	*why = psprintf("column similarity %.2f to %s", t->similarity, k->qualname);
	return copyname && t->similarity >= ORM_TWIN_MIN_SIMILARITY ?
		DEDUP_STRENGTH_MEDIUM : DEDUP_STRENGTH_WEAK;
}

/* The verdict of an empty duplicate that is not safe to drop, or NULL. */
static char *
empty_verdict(DedupTable *t, DedupTable *k)
{
	if (t->strength < DEDUP_STRENGTH_MEDIUM)
		return psprintf("empty, weak evidence of a copy of %s: check that the application does not use it before dropping it",
						k->qualname);
	if (t->in_use)
		return psprintf("empty, but in use (%s): check before dropping it",
						(char *) linitial(t->use));
	if (t->blockers != NIL)
		return psprintf("empty: drop blocked by %s%s",
						(char *) linitial(t->blockers),
						list_length(t->blockers) > 1 ?
						psprintf(" and %d more", list_length(t->blockers) - 1) : "");
	return NULL;
}

static char *
backup_verdict(DedupCatalog *cat, DedupTable *t, DedupTable *k, bool exact)
{
	const char *what;
	const char *rows;

	if (t->journaled)
	{
		bool		matches = false;

		if (exact)
		{
			if (SPI_connect() != SPI_OK_CONNECT)
				elog(ERROR, "dedup: SPI_connect failed");
			matches = dedup_backup_matches(t->journaled);
			SPI_finish();
		}
		what = psprintf("backup of %s taken by dedup.backup_table (journal entry " INT64_FORMAT "), %s",
						t->journaled->source_name, t->journaled->entry,
						!exact ? "not checked" :
						matches ? "unchanged since" : "changed since it was taken");
	}
	else
		what = psprintf("backup of %s by its name only (not taken by dedup.backup_table)",
						k->qualname);
	if (t->unknown_reason != DEDUP_KNOWN)
		rows = psprintf("rows unknown: %s", dedup_unknown_phrase(t->unknown_reason));
	else if (t->drifted)
		rows = psprintf("%s, but %s", t->nrows == 0 ? "empty" : "holds rows",
						drift_phrase(t, k, "relying on it or dropping it"));
	else if (t->nrows == 0)
		rows = "empty";
	else if (exact && k->unknown_reason == DEDUP_KNOWN)
		rows = rows_verdict(cat, t, k, k->qualname);
	else
		rows = "holds rows";
	return psprintf("%s; %s; drop it with dedup.drop_backup() once it is no longer needed",
					what, rows);
}

static void
set_verdicts(DedupCatalog *cat, bool exact)
{
	int			i;

	for (i = 0; i < cat->ntables; i++)
	{
		DedupTable *t = &cat->tables[i];
		DedupTable *k;
		char	   *unclear;

		if (t->group_id == 0)
			continue;
		k = &cat->tables[cat->group_keeper[t->group_id]];
		unclear = cat->group_unclear[t->group_id];
		if (t->role == DEDUP_ROLE_KEEPER)
			t->verdict = unclear ?
				psprintf("keeper not clear-cut: %s; check which one the application uses", unclear) :
				"keep";
		else if (t->role == DEDUP_ROLE_EXTENSION)
			t->verdict = psprintf("1:1 extension of %s: merge with dedup.merge_extension()",
								  cat->tables[t->extends].qualname);
		else if (t->role == DEDUP_ROLE_BACKUP)
			t->verdict = backup_verdict(cat, t, k, exact);
		else if (t->unknown_reason != DEDUP_KNOWN)
			t->verdict = psprintf("emptiness unknown: %s",
								  dedup_unknown_phrase(t->unknown_reason));
		else if (t->nrows == 0 && unclear)
			t->verdict = psprintf("empty, but the keeper is not clear-cut: %s; check which one the application uses",
								  unclear);
		else if (t->drifted)
			t->verdict = t->nrows == 0 ?
				psprintf("empty, but %s", drift_phrase(t, k, "dropping it")) :
				psprintf("holds rows, but %s", drift_phrase(t, k, "merging or dropping it"));
		else if (t->nrows == 0 && t->safe_to_drop)
			t->verdict = "empty: safe to drop";
		else if (t->nrows == 0)
			t->verdict = empty_verdict(t, k);
		else if (unclear)
			t->verdict = psprintf("holds rows, and the keeper is not clear-cut: %s", unclear);
		else if (exact && k->unknown_reason == DEDUP_KNOWN)
			t->verdict = rows_verdict(cat, t, k, "keeper");
		else
			t->verdict = "merge into keeper";
	}
}

/* "no sign of use: ..." for a member that shows none */
static char *
no_use_phrase(DedupCatalog *cat, DedupTable *t)
{
	if (cat->stats_off)
		return "no sign of use: nothing depends on it or mentions it (no statistics: track_counts is off)";
	return psprintf("no sign of use: nothing depends on it or mentions it; " INT64_FORMAT " scan%s %s",
					t->scans, t->scans == 1 ? "" : "s",
					cat->stats_since ?
					psprintf("since the statistics were reset at %s", cat->stats_since) :
					"since the statistics began");
}

/*
 * Build the duplicate groups.  Every member is read (AccessShareLock,
 * released at once): exactly counted with exact_counts, otherwise only
 * "empty or not".  Fills group ids, roles, strength, similarity, evidence,
 * signs of use, the drop plan and verdicts.
 */
void
dedup_build_groups(DedupCatalog *cat, bool exact_counts)
{
	int		   *elig = palloc(sizeof(int) * Max(cat->ntables, 1));
	int			nelig = 0;
	int		   *size;
	int		   *nonbackup;
	List	  **members;
	int		   *all;
	int			nall = 0;
	int		   *keepers;
	char	  **reasons;
	char	  **unclear;
	int			ncomp = 0;
	int			i,
				g;

	for (i = 0; i < cat->ntables; i++)
		if (cat->tables[i].eligible)
			elig[nelig++] = i;

	mark_backups(cat, elig, nelig);
	link_stem_families(cat, elig, nelig);
	link_orm_twins(cat, elig, nelig);
	link_journaled_backups(cat, elig, nelig);
	link_extensions(cat, elig, nelig);

	/* components of two or more tables, one of them no backup (by root), members by name */
	size = palloc0(sizeof(int) * Max(cat->ntables, 1));
	nonbackup = palloc0(sizeof(int) * Max(cat->ntables, 1));
	for (i = 0; i < nelig; i++)
	{
		size[uf_find(cat, elig[i])]++;
		if (!cat->tables[elig[i]].is_backup)
			nonbackup[uf_find(cat, elig[i])]++;
	}
	members = palloc0(sizeof(List *) * Max(cat->ntables, 1));
	all = palloc(sizeof(int) * Max(nelig, 1));
	dedup_sort_by_name(cat, elig, nelig);
	for (i = 0; i < nelig; i++)
	{
		int			r = uf_find(cat, elig[i]);

		if (size[r] >= 2 && nonbackup[r] >= 1)
		{
			members[r] = lappend_int(members[r], elig[i]);
			/* find_empty_duplicates shows nothing of backups */
			if (exact_counts || !cat->tables[elig[i]].is_backup)
				all[nall++] = elig[i];
		}
	}

	/* signs of use of every member, then read them, choose each keeper */
	dedup_load_usage(cat, all, nall);
	keepers = palloc(sizeof(int) * Max(cat->ntables, 1));
	reasons = palloc0(sizeof(char *) * Max(cat->ntables, 1));
	unclear = palloc0(sizeof(char *) * Max(cat->ntables, 1));
	for (i = 0; i < cat->ntables; i++)
	{
		ListCell   *lc;
		int		   *mem;
		int			m = 0;
		int			k;

		if (members[i] == NIL)
			continue;
		mem = palloc(sizeof(int) * list_length(members[i]));
		foreach(lc, members[i])
		{
			CHECK_FOR_INTERRUPTS();
			mem[m] = lfirst_int(lc);
			if (exact_counts || !cat->tables[mem[m]].is_backup)
				dedup_probe_table(&cat->tables[mem[m]], exact_counts);
			m++;
		}
		k = choose_keeper(cat, mem, m, &reasons[i], &unclear[i]);
		if (k >= 0)
			keepers[ncomp++] = k;
		else
			members[i] = NIL;
	}

	/* group ids follow the keepers' names */
	dedup_sort_by_name(cat, keepers, ncomp);
	cat->ngroups = ncomp;
	cat->group_keeper = palloc(sizeof(int) * (ncomp + 1));
	cat->group_unclear = palloc0(sizeof(char *) * (ncomp + 1));
	for (g = 0; g < ncomp; g++)
	{
		DedupTable *k = &cat->tables[keepers[g]];
		int			root = uf_find(cat, keepers[g]);
		ListCell   *lc;

		cat->group_keeper[g + 1] = keepers[g];
		cat->group_unclear[g + 1] = unclear[root];
		foreach(lc, members[root])
		{
			DedupTable *t = &cat->tables[lfirst_int(lc)];
			char	   *why = NULL;
			ListCell   *uc;

			t->group_id = g + 1;
			t->role = t == k ? DEDUP_ROLE_KEEPER :
				t->is_backup ? DEDUP_ROLE_BACKUP :
				t->extends >= 0 ? DEDUP_ROLE_EXTENSION : DEDUP_ROLE_DUPLICATE;
			t->similarity = dedup_column_similarity(cat, t, k);
			if (t->role == DEDUP_ROLE_DUPLICATE ||
				(t->role == DEDUP_ROLE_BACKUP && exact_counts))
				t->strength = copy_strength(cat, t, k, &why);
			if (!exact_counts)
				continue;		/* find_empty_duplicates shows no evidence */
			t->evidence = list_concat(list_copy(t->name_evidence), t->evidence);
			if (t == k)
				t->evidence = lcons(reasons[root], t->evidence);
			else if (t->name_evidence == NIL && !t->orm_twin && t->extends < 0 &&
					 t->journaled == NULL)
				t->evidence = lappend(t->evidence,
									  strcmp(t->lowername, k->lowername) == 0 ?
									  psprintf("same name as %s ignoring case", k->qualname) :
									  psprintf("base name of the group of %s", k->qualname));
			if (why)
				t->evidence = lappend(t->evidence, why);
			if (t->role == DEDUP_ROLE_EXTENSION)
				continue;
			foreach(uc, t->use)
				t->evidence = lappend(t->evidence, psprintf("in use: %s", (char *) lfirst(uc)));
			if (!t->in_use && t != k)
				t->evidence = lappend(t->evidence, no_use_phrase(cat, t));
			if (t->last_read)
				t->evidence = lappend(t->evidence, psprintf("last read at %s", t->last_read));
		}
	}

	dedup_plan_drops(cat);
	set_verdicts(cat, exact_counts);
}

/*
 * Plan the drops of empty duplicates.  A drop is safe when the table is a
 * copy by strong or medium evidence, its group's keeper is clear-cut, it
 * shows no sign of use, and DROP TABLE without CASCADE would take nothing
 * but the table and what it owns: nothing depends on it or on what it owns
 * (pg_depend), it has no partition or inheritance child and is in no
 * publication, and every foreign key into it comes from a table dropped
 * earlier.  drop_order is a topological order (referencing tables first),
 * ties broken by name.
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
		foreach(lc, t->mentions)
			t->blockers = lappend(t->blockers, psprintf("dependent %s", (char *) lfirst(lc)));
		foreach(lc, t->children)
			t->blockers = lappend(t->blockers,
								  psprintf("%s %s", t->relkind == RELKIND_PARTITIONED_TABLE ?
										   "attached partition" : "inheritance child",
										   dedup_qualified_name(lfirst_oid(lc))));
		foreach(lc, t->publications)
			t->blockers = lappend(t->blockers,
								  psprintf("member of publication %s",
										   quote_identifier((char *) lfirst(lc))));
		t->safe_to_drop = t->blockers == NIL && !t->in_use &&
			t->strength >= DEDUP_STRENGTH_MEDIUM &&
			cat->group_unclear[t->group_id] == NULL;
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
