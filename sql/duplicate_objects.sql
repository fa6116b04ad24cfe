-- Duplicate schema objects and drift: duplicate_indexes, duplicate_constraints,
-- duplicate_policies, duplicate_triggers and compare_tables.  Each section
-- builds what must be reported beside what must not, shows the report, and
-- runs every drop_sql (in a rolled-back transaction) to prove it is a
-- runnable statement that leaves nothing reported but what dedup does not
-- suggest dropping.

-- Indexes -------------------------------------------------------------------
CREATE SCHEMA dupidx;
SET search_path = dupidx;
CREATE TABLE items (id int PRIMARY KEY, sku text, price int, qty int, note text,
                    created date, during tsrange);
INSERT INTO items VALUES (1, 'a', 5, 1, 'x', '2026-01-01'), (2, 'b', 500, 1, 'y', '2026-01-02');
-- identical: the same index under other names (default options spelled out
-- count as the same), a unique index identical to the primary key's
CREATE INDEX items_sku ON items (sku);
CREATE INDEX items_sku_again ON items (sku);
CREATE INDEX items_sku_spelled ON items USING btree (sku text_ops ASC NULLS LAST);
CREATE UNIQUE INDEX items_id_key ON items (id);
CREATE INDEX items_lower_sku ON items (lower(sku));
CREATE INDEX items_lower_sku_again ON items (lower(sku));
-- prefix: (price) and (price) INCLUDE (qty) lead (price, qty)
CREATE INDEX items_price ON items (price);
CREATE INDEX items_price_incl_qty ON items (price) INCLUDE (qty);
CREATE INDEX items_price_qty ON items (price, qty);
-- must not be reported: an expression index beside the plain one, another
-- operator class, collation, order or access method, other INCLUDE columns,
-- partial indexes with different predicates, a unique index beside a
-- non-unique one on the same column, a column that is second in another index
CREATE INDEX items_sku_pattern ON items (sku text_pattern_ops);
CREATE INDEX items_sku_collate ON items (sku COLLATE "POSIX");
CREATE INDEX items_sku_desc ON items (sku DESC);
CREATE INDEX items_sku_hash ON items USING hash (sku);
CREATE INDEX items_sku_incl_note ON items (sku) INCLUDE (note);
CREATE INDEX items_qty_cheap ON items (qty) WHERE price < 10;
CREATE INDEX items_qty_dear ON items (qty) WHERE price > 100;
CREATE UNIQUE INDEX items_note_key ON items (note);
CREATE INDEX items_note ON items (note);
CREATE INDEX items_created ON items (created);
CREATE INDEX items_id_created ON items (id, created);
-- an exclusion constraint's index keeps; a plain gist index like it goes
ALTER TABLE items ADD CONSTRAINT items_no_overlap EXCLUDE USING gist (during WITH &&);
CREATE INDEX items_during ON items USING gist (during);
-- a failed CREATE INDEX CONCURRENTLY leaves an invalid index
CREATE UNIQUE INDEX CONCURRENTLY items_qty_key ON items (qty);

-- Indexes behind constraints are reported, never with a drop: a unique
-- constraint on the primary key's column, two unique constraints alike
-- (duplicate_constraints reports that pair with its ALTER TABLE), and a
-- unique index that a foreign key uses.
-- (one CREATE TABLE would merge them: migrations add them one by one)
CREATE TABLE accounts (id int PRIMARY KEY, email text);
ALTER TABLE accounts ADD CONSTRAINT accounts_id_key UNIQUE (id);
ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE (email);
ALTER TABLE accounts ADD CONSTRAINT accounts_email_key1 UNIQUE (email);
CREATE TABLE tags (id int NOT NULL, name text);
CREATE UNIQUE INDEX tags_id_idx ON tags (id);
CREATE TABLE post_tags (tag_id int REFERENCES tags (id));
ALTER TABLE tags ADD PRIMARY KEY (id);
-- Uniqueness that is enforced differently is not the same index: NULLS NOT
-- DISTINCT, a deferrable unique constraint.  The replica identity's index
-- is the one kept, though it is the younger one.
CREATE TABLE codes (id int NOT NULL, code text NOT NULL, region text);
CREATE UNIQUE INDEX codes_region_key ON codes (region);
CREATE UNIQUE INDEX codes_region_nnd ON codes (region) NULLS NOT DISTINCT;
ALTER TABLE codes ADD CONSTRAINT codes_code_key UNIQUE (code);
ALTER TABLE codes ADD CONSTRAINT codes_code_deferrable UNIQUE (code) DEFERRABLE;
CREATE UNIQUE INDEX codes_id_key ON codes (id);
CREATE UNIQUE INDEX codes_id_replica ON codes (id);
ALTER TABLE codes REPLICA IDENTITY USING INDEX codes_id_replica;
-- A partitioned table's pair is reported once, at the parent, with the
-- bytes of the whole tree; the partitions' attached copies are not.  A
-- partition's own index identical to an attached one is.
CREATE TABLE events (id int, at date, kind text) PARTITION BY RANGE (at);
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX events_kind ON events (kind);
CREATE INDEX events_kind_again ON events (kind);
CREATE INDEX events_2026_kind_local ON events_2026 (kind);
-- materialized views have indexes too
CREATE MATERIALIZED VIEW item_prices AS SELECT id, price FROM items;
CREATE INDEX item_prices_price ON item_prices (price);
CREATE INDEX item_prices_price2 ON item_prices (price);

SELECT tbl, index, duplicate_of, kind, index_bytes > 0 AS has_bytes, drop_sql
  FROM dedup.duplicate_indexes('{dupidx}');
-- the parent's bytes are its partitions'
SELECT index_bytes = pg_relation_size('events_2026_kind_idx1') AS tree_bytes
  FROM dedup.duplicate_indexes('{dupidx}') WHERE index = 'events_kind_again'::regclass;
-- every drop_sql runs; what remains is only what dedup does not suggest dropping
BEGIN;
SELECT drop_sql FROM dedup.duplicate_indexes('{dupidx}') WHERE drop_sql IS NOT NULL \gexec
SELECT tbl, index, duplicate_of, kind, drop_sql FROM dedup.duplicate_indexes('{dupidx}');
ROLLBACK;

-- Constraints ---------------------------------------------------------------
CREATE SCHEMA dupcon;
SET search_path = dupcon;
CREATE TABLE customers (id int PRIMARY KEY, email text);
CREATE TABLE orders (id int PRIMARY KEY, total numeric, status text, customer_id int);
ALTER TABLE orders
  ADD CONSTRAINT orders_total_check CHECK (total >= 0),
  ADD CONSTRAINT orders_total_nonneg CHECK (total >= 0),
  ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id),
  ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id);
-- must not be reported: another expression, NOT VALID beside validated,
-- other foreign key actions, other deferrability, another referenced column
ALTER TABLE orders
  ADD CONSTRAINT orders_total_positive CHECK (total > 0),
  ADD CONSTRAINT orders_customer_cascade FOREIGN KEY (customer_id)
      REFERENCES customers (id) ON DELETE CASCADE,
  ADD CONSTRAINT orders_customer_deferred FOREIGN KEY (customer_id)
      REFERENCES customers (id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE orders ADD CONSTRAINT orders_status_ok CHECK (status IN ('new', 'paid')) NOT VALID;
ALTER TABLE orders ADD CONSTRAINT orders_status_valid CHECK (status IN ('new', 'paid'));
-- two unique constraints alike: the one whose index a foreign key uses is
-- kept, though it is the younger constraint (it took over an older index)
CREATE UNIQUE INDEX customers_email_unique ON customers (email);
CREATE TABLE newsletters (email text REFERENCES customers (email));
ALTER TABLE customers ADD CONSTRAINT customers_email_key UNIQUE (email);
ALTER TABLE customers ADD CONSTRAINT customers_email_unique UNIQUE USING INDEX customers_email_unique;
-- an inheritance child: the parent's pair is reported on the parent only;
-- the child's own copy of an inherited check is reported on the child
CREATE TABLE orders_archive () INHERITS (orders);
ALTER TABLE orders_archive ADD CONSTRAINT orders_archive_total CHECK (total >= 0);
-- a partitioned table: the pair on the parent, not on its partitions
CREATE TABLE payments (id int, amount numeric CHECK (amount > 0),
                       CONSTRAINT payments_amount_positive CHECK (amount > 0))
  PARTITION BY RANGE (id);
CREATE TABLE payments_1 PARTITION OF payments FOR VALUES FROM (0) TO (100);

SELECT tbl, constraint_name, duplicate_of, definition, drop_sql
  FROM dedup.duplicate_constraints('{dupcon}');
BEGIN;
SELECT drop_sql FROM dedup.duplicate_constraints('{dupcon}') WHERE drop_sql IS NOT NULL \gexec
SELECT tbl, constraint_name, duplicate_of FROM dedup.duplicate_constraints('{dupcon}');
-- the partition lost its inherited copy with the parent's
SELECT count(*) AS payments_1_checks FROM pg_constraint
 WHERE conrelid = 'payments_1'::regclass AND contype = 'c';
ROLLBACK;

-- Policies ------------------------------------------------------------------
-- Roles: reader and writer; both_member inherits both; noinherit_member is
-- a NOINHERIT member of both; admin (BYPASSRLS) is a member of both; owner
-- owns the tables and is a member of both.
CREATE ROLE regress_dedup_reader;
CREATE ROLE regress_dedup_writer;
CREATE ROLE regress_dedup_both_member IN ROLE regress_dedup_reader, regress_dedup_writer;
CREATE ROLE regress_dedup_noinherit_member NOINHERIT IN ROLE regress_dedup_reader, regress_dedup_writer;
CREATE ROLE regress_dedup_admin BYPASSRLS IN ROLE regress_dedup_reader, regress_dedup_writer;
CREATE ROLE regress_dedup_owner IN ROLE regress_dedup_reader, regress_dedup_writer;
CREATE SCHEMA duppol;
SET search_path = duppol;
-- identical: roles listed in another order; restrictive vs permissive is not
CREATE TABLE docs (id int, owner_id int, published boolean);
CREATE POLICY docs_read ON docs FOR SELECT TO regress_dedup_reader, regress_dedup_writer
  USING (published);
CREATE POLICY docs_read_again ON docs FOR SELECT TO regress_dedup_writer, regress_dedup_reader
  USING (published);
CREATE POLICY docs_read_restrictive ON docs AS RESTRICTIVE FOR SELECT
  TO regress_dedup_reader, regress_dedup_writer USING (published);
-- overlapping: FOR ALL covers SELECT and INSERT; a PUBLIC policy applies
-- to every role
CREATE TABLE notes (id int, owner_id int, shared boolean);
CREATE POLICY notes_select ON notes FOR SELECT TO regress_dedup_reader USING (shared);
CREATE POLICY notes_all ON notes TO regress_dedup_reader USING (owner_id = 1);
CREATE POLICY notes_public ON notes FOR SELECT USING (id < 10);
CREATE POLICY notes_insert ON notes FOR INSERT TO regress_dedup_reader WITH CHECK (true);
-- must not be reported: other commands (INSERT vs UPDATE), restrictive vs
-- permissive, different roles that no role with row level security shares
CREATE TABLE files (id int, owner_id int);
CREATE POLICY files_insert ON files FOR INSERT TO regress_dedup_reader WITH CHECK (true);
CREATE POLICY files_update ON files FOR UPDATE TO regress_dedup_reader USING (true);
CREATE POLICY files_delete_only_owner ON files AS RESTRICTIVE FOR DELETE
  TO regress_dedup_reader USING (owner_id = 1);
CREATE POLICY files_delete ON files FOR DELETE TO regress_dedup_reader USING (true);
-- different roles: overlapping only for a role that inherits both and to
-- which row level security applies; the NOINHERIT member, the BYPASSRLS
-- member and the owner's member are left out...
CREATE TABLE pages (id int);
ALTER TABLE pages OWNER TO regress_dedup_owner;
CREATE POLICY pages_reader ON pages FOR SELECT TO regress_dedup_reader USING (true);
CREATE POLICY pages_writer ON pages FOR SELECT TO regress_dedup_writer USING (id > 0);
-- ... unless the table forces row level security on its owner
CREATE TABLE forced (id int);
ALTER TABLE forced OWNER TO regress_dedup_owner;
ALTER TABLE forced FORCE ROW LEVEL SECURITY;
CREATE POLICY forced_reader ON forced FOR SELECT TO regress_dedup_reader USING (true);
CREATE POLICY forced_writer ON forced FOR SELECT TO regress_dedup_writer USING (id > 0);
-- no one inherits both: not reported
CREATE TABLE apart (id int);
CREATE POLICY apart_reader ON apart FOR UPDATE TO regress_dedup_reader USING (true);
CREATE POLICY apart_other ON apart FOR UPDATE TO regress_dedup_admin USING (true);

SELECT tbl, policy, duplicate_of, kind, detail, drop_sql
  FROM dedup.duplicate_policies('{duppol}');
BEGIN;
SELECT drop_sql FROM dedup.duplicate_policies('{duppol}') WHERE drop_sql IS NOT NULL \gexec
SELECT tbl, policy, duplicate_of, kind FROM dedup.duplicate_policies('{duppol}')
 WHERE kind = 'identical';
ROLLBACK;

-- Triggers ------------------------------------------------------------------
CREATE SCHEMA duptrg;
SET search_path = duptrg;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS
$$BEGIN NEW.updated_at := now(); RETURN NEW; END$$;
CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$;
CREATE TABLE notes (id int, body text, title text, updated_at timestamptz);
CREATE TRIGGER notes_touch BEFORE UPDATE ON notes FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TRIGGER set_updated_at BEFORE UPDATE ON notes FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TRIGGER notes_touch_body BEFORE UPDATE OF body, title ON notes
  FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TRIGGER notes_touch_body2 BEFORE UPDATE OF title, body ON notes
  FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TRIGGER notes_touch_when BEFORE UPDATE ON notes
  FOR EACH ROW WHEN (OLD.body IS DISTINCT FROM NEW.body) EXECUTE FUNCTION touch();
CREATE TRIGGER notes_touch_when2 BEFORE UPDATE ON notes
  FOR EACH ROW WHEN (OLD.body IS DISTINCT FROM NEW.body) EXECUTE FUNCTION touch();
CREATE CONSTRAINT TRIGGER notes_check AFTER INSERT ON notes
  DEFERRABLE FOR EACH ROW EXECUTE FUNCTION audit();
CREATE CONSTRAINT TRIGGER notes_check2 AFTER INSERT ON notes
  DEFERRABLE FOR EACH ROW EXECUTE FUNCTION audit();
-- must not be reported: other event, timing, level, columns, WHEN,
-- arguments; a disabled copy of an enabled trigger
CREATE TRIGGER notes_touch_insert BEFORE INSERT ON notes FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TRIGGER notes_audit_after AFTER UPDATE ON notes FOR EACH ROW EXECUTE FUNCTION audit();
CREATE TRIGGER notes_audit_stmt AFTER UPDATE ON notes FOR EACH STATEMENT EXECUTE FUNCTION audit();
CREATE TRIGGER notes_touch_title BEFORE UPDATE OF title ON notes
  FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TRIGGER notes_touch_when_title BEFORE UPDATE ON notes
  FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title) EXECUTE FUNCTION touch();
CREATE TRIGGER notes_audit_a AFTER INSERT ON notes FOR EACH ROW EXECUTE FUNCTION audit('a');
CREATE TRIGGER notes_audit_b AFTER INSERT ON notes FOR EACH ROW EXECUTE FUNCTION audit('b');
CREATE TRIGGER notes_touch_off BEFORE UPDATE ON notes FOR EACH ROW EXECUTE FUNCTION touch();
ALTER TABLE notes DISABLE TRIGGER notes_touch_off;
-- a partitioned table's pair is reported on the parent, not on the clones
CREATE TABLE log (id int, updated_at timestamptz) PARTITION BY RANGE (id);
CREATE TABLE log_1 PARTITION OF log FOR VALUES FROM (0) TO (100);
CREATE TRIGGER log_touch BEFORE UPDATE ON log FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TRIGGER log_touch2 BEFORE UPDATE ON log FOR EACH ROW EXECUTE FUNCTION touch();

SELECT tbl, trigger_name, duplicate_of, definition, drop_sql
  FROM dedup.duplicate_triggers('{duptrg}');
BEGIN;
SELECT drop_sql FROM dedup.duplicate_triggers('{duptrg}') \gexec
SELECT count(*) AS left_over FROM dedup.duplicate_triggers('{duptrg}');
SELECT tgname FROM pg_trigger WHERE tgrelid = 'log_1'::regclass ORDER BY 1;
ROLLBACK;

-- compare_tables --------------------------------------------------------------
-- Two versions of one table that drifted apart.  Column order differs, so
-- that objects over the same columns are matched by name, not position.
CREATE SCHEMA dupcmp;
SET search_path = dupcmp;
CREATE TABLE members (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email text NOT NULL,
  name text COLLATE "C",
  score int,
  tier text,
  code text,
  kajabi_contact_id text,
  created_at timestamptz DEFAULT now(),
  full_name text GENERATED ALWAYS AS (name || '!') STORED,
  parent_id bigint REFERENCES members (id));
CREATE TABLE members_old (
  name text,
  parent_id bigint,
  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  email text,
  score bigint,
  tier int,
  created_at timestamptz DEFAULT clock_timestamp(),
  full_name text,
  CONSTRAINT members_old_parent_fk FOREIGN KEY (parent_id) REFERENCES members_old (id),
  CONSTRAINT members_old_email_check CHECK (email <> ''));
-- the same index, policy and trigger under other names: not reported
CREATE INDEX members_lower_email ON members (lower(email)) WHERE created_at IS NOT NULL;
CREATE INDEX members_old_email_idx ON members_old (lower(email)) WHERE created_at IS NOT NULL;
CREATE INDEX members_created ON members (created_at);
CREATE POLICY members_read ON members FOR SELECT TO regress_dedup_reader USING (email <> '');
CREATE POLICY read_members ON members_old FOR SELECT TO regress_dedup_reader USING (email <> '');
CREATE POLICY members_old_write ON members_old FOR UPDATE TO regress_dedup_writer USING (true);
CREATE TRIGGER members_touch BEFORE UPDATE ON members
  FOR EACH ROW WHEN (OLD.email IS DISTINCT FROM NEW.email) EXECUTE FUNCTION duptrg.touch();
CREATE TRIGGER members_old_touch BEFORE UPDATE ON members_old
  FOR EACH ROW WHEN (OLD.email IS DISTINCT FROM NEW.email) EXECUTE FUNCTION duptrg.touch();
CREATE TRIGGER members_audit AFTER INSERT ON members FOR EACH ROW EXECUTE FUNCTION duptrg.audit();
ALTER TABLE members ENABLE ROW LEVEL SECURITY;
GRANT SELECT ON members, members_old TO regress_dedup_reader;
GRANT INSERT, UPDATE ON members TO regress_dedup_writer;
GRANT UPDATE (name) ON members_old TO regress_dedup_writer;
SELECT * FROM dedup.compare_tables('members', 'members_old');
-- the other way round, a and b swap
SELECT object_type, object_name, difference FROM dedup.compare_tables('members_old', 'members')
 WHERE object_type IN ('index', 'trigger', 'rls');
-- a table is like itself
SELECT count(*) AS differences FROM dedup.compare_tables('members', 'members');
-- a WHEN over a column the other table lacks is a difference, not an error
CREATE TABLE members_slim (id bigint PRIMARY KEY, name text);
CREATE TRIGGER slim_touch BEFORE UPDATE ON members_slim
  FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION duptrg.touch();
SELECT object_type, object_name, difference FROM dedup.compare_tables('members', 'members_slim')
 WHERE object_type IN ('index', 'trigger');
CREATE VIEW member_names AS SELECT name FROM members;
SELECT * FROM dedup.compare_tables('members', 'member_names');

-- Which schemas ---------------------------------------------------------------
-- NULL leaves out the schemas Supabase manages and dedup's own; naming a
-- schema scans it whatever it is.
CREATE SCHEMA auth;
CREATE TABLE auth.users (id int PRIMARY KEY);
CREATE UNIQUE INDEX users_id_key ON auth.users (id);
SELECT count(*) FILTER (WHERE tbl = 'auth.users'::regclass) AS auth_by_default,
       count(*) FILTER (WHERE tbl::text LIKE 'dedup.%') AS dedup_own
  FROM dedup.duplicate_indexes();
SELECT tbl, index, duplicate_of FROM dedup.duplicate_indexes('{auth}');
DROP SCHEMA auth CASCADE;
-- every other schema of the database is in the default scan
SELECT count(*) AS all_schemas FROM dedup.duplicate_indexes()
 WHERE tbl::text LIKE 'dupidx.%';

-- Hostile names ---------------------------------------------------------------
-- Quotes, %, $, spaces, " USING ", upper case, Unicode and 63-byte multibyte
-- names: every statement quotes them, and every one runs.
CREATE SCHEMA "Dup's ""Schema"" $1 %s";
SET search_path = "Dup's ""Schema"" $1 %s";
CREATE TABLE "Tab'le USING btree (x)" (id int PRIMARY KEY, "Prix €" numeric, "a b" text);
CREATE INDEX "Idx 'one' %s" ON "Tab'le USING btree (x)" ("Prix €");
CREATE INDEX "idx USING btree (""Prix €"")" ON "Tab'le USING btree (x)" ("Prix €");
CREATE INDEX "ééééééééééééééééééééééééééééééé_" ON "Tab'le USING btree (x)" ("Prix €");
ALTER TABLE "Tab'le USING btree (x)"
  ADD CONSTRAINT "Chk $1" CHECK ("Prix €" > 0),
  ADD CONSTRAINT "chk ' %I" CHECK ("Prix €" > 0);
CREATE POLICY "Pol ""x""" ON "Tab'le USING btree (x)" FOR SELECT TO regress_dedup_reader USING (true);
CREATE POLICY "pol $$ y" ON "Tab'le USING btree (x)" FOR SELECT TO regress_dedup_reader USING (true);
CREATE TRIGGER "Trg 'x' ON y" BEFORE UPDATE ON "Tab'le USING btree (x)"
  FOR EACH ROW EXECUTE FUNCTION duptrg.touch();
CREATE TRIGGER "ééééééééééééééééééééééééééééééé_" BEFORE UPDATE ON "Tab'le USING btree (x)"
  FOR EACH ROW EXECUTE FUNCTION duptrg.touch();
SELECT octet_length(relname) AS bytes FROM pg_class WHERE relname LIKE 'éé%';
SELECT index, duplicate_of, drop_sql FROM dedup.duplicate_indexes(ARRAY['Dup''s "Schema" $1 %s']::name[]);
SELECT constraint_name, duplicate_of, drop_sql
  FROM dedup.duplicate_constraints(ARRAY['Dup''s "Schema" $1 %s']::name[]);
SELECT policy, duplicate_of, drop_sql
  FROM dedup.duplicate_policies(ARRAY['Dup''s "Schema" $1 %s']::name[]);
SELECT trigger_name, duplicate_of, drop_sql
  FROM dedup.duplicate_triggers(ARRAY['Dup''s "Schema" $1 %s']::name[]);
BEGIN;
SELECT drop_sql FROM dedup.duplicate_indexes(ARRAY['Dup''s "Schema" $1 %s']::name[]) \gexec
SELECT drop_sql FROM dedup.duplicate_constraints(ARRAY['Dup''s "Schema" $1 %s']::name[]) \gexec
SELECT drop_sql FROM dedup.duplicate_policies(ARRAY['Dup''s "Schema" $1 %s']::name[]) \gexec
SELECT drop_sql FROM dedup.duplicate_triggers(ARRAY['Dup''s "Schema" $1 %s']::name[]) \gexec
SELECT (SELECT count(*) FROM dedup.duplicate_indexes(ARRAY['Dup''s "Schema" $1 %s']::name[]))
     + (SELECT count(*) FROM dedup.duplicate_constraints(ARRAY['Dup''s "Schema" $1 %s']::name[]))
     + (SELECT count(*) FROM dedup.duplicate_policies(ARRAY['Dup''s "Schema" $1 %s']::name[]))
     + (SELECT count(*) FROM dedup.duplicate_triggers(ARRAY['Dup''s "Schema" $1 %s']::name[]))
       AS left_over;
ROLLBACK;
CREATE TABLE "Tab'le 2" (LIKE "Tab'le USING btree (x)" INCLUDING ALL);
ALTER TABLE "Tab'le 2" DROP COLUMN "a b";
SELECT * FROM dedup.compare_tables('"Tab''le USING btree (x)"', '"Tab''le 2"');

-- Cleanup ---------------------------------------------------------------------
RESET search_path;
DROP SCHEMA dupidx, dupcon, duppol, duptrg, dupcmp, "Dup's ""Schema"" $1 %s" CASCADE;
DROP ROLE regress_dedup_reader, regress_dedup_writer, regress_dedup_both_member,
          regress_dedup_noinherit_member, regress_dedup_admin, regress_dedup_owner;
