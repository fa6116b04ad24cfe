/*-------------------------------------------------------------------------
 *
 * backup.c
 *	  dedup.backup_table(): a verified copy of a table.
 *	  dedup.restore_backup(): its rows put back, verified again.
 *
 * The copy is made while writers are blocked (SHARE lock on the table and
 * every partition), straight from the table's heap into the new backup.
 * The backup was created in this transaction and nobody else can see it,
 * so its pages are built in local memory, WAL-logged whole and written to
 * storage directly, as CLUSTER does (the bulk writer of compat.h: 17's
 * bulk-write API, or the same done by hand before 17).  Each row is
 * fingerprinted as it is read from the table, and again as it is decoded
 * from the backup's page image just before that page is written (or, for a
 * table access method other than heap, through the multi-insert path COPY
 * uses, as the backup is read back).  Only matching counts and
 * fingerprints make a backup; they go to the journal.
 *
 * A backup never lets a role read or write rows it could not before: it is
 * owned by the table's owner, every privilege on it is revoked (Supabase's
 * default grants to anon and authenticated included), and row level
 * security is enabled on it with no policy, so a later GRANT exposes no row.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/heaptoast.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/bufpage.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "compat.h"
#include "ddl.h"

PG_FUNCTION_INFO_V1(dedup_backup_table);

/* GUC dedup.backup_suffix (dedup.c defines it) */
char	   *dedup_backup_suffix = NULL;
PG_FUNCTION_INFO_V1(dedup_restore_backup);

#define COPY_BATCH 1000

/*
 * Pages of a relation created in this transaction, built in local memory
 * and written straight to storage through the bulk writer (compat.h), as
 * CLUSTER's rewriteheap does: nobody else can see the relation before we
 * commit, each page is WAL-logged whole (when the relation needs WAL) and
 * the file reaches disk before it could be needed, so the shared buffer
 * pool is not used at all.
 */
typedef struct PageWriter
{
	Relation	rel;
	DedupBulkWriter *bulk;
	DedupBulkBuffer buf;		/* the page being built, or NULL */
	BlockNumber blkno;
	TransactionId xid;
	CommandId	cid;
	Size		reserve;		/* fillfactor's free space */
	DedupFpColumns *fpcols;		/* every column of the relation */
	Datum	   *values;
	bool	   *isnull;
	DedupFingerprint written;	/* of the rows decoded from the written pages */
} PageWriter;

/*
 * Write the page being built.  Every row on it is first decoded from the
 * page image itself (values moved to TOAST fetched back) and fingerprinted:
 * what reaches storage is what the fingerprint says.
 */
static void
pw_flush(PageWriter *w)
{
	Page		page;
	OffsetNumber off;

	if (w->buf == NULL)
		return;
	page = (Page) w->buf->data;
	for (off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); off++)
	{
		ItemId		iid = PageGetItemId(page, off);
		HeapTupleData tup;

		tup.t_data = (HeapTupleHeader) PageGetItem(page, iid);
		tup.t_len = ItemIdGetLength(iid);
		tup.t_tableOid = RelationGetRelid(w->rel);
		ItemPointerSet(&tup.t_self, w->blkno, off);
		heap_deform_tuple(&tup, RelationGetDescr(w->rel), w->values, w->isnull);
		dedup_fp_add_row(&w->written, w->fpcols, w->values, w->isnull);
	}
	/* the bulk writer WAL-logs, checksums, writes and frees the page */
	dedup_bulk_write(w->bulk, w->blkno, w->buf);
	w->buf = NULL;
	w->blkno++;
}

/* Set a tuple header as heap_insert would for a new row of this writer. */
static void
pw_stamp(PageWriter *w, HeapTupleHeader td)
{
	td->t_infomask &= ~(HEAP_XACT_MASK);
	td->t_infomask2 &= ~(HEAP2_XACT_MASK);
	td->t_infomask |= HEAP_XMAX_INVALID;
	HeapTupleHeaderSetXmin(td, w->xid);
	HeapTupleHeaderSetCmin(td, w->cid);
	HeapTupleHeaderSetXmax(td, 0);
}

/*
 * Add a row.  tup may point into a source buffer (owned false): it is then
 * only read, and the header is stamped on the copy placed on our page.  A
 * row that needs TOAST work is copied first and goes through the toaster.
 */
static void
pw_insert(PageWriter *w, HeapTuple tup, bool owned)
{
	Page		page;
	HeapTuple	stored = tup;
	HeapTuple	copy = NULL;
	OffsetNumber off;
	HeapTupleHeader onpage;
	Size		len;

	if (HeapTupleHasExternal(tup) || tup->t_len > TOAST_TUPLE_THRESHOLD)
	{
		if (!owned)
			tup = copy = heap_copytuple(tup);
		pw_stamp(w, tup->t_data);
		tup->t_tableOid = RelationGetRelid(w->rel);
		stored = heap_toast_insert_or_update(w->rel, tup, NULL, HEAP_INSERT_SKIP_FSM);
	}
	len = MAXALIGN(stored->t_len);
	if (len > MaxHeapTupleSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("row is too big: size %zu, maximum size %zu", len, MaxHeapTupleSize)));
	if (w->buf && len + w->reserve > PageGetHeapFreeSpace((Page) w->buf->data))
		pw_flush(w);
	if (w->buf == NULL)
	{
		w->buf = dedup_bulk_get_buf(w->bulk);
		PageInit((Page) w->buf->data, BLCKSZ, 0);
	}
	page = (Page) w->buf->data;
	off = PageAddItem(page, (Item) stored->t_data, stored->t_len, InvalidOffsetNumber, false, true);
	if (off == InvalidOffsetNumber)
		elog(ERROR, "dedup: could not add a row to a page of \"%s\"", RelationGetRelationName(w->rel));
	onpage = (HeapTupleHeader) PageGetItem(page, PageGetItemId(page, off));
	pw_stamp(w, onpage);
	ItemPointerSet(&onpage->t_ctid, w->blkno, off);
	if (stored != tup)
		heap_freetuple(stored);
	if (copy)
		heap_freetuple(copy);
}

/* Write the last page; the file is synced or registered for sync. */
static void
pw_finish(PageWriter *w)
{
	pw_flush(w);
	dedup_bulk_finish(w->bulk);
	w->bulk = NULL;
}

/*
 * The n-th default name of a backup of relname: "<table>_backup_<suffix>",
 * then "<table>_backup_<suffix>_2", ...  The suffix is dedup.backup_suffix,
 * or today's date (YYYYMMDD, in the session's time zone).  A name that would
 * pass 63 bytes keeps a prefix of the table name, cut on a character
 * boundary, and a hash of the whole name.
 */
static char *
default_backup_name(const char *relname, int n)
{
	char	   *suffix = (dedup_backup_suffix && dedup_backup_suffix[0]) ?
		pstrdup(dedup_backup_suffix) :
		dedup_query_value("SELECT pg_catalog.to_char(pg_catalog.now(), 'YYYYMMDD')", 0, NULL, NULL);
	char	   *tail = n > 1 ? psprintf("_backup_%s_%d", suffix, n) : psprintf("_backup_%s", suffix);
	char	   *name = psprintf("%s%s", relname, tail);

	if (strlen(name) >= NAMEDATALEN)
	{
		char	   *hashed = psprintf("_%08x%s",
									  hash_bytes((const unsigned char *) relname, strlen(relname)),
									  tail);
		int			keep;

		if (strlen(hashed) >= NAMEDATALEN)
			ereport(ERROR,
					(errcode(ERRCODE_NAME_TOO_LONG),
					 errmsg("backup suffix \"%s\" is too long", suffix),
					 errhint("Set dedup.backup_suffix to something shorter.")));
		keep = pg_mbcliplen(relname, strlen(relname), NAMEDATALEN - 1 - strlen(hashed));
		name = psprintf("%.*s%s", keep, relname, hashed);
	}
	return name;
}

/*
 * Copy every row of src (and its partitions, for a partitioned table) into
 * dst, matching columns by name; fingerprint the rows as they go (over the
 * source's values, in the backup's column order, so the read-back
 * fingerprint of the backup must equal it).
 */
static void
copy_rows(Relation src, Relation dst, DedupFingerprint *fp, DedupFingerprint *written)
{
	TupleDesc	ddesc = RelationGetDescr(dst);
	int			natts = ddesc->natts;
	AttrNumber *map = palloc(sizeof(AttrNumber) * Max(natts, 1));
	TupleTableSlot *slots[COPY_BATCH];
	BulkInsertState bistate = GetBulkInsertState();
	CommandId	cid = GetCurrentCommandId(true);
	List	   *members;
	ListCell   *lc;
	Snapshot	snapshot;
	Datum	   *values = palloc(sizeof(Datum) * Max(natts, 1));
	bool	   *nulls = palloc(sizeof(bool) * Max(natts, 1));
	bool		identity;
	int			nbuf = 0;
	int			i;
	PageWriter	writer;
	bool		bulk = dst->rd_rel->relam == HEAP_TABLE_AM_OID &&
		RelationGetNumberOfBlocks(dst) == 0;

	memset(&writer, 0, sizeof(writer));
	writer.rel = dst;
	if (bulk)
		writer.bulk = dedup_bulk_start(dst);
	writer.xid = GetCurrentTransactionId();
	writer.cid = cid;
	writer.reserve = RelationGetTargetPageFreeSpace(dst, HEAP_DEFAULT_FILLFACTOR);
	writer.values = palloc(sizeof(Datum) * Max(natts, 1));
	writer.isnull = palloc(sizeof(bool) * Max(natts, 1));
	{
		AttrNumber *all = palloc(sizeof(AttrNumber) * Max(natts, 1));

		for (i = 0; i < natts; i++)
			all[i] = i + 1;
		writer.fpcols = dedup_fp_columns(ddesc, all, natts);
	}
	memset(written, 0, sizeof(*written));

	members = src->rd_rel->relkind == RELKIND_PARTITIONED_TABLE ?
		find_all_inheritors(RelationGetRelid(src), NoLock, NULL) :
		list_make1_oid(RelationGetRelid(src));
	memset(slots, 0, sizeof(slots));
	memset(fp, 0, sizeof(*fp));

	/* the caller holds the SHARE locks: this snapshot sees every committed row */
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	foreach(lc, members)
	{
		Relation	rel = relation_open(lfirst_oid(lc), NoLock);
		TableScanDesc scan;
		TupleTableSlot *in;
		DedupFpColumns *fpcols;
		AttrNumber	maxatt = 0;

		if (!RELKIND_HAS_STORAGE(rel->rd_rel->relkind))
		{
			relation_close(rel, NoLock);
			continue;
		}
		for (i = 0; i < natts; i++)
		{
			map[i] = get_attnum(RelationGetRelid(rel),
								NameStr(TupleDescAttr(ddesc, i)->attname));
			if (map[i] == InvalidAttrNumber)
				elog(ERROR, "dedup: column \"%s\" missing from \"%s\"",
					 NameStr(TupleDescAttr(ddesc, i)->attname), RelationGetRelationName(rel));
			maxatt = Max(maxatt, map[i]);
		}
		/*
		 * Same layout (no dropped or reordered columns) and no column added
		 * with a default after rows existed (those rows do not store it):
		 * copy tuples as they are.
		 */
		identity = RelationGetDescr(rel)->natts == natts &&
			!(RelationGetDescr(rel)->constr && RelationGetDescr(rel)->constr->missing);
		for (i = 0; identity && i < natts; i++)
			identity = map[i] == i + 1;
		fpcols = dedup_fp_columns(RelationGetDescr(rel), map, natts);
		scan = table_beginscan(rel, snapshot, 0, NULL);
		in = table_slot_create(rel, NULL);
		while (table_scan_getnextslot(scan, ForwardScanDirection, in))
		{
			HeapTuple	tup;

			CHECK_FOR_INTERRUPTS();
			slot_getsomeattrs(in, maxatt);
			dedup_fp_add_row(fp, fpcols, in->tts_values, in->tts_isnull);
			if (bulk && identity)
			{
				bool		should_free;

				/* read in place: the page copy is stamped, not the source */
				tup = ExecFetchSlotHeapTuple(in, false, &should_free);
				pw_insert(&writer, tup, false);
				if (should_free)
					heap_freetuple(tup);
				continue;
			}
			if (identity)
				tup = ExecCopySlotHeapTuple(in);
			else
			{
				for (i = 0; i < natts; i++)
				{
					values[i] = in->tts_values[map[i] - 1];
					nulls[i] = in->tts_isnull[map[i] - 1];
				}
				tup = heap_form_tuple(ddesc, values, nulls);
			}
			if (bulk)
			{
				pw_insert(&writer, tup, true);
				heap_freetuple(tup);
				continue;
			}
			if (slots[nbuf] == NULL)
				slots[nbuf] = MakeSingleTupleTableSlot(ddesc, &TTSOpsHeapTuple);
			ExecStoreHeapTuple(tup, slots[nbuf], true);
			if (++nbuf == COPY_BATCH)
			{
				table_multi_insert(dst, slots, nbuf, cid, TABLE_INSERT_SKIP_FSM, bistate);
				for (i = 0; i < nbuf; i++)
					ExecClearTuple(slots[i]);
				nbuf = 0;
			}
		}
		ExecDropSingleTupleTableSlot(in);
		table_endscan(scan);
		relation_close(rel, NoLock);
	}
	if (nbuf > 0)
	{
		table_multi_insert(dst, slots, nbuf, cid, TABLE_INSERT_SKIP_FSM, bistate);
		for (i = 0; i < nbuf; i++)
			ExecClearTuple(slots[i]);
	}
	if (bulk)
	{
		pw_finish(&writer);
		*written = writer.written;
	}
	else
	{
		/* rows went through the table AM: read them back */
		CommandCounterIncrement();
		dedup_fingerprint_relation(RelationGetRelid(dst), dedup_column_names(RelationGetRelid(dst)),
								   written);
	}
	UnregisterSnapshot(snapshot);
	for (i = 0; i < COPY_BATCH; i++)
		if (slots[i])
			ExecDropSingleTupleTableSlot(slots[i]);
	FreeBulkInsertState(bistate);
	table_finish_bulk_insert(dst, TABLE_INSERT_SKIP_FSM);
}

static bool
same_names(List *a, List *b)
{
	ListCell   *la,
			   *lb;

	if (list_length(a) != list_length(b))
		return false;
	forboth(la, a, lb, b)
		if (strcmp((char *) lfirst(la), (char *) lfirst(lb)) != 0)
		return false;
	return true;
}

/* The json text of a journal detail for a backup. */
static char *
backup_detail(Oid src, Oid bak, Oid owner, List *cols, const DedupFingerprint *fp, List *sql)
{
	StringInfoData d;

	initStringInfo(&d);
	appendStringInfoChar(&d, '{');
	dedup_json_str(&d, "source", dedup_qualified_name(src));
	dedup_json_raw(&d, "source_oid", psprintf("%u", src));
	dedup_json_str(&d, "backup", dedup_qualified_name(bak));
	dedup_json_raw(&d, "backup_oid", psprintf("%u", bak));
	dedup_json_str(&d, "owner", GetUserNameFromId(owner, false));
	dedup_json_raw(&d, "rows", psprintf(INT64_FORMAT, fp->rows));
	dedup_json_str(&d, "fingerprint", dedup_fp_hex(fp));
	dedup_json_raw(&d, "columns", dedup_json_array(cols));
	dedup_json_raw(&d, "sql", dedup_json_array(sql));
	appendStringInfoChar(&d, '}');
	return d.data;
}

/*
 * Is existing a backup dedup took of relid that still holds exactly what
 * the table holds now?  A backup is recognised by its journal entry and
 * owner, never by its name or contents alone (a table another role planted
 * under a backup's name is not one), and only a backup is locked.
 */
static bool
reusable_backup(Oid existing, Oid relid, List *cols)
{
	DedupBackupInfo *b = dedup_journal_backup_of(existing);
	DedupFingerprint want;

	if (b == NULL || b->source != relid)
		return false;
	/* a journaled backup of relid: only now is it locked (writers wait) */
	LockRelationOid(existing, ShareLock);
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(existing)))
		return false;
	if (!same_names(cols, dedup_column_names(existing)) || !dedup_backup_matches(b))
		return false;
	dedup_fingerprint_relation(relid, cols, &want);
	return want.rows == b->rows && strcmp(dedup_fp_hex(&want), b->fingerprint) == 0;
}

/* Refuse a table whose rows cannot all be copied: a foreign partition. */
static void
check_copyable(Oid relid)
{
	ListCell   *lc;

	foreach(lc, find_all_inheritors(relid, NoLock, NULL))
		if (get_rel_relkind(lfirst_oid(lc)) == RELKIND_FOREIGN_TABLE)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot back up table \"%s\" because its partition \"%s\" is a foreign table",
							get_rel_name(relid), get_rel_name(lfirst_oid(lc))),
					 errdetail("Its rows live on another server; dedup cannot copy and count them exactly. Nothing was changed.")));
}

/*
 * Back up relid as one journaled action (a step of the action under way,
 * if any).  given_name NULL: the default name; a default name taken by
 * anything but a reusable backup moves on to the next one (_2, _3 ...).
 * Returns the backup; *entry receives its journal id, or 0 when a fresh
 * backup that already holds exactly the table's rows was reused.
 */
Oid
dedup_backup_relation(Oid relid, const char *given_name, int64 *entry)
{
	DedupAction *act;
	Relation	src;
	Relation	dst;
	Oid			nsp;
	Oid			existing;
	Oid			bakid;
	char	   *relname;
	char	   *bakname = NULL;
	char	   *bakq;
	List	   *cols;
	List	   *sql = NIL;
	DedupFingerprint copied,
				readback;
	char	   *stmt;
	Oid			owner;
	int			n;

	*entry = 0;
	if (given_name && given_name[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("backup_name must not be empty"),
				 errdetail("Nothing was changed."),
				 errhint("Leave it out for the default name, <table>_backup_<date>.")));
	dedup_check_target(relid, "back up");
	/* SHARE: readers go on, writers wait until we commit */
	dedup_lock_tree(relid, ShareLock);
	dedup_check_target(relid, "back up");	/* re-check under the lock */
	check_copyable(relid);

	src = relation_open(relid, NoLock);
	relname = pstrdup(RelationGetRelationName(src));
	nsp = RelationGetNamespace(src);
	owner = src->rd_rel->relowner;
	cols = dedup_column_names(relid);

	for (n = 1;; n++)
	{
		bakname = given_name ? pstrdup(given_name) : default_backup_name(relname, n);
		existing = get_relname_relid(bakname, nsp);
		if (!OidIsValid(existing))
			break;
		if (reusable_backup(existing, relid, cols))
		{
			ereport(NOTICE,
					(errmsg("backup \"%s\" already holds the rows of \"%s\"", bakname, relname),
					 errdetail("It is a journaled backup of the table with the same rows and values; nothing was copied.")));
			relation_close(src, NoLock);
			return existing;
		}
		if (given_name)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_TABLE),
					 errmsg("relation \"%s\" already exists", bakname),
					 dedup_journal_backup_of(existing) ?
					 errdetail("It is a backup that no longer holds exactly the rows of \"%s\". Nothing was changed.", relname) :
					 errdetail("It is not a backup that dedup took of \"%s\". Nothing was changed.", relname),
					 errhint("Pass another backup_name, or leave it out for a new default name.")));
		if (n >= 1000)
			elog(ERROR, "dedup: no free backup name for \"%s\"", relname);
	}
	bakq = quote_qualified_identifier(get_namespace_name(nsp), bakname);
	act = dedup_action_begin("backup");

	/* create it: same columns, types, collations and NOT NULL; nothing else */
	stmt = psprintf("CREATE TABLE %s (LIKE %s)", bakq, dedup_qualified_name(relid));
	dedup_exec_logged(&sql, stmt);
	bakid = get_relname_relid(bakname, nsp);
	if (!OidIsValid(bakid))
		elog(ERROR, "dedup: backup \"%s\" was not created", bakname);

	/*
	 * No one gains access: the table's owner, no grants, RLS with no policy.
	 * Not FORCE, even when the table has it: dedup reads a backup back as
	 * its owner (restore, undo, drop_backup), and FORCE binds an owner only
	 * as long as it chooses to.
	 */
	if (owner != GetUserId())
	{
		stmt = psprintf("ALTER TABLE %s OWNER TO %s", bakq,
						quote_identifier(GetUserNameFromId(owner, false)));
		dedup_exec_logged(&sql, stmt);
	}
	dedup_exec_logged(&sql, dedup_set_acl_sql(bakq, NULL, "TABLE"));
	stmt = psprintf("ALTER TABLE %s ENABLE ROW LEVEL SECURITY", bakq);
	dedup_exec_logged(&sql, stmt);

	/* copy, then read the copy back */
	dst = table_open(bakid, AccessExclusiveLock);
	copy_rows(src, dst, &copied, &readback);
	table_close(dst, NoLock);
	CommandCounterIncrement();
	if (!dedup_fp_equal(&copied, &readback))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("backup of \"%s\" does not match the table", relname),
				 errdetail("Copied " INT64_FORMAT " rows (fingerprint %s), read back " INT64_FORMAT " (fingerprint %s). Nothing was changed.",
						   copied.rows, dedup_fp_hex(&copied), readback.rows,
						   dedup_fp_hex(&readback))));

	stmt = psprintf("COMMENT ON TABLE %s IS %s", bakq,
					quote_literal_cstr(psprintf("dedup backup of %s: " INT64_FORMAT " rows, fingerprint %s",
												dedup_qualified_name(relid), copied.rows,
												dedup_fp_hex(&copied))));
	dedup_exec_logged(&sql, stmt);
	sql = lappend(sql, psprintf("-- " INT64_FORMAT " rows copied from %s", copied.rows,
								dedup_qualified_name(relid)));

	dedup_action_touch(act, bakq);
	*entry = dedup_action_end(act, dedup_qualified_name(relid),
							  backup_detail(relid, bakid, owner, cols, &copied, sql));
	relation_close(src, NoLock);
	return bakid;
}

/*
 * The name dedup_backup_relation(relid, NULL) would give the backup of relid
 * now, and in *reused whether it would find a fresh backup there and reuse
 * it.  Reads only: the table and any backup found are locked ACCESS SHARE.
 */
char *
dedup_backup_name_planned(Oid relid, bool *reused)
{
	Oid			nsp = get_rel_namespace(relid);
	char	   *relname = get_rel_name(relid);
	List	   *cols;
	int			n;

	*reused = false;
	LockRelationOid(relid, AccessShareLock);
	cols = dedup_column_names(relid);
	for (n = 1; n < 1000; n++)
	{
		char	   *name = default_backup_name(relname, n);
		Oid			existing = get_relname_relid(name, nsp);

		if (!OidIsValid(existing))
			return name;
		LockRelationOid(existing, AccessShareLock);
		if (reusable_backup(existing, relid, cols))
		{
			*reused = true;
			return name;
		}
	}
	elog(ERROR, "dedup: no free backup name for \"%s\"", relname);
	return NULL;				/* keep compiler quiet */
}

/*
 * A backup of relid for an action that changes it (a step of that action):
 * a fresh journaled backup that holds exactly its rows is reused.  Returns
 * the backup's journal id.
 */
int64
dedup_backup_entry(Oid relid)
{
	int64		entry;
	Oid			bak = dedup_backup_relation(relid, NULL, &entry);

	return entry > 0 ? entry : dedup_journal_backup_of(bak)->entry;
}

/* The body of dedup.backup_table() under dedup_call(). */
static void
backup_table_body(FunctionCallInfo fcinfo, MemoryContext cxt, void *result)
{
	int64		entry;

	*(Oid *) result = dedup_backup_relation(PG_GETARG_OID(0),
											PG_ARGISNULL(1) ? NULL : NameStr(*PG_GETARG_NAME(1)),
											&entry);
}

/*
 * dedup.backup_table(tbl regclass, backup_name name DEFAULT NULL) RETURNS regclass
 *
 *	 SELECT dedup.backup_table('public.members');   -- public.members_backup_20261121
 *
 * Idempotent: a journaled backup of the table that still holds exactly its
 * rows is returned with a notice.  Any other table of that name is an
 * error when the name was given, and skipped (the next default name is
 * used) when it was not.
 */
Datum
dedup_backup_table(PG_FUNCTION_ARGS)
{
	Oid			result = InvalidOid;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("tbl must not be null"),
				 errdetail("Nothing was changed."),
				 errhint("Name the table to back up: dedup.backup_table('members').")));
	dedup_call(fcinfo, backup_table_body, &result);
	PG_RETURN_OID(result);
}

/* Fingerprint difference after - before (what was added). */
static DedupFingerprint
fp_minus(const DedupFingerprint *after, const DedupFingerprint *before)
{
	DedupFingerprint d;

	d.rows = after->rows - before->rows;
	d.h1 = after->h1 - before->h1;
	d.h2 = after->h2 - before->h2;
	return d;
}

/*
 * Refuse a target whose owner is not the backup's owner (or a member of
 * it): the rows are inserted as the target's owner, and only the backup's
 * owner may read them (the backup has no grant and row level security with
 * no policy).  Reads the catalogs only: called before any lock, and again
 * once the target is locked.
 */
static void
check_restore_owner(Oid bakid, Oid target)
{
	Oid			bak_owner = dedup_rel_owner(bakid);
	Oid			target_owner = dedup_rel_owner(target);

	if (!has_privs_of_role(target_owner, bak_owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot restore backup \"%s\" into table \"%s\" of another owner",
						get_rel_name(bakid), get_rel_name(target)),
				 errdetail("Backup %s is owned by role \"%s\", table %s by role \"%s\". Rows are restored as the table's owner, and only the backup's owner may read them. Nothing was changed.",
						   dedup_qualified_name(bakid), GetUserNameFromId(bak_owner, false),
						   dedup_qualified_name(target), GetUserNameFromId(target_owner, false)),
				 errhint("Restore into a table owned by \"%s\", or give both tables the same owner with ALTER TABLE ... OWNER TO.",
						 GetUserNameFromId(bak_owner, false))));
}

/*
 * The table a backup goes back into when none is named, if it exists: the
 * table it was taken from, or a table that has its name now (recreated by
 * an undo, say).  InvalidOid when there is none.
 */
static Oid
restore_existing_target(DedupBackupInfo *b)
{
	return OidIsValid(b->source) ? b->source : dedup_lookup_relation(b->source_name);
}

/*
 * Error out if the journal holds a drop, not undone, of another table that
 * had the name of the one backup b was taken from: it is not replayed for b.
 */
static void
refuse_drop_of_another(DedupBackupInfo *b, Oid bakid)
{
	Oid			types[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(b->source_name)};
	List	   *other = dedup_journal_rows("SELECT j.id, t->>'owner' FROM dedup.journal j,"
										   "       pg_catalog.jsonb_array_elements(j.detail->'tables') t"
										   " WHERE j.action OPERATOR(pg_catalog.=) 'drop'"
										   "   AND t->>'qualname' OPERATOR(pg_catalog.=) $1"
										   "   AND NOT EXISTS (SELECT 1 FROM dedup.journal u"
										   "       WHERE u.undoes OPERATOR(pg_catalog.=) j.id)"
										   " ORDER BY j.id DESC LIMIT 1", 1, types, args);
	char	  **o;

	if (other == NIL)
		return;
	o = (char **) linitial(other);
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("table %s that backup \"%s\" was taken from cannot be recreated from journal entry %s",
					b->source_name, get_rel_name(bakid), o[0]),
			 errdetail("That entry dropped another table of that name (owned by role \"%s\"), not the one the backup was taken from (owned by role \"%s\"). Nothing was changed.",
					   o[1] ? o[1] : "?", b->owner),
			 errhint("Create the table the rows should go into, then name it: SELECT dedup.restore_backup(%s, %s);",
					 quote_literal_cstr(dedup_qualified_name(bakid)),
					 quote_literal_cstr(b->source_name))));
}

/*
 * With no table of its name left, the table a backup goes back into is
 * recreated: as it was, from the journaled drop of that very table (the
 * backup's journaled source OID and owner, dropped after the backup was
 * taken), or, with no drop of anything of that name, from the backup's
 * columns.  A drop of another table that happened to have the name is
 * never replayed: an error says so.
 */
static Oid
restore_target(DedupBackupInfo *b, Oid bakid, List **sql, char **recreated)
{
	Oid			types[3] = {INT8OID, OIDOID, TEXTOID};
	Datum		args[3] = {Int64GetDatum(b->entry), ObjectIdGetDatum(b->source_oid),
	CStringGetTextDatum(b->owner)};
	List	   *drop;
	char	   *name;
	Oid			target;

	*recreated = NULL;
	/* the newest drop of the same table, not undone: its id and the table's name */
	drop = dedup_journal_rows("SELECT j.id, t->>'qualname' FROM dedup.journal j,"
							  "       pg_catalog.jsonb_array_elements(j.detail->'tables') t"
							  " WHERE j.action OPERATOR(pg_catalog.=) 'drop'"
							  "   AND j.id OPERATOR(pg_catalog.>) $1"
							  "   AND t->>'oid' OPERATOR(pg_catalog.=) $2::pg_catalog.text"
							  "   AND t->>'owner' OPERATOR(pg_catalog.=) $3"
							  "   AND NOT EXISTS (SELECT 1 FROM dedup.journal u"
							  "       WHERE u.undoes OPERATOR(pg_catalog.=) j.id)"
							  " ORDER BY j.id DESC LIMIT 1", 3, types, args);
	if (drop != NIL)
	{
		char	   *dropid = ((char **) linitial(drop))[0];
		int64		drop_entry = pg_strtoint64(dropid);

		name = ((char **) linitial(drop))[1];
		ereport(NOTICE,
				(errmsg("recreating \"%s\" from journal entry %s", name, dropid)));
		/* a drop of its own is undone (and marked so); a step of another action is replayed */
		if (dedup_journal_field(drop_entry, "j.parent") == NULL)
		{
			(void) dedup_undo_internal(drop_entry);
			*sql = lappend(*sql, psprintf("SELECT dedup.undo(%s)", dropid));
		}
		else
			dedup_replay_drop(drop_entry, DEDUP_REPLAY_TABLES, sql);
		*recreated = psprintf("journal entry %s", dropid);
	}
	else
	{
		char	   *bakq = dedup_qualified_name(bakid);

		refuse_drop_of_another(b, bakid);
		name = b->source_name;
		ereport(NOTICE,
				(errmsg("recreating \"%s\" from the columns of \"%s\"", name, bakq),
				 errdetail("No journaled drop of it was found: defaults, constraints, indexes, triggers and grants are not restored; its privileges are the owner's only.")));
		dedup_exec_logged(sql, psprintf("CREATE TABLE %s (LIKE %s)", name, bakq));
		dedup_exec_logged(sql, psprintf("ALTER TABLE %s OWNER TO %s", name,
										quote_identifier(GetUserNameFromId(dedup_rel_owner(bakid), false))));
		dedup_exec_logged(sql, dedup_set_acl_sql(name, NULL, "TABLE"));
		*recreated = psprintf("the columns of %s", bakq);
	}
	target = dedup_lookup_relation(name);
	if (!OidIsValid(target))
		elog(ERROR, "dedup: could not recreate \"%s\"", name);
	return target;
}

/*
 * Put the rows of backup bakid into target (InvalidOid: see
 * restore_target) as one journaled action, and prove that what the target
 * gained is exactly the backup.  Returns the number of rows.
 */
int64
dedup_restore(Oid bakid, Oid target)
{
	DedupBackupInfo *b;
	DedupAction *act;
	char	   *bakq = dedup_qualified_name(bakid);
	List	   *cols = NIL;
	List	   *seqs;
	DedupFingerprint now,
				before,
				after,
				added;
	DedupRows	rows;
	StringInfoData ins;
	StringInfoData d;
	ListCell   *lc;
	List	   *sql = NIL;
	char	   *recreated = NULL;
	Oid			types[1] = {INT8OID};
	Datum		args[1];

	dedup_check_target(bakid, "restore from");
	b = dedup_journal_backup_of(bakid);
	if (b == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" is not a backup taken by dedup.backup_table()", bakq),
				 errdetail("No journal entry records it with this name and owner. Nothing was changed."),
				 errhint("Copy its rows with INSERT ... SELECT instead.")));
	/* privileges and owners first, before any lock */
	if (!OidIsValid(target))
		target = restore_existing_target(b);
	if (OidIsValid(target))
	{
		dedup_check_target(target, "restore into");
		check_restore_owner(bakid, target);
	}

	/* the backup must still hold what was recorded */
	LockRelationOid(bakid, ShareLock);
	args[0] = Int64GetDatum(b->entry);
	foreach(lc, dedup_journal_rows("SELECT pg_catalog.jsonb_array_elements_text(j.detail->'columns')"
								   "  FROM dedup.journal j WHERE j.id OPERATOR(pg_catalog.=) $1", 1, types, args))
		cols = lappend(cols, ((char **) lfirst(lc))[0]);
	dedup_fingerprint_relation(bakid, cols, &now);
	if (now.rows != b->rows || strcmp(dedup_fp_hex(&now), b->fingerprint) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("backup \"%s\" no longer matches its fingerprint", bakq),
				 errdetail("Journal entry " INT64_FORMAT " recorded " INT64_FORMAT " rows (fingerprint %s); it now holds " INT64_FORMAT " (fingerprint %s). Nothing was changed.",
						   b->entry, b->rows, b->fingerprint, now.rows, dedup_fp_hex(&now))));

	act = dedup_action_begin("restore");
	if (!OidIsValid(target))
		target = restore_target(b, bakid, &sql, &recreated);

	dedup_check_target(target, "restore into");
	check_restore_owner(bakid, target);
	/* SHARE ROW EXCLUSIVE: readers go on, no other writer until we commit */
	dedup_lock_tree(target, ShareRowExclusiveLock);
	dedup_check_target(target, "restore into");
	check_restore_owner(bakid, target);
	seqs = dedup_lock_sequences(target);

	/* every backup column must land somewhere */
	foreach(lc, cols)
		if (get_attnum(target, (char *) lfirst(lc)) == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("table \"%s\" has no column \"%s\"", get_rel_name(target),
							(char *) lfirst(lc)),
					 errdetail("Restoring would lose that column's values. Nothing was changed."),
					 errhint("Add the column, or restore into another table.")));

	dedup_fingerprint_relation(target, cols, &before);

	/* as the target's owner: its triggers and defaults run as for the owner */
	initStringInfo(&ins);
	foreach(lc, cols)
	{
		char	   *c = (char *) lfirst(lc);

		if (get_attgenerated(target, get_attnum(target, c)) != '\0')
			continue;			/* computed again by the target */
		appendStringInfo(&ins, "%s%s", ins.len ? ", " : "", quote_identifier(c));
	}
	{
		char	   *stmt = psprintf("INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s",
									dedup_qualified_name(target), ins.data, ins.data, bakq);

		dedup_write_rows(stmt, dedup_rel_owner(target), &rows);
		sql = lappend(sql, stmt);
	}
	CommandCounterIncrement();
	dedup_advance_sequences(seqs, dedup_rel_owner(target), &sql);

	dedup_fingerprint_relation(target, cols, &after);
	added = fp_minus(&after, &before);
	if (rows.count != b->rows || !dedup_fp_equal(&added, &now))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("rows restored into \"%s\" do not match backup \"%s\"",
						get_rel_name(target), bakq),
				 errdetail("The backup holds " INT64_FORMAT " rows (fingerprint %s); the table gained " INT64_FORMAT " (fingerprint %s). Nothing was changed.",
						   now.rows, dedup_fp_hex(&now), added.rows, dedup_fp_hex(&added)),
				 errhint("A trigger or rule on the table may change inserted rows: disable it with ALTER TABLE ... DISABLE TRIGGER, then retry.")));

	dedup_action_touch(act, dedup_qualified_name(target));
	initStringInfo(&d);
	appendStringInfoChar(&d, '{');
	dedup_json_str(&d, "backup", bakq);
	dedup_json_raw(&d, "backup_oid", psprintf("%u", bakid));
	dedup_json_raw(&d, "backup_entry", psprintf(INT64_FORMAT, b->entry));
	dedup_json_str(&d, "target", dedup_qualified_name(target));
	dedup_json_raw(&d, "target_oid", psprintf("%u", target));
	dedup_json_str(&d, "recreated_from", recreated);
	dedup_rows_json(&d, "rows", dedup_qualified_name(target), &rows);
	dedup_json_str(&d, "fingerprint", dedup_fp_hex(&added));
	dedup_json_raw(&d, "sequences", dedup_sequences_json(seqs));
	dedup_json_raw(&d, "sql", dedup_json_array(sql));
	appendStringInfoChar(&d, '}');
	(void) dedup_action_end(act, dedup_qualified_name(target), d.data);
	return rows.count;
}

/* The body of dedup.restore_backup() under dedup_call(). */
static void
restore_backup_body(FunctionCallInfo fcinfo, MemoryContext cxt, void *result)
{
	*(int64 *) result = dedup_restore(PG_GETARG_OID(0),
									  PG_ARGISNULL(1) ? InvalidOid : PG_GETARG_OID(1));
}

/*
 * dedup.restore_backup(backup regclass, target regclass DEFAULT NULL) RETURNS bigint
 *
 *	 SELECT dedup.restore_backup('public.members_backup_20261121');
 *
 * Inserts the backup's rows into target (default: the table the backup was
 * taken from, recreated from the journal if it was dropped), checks that
 * the rows added match the backup's fingerprint, and returns their count.
 */
Datum
dedup_restore_backup(PG_FUNCTION_ARGS)
{
	int64		result = 0;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("backup must not be null"),
				 errdetail("Nothing was changed."),
				 errhint("Name the backup: dedup.restore_backup('members_backup_20261121').")));
	dedup_call(fcinfo, restore_backup_body, &result);
	PG_RETURN_INT64(result);
}
