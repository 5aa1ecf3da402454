-- Business webhooks (parley.WebhookStore) and insights (parley.InsightsStore).
-- Times are Unix nanoseconds, 0 for the zero time.

-- +goose Up
CREATE TABLE webhook_configs (
    business_id  INTEGER NOT NULL PRIMARY KEY,
    callback_url TEXT    NOT NULL,
    verify_token TEXT    NOT NULL,
    app_secret   TEXT    NOT NULL,
    verified_at  INTEGER NOT NULL
);

-- The outbox: a row per undelivered event; delivered rows are deleted.
-- dead = 1 once retries ran out (the dead letters).
CREATE TABLE webhook_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    business_id     INTEGER NOT NULL,
    phone_number_id TEXT    NOT NULL,
    order_key       TEXT    NOT NULL,
    field           TEXT    NOT NULL,
    value           BLOB    NOT NULL,
    dead            INTEGER NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_at         INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    last_error      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX webhook_outbox_key ON webhook_outbox (business_id, order_key, dead, id);
CREATE INDEX webhook_outbox_due ON webhook_outbox (dead, next_at);

-- One row per (business, message, status): the dedupe key and the source
-- of every count.
CREATE TABLE insights_events (
    business_id INTEGER NOT NULL,
    message_id  TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    customer    TEXT    NOT NULL,
    template    TEXT    NOT NULL,
    category    TEXT    NOT NULL,
    campaign    TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (business_id, message_id, status)
) WITHOUT ROWID;
CREATE INDEX insights_events_at ON insights_events (business_id, at);

-- The first unanswered inbound message per customer.
CREATE TABLE insights_waiting (
    business_id INTEGER NOT NULL,
    customer    TEXT    NOT NULL,
    inbound_at  INTEGER NOT NULL,
    PRIMARY KEY (business_id, customer)
) WITHOUT ROWID;

CREATE TABLE insights_responses (
    business_id INTEGER NOT NULL,
    customer    TEXT    NOT NULL,
    inbound_at  INTEGER NOT NULL,
    sent_at     INTEGER NOT NULL
);
CREATE INDEX insights_responses_at ON insights_responses (business_id, sent_at);

-- Events per status of all businesses (for /metrics without a scan).
CREATE TABLE insights_status_totals (
    status TEXT    NOT NULL PRIMARY KEY,
    n      INTEGER NOT NULL
);

-- +goose Down
DROP TABLE insights_status_totals;
DROP TABLE insights_responses;
DROP TABLE insights_waiting;
DROP TABLE insights_events;
DROP TABLE webhook_outbox;
DROP TABLE webhook_configs;
