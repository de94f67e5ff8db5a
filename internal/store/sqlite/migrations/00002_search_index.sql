-- The search index (internal/search/SCHEMA.md): one table per row type,
-- holding the rows of each resource's current version only. Put replaces a
-- resource's rows in the same transaction as the version; a delete marker
-- removes them.
--
-- resource_current gains an integer surrogate, rid, so index rows are
-- narrow and joins are integer joins. It is the rowid (INTEGER PRIMARY KEY),
-- assigned once when the resource is created and never reused, since
-- resource_current rows are never deleted. The table is rebuilt because
-- SQLite cannot add a primary key to a WITHOUT ROWID table.
--
-- Every index row carries patient_key (the version's, copied by Put) so the
-- access predicate can be checked on the row itself inside subqueries, and
-- comb, the combination a composite's parts belong to (0 for plain rows;
-- the parts of composite "p" are stored with param "p#0", "p#1" …).
-- Text compares with BINARY collation, which is code point order, as Go's
-- string order is; prefix searches are ranges (x >= p AND x < p||U+10FFFF),
-- which use the plain indexes. Decimals are REAL (see SCHEMA.md).

-- +goose Up
CREATE TABLE resource_current_new (
    rid         INTEGER PRIMARY KEY,
    type        TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    version_id  INTEGER NOT NULL,
    updated     INTEGER NOT NULL,
    deleted     INTEGER NOT NULL CHECK (deleted IN (0, 1)),
    patient_key TEXT    NOT NULL,
    UNIQUE (type, id),
    FOREIGN KEY (type, id, version_id) REFERENCES resource_versions (type, id, version_id)
        DEFERRABLE INITIALLY DEFERRED
);
INSERT INTO resource_current_new (type, id, version_id, updated, deleted, patient_key)
    SELECT type, id, version_id, updated, deleted, patient_key FROM resource_current ORDER BY updated;
DROP TABLE resource_current;
ALTER TABLE resource_current_new RENAME TO resource_current;
-- _lastUpdated and system-level _id.
CREATE INDEX resource_current_updated ON resource_current (type, updated);
CREATE INDEX resource_current_id ON resource_current (id);
CREATE INDEX resource_current_patient ON resource_current (patient_key, type);

CREATE TABLE idx_string (
    rid INTEGER NOT NULL, res_type TEXT NOT NULL, patient_key TEXT NOT NULL, param TEXT NOT NULL, comb INTEGER NOT NULL,
    norm  TEXT NOT NULL,
    exact TEXT NOT NULL
);
CREATE INDEX idx_string_val ON idx_string (res_type, param, norm);
CREATE INDEX idx_string_pat ON idx_string (patient_key, res_type, param, norm);
CREATE INDEX idx_string_res ON idx_string (rid, param);

CREATE TABLE idx_token (
    rid INTEGER NOT NULL, res_type TEXT NOT NULL, patient_key TEXT NOT NULL, param TEXT NOT NULL, comb INTEGER NOT NULL,
    system      TEXT NOT NULL,
    code        TEXT NOT NULL,
    text        TEXT NOT NULL,
    type_system TEXT NOT NULL,
    type_code   TEXT NOT NULL
);
CREATE INDEX idx_token_code ON idx_token (res_type, param, code, system);
CREATE INDEX idx_token_sys  ON idx_token (res_type, param, system);
CREATE INDEX idx_token_pat  ON idx_token (patient_key, res_type, param, code, system);
CREATE INDEX idx_token_res  ON idx_token (rid, param);

CREATE TABLE idx_date (
    rid INTEGER NOT NULL, res_type TEXT NOT NULL, patient_key TEXT NOT NULL, param TEXT NOT NULL, comb INTEGER NOT NULL,
    lo INTEGER NOT NULL,
    hi INTEGER NOT NULL
);
CREATE INDEX idx_date_lo  ON idx_date (res_type, param, lo, hi);
CREATE INDEX idx_date_hi  ON idx_date (res_type, param, hi, lo);
CREATE INDEX idx_date_pat ON idx_date (patient_key, res_type, param, lo, hi);
CREATE INDEX idx_date_res ON idx_date (rid, param);

CREATE TABLE idx_number (
    rid INTEGER NOT NULL, res_type TEXT NOT NULL, patient_key TEXT NOT NULL, param TEXT NOT NULL, comb INTEGER NOT NULL,
    lo REAL,
    hi REAL
);
CREATE INDEX idx_number_val ON idx_number (res_type, param, lo, hi);
CREATE INDEX idx_number_res ON idx_number (rid, param);

CREATE TABLE idx_quantity (
    rid INTEGER NOT NULL, res_type TEXT NOT NULL, patient_key TEXT NOT NULL, param TEXT NOT NULL, comb INTEGER NOT NULL,
    lo REAL,
    hi REAL,
    system     TEXT NOT NULL,
    code       TEXT NOT NULL,
    unit       TEXT NOT NULL,
    canon_lo   REAL,
    canon_hi   REAL,
    canon_unit TEXT NOT NULL
);
CREATE INDEX idx_quantity_canon ON idx_quantity (res_type, param, canon_unit, canon_lo);
CREATE INDEX idx_quantity_code  ON idx_quantity (res_type, param, code, lo);
CREATE INDEX idx_quantity_pat   ON idx_quantity (patient_key, res_type, param, canon_unit, canon_lo);
CREATE INDEX idx_quantity_res   ON idx_quantity (rid, param);

CREATE TABLE idx_reference (
    rid INTEGER NOT NULL, res_type TEXT NOT NULL, patient_key TEXT NOT NULL, param TEXT NOT NULL, comb INTEGER NOT NULL,
    target_type  TEXT NOT NULL,
    target_id    TEXT NOT NULL,
    target_base  TEXT NOT NULL,
    url          TEXT NOT NULL,
    version      TEXT NOT NULL,
    ident_system TEXT NOT NULL,
    ident_value  TEXT NOT NULL
);
CREATE INDEX idx_ref_target ON idx_reference (target_type, target_id, param, res_type);
CREATE INDEX idx_ref_src    ON idx_reference (res_type, param, target_type, target_id);
CREATE INDEX idx_ref_pat    ON idx_reference (patient_key, res_type, param, target_type, target_id);
CREATE INDEX idx_ref_res    ON idx_reference (rid, param);
CREATE INDEX idx_ref_url    ON idx_reference (url, version) WHERE url <> '';
CREATE INDEX idx_ref_ident  ON idx_reference (ident_value, ident_system) WHERE ident_value <> '';

CREATE TABLE idx_uri (
    rid INTEGER NOT NULL, res_type TEXT NOT NULL, patient_key TEXT NOT NULL, param TEXT NOT NULL, comb INTEGER NOT NULL,
    uri TEXT NOT NULL
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
CREATE TABLE resource_current_old (
    type        TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    version_id  INTEGER NOT NULL,
    updated     INTEGER NOT NULL,
    deleted     INTEGER NOT NULL CHECK (deleted IN (0, 1)),
    patient_key TEXT    NOT NULL,
    PRIMARY KEY (type, id),
    FOREIGN KEY (type, id, version_id) REFERENCES resource_versions (type, id, version_id)
        DEFERRABLE INITIALLY DEFERRED
) WITHOUT ROWID;
INSERT INTO resource_current_old SELECT type, id, version_id, updated, deleted, patient_key FROM resource_current;
DROP TABLE resource_current;
ALTER TABLE resource_current_old RENAME TO resource_current;
