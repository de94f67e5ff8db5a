-- A search whose page is read in resource order and stops after _count
-- matches (a _has or chain probed per resource, sqlsearch/semi.go) walks
-- one type's resources by rid. An index on type alone holds (type, rid)
-- in that order (rid is the rowid), so the walk reads only the resources
-- up to the page's last match; without it SQLite took the type's rows
-- from resource_current_updated and sorted all of them.

-- +goose Up
CREATE INDEX resource_current_type ON resource_current (type);

-- +goose Down
DROP INDEX resource_current_type;
