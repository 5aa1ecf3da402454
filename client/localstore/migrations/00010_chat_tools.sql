-- The device-local chat tools (store_tools.go): starred messages, the
-- members' receipt positions (for "Message info") and the chat marks
-- (muted until, marked unread). Times are Unix milliseconds.

-- +goose Up
CREATE TABLE stars (
	conversation TEXT NOT NULL,
	seq INTEGER NOT NULL,
	starred_at INTEGER NOT NULL,
	PRIMARY KEY (conversation, seq)
);
-- One row per receipt position a member reached (kind 1 delivered, 2
-- read), with the earliest time it was seen: a message's delivered (read)
-- time for a member is the earliest position at or past its seq.
CREATE TABLE member_receipts (
	conversation TEXT NOT NULL,
	user_id INTEGER NOT NULL,
	kind INTEGER NOT NULL,
	seq INTEGER NOT NULL,
	at INTEGER NOT NULL,
	PRIMARY KEY (conversation, user_id, kind, seq)
);
CREATE TABLE chat_marks (
	conversation TEXT PRIMARY KEY,
	muted_until INTEGER NOT NULL DEFAULT 0,
	unread INTEGER NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE chat_marks;
DROP TABLE member_receipts;
DROP TABLE stars;
