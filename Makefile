# dedup: find and consolidate duplicate tables inside PostgreSQL (PGXS build)
#
#   make && make install          build and install into the server found by pg_config
#   make installcheck             regression + isolation tests against a running server
#   test/harness.sh demo|check    the README's two commands (throwaway cluster, demo, all tests)

MODULE_big = dedup
OBJS = \
	src/dedup.o \
	src/action.o \
	src/catalog.o \
	src/naming.o \
	src/grouping.o \
	src/emptiness.o \
	src/usage.o \
	src/inventory.o \
	src/discovery.o \
	src/journal.o \
	src/access.o \
	src/sequences.o \
	src/swap.o \
	src/compat_view.o \
	src/ddl.o \
	src/fingerprint.o \
	src/backup.o \
	src/drop.o \
	src/undo.o \
	src/merge.o \
	src/merge_extension.o \
	src/merge_members.o \
	src/unpartition.o \
	src/objects.o \
	src/plan.o \
	src/baseline.o \
	src/verify.o \
	src/apply.o \
	src/report.o \
	src/script.o

EXTENSION = dedup
DATA = dedup--1.0.sql
PGFILEDESC = "dedup - find and consolidate duplicate tables"

PG_CPPFLAGS = -I$(srcdir)/src

# Regression tests (sql/ + expected/); the demo fixture is loaded by each test that needs it.
REGRESS = discovery_demo discovery_rules discovery_names discovery_scale discovery_verdicts pagila realworld safe_ops undo_catalog merge_rows unpartition merge_extension merge_extension_swap merge_members safety_rows safety_access hostile_names duplicate_objects duplicate_lints duplicate_objects_pagila assert_paths plan_apply plan_sql plan_sql_hostile plan_sql_owner plan_verify plan_locks
REGRESS_OPTS = --inputdir=. --load-extension=dedup

# Isolation specs live in test/specs with their expected output in test/expected.
ISOLATION = discovery_locks drop_if_empty drop_backup backup_table merge_rows unpartition merge_extension restore_undo merge_sequences merge_snapshot unpartition_rename merge_privileges duplicate_objects plan_apply
ISOLATION_OPTS = --inputdir=test --load-extension=dedup

# The Pagila sample database shipped beside the project (see ../shared/realworld/pagila).
PAGILA_DIR ?= $(abspath $(srcdir)/../shared/realworld/pagila)
export PAGILA_DIR
# The real public schemas beside it (../shared/realworld/<name>/load.sql): test realworld.
REALWORLD_DIR ?= $(abspath $(srcdir)/../shared/realworld)
export REALWORLD_DIR

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS does not track headers: every object depends on the shared model.
$(OBJS): src/dedup.h src/compat.h src/ddl.h src/plan.h

# make print-REGRESS: used by test/harness.sh
print-%:
	@echo '$($*)'
