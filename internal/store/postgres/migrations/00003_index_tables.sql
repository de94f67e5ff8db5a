-- Fewer search index B-trees: every index row was inserted into six to
-- eight of them. Dropped as unused by the search SQL (EXPLAIN over the
-- conformance suite): idx_token_sys (a system-only token search reads
-- idx_token_code's (res_type, param) prefix), and idx_ref_src, folded into
-- idx_ref_target, which now leads with target_id so it serves reference
-- searches with or without a type, chains probed from the target, and
-- _revinclude, wildcard or not. URL and identifier searches use the
-- partial indexes (the search SQL states url <> '' and ident_value <> '').

-- +goose Up
DROP INDEX idx_token_sys;
DROP INDEX idx_ref_src;
DROP INDEX idx_ref_target;
CREATE INDEX idx_ref_target ON idx_reference (target_id, target_type, res_type, param);

-- +goose Down
DROP INDEX idx_ref_target;
CREATE INDEX idx_ref_target ON idx_reference (target_type, target_id, param, res_type);
CREATE INDEX idx_ref_src    ON idx_reference (res_type, param, target_type, target_id);
CREATE INDEX idx_token_sys  ON idx_token (res_type, param, system);
