-- The audit journal (store.AuditLog): entries in a hash chain, an index of
-- them by patient, and the signed checkpoints over the chain.
--
-- audit_entry holds one row per entry. seq is the chain position, 1, 2, 3 …
-- without gaps, assigned as the head's seq + 1 while the transaction holds
-- the journal's advisory lock (not from a sequence, which a rolled-back
-- transaction would leave a gap in). at_us is the event time in
-- microseconds since the Unix epoch, UTC; patients the entry's patient keys
-- in its order; body the AuditEvent's exact bytes; hash = SHA-256(prev_hash
-- ‖ canonical entry), see store.AuditCanonical. audit_patient indexes
-- entries by patient key for the citizen's access history; it is derived
-- from patients and not covered by the hash.
--
-- Sharding by patient (Citus): every row carries its patient keys, but the
-- chain is global — one head, one lock. A sharded journal would keep one
-- chain per shard (seq and the head lock per shard, an entry about several
-- patients written to the shard of its first patient and indexed in the
-- others' audit_patient), with checkpoints per shard.
--
-- Rows are never updated or deleted: the triggers refuse it (TRUNCATE
-- too). They stop accidents, not an attacker with the database, whom the
-- hash chain and the signed checkpoints expose instead.

-- +goose Up
CREATE TABLE audit_entry (
    seq       bigint PRIMARY KEY,
    at_us     bigint NOT NULL,
    patients  text[] NOT NULL,
    body      bytea  NOT NULL,
    prev_hash bytea  NOT NULL,
    hash      bytea  NOT NULL
);

CREATE TABLE audit_patient (
    patient_key text COLLATE "C" NOT NULL,
    seq         bigint           NOT NULL,
    PRIMARY KEY (patient_key, seq)
);

CREATE TABLE audit_checkpoint (
    seq       bigint PRIMARY KEY,
    hash      bytea  NOT NULL,
    at_us     bigint NOT NULL,
    key_id    text   NOT NULL,
    signature bytea  NOT NULL
);

-- +goose StatementBegin
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_entry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_checkpoint
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

-- +goose Down
DROP TABLE audit_checkpoint;
DROP TABLE audit_patient;
DROP TABLE audit_entry;
DROP FUNCTION audit_append_only();
