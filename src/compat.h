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

#endif							/* DEDUP_COMPAT_H */
