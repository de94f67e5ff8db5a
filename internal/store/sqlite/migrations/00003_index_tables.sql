-- Narrower, clustered search index tables: indexed writes spent most of
-- their time inserting into the index tables' B-trees (five to seven per
-- row), so each table now has as few as the search SQL uses.
--
-- Each table is WITHOUT ROWID, clustered on (rid, param, n), n numbering a
-- resource's rows of one param: a resource's rows are contiguous, so the
-- (rid, param) lookups of replacing rows, :missing, _sort, composites and
-- _include read the table itself, and the separate (rid, param) index and
-- rowid B-tree are gone. Secondary indexes end with the key (rid, n), so
-- they cover the rid every clause selects.
--
-- Dropped as unused by the search SQL (EXPLAIN QUERY PLAN over the
-- conformance suite): idx_token_sys (a system-only token search reads
-- idx_token_code's (res_type, param) prefix) and idx_ref_src, folded into
-- idx_ref_target, which now leads with target_id so it serves reference
-- searches with or without a type, chains probed from the target and
-- _revinclude, wildcard or not.

-- +goose Up
ALTER TABLE idx_string RENAME TO idx_string_old;
DROP INDEX idx_string_val;
DROP INDEX idx_string_pat;
DROP INDEX idx_string_res;
CREATE TABLE idx_string (
    rid INTEGER NOT NULL, res_type TEXT NOT NULL, patient_key TEXT NOT NULL, param TEXT NOT NULL, comb INTEGER NOT NULL, n INTEGER NOT NULL,
    norm TEXT NOT NULL,
    exact TEXT NOT NULL,
    PRIMARY KEY (rid, param, n)
) WITHOUT ROWID;
INSERT INTO idx_string (rid, res_type, patient_key, param, comb, norm, exact, n)
    SELECT rid, res_type, patient_key, param, comb, norm, exact, row_number() OVER (PARTITION BY rid, param ORDER BY rowid) - 1 FROM idx_string_old;
DROP TABLE idx_string_old;
CREATE INDEX idx_string_val ON idx_string (res_type, param, norm);
CREATE INDEX idx_string_pat ON idx_string (patient_key, res_type, param, norm);

ALTER TABLE idx_token RENAME TO idx_token_old;
DROP INDEX idx_token_code;
DROP INDEX idx_token_sys;
DROP INDEX idx_token_pat;
DROP INDEX idx_token_res;
CREATE TABLE idx_token (
    rid INTEGER NOT NULL, res_type TEXT NOT NULL, patient_key TEXT NOT NULL, param TEXT NOT NULL, comb INTEGER NOT NULL, n INTEGER NOT NULL,
    system TEXT NOT NULL,
    code TEXT NOT NULL,
    text TEXT NOT NULL,
    type_system TEXT NOT NULL,
    type_code TEXT NOT NULL,
    PRIMARY KEY (rid, param, n)
) WITHOUT ROWID;
INSERT INTO idx_token (rid, res_type, patient_key, param, comb, system, code, text, type_system, type_code, n)
    SELECT rid, res_type, patient_key, param, comb, system, code, text, type_system, type_code, row_number() OVER (PARTITION BY rid, param ORDER BY rowid) - 1 FROM idx_token_old;
DROP TABLE idx_token_old;
CREATE INDEX idx_token_code ON idx_token (res_type, param, code, system);
CREATE INDEX idx_token_pat  ON idx_token (patient_key, res_type, param, code, system);

ALTER TABLE idx_date RENAME TO idx_date_old;
DROP INDEX idx_date_lo;
DROP INDEX idx_date_hi;
DROP INDEX idx_date_pat;
DROP INDEX idx_date_res;
CREATE TABLE idx_date (
    rid INTEGER NOT NULL, res_type TEXT NOT NULL, patient_key TEXT NOT NULL, param TEXT NOT NULL, comb INTEGER NOT NULL, n INTEGER NOT NULL,
    lo INTEGER NOT NULL,
    hi INTEGER NOT NULL,
    PRIMARY KEY (rid, param, n)
) WITHOUT ROWID;
INSERT INTO idx_date (rid, res_type, patient_key, param, comb, lo, hi, n)
    SELECT rid, res_type, patient_key, param, comb, lo, hi, row_number() OVER (PARTITION BY rid, param ORDER BY rowid) - 1 FROM idx_date_old;
DROP TABLE idx_date_old;
CREATE INDEX idx_date_lo  ON idx_date (res_type, param, lo, hi);
CREATE INDEX idx_date_hi  ON idx_date (res_type, param, hi, lo);
CREATE INDEX idx_date_pat ON idx_date (patient_key, res_type, param, lo, hi);

ALTER TABLE idx_number RENAME TO idx_number_old;
DROP INDEX idx_number_val;
DROP INDEX idx_number_res;
CREATE TABLE idx_number (
    rid INTEGER NOT NULL, res_type TEXT NOT NULL, patient_key TEXT NOT NULL, param TEXT NOT NULL, comb INTEGER NOT NULL, n INTEGER NOT NULL,
    lo REAL,
    hi REAL,
    PRIMARY KEY (rid, param, n)
) WITHOUT ROWID;
INSERT INTO idx_number (rid, res_type, patient_key, param, comb, lo, hi, n)
    SELECT rid, res_type, patient_key, param, comb, lo, hi, row_number() OVER (PARTITION BY rid, param ORDER BY rowid) - 1 FROM idx_number_old;
DROP TABLE idx_number_old;
CREATE INDEX idx_number_val ON idx_number (res_type, param, lo, hi);

ALTER TABLE idx_quantity RENAME TO idx_quantity_old;
DROP INDEX idx_quantity_canon;
DROP INDEX idx_quantity_code;
DROP INDEX idx_quantity_pat;
DROP INDEX idx_quantity_res;
CREATE TABLE idx_quantity (
    rid INTEGER NOT NULL, res_type TEXT NOT NULL, patient_key TEXT NOT NULL, param TEXT NOT NULL, comb INTEGER NOT NULL, n INTEGER NOT NULL,
    lo REAL,
    hi REAL,
    system TEXT NOT NULL,
    code TEXT NOT NULL,
    unit TEXT NOT NULL,
    canon_lo REAL,
    canon_hi REAL,
    canon_unit TEXT NOT NULL,
    PRIMARY KEY (rid, param, n)
) WITHOUT ROWID;
INSERT INTO idx_quantity (rid, res_type, patient_key, param, comb, lo, hi, system, code, unit, canon_lo, canon_hi, canon_unit, n)
    SELECT rid, res_type, patient_key, param, comb, lo, hi, system, code, unit, canon_lo, canon_hi, canon_unit, row_number() OVER (PARTITION BY rid, param ORDER BY rowid) - 1 FROM idx_quantity_old;
DROP TABLE idx_quantity_old;
CREATE INDEX idx_quantity_canon ON idx_quantity (res_type, param, canon_unit, canon_lo);
CREATE INDEX idx_quantity_code  ON idx_quantity (res_type, param, code, lo);
CREATE INDEX idx_quantity_pat   ON idx_quantity (patient_key, res_type, param, canon_unit, canon_lo);

ALTER TABLE idx_reference RENAME TO idx_reference_old;
DROP INDEX idx_ref_target;
DROP INDEX idx_ref_src;
DROP INDEX idx_ref_pat;
DROP INDEX idx_ref_res;
DROP INDEX idx_ref_url;
DROP INDEX idx_ref_ident;
CREATE TABLE idx_reference (
    rid INTEGER NOT NULL, res_type TEXT NOT NULL, patient_key TEXT NOT NULL, param TEXT NOT NULL, comb INTEGER NOT NULL, n INTEGER NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT NOT NULL,
    target_base TEXT NOT NULL,
    url TEXT NOT NULL,
    version TEXT NOT NULL,
    ident_system TEXT NOT NULL,
    ident_value TEXT NOT NULL,
    PRIMARY KEY (rid, param, n)
) WITHOUT ROWID;
INSERT INTO idx_reference (rid, res_type, patient_key, param, comb, target_type, target_id, target_base, url, version, ident_system, ident_value, n)
    SELECT rid, res_type, patient_key, param, comb, target_type, target_id, target_base, url, version, ident_system, ident_value, row_number() OVER (PARTITION BY rid, param ORDER BY rowid) - 1 FROM idx_reference_old;
DROP TABLE idx_reference_old;
CREATE INDEX idx_ref_target ON idx_reference (target_id, target_type, res_type, param);
CREATE INDEX idx_ref_pat    ON idx_reference (patient_key, res_type, param, target_type, target_id);
CREATE INDEX idx_ref_url    ON idx_reference (url, version) WHERE url <> '';
CREATE INDEX idx_ref_ident  ON idx_reference (ident_value, ident_system) WHERE ident_value <> '';

ALTER TABLE idx_uri RENAME TO idx_uri_old;
DROP INDEX idx_uri_val;
DROP INDEX idx_uri_res;
CREATE TABLE idx_uri (
    rid INTEGER NOT NULL, res_type TEXT NOT NULL, patient_key TEXT NOT NULL, param TEXT NOT NULL, comb INTEGER NOT NULL, n INTEGER NOT NULL,
    uri TEXT NOT NULL,
    PRIMARY KEY (rid, param, n)
) WITHOUT ROWID;
INSERT INTO idx_uri (rid, res_type, patient_key, param, comb, uri, n)
    SELECT rid, res_type, patient_key, param, comb, uri, row_number() OVER (PARTITION BY rid, param ORDER BY rowid) - 1 FROM idx_uri_old;
DROP TABLE idx_uri_old;
CREATE INDEX idx_uri_val ON idx_uri (res_type, param, uri);

-- +goose Down
ALTER TABLE idx_string RENAME TO idx_string_old;
DROP INDEX idx_string_val;
DROP INDEX idx_string_pat;
CREATE TABLE idx_string (
    rid INTEGER NOT NULL, res_type TEXT NOT NULL, patient_key TEXT NOT NULL, param TEXT NOT NULL, comb INTEGER NOT NULL,
    norm TEXT NOT NULL,
    exact TEXT NOT NULL
);
INSERT INTO idx_string (rid, res_type, patient_key, param, comb, norm, exact)
    SELECT rid, res_type, patient_key, param, comb, norm, exact FROM idx_string_old ORDER BY rid, param, n;
DROP TABLE idx_string_old;
CREATE INDEX idx_string_val ON idx_string (res_type, param, norm);
CREATE INDEX idx_string_pat ON idx_string (patient_key, res_type, param, norm);
CREATE INDEX idx_string_res ON idx_string (rid, param);

ALTER TABLE idx_token RENAME TO idx_token_old;
DROP INDEX idx_token_code;
DROP INDEX idx_token_pat;
CREATE TABLE idx_token (
    rid INTEGER NOT NULL, res_type TEXT NOT NULL, patient_key TEXT NOT NULL, param TEXT NOT NULL, comb INTEGER NOT NULL,
    system TEXT NOT NULL,
    code TEXT NOT NULL,
    text TEXT NOT NULL,
    type_system TEXT NOT NULL,
    type_code TEXT NOT NULL
);
INSERT INTO idx_token (rid, res_type, patient_key, param, comb, system, code, text, type_system, type_code)
    SELECT rid, res_type, patient_key, param, comb, system, code, text, type_system, type_code FROM idx_token_old ORDER BY rid, param, n;
DROP TABLE idx_token_old;
CREATE INDEX idx_token_code ON idx_token (res_type, param, code, system);
CREATE INDEX idx_token_sys  ON idx_token (res_type, param, system);
CREATE INDEX idx_token_pat  ON idx_token (patient_key, res_type, param, code, system);
CREATE INDEX idx_token_res  ON idx_token (rid, param);

ALTER TABLE idx_date RENAME TO idx_date_old;
DROP INDEX idx_date_lo;
DROP INDEX idx_date_hi;
DROP INDEX idx_date_pat;
CREATE TABLE idx_date (
    rid INTEGER NOT NULL, res_type TEXT NOT NULL, patient_key TEXT NOT NULL, param TEXT NOT NULL, comb INTEGER NOT NULL,
    lo INTEGER NOT NULL,
    hi INTEGER NOT NULL
);
INSERT INTO idx_date (rid, res_type, patient_key, param, comb, lo, hi)
    SELECT rid, res_type, patient_key, param, comb, lo, hi FROM idx_date_old ORDER BY rid, param, n;
DROP TABLE idx_date_old;
CREATE INDEX idx_date_lo  ON idx_date (res_type, param, lo, hi);
CREATE INDEX idx_date_hi  ON idx_date (res_type, param, hi, lo);
CREATE INDEX idx_date_pat ON idx_date (patient_key, res_type, param, lo, hi);
CREATE INDEX idx_date_res ON idx_date (rid, param);

ALTER TABLE idx_number RENAME TO idx_number_old;
DROP INDEX idx_number_val;
CREATE TABLE idx_number (
    rid INTEGER NOT NULL, res_type TEXT NOT NULL, patient_key TEXT NOT NULL, param TEXT NOT NULL, comb INTEGER NOT NULL,
    lo REAL,
    hi REAL
);
INSERT INTO idx_number (rid, res_type, patient_key, param, comb, lo, hi)
    SELECT rid, res_type, patient_key, param, comb, lo, hi FROM idx_number_old ORDER BY rid, param, n;
DROP TABLE idx_number_old;
CREATE INDEX idx_number_val ON idx_number (res_type, param, lo, hi);
CREATE INDEX idx_number_res ON idx_number (rid, param);

ALTER TABLE idx_quantity RENAME TO idx_quantity_old;
DROP INDEX idx_quantity_canon;
DROP INDEX idx_quantity_code;
DROP INDEX idx_quantity_pat;
CREATE TABLE idx_quantity (
    rid INTEGER NOT NULL, res_type TEXT NOT NULL, patient_key TEXT NOT NULL, param TEXT NOT NULL, comb INTEGER NOT NULL,
    lo REAL,
    hi REAL,
    system TEXT NOT NULL,
    code TEXT NOT NULL,
    unit TEXT NOT NULL,
    canon_lo REAL,
    canon_hi REAL,
    canon_unit TEXT NOT NULL
);
INSERT INTO idx_quantity (rid, res_type, patient_key, param, comb, lo, hi, system, code, unit, canon_lo, canon_hi, canon_unit)
    SELECT rid, res_type, patient_key, param, comb, lo, hi, system, code, unit, canon_lo, canon_hi, canon_unit FROM idx_quantity_old ORDER BY rid, param, n;
DROP TABLE idx_quantity_old;
CREATE INDEX idx_quantity_canon ON idx_quantity (res_type, param, canon_unit, canon_lo);
CREATE INDEX idx_quantity_code  ON idx_quantity (res_type, param, code, lo);
CREATE INDEX idx_quantity_pat   ON idx_quantity (patient_key, res_type, param, canon_unit, canon_lo);
CREATE INDEX idx_quantity_res   ON idx_quantity (rid, param);

ALTER TABLE idx_reference RENAME TO idx_reference_old;
DROP INDEX idx_ref_target;
DROP INDEX idx_ref_pat;
DROP INDEX idx_ref_url;
DROP INDEX idx_ref_ident;
CREATE TABLE idx_reference (
    rid INTEGER NOT NULL, res_type TEXT NOT NULL, patient_key TEXT NOT NULL, param TEXT NOT NULL, comb INTEGER NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT NOT NULL,
    target_base TEXT NOT NULL,
    url TEXT NOT NULL,
    version TEXT NOT NULL,
    ident_system TEXT NOT NULL,
    ident_value TEXT NOT NULL
);
INSERT INTO idx_reference (rid, res_type, patient_key, param, comb, target_type, target_id, target_base, url, version, ident_system, ident_value)
    SELECT rid, res_type, patient_key, param, comb, target_type, target_id, target_base, url, version, ident_system, ident_value FROM idx_reference_old ORDER BY rid, param, n;
DROP TABLE idx_reference_old;
CREATE INDEX idx_ref_target ON idx_reference (target_type, target_id, param, res_type);
CREATE INDEX idx_ref_src    ON idx_reference (res_type, param, target_type, target_id);
CREATE INDEX idx_ref_pat    ON idx_reference (patient_key, res_type, param, target_type, target_id);
CREATE INDEX idx_ref_res    ON idx_reference (rid, param);
CREATE INDEX idx_ref_url    ON idx_reference (url, version) WHERE url <> '';
CREATE INDEX idx_ref_ident  ON idx_reference (ident_value, ident_system) WHERE ident_value <> '';

ALTER TABLE idx_uri RENAME TO idx_uri_old;
DROP INDEX idx_uri_val;
CREATE TABLE idx_uri (
    rid INTEGER NOT NULL, res_type TEXT NOT NULL, patient_key TEXT NOT NULL, param TEXT NOT NULL, comb INTEGER NOT NULL,
    uri TEXT NOT NULL
);
INSERT INTO idx_uri (rid, res_type, patient_key, param, comb, uri)
    SELECT rid, res_type, patient_key, param, comb, uri FROM idx_uri_old ORDER BY rid, param, n;
DROP TABLE idx_uri_old;
CREATE INDEX idx_uri_val ON idx_uri (res_type, param, uri);
CREATE INDEX idx_uri_res ON idx_uri (rid, param);
