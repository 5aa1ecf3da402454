-- The operator's admin API (package admin): account suspension and the
-- append-only audit log of admin actions.

-- +goose Up
ALTER TABLE users ADD COLUMN suspended_at INTEGER NOT NULL DEFAULT 0;

CREATE TABLE admin_audit (
    id      INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    actor   TEXT    NOT NULL,
    action  TEXT    NOT NULL,
    target  TEXT    NOT NULL,
    detail  TEXT
);

-- +goose Down
DROP TABLE admin_audit;
ALTER TABLE users DROP COLUMN suspended_at;
