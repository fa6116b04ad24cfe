/*-------------------------------------------------------------------------
 *
 * emptiness.c
 *	  Decide whether a table holds rows by reading it.
 *
 * Statistics (reltuples, relpages) are never trusted: a never-analyzed
 * table with rows has relpages = 0, and a table whose rows were all deleted
 * still has pages.  We lock the table (and every partition or inheritance
 * child), then take a snapshot *after* the locks were granted, then read.
 * A caller's REPEATABLE READ or SERIALIZABLE snapshot may predate committed
 * rows, so it is not used.
 *
 * Discovery locks with AccessShareLock and releases each lock as soon as the
 * table is read, so walking 10,000 tables never exhausts the lock table.
 * Destructive callers pass a stronger mode and keep the locks until commit.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "compat.h"
#include "dedup.h"

/* Count the visible rows of one opened relation, up to limit (0: all). */
static int64
count_visible(Relation rel, Snapshot snapshot, int64 limit)
{
	TableScanDesc scan;
	TupleTableSlot *slot;
	int64		n = 0;

	if (!RELKIND_HAS_STORAGE(rel->rd_rel->relkind))
		return 0;

	/* a heap with no blocks has no rows, whatever any snapshot says */
	if (rel->rd_rel->relam == HEAP_TABLE_AM_OID &&
		RelationGetNumberOfBlocks(rel) == 0)
		return 0;

	scan = table_beginscan(rel, snapshot, 0, NULL);
	slot = table_slot_create(rel, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		n++;
		if (limit > 0 && n >= limit)
			break;
		if ((n & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	return n;
}

/*
 * dedup_count_rows
 *		Rows of relid and all its partitions / inheritance children visible
 *		to a snapshot taken after every one of them is locked in lockmode.
 *
 * limit > 0 stops counting there (limit 1 answers "is it empty?").  With
 * release, each lock is released once the relation is read (read-only
 * walks); otherwise locks are kept until the transaction ends.  With
 * check_access, a caller who could not read every row through SELECT
 * (no privilege, or row level security applies) gets DEDUP_ROWS_UNKNOWN
 * rather than a count it could not see for itself.
 */
int64
dedup_count_rows(Oid relid, LOCKMODE lockmode, bool release, int64 limit,
				 bool check_access, DedupUnknown *why)
{
	HeapTuple	classtup;
	Form_pg_class classform;
	bool		heap_without_children;
	Relation	rel;
	List	   *members;
	List	   *rels = NIL;
	ListCell   *lc;
	Snapshot	snapshot;
	int64		total = 0;

	*why = DEDUP_KNOWN;

	/* lock first; what we read of the table is read after the lock */
	LockRelationOid(relid, lockmode);
	classtup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(classtup))
	{
		UnlockRelationOid(relid, lockmode);
		*why = DEDUP_GONE;
		return DEDUP_ROWS_UNKNOWN;
	}
	classform = (Form_pg_class) GETSTRUCT(classtup);
	if (classform->relpersistence == RELPERSISTENCE_TEMP &&
		!isTempOrTempToastNamespace(classform->relnamespace))
		*why = DEDUP_OTHER_TEMP;
	else if (check_access &&
			 pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		*why = DEDUP_NO_PRIVILEGE;
	else if (check_access &&
			 check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
		*why = DEDUP_RLS;

	/*
	 * A plain heap with no children and no blocks has no rows, whatever any
	 * snapshot says: answer from the storage manager without building a
	 * relcache entry (most empty duplicates of a large database end here).
	 */
	heap_without_children = classform->relkind == RELKIND_RELATION &&
		classform->relam == HEAP_TABLE_AM_OID && !classform->relhassubclass &&
		classform->relpersistence != RELPERSISTENCE_TEMP &&
		OidIsValid(classform->relfilenode);
	if (*why == DEDUP_KNOWN && heap_without_children &&
		dedup_heap_nblocks(classform) == 0)
	{
		ReleaseSysCache(classtup);
		if (release)
			UnlockRelationOid(relid, lockmode);
		return 0;
	}
	ReleaseSysCache(classtup);
	if (*why != DEDUP_KNOWN)
	{
		if (release)
			UnlockRelationOid(relid, lockmode);
		return DEDUP_ROWS_UNKNOWN;
	}

	/* lock every descendant (parents first, as DROP and ATTACH do) */
	rel = relation_open(relid, NoLock);
	rels = lappend(rels, rel);
	members = rel->rd_rel->relhassubclass ?
		find_all_inheritors(relid, NoLock, NULL) : list_make1_oid(relid);
	foreach(lc, members)
	{
		Oid			child = lfirst_oid(lc);
		Relation	crel;

		CHECK_FOR_INTERRUPTS();
		if (child == relid)
			continue;
		crel = try_relation_open(child, lockmode);
		if (crel == NULL)		/* dropped meanwhile, so no rows */
			continue;
		rels = lappend(rels, crel);
		/* a foreign table's rows live elsewhere: they cannot be counted */
		if (crel->rd_rel->relkind == RELKIND_FOREIGN_TABLE)
			*why = DEDUP_FOREIGN;
	}
	if (*why != DEDUP_KNOWN)
	{
		foreach(lc, rels)
		{
			Relation	r = (Relation) lfirst(lc);

			relation_close(r, (release && r != rel) ? lockmode : NoLock);
		}
		if (release)
			UnlockRelationOid(relid, lockmode);
		list_free(rels);
		list_free(members);
		return DEDUP_ROWS_UNKNOWN;
	}

	/* the snapshot is taken only now, after every lock was granted */
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	foreach(lc, rels)
	{
		Relation	r = (Relation) lfirst(lc);

		if (limit <= 0 || total < limit)
			total += count_visible(r, snapshot, limit > 0 ? limit - total : 0);
		relation_close(r, (release && r != rel) ? lockmode : NoLock);
	}
	UnregisterSnapshot(snapshot);
	if (release)
		UnlockRelationOid(relid, lockmode);
	list_free(rels);
	list_free(members);
	return total;
}

/*
 * Probe a catalog table: exact count, or just empty / not empty.
 * Read-only: AccessShareLock, released at once.
 */
void
dedup_probe_table(DedupTable *t, bool exact)
{
	if (t->probed && (t->counted || !exact))
		return;
	t->nrows = dedup_count_rows(t->relid, AccessShareLock, true,
								exact ? 0 : 1, true, &t->unknown_reason);
	t->probed = true;
	t->counted = exact && t->unknown_reason == DEDUP_KNOWN;
}

const char *
dedup_unknown_phrase(DedupUnknown why)
{
	switch (why)
	{
		case DEDUP_NO_PRIVILEGE:
			return "no SELECT privilege";
		case DEDUP_RLS:
			return "row level security hides rows from the caller";
		case DEDUP_OTHER_TEMP:
			return "temporary table of another session";
		case DEDUP_GONE:
			return "dropped while being read";
		case DEDUP_FOREIGN:
			return "a partition or inheritance child is a foreign table, whose rows cannot be counted";
		case DEDUP_KNOWN:
			break;
	}
	return "known";
}
