-- Leases (parley.LeaseStore): which node runs a task, e.g. a hosted
-- business endpoint, until when. Times are Unix nanoseconds.

-- +goose Up
CREATE TABLE leases (
    name       text   NOT NULL PRIMARY KEY,
    holder     text   NOT NULL,
    addr       text   NOT NULL,
    expires_at bigint NOT NULL
);

-- +goose Down
DROP TABLE leases;
