-- Broadcast lists (client/broadcast): named lists of up to 256 recipients,
-- kept on this device only. recipients is a JSON array of user ids.

-- +goose Up
CREATE TABLE IF NOT EXISTS broadcast_lists (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	recipients TEXT NOT NULL,
	created_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE IF EXISTS broadcast_lists;
