-- The store writes a text row's full-text entry itself, right after the
-- row (index.go), instead of the idx_text_ins trigger: a statement that
-- fires a trigger runs in a statement transaction, and each one opened
-- makes FTS5 flush its pending terms to a new segment on disk, so the
-- index was written a row at a time and merged for ever after. Written by
-- plain single-row statements, FTS5 keeps a transaction's terms in memory
-- and writes them once, at commit. Deletes still go through idx_text_del.

-- +goose Up
DROP TRIGGER idx_text_ins;

-- +goose Down
-- +goose StatementBegin
CREATE TRIGGER idx_text_ins AFTER INSERT ON idx_text BEGIN
    INSERT INTO idx_text_fts (rowid, text) VALUES (new.rowid, new.text);
END;
-- +goose StatementEnd
