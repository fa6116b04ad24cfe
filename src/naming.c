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
 *	 date suffix        _2026_01 _202601 _2026_01_18 _20260118 _p2026_01 _p202601
 *	 leftover suffix    _old _orig(inal) _prev(ious) _copy _dup(e) _tmp _temp
 *	                    _deprecated _unused _full _orphan(s) _before_migration
 *	                    _pre_migration, each optionally with a copy number or
 *	                    a year: _copy1 _old_2 _archive_2023
 *	 backup suffix      _backup _bak _bkp _bck (_backup2, _bak_2024)
 *	 ambiguous suffix   _new _archive _archived (the live table may carry them)
 *	 version            _v2 v3_ ...; _v1 v1_ v0_ are the first generation
 *	 prefix             old_ tmp_ temp_ copy_of_ (leftover), backup_ bak_
 *	                    (backup), new_ (ambiguous)
 *	 copy number        t2, t_2: kept in the stem (grouping.c joins it to
 *	                    the table named without it, same columns only)
 *
 * Leading underscores are ignored ("_prisma_migrations" has the stem
 * "prisma_migrations" and no affix).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "dedup.h"
#include "ddl.h"

/*
 * Words that end a name (after '_') or start it (before '_'), and what they
 * say.  A suffix word may carry a copy number or a year: "_backup2",
 * "_copy_1", "_archive_2023".  Longer words come before their prefixes.
 */
typedef struct AffixWord
{
	const char *word;
	int			kind;			/* DEDUP_AFFIX_* */
} AffixWord;

static const AffixWord suffix_words[] = {
	{"before_migration", DEDUP_AFFIX_LEFTOVER},
	{"pre_migration", DEDUP_AFFIX_LEFTOVER},
	{"backup", DEDUP_AFFIX_BACKUP},
	{"bak", DEDUP_AFFIX_BACKUP},
	{"bkp", DEDUP_AFFIX_BACKUP},
	{"bck", DEDUP_AFFIX_BACKUP},
	{"old", DEDUP_AFFIX_LEFTOVER},
	{"orig", DEDUP_AFFIX_LEFTOVER},
	{"original", DEDUP_AFFIX_LEFTOVER},
	{"prev", DEDUP_AFFIX_LEFTOVER},
	{"previous", DEDUP_AFFIX_LEFTOVER},
	{"copy", DEDUP_AFFIX_LEFTOVER},
	{"dup", DEDUP_AFFIX_LEFTOVER},
	{"dupe", DEDUP_AFFIX_LEFTOVER},
	{"tmp", DEDUP_AFFIX_LEFTOVER},
	{"temp", DEDUP_AFFIX_LEFTOVER},
	{"deprecated", DEDUP_AFFIX_LEFTOVER},
	{"unused", DEDUP_AFFIX_LEFTOVER},
	{"full", DEDUP_AFFIX_LEFTOVER},
	{"orphans", DEDUP_AFFIX_LEFTOVER},
	{"orphan", DEDUP_AFFIX_LEFTOVER},
	{"archived", DEDUP_AFFIX_AMBIGUOUS},
	{"archive", DEDUP_AFFIX_AMBIGUOUS},
	{"new", DEDUP_AFFIX_AMBIGUOUS},
	{NULL, 0}
};

static const AffixWord prefix_words[] = {
	{"copy_of", DEDUP_AFFIX_LEFTOVER},
	{"backup", DEDUP_AFFIX_BACKUP},
	{"bak", DEDUP_AFFIX_BACKUP},
	{"old", DEDUP_AFFIX_LEFTOVER},
	{"tmp", DEDUP_AFFIX_LEFTOVER},
	{"temp", DEDUP_AFFIX_LEFTOVER},
	{"new", DEDUP_AFFIX_AMBIGUOUS},
	{NULL, 0}
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

/* Length of a run of digits ending s[0..len), or 0. */
static int
trailing_digits(const char *s, int len)
{
	int			n = 0;

	while (n < len && s[len - n - 1] >= '0' && s[len - n - 1] <= '9')
		n++;
	return n;
}

/*
 * Length of a word suffix ("_old", "_backup2", "_copy_1", "_archive_2023",
 * "_v2"), including its '_', or 0; *kind receives what it says.
 */
static int
word_suffix_len(const char *s, int len, int *kind)
{
	int			i;
	int			digits = trailing_digits(s, len);
	int			start;

	/* _v<digits> */
	if (digits > 0 && digits <= 3 && len - digits >= 2 &&
		s[len - digits - 1] == 'v' && s[len - digits - 2] == '_')
	{
		*kind = num(s + len - digits, digits) <= 1 ? DEDUP_AFFIX_FIRST : DEDUP_AFFIX_VERSION;
		return digits + 2;
	}

	/* a word, then optionally a copy number (1-2 digits) or a year */
	for (i = 0; suffix_words[i].word; i++)
	{
		int			n = strlen(suffix_words[i].word);
		int			tail = 0;

		if (digits > 0 && (digits <= 2 || digits == 4))
		{
			tail = digits;
			if (len - tail > 0 && s[len - tail - 1] == '_')
				tail++;
			if (digits == 4 && (num(s + len - 4, 4) < 1900 || num(s + len - 4, 4) > 2199))
				tail = 0;
		}
		for (;;)
		{
			start = len - tail - n;
			if (start > 1 && s[start - 1] == '_' &&
				memcmp(s + start, suffix_words[i].word, n) == 0)
			{
				/* "_archive_2023", "_new2": a dated or numbered copy */
				*kind = (tail > 0 && suffix_words[i].kind == DEDUP_AFFIX_AMBIGUOUS) ?
					DEDUP_AFFIX_LEFTOVER : suffix_words[i].kind;
				return len - start + 1;
			}
			if (tail == 0)
				break;
			tail = 0;
		}
	}
	return 0;
}

/*
 * Length of a bare copy number ("t2", "t_2": one or two digits after a
 * letter), or 0.  It only ever joins a table with the bare name and the
 * same columns (grouping.c).
 */
static int
number_suffix_len(const char *s, int len)
{
	int			digits = trailing_digits(s, len);

	if (digits == 0 || digits > 2 || len - digits < 2)
		return 0;
	if (s[len - digits - 1] == '_')
		return (len - digits >= 3 && s[len - digits - 2] != '_' &&
				!(s[len - digits - 2] >= '0' && s[len - digits - 2] <= '9')) ? digits + 1 : 0;
	if (s[len - digits - 1] >= 'a' && s[len - digits - 1] <= 'z')
		return digits;
	return 0;
}

/* Length of a version or leftover prefix ("v3_", "old_"), or 0. */
static int
prefix_len(const char *s, int len, int *kind)
{
	int			i;

	if (len > 2 && s[0] == 'v' && s[1] >= '0' && s[1] <= '9')
	{
		i = 1;
		while (i < len && i <= 3 && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i < len && s[i] == '_')
		{
			*kind = num(s + 1, i - 1) <= 1 ? DEDUP_AFFIX_FIRST : DEDUP_AFFIX_VERSION;
			return i + 1;
		}
	}
	for (i = 0; prefix_words[i].word; i++)
	{
		int			n = strlen(prefix_words[i].word);

		if (len > n + 1 && s[n] == '_' && memcmp(s, prefix_words[i].word, n) == 0)
		{
			*kind = prefix_words[i].kind;
			return n + 1;
		}
	}
	return 0;
}

static const char *
affix_kind_name(int kind)
{
	switch (kind)
	{
		case DEDUP_AFFIX_LEFTOVER:
			return "leftover";
		case DEDUP_AFFIX_BACKUP:
			return "backup";
		case DEDUP_AFFIX_AMBIGUOUS:
			return "ambiguous";
		case DEDUP_AFFIX_VERSION:
			return "version";
		case DEDUP_AFFIX_NUMBER:
			return "copy number";
		case DEDUP_AFFIX_FIRST:
			return "first-version";
	}
	return "date";
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

	/* leading underscores mark names as internal, not as copies */
	while (start < len - 1 && s[start] == '_')
		start++;

	while (changed)
	{
		int			n;
		int			kind;

		changed = false;
		if ((n = date_suffix_len(s + start, len - start)) > 0 && len - start - n > 0)
		{
			kind = DEDUP_AFFIX_DATE;
			t->name_evidence = lappend(t->name_evidence,
									   psprintf("date suffix \"%.*s\"", n, s + len - n));
			len -= n;
		}
		else if ((n = word_suffix_len(s + start, len - start, &kind)) > 0 &&
				 len - start - n > 0)
		{
			t->name_evidence = lappend(t->name_evidence,
									   psprintf("%s suffix \"%.*s\"", affix_kind_name(kind),
												n, s + len - n));
			len -= n;
		}
		else if ((n = prefix_len(s + start, len - start, &kind)) > 0 &&
				 len - start - n > 0)
		{
			t->name_evidence = lappend(t->name_evidence,
									   psprintf("%s prefix \"%.*s\"", affix_kind_name(kind),
												n, s + start));
			start += n;
		}
		else
			break;
		t->affixes |= kind;
		changed = true;
	}
	t->stem = pnstrdup(s + start, len - start);
	/* a bare copy number is kept in the stem: grouping looks up the base */
	if (t->affixes == 0)
		t->number_len = number_suffix_len(t->stem, strlen(t->stem));
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

/*
 * Is relname named like a backup: a backup affix as discovery reads names
 * ("members_backup_20260118", "members_bak2", "backup_members"; naming.c)?
 * Such a table is never merged or dropped as a look-alike.
 */
bool
dedup_named_like_backup(const char *relname)
{
	DedupTable	t;

	memset(&t, 0, sizeof(t));
	t.relname = (char *) relname;
	dedup_parse_name(&t);
	return (t.affixes & DEDUP_AFFIX_BACKUP) != 0;
}
