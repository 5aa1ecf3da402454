-- Groups (parley.GroupStore). Numbered 00200 to stay clear of the core and
-- media migrations. Times are Unix nanoseconds.

-- +goose Up
CREATE TABLE groups (
    id                 TEXT    NOT NULL PRIMARY KEY REFERENCES conversations (id),
    name               TEXT    NOT NULL,
    description        TEXT    NOT NULL,
    icon               TEXT    NOT NULL,
    only_admins_send   INTEGER NOT NULL,
    only_admins_edit   INTEGER NOT NULL,
    created_by         INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,
    -- The community: its own id for a community's announcement group, the
    -- announcement group's id for a sub-group, NULL otherwise.
    community_id       TEXT
) WITHOUT ROWID;
CREATE INDEX groups_community ON groups (community_id);

-- The user-level membership record; changed only together with the
-- conversation's member devices.
CREATE TABLE group_members (
    group_id   TEXT    NOT NULL REFERENCES groups (id),
    user_id    INTEGER NOT NULL,
    role       TEXT    NOT NULL,
    joined_at  INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX group_members_user ON group_members (user_id);

CREATE TABLE group_invitations (
    group_id   TEXT    NOT NULL REFERENCES groups (id),
    user_id    INTEGER NOT NULL,
    invited_by INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX group_invitations_user ON group_invitations (user_id);

-- Users who were members and left or were removed: members still validate
-- their credentials in the group's MLS history (GroupStore.SharesGroup).
CREATE TABLE group_former_members (
    group_id TEXT    NOT NULL REFERENCES groups (id),
    user_id  INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX group_former_members_user ON group_former_members (user_id);

CREATE TABLE group_invite_links (
    id         TEXT    NOT NULL PRIMARY KEY,
    token_hash BLOB    NOT NULL UNIQUE,
    group_id   TEXT    NOT NULL REFERENCES groups (id),
    created_by INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    max_uses   INTEGER NOT NULL,
    uses       INTEGER NOT NULL,
    approve    INTEGER NOT NULL,
    revoked    INTEGER NOT NULL
);
CREATE INDEX group_invite_links_group ON group_invite_links (group_id);

CREATE TABLE group_join_requests (
    group_id   TEXT    NOT NULL REFERENCES groups (id),
    user_id    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;

-- Disappearing-messages timers, per conversation of any kind.
CREATE TABLE chat_timers (
    conversation_id TEXT    NOT NULL PRIMARY KEY REFERENCES conversations (id),
    ttl             INTEGER NOT NULL
) WITHOUT ROWID;

-- "Who can add me to groups"; no row means everyone.
CREATE TABLE group_add_privacy (
    user_id INTEGER NOT NULL PRIMARY KEY,
    add_me  TEXT    NOT NULL
);

-- +goose Down
DROP TABLE group_add_privacy;
DROP TABLE chat_timers;
DROP TABLE group_join_requests;
DROP TABLE group_invite_links;
DROP TABLE group_former_members;
DROP TABLE group_invitations;
DROP TABLE group_members;
DROP TABLE groups;
