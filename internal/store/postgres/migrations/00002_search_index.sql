-- The search index (internal/search/SCHEMA.md): one table per row type,
-- holding the rows of each resource's current version only. Put replaces a
-- resource's rows in the same statement as the version; a delete marker
-- removes them.
--
-- resource_current gains rid, an integer surrogate assigned when the
-- resource is created, so index rows are narrow and joins are integer
-- joins, and updated_us, the update time in microseconds since the epoch
-- (what the index's date columns hold), so _lastUpdated compares like any
-- date row and uses an index.
--
-- Every index row carries patient_key (the version's, copied by Put) so the
-- access predicate can be checked on the row itself inside subqueries
-- (Citus: the distribution column), and comb, the combination a
-- composite's parts belong to (0 for plain rows; the parts of composite
-- "p" are stored with param "p#0", "p#1" …).
--
-- The columns prefix searches read (norm, text, url, uri) are COLLATE "C":
-- byte order is code point order, Go's string order, so a prefix search is
-- a plain B-tree range (x >= p AND x < p||U+10FFFF). Sort keys are compared
-- with an explicit COLLATE "C", so _sort agrees with the reference matcher.
-- Columns joined to resource_current (target_type, target_id) keep its
-- collation so the join can use its primary key.

-- +goose Up
ALTER TABLE resource_current
    ADD COLUMN rid bigint GENERATED ALWAYS AS IDENTITY,
    ADD COLUMN updated_us bigint;
UPDATE resource_current SET updated_us = (extract(epoch FROM updated) * 1000000)::bigint;
ALTER TABLE resource_current ALTER COLUMN updated_us SET NOT NULL;
ALTER TABLE resource_current ADD CONSTRAINT resource_current_rid UNIQUE (rid);
CREATE INDEX resource_current_updated ON resource_current (type, updated_us);
CREATE INDEX resource_current_id ON resource_current (id);
CREATE INDEX resource_current_patient ON resource_current (patient_key, type);

CREATE TABLE idx_string (
    rid bigint NOT NULL, res_type text NOT NULL, patient_key text NOT NULL, param text NOT NULL, comb int NOT NULL,
    norm  text COLLATE "C" NOT NULL,
    exact text NOT NULL
);
CREATE INDEX idx_string_val ON idx_string (res_type, param, norm);
CREATE INDEX idx_string_pat ON idx_string (patient_key, res_type, param, norm);
CREATE INDEX idx_string_res ON idx_string (rid, param);

CREATE TABLE idx_token (
    rid bigint NOT NULL, res_type text NOT NULL, patient_key text NOT NULL, param text NOT NULL, comb int NOT NULL,
    system      text NOT NULL,
    code        text NOT NULL,
    text        text COLLATE "C" NOT NULL,
    type_system text NOT NULL,
    type_code   text NOT NULL
);
CREATE INDEX idx_token_code ON idx_token (res_type, param, code, system);
CREATE INDEX idx_token_sys  ON idx_token (res_type, param, system);
CREATE INDEX idx_token_pat  ON idx_token (patient_key, res_type, param, code, system);
CREATE INDEX idx_token_res  ON idx_token (rid, param);

CREATE TABLE idx_date (
    rid bigint NOT NULL, res_type text NOT NULL, patient_key text NOT NULL, param text NOT NULL, comb int NOT NULL,
    lo bigint NOT NULL,
    hi bigint NOT NULL
);
CREATE INDEX idx_date_lo  ON idx_date (res_type, param, lo, hi);
CREATE INDEX idx_date_hi  ON idx_date (res_type, param, hi, lo);
CREATE INDEX idx_date_pat ON idx_date (patient_key, res_type, param, lo, hi);
CREATE INDEX idx_date_res ON idx_date (rid, param);

CREATE TABLE idx_number (
    rid bigint NOT NULL, res_type text NOT NULL, patient_key text NOT NULL, param text NOT NULL, comb int NOT NULL,
    lo numeric,
    hi numeric
);
CREATE INDEX idx_number_val ON idx_number (res_type, param, lo, hi);
CREATE INDEX idx_number_res ON idx_number (rid, param);

CREATE TABLE idx_quantity (
    rid bigint NOT NULL, res_type text NOT NULL, patient_key text NOT NULL, param text NOT NULL, comb int NOT NULL,
    lo numeric,
    hi numeric,
    system     text NOT NULL,
    code       text NOT NULL,
    unit       text NOT NULL,
    canon_lo   numeric,
    canon_hi   numeric,
    canon_unit text NOT NULL
);
CREATE INDEX idx_quantity_canon ON idx_quantity (res_type, param, canon_unit, canon_lo);
CREATE INDEX idx_quantity_code  ON idx_quantity (res_type, param, code, lo);
CREATE INDEX idx_quantity_pat   ON idx_quantity (patient_key, res_type, param, canon_unit, canon_lo);
CREATE INDEX idx_quantity_res   ON idx_quantity (rid, param);

CREATE TABLE idx_reference (
    rid bigint NOT NULL, res_type text NOT NULL, patient_key text NOT NULL, param text NOT NULL, comb int NOT NULL,
    target_type  text NOT NULL,
    target_id    text NOT NULL,
    target_base  text NOT NULL,
    url          text COLLATE "C" NOT NULL,
    version      text NOT NULL,
    ident_system text NOT NULL,
    ident_value  text NOT NULL
);
CREATE INDEX idx_ref_target ON idx_reference (target_type, target_id, param, res_type);
CREATE INDEX idx_ref_src    ON idx_reference (res_type, param, target_type, target_id);
CREATE INDEX idx_ref_pat    ON idx_reference (patient_key, res_type, param, target_type, target_id);
CREATE INDEX idx_ref_res    ON idx_reference (rid, param);
CREATE INDEX idx_ref_url    ON idx_reference (url, version) WHERE url <> '';
CREATE INDEX idx_ref_ident  ON idx_reference (ident_value, ident_system) WHERE ident_value <> '';

CREATE TABLE idx_uri (
    rid bigint NOT NULL, res_type text NOT NULL, patient_key text NOT NULL, param text NOT NULL, comb int NOT NULL,
    uri text COLLATE "C" NOT NULL
);
CREATE INDEX idx_uri_val ON idx_uri (res_type, param, uri);
CREATE INDEX idx_uri_res ON idx_uri (rid, param);

-- +goose Down
DROP TABLE idx_uri;
DROP TABLE idx_reference;
DROP TABLE idx_quantity;
DROP TABLE idx_number;
DROP TABLE idx_date;
DROP TABLE idx_token;
DROP TABLE idx_string;
DROP INDEX resource_current_patient;
DROP INDEX resource_current_id;
DROP INDEX resource_current_updated;
ALTER TABLE resource_current DROP COLUMN updated_us, DROP COLUMN rid;
