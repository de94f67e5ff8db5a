-- The keyed store (store.Keyed): short-lived, non-FHIR state of services
-- (authorization codes, refresh-token records, JWT-id replay caches, OAuth
-- clients, signing keys), one row per (ns, key).
--
-- grp ties the entries of one grant together ('' for none); expires_us is
-- the expiry in microseconds since the Unix epoch, UTC, 0 for never. An
-- expired row stays until PurgeKeys removes it but is never returned. Keys
-- compare with BINARY collation, code point order, so ListKeys's prefix is
-- a range (key >= p AND key < p||U+10FFFF) on the primary key. value is
-- the caller's exact bytes.

-- +goose Up
CREATE TABLE keyed (
    ns         TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    grp        TEXT    NOT NULL,
    value      BLOB    NOT NULL,
    expires_us INTEGER NOT NULL,
    PRIMARY KEY (ns, key)
);
-- DeleteGroup; entries without a group are in no group, so not indexed.
CREATE INDEX keyed_group ON keyed (ns, grp) WHERE grp <> '';
-- PurgeKeys; entries that never expire are never purged.
CREATE INDEX keyed_expires ON keyed (expires_us) WHERE expires_us <> 0;

-- +goose Down
DROP TABLE keyed;
