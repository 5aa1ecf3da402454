-- Business webhooks (parley.WebhookStore) and insights (parley.InsightsStore).
-- Times are Unix nanoseconds, 0 for the zero time.

-- +goose Up
CREATE TABLE webhook_configs (
    business_id  bigint  NOT NULL PRIMARY KEY,
    callback_url text    NOT NULL,
    verify_token text    NOT NULL,
    app_secret   text    NOT NULL,
    verified_at  bigint  NOT NULL
);

-- The outbox: a row per undelivered event; delivered rows are deleted.
-- dead = true once retries ran out (the dead letters).
CREATE TABLE webhook_outbox (
    id              bigserial PRIMARY KEY,
    business_id     bigint  NOT NULL,
    phone_number_id text    NOT NULL,
    order_key       text    NOT NULL,
    field           text    NOT NULL,
    value           bytea   NOT NULL,
    dead            boolean NOT NULL DEFAULT false,
    attempts        bigint  NOT NULL DEFAULT 0,
    next_at         bigint  NOT NULL,
    created_at      bigint  NOT NULL,
    last_error      text    NOT NULL DEFAULT ''
);
CREATE INDEX webhook_outbox_key ON webhook_outbox (business_id, order_key, dead, id);
CREATE INDEX webhook_outbox_due ON webhook_outbox (dead, next_at);

-- One row per (business, message, status): the dedupe key and the source
-- of every count.
CREATE TABLE insights_events (
    business_id bigint  NOT NULL,
    message_id  text    NOT NULL,
    status      text    NOT NULL,
    customer    text    NOT NULL,
    template    text    NOT NULL,
    category    text    NOT NULL,
    campaign    text    NOT NULL,
    at          bigint  NOT NULL,
    PRIMARY KEY (business_id, message_id, status)
);
CREATE INDEX insights_events_at ON insights_events (business_id, at);

-- The first unanswered inbound message per customer.
CREATE TABLE insights_waiting (
    business_id bigint  NOT NULL,
    customer    text    NOT NULL,
    inbound_at  bigint  NOT NULL,
    PRIMARY KEY (business_id, customer)
);

CREATE TABLE insights_responses (
    business_id bigint  NOT NULL,
    customer    text    NOT NULL,
    inbound_at  bigint  NOT NULL,
    sent_at     bigint  NOT NULL
);
CREATE INDEX insights_responses_at ON insights_responses (business_id, sent_at);

-- Events per status of all businesses (for /metrics without a scan).
CREATE TABLE insights_status_totals (
    status text    NOT NULL PRIMARY KEY,
    n      bigint  NOT NULL
);

-- +goose Down
DROP TABLE insights_status_totals;
DROP TABLE insights_responses;
DROP TABLE insights_waiting;
DROP TABLE insights_events;
DROP TABLE webhook_outbox;
DROP TABLE webhook_configs;
