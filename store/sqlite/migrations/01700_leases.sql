-- Leases (parley.LeaseStore): which node runs a task, e.g. a hosted
-- business endpoint, until when. Times are Unix nanoseconds.

-- +goose Up
CREATE TABLE leases (
    name       TEXT    NOT NULL PRIMARY KEY,
    holder     TEXT    NOT NULL,
    addr       TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE leases;
