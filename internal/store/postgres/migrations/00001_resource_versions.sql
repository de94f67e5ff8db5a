-- The version store: an append-only table of resource versions and a
-- pointer table naming each resource's current version.
--
-- Body is bytea, not jsonb: the store keeps the resource's exact bytes.
-- jsonb would reorder keys, drop duplicate keys and whitespace and normalise
-- number text, so a version read back would not be the version written (and
-- its hash, ETag and signature would change). Searching happens in separate
-- index tables, so nothing needs to query inside the body.
--
-- Citus: every row carries patient_key, the patient compartment it belongs
-- to, so the tables could be distributed by it (create_distributed_table(
-- 'resource_versions', 'patient_key'), colocated with resource_current).
-- That would need: patient_key in both primary keys and in the foreign key
-- (a unique constraint on a distributed table must include the distribution
-- column); callers to know the patient key when reading by type/id (or a
-- small lookup table from type/id to patient_key); resources outside any
-- compartment (patient_key '') kept in reference or per-tenant tables
-- rather than one hot shard; a cluster-wide seq (a sequence on the
-- coordinator) for system history; and moving a resource to another
-- compartment written as a cross-shard delete-and-insert.

-- +goose Up

-- resource_versions holds every version ever written. Rows are appended and
-- never updated; seq (an identity) is the history cursor.
CREATE TABLE resource_versions (
    seq         bigint      GENERATED ALWAYS AS IDENTITY,
    type        text        NOT NULL,
    id          text        NOT NULL,
    version_id  bigint      NOT NULL,
    updated     timestamptz NOT NULL,
    deleted     boolean     NOT NULL,
    method      text        NOT NULL,
    writer      text        NOT NULL,
    patient_key text        NOT NULL,
    body        bytea,
    -- Version lookup, instance history and the _at "later version" probe.
    PRIMARY KEY (type, id, version_id),
    -- System-level history by seq.
    UNIQUE (seq)
);
-- Type-level history by seq.
CREATE INDEX resource_versions_type_seq ON resource_versions (type, seq);

-- +goose StatementBegin
CREATE FUNCTION resource_versions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'resource_versions is append-only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER resource_versions_append_only BEFORE UPDATE ON resource_versions
    FOR EACH ROW EXECUTE FUNCTION resource_versions_append_only();

-- resource_current points at each resource's current version (which may be a
-- delete marker). Put's conditional write is a guarded update of this row.
CREATE TABLE resource_current (
    type        text        NOT NULL,
    id          text        NOT NULL,
    version_id  bigint      NOT NULL,
    updated     timestamptz NOT NULL,
    deleted     boolean     NOT NULL,
    patient_key text        NOT NULL,
    PRIMARY KEY (type, id),
    FOREIGN KEY (type, id, version_id) REFERENCES resource_versions (type, id, version_id)
        DEFERRABLE INITIALLY DEFERRED
);

-- +goose Down
DROP TABLE resource_current;
DROP TABLE resource_versions;
DROP FUNCTION resource_versions_append_only();
