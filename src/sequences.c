/*-------------------------------------------------------------------------
 *
 * sequences.c
 *	  Keep every sequence ahead of the column it feeds.
 *
 * After rows arrive with their own ids (merge_rows, unpartition,
 * restore_backup), the sequences that hand out those ids must be moved past
 * them, or the application's next insert fails on its primary key.  The
 * sequences of a table are the ones its columns own (serial, identity) and
 * the ones its column defaults call.  They are locked before any row moves
 * (nextval() waits, so no id is handed out while the table changes) and
 * advanced once the rows are in: never moved back.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "ddl.h"

/*
 * The sequences that feed integer columns of relid (owned by a column, or
 * called by a column default), locked so that nextval() waits until the
 * end of the transaction, with their state read after the lock.
 */
List *
dedup_lock_sequences(Oid relid)
{
	Oid			types[1] = {OIDOID};
	Datum		args[1] = {ObjectIdGetDatum(relid)};
	List	   *out = NIL;
	ListCell   *lc;

	foreach(lc, dedup_query_rows(
				"SELECT DISTINCT s.seqrelid, a.attname, s.seqincrement"
				"  FROM ("
				"    SELECT d.objid AS seq, d.refobjsubid AS attnum FROM pg_catalog.pg_depend d"
				"     WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
				"       AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
				"       AND d.refobjid OPERATOR(pg_catalog.=) $1 AND d.deptype IN ('a', 'i')"
				"       AND d.refobjsubid OPERATOR(pg_catalog.>) 0"
				"    UNION"
				"    SELECT d.refobjid, ad.adnum FROM pg_catalog.pg_attrdef ad"
				"      JOIN pg_catalog.pg_depend d ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_attrdef'::pg_catalog.regclass"
				"                                 AND d.objid OPERATOR(pg_catalog.=) ad.oid"
				"                                 AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
				"     WHERE ad.adrelid OPERATOR(pg_catalog.=) $1) x"
				"  JOIN pg_catalog.pg_sequence s ON s.seqrelid OPERATOR(pg_catalog.=) x.seq"
				"  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) $1"
				"                                AND a.attnum OPERATOR(pg_catalog.=) x.attnum AND NOT a.attisdropped"
				" WHERE a.atttypid IN ('pg_catalog.int2'::pg_catalog.regtype, 'pg_catalog.int4'::pg_catalog.regtype,"
				"                      'pg_catalog.int8'::pg_catalog.regtype, 'pg_catalog.numeric'::pg_catalog.regtype)"
				" ORDER BY 1, 2", 1, types, args))
	{
		char	  **r = (char **) lfirst(lc);
		DedupSequence *s = palloc0(sizeof(DedupSequence));

		s->seq = (Oid) strtoul(r[0], NULL, 10);
		s->column = r[1];
		s->increment = pg_strtoint64(r[2]);
		s->table = relid;
		out = lappend(out, s);
	}

	/* lock in OID order (the list is sorted), then read */
	foreach(lc, out)
	{
		DedupSequence *s = (DedupSequence *) lfirst(lc);

		LockRelationOid(s->seq, ExclusiveLock);
		s->qual = dedup_qualified_name(s->seq);
	}
	foreach(lc, out)
	{
		DedupSequence *s = (DedupSequence *) lfirst(lc);
		List	   *row = dedup_query_rows(psprintf("SELECT last_value, is_called FROM %s", s->qual),
										   0, NULL, NULL);

		s->last_value = pg_strtoint64(((char **) linitial(row))[0]);
		s->is_called = strcmp(((char **) linitial(row))[1], "t") == 0;
	}
	return out;
}

/*
 * Move each sequence past the values of its column (as the table's owner,
 * who reads every row): a sequence whose next value is not beyond the
 * largest value (the smallest, for a descending one) is set to it.
 */
void
dedup_advance_sequences(List *seqs, Oid owner, List **sql)
{
	ListCell   *lc;

	foreach(lc, seqs)
	{
		DedupSequence *s = (DedupSequence *) lfirst(lc);
		int64		next = s->is_called ? s->last_value + s->increment : s->last_value;
		char	   *edge;
		DedupAs		as;

		dedup_become(owner, &as);
		edge = dedup_query_value(psprintf("SELECT %s(%s)::pg_catalog.int8 FROM %s",
										  s->increment > 0 ? "pg_catalog.max" : "pg_catalog.min",
										  quote_identifier(s->column), dedup_qualified_name(s->table)),
								 0, NULL, NULL);
		dedup_unbecome(&as);
		if (edge == NULL)
			continue;
		s->edge = pg_strtoint64(edge);
		if (s->increment > 0 ? s->edge < next : s->edge > next)
			continue;
		s->advanced = true;
		s->new_value = s->edge;
		{
			Oid			types[2] = {REGCLASSOID, INT8OID};
			Datum		args[2] = {ObjectIdGetDatum(s->seq), Int64GetDatum(s->edge)};

			(void) dedup_query_value("SELECT pg_catalog.setval($1, $2, true)", 2, types, args);
		}
		*sql = lappend(*sql, psprintf("SELECT pg_catalog.setval(%s, " INT64_FORMAT ", true)",
									  quote_literal_cstr(s->qual), s->edge));
	}
}

/*
 * [{"sequence": ..., "column": ..., "last_value": ..., "is_called": ...,
 *   "advanced_to": ...}]: where each sequence was, and where it was moved.
 */
char *
dedup_sequences_json(List *seqs)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	foreach(lc, seqs)
	{
		DedupSequence *s = (DedupSequence *) lfirst(lc);
		StringInfoData o;

		initStringInfo(&o);
		appendStringInfoChar(&o, '{');
		dedup_json_str(&o, "sequence", s->qual);
		dedup_json_str(&o, "column", s->column);
		dedup_json_raw(&o, "last_value", psprintf(INT64_FORMAT, s->last_value));
		dedup_json_raw(&o, "is_called", s->is_called ? "true" : "false");
		dedup_json_raw(&o, "advanced_to", s->advanced ? psprintf(INT64_FORMAT, s->new_value) : "null");
		appendStringInfoChar(&o, '}');
		appendStringInfo(&buf, "%s%s", lc == list_head(seqs) ? "" : ", ", o.data);
	}
	appendStringInfoChar(&buf, ']');
	return buf.data;
}
