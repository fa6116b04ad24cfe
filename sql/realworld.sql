-- Real public schemas (../shared/realworld, see each SOURCE.md and
-- NOTES.md): each is loaded, leftover copies of our own are planted in it,
-- and the verdicts are checked as a user runs them:
--   - before planting, only the leftovers NOTES.md names are grouped,
--     with a live table as their keeper at most;
--   - after planting, no live table has any role but keeper, no group
--     holds two live tables, nothing live is "safe to drop";
--   - the planted copies are found with the right keeper and role; the
--     README's drop idiom drops exactly the planted empty copies, in
--     drop_order, and every live table is still there.
\getenv realworld_dir REALWORLD_DIR
\getenv abs_srcdir PG_ABS_SRCDIR
\set one :abs_srcdir '/sql/realworld_one.sql'
\set tables_fn :abs_srcdir '/test/fixtures/tables.sql'
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

-- one database per schema; :name is the folder, :plant the tables to copy,
-- :leftovers the genuine leftovers NOTES.md names (not live)
\set name chatbot-ui
\set plant '{public.profiles,public.chats,public.messages}'
\set leftovers '{}'
\i :one
\set name danbooru
\set plant '{public.posts,public.tags,public.tag_implications}'
\set leftovers '{}'
\i :one
\set name flowable
\set plant '{public.act_ru_task,public.act_re_deployment,public.act_ru_job}'
\set leftovers '{}'
\i :one
\set name graphile-starter
\set plant '{app_public.users,app_public.organizations,graphile_worker.jobs}'
\set leftovers '{}'
\i :one
\set name guacamole
\set plant '{public.guacamole_connection,public.guacamole_user,public.guacamole_entity}'
\set leftovers '{}'
\i :one
\set name killbill
\set plant '{public.accounts,public.invoices,public.bus_events}'
\set leftovers '{}'
\i :one
\set name netbox
\set plant '{public.dcim_site,public.dcim_device,public.dcim_consoleserverport}'
\set leftovers '{}'
\i :one
\set name umami
\set plant '{public.website,public.report,public.session_replay}'
\set leftovers '{public._event_old,public.v1_account,public.v1_website,public.v1_session,public.v1_pageview,public.v1_event,public.v1_event_data,public.v1_prisma_migrations}'
\i :one
-- umami's v1 tables whose columns drifted from the live v2 ones (NOTES.md:
-- "pairs a tool should propose") are grouped with the live table as keeper,
-- weak, with a verdict that says to compare them, never "safe"
SELECT tbl, keeper, role, strength, row_count, verdict FROM dedup.duplicate_groups()
 WHERE tbl IN ('v1_website'::regclass, 'v1_event_data'::regclass) ORDER BY tbl::text;
SELECT v.tbl AS drifted_leftover_not_proposed
  FROM (VALUES ('v1_website', 'website'), ('v1_event_data', 'event_data')) v(tbl, keeper)
 WHERE NOT EXISTS (SELECT 1 FROM dedup.duplicate_groups() g
                    WHERE g.tbl = v.tbl::regclass AND g.keeper = v.keeper::regclass
                      AND g.role = 'duplicate' AND g.strength = 'weak'
                      AND g.verdict LIKE '%dedup.compare_tables(%' AND g.verdict NOT LIKE '%safe%');
SELECT duplicate AS drifted_leftover_safe FROM dedup.find_empty_duplicates()
 WHERE duplicate IN ('v1_website'::regclass, 'v1_event_data'::regclass) AND safe_to_drop;
