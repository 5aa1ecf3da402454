-- Parley's schema on PostgreSQL. Times are Unix nanoseconds (bigint), 0 for
-- the zero time, so they round-trip exactly as on SQLite.

-- +goose Up
CREATE TABLE verifications (
    phone      text    NOT NULL PRIMARY KEY,
    code_hash  bytea   NOT NULL,
    name       text    NOT NULL,
    attempts   integer NOT NULL,
    sent       integer NOT NULL,
    window_at  bigint  NOT NULL,
    expires_at bigint  NOT NULL
);

CREATE TABLE users (
    id            bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    phone         text    NOT NULL,
    name          text    NOT NULL,
    username      text,            -- as chosen; NULL when none
    username_key  text,            -- lower-cased username, computed by the store
    find_by_phone text    NOT NULL,
    last_seen_vis text    NOT NULL,
    pin_hash      bytea,
    created_at    bigint  NOT NULL,
    last_seen_at  bigint  NOT NULL,
    CONSTRAINT users_phone_key UNIQUE (phone),
    CONSTRAINT users_username_key UNIQUE (username_key)
);

CREATE TABLE devices (
    id           bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint  NOT NULL REFERENCES users (id),
    name         text    NOT NULL,
    is_primary   boolean NOT NULL,
    secret_hash  bytea   NOT NULL,
    identity_key bytea   NOT NULL,
    created_at   bigint  NOT NULL,
    revoked_at   bigint  NOT NULL
);
CREATE INDEX devices_user ON devices (user_id, id);

CREATE TABLE link_codes (
    code_hash  bytea  NOT NULL PRIMARY KEY,
    user_id    bigint NOT NULL,
    expires_at bigint NOT NULL
);

CREATE TABLE contacts (
    owner_id   bigint NOT NULL,
    contact_id bigint NOT NULL,
    PRIMARY KEY (owner_id, contact_id)
);

CREATE TABLE blocks (
    blocker_id bigint NOT NULL,
    blocked_id bigint NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);

-- id orders one-time KeyPackages oldest first.
CREATE TABLE key_packages (
    id          bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id   bigint  NOT NULL,
    last_resort boolean NOT NULL,
    ref         bytea   NOT NULL,
    data        bytea   NOT NULL
);
CREATE INDEX key_packages_device ON key_packages (device_id, last_resort, id);

-- The conversation row is the lock that serialises Seq assignment and
-- commits of one conversation. direct_lo/direct_hi: the two users of a
-- direct conversation. pruned_seq: every envelope with seq <= pruned_seq has
-- been deleted.
CREATE TABLE conversations (
    id          text    NOT NULL PRIMARY KEY,
    kind        text    NOT NULL,
    epoch       bigint  NOT NULL,
    last_seq    bigint  NOT NULL,
    pruned_seq  bigint  NOT NULL DEFAULT 0,
    group_info  bytea,
    created_by  bigint  NOT NULL,
    created_at  bigint  NOT NULL,
    direct_lo   bigint,
    direct_hi   bigint,
    CONSTRAINT conversations_direct_key UNIQUE (direct_lo, direct_hi)
);

CREATE TABLE members (
    conversation_id text   NOT NULL REFERENCES conversations (id),
    device_id       bigint NOT NULL,
    user_id         bigint NOT NULL,
    from_seq        bigint NOT NULL,
    cursor          bigint NOT NULL,
    PRIMARY KEY (conversation_id, device_id)
);
CREATE INDEX members_device ON members (device_id);
CREATE INDEX members_user ON members (user_id);

-- The log, keyed (conversation, seq). client_id '' means "no idempotency
-- key". recipients: NULL for every member, else the device IDs as uvarints.
CREATE TABLE envelopes (
    conversation_id text     NOT NULL REFERENCES conversations (id),
    seq             bigint   NOT NULL,
    sender          bigint   NOT NULL,
    sender_device   bigint   NOT NULL,
    client_id       text     NOT NULL,
    kind            smallint NOT NULL,
    epoch           bigint   NOT NULL,
    recipients      bytea,
    payload         bytea    NOT NULL,
    created_at      bigint   NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);
CREATE UNIQUE INDEX envelopes_client ON envelopes (conversation_id, sender_device, client_id) WHERE client_id <> '';
CREATE INDEX envelopes_created ON envelopes (created_at);

CREATE TABLE read_marks (
    conversation_id text   NOT NULL REFERENCES conversations (id),
    user_id         bigint NOT NULL,
    seq             bigint NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);

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
