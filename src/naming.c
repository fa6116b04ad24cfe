/*-------------------------------------------------------------------------
 *
 * naming.c
 *	  Name families: strip date, leftover and version affixes from a table
 *	  name to find its stem, and build the key that matches ORM twins.
 *
 * Names are compared case-insensitively (ASCII folding; other characters
 * are kept as they are).  Affixes are stripped repeatedly, so
 * "members_full_orphans" and "v3_projects_backup_20260118" reduce to
 * "members" and "projects".  A stem is never reduced to nothing.
 *
 *	 date suffix      _2026_01 _202601 _2026_01_18 _20260118 _p2026_01 _p202601
 *	 leftover suffix  _backup _bak _old _new _copy _tmp _temp _deprecated
 *	                  _archive _archived _full _orphans _orphan, _v2 (version)
 *	 prefix           v2_ v3_ ... (version), old_ new_ tmp_ bak_ (leftover)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "dedup.h"

static const char *const leftover_suffixes[] = {
	"backup", "bak", "old", "new", "copy", "tmp", "temp", "deprecated",
	"archive", "archived", "full", "orphans", "orphan", NULL
};

static const char *const leftover_prefixes[] = {
	"old", "new", "tmp", "bak", NULL
};

static bool
all_digits(const char *s, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int
num(const char *s, int n)
{
	int			v = 0;
	int			i;

	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* A plausible date: year 1900-2199, month 01-12, day (when given) 01-31. */
static bool
valid_date(const char *y, const char *m, const char *d)
{
	int			year = num(y, 4);
	int			month = num(m, 2);

	if (year < 1900 || year > 2199 || month < 1 || month > 12)
		return false;
	if (d)
	{
		int			day = num(d, 2);

		if (day < 1 || day > 31)
			return false;
	}
	return true;
}

/*
 * Length of a date suffix ending s[0..len), including its leading '_'
 * (and optional 'p'), or 0.
 */
static int
date_suffix_len(const char *s, int len)
{
	/* digits-only tail after the last '_' (or '_p') */
	int			start = len;
	int			ndig;
	const char *tail;
	int			plen;

	/* try the separated forms first: _YYYY_MM_DD, _YYYY_MM */
	if (len >= 11 && s[len - 11] == '_' && s[len - 6] == '_' && s[len - 3] == '_' &&
		all_digits(s + len - 10, 4) && all_digits(s + len - 5, 2) &&
		all_digits(s + len - 2, 2) &&
		valid_date(s + len - 10, s + len - 5, s + len - 2))
		return (len >= 12 && s[len - 12] == '_' && s[len - 11] == 'p') ? 0 : 11;
	if (len >= 12 && s[len - 12] == '_' && s[len - 11] == 'p' && s[len - 6] == '_' &&
		s[len - 3] == '_' && all_digits(s + len - 10, 4) &&
		all_digits(s + len - 5, 2) && all_digits(s + len - 2, 2) &&
		valid_date(s + len - 10, s + len - 5, s + len - 2))
		return 12;
	if (len >= 8 && s[len - 8] == '_' && s[len - 3] == '_' &&
		all_digits(s + len - 7, 4) && all_digits(s + len - 2, 2) &&
		valid_date(s + len - 7, s + len - 2, NULL))
		return 8;
	if (len >= 9 && s[len - 9] == '_' && s[len - 8] == 'p' && s[len - 3] == '_' &&
		all_digits(s + len - 7, 4) && all_digits(s + len - 2, 2) &&
		valid_date(s + len - 7, s + len - 2, NULL))
		return 9;

	/* compact forms: _YYYYMMDD, _YYYYMM, with optional p */
	while (start > 0 && s[start - 1] >= '0' && s[start - 1] <= '9')
		start--;
	ndig = len - start;
	if (ndig != 6 && ndig != 8)
		return 0;
	tail = s + start;
	if (!valid_date(tail, tail + 4, ndig == 8 ? tail + 6 : NULL))
		return 0;
	plen = 0;
	if (start >= 1 && s[start - 1] == 'p')
		plen = 1;
	if (start - plen >= 1 && s[start - plen - 1] == '_')
		return ndig + plen + 1;
	return 0;
}

/* Length of a leftover or version suffix ("_old", "_v2"), or 0. */
static int
leftover_suffix_len(const char *s, int len, bool *is_version)
{
	int			i;
	int			start;

	*is_version = false;
	for (i = 0; leftover_suffixes[i]; i++)
	{
		int			n = strlen(leftover_suffixes[i]);

		if (len > n + 1 && s[len - n - 1] == '_' &&
			memcmp(s + len - n, leftover_suffixes[i], n) == 0)
			return n + 1;
	}
	/* _v<digits> */
	start = len;
	while (start > 0 && s[start - 1] >= '0' && s[start - 1] <= '9')
		start--;
	if (start < len && len - start <= 3 && start >= 2 &&
		s[start - 1] == 'v' && s[start - 2] == '_')
	{
		*is_version = true;
		return len - start + 2;
	}
	return 0;
}

/* Length of a version or leftover prefix ("v3_", "old_"), or 0. */
static int
prefix_len(const char *s, int len, bool *is_version)
{
	int			i;

	*is_version = false;
	if (len > 2 && s[0] == 'v' && s[1] >= '0' && s[1] <= '9')
	{
		i = 1;
		while (i < len && i <= 3 && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i < len && s[i] == '_')
		{
			*is_version = true;
			return i + 1;
		}
	}
	for (i = 0; leftover_prefixes[i]; i++)
	{
		int			n = strlen(leftover_prefixes[i]);

		if (len > n + 1 && s[n] == '_' && memcmp(s, leftover_prefixes[i], n) == 0)
			return n + 1;
	}
	return 0;
}

/*
 * Fill t->lowername, t->stem, t->name_evidence and t->ormkey.  Tables that
 * belong to a parent (attached partitions, inheritance children) are never
 * eligible for a group: they are part of their parent.
 */
void
dedup_parse_name(DedupTable *t)
{
	char	   *s = pstrdup(t->relname);
	int			start = 0;
	int			len = strlen(s);
	int			i;
	bool		changed = true;

	for (i = 0; i < len; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] += 'a' - 'A';
	t->lowername = pstrdup(s);

	while (changed)
	{
		int			n;
		bool		version;

		changed = false;
		if ((n = date_suffix_len(s + start, len - start)) > 0 && len - start - n > 0)
		{
			t->name_evidence = lappend(t->name_evidence,
									   psprintf("date suffix \"%.*s\"", n, s + len - n));
			len -= n;
			changed = true;
		}
		else if ((n = leftover_suffix_len(s + start, len - start, &version)) > 0 &&
				 len - start - n > 0)
		{
			t->name_evidence = lappend(t->name_evidence,
									   psprintf("%s suffix \"%.*s\"",
												version ? "version" : "leftover",
												n, s + len - n));
			len -= n;
			changed = true;
		}
		else if ((n = prefix_len(s + start, len - start, &version)) > 0 &&
				 len - start - n > 0)
		{
			t->name_evidence = lappend(t->name_evidence,
									   psprintf("%s prefix \"%.*s\"",
												version ? "version" : "leftover",
												n, s + start));
			start += n;
			changed = true;
		}
	}
	t->stem = pnstrdup(s + start, len - start);
	t->ormkey = dedup_orm_key(t->stem, strlen(t->stem));
	t->eligible = !t->ispartition && !OidIsValid(t->parent);
}

/*
 * The ORM key of a name: underscores removed and one plural ending dropped,
 * so "project_applications", "projectapplication" and "ProjectApplications"
 * share the key "projectapplication".
 */
char *
dedup_orm_key(const char *name, int len)
{
	char	   *k = palloc(len + 1);
	int			n = 0;
	int			i;

	for (i = 0; i < len; i++)
		if (name[i] != '_')
			k[n++] = name[i];
	k[n] = '\0';

#define ENDS(sfx) (n > (int) strlen(sfx) + 1 && strcmp(k + n - strlen(sfx), sfx) == 0)
	if (ENDS("ies"))
	{
		n -= 3;
		k[n++] = 'y';
	}
	else if (ENDS("sses") || ENDS("xes") || ENDS("ches") || ENDS("shes"))
		n -= 2;
	else if (ENDS("s") && !ENDS("ss"))
		n -= 1;
#undef ENDS
	k[n] = '\0';
	return k;
}
