-- A search whose page is read in resource order and stops after _count
-- matches (a _has or chain probed per resource, sqlsearch/semi.go) walks
-- one type's resources by rid: (type, rid) gives them in that order, so
-- the walk reads only the resources up to the page's last match (the
-- unique rid index would read every type's).

-- +goose Up
CREATE INDEX resource_current_type_rid ON resource_current (type, rid);

-- +goose Down
DROP INDEX resource_current_type_rid;
