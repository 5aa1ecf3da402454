-- MLS ratchet trees kept out of band for large groups (parley.TreeStore).
-- Times are Unix nanoseconds.

-- +goose Up
-- An uploaded tree; bound to an epoch by the commit starting it.
CREATE TABLE mls_trees (
    ref             TEXT    NOT NULL PRIMARY KEY,
    conversation_id TEXT    NOT NULL,
    device_id       INTEGER NOT NULL,
    data            BLOB    NOT NULL,
    created_at      INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX mls_trees_created ON mls_trees (created_at);

-- Which tree belongs to which epoch of a conversation.
CREATE TABLE mls_tree_epochs (
    conversation_id TEXT    NOT NULL,
    epoch           INTEGER NOT NULL,
    ref             TEXT    NOT NULL REFERENCES mls_trees (ref) ON DELETE CASCADE,
    PRIMARY KEY (conversation_id, epoch)
) WITHOUT ROWID;
CREATE INDEX mls_tree_epochs_ref ON mls_tree_epochs (ref);

-- Commits too large for a frame, uploaded like trees (into mls_trees) and
-- named by the commit of that epoch (the epoch the commit was made in).
CREATE TABLE mls_commit_epochs (
    conversation_id TEXT    NOT NULL,
    epoch           INTEGER NOT NULL,
    ref             TEXT    NOT NULL REFERENCES mls_trees (ref) ON DELETE CASCADE,
    PRIMARY KEY (conversation_id, epoch)
) WITHOUT ROWID;
CREATE INDEX mls_commit_epochs_ref ON mls_commit_epochs (ref);

-- +goose Down
DROP TABLE mls_commit_epochs;
DROP TABLE mls_tree_epochs;
DROP TABLE mls_trees;
