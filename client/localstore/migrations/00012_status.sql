-- Status (client/status): the status keys this device holds (its user's
-- own and those contacts sent over their 1:1 chats), its status state
-- (the current own key and who has it, the default audience, whether
-- views are shared), muted posters and the posts seen here. The quote of
-- a private reply to a status is kept with the message's extras. Times
-- are Unix milliseconds.

-- +goose Up
CREATE TABLE status_keys (
	poster INTEGER NOT NULL,
	key_id TEXT NOT NULL,
	key BLOB NOT NULL,
	received_at INTEGER NOT NULL,
	PRIMARY KEY (poster, key_id)
);
CREATE TABLE status_state (
	name TEXT PRIMARY KEY,
	value BLOB NOT NULL
);
CREATE TABLE status_mutes (
	user_id INTEGER PRIMARY KEY
);
CREATE TABLE status_seen (
	post_id TEXT PRIMARY KEY,
	seen_at INTEGER NOT NULL
);
ALTER TABLE message_extras ADD COLUMN status TEXT;

-- +goose Down
ALTER TABLE message_extras DROP COLUMN status;
DROP TABLE status_seen;
DROP TABLE status_mutes;
DROP TABLE status_state;
DROP TABLE status_keys;
