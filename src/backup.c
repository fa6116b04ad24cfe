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
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "compat.h"
#include "ddl.h"

PG_FUNCTION_INFO_V1(dedup_backup_table);
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

/* "<table>_backup_<YYYYMMDD>", shortened with a hash when over 63 bytes. */
static char *
default_backup_name(const char *relname)
{
	char	   *day = dedup_query_value("SELECT pg_catalog.to_char(pg_catalog.now(), 'YYYYMMDD')",
										0, NULL, NULL);
	char	   *name = psprintf("%s_backup_%s", relname, day);

	if (strlen(name) >= NAMEDATALEN)
	{
		char	   *suffix = psprintf("_%08x_backup_%s",
									  hash_bytes((const unsigned char *) relname, strlen(relname)),
									  day);
		int			keep = pg_mbcliplen(relname, strlen(relname),
										NAMEDATALEN - 1 - strlen(suffix));

		name = psprintf("%.*s%s", keep, relname, suffix);
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
backup_detail(Oid src, Oid bak, List *cols, const DedupFingerprint *fp, List *sql)
{
	StringInfoData d;

	initStringInfo(&d);
	appendStringInfoChar(&d, '{');
	dedup_json_str(&d, "source", dedup_qualified_name(src));
	dedup_json_raw(&d, "source_oid", psprintf("%u", src));
	dedup_json_str(&d, "backup", dedup_qualified_name(bak));
	dedup_json_raw(&d, "backup_oid", psprintf("%u", bak));
	dedup_json_raw(&d, "rows", psprintf(INT64_FORMAT, fp->rows));
	dedup_json_str(&d, "fingerprint", dedup_fp_hex(fp));
	dedup_json_raw(&d, "columns", dedup_json_array(cols));
	dedup_json_raw(&d, "sql", dedup_json_array(sql));
	appendStringInfoChar(&d, '}');
	return d.data;
}

Oid
dedup_backup_relation(Oid relid, const char *given_name)
{
	Relation	src;
	Relation	dst;
	Oid			nsp;
	Oid			existing;
	Oid			bakid;
	char	   *relname;
	char	   *bakname;
	char	   *bakq;
	List	   *cols;
	List	   *sql = NIL;
	DedupFingerprint copied,
				readback;
	char	   *stmt;
	Oid			owner;

	dedup_check_target(relid, "back up");
	/* SHARE: readers go on, writers wait until we commit */
	dedup_lock_tree(relid, ShareLock);
	dedup_check_target(relid, "back up");	/* re-check under the lock */

	src = relation_open(relid, NoLock);
	relname = pstrdup(RelationGetRelationName(src));
	nsp = RelationGetNamespace(src);
	owner = src->rd_rel->relowner;
	cols = dedup_column_names(relid);

	bakname = given_name ? pstrdup(given_name) : default_backup_name(relname);
	bakq = quote_qualified_identifier(get_namespace_name(nsp), bakname);
	existing = get_relname_relid(bakname, nsp);

	if (OidIsValid(existing))
	{
		DedupFingerprint have,
					want;
		List	   *bcols;

		/* idempotent: a backup of that name with the table's content is it */
		LockRelationOid(existing, ShareLock);
		bcols = dedup_column_names(existing);
		memset(&have, 0, sizeof(have));
		memset(&want, 0, sizeof(want));
		if (same_names(cols, bcols))
		{
			dedup_fingerprint_relation(existing, bcols, &have);
			dedup_fingerprint_relation(relid, bcols, &want);
		}
		if (same_names(cols, bcols) && dedup_fp_equal(&have, &want))
		{
			ereport(NOTICE,
					(errmsg("backup \"%s\" already holds the rows of \"%s\"", bakname, relname),
					 errdetail(INT64_FORMAT " rows, fingerprint %s; nothing was copied.",
							   have.rows, dedup_fp_hex(&have))));
			relation_close(src, NoLock);
			return existing;
		}
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("backup \"%s\" already exists and differs from \"%s\"", bakname, relname),
				 same_names(cols, bcols) ?
				 errdetail("It holds " INT64_FORMAT " rows (fingerprint %s); the table holds " INT64_FORMAT " (fingerprint %s). Nothing was changed.",
						   have.rows, dedup_fp_hex(&have), want.rows, dedup_fp_hex(&want)) :
				 errdetail("Its columns are not the table's. Nothing was changed."),
				 errhint("Drop or rename \"%s\", or pass another backup_name.", bakname)));
	}

	/* create it: same columns, types, collations and NOT NULL; nothing else */
	stmt = psprintf("CREATE TABLE %s (LIKE %s)", bakq, dedup_qualified_name(relid));
	dedup_exec_logged(&sql, stmt);
	bakid = get_relname_relid(bakname, nsp);
	if (!OidIsValid(bakid))
		elog(ERROR, "dedup: backup \"%s\" was not created", bakname);

	/* no one gains access: the table's owner, no grants, RLS with no policy */
	if (owner != GetUserId())
	{
		stmt = psprintf("ALTER TABLE %s OWNER TO %s", bakq,
						quote_identifier(GetUserNameFromId(owner, false)));
		dedup_exec_logged(&sql, stmt);
	}
	stmt = psprintf("SELECT dedup._set_acl(%s::regclass, NULL, 'TABLE')",
					quote_literal_cstr(bakq));
	dedup_exec_logged(&sql, stmt);
	stmt = psprintf("ALTER TABLE %s ENABLE ROW LEVEL SECURITY", bakq);
	dedup_exec_logged(&sql, stmt);
	if (src->rd_rel->relforcerowsecurity)
	{
		stmt = psprintf("ALTER TABLE %s FORCE ROW LEVEL SECURITY", bakq);
		dedup_exec_logged(&sql, stmt);
	}

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

	dedup_journal_write("backup", dedup_qualified_name(relid),
						backup_detail(relid, bakid, cols, &copied, sql));
	relation_close(src, NoLock);
	return bakid;
}

/*
 * dedup.backup_table(tbl regclass, backup_name name DEFAULT NULL) RETURNS regclass
 *
 *	 SELECT dedup.backup_table('public.members');   -- public.members_backup_20261121
 *
 * Idempotent: a backup of that name whose rows match the table is returned
 * with a notice; one that differs is an error.
 */
Datum
dedup_backup_table(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile Oid result = InvalidOid;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_TRY();
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "dedup: SPI_connect failed");
		result = dedup_backup_relation(PG_GETARG_OID(0),
								 PG_ARGISNULL(1) ? NULL : NameStr(*PG_GETARG_NAME(1)));
		SPI_finish();
	}
	PG_CATCH();
	{
		dedup_rethrow_unchanged(cxt);
	}
	PG_END_TRY();
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

static int64
restore_internal(Oid bakid, Oid target)
{
	Oid			types[1] = {TEXTOID};
	Datum		args[1];
	char	   *bakq = dedup_qualified_name(bakid);
	char	   *entry;
	char	   *source;
	int64		entry_id;
	List	   *cols;
	DedupFingerprint recorded,
				now,
				before,
				after,
				added;
	char	   *fphex;
	StringInfoData ins;
	StringInfoData sel;
	StringInfoData d;
	ListCell   *lc;
	List	   *sql = NIL;
	int64		n;
	bool		first = true;

	dedup_check_target(bakid, "restore from");

	/* the backup's journal entry says what it holds */
	args[0] = CStringGetTextDatum(psprintf("%u", bakid));
	entry = dedup_journal_value("SELECT j.id FROM dedup.journal j"
							  " WHERE j.action OPERATOR(pg_catalog.=) 'backup'"
							  "   AND j.detail->>'backup_oid' OPERATOR(pg_catalog.=) $1"
							  " ORDER BY j.id DESC LIMIT 1", 1, types, args);
	if (entry == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" is not a backup taken by dedup.backup_table()", bakq),
				 errdetail("No journal entry records it. Nothing was changed."),
				 errhint("Copy its rows with INSERT ... SELECT instead.")));
	entry_id = pg_strtoint64(entry);
	args[0] = Int64GetDatum(entry_id);
	types[0] = INT8OID;
	source = dedup_journal_field(entry_id, "j.detail->>'source'");
	cols = NIL;
	foreach(lc, dedup_journal_rows("SELECT pg_catalog.jsonb_array_elements_text(j.detail->'columns')"
								   "  FROM dedup.journal j WHERE j.id OPERATOR(pg_catalog.=) $1", 1, types, args))
		cols = lappend(cols, ((char **) lfirst(lc))[0]);
	recorded.rows = pg_strtoint64(dedup_journal_field(entry_id, "j.detail->>'rows'"));
	fphex = dedup_journal_field(entry_id, "j.detail->>'fingerprint'");

	/* the backup must still hold what was recorded */
	LockRelationOid(bakid, ShareLock);
	dedup_fingerprint_relation(bakid, cols, &now);
	if (now.rows != recorded.rows || strcmp(dedup_fp_hex(&now), fphex) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("backup \"%s\" no longer matches its fingerprint", bakq),
				 errdetail("Journal entry " INT64_FORMAT " recorded " INT64_FORMAT " rows (fingerprint %s); it now holds " INT64_FORMAT " (fingerprint %s). Nothing was changed.",
						   entry_id, recorded.rows, fphex, now.rows, dedup_fp_hex(&now))));

	/* default target: the table it was taken from, recreated if dropped */
	if (!OidIsValid(target))
	{
		char	   *dropid;

		types[0] = TEXTOID;
		args[0] = CStringGetTextDatum(source);
		target = dedup_lookup_relation(source);
		if (!OidIsValid(target))
		{
			dropid = dedup_journal_value("SELECT j.id FROM dedup.journal j"
										 " WHERE j.action OPERATOR(pg_catalog.=) 'drop'"
										 "   AND j.target OPERATOR(pg_catalog.=) $1"
										 "   AND NOT EXISTS (SELECT 1 FROM dedup.journal u"
										 "       WHERE u.undoes OPERATOR(pg_catalog.=) j.id)"
										 " ORDER BY j.id DESC LIMIT 1", 1, types, args);
			if (dropid)
			{
				ereport(NOTICE,
						(errmsg("recreating \"%s\" from journal entry %s", source, dropid)));
				(void) dedup_undo_internal(pg_strtoint64(dropid));
				sql = lappend(sql, psprintf("SELECT dedup.undo(%s)", dropid));
			}
			else
			{
				char	   *stmt = psprintf("CREATE TABLE %s (LIKE %s)", source, bakq);

				ereport(NOTICE,
						(errmsg("recreating \"%s\" from the columns of \"%s\"", source, bakq),
						 errdetail("No journaled drop of it was found: defaults, constraints, indexes, triggers and grants are not restored; its privileges are the owner's only.")));
				dedup_exec_logged(&sql, stmt);
				stmt = psprintf("SELECT dedup._set_acl(%s::regclass, NULL, 'TABLE')",
								quote_literal_cstr(source));
				dedup_exec_logged(&sql, stmt);
			}
			target = dedup_lookup_relation(source);
			if (!OidIsValid(target))
				elog(ERROR, "dedup: could not recreate \"%s\"", source);
		}
	}

	dedup_check_target(target, "restore into");
	/* SHARE ROW EXCLUSIVE: readers go on, no other writer until we commit */
	dedup_lock_tree(target, ShareRowExclusiveLock);
	dedup_check_target(target, "restore into");

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

	initStringInfo(&ins);
	initStringInfo(&sel);
	foreach(lc, cols)
	{
		char	   *c = (char *) lfirst(lc);

		if (get_attgenerated(target, get_attnum(target, c)) != '\0')
			continue;			/* computed again by the target */
		appendStringInfo(&ins, "%s%s", first ? "" : ", ", quote_identifier(c));
		first = false;
	}
	appendStringInfo(&sel, "INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s",
					 dedup_qualified_name(target), ins.data, ins.data, bakq);
	if (SPI_execute(sel.data, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "dedup: could not insert into \"%s\"", get_rel_name(target));
	n = (int64) SPI_processed;
	sql = lappend(sql, sel.data);
	CommandCounterIncrement();

	dedup_fingerprint_relation(target, cols, &after);
	added = fp_minus(&after, &before);
	if (n != recorded.rows || !dedup_fp_equal(&added, &now))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("rows restored into \"%s\" do not match backup \"%s\"",
						get_rel_name(target), bakq),
				 errdetail("The backup holds " INT64_FORMAT " rows (fingerprint %s); the table gained " INT64_FORMAT " (fingerprint %s). Nothing was changed.",
						   now.rows, dedup_fp_hex(&now), added.rows, dedup_fp_hex(&added)),
				 errhint("A trigger or rule on the table may change inserted rows: disable it with ALTER TABLE ... DISABLE TRIGGER, then retry.")));

	initStringInfo(&d);
	appendStringInfoChar(&d, '{');
	dedup_json_str(&d, "backup", bakq);
	dedup_json_raw(&d, "backup_oid", psprintf("%u", bakid));
	dedup_json_raw(&d, "backup_entry", psprintf(INT64_FORMAT, entry_id));
	dedup_json_str(&d, "target", dedup_qualified_name(target));
	dedup_json_raw(&d, "target_oid", psprintf("%u", target));
	dedup_json_raw(&d, "rows", psprintf(INT64_FORMAT, n));
	dedup_json_str(&d, "fingerprint", dedup_fp_hex(&added));
	dedup_json_raw(&d, "sql", dedup_json_array(sql));
	appendStringInfoChar(&d, '}');
	dedup_journal_write("restore", dedup_qualified_name(target), d.data);
	return n;
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
	MemoryContext cxt = CurrentMemoryContext;
	volatile int64 result = 0;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_TRY();
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "dedup: SPI_connect failed");
		result = restore_internal(PG_GETARG_OID(0),
								  PG_ARGISNULL(1) ? InvalidOid : PG_GETARG_OID(1));
		SPI_finish();
	}
	PG_CATCH();
	{
		dedup_rethrow_unchanged(cxt);
	}
	PG_END_TRY();
	PG_RETURN_INT64(result);
}
