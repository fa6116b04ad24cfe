/*-------------------------------------------------------------------------
 *
 * compat_view.c
 *	  The triggers behind a compatibility view: after merge_extension, the
 *	  extension's name is an automatically updatable view over the base
 *	  showing the rows that have a value in one of the extension's columns.
 *	  Reads, UPDATE and INSERT ... ON CONFLICT work through it as through
 *	  any such view; these two triggers make INSERT and DELETE mean what
 *	  they meant for the table:
 *
 *	 dedup._compat_insert()  BEFORE INSERT on the base.  A row that brings
 *							 values for the extension's columns, for a key
 *							 the base already has: if that row has no
 *							 extension values yet, they are set on it and
 *							 the insert is skipped (the extension row is
 *							 "inserted"); if it has some, the insert goes
 *							 on with the base row's other values filled
 *							 in, so that it meets the key (an error, or the
 *							 ON CONFLICT action, as for the table).
 *	 dedup._compat_delete()  INSTEAD OF DELETE on the view: the extension's
 *							 columns of that base row are set to NULL; the
 *							 base row stays.
 *
 * Both run as the role that writes, so its privileges and the base's row
 * level security apply.  Arguments (from merge_extension): the base's
 * qualified name, the number of key columns, each key column's name in the
 * view and in the base, then the extension's own columns.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "ddl.h"

PG_FUNCTION_INFO_V1(dedup_compat_insert);
PG_FUNCTION_INFO_V1(dedup_compat_delete);

typedef struct CompatArgs
{
	char	   *base;			/* quoted qualified name */
	int			nkeys;
	char	  **viewkey;		/* key columns as the view names them */
	char	  **basekey;		/* ... and as the base does */
	int			nown;
	char	  **own;			/* the extension's own columns */
} CompatArgs;

static CompatArgs *
compat_args(TriggerData *td)
{
	Trigger    *tg = td->tg_trigger;
	CompatArgs *a = palloc0(sizeof(CompatArgs));
	int			i;

	if (tg->tgnargs < 2)
		elog(ERROR, "dedup: trigger \"%s\" has too few arguments", tg->tgname);
	a->base = tg->tgargs[0];
	a->nkeys = atoi(tg->tgargs[1]);
	if (a->nkeys < 1 || tg->tgnargs < 2 + 2 * a->nkeys)
		elog(ERROR, "dedup: trigger \"%s\" has malformed arguments", tg->tgname);
	a->viewkey = palloc(sizeof(char *) * a->nkeys);
	a->basekey = palloc(sizeof(char *) * a->nkeys);
	for (i = 0; i < a->nkeys; i++)
	{
		a->viewkey[i] = tg->tgargs[2 + 2 * i];
		a->basekey[i] = tg->tgargs[3 + 2 * i];
	}
	a->nown = tg->tgnargs - 2 - 2 * a->nkeys;
	a->own = tg->tgargs + 2 + 2 * a->nkeys;
	return a;
}

/* A List of the n strings of an array. */
static List *
list_from_array(char **strings, int n)
{
	List	   *out = NIL;
	int			i;

	for (i = 0; i < n; i++)
		out = lappend(out, strings[i]);
	return out;
}

/* Attribute number of a column of desc, or an error. */
static int
attnum_of(TupleDesc desc, const char *name)
{
	int			n = SPI_fnumber(desc, name);

	if (n <= 0)
		elog(ERROR, "dedup: column \"%s\" not found", name);
	return n;
}

/* "k1 = $1 AND k2 = $2": the base's key columns, compared with the type's equality. */
static char *
key_condition(CompatArgs *a, int first_param)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < a->nkeys; i++)
		appendStringInfo(&buf, "%s%s OPERATOR(pg_catalog.=) $%d", i ? " AND " : "",
						 quote_identifier(a->basekey[i]), first_param + i);
	return buf.data;
}

/*
 * dedup._compat_insert() RETURNS trigger: BEFORE INSERT ON <base>.
 *
 * It reads and writes as the writer, and only what it must: whether the
 * base has a row with this key and values in the extension's columns
 * (SELECT on the key and those columns), then either those values set on
 * that row (UPDATE of the extension's columns, under the base's policies)
 * or the row's NOT NULL values that the insert leaves empty (SELECT on
 * those).  merge_extension refuses, naming it, a role that could INSERT
 * into the extension and would lack one of these privileges on the base
 * (access.c): it would lose that INSERT through the old name.
 */
Datum
dedup_compat_insert(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	MemoryContext cxt = CurrentMemoryContext;
	TupleDesc	desc;
	HeapTuple	newtup;
	CompatArgs *a;
	Oid		   *types;
	Datum	   *values;
	char	   *nulls;
	int		   *fill;
	Datum	   *fillvals;
	bool	   *fillnulls;
	int			nfill = 0;
	bool		any = false;
	bool		isnull;
	bool		blank;
	int			i;
	int			rc;
	StringInfoData sel;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BY_INSERT(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event) || !TRIGGER_FIRED_BEFORE(td->tg_event))
		elog(ERROR, "dedup._compat_insert: not called as a BEFORE INSERT row trigger");
	a = compat_args(td);
	desc = td->tg_relation->rd_att;
	newtup = td->tg_trigtuple;

	/* a row without extension values is a plain insert into the base */
	for (i = 0; i < a->nown && !any; i++)
	{
		(void) SPI_getbinval(newtup, desc, attnum_of(desc, a->own[i]), &isnull);
		any = !isnull;
	}
	if (!any)
		return PointerGetDatum(newtup);

	/* the key, then the extension's values, as parameters */
	types = palloc(sizeof(Oid) * (a->nkeys + a->nown));
	values = palloc(sizeof(Datum) * (a->nkeys + a->nown));
	nulls = palloc(a->nkeys + a->nown);
	for (i = 0; i < a->nkeys + a->nown; i++)
	{
		const char *col = i < a->nkeys ? a->basekey[i] : a->own[i - a->nkeys];
		int			attnum = attnum_of(desc, col);

		types[i] = SPI_gettypeid(desc, attnum);
		values[i] = SPI_getbinval(newtup, desc, attnum, &isnull);
		nulls[i] = isnull ? 'n' : ' ';
		if (i < a->nkeys && isnull)
			return PointerGetDatum(newtup);		/* no key: the base decides */
	}

	/* the NOT NULL columns this row leaves empty (filled in if the key is taken) */
	fill = palloc(sizeof(int) * desc->natts);
	fillvals = palloc(sizeof(Datum) * desc->natts);
	fillnulls = palloc(sizeof(bool) * desc->natts);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || !att->attnotnull || att->attgenerated)
			continue;
		(void) SPI_getbinval(newtup, desc, i + 1, &isnull);
		if (isnull)
			fill[nfill++] = i + 1;
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "dedup: SPI_connect failed");
	initStringInfo(&sel);
	appendStringInfo(&sel, "SELECT ROW(%s) IS NULL FROM ONLY %s b WHERE %s",
					 dedup_quoted_list_prefixed(list_from_array(a->own, a->nown), "b."),
					 a->base, key_condition(a, 1));
	rc = SPI_execute_with_args(sel.data, a->nkeys, types, values, nulls, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "dedup: could not read %s: %s", a->base, SPI_result_code_string(rc));
	if (SPI_processed == 0)
	{
		/* no row with this key (that the writer may see): the base decides */
		SPI_finish();
		return PointerGetDatum(newtup);
	}
	blank = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

	if (blank)
	{
		/* the extension row is inserted: its values go onto the base row */
		StringInfoData upd;

		initStringInfo(&upd);
		appendStringInfo(&upd, "UPDATE ONLY %s SET ", a->base);
		for (i = 0; i < a->nown; i++)
			appendStringInfo(&upd, "%s%s = $%d", i ? ", " : "", quote_identifier(a->own[i]),
							 a->nkeys + i + 1);
		appendStringInfo(&upd, " WHERE %s", key_condition(a, 1));
		rc = SPI_execute_with_args(upd.data, a->nkeys + a->nown, types, values, nulls, false, 0);
		if (rc != SPI_OK_UPDATE)
			elog(ERROR, "dedup: could not update %s: %s", a->base, SPI_result_code_string(rc));
		/* not updated: an error, never an insert that silently did nothing */
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("could not set the inserted values on the row of %s with this key", a->base),
					 errdetail("An INSERT through the view that keeps the extension's name sets them on that row; row level security does not let role \"%s\" update it, or another transaction deleted it.",
							   GetUserNameFromId(GetUserId(), false))));
		SPI_finish();
		return PointerGetDatum(NULL);
	}

	/* the key is taken: fill in the base row's NOT NULL values, so that it meets the key */
	if (nfill > 0)
	{
		StringInfoData cols;

		initStringInfo(&cols);
		for (i = 0; i < nfill; i++)
			appendStringInfo(&cols, "%sb.%s", i ? ", " : "",
							 quote_identifier(NameStr(TupleDescAttr(desc, fill[i] - 1)->attname)));
		rc = SPI_execute_with_args(psprintf("SELECT %s FROM ONLY %s b WHERE %s", cols.data, a->base,
											key_condition(a, 1)),
								   a->nkeys, types, values, nulls, false, 1);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "dedup: could not read %s: %s", a->base, SPI_result_code_string(rc));
		if (SPI_processed == 0)
			nfill = 0;			/* gone meanwhile: the base decides */
		for (i = 0; i < nfill; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, fill[i] - 1);
			Datum		v = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1,
										  &fillnulls[i]);
			MemoryContext spi = MemoryContextSwitchTo(cxt);

			/* copied out of SPI's memory, which SPI_finish frees */
			fillvals[i] = fillnulls[i] ? (Datum) 0 : datumCopy(v, att->attbyval, att->attlen);
			MemoryContextSwitchTo(spi);
		}
	}
	SPI_finish();
	if (nfill > 0)
		newtup = heap_modify_tuple_by_cols(newtup, desc, nfill, fill, fillvals, fillnulls);
	return PointerGetDatum(newtup);
}

/*
 * dedup._compat_delete() RETURNS trigger: INSTEAD OF DELETE ON <view>.
 */
Datum
dedup_compat_delete(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	CompatArgs *a;
	Oid		   *types;
	Datum	   *values;
	char	   *nulls;
	StringInfoData upd;
	bool		isnull;
	int			i;
	int			rc;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BY_DELETE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event) || !TRIGGER_FIRED_INSTEAD(td->tg_event))
		elog(ERROR, "dedup._compat_delete: not called as an INSTEAD OF DELETE row trigger");
	a = compat_args(td);
	desc = td->tg_relation->rd_att;
	types = palloc(sizeof(Oid) * a->nkeys);
	values = palloc(sizeof(Datum) * a->nkeys);
	nulls = palloc(a->nkeys);
	for (i = 0; i < a->nkeys; i++)
	{
		int			attnum = attnum_of(desc, a->viewkey[i]);

		types[i] = SPI_gettypeid(desc, attnum);
		values[i] = SPI_getbinval(td->tg_trigtuple, desc, attnum, &isnull);
		nulls[i] = isnull ? 'n' : ' ';
	}
	initStringInfo(&upd);
	appendStringInfo(&upd, "UPDATE ONLY %s SET ", a->base);
	for (i = 0; i < a->nown; i++)
		appendStringInfo(&upd, "%s%s = NULL", i ? ", " : "", quote_identifier(a->own[i]));
	appendStringInfo(&upd, " WHERE %s", key_condition(a, 1));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "dedup: SPI_connect failed");
	rc = SPI_execute_with_args(upd.data, a->nkeys, types, values, nulls, false, 0);
	if (rc != SPI_OK_UPDATE)
		elog(ERROR, "dedup: could not update %s: %s", a->base, SPI_result_code_string(rc));
	/* a row the writer may not change (its policies) is not deleted */
	i = (int) SPI_processed;
	SPI_finish();
	return PointerGetDatum(i > 0 ? td->tg_trigtuple : NULL);
}
