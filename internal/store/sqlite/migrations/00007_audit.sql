-- The audit journal (store.AuditLog): entries in a hash chain, an index of
-- them by patient, and the signed checkpoints over the chain.
--
-- audit_entry holds one row per entry. seq is the chain position, 1, 2, 3 …
-- without gaps, assigned under the writer lock as the head's seq + 1 (not
-- by AUTOINCREMENT, which a rolled-back transaction would leave a gap in).
-- at_us is the event time in microseconds since the Unix epoch, UTC;
-- patients the JSON array of the entry's patient keys, in its order; body
-- the AuditEvent's exact bytes; hash = SHA-256(prev_hash ‖ canonical
-- entry), see store.AuditCanonical. audit_patient indexes entries by
-- patient key for the citizen's access history; it is derived from
-- patients and not covered by the hash.
--
-- Rows are never updated or deleted: the triggers refuse it. They stop
-- accidents, not an attacker with the database file, whom the hash chain
-- and the signed checkpoints expose instead.

-- +goose Up
CREATE TABLE audit_entry (
    seq       INTEGER PRIMARY KEY,
    at_us     INTEGER NOT NULL,
    patients  TEXT    NOT NULL,
    body      BLOB    NOT NULL,
    prev_hash BLOB    NOT NULL,
    hash      BLOB    NOT NULL
);

CREATE TABLE audit_patient (
    patient_key TEXT    NOT NULL,
    seq         INTEGER NOT NULL,
    PRIMARY KEY (patient_key, seq)
) WITHOUT ROWID;

CREATE TABLE audit_checkpoint (
    seq       INTEGER PRIMARY KEY,
    hash      BLOB    NOT NULL,
    at_us     INTEGER NOT NULL,
    key_id    TEXT    NOT NULL,
    signature BLOB    NOT NULL
);

-- +goose StatementBegin
CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry
BEGIN
    SELECT RAISE(ABORT, 'audit_entry is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry
BEGIN
    SELECT RAISE(ABORT, 'audit_entry is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE ON audit_checkpoint
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoint is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_checkpoint
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoint is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE audit_checkpoint;
DROP TABLE audit_patient;
DROP TABLE audit_entry;
