-- The version store: an append-only table of resource versions and a
-- pointer table naming each resource's current version.

-- +goose Up

-- resource_versions holds every version ever written. Rows are appended and
-- never updated; seq is the history cursor. AUTOINCREMENT (rather than a plain
-- rowid) guarantees seq is never reused, even if rows are later expunged.
-- updated is microseconds since the Unix epoch, UTC. body is the resource's
-- exact bytes (NULL for a delete marker).
CREATE TABLE resource_versions (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    type        TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    version_id  INTEGER NOT NULL,
    updated     INTEGER NOT NULL,
    deleted     INTEGER NOT NULL CHECK (deleted IN (0, 1)),
    method      TEXT    NOT NULL,
    writer      TEXT    NOT NULL,
    patient_key TEXT    NOT NULL,
    body        BLOB
);

-- Version lookup, instance history and the _at "later version" probe.
CREATE UNIQUE INDEX resource_versions_version ON resource_versions (type, id, version_id);
-- Type-level history by seq. System-level history walks the primary key.
CREATE INDEX resource_versions_type_seq ON resource_versions (type, seq);

-- +goose StatementBegin
CREATE TRIGGER resource_versions_append_only BEFORE UPDATE ON resource_versions
BEGIN
    SELECT RAISE(ABORT, 'resource_versions is append-only');
END;
-- +goose StatementEnd

-- resource_current points at each resource's current version (which may be a
-- delete marker). Put's conditional write is a guarded update of this row.
CREATE TABLE resource_current (
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

-- +goose Down
DROP TABLE resource_current;
DROP TRIGGER resource_versions_append_only;
DROP TABLE resource_versions;
