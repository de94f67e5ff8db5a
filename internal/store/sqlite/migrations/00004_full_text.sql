-- Full-text search for _text and _content
-- (https://hl7.org/fhir/R4/search.html#text): idx_text holds one row per
-- resource and parameter, the normalised narrative or string content
-- (search.TextRow, at most 64 KB). idx_text_fts is an external-content
-- FTS5 index over it, kept in step by triggers, so the text is stored once
-- and the index rows are written and deleted like every other table's.
-- unicode61 (the default tokenizer) splits words as search.TextWords does.

-- +goose Up
CREATE TABLE idx_text (
    rid INTEGER NOT NULL, res_type TEXT NOT NULL, patient_key TEXT NOT NULL, param TEXT NOT NULL, comb INTEGER NOT NULL, n INTEGER NOT NULL,
    text TEXT NOT NULL,
    UNIQUE (rid, param, n)
);
CREATE VIRTUAL TABLE idx_text_fts USING fts5 (text, content = 'idx_text', content_rowid = 'rowid');
-- +goose StatementBegin
CREATE TRIGGER idx_text_ins AFTER INSERT ON idx_text BEGIN
    INSERT INTO idx_text_fts (rowid, text) VALUES (new.rowid, new.text);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER idx_text_del AFTER DELETE ON idx_text BEGIN
    INSERT INTO idx_text_fts (idx_text_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER idx_text_del;
DROP TRIGGER idx_text_ins;
DROP TABLE idx_text_fts;
DROP TABLE idx_text;
