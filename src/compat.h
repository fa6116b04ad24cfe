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
 * Writing a new relation's pages straight to storage (as CLUSTER does):
 * log_newpage() takes the relation's RelFileNode before 16 and its
 * RelFileLocator from 16 on.  From 17 on the smgr sync API changed and
 * backups use the multi-insert path instead.
 */
#define DEDUP_BULK_WRITE (PG_VERSION_NUM < 170000)
#if PG_VERSION_NUM >= 160000
#define DEDUP_RELFILE(rel) (&(rel)->rd_locator)
#else
#define DEDUP_RELFILE(rel) (&(rel)->rd_node)
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
