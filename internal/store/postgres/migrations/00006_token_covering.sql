-- The token value index covers what a count reads: a count of a code
-- (Observation?code=X&_summary=count) starts from the code's index rows
-- and checks the access predicate on their patient key (sqlsearch
-- countSQL), so with rid and patient_key in the index it is one
-- index-only range scan instead of a heap fetch per match.

-- +goose Up
CREATE INDEX idx_token_code_cov ON idx_token (res_type, param, code, system) INCLUDE (patient_key, rid);
DROP INDEX idx_token_code;
ALTER INDEX idx_token_code_cov RENAME TO idx_token_code;

-- +goose Down
CREATE INDEX idx_token_code_plain ON idx_token (res_type, param, code, system);
DROP INDEX idx_token_code;
ALTER INDEX idx_token_code_plain RENAME TO idx_token_code;
