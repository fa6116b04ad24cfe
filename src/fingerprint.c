/*-------------------------------------------------------------------------
 *
 * fingerprint.c
 *	  Order-independent fingerprints of a table's rows, to prove a copy.
 *
 * Each row is hashed column by column into two 64-bit lanes (varlena values
 * fully detoasted, so a value stored compressed, out of line or with a
 * short header hashes like the same value stored plainly), and the row
 * hashes are summed over the rows.  The sums do not depend on row order, and they add
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
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "ddl.h"

/*
 * The hash: two independent 64-bit multiply-rotate lanes over a row's
 * bytes, 8 at a time, finished with MurmurHash3's 64-bit mixer.  It guards
 * against accidental differences (a lost or changed value), not against an
 * adversary, and is several times faster than hash_bytes_extended(); the
 * 128 bits make an accidental match of two different row sets negligible.
 */
#define P1 UINT64CONST(0x9E3779B185EBCA87)
#define P2 UINT64CONST(0xC2B2AE3D27D4EB4F)
#define P3 UINT64CONST(0x165667B19E3779F9)
#define P4 UINT64CONST(0x85EBCA77C2B2AE63)
#define NULL_MARK UINT64CONST(0x6e756c6c6e756c6c)

static inline uint64
rotl64(uint64 x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64
fmix64(uint64 k)
{
	k ^= k >> 33;
	k *= UINT64CONST(0xff51afd7ed558ccd);
	k ^= k >> 33;
	k *= UINT64CONST(0xc4ceb9fe1a85ec53);
	k ^= k >> 33;
	return k;
}

/*
 * The last 1..7 bytes of a value as one word, with two overlapping
 * fixed-size loads (a variable-length memcpy becomes a byte loop); never
 * reads outside [p, p + len).  The value's length is fed separately.
 */
static inline uint64
read_tail(const char *p, size_t len)
{
	if (len >= 4)
	{
		uint32		a,
					b;

		memcpy(&a, p, 4);
		memcpy(&b, p + len - 4, 4);
		return ((uint64) a << 32) | b;
	}
	return ((uint64) (unsigned char) p[0] << 16) |
		((uint64) (unsigned char) p[len >> 1] << 8) |
		(uint64) (unsigned char) p[len - 1];
}

/*
 * Feed one 64-bit word.  Each lane alternates between two accumulators, so
 * consecutive words do not wait on each other's multiply.
 */
#define FEED(w) \
	do { \
		uint64		w_ = (w); \
		uint64		n1_ = rotl64(a1 ^ (w_ * P2), 31) * P1; \
		uint64		n2_ = rotl64(a2 + (w_ * P3), 29) * P4; \
		a1 = b1; b1 = n1_; \
		a2 = b2; b2 = n2_; \
	} while (0)

/* What the hash needs to know of each column, read once per relation. */
DedupFpColumns *
dedup_fp_columns(TupleDesc desc, AttrNumber *attnums, int n)
{
	DedupFpColumns *c = palloc(offsetof(DedupFpColumns, cols) + sizeof(DedupFpColumn) * Max(n, 1));
	int			i;

	c->n = n;
	for (i = 0; i < n; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, attnums[i] - 1);

		c->cols[i].index = attnums[i] - 1;
		c->cols[i].len = att->attlen;
		c->cols[i].byval = att->attbyval;
	}
	return c;
}

/*
 * Add one row to fp.  values/isnull are a deformed tuple of the relation
 * cols was prepared for.  The row is streamed through the two lanes column
 * by column (a null as a marker word, a fixed-size value as its bytes, a
 * variable-size value as its length, then its bytes, detoasted first) and
 * finished once.
 */
void
dedup_fp_add_row(DedupFingerprint *fp, const DedupFpColumns *cols, Datum *values,
				 bool *isnull)
{
	uint64		a1 = P3,
				b1 = P1,
				a2 = P4,
				b2 = P2;
	int			i;

	for (i = 0; i < cols->n; i++)
	{
		const DedupFpColumn *col = &cols->cols[i];
		Datum		v = values[col->index];
		const char *p;
		size_t		len;
		struct varlena *raw = NULL;
		struct varlena *flat = NULL;

		if (isnull[col->index])
		{
			FEED(NULL_MARK);
			continue;
		}
		if (col->byval)
		{
			FEED((uint64) v);
			continue;
		}
		if (col->len > 0)
		{
			p = DatumGetPointer(v);
			len = col->len;
		}
		else if (col->len == -1)
		{
			raw = (struct varlena *) DatumGetPointer(v);
			flat = (VARATT_IS_COMPRESSED(raw) || VARATT_IS_EXTERNAL(raw)) ?
				detoast_attr(raw) : raw;
			p = VARDATA_ANY(flat);
			len = VARSIZE_ANY_EXHDR(flat);
			FEED(len);
		}
		else
		{
			p = DatumGetCString(v);
			len = strlen(p);
			FEED(len);
		}
		while (len >= 8)
		{
			uint64		w;

			memcpy(&w, p, 8);
			FEED(w);
			p += 8;
			len -= 8;
		}
		if (len > 0)
			FEED(read_tail(p, len));
		if (flat != raw)
			pfree(flat);
	}
	fp->rows++;
	fp->h1 += fmix64(a1 ^ rotl64(b1, 32));
	fp->h2 += fmix64(a2 ^ rotl64(b2, 32) ^ b1);
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
	ListCell   *lc;

	memset(fp, 0, sizeof(*fp));
	foreach(lc, members)
	{
		Relation	rel = relation_open(lfirst_oid(lc), AccessShareLock);
		TableScanDesc scan;
		TupleTableSlot *slot;
		DedupFpColumns *cols;
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
		cols = dedup_fp_columns(RelationGetDescr(rel), attnums, n);
		scan = table_beginscan(rel, snapshot, 0, NULL);
		slot = table_slot_create(rel, NULL);
		while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
		{
			CHECK_FOR_INTERRUPTS();
			slot_getsomeattrs(slot, maxatt);
			dedup_fp_add_row(fp, cols, slot->tts_values, slot->tts_isnull);
		}
		ExecDropSingleTupleTableSlot(slot);
		table_endscan(scan);
		relation_close(rel, NoLock);
	}
	UnregisterSnapshot(snapshot);
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
