-- Full-text search for _text and _content
-- (https://hl7.org/fhir/R4/search.html#text): idx_text holds one row per
-- resource and parameter, the normalised narrative or string content
-- (search.TextRow, at most 64 KB), with a GIN index on its 'simple'
-- tsvector (no stemming or stop words: the text is many languages, and
-- search.Match must agree) and a trigram-free substring fallback for
-- unspaced scripts done by strpos on the row (see search/fulltext.go).

-- +goose Up
CREATE TABLE idx_text (
    rid bigint NOT NULL, res_type text NOT NULL, patient_key text NOT NULL, param text NOT NULL, comb int NOT NULL,
    text text NOT NULL
);
CREATE INDEX idx_text_res ON idx_text (rid, param);
CREATE INDEX idx_text_fts ON idx_text USING gin (to_tsvector('simple', text));

-- +goose Down
DROP TABLE idx_text;
