/*-------------------------------------------------------------------------
 *
 * access.c
 *	  Who can read and write what, role by role: a merge must not let any
 *	  role read or write a row or value it could not before, nor take away
 *	  what a role could do.
 *
 * Every question is answered by PostgreSQL's own privilege functions
 * (has_table_privilege / has_column_privilege, which count role membership
 * and PUBLIC) and by the row level security settings and policies that
 * apply to each role (BYPASSRLS, ownership without FORCE, the policies
 * whose roles the role is a member of).  The roles asked about are every
 * role that is not a superuser or a predefined pg_* role, and PUBLIC.
 *
 * When a change cannot be avoided, the function refuses and lists it; the
 * caller can accept exactly that outcome by setting
 * dedup.accept_access_change to the token the refusal names (a digest of
 * the listed changes, so a different outcome is never accepted by it).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/md5.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#include "dedup.h"
#include "ddl.h"

/* GUC dedup.accept_access_change (dedup.c defines it) */
char	   *dedup_accept_access_change = NULL;

/*
 * The roles asked about, with what decides row level security for them
 * on a relation ($1): whether policies filter what the role sees of it.
 */
#define ROLES_SQL \
	"roles AS (" \
	"  SELECT r.oid, r.rolname::pg_catalog.text AS name, r.rolbypassrls AS bypass" \
	"    FROM pg_catalog.pg_roles r" \
	"   WHERE NOT r.rolsuper AND r.rolname::pg_catalog.text !~ '^pg_'" \
	"  UNION ALL SELECT 0::pg_catalog.oid, 'public', false)"

/*
 * Policy sets: for each relation of $1, role and command, the policies
 * that apply (as permissive flag, USING and WITH CHECK text), and whether
 * row level security filters that role at all.
 */
#define RLS_SQL \
	"cmds(cmd) AS (VALUES ('r'::\"char\"), ('a'), ('w'), ('d'))," \
	"rels AS (SELECT c.oid, c.relrowsecurity, c.relforcerowsecurity, c.relowner" \
	"           FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) ANY ($1))," \
	"subject AS (" \
	"  SELECT rels.oid AS rel, roles.oid AS role, roles.name," \
	"         rels.relrowsecurity AND NOT roles.bypass" \
	"         AND CASE WHEN roles.oid OPERATOR(pg_catalog.=) 0 OR rels.relforcerowsecurity THEN true" \
	"                  ELSE NOT pg_catalog.pg_has_role(roles.oid, rels.relowner, 'USAGE') END AS filtered" \
	"    FROM rels, roles)," \
	"applies AS (" \
	"  SELECT s.rel, s.role, cmds.cmd," \
	"         pg_catalog.array_agg(pg_catalog.format('%s %s %s', p.polpermissive," \
	"             pg_catalog.pg_get_expr(p.polqual, p.polrelid)," \
	"             pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid))" \
	"           ORDER BY 1) FILTER (WHERE p.oid IS NOT NULL) AS pols" \
	"    FROM subject s CROSS JOIN cmds" \
	"    LEFT JOIN pg_catalog.pg_policy p ON p.polrelid OPERATOR(pg_catalog.=) s.rel" \
	"         AND p.polcmd IN (cmds.cmd, '*')" \
	"         AND CASE WHEN 0 OPERATOR(pg_catalog.=) ANY (p.polroles) THEN true" \
	"                  WHEN s.role OPERATOR(pg_catalog.=) 0 THEN false" \
	"                  ELSE EXISTS (SELECT 1 FROM pg_catalog.unnest(p.polroles) pr" \
	"                                WHERE pg_catalog.pg_has_role(s.role, pr, 'USAGE')) END" \
	"   WHERE s.filtered" \
	"   GROUP BY 1, 2, 3)"


/*
 * Rows of "from" moved into "into" (merge_rows, absorbing a look-alike):
 * a role gains when it can read or write through "into" a column it could
 * not through "from", or when row level security filtered its view of
 * "from" differently from "into".  Only asked when "from" holds rows.
 * Returns one line per change.
 */
List *
dedup_access_rows_gain(Oid from, Oid into)
{
	Oid			types[2] = {OIDARRAYOID, OIDOID};
	Datum		args[2];
	Datum		oids[2] = {ObjectIdGetDatum(from), ObjectIdGetDatum(into)};

	args[0] = PointerGetDatum(construct_array(oids, 2, OIDOID, sizeof(Oid), true, TYPALIGN_INT));
	args[1] = ObjectIdGetDatum(into);
	return dedup_query_column(
		"WITH " ROLES_SQL ", " RLS_SQL ","
		" cols AS (SELECT a.attname FROM pg_catalog.pg_attribute a"
		"           WHERE a.attrelid OPERATOR(pg_catalog.=) ($1)[1] AND a.attnum OPERATOR(pg_catalog.>) 0"
		"             AND NOT a.attisdropped"
		"             AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute b"
		"                          WHERE b.attrelid OPERATOR(pg_catalog.=) $2 AND b.attname OPERATOR(pg_catalog.=) a.attname"
		"                            AND NOT b.attisdropped)),"
		" privs(p) AS (VALUES ('SELECT'), ('INSERT'), ('UPDATE'))"
		"SELECT pg_catalog.format('role %s could %s column %I of these rows through %s but not through %s',"
		"         roles.name, privs.p, cols.attname, ($1)[2]::pg_catalog.regclass, ($1)[1]::pg_catalog.regclass)"
		"  FROM roles, privs, cols"
		" WHERE pg_catalog.has_column_privilege(roles.name, ($1)[2], cols.attname, privs.p)"
		"   AND NOT pg_catalog.has_column_privilege(roles.name, ($1)[1], cols.attname, privs.p)"
		" UNION ALL "
		"SELECT pg_catalog.format('role %s could DELETE these rows through %s but not through %s',"
		"         roles.name, ($1)[2]::pg_catalog.regclass, ($1)[1]::pg_catalog.regclass)"
		"  FROM roles"
		" WHERE pg_catalog.has_table_privilege(roles.name, ($1)[2], 'DELETE')"
		"   AND NOT pg_catalog.has_table_privilege(roles.name, ($1)[1], 'DELETE')"
		" UNION ALL "
		"SELECT pg_catalog.format('role %s: row level security on %s filters %s differently from %s',"
		"         s.name, ($1)[1]::pg_catalog.regclass,"
		"         CASE c.cmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' ELSE 'DELETE' END,"
		"         ($1)[2]::pg_catalog.regclass)"
		"  FROM subject s JOIN cmds c ON true"
		"  LEFT JOIN applies af ON af.rel OPERATOR(pg_catalog.=) s.rel AND af.role OPERATOR(pg_catalog.=) s.role AND af.cmd OPERATOR(pg_catalog.=) c.cmd"
		"  LEFT JOIN subject si ON si.rel OPERATOR(pg_catalog.=) ($1)[2] AND si.role OPERATOR(pg_catalog.=) s.role"
		"  LEFT JOIN applies ai ON ai.rel OPERATOR(pg_catalog.=) ($1)[2] AND ai.role OPERATOR(pg_catalog.=) s.role AND ai.cmd OPERATOR(pg_catalog.=) c.cmd"
		" WHERE s.rel OPERATOR(pg_catalog.=) ($1)[1] AND s.filtered"
		"   AND pg_catalog.has_table_privilege(s.name, ($1)[2], CASE c.cmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' ELSE 'DELETE' END)"
		"   AND (NOT si.filtered OR af.pols IS DISTINCT FROM ai.pols)"
		" ORDER BY 1", 2, types, args, NULL);
}

/*
 * Values of the extension's columns moved into the base (merge_extension).
 * ext_cols are the extension's columns other than its key: those the base
 * gains (own) and those it shares (only asked when values are filled in).
 * Returns the changes that cannot be avoided; *grants receives the column
 * grants on the base that keep each role's access to the extension's
 * values (through the base and through the compatibility view) as it was.
 */
List *
dedup_access_extension_change(Oid base, Oid ext, List *own_cols, List *shared_filled,
							  List *key_cols, bool compat_view, List **grants)
{
	Oid			types[5] = {OIDARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, BOOLOID};
	Datum		args[5];
	Datum		oids[2] = {ObjectIdGetDatum(ext), ObjectIdGetDatum(base)};
	List	   *changes;

	args[0] = PointerGetDatum(construct_array(oids, 2, OIDOID, sizeof(Oid), true, TYPALIGN_INT));
	args[1] = dedup_text_array(own_cols);
	args[2] = dedup_text_array(shared_filled);
	args[3] = dedup_text_array(key_cols);
	args[4] = BoolGetDatum(compat_view);

	/*
	 * Gains: a table-level privilege on the base reaches the columns it
	 * gains; a filled shared column shows the extension's values.  Losses:
	 * a role that read or wrote the extension's columns must still reach
	 * them; that is kept with column grants on the base, unless it would
	 * need a grant on the base's own key (which would show or let it write
	 * every base row).  Row level security must filter each role alike.
	 *
	 * With the compatibility view, an INSERT through the extension's name
	 * of a row for a key the base has (every row, the key being a foreign
	 * key to the base) runs a trigger as the writer that reads the key and
	 * the extension's columns of the base row and sets them (SELECT and
	 * UPDATE), or reads the base's NOT NULL columns the row leaves empty
	 * (compat_view.c).  It does not run as anyone else: that would let the
	 * writer change a row of the base that its privileges or policies keep
	 * it from changing.  A role that could INSERT into the extension and
	 * would lack one of those privileges loses that INSERT: refused.
	 */
	changes = dedup_query_column(
		"WITH " ROLES_SQL ", " RLS_SQL ","
		" privs(p) AS (VALUES ('SELECT'), ('INSERT'), ('UPDATE')),"
		" own AS (SELECT pg_catalog.unnest($2) AS c),"
		" filled AS (SELECT pg_catalog.unnest($3) AS c),"
		" keys AS (SELECT pg_catalog.unnest($4) AS c),"
		/* what the compatibility view's INSERT trigger reads and writes as the writer */
		" required AS (SELECT a.attname::pg_catalog.text AS c FROM pg_catalog.pg_attribute a"
		"              WHERE a.attrelid OPERATOR(pg_catalog.=) ($1)[2] AND a.attnum OPERATOR(pg_catalog.>) 0"
		"                AND NOT a.attisdropped AND a.attnotnull AND NOT a.atthasdef"
		"                AND a.attgenerated OPERATOR(pg_catalog.=) '' AND a.attidentity OPERATOR(pg_catalog.=) ''"
		"                AND a.attname::pg_catalog.text OPERATOR(pg_catalog.<>) ALL ($4)),"
		" trigger_needs(p, c, own) AS (SELECT 'SELECT', keys.c, false FROM keys"
		"                   UNION SELECT n.p, own.c, true FROM own, (VALUES ('SELECT'), ('UPDATE')) n(p)"
		"                   UNION SELECT 'SELECT', required.c, false FROM required),"
		" trigger_lacks AS (SELECT roles.name, t.p,"
		"                          pg_catalog.string_agg(pg_catalog.quote_ident(t.c), ', ' ORDER BY t.c) AS cols"
		"                     FROM roles, trigger_needs t"
		"                    WHERE $5 AND pg_catalog.has_any_column_privilege(roles.name, ($1)[1], 'INSERT')"
		"                      AND NOT CASE WHEN t.own"
		"                                   THEN pg_catalog.has_table_privilege(roles.name, ($1)[2], t.p)"
		"                                        OR pg_catalog.has_column_privilege(roles.name, ($1)[1], t.c, t.p)"
		"                                   ELSE pg_catalog.has_column_privilege(roles.name, ($1)[2], t.c, t.p) END"
		"                    GROUP BY roles.name, t.p)"
		"SELECT pg_catalog.format('role %s could %s column %I of %s through %s but not through %s',"
		"         roles.name, privs.p, own.c, ($1)[1]::pg_catalog.regclass, ($1)[2]::pg_catalog.regclass, ($1)[1]::pg_catalog.regclass)"
		"  FROM roles, privs, own"
		" WHERE pg_catalog.has_table_privilege(roles.name, ($1)[2], privs.p)"
		"   AND NOT pg_catalog.has_column_privilege(roles.name, ($1)[1], own.c, privs.p)"
		" UNION ALL "
		"SELECT pg_catalog.format('role %s could read the values of column %I that %s fills in from %s, and could not read them there',"
		"         roles.name, filled.c, ($1)[2]::pg_catalog.regclass, ($1)[1]::pg_catalog.regclass)"
		"  FROM roles, filled"
		" WHERE pg_catalog.has_column_privilege(roles.name, ($1)[2], filled.c, 'SELECT')"
		"   AND NOT pg_catalog.has_column_privilege(roles.name, ($1)[1], filled.c, 'SELECT')"
		" UNION ALL "
		"SELECT pg_catalog.format('role %s could %s %s, but would need %s on column %I of %s to keep doing it',"
		"         roles.name, privs.p, ($1)[1]::pg_catalog.regclass,"
		"         CASE privs.p WHEN 'INSERT' THEN 'INSERT' ELSE 'SELECT' END, keys.c, ($1)[2]::pg_catalog.regclass)"
		"  FROM roles, privs, keys"
		" WHERE $5 AND pg_catalog.has_table_privilege(roles.name, ($1)[1], privs.p)"
		"   AND NOT pg_catalog.has_column_privilege(roles.name, ($1)[2], keys.c,"
		"                                            CASE privs.p WHEN 'INSERT' THEN 'INSERT' ELSE 'SELECT' END)"
		" UNION ALL "
		"SELECT pg_catalog.format('role %s could INSERT into %s, but an INSERT through the view that keeps its name sets or reads the values on the row of %s, and would need %s there',"
		"         l.name, ($1)[1]::pg_catalog.regclass, ($1)[2]::pg_catalog.regclass,"
		"         pg_catalog.string_agg(pg_catalog.format('%s (%s)', l.p, l.cols), ' and ' ORDER BY l.p))"
		"  FROM trigger_lacks l GROUP BY l.name"
		" UNION ALL "
		"SELECT pg_catalog.format('role %s: row level security filters %s on %s differently from %s',"
		"         roles.name, CASE c.cmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' ELSE 'DELETE' END,"
		"         ($1)[1]::pg_catalog.regclass, ($1)[2]::pg_catalog.regclass)"
		"  FROM roles CROSS JOIN cmds c"
		"  JOIN subject se ON se.rel OPERATOR(pg_catalog.=) ($1)[1] AND se.role OPERATOR(pg_catalog.=) roles.oid"
		"  JOIN subject sb ON sb.rel OPERATOR(pg_catalog.=) ($1)[2] AND sb.role OPERATOR(pg_catalog.=) roles.oid"
		"  LEFT JOIN applies ae ON ae.rel OPERATOR(pg_catalog.=) ($1)[1] AND ae.role OPERATOR(pg_catalog.=) roles.oid AND ae.cmd OPERATOR(pg_catalog.=) c.cmd"
		"  LEFT JOIN applies ab ON ab.rel OPERATOR(pg_catalog.=) ($1)[2] AND ab.role OPERATOR(pg_catalog.=) roles.oid"
		"        AND ab.cmd OPERATOR(pg_catalog.=) CASE WHEN $5 AND c.cmd OPERATOR(pg_catalog.=) 'd' THEN 'w'::\"char\" ELSE c.cmd END"
		" WHERE (pg_catalog.has_table_privilege(roles.name, ($1)[1], CASE c.cmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' ELSE 'DELETE' END)"
		"        OR pg_catalog.has_table_privilege(roles.name, ($1)[2], CASE c.cmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' ELSE 'DELETE' END))"
		"   AND (se.filtered IS DISTINCT FROM sb.filtered OR ae.pols IS DISTINCT FROM ab.pols)"
		" ORDER BY 1", 5, types, args, NULL);

	/* column grants that keep what a role could do with the extension's columns */
	*grants = dedup_query_column(
		"WITH " ROLES_SQL ","
		" privs(p) AS (VALUES ('SELECT'), ('INSERT'), ('UPDATE')),"
		" own AS (SELECT pg_catalog.unnest($2) AS c)"
		"SELECT pg_catalog.format('GRANT %s (%s) ON TABLE %s TO %s', privs.p,"
		"         pg_catalog.string_agg(pg_catalog.quote_ident(own.c), ', ' ORDER BY own.c),"
		"         ($1)[2]::pg_catalog.regclass,"
		"         CASE WHEN roles.oid OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(roles.name) END)"
		"  FROM roles, privs, own"
		" WHERE pg_catalog.has_column_privilege(roles.name, ($1)[1], own.c, privs.p)"
		"   AND NOT pg_catalog.has_table_privilege(roles.name, ($1)[2], privs.p)"
		"   AND (roles.oid OPERATOR(pg_catalog.=) 0 OR NOT pg_catalog.has_column_privilege('public', ($1)[1], own.c, privs.p))"
		" GROUP BY roles.oid, roles.name, privs.p ORDER BY 1", 5, types, args, NULL);
	return changes;
}

/* "a1b2c3d4": a digest of the listed changes. */
static char *
changes_token(List *changes)
{
	StringInfoData buf;
	ListCell   *lc;
	char		hex[33];
	const char *errstr = NULL;

	initStringInfo(&buf);
	foreach(lc, changes)
		appendStringInfo(&buf, "%s\n", (char *) lfirst(lc));
	if (!pg_md5_hash(buf.data, buf.len, hex, &errstr))
		elog(ERROR, "dedup: could not compute a digest: %s", errstr ? errstr : "?");
	hex[8] = '\0';
	return pstrdup(hex);
}

/*
 * Refuse a change of access, listing it, unless the caller accepted
 * exactly these changes (dedup.accept_access_change = their token).
 * what completes "… would change who can read or write what".
 */
void
dedup_access_refuse(const char *what, List *changes)
{
	StringInfoData detail;
	ListCell   *lc;
	char	   *token;

	if (changes == NIL)
		return;
	token = changes_token(changes);
	if (dedup_accept_access_change && strcmp(dedup_accept_access_change, token) == 0)
	{
		ereport(NOTICE,
				(errmsg("%s changes who can read or write what, as accepted (%s)", what, token)));
		return;
	}
	initStringInfo(&detail);
	foreach(lc, changes)
		appendStringInfo(&detail, "%s.\n", (char *) lfirst(lc));
	appendStringInfoString(&detail, "Nothing was changed.");
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("%s would change who can read or write what", what),
			 errdetail_internal("%s", detail.data),
			 errhint("Align the grants and row level security policies of both tables first, or accept exactly these changes with SET LOCAL dedup.accept_access_change = '%s' and run it again.",
					 token)));
}
