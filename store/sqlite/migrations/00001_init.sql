-- Parley's schema on SQLite. Times are Unix nanoseconds (INTEGER), 0 for the
-- zero time. Booleans are 0/1.

-- +goose Up
CREATE TABLE verifications (
    phone      TEXT    NOT NULL PRIMARY KEY,
    code_hash  BLOB    NOT NULL,
    name       TEXT    NOT NULL,
    attempts   INTEGER NOT NULL,
    sent       INTEGER NOT NULL,
    window_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

-- AUTOINCREMENT: user and device IDs are never reused.
CREATE TABLE users (
    id              INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    phone           TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    username        TEXT,            -- as chosen; NULL when none
    username_key    TEXT,            -- lower-cased username, computed by the store
    find_by_phone   TEXT    NOT NULL,
    last_seen_vis   TEXT    NOT NULL,
    pin_hash        BLOB,
    created_at      INTEGER NOT NULL,
    last_seen_at    INTEGER NOT NULL,
    CONSTRAINT users_phone_key UNIQUE (phone),
    CONSTRAINT users_username_key UNIQUE (username_key)
);

CREATE TABLE devices (
    id           INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    name         TEXT    NOT NULL,
    is_primary   INTEGER NOT NULL,
    secret_hash  BLOB    NOT NULL,
    identity_key BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER NOT NULL
);
CREATE INDEX devices_user ON devices (user_id, id);

CREATE TABLE link_codes (
    code_hash  BLOB    NOT NULL PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE contacts (
    owner_id   INTEGER NOT NULL,
    contact_id INTEGER NOT NULL,
    PRIMARY KEY (owner_id, contact_id)
) WITHOUT ROWID;

CREATE TABLE blocks (
    blocker_id INTEGER NOT NULL,
    blocked_id INTEGER NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
) WITHOUT ROWID;

-- id orders one-time KeyPackages oldest first.
CREATE TABLE key_packages (
    id          INTEGER NOT NULL PRIMARY KEY,
    device_id   INTEGER NOT NULL,
    last_resort INTEGER NOT NULL,
    ref         BLOB    NOT NULL,
    data        BLOB    NOT NULL
);
CREATE INDEX key_packages_device ON key_packages (device_id, last_resort, id);

-- num is a compact internal key for the log, so that the envelope indexes
-- hold an integer rather than the 27-character ID. direct_lo/direct_hi are
-- the two users of a direct conversation (equal for a note to self); NULL for
-- groups. pruned_seq: every envelope with seq <= pruned_seq has been deleted
-- (lets Prune skip settled conversations).
CREATE TABLE conversations (
    num         INTEGER NOT NULL PRIMARY KEY,
    id          TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    epoch       INTEGER NOT NULL,
    last_seq    INTEGER NOT NULL,
    pruned_seq  INTEGER NOT NULL DEFAULT 0,
    group_info  BLOB,
    created_by  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    direct_lo   INTEGER,
    direct_hi   INTEGER,
    CONSTRAINT conversations_id_key UNIQUE (id),
    CONSTRAINT conversations_direct_key UNIQUE (direct_lo, direct_hi)
);

-- cursor starts at from_seq: a device never needs envelopes from before it joined.
CREATE TABLE members (
    conversation_id TEXT    NOT NULL REFERENCES conversations (id),
    device_id       INTEGER NOT NULL,
    user_id         INTEGER NOT NULL,
    from_seq        INTEGER NOT NULL,
    cursor          INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, device_id)
) WITHOUT ROWID;
CREATE INDEX members_device ON members (device_id);
CREATE INDEX members_user ON members (user_id);

-- The log. A rowid table (payloads are large; appends stay at the end of the
-- file) with the (conversation, seq) key as a unique index; client_id ''
-- means "no idempotency key". recipients: NULL for every member, else the
-- device IDs as uvarints.
CREATE TABLE envelopes (
    conv            INTEGER NOT NULL REFERENCES conversations (num),
    seq             INTEGER NOT NULL,
    sender          INTEGER NOT NULL,
    sender_device   INTEGER NOT NULL,
    client_id       TEXT    NOT NULL,
    kind            INTEGER NOT NULL,
    epoch           INTEGER NOT NULL,
    recipients      BLOB,
    payload         BLOB    NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX envelopes_seq ON envelopes (conv, seq);
CREATE UNIQUE INDEX envelopes_client ON envelopes (conv, sender_device, client_id) WHERE client_id <> '';
CREATE INDEX envelopes_created ON envelopes (created_at);

CREATE TABLE read_marks (
    conversation_id TEXT    NOT NULL REFERENCES conversations (id),
    user_id         INTEGER NOT NULL,
    seq             INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE read_marks;
DROP TABLE envelopes;
DROP TABLE members;
DROP TABLE conversations;
DROP TABLE key_packages;
DROP TABLE blocks;
DROP TABLE contacts;
DROP TABLE link_codes;
DROP TABLE devices;
DROP TABLE users;
DROP TABLE verifications;
