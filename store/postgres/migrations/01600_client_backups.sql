-- End-to-end encrypted client backups (parley.BackupStore): one per
-- account, ciphertext only. Times are Unix nanoseconds.

-- +goose Up
CREATE TABLE client_backups (
    user_id    bigint NOT NULL PRIMARY KEY,
    device_id  bigint NOT NULL,
    data       bytea  NOT NULL,
    created_at bigint NOT NULL
);

-- +goose Down
DROP TABLE client_backups;
