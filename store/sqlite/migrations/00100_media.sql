-- Media blob records (parley.MediaStore). Numbered 00100 to stay clear of the
-- core schema's migrations. Times are Unix nanoseconds, 0 for the zero time.

-- +goose Up
-- completed_at = 0 while the upload is in progress.
CREATE TABLE media_blobs (
    id              TEXT    NOT NULL PRIMARY KEY,
    owner_id        INTEGER NOT NULL,
    owner_device    INTEGER NOT NULL,
    size            INTEGER NOT NULL,
    capability_hash BLOB    NOT NULL,
    created_at      INTEGER NOT NULL,
    completed_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX media_blobs_owner ON media_blobs (owner_id);
CREATE INDEX media_blobs_created ON media_blobs (created_at);

-- The conversations whose member devices may fetch a blob.
CREATE TABLE media_links (
    blob_id         TEXT NOT NULL REFERENCES media_blobs (id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL,
    PRIMARY KEY (blob_id, conversation_id)
) WITHOUT ROWID;

-- The envelopes that reference a blob: it is kept while one is undelivered.
CREATE TABLE media_refs (
    blob_id         TEXT    NOT NULL REFERENCES media_blobs (id) ON DELETE CASCADE,
    conversation_id TEXT    NOT NULL,
    seq             INTEGER NOT NULL,
    PRIMARY KEY (blob_id, conversation_id, seq)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE media_refs;
DROP TABLE media_links;
DROP TABLE media_blobs;
