/*-------------------------------------------------------------------------
 *
 * dedup.c
 *	  Module entry point and small helpers shared by the SQL-callable
 *	  functions (building SQL arrays for result rows).
 *
 * Where things are:
 *	 catalog.c    load the catalog model through SPI
 *	 naming.c     name families: stems, affixes, ORM keys
 *	 grouping.c   duplicate groups, keepers, verdicts, drop plan
 *	 emptiness.c  decide emptiness by reading the table under a lock
 *	 inventory.c  dedup.inventory()
 *	 discovery.c  dedup.duplicate_groups(), dedup.find_empty_duplicates()
 *	 objects.c    duplicate indexes, constraints, policies, triggers;
 *	              dedup.compare_tables()
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "dedup.h"
#include "ddl.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* A failed transaction leaves no action under way (action.c). */
static void
dedup_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		dedup_action_reset();
}

void
_PG_init(void)
{
	DefineCustomStringVariable("dedup.backup_suffix",
							   "Suffix of the backups dedup takes: <table>_backup_<suffix>.",
							   "Empty (the default): today's date, YYYYMMDD.",
							   &dedup_backup_suffix, "", PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("dedup.accept_access_change",
							   "Accepts the change of access a merge refused with this token.",
							   "Set it to the token the refusal names, for that merge only (SET LOCAL).",
							   &dedup_accept_access_change, "", PGC_USERSET, 0, NULL, NULL, NULL);
	MarkGUCPrefixReserved("dedup");
	RegisterXactCallback(dedup_xact_callback, NULL);
}

/* regclass[] from a List of Oids */
Datum
dedup_oid_array(List *oids)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(list_length(oids), 1));
	ListCell   *lc;
	int			n = 0;

	foreach(lc, oids)
		elems[n++] = ObjectIdGetDatum(lfirst_oid(lc));
	return PointerGetDatum(construct_array(elems, n, REGCLASSOID, sizeof(Oid),
										   true, TYPALIGN_INT));
}

/* text[] from a List of C strings */
Datum
dedup_text_array(List *strings)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(list_length(strings), 1));
	ListCell   *lc;
	int			n = 0;

	foreach(lc, strings)
		elems[n++] = CStringGetTextDatum((char *) lfirst(lc));
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false,
										   TYPALIGN_INT));
}

/* name[] from an array of C strings */
Datum
dedup_name_array(char **names, int n)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	int			i;

	for (i = 0; i < n; i++)
	{
		Name		nm = palloc0(NAMEDATALEN);

		namestrcpy(nm, names[i]);
		elems[i] = NameGetDatum(nm);
	}
	return PointerGetDatum(construct_array(elems, n, NAMEOID, NAMEDATALEN,
										   false, TYPALIGN_CHAR));
}
