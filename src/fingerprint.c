/*-------------------------------------------------------------------------
 *
 * fingerprint.c
 *	  Order-independent fingerprints of a table's rows, to prove a copy.
 *
 * Each row is serialized canonically (per column: a null flag, then the
 * value's bytes; varlena values fully detoasted, so a value stored
 * compressed, out of line or with a short header hashes like the same value
 * stored plainly), hashed twice with different seeds, and the hashes are
 * summed over the rows.  The sums do not depend on row order, and they add
 * up, so "rows inserted" = fp(after) - fp(before).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "common/hashfn.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "ddl.h"

#define FP_SEED1 UINT64CONST(0x6465647570310001)
#define FP_SEED2 UINT64CONST(0x9e3779b97f4a7c15)

/*
 * Add one row to fp.  values/isnull are indexed by attnum - 1 of desc;
 * attnums[0..n) says which columns, in which order, make up the row.
 */
void
dedup_fp_add_row(DedupFingerprint *fp, StringInfo buf, TupleDesc desc,
				 Datum *values, bool *isnull, AttrNumber *attnums, int n)
{
	int			i;

	resetStringInfo(buf);
	for (i = 0; i < n; i++)
	{
		int			a = attnums[i] - 1;
		Form_pg_attribute att = TupleDescAttr(desc, a);
		Datum		v = values[a];

		if (isnull[a])
		{
			appendStringInfoChar(buf, 0);
			continue;
		}
		appendStringInfoChar(buf, 1);
		if (att->attlen > 0 && att->attbyval)
		{
			char		tmp[sizeof(Datum)];

			store_att_byval(tmp, v, att->attlen);
			appendBinaryStringInfo(buf, tmp, att->attlen);
		}
		else if (att->attlen > 0)
			appendBinaryStringInfo(buf, DatumGetPointer(v), att->attlen);
		else if (att->attlen == -1)
		{
			struct varlena *raw = (struct varlena *) DatumGetPointer(v);
			struct varlena *flat = pg_detoast_datum_packed(raw);
			int32		len = VARSIZE_ANY_EXHDR(flat);

			appendBinaryStringInfo(buf, (char *) &len, sizeof(len));
			appendBinaryStringInfo(buf, VARDATA_ANY(flat), len);
			if (flat != raw)
				pfree(flat);
		}
		else
			appendBinaryStringInfo(buf, DatumGetCString(v), strlen(DatumGetCString(v)) + 1);
	}
	fp->rows++;
	fp->h1 += hash_bytes_extended((unsigned char *) buf->data, buf->len, FP_SEED1);
	fp->h2 += hash_bytes_extended((unsigned char *) buf->data, buf->len, FP_SEED2);
}

/* Column names of a relation in attnum order, dropped columns left out. */
List *
dedup_column_names(Oid relid)
{
	Relation	rel = relation_open(relid, NoLock);
	TupleDesc	desc = RelationGetDescr(rel);
	List	   *names = NIL;
	int			i;

	for (i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped)
			names = lappend(names, pstrdup(NameStr(TupleDescAttr(desc, i)->attname)));
	relation_close(rel, NoLock);
	return names;
}

/*
 * Fingerprint of the rows of relid and all its partitions / inheritance
 * children over the named columns, read with a snapshot taken now (the
 * caller holds locks that keep writers out).  A column a member lacks is an
 * error: such rows cannot be compared.
 */
void
dedup_fingerprint_relation(Oid relid, List *colnames, DedupFingerprint *fp)
{
	List	   *members = find_all_inheritors(relid, NoLock, NULL);
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	AttrNumber *attnums = palloc(sizeof(AttrNumber) * Max(list_length(colnames), 1));
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	memset(fp, 0, sizeof(*fp));
	foreach(lc, members)
	{
		Relation	rel = relation_open(lfirst_oid(lc), AccessShareLock);
		TableScanDesc scan;
		TupleTableSlot *slot;
		ListCell   *cc;
		int			n = 0;
		AttrNumber	maxatt = 0;

		if (!RELKIND_HAS_STORAGE(rel->rd_rel->relkind))
		{
			relation_close(rel, NoLock);
			continue;
		}
		foreach(cc, colnames)
		{
			AttrNumber	att = get_attnum(RelationGetRelid(rel), (char *) lfirst(cc));

			if (att == InvalidAttrNumber)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("table \"%s\" has no column \"%s\"",
								RelationGetRelationName(rel), (char *) lfirst(cc))));
			attnums[n++] = att;
			maxatt = Max(maxatt, att);
		}
		scan = table_beginscan(rel, snapshot, 0, NULL);
		slot = table_slot_create(rel, NULL);
		while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
		{
			CHECK_FOR_INTERRUPTS();
			slot_getsomeattrs(slot, maxatt);
			dedup_fp_add_row(fp, &buf, RelationGetDescr(rel), slot->tts_values,
							 slot->tts_isnull, attnums, n);
		}
		ExecDropSingleTupleTableSlot(slot);
		table_endscan(scan);
		relation_close(rel, NoLock);
	}
	UnregisterSnapshot(snapshot);
	pfree(buf.data);
}

char *
dedup_fp_hex(const DedupFingerprint *fp)
{
	return psprintf("%016llx%016llx", (unsigned long long) fp->h1,
					(unsigned long long) fp->h2);
}

bool
dedup_fp_equal(const DedupFingerprint *a, const DedupFingerprint *b)
{
	return a->rows == b->rows && a->h1 == b->h1 && a->h2 == b->h2;
}
