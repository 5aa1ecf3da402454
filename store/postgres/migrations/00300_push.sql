-- Web Push (parley.PushStore, package push). Numbered 00300 to stay clear of
-- the core, media and group migrations. Times are Unix nanoseconds.

-- +goose Up
-- The server's VAPID key pair (RFC 8292), generated on first start.
CREATE TABLE push_vapid (
    id         integer NOT NULL PRIMARY KEY CHECK (id = 1),
    private    bytea   NOT NULL,
    public     bytea   NOT NULL,
    created_at bigint  NOT NULL
);

-- Browser push subscriptions (RFC 8030 endpoints, RFC 8291 keys), one
-- device each.
CREATE TABLE push_subscriptions (
    endpoint   text   NOT NULL PRIMARY KEY,
    device_id  bigint NOT NULL,
    user_id    bigint NOT NULL,
    p256dh     bytea  NOT NULL,
    auth       bytea  NOT NULL,
    created_at bigint NOT NULL
);
CREATE INDEX push_subscriptions_device ON push_subscriptions (device_id);

-- +goose Down
DROP TABLE push_subscriptions;
DROP TABLE push_vapid;
