-- resource_current records the writer of the current version (the
-- provider or client that deposited it), so an access predicate can show a
-- provider what it deposited (store.Access.Writers) inside the query.

-- +goose Up
ALTER TABLE resource_current ADD COLUMN writer TEXT NOT NULL DEFAULT '';
UPDATE resource_current SET writer = (SELECT v.writer FROM resource_versions v
    WHERE v.type = resource_current.type AND v.id = resource_current.id AND v.version_id = resource_current.version_id);
CREATE INDEX resource_current_writer ON resource_current (writer, rid);

-- +goose Down
DROP INDEX resource_current_writer;
ALTER TABLE resource_current DROP COLUMN writer;
