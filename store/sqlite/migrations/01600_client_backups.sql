-- End-to-end encrypted client backups (parley.BackupStore): one per
-- account, ciphertext only. Times are Unix nanoseconds.

-- +goose Up
CREATE TABLE client_backups (
    user_id    INTEGER NOT NULL PRIMARY KEY,
    device_id  INTEGER NOT NULL,
    data       BLOB    NOT NULL,
    created_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE client_backups;
