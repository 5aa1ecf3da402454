-- MLS ratchet trees kept out of band for large groups (parley.TreeStore).
-- Times are Unix nanoseconds.

-- +goose Up
-- An uploaded tree; bound to an epoch by the commit starting it.
CREATE TABLE mls_trees (
    ref             text   NOT NULL PRIMARY KEY,
    conversation_id text   NOT NULL,
    device_id       bigint NOT NULL,
    data            bytea  NOT NULL,
    created_at      bigint NOT NULL
);
CREATE INDEX mls_trees_created ON mls_trees (created_at);

-- Which tree belongs to which epoch of a conversation.
CREATE TABLE mls_tree_epochs (
    conversation_id text   NOT NULL,
    epoch           bigint NOT NULL,
    ref             text   NOT NULL REFERENCES mls_trees (ref) ON DELETE CASCADE,
    PRIMARY KEY (conversation_id, epoch)
);
CREATE INDEX mls_tree_epochs_ref ON mls_tree_epochs (ref);

-- Commits too large for a frame, uploaded like trees (into mls_trees) and
-- named by the commit of that epoch (the epoch the commit was made in).
CREATE TABLE mls_commit_epochs (
    conversation_id text    NOT NULL,
    epoch           bigint  NOT NULL,
    ref             text    NOT NULL REFERENCES mls_trees (ref) ON DELETE CASCADE,
    PRIMARY KEY (conversation_id, epoch)
);
CREATE INDEX mls_commit_epochs_ref ON mls_commit_epochs (ref);

-- +goose Down
DROP TABLE mls_commit_epochs;
DROP TABLE mls_tree_epochs;
DROP TABLE mls_trees;
