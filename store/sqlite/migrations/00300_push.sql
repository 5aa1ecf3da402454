-- Web Push (parley.PushStore, package push). Numbered 00300 to stay clear of
-- the core, media and group migrations. Times are Unix nanoseconds.

-- +goose Up
-- The server's VAPID key pair (RFC 8292), generated on first start.
CREATE TABLE push_vapid (
    id         INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    private    BLOB    NOT NULL,
    public     BLOB    NOT NULL,
    created_at INTEGER NOT NULL
);

-- Browser push subscriptions (RFC 8030 endpoints, RFC 8291 keys), one
-- device each.
CREATE TABLE push_subscriptions (
    endpoint   TEXT    NOT NULL PRIMARY KEY,
    device_id  INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    p256dh     BLOB    NOT NULL,
    auth       BLOB    NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX push_subscriptions_device ON push_subscriptions (device_id);

-- +goose Down
DROP TABLE push_subscriptions;
DROP TABLE push_vapid;
