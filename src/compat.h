/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  The one place where dedup adapts to PostgreSQL versions.
 *
 * dedup builds against PostgreSQL 15, 16 and 17 (Supabase runs 15 and 17).
 * Every #if PG_VERSION_NUM of the project lives in this header; the rest of
 * the code calls the names defined here.
 *
 *-------------------------------------------------------------------------
 */
#ifndef DEDUP_COMPAT_H
#define DEDUP_COMPAT_H

#include "postgres.h"
#include "funcapi.h"

#if PG_VERSION_NUM < 150000
#error "dedup requires PostgreSQL 15 or later"
#endif

/* Set-returning functions in materialize mode (InitMaterializedSRF is 15+). */
#define dedup_init_srf(fcinfo) InitMaterializedSRF((fcinfo), 0)

/* Does the current user own the relation (directly or through a role)? */
#include "utils/acl.h"
#if PG_VERSION_NUM >= 160000
#include "catalog/pg_class.h"
#define dedup_owns_relation(relid) \
	object_ownercheck(RelationRelationId, (relid), GetUserId())
#else
#define dedup_owns_relation(relid) pg_class_ownercheck((relid), GetUserId())
#endif

/*
 * Number of blocks in the main fork of a permanent or unlogged heap, from
 * its pg_class row, without building a relcache entry.  The caller holds a
 * lock on the relation and read the row after taking it.
 */
#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "storage/smgr.h"

static inline BlockNumber
dedup_heap_nblocks(Form_pg_class rd_rel)
{
#if PG_VERSION_NUM >= 160000
	RelFileLocator loc;

	loc.spcOid = OidIsValid(rd_rel->reltablespace) ? rd_rel->reltablespace : MyDatabaseTableSpace;
	loc.dbOid = MyDatabaseId;
	loc.relNumber = rd_rel->relfilenode;
#if PG_VERSION_NUM >= 170000
	return smgrnblocks(smgropen(loc, INVALID_PROC_NUMBER), MAIN_FORKNUM);
#else
	return smgrnblocks(smgropen(loc, InvalidBackendId), MAIN_FORKNUM);
#endif
#else
	RelFileNode node;

	node.spcNode = OidIsValid(rd_rel->reltablespace) ? rd_rel->reltablespace : MyDatabaseTableSpace;
	node.dbNode = MyDatabaseId;
	node.relNode = rd_rel->relfilenode;
	return smgrnblocks(smgropen(node, InvalidBackendId), MAIN_FORKNUM);
#endif
}

/*
 * The path of one fork of a relation's storage, from its pg_class fields
 * (tablespace, relfilenode), for a relation of this database: permanent or
 * unlogged, or a temporary one of this session (own_temp).
 */
#include "common/relpath.h"
static inline char *
dedup_relation_path(Oid spc, Oid filenode, bool own_temp, ForkNumber fork)
{
#if PG_VERSION_NUM >= 160000
	RelFileLocator loc;

	loc.spcOid = OidIsValid(spc) ? spc : MyDatabaseTableSpace;
	loc.dbOid = MyDatabaseId;
	loc.relNumber = filenode;
#if PG_VERSION_NUM >= 170000
	return relpathbackend(loc, own_temp ? MyProcNumber : INVALID_PROC_NUMBER, fork);
#else
	return relpathbackend(loc, own_temp ? MyBackendId : InvalidBackendId, fork);
#endif
#else
	RelFileNode node;

	node.spcNode = OidIsValid(spc) ? spc : MyDatabaseTableSpace;
	node.dbNode = MyDatabaseId;
	node.relNode = filenode;
	return relpathbackend(node, own_temp ? MyBackendId : InvalidBackendId, fork);
#endif
}

/*
 * Writing a new relation's pages straight to storage, outside shared
 * buffers, as CLUSTER and index builds do (the relation was created in this
 * transaction and nobody else can see it):
 *
 *	 DedupBulkWriter *bw = dedup_bulk_start(rel);
 *	 DedupBulkBuffer buf = dedup_bulk_get_buf(bw);	 -- one page, I/O-aligned
 *	 ... build the page in buf->data ...
 *	 dedup_bulk_write(bw, blkno, buf);				 -- takes buf; blocks in order
 *	 dedup_bulk_finish(bw);							 -- before commit
 *
 * PostgreSQL 17 has exactly this API (storage/bulk_write.h).  Before 17 it
 * is done here the way 17 does it: pages are WAL-logged whole, 32 to a WAL
 * record, and written with smgrextend(); the file then reaches disk through
 * the next checkpoint, unless a checkpoint started while we wrote (its redo
 * point is past some of our WAL, so it must not miss our pages): then it is
 * synced at once.  The last page written to each segment, and the very last
 * page, are written with skipFsync = false, which registers that segment's
 * sync with the checkpointer; every registration precedes the redo-point
 * check, so a checkpoint that starts later syncs them.  From 16 on the page
 * given to smgrextend() must be I/O-aligned (PGIOAlignedBlock).
 */
#if PG_VERSION_NUM >= 170000
#include "storage/bulk_write.h"

typedef BulkWriteState DedupBulkWriter;
typedef BulkWriteBuffer DedupBulkBuffer;

#define dedup_bulk_start(rel) smgr_bulk_start_rel((rel), MAIN_FORKNUM)
#define dedup_bulk_get_buf(bw) smgr_bulk_get_buf(bw)
#define dedup_bulk_write(bw, blkno, buf) smgr_bulk_write((bw), (blkno), (buf), true)
#define dedup_bulk_finish(bw) smgr_bulk_finish(bw)
#else
#include "access/xlog.h"
#include "access/xloginsert.h"
#include "storage/bufpage.h"
#include "utils/rel.h"

#if PG_VERSION_NUM >= 160000
typedef PGIOAlignedBlock *DedupBulkBuffer;
#define DEDUP_RELFILE(rel) (&(rel)->rd_locator)
#define DEDUP_ALLOC_BLOCK(cxt) \
	((DedupBulkBuffer) MemoryContextAllocAligned((cxt), BLCKSZ, PG_IO_ALIGN_SIZE, 0))
#else
typedef PGAlignedBlock *DedupBulkBuffer;
#define DEDUP_RELFILE(rel) (&(rel)->rd_node)
#define DEDUP_ALLOC_BLOCK(cxt) ((DedupBulkBuffer) MemoryContextAlloc((cxt), BLCKSZ))
#endif

#define DEDUP_BULK_BATCH 32

typedef struct DedupBulkWriter
{
	Relation	rel;
	bool		use_wal;
	XLogRecPtr	start_redo;		/* the redo point when we began */
	MemoryContext cxt;
	int			npending;
	BlockNumber blknos[DEDUP_BULK_BATCH];
	Page		pages[DEDUP_BULK_BATCH];
} DedupBulkWriter;

static inline DedupBulkWriter *
dedup_bulk_start(Relation rel)
{
	DedupBulkWriter *bw = palloc0(sizeof(DedupBulkWriter));

	bw->rel = rel;
	bw->use_wal = RelationNeedsWAL(rel);
	bw->start_redo = GetRedoRecPtr();
	bw->cxt = CurrentMemoryContext;
	return bw;
}

static inline DedupBulkBuffer
dedup_bulk_get_buf(DedupBulkWriter *bw)
{
	return DEDUP_ALLOC_BLOCK(bw->cxt);
}

/* WAL-log and write the pending pages; last: these end the relation */
static inline void
dedup_bulk_flush(DedupBulkWriter *bw, bool last)
{
	int			i;

	if (bw->npending == 0)
		return;
	if (bw->use_wal)
		log_newpages(DEDUP_RELFILE(bw->rel), MAIN_FORKNUM, bw->npending,
					 bw->blknos, bw->pages, true);
	for (i = 0; i < bw->npending; i++)
	{
		BlockNumber blkno = bw->blknos[i];
		bool		ends_segment = (blkno + 1) % RELSEG_SIZE == 0 ||
			(last && i == bw->npending - 1);

		PageSetChecksumInplace(bw->pages[i], blkno);
		smgrextend(RelationGetSmgr(bw->rel), MAIN_FORKNUM, blkno,
				   (char *) bw->pages[i], !ends_segment);
		pfree(bw->pages[i]);
	}
	bw->npending = 0;
}

static inline void
dedup_bulk_write(DedupBulkWriter *bw, BlockNumber blkno, DedupBulkBuffer buf)
{
	if (bw->npending == DEDUP_BULK_BATCH)
		dedup_bulk_flush(bw, false);
	bw->blknos[bw->npending] = blkno;
	bw->pages[bw->npending] = (Page) buf->data;
	bw->npending++;
}

static inline void
dedup_bulk_finish(DedupBulkWriter *bw)
{
	dedup_bulk_flush(bw, true);
	/*
	 * Not WAL-logged (temporary, or wal_level = minimal, where commit syncs
	 * the new relation): nothing more to do.  WAL-logged, and a checkpoint
	 * began since we started: it may have run its syncs before our writes,
	 * and crash recovery would start past our WAL, so sync now.
	 */
	if (bw->use_wal && bw->start_redo != GetRedoRecPtr())
		smgrimmedsync(RelationGetSmgr(bw->rel), MAIN_FORKNUM);
	pfree(bw);
}
#endif

/* The time of a relation's last scan: the statistics keep it from 16 on. */
#include "pgstat.h"

static inline TimestampTz
dedup_stat_last_scan(PgStat_StatTabEntry *entry)
{
#if PG_VERSION_NUM >= 160000
	return entry->lastscan;
#else
	(void) entry;
	return 0;
#endif
}

/*
 * A relation whose storage was swapped in this subtransaction (swap.c, as
 * cluster.c's swap_relation_files): the relfilenode fields were renamed
 * relfilelocator in 16.
 */
#include "utils/rel.h"
#include "utils/relcache.h"
#if PG_VERSION_NUM >= 160000
#define dedup_assume_new_storage(rel) RelationAssumeNewRelfilelocator(rel)
#define DEDUP_NEW_STORAGE_SUBID rd_newRelfilelocatorSubid
#define DEDUP_FIRST_STORAGE_SUBID rd_firstRelfilelocatorSubid
#else
#define dedup_assume_new_storage(rel) RelationAssumeNewRelfilenode(rel)
#define DEDUP_NEW_STORAGE_SUBID rd_newRelfilenodeSubid
#define DEDUP_FIRST_STORAGE_SUBID rd_firstRelfilenodeSubid
#endif

/* The local id of this backend's current top-level transaction. */
#include "storage/proc.h"
#if PG_VERSION_NUM >= 170000
#define dedup_my_lxid() (MyProc->vxid.lxid)
#else
#define dedup_my_lxid() (MyProc->lxid)
#endif

#endif							/* DEDUP_COMPAT_H */
