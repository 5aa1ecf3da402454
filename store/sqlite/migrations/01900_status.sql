-- Status posts (parley.StatusStore): 24-hour stories, end-to-end
-- encrypted. The server keeps the sealed post, the media blob's id (the
-- blob itself is in the BlobStore), the audience (who may fetch it) and
-- each audience member's view time (0: not viewed). Times are Unix
-- nanoseconds. docs/decisions/0005-status.md explains the design.

-- +goose Up
CREATE TABLE status_posts (
    id            TEXT    NOT NULL PRIMARY KEY,
    poster        INTEGER NOT NULL,
    poster_device INTEGER NOT NULL,
    client_id     TEXT    NOT NULL,
    key_id        TEXT    NOT NULL,
    ciphertext    BLOB    NOT NULL,
    media_blob    TEXT    NOT NULL,
    media_size    INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    UNIQUE (poster, client_id)
);
CREATE INDEX status_posts_expiry ON status_posts (expires_at);
CREATE INDEX status_posts_poster ON status_posts (poster, created_at);
CREATE TABLE status_audience (
    post_id   TEXT    NOT NULL,
    user_id   INTEGER NOT NULL,
    viewed_at INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (post_id, user_id)
);
CREATE INDEX status_audience_user ON status_audience (user_id, post_id);

-- +goose Down
DROP TABLE status_audience;
DROP TABLE status_posts;
