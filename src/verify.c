/*-------------------------------------------------------------------------
 *
 * verify.c
 *	  dedup.verify(): the database checked against the latest baseline, one
 *	  row per check (or per thing found wrong).
 *
 * With a baseline (baseline.c):
 *	 rows          no table of the baseline has fewer rows, through its name
 *				   (a merged extension's name answers as a view)
 *	 nulls         no column has more NULLs than the rows added explain
 *				   (rows a merge inserted may lack a value in a column the
 *				   look-alike did not have; columns a merge added are new)
 *	 foreign_keys  the baseline's foreign keys are still there and as valid
 *	 access        every role can do through each name what it could, and
 *				   nothing more (dedup._access_codes)
 *	 rls           every table keeps its row level security and policies
 *	 sequences     none moved back
 *	 views         the views on the baseline's tables still exist
 * With or without one:
 *	 orphans       no foreign key (NOT VALID ones included) has a row
 *				   without its referenced row: those touching the
 *				   baseline's tables and every NOT VALID one (without a
 *				   baseline: every foreign key of the schemas)
 *	 sequences     every sequence is ahead of its column
 *	 views         every view of the schemas still compiles
 *	 backups       every backup in the journal still matches its fingerprint
 *	 groups        no duplicate group is left that the plan could resolve
 *
 * Each check reads as the caller (row level security off: a table whose
 * policies would filter the caller cannot be checked, and says so).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rls.h"
#include "utils/tuplestore.h"

#include "compat.h"
#include "dedup.h"
#include "ddl.h"
#include "plan.h"

PG_FUNCTION_INFO_V1(dedup_verify);

/* The checks being collected, and how many were fine per check. */
typedef struct Verify
{
	int64		baseline;
	bool		merge_extensions;	/* as the baseline's plan had it */
	ArrayType  *schemas;
	List	   *scope;			/* Oid: the tables of the schemas */
	List	   *scope_namespaces;	/* Oid: their schemas */
	List	   *checks;			/* DedupCheck *, in order */
} Verify;

/* oid[] of a List of Oids */
static Datum
oid_array(List *oids)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(list_length(oids), 1));
	ListCell   *lc;
	int			n = 0;

	foreach(lc, oids)
		elems[n++] = ObjectIdGetDatum(lfirst_oid(lc));
	return PointerGetDatum(construct_array(elems, n, OIDOID, sizeof(Oid), true, TYPALIGN_INT));
}

/* A query that reads from the baseline ($1: its journal id), as the journal's owner. */
static List *
baseline_rows(Verify *v, const char *sql)
{
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(v->baseline)};

	return dedup_journal_rows(sql, 1, types, args);
}

static void
add(Verify *v, const char *name, const char *target, int ok, char *detail)
{
	DedupCheck *c = palloc0(sizeof(DedupCheck));

	c->name = pstrdup(name);
	c->target = pstrdup(target);
	c->ok = ok;
	c->detail = detail;
	v->checks = lappend(v->checks, c);
}

/* The summary row of a check: ok when nothing was found wrong. */
static void
summary(Verify *v, const char *name, int before, int checked, const char *what, const char *fine)
{
	ListCell   *lc;

	for_each_from(lc, v->checks, before)
		if (((DedupCheck *) lfirst(lc))->ok == 0)
		return;
	if (checked == 0 && list_length(v->checks) == before)
	{
		add(v, name, psprintf("no %s", what), 1, pstrdup("nothing to check"));
		return;
	}
	if (list_length(v->checks) == before)
		add(v, name, psprintf("%d %s", checked, what), 1, pstrdup(fine));
}

/*
 * Rows and NULLs read through a view, as the view's owner: a view is its
 * owner's code (its functions would otherwise run as the caller of
 * verify() or apply()).  The caller must hold SELECT on the view itself.
 */
typedef struct ViewCountArgs
{
	const char *sql;
	Oid			owner;
	List	   *rows;
} ViewCountArgs;

static void
view_count_body(void *arg)
{
	ViewCountArgs *a = (ViewCountArgs *) arg;

	a->rows = dedup_query_rows_as(a->sql, a->owner, 0, NULL, NULL);
}

/*
 * The first value of a read of tables owned by owner, run as the owner
 * (their index expressions are its code), in a subtransaction: NULL and
 * *why on error.  The caller has checked that it may read every row.
 */
typedef struct OwnerValueArgs
{
	const char *sql;
	Oid			owner;
	char	   *value;
} OwnerValueArgs;

static void
owner_value_body(void *arg)
{
	OwnerValueArgs *a = (OwnerValueArgs *) arg;
	List	   *rows = dedup_query_rows_as(a->sql, a->owner, 0, NULL, NULL);

	a->value = rows ? ((char **) linitial(rows))[0] : NULL;
}

static char *
try_value_as(const char *sql, Oid owner, char **why)
{
	OwnerValueArgs a = {sql, owner, NULL};

	*why = NULL;
	return dedup_try(owner_value_body, &a, why) ? a.value : NULL;
}

/* What an access letter means, for a detail. */
static const char *
access_words(char c)
{
	switch (c)
	{
		case '-':
			return "nothing";
		case 'a':
			return "every row";
		case 'p':
			return "the rows its policies allow";
		case 'n':
			return "no row (row level security, no policy)";
		case 'A':
			return "some columns of every row";
		case 'P':
			return "some columns of the rows its policies allow";
		case 'N':
			return "no row (some columns; row level security, no policy)";
	}
	return "?";
}

/*
 * rows, nulls: every table of the baseline through its name now; a name
 * that is a view now (a merged extension) is counted through the view.
 */
static void
check_rows_and_nulls(Verify *v)
{
	int			before_rows = list_length(v->checks);
	int			nrows = 0;
	List	   *nulls_found = NIL;
	ListCell   *lc;

	foreach(lc, baseline_rows(v, "SELECT t->>'t', t->>'r', t->'c', t->'n',"
							  "       pg_catalog.to_regclass(t->>'t')::pg_catalog.oid"
							  "  FROM dedup.journal j, pg_catalog.jsonb_array_elements(j.detail->'tables') t"
							  " WHERE j.id OPERATOR(pg_catalog.=) $1 ORDER BY 1"))
	{
		char	  **r = (char **) lfirst(lc);
		Oid			relid = r[4] ? (Oid) strtoul(r[4], NULL, 10) : InvalidOid;
		List	   *cols = NIL;
		List	   *then = NIL;
		int64		rows_then = r[1] ? pg_strtoint64(r[1]) : -1;
		int64		rows_now = -1;
		int64	   *nulls_now;
		ListCell   *cc;
		ListCell   *tc;
		int			i;
		bool		known;

		CHECK_FOR_INTERRUPTS();
		nrows++;
		if (!OidIsValid(relid))
		{
			add(v, "rows", r[0], 0, psprintf("%s no longer exists; it held " INT64_FORMAT " rows", r[0], rows_then));
			continue;
		}
		foreach(cc, dedup_query_rows("SELECT c, n FROM pg_catalog.jsonb_array_elements_text($1::pg_catalog.jsonb) WITH ORDINALITY x(c, i)"
									 "  JOIN pg_catalog.jsonb_array_elements_text($2::pg_catalog.jsonb) WITH ORDINALITY y(n, i) USING (i)"
									 " ORDER BY i", 2, (Oid[]) {TEXTOID, TEXTOID},
									 (Datum[]) {CStringGetTextDatum(r[2]), CStringGetTextDatum(r[3])}))
		{
			char	  **cn = (char **) lfirst(cc);

			if (get_attnum(relid, cn[0]) == InvalidAttrNumber)
				continue;		/* a column that is gone shows in the catalog, not here */
			cols = lappend(cols, cn[0]);
			then = lappend(then, cn[1]);
		}
		nulls_now = palloc0(sizeof(int64) * Max(list_length(cols), 1));
		if (get_rel_relkind(relid) == RELKIND_VIEW)
		{
			StringInfoData q;
			char	   *why;
			List	   *res;

			initStringInfo(&q);
			appendStringInfoString(&q, "SELECT pg_catalog.count(*)");
			foreach(cc, cols)
				appendStringInfo(&q, ", pg_catalog.count(*) FILTER (WHERE v.%s IS NULL)", quote_identifier((char *) lfirst(cc)));
			appendStringInfo(&q, " FROM %s v", r[0]);
			known = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK;

			/*
			 * The owner reads what the view reads: the caller must be able
			 * to read every row of each of those too (the view is
			 * security_invoker, and its rows are not the caller's to count
			 * otherwise).
			 */
			foreach(cc, known ? dedup_query_column("SELECT DISTINCT d.refobjid FROM pg_catalog.pg_rewrite w"
												   "  JOIN pg_catalog.pg_depend d ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass"
												   "       AND d.objid OPERATOR(pg_catalog.=) w.oid"
												   "       AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
												   " WHERE w.ev_class OPERATOR(pg_catalog.=) $1 AND d.refobjid OPERATOR(pg_catalog.<>) $1",
												   1, (Oid[]) {OIDOID}, (Datum[]) {ObjectIdGetDatum(relid)}, NULL) : NIL)
			{
				Oid			read = (Oid) strtoul((char *) lfirst(cc), NULL, 10);

				if (pg_class_aclcheck(read, GetUserId(), ACL_SELECT) != ACLCHECK_OK ||
					check_enable_rls(read, InvalidOid, true) == RLS_ENABLED)
					known = false;
			}
			if (known)
			{
				ViewCountArgs a = {q.data, dedup_rel_owner(relid), NIL};

				known = dedup_try(view_count_body, &a, &why);
				res = a.rows;
			}
			if (known)
			{
				rows_now = pg_strtoint64(((char **) linitial(res))[0]);
				for (i = 0; i < list_length(cols); i++)
					nulls_now[i] = pg_strtoint64(((char **) linitial(res))[i + 1]);
			}
		}
		else
			known = dedup_count_rows_and_nulls(relid, cols, &rows_now, nulls_now);
		if (!known || rows_then < 0)
		{
			add(v, "rows", r[0], -1, psprintf("%s cannot be counted by you: no SELECT privilege, or row level security applies to you", r[0]));
			continue;
		}
		if (rows_now < rows_then)
			add(v, "rows", r[0], 0,
				psprintf("%s held " INT64_FORMAT " rows and now holds " INT64_FORMAT ": SELECT count(*) FROM %s",
						 r[0], rows_then, rows_now, r[0]));
		i = 0;
		forboth(cc, cols, tc, then)
		{
			int64		n_then = pg_strtoint64((char *) lfirst(tc));
			int64		grown = nulls_now[i] - n_then;

			if (grown > 0 && grown > rows_now - rows_then)
				nulls_found = lappend(nulls_found,
									  psprintf("%s|column %s of %s had " INT64_FORMAT " NULLs and now has " INT64_FORMAT ", more than the " INT64_FORMAT " rows added explain: SELECT count(*) FROM %s WHERE %s IS NULL",
											   r[0], quote_identifier((char *) lfirst(cc)), r[0], n_then, nulls_now[i],
											   Max(rows_now - rows_then, 0), r[0], quote_identifier((char *) lfirst(cc))));
			i++;
		}
	}
	summary(v, "rows", before_rows, nrows, "tables", "no table lost rows");
	{
		int			before = list_length(v->checks);

		foreach(lc, nulls_found)
		{
			char	   *s = (char *) lfirst(lc);
			char	   *bar = strchr(s, '|');

			*bar = '\0';
			add(v, "nulls", s, 0, bar + 1);
		}
		summary(v, "nulls", before, nrows, "tables", "no column has more NULLs than the rows added explain");
	}
}

/* foreign_keys: each foreign key of the baseline still there, and as valid. */
static void
check_foreign_keys(Verify *v)
{
	int			before = list_length(v->checks);
	int			n = 0;
	ListCell   *lc;

	foreach(lc, baseline_rows(v, "SELECT t->>'t', f->>0, f->>1, f->>2,"
							  "       (SELECT k.convalidated FROM pg_catalog.pg_constraint k"
							  "         WHERE k.conrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(t->>'t')"
							  "           AND k.conname OPERATOR(pg_catalog.=) (f->>0) AND k.contype OPERATOR(pg_catalog.=) 'f'),"
							  "       pg_catalog.to_regclass(f->>1) IS NOT NULL,"
							  "       (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(t->>'t'))"
							  "  FROM dedup.journal j, pg_catalog.jsonb_array_elements(j.detail->'tables') t,"
							  "       pg_catalog.jsonb_array_elements(t->'f') f"
							  " WHERE j.id OPERATOR(pg_catalog.=) $1 ORDER BY 1, 2"))
	{
		char	  **r = (char **) lfirst(lc);

		n++;
		if (r[6] && strcmp(r[6], "v") == 0)
			continue;			/* a merged extension: its key went with it */
		if (r[4] == NULL && strcmp(r[5], "t") == 0)
			add(v, "foreign_keys", r[0], 0,
				psprintf("foreign key %s of %s to %s is gone: SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
						 quote_identifier(r[1]), r[0], r[2], quote_literal_cstr(r[0])));
		else if (r[4] && strcmp(r[3], "true") == 0 && strcmp(r[4], "f") == 0)
			add(v, "foreign_keys", r[0], 0,
				psprintf("foreign key %s of %s was validated and is NOT VALID now", quote_identifier(r[1]), r[0]));
	}
	summary(v, "foreign_keys", before, n, "foreign keys", "every foreign key of the baseline is there, as valid as it was");
}

/*
 * orphans: rows without their referenced row, under every foreign key that
 * touches a table of the baseline and every NOT VALID one of the schemas;
 * without a baseline, under every foreign key of the schemas.
 */
/*
 * The foreign keys whose rows are checked: those from or to a relation of
 * $1, and every NOT VALID one from or to a relation of $2; with the text of
 * the query that counts the rows without their referenced row, and of the
 * one that lists them.
 */
const char *dedup_orphan_fks_sql =
"SELECT k.oid, k.conrelid::pg_catalog.regclass::pg_catalog.text, k.conname::pg_catalog.text,"
"       dedup._fk_orphans_sql(k.oid), k.convalidated, k.confrelid::pg_catalog.regclass::pg_catalog.text,"
"       dedup._fk_orphans_sql(k.oid, true), k.conrelid, k.confrelid"
"  FROM pg_catalog.pg_constraint k"
" WHERE k.contype OPERATOR(pg_catalog.=) 'f' AND k.conparentid OPERATOR(pg_catalog.=) 0"
"   AND (k.conrelid OPERATOR(pg_catalog.=) ANY ($1) OR k.confrelid OPERATOR(pg_catalog.=) ANY ($1)"
"        OR (NOT k.convalidated"
"            AND (k.conrelid OPERATOR(pg_catalog.=) ANY ($2) OR k.confrelid OPERATOR(pg_catalog.=) ANY ($2))))"
" ORDER BY 2, 3";

static void
check_orphans(Verify *v, List *rels)
{
	int			before = list_length(v->checks);
	int			n = 0;
	ListCell   *lc;
	Oid			types[2] = {OIDARRAYOID, OIDARRAYOID};
	Datum		args[2];
	List	   *then = NIL;

	args[0] = oid_array(v->baseline ? rels : v->scope);
	args[1] = oid_array(v->scope);
	if (v->baseline)
		then = baseline_rows(v, "SELECT o->>0, o->>1, o->>2 FROM dedup.journal j,"
							 "       pg_catalog.jsonb_array_elements(j.detail->'orphans') o"
							 " WHERE j.id OPERATOR(pg_catalog.=) $1");
	foreach(lc, dedup_query_rows(dedup_orphan_fks_sql, 2, types, args))
	{
		char	  **r = (char **) lfirst(lc);
		char	   *why;
		int64		orphans;
		int64		before_n = -1;
		ListCell   *tc;

		CHECK_FOR_INTERRUPTS();
		n++;
		foreach(tc, then)
		{
			char	  **o = (char **) lfirst(tc);

			if (strcmp(o[0], r[1]) == 0 && strcmp(o[1], r[2]) == 0 && o[2])
				before_n = pg_strtoint64(o[2]);
		}
		orphans = dedup_count_orphans(r[3], (Oid) strtoul(r[7], NULL, 10), (Oid) strtoul(r[8], NULL, 10), &why);
		if (orphans < 0)
			add(v, "orphans", r[1], -1, psprintf("foreign key %s could not be checked: %s", quote_identifier(r[2]), why));
		else if (orphans > 0)
		{
			add(v, "orphans", r[1], 0,
				psprintf(INT64_FORMAT " row%s of %s %s no row in %s under foreign key %s%s%s: %s",
						 orphans, orphans == 1 ? "" : "s", r[1], orphans == 1 ? "has" : "have", r[5],
						 quote_identifier(r[2]), strcmp(r[4], "f") == 0 ? " (NOT VALID)" : "",
						 before_n >= 0 ? psprintf(" (" INT64_FORMAT " when the plan was made)", before_n) : "",
						 r[6]));
			((DedupCheck *) llast(v->checks))->preexisting = before_n >= orphans;
		}
	}
	summary(v, "orphans", before, n, "foreign keys", "no row lacks the row its foreign key refers to");
}

/*
 * sequences: each sequence that feeds a column of the tables is ahead of
 * the column (its next value is past every value in it), and none of the
 * baseline's moved back.
 */
static void
check_sequences(Verify *v, List *rels)
{
	int			before = list_length(v->checks);
	int			n = 0;
	ListCell   *lc;
	Oid			types[1] = {OIDARRAYOID};
	Datum		args[1];

	args[0] = oid_array(rels);
	foreach(lc, dedup_query_rows("SELECT s.seq::pg_catalog.text, s.rel::pg_catalog.regclass::pg_catalog.text, s.col,"
								 "       q.seqincrement, pg_catalog.has_sequence_privilege(s.seq, 'SELECT'), s.rel"
								 "  FROM dedup._table_sequences($1) s"
								 "  JOIN pg_catalog.pg_sequence q ON q.seqrelid OPERATOR(pg_catalog.=) s.seq"
								 " ORDER BY 1, 2, 3", 1, types, args))
	{
		char	  **r = (char **) lfirst(lc);
		bool		up = pg_strtoint64(r[3]) > 0;
		char	   *why;
		char	  **state;
		int64		last;
		bool		called;
		char	   *edge;

		CHECK_FOR_INTERRUPTS();
		n++;
		if (strcmp(r[4], "t") != 0)
		{
			add(v, "sequences", r[0], -1, psprintf("you may not read sequence %s", r[0]));
			continue;
		}
		state = (char **) linitial(dedup_query_rows(psprintf("SELECT last_value, is_called FROM %s", r[0]), 0, NULL, NULL));
		last = pg_strtoint64(state[0]);
		called = strcmp(state[1], "t") == 0;
		{
			Oid			rel = (Oid) strtoul(r[5], NULL, 10);

			if (!dedup_may_read_all(rel))
			{
				add(v, "sequences", r[0], -1, psprintf("column %s.%s cannot be read by you: no SELECT privilege, or row level security applies to you",
													   r[1], quote_identifier(r[2])));
				continue;
			}
			edge = try_value_as(psprintf("SELECT %s(%s)::pg_catalog.text FROM %s", up ? "pg_catalog.max" : "pg_catalog.min",
										 quote_identifier(r[2]), r[1]), dedup_rel_owner(rel), &why);
		}
		if (why)
		{
			add(v, "sequences", r[0], -1, psprintf("column %s.%s could not be read: %s", r[1], quote_identifier(r[2]), why));
			continue;
		}
		if (edge)
		{
			int64		e = pg_strtoint64(edge);
			bool		behind = up ? (called ? last < e : last <= e) : (called ? last > e : last >= e);

			if (behind)
				add(v, "sequences", r[0], 0,
					psprintf("the next value of %s is not past the %s " INT64_FORMAT " of %s.%s: the next insert may fail on its key; SELECT pg_catalog.setval(%s, (SELECT %s(%s) FROM %s))",
							 r[0], up ? "largest" : "smallest", e, r[1], quote_identifier(r[2]),
							 quote_literal_cstr(r[0]), up ? "max" : "min", quote_identifier(r[2]), r[1]));
		}
	}

	/* none of the baseline's moved back */
	if (v->baseline)
		foreach(lc, baseline_rows(v, "SELECT s->>'s', s->>'v', s->>'i', pg_catalog.to_regclass(s->>'s') IS NOT NULL,"
								  "       pg_catalog.to_regclass(s->>'s')::pg_catalog.oid"
								  "  FROM dedup.journal j, pg_catalog.jsonb_array_elements(j.detail->'sequences') s"
								  " WHERE j.id OPERATOR(pg_catalog.=) $1 AND s->>'v' IS NOT NULL ORDER BY 1"))
		{
			char	  **r = (char **) lfirst(lc);
			char	  **state;

			if (strcmp(r[3], "t") != 0)
			{
				add(v, "sequences", r[0], 0, psprintf("sequence %s is gone", r[0]));
				continue;
			}
			/* asked as the caller, before reading it */
			state = (char **) linitial(dedup_query_rows("SELECT pg_catalog.has_sequence_privilege(q.seqrelid, 'SELECT')"
														"       AND pg_catalog.has_schema_privilege(c.relnamespace, 'USAGE'),"
														"       q.seqincrement OPERATOR(pg_catalog.>) 0"
														"  FROM pg_catalog.pg_sequence q"
														"  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) q.seqrelid"
														" WHERE q.seqrelid OPERATOR(pg_catalog.=) $1",
														1, (Oid[]) {OIDOID}, (Datum[]) {ObjectIdGetDatum((Oid) strtoul(r[4], NULL, 10))}));
			if (strcmp(state[0], "t") != 0)
			{
				add(v, "sequences", r[0], -1, psprintf("you may not read sequence %s: whether it moved back since the plan is not known", r[0]));
				continue;
			}
			{
				bool		up = strcmp(state[1], "t") == 0;
				char	  **now = (char **) linitial(dedup_query_rows(psprintf("SELECT last_value, is_called FROM %s", r[0]),
																	   0, NULL, NULL));
				int64		then_v = pg_strtoint64(r[1]);
				int64		now_v = pg_strtoint64(now[0]);
				bool		then_called = strcmp(r[2], "true") == 0;
				bool		now_called = strcmp(now[1], "t") == 0;

				/* a descending sequence moves on downwards */
				if (up ? (now_v < then_v || (now_v == then_v && then_called && !now_called)) :
					(now_v > then_v || (now_v == then_v && then_called && !now_called)))
					add(v, "sequences", r[0], 0,
						psprintf("sequence %s moved back from %s%s to %s%s: SELECT last_value, is_called FROM %s",
								 r[0], r[1], then_called ? "" : " (not yet called)",
								 now[0], now_called ? "" : " (not yet called)", r[0]));
			}
		}
	summary(v, "sequences", before, n, "sequences", "every sequence is ahead of its column");
}

/*
 * access: every role can do through each name of the baseline what it
 * could, and nothing more; the names are looked up again (a merged
 * extension's name is a view now).
 */
static void
check_access(Verify *v)
{
	int			before = list_length(v->checks);
	int			n = 0;
	ListCell   *lc;
	List	   *differ = NIL;	/* "name role privilege" whose codes differ */

	foreach(lc, baseline_rows(v,
							  "WITH b AS (SELECT t->>'t' AS name, pg_catalog.to_regclass(t->>'t')::pg_catalog.oid AS rel,"
							  "                  j.detail->'acls'->((t->>'a')::pg_catalog.int4) AS codes, j.detail->'roles' AS roles"
							  "             FROM dedup.journal j, pg_catalog.jsonb_array_elements(j.detail->'tables') t"
							  "            WHERE j.id OPERATOR(pg_catalog.=) $1),"
							  " now AS (SELECT a.rel, a.codes FROM dedup._access_codes(ARRAY(SELECT rel FROM b WHERE rel IS NOT NULL)) a),"
							  " roles_now AS (SELECT r, i FROM pg_catalog.unnest(dedup._access_roles()) WITH ORDINALITY x(r, i))"
							  "SELECT b.name, r.role, r.code, COALESCE(now.codes[rn.i], '----')"
							  "  FROM b CROSS JOIN LATERAL pg_catalog.jsonb_array_elements_text(b.roles) WITH ORDINALITY r0(role, i)"
							  "  CROSS JOIN LATERAL (SELECT r0.role, b.codes->>((r0.i - 1)::pg_catalog.int4) AS code) r"
							  "  LEFT JOIN now ON now.rel OPERATOR(pg_catalog.=) b.rel"
							  "  LEFT JOIN roles_now rn ON rn.r OPERATOR(pg_catalog.=) r.role"
							  " WHERE b.rel IS NOT NULL ORDER BY 1, 2"))
	{
		char	  **r = (char **) lfirst(lc);
		static const char *const cmds[] = {"SELECT", "INSERT", "UPDATE", "DELETE"};
		StringInfoData d;
		int			c;

		n++;
		if (strcmp(r[2], r[3]) == 0)
			continue;
		initStringInfo(&d);
		for (c = 0; c < 4; c++)
			if (r[2][c] != r[3][c])
			{
				differ = lappend(differ, psprintf("%s %s %s", r[0], r[1], cmds[c]));
				appendStringInfo(&d, "%srole %s ", d.len ? "; " : "", r[1]);
				if (r[2][c] == '-')
					appendStringInfo(&d, "could not %s", cmds[c]);
				else
					appendStringInfo(&d, "could %s %s", cmds[c], access_words(r[2][c]));
				if (r[3][c] == '-')
					appendStringInfo(&d, "; now it has no %s privilege", cmds[c]);
				else
					appendStringInfo(&d, "; now it can %s %s", cmds[c], access_words(r[3][c]));
			}
		appendStringInfo(&d, ": SELECT * FROM information_schema.role_table_grants WHERE grantee = %s AND table_schema || '.' || table_name = %s; SELECT * FROM pg_policies WHERE schemaname || '.' || tablename = %s",
						 quote_literal_cstr(r[1]), quote_literal_cstr(r[0]), quote_literal_cstr(r[0]));
		add(v, "access", r[0], 0, d.data);
	}

	/*
	 * A code in capitals (some columns) says nothing of which: a role that
	 * may use other columns of a name than it could, through column
	 * privileges, with the same code, is compared column by column (those
	 * of the baseline that are still there).
	 */
	foreach(lc, baseline_rows(v,
							  "WITH b AS (SELECT t->>'t' AS name, pg_catalog.to_regclass(t->>'t')::pg_catalog.oid AS rel,"
							  "                  t->'c' AS cols, COALESCE(t->'x', '[]') AS x, j.detail->'roles' AS roles"
							  "             FROM dedup.journal j, pg_catalog.jsonb_array_elements(j.detail->'tables') t"
							  "            WHERE j.id OPERATOR(pg_catalog.=) $1),"
							  " then_ AS (SELECT b.name, e.v->>0 AS role, e.v->>1 AS priv, e.v->>2 AS col"
							  "             FROM b, pg_catalog.jsonb_array_elements(b.x) e(v) WHERE b.rel IS NOT NULL),"
							  " now_ AS (SELECT b.name, r.name AS role, p.priv, a.attname::pg_catalog.text AS col"
							  "            FROM b JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) b.rel"
							  "                 AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped AND a.attacl IS NOT NULL"
							  "            CROSS JOIN pg_catalog.unnest(dedup._access_roles()) r(name)"
							  "            CROSS JOIN (VALUES ('SELECT'), ('INSERT'), ('UPDATE')) p(priv)"
							  "           WHERE b.cols OPERATOR(pg_catalog.?) a.attname::pg_catalog.text"
							  "             AND b.roles OPERATOR(pg_catalog.?) r.name"
							  "             AND NOT pg_catalog.has_table_privilege(r.name::pg_catalog.name, b.rel, p.priv)"
							  "             AND pg_catalog.has_column_privilege(r.name::pg_catalog.name, b.rel, a.attnum, p.priv))"
							  "SELECT name, role, priv, col, true FROM (SELECT * FROM now_ EXCEPT SELECT * FROM then_) g"
							  " UNION ALL "
							  "SELECT name, role, priv, col, false FROM (SELECT * FROM then_ EXCEPT SELECT * FROM now_) l"
							  " WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(l.name)"
							  "                 AND a.attname OPERATOR(pg_catalog.=) l.col AND NOT a.attisdropped)"
							  "   AND l.role OPERATOR(pg_catalog.=) ANY (dedup._access_roles())"
							  " ORDER BY 1, 2, 3, 4"))
	{
		char	  **r = (char **) lfirst(lc);
		bool		gained = strcmp(r[4], "t") == 0;

		if (list_position_str(differ, psprintf("%s %s %s", r[0], r[1], r[2])) >= 0)
			continue;			/* said above */
		add(v, "access", r[0], 0,
			psprintf("role %s %s %s column %s of %s through a column privilege: SELECT * FROM information_schema.column_privileges WHERE grantee = %s AND table_schema || '.' || table_name = %s AND column_name = %s",
					 r[1], gained ? "may now" : "may no longer", r[2], quote_identifier(r[3]), r[0],
					 quote_literal_cstr(r[1]), quote_literal_cstr(r[0]), quote_literal_cstr(r[3])));
	}
	summary(v, "access", before, n, "roles and names", "every role can do through every name what it could, and nothing more");
}

/* rls: each table of the baseline keeps its row level security and policies. */
static void
check_rls(Verify *v)
{
	int			before = list_length(v->checks);
	int			n = 0;
	ListCell   *lc;

	foreach(lc, baseline_rows(v,
							  "SELECT t->>'t', t->>'l', f.rls, c.relkind"
							  "  FROM dedup.journal j, pg_catalog.jsonb_array_elements(j.detail->'tables') t"
							  "  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(t->>'t')"
							  "  LEFT JOIN dedup._table_facts(ARRAY[c.oid]) f ON true"
							  " WHERE j.id OPERATOR(pg_catalog.=) $1 ORDER BY 1"))
	{
		char	  **r = (char **) lfirst(lc);

		if (strcmp(r[3], "v") == 0)
			continue;
		n++;
		if ((r[1] == NULL) != (r[2] == NULL) || (r[1] && strcmp(r[1], r[2]) != 0))
			add(v, "rls", r[0], 0,
				psprintf("row level security of %s was \"%s\" and is \"%s\" now: SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = %s::regclass; SELECT * FROM pg_policies WHERE schemaname || '.' || tablename = %s",
						 r[0], r[1] ? r[1] : "off, no policy", r[2] ? r[2] : "off, no policy",
						 quote_literal_cstr(r[0]), quote_literal_cstr(r[0])));
	}
	summary(v, "rls", before, n, "tables", "every table keeps its row level security and policies");
}

/*
 * The body of a view check: a read of it parsed, analyzed and rewritten,
 * not planned.  The planner evaluates immutable functions of constant
 * arguments, so planning a read of someone's view would run their code as
 * the caller of verify() (or apply()).
 */
static void
view_body(void *arg)
{
	SPIPlanPtr	plan = SPI_prepare(psprintf("SELECT 1 FROM %s", (char *) arg), 0, NULL);

	if (plan == NULL)
		elog(ERROR, "dedup: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	SPI_freeplan(plan);
}

/* views: the baseline's views still exist; every view of the schemas still compiles. */
static void
check_views(Verify *v)
{
	int			before = list_length(v->checks);
	int			n = 0;
	ListCell   *lc;
	Oid			types[1] = {OIDARRAYOID};
	Datum		args[1];

	if (v->baseline)
		foreach(lc, baseline_rows(v, "SELECT x FROM dedup.journal j, pg_catalog.jsonb_array_elements_text(j.detail->'views') x"
								  " WHERE j.id OPERATOR(pg_catalog.=) $1 AND pg_catalog.to_regclass(x) IS NULL ORDER BY 1"))
			add(v, "views", ((char **) lfirst(lc))[0], 0, psprintf("view %s is gone", ((char **) lfirst(lc))[0]));

	args[0] = oid_array(v->scope_namespaces);
	foreach(lc, dedup_query_rows("SELECT pg_catalog.format('%I.%I', n.nspname, c.relname),"
								 "       pg_catalog.has_table_privilege(c.oid, 'SELECT')"
								 "  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
								 " WHERE c.relkind OPERATOR(pg_catalog.=) 'v' AND c.relnamespace OPERATOR(pg_catalog.=) ANY ($1)"
								 "   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d"
								 "                    WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
								 "                      AND d.objid OPERATOR(pg_catalog.=) c.oid AND d.deptype OPERATOR(pg_catalog.=) 'e')"
								 " ORDER BY 1", 1, types, args))
	{
		char	  **r = (char **) lfirst(lc);
		char	   *why = NULL;

		CHECK_FOR_INTERRUPTS();
		n++;
		if (strcmp(r[1], "t") != 0)
			add(v, "views", r[0], -1, psprintf("you may not read view %s", r[0]));
		else if (!dedup_try(view_body, r[0], &why))
			add(v, "views", r[0], 0, psprintf("view %s does not compile: %s: SELECT * FROM %s LIMIT 0", r[0], why, r[0]));
	}
	summary(v, "views", before, n, "views", "every view compiles");
}

/* backups: every backup in the journal still holds what it was taken with. */
static void
check_backups(Verify *v)
{
	int			before = list_length(v->checks);
	int			n = 0;
	ListCell   *lc;

	foreach(lc, dedup_journal_backups())
	{
		DedupBackupInfo *b = (DedupBackupInfo *) lfirst(lc);

		CHECK_FOR_INTERRUPTS();
		n++;

		/*
		 * The fingerprint is read past privileges and policies: only for a
		 * caller who may read every row of the backup (its rows and
		 * fingerprint are in the journal, which the caller may not read).
		 */
		if (pg_class_aclcheck(b->backup, GetUserId(), ACL_SELECT) != ACLCHECK_OK ||
			check_enable_rls(b->backup, InvalidOid, true) == RLS_ENABLED)
		{
			add(v, "backups", dedup_qualified_name(b->backup), -1,
				psprintf("backup %s cannot be checked by you: no SELECT privilege, or row level security applies to you",
						 dedup_qualified_name(b->backup)));
			continue;
		}
		if (!dedup_backup_matches(b))
		{
			add(v, "backups", dedup_qualified_name(b->backup), 0,
				psprintf("backup %s of %s no longer holds the " INT64_FORMAT " rows with fingerprint %s it was taken with (journal entry " INT64_FORMAT "): SELECT dedup.undo(" INT64_FORMAT ") refuses to drop it; compare it with %s",
						 dedup_qualified_name(b->backup), b->source_name, b->rows, b->fingerprint, b->entry,
						 b->entry, b->source_name));
			/* taken before the baseline: not something the plan did */
			((DedupCheck *) llast(v->checks))->preexisting = v->baseline > 0 && b->entry < v->baseline;
		}
	}
	summary(v, "backups", before, n, "backups", "every backup matches its fingerprint");
}

/* groups: nothing left that a plan would still do. */
static void
check_groups(Verify *v)
{
	int			before = list_length(v->checks);
	DedupPlan  *plan = dedup_build_plan(v->schemas, v->merge_extensions);
	ListCell   *lc;

	foreach(lc, plan->steps)
	{
		DedupStep  *s = (DedupStep *) lfirst(lc);

		if (s->kind == DEDUP_STEP_KEEP || s->kind == DEDUP_STEP_VERIFY || s->kind == DEDUP_STEP_BACKUP)
			continue;
		add(v, "groups", s->target, 0,
			psprintf("a plan would still %s %s: %s%s%s", dedup_step_action(s->kind), s->target,
					 s->reason ? s->reason : "", s->sql ? "; " : "", s->sql ? s->sql : ""));
	}
	if (plan->cat->ngroups == 0 && list_length(v->checks) == before)
		add(v, "groups", "no groups", 1, pstrdup("no duplicate group is left"));
	else
		summary(v, "groups", before, plan->cat->ngroups, "groups",
				"no duplicate group is left that the plan could resolve");
}

/*
 * The checks, in order, against baseline (0: none).  The caller is
 * connected to SPI.
 */
List *
dedup_verify_checks(ArrayType *schemas, int64 baseline)
{
	Verify		v;
	DedupCatalog *cat;
	List	   *rels = NIL;
	int			i;
	int			nestlevel;

	memset(&v, 0, sizeof(v));
	v.baseline = baseline;
	v.schemas = schemas;
	cat = dedup_load_catalog(schemas, false);
	nestlevel = dedup_quiet_stats_begin(cat);	/* our reads are not use */
	for (i = 0; i < cat->ntables; i++)
	{
		v.scope = lappend_oid(v.scope, cat->tables[i].relid);
		v.scope_namespaces = list_append_unique_oid(v.scope_namespaces,
													get_rel_namespace(cat->tables[i].relid));
	}
	if (baseline)
	{
		ListCell   *lc;

		foreach(lc, baseline_rows(&v, "SELECT pg_catalog.to_regclass(t->>'t')::pg_catalog.oid"
								  "  FROM dedup.journal j, pg_catalog.jsonb_array_elements(j.detail->'tables') t"
								  " WHERE j.id OPERATOR(pg_catalog.=) $1 AND pg_catalog.to_regclass(t->>'t') IS NOT NULL"))
			rels = lappend_oid(rels, (Oid) strtoul(((char **) lfirst(lc))[0], NULL, 10));
		v.merge_extensions = strcmp(dedup_journal_field(baseline, "(j.detail->>'merge_extensions')"), "true") == 0;
		check_rows_and_nulls(&v);
		check_foreign_keys(&v);
		check_access(&v);
		check_rls(&v);
	}
	else
		add(&v, "baseline", "none", -1,
			pstrdup("no baseline in the journal for these schemas: rows, NULLs, foreign keys, access and row level security are compared with one; run dedup.plan() before changing anything"));
	check_orphans(&v, rels);
	check_sequences(&v, baseline ? rels : v.scope);
	check_views(&v);
	check_backups(&v);
	dedup_quiet_stats_end(nestlevel);
	check_groups(&v);			/* a plan: it keeps its reads out itself */
	return v.checks;
}

/*
 * dedup.verify(schemas name[] DEFAULT NULL)
 *	 RETURNS TABLE (check_name text, target text, ok boolean, detail text)
 *
 *	 SELECT * FROM dedup.verify() WHERE ok IS NOT TRUE;
 *
 * One row per check when it found nothing wrong, else one row per thing
 * found wrong (ok false) or that could not be checked (ok NULL), each with
 * the query that shows it.
 */
Datum
dedup_verify(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ArrayType  *schemas = PG_ARGISNULL(0) ? NULL : PG_GETARG_ARRAYTYPE_P(0);
	ListCell   *lc;

	dedup_init_srf(fcinfo);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "dedup: SPI_connect failed");
	foreach(lc, dedup_verify_checks(schemas, dedup_latest_baseline(schemas)))
	{
		DedupCheck *c = (DedupCheck *) lfirst(lc);
		Datum		values[4];
		bool		nulls[4] = {0};

		values[0] = CStringGetTextDatum(c->name);
		values[1] = CStringGetTextDatum(c->target);
		if (c->ok < 0)
			nulls[2] = true;
		else
			values[2] = BoolGetDatum(c->ok == 1);
		values[3] = CStringGetTextDatum(c->detail);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}
