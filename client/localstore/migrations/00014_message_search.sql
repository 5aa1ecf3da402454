-- Full-text search of messages (search.go): an FTS5 index of each
-- message's text and file name, folded to lower case without diacritics
-- (unicode61, remove_diacritics 2), kept in step with messages by
-- triggers, so every write path indexes what it writes. The index is keyed
-- by the messages' rowid, which stays put (the store never VACUUMs; a
-- VACUUM would need this index rebuilt). Queries are word-prefix queries
-- ("word"* AND …); which messages are hits (sent or received, not
-- deleted) is decided by the query's join with messages.

-- +goose Up
CREATE VIRTUAL TABLE message_search USING fts5(
	body,
	content = '',
	contentless_delete = 1,
	tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO message_search (rowid, body)
	SELECT rowid, text || ' ' || COALESCE(CASE WHEN json_valid(CAST(media AS TEXT)) THEN json_extract(CAST(media AS TEXT), '$.name') END, '')
	FROM messages;
-- +goose StatementBegin
CREATE TRIGGER message_search_insert AFTER INSERT ON messages BEGIN
	INSERT INTO message_search (rowid, body) VALUES (new.rowid,
		new.text || ' ' || COALESCE(CASE WHEN json_valid(CAST(new.media AS TEXT)) THEN json_extract(CAST(new.media AS TEXT), '$.name') END, ''));
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER message_search_update AFTER UPDATE OF text, media ON messages BEGIN
	DELETE FROM message_search WHERE rowid = old.rowid;
	INSERT INTO message_search (rowid, body) VALUES (new.rowid,
		new.text || ' ' || COALESCE(CASE WHEN json_valid(CAST(new.media AS TEXT)) THEN json_extract(CAST(new.media AS TEXT), '$.name') END, ''));
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER message_search_delete AFTER DELETE ON messages BEGIN
	DELETE FROM message_search WHERE rowid = old.rowid;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER message_search_delete;
DROP TRIGGER message_search_update;
DROP TRIGGER message_search_insert;
DROP TABLE message_search;
