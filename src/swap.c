/*-------------------------------------------------------------------------
 *
 * swap.c
 *	  Rebuild a table's rows beside it and swap them in: the table keeps its
 *	  OID, and with it every grant, policy, trigger, view, foreign key,
 *	  publication, sequence and statistic that refers to it.
 *
 * This is how CLUSTER and VACUUM FULL replace a table's storage (core's
 * cluster.c: make_new_heap, copy the rows, swap_relation_files), with one
 * difference that keeps readers reading: the indexes are built on the new
 * heap beforehand, under the caller's SHARE lock, and their storage is
 * swapped with the table's indexes like the heap's, so that the ACCESS
 * EXCLUSIVE part is catalog work only.
 *
 *	 dedup_rebuild_begin()    a transient heap like the table, plus columns
 *	 (the caller fills it)
 *	 dedup_rebuild_indexes()  a copy of each index of the table, built on it
 *	 dedup_rebuild_swap()     under ACCESS EXCLUSIVE: the table's heap, TOAST
 *							  and index storage become the new ones; the
 *							  transient relations, which now own the old
 *							  storage, are dropped with it at commit
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/toast_internals.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/dependency.h"
#include "catalog/heap.h"
#include "catalog/index.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "commands/cluster.h"
#include "commands/tablecmds.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"

#include "compat.h"
#include "ddl.h"

/*
 * Create the transient heap: the table's columns (dropped ones included, so
 * every attribute number is the same), owner, persistence, access method,
 * tablespace and storage parameters, then the added columns, appended in
 * order (ALTER TABLE ... ADD COLUMN on the table later gives them the same
 * numbers).  added: List of char * "name type [COLLATE c]" definitions.
 * The caller holds at least SHARE on the table.
 */
DedupRebuild *
dedup_rebuild_begin(Oid table, List *added)
{
	DedupRebuild *rb = palloc0(sizeof(DedupRebuild));
	Relation	rel = table_open(table, NoLock);
	ListCell   *lc;

	rb->table = table;
	rb->transient = make_new_heap(table, rel->rd_rel->reltablespace, rel->rd_rel->relam,
								  rel->rd_rel->relpersistence, AccessExclusiveLock);
	table_close(rel, NoLock);
	CommandCounterIncrement();
	rb->transientq = dedup_qualified_name(rb->transient);
	foreach(lc, added)
		dedup_exec(psprintf("ALTER TABLE %s ADD COLUMN %s", rb->transientq, (char *) lfirst(lc)));
	CommandCounterIncrement();
	return rb;
}

/*
 * Build a copy of each index of the table on the transient heap (after it
 * was filled).  index_build() runs index expressions and predicates as the
 * table's owner inside a security-restricted operation, as CREATE INDEX
 * does.  It is called as CREATE INDEX and CLUSTER call it, not as
 * index_concurrently_build() does: a concurrent build indexes only the
 * rows its transaction snapshot sees, and the transient's rows keep the
 * xmin of the table's rows, so under a REPEATABLE READ caller a row
 * committed after the caller's snapshot would be left out of the index.
 * A plain build indexes every live row, whatever its xmin.  Indexes that
 * cannot be copied this way (exclusion constraints) are rebuilt after the
 * swap instead.
 */
void
dedup_rebuild_indexes(DedupRebuild *rb)
{
	Relation	rel = table_open(rb->table, NoLock);
	Relation	transient = table_open(rb->transient, NoLock);
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	Oid			owner = rel->rd_rel->relowner;
	DedupAs		as;

	foreach(lc, indexes)
	{
		Oid			idx = lfirst_oid(lc);
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(idx));
		bool		exclusion;
		Oid			copy;

		if (!HeapTupleIsValid(tup))
			elog(ERROR, "dedup: cache lookup failed for index %u", idx);
		exclusion = ((Form_pg_index) GETSTRUCT(tup))->indisexclusion;
		ReleaseSysCache(tup);
		CHECK_FOR_INTERRUPTS();
		if (exclusion)
		{
			rb->reindex = lappend_oid(rb->reindex, idx);
			continue;
		}
		/*
		 * Reading an index's definition (BuildIndexInfo) folds its
		 * expressions and predicate: the owner's code, read as the owner.
		 */
		dedup_become(owner, &as);
		copy = index_concurrently_create_copy(transient, idx, get_rel_tablespace(idx),
											  psprintf("pg_temp_%u_%u", rb->transient, idx));
		dedup_unbecome(&as);
		CommandCounterIncrement();
		{
			Relation	index = index_open(copy, NoLock);	/* locked by its creation */
			IndexInfo  *info;

			dedup_become(owner, &as);
			info = BuildIndexInfo(index);
			dedup_unbecome(&as);
			index_build(transient, index, info, false, true);
			index_close(index, NoLock);
		}
		CommandCounterIncrement();
		rb->pairs = lappend_oid(rb->pairs, idx);
		rb->pairs = lappend_oid(rb->pairs, copy);
	}
	table_close(transient, NoLock);
	table_close(rel, NoLock);
}

/* The TOAST table of a relation, or InvalidOid. */
static Oid
get_rel_toast(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			toast;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "dedup: cache lookup failed for relation %u", relid);
	toast = ((Form_pg_class) GETSTRUCT(tup))->reltoastrelid;
	ReleaseSysCache(tup);
	return toast;
}

/*
 * Swap the storage of relations r1 and r2 in pg_class (as cluster.c's
 * swap_relation_files does for non-mapped relations), and with toast their
 * TOAST links, with the dependencies that go with them.  With keep_xids,
 * r1 keeps its relfrozenxid and relminmxid: its new rows kept the xmin of
 * its old ones, which they bound.
 */
static void
swap_storage(Oid r1, Oid r2, bool toast, bool keep_xids)
{
	Relation	pg_class = table_open(RelationRelationId, RowExclusiveLock);
	HeapTuple	t1 = SearchSysCacheCopy1(RELOID, ObjectIdGetDatum(r1));
	HeapTuple	t2 = SearchSysCacheCopy1(RELOID, ObjectIdGetDatum(r2));
	Form_pg_class f1,
				f2;
	CatalogIndexState indstate;
	Oid			tmp;
	int32		tmp_pages;
	float4		tmp_tuples;
	int32		tmp_allvisible;
	TransactionId tmp_xid;
	MultiXactId tmp_mxid;

	if (!HeapTupleIsValid(t1) || !HeapTupleIsValid(t2))
		elog(ERROR, "dedup: cache lookup failed for relation %u or %u", r1, r2);
	f1 = (Form_pg_class) GETSTRUCT(t1);
	f2 = (Form_pg_class) GETSTRUCT(t2);
	if (!OidIsValid(f1->relfilenode) || !OidIsValid(f2->relfilenode) ||
		f1->relam != f2->relam || f1->relpersistence != f2->relpersistence)
		elog(ERROR, "dedup: cannot swap the storage of \"%s\" and \"%s\"",
			 NameStr(f1->relname), NameStr(f2->relname));

#define SWAP(field, t) (t = f1->field, f1->field = f2->field, f2->field = t)
	SWAP(relfilenode, tmp);
	SWAP(reltablespace, tmp);
	SWAP(relpages, tmp_pages);
	SWAP(reltuples, tmp_tuples);
	SWAP(relallvisible, tmp_allvisible);
	if (f1->relkind != RELKIND_INDEX && !keep_xids)
	{
		SWAP(relfrozenxid, tmp_xid);
		SWAP(relminmxid, tmp_mxid);
	}
	if (toast)
		SWAP(reltoastrelid, tmp);
#undef SWAP

	/* r1's storage (swapped from r2) is new in this subtransaction */
	{
		Relation	rel1 = relation_open(r1, NoLock);
		Relation	rel2 = relation_open(r2, NoLock);

		rel2->rd_createSubid = rel1->rd_createSubid;
		rel2->DEDUP_NEW_STORAGE_SUBID = rel1->DEDUP_NEW_STORAGE_SUBID;
		rel2->DEDUP_FIRST_STORAGE_SUBID = rel1->DEDUP_FIRST_STORAGE_SUBID;
		dedup_assume_new_storage(rel1);
		relation_close(rel1, NoLock);
		relation_close(rel2, NoLock);
	}

	indstate = CatalogOpenIndexes(pg_class);
	CatalogTupleUpdateWithInfo(pg_class, &t1->t_self, t1, indstate);
	CatalogTupleUpdateWithInfo(pg_class, &t2->t_self, t2, indstate);
	CatalogCloseIndexes(indstate);

	/* a TOAST table depends on the table whose link points at it */
	if (toast && (OidIsValid(f1->reltoastrelid) || OidIsValid(f2->reltoastrelid)))
	{
		ObjectAddress base,
					toastobj;

		if (OidIsValid(f1->reltoastrelid) &&
			deleteDependencyRecordsFor(RelationRelationId, f1->reltoastrelid, false) != 1)
			elog(ERROR, "dedup: expected one dependency record for TOAST table %u", f1->reltoastrelid);
		if (OidIsValid(f2->reltoastrelid) &&
			deleteDependencyRecordsFor(RelationRelationId, f2->reltoastrelid, false) != 1)
			elog(ERROR, "dedup: expected one dependency record for TOAST table %u", f2->reltoastrelid);
		base.classId = toastobj.classId = RelationRelationId;
		base.objectSubId = toastobj.objectSubId = 0;
		if (OidIsValid(f1->reltoastrelid))
		{
			base.objectId = r1;
			toastobj.objectId = f1->reltoastrelid;
			recordDependencyOn(&toastobj, &base, DEPENDENCY_INTERNAL);
		}
		if (OidIsValid(f2->reltoastrelid))
		{
			base.objectId = r2;
			toastobj.objectId = f2->reltoastrelid;
			recordDependencyOn(&toastobj, &base, DEPENDENCY_INTERNAL);
		}
	}
	heap_freetuple(t1);
	heap_freetuple(t2);
	table_close(pg_class, RowExclusiveLock);
	CommandCounterIncrement();
}

/*
 * Under ACCESS EXCLUSIVE on the table: its heap (with TOAST) and each index
 * get the transient's storage; the transient relations, which now hold the
 * old storage, are dropped (the files go at commit).  The TOAST table keeps
 * the name that goes with the table's OID.  Indexes that were not copied
 * are rebuilt.  The table had better have the transient's columns by now.
 */
void
dedup_rebuild_swap(DedupRebuild *rb, List **sql)
{
	ListCell   *lc;
	Oid			toast;

	swap_storage(rb->table, rb->transient, true, rb->kept_stamps);
	for (lc = list_head(rb->pairs); lc != NULL; lc = lnext(rb->pairs, lnext(rb->pairs, lc)))
		swap_storage(lfirst_oid(lc), lfirst_oid(lnext(rb->pairs, lc)), false, false);

	dedup_exec(psprintf("DROP TABLE %s", rb->transientq));
	*sql = lappend(*sql, psprintf("-- storage of %s swapped with a rebuilt copy", dedup_qualified_name(rb->table)));

	toast = get_rel_toast(rb->table);
	if (OidIsValid(toast))
	{
		Oid			toastidx = toast_get_valid_index(toast, AccessExclusiveLock);

		RenameRelationInternal(toast, psprintf("pg_toast_%u", rb->table), true, false);
		if (OidIsValid(toastidx))
			RenameRelationInternal(toastidx, psprintf("pg_toast_%u_index", rb->table), true, true);
		CommandCounterIncrement();
	}
	foreach(lc, rb->reindex)
		dedup_exec_logged(sql, psprintf("REINDEX INDEX %s", dedup_qualified_name(lfirst_oid(lc))));
}

/*
 * Mark constraint conname of relid validated without scanning its rows:
 * what ALTER TABLE ... VALIDATE CONSTRAINT records once its scan found no
 * violation.  The caller has proven it holds (on the very rows the table
 * now has, or by how they were built) and holds a lock on relid that
 * keeps writers out.  The constraint was added NOT VALID in this
 * transaction.
 */
void
dedup_constraint_set_valid(Oid relid, const char *conname)
{
	Relation	conrel;
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData skey[3];
	HeapTuple	tuple;
	HeapTuple	copy;

	rel = table_open(relid, NoLock);
	conrel = table_open(ConstraintRelationId, RowExclusiveLock);
	ScanKeyInit(&skey[0], Anum_pg_constraint_conrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	ScanKeyInit(&skey[1], Anum_pg_constraint_contypid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(InvalidOid));
	ScanKeyInit(&skey[2], Anum_pg_constraint_conname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum(conname));
	scan = systable_beginscan(conrel, ConstraintRelidTypidNameIndexId, true, NULL, 3, skey);
	tuple = systable_getnext(scan);
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "dedup: constraint \"%s\" of %s not found", conname, dedup_qualified_name(relid));
	if (((Form_pg_constraint) GETSTRUCT(tuple))->contype != CONSTRAINT_CHECK &&
		((Form_pg_constraint) GETSTRUCT(tuple))->contype != CONSTRAINT_FOREIGN)
		elog(ERROR, "dedup: constraint \"%s\" of %s is not a check or foreign key", conname,
			 dedup_qualified_name(relid));
	copy = heap_copytuple(tuple);
	((Form_pg_constraint) GETSTRUCT(copy))->convalidated = true;
	CatalogTupleUpdate(conrel, &copy->t_self, copy);
	InvokeObjectPostAlterHook(ConstraintRelationId, ((Form_pg_constraint) GETSTRUCT(copy))->oid, 0);
	heap_freetuple(copy);
	systable_endscan(scan);
	table_close(conrel, RowExclusiveLock);
	CacheInvalidateRelcache(rel);
	table_close(rel, NoLock);
	CommandCounterIncrement();
}
