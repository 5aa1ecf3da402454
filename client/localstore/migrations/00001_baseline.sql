-- The client's local store on SQLite, as it was when its schema moved to
-- migrations. Every statement is IF NOT EXISTS: a profile created before
-- (by the client's old ad-hoc schema code) already has these tables and
-- keeps its data; 00002 then adds the columns such a profile may lack.
-- Times are Unix milliseconds (INTEGER). Booleans are 0/1.

-- +goose Up
CREATE TABLE IF NOT EXISTS account (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	data BLOB NOT NULL -- JSON Account (secrets sealed in a sealed store)
);
CREATE TABLE IF NOT EXISTS key_packages (
	ref BLOB PRIMARY KEY,
	private BLOB NOT NULL,
	last_resort INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS chats (
	id TEXT PRIMARY KEY,
	kind TEXT NOT NULL,
	peer INTEGER NOT NULL,
	title TEXT NOT NULL,
	cursor INTEGER NOT NULL DEFAULT 0,
	epoch INTEGER NOT NULL DEFAULT 0,
	grp BLOB, -- MLS group state (sealed in a sealed store)
	updated_at INTEGER NOT NULL,
	muted INTEGER NOT NULL DEFAULT 0,
	pinned INTEGER NOT NULL DEFAULT 0,
	archived INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS messages (
	conversation TEXT NOT NULL,
	seq INTEGER NOT NULL,
	client_id TEXT NOT NULL,
	sender INTEGER NOT NULL,
	sender_device INTEGER NOT NULL,
	outgoing INTEGER NOT NULL,
	kind TEXT NOT NULL,
	text TEXT NOT NULL,
	sent_at INTEGER NOT NULL,
	stored_at INTEGER NOT NULL,
	status TEXT NOT NULL,
	payload BLOB,
	epoch INTEGER NOT NULL DEFAULT 0,
	media BLOB, -- JSON attachment.Descriptor
	forwarded INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (conversation, sender_device, client_id)
);
CREATE INDEX IF NOT EXISTS messages_seq ON messages (conversation, seq);
CREATE TABLE IF NOT EXISTS contacts (
	user_id INTEGER PRIMARY KEY,
	data BLOB NOT NULL -- JSON Contact
);

-- The message kinds. Extras are keyed like messages (sender device, client
-- id), so they can be written before a message's seq is known; reactions,
-- edits and votes are keyed by the target's seq and record the seq of the
-- control message that set them (later ones win: log order).
CREATE TABLE IF NOT EXISTS message_extras (
	conversation TEXT NOT NULL,
	sender_device INTEGER NOT NULL,
	client_id TEXT NOT NULL,
	reply_to INTEGER NOT NULL DEFAULT 0,
	mentions TEXT NOT NULL DEFAULT '[]',
	everyone INTEGER NOT NULL DEFAULT 0,
	poll TEXT,
	PRIMARY KEY (conversation, sender_device, client_id)
);
CREATE TABLE IF NOT EXISTS message_changes (
	conversation TEXT NOT NULL,
	seq INTEGER NOT NULL,
	edited_at INTEGER NOT NULL DEFAULT 0,
	edit_seq INTEGER NOT NULL DEFAULT 0,
	deleted_by INTEGER NOT NULL DEFAULT 0,
	deleted_admin INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (conversation, seq)
);
CREATE TABLE IF NOT EXISTS reactions (
	conversation TEXT NOT NULL,
	seq INTEGER NOT NULL,
	user_id INTEGER NOT NULL,
	emoji TEXT NOT NULL,
	at_seq INTEGER NOT NULL,
	PRIMARY KEY (conversation, seq, user_id)
);
CREATE TABLE IF NOT EXISTS chat_timers (
	conversation TEXT PRIMARY KEY,
	ttl_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS poll_votes (
	conversation TEXT NOT NULL,
	seq INTEGER NOT NULL,
	user_id INTEGER NOT NULL,
	choices TEXT NOT NULL,
	at_seq INTEGER NOT NULL,
	PRIMARY KEY (conversation, seq, user_id)
);

-- Business content, keyed like messages, written with the message's
-- extras before its seq is known; and when each auto reply last went out.
CREATE TABLE IF NOT EXISTS message_business (
	conversation TEXT NOT NULL,
	sender_device INTEGER NOT NULL,
	client_id TEXT NOT NULL,
	content TEXT NOT NULL, -- JSON content.BusinessContent
	PRIMARY KEY (conversation, sender_device, client_id)
);
CREATE TABLE IF NOT EXISTS business_auto_replies (
	conversation TEXT NOT NULL,
	what TEXT NOT NULL,
	at INTEGER NOT NULL,
	PRIMARY KEY (conversation, what)
);
