-- Retention finds expired envelopes by a binary search over rowids (they
-- grow with appends, as created_at does), so the log no longer keeps an
-- index on created_at, which cost every append a B-tree insert.

-- +goose Up
DROP INDEX envelopes_created;

-- +goose Down
CREATE INDEX envelopes_created ON envelopes (created_at);
