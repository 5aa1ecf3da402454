-- The business API (parley.CloudAPIStore): numbers enabled for the API, bearer
-- tokens, templates, opt-ins, the customer-service window, daily recipients
-- for the messaging tiers, quality signals and uploaded media. Times are Unix
-- nanoseconds, 0 for the zero time.

-- +goose Up
CREATE TABLE api_numbers (
    business_id     INTEGER NOT NULL PRIMARY KEY,
    phone           TEXT    NOT NULL,
    tier            INTEGER NOT NULL,
    quality         TEXT    NOT NULL,
    throughput      INTEGER NOT NULL,
    auto_approve    INTEGER NOT NULL,
    hosted_device   INTEGER NOT NULL,
    tier_changed_at INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    id          TEXT    NOT NULL PRIMARY KEY,
    business_id INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    scopes      TEXT    NOT NULL,
    hash        BLOB    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER NOT NULL
);
CREATE INDEX api_tokens_business ON api_tokens (business_id, created_at);

CREATE TABLE api_templates (
    id          TEXT    NOT NULL PRIMARY KEY,
    business_id INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    language    TEXT    NOT NULL,
    category    TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    components  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (business_id, name, language)
);

CREATE TABLE api_optins (
    business_id  INTEGER NOT NULL,
    customer_id  INTEGER NOT NULL,
    source       TEXT    NOT NULL,
    text         TEXT    NOT NULL,
    at           INTEGER NOT NULL,
    opted_out_at INTEGER NOT NULL,
    opt_out_text TEXT    NOT NULL,
    PRIMARY KEY (business_id, customer_id)
) WITHOUT ROWID;

CREATE TABLE api_windows (
    business_id  INTEGER NOT NULL,
    customer_id  INTEGER NOT NULL,
    last_inbound INTEGER NOT NULL,
    PRIMARY KEY (business_id, customer_id)
) WITHOUT ROWID;

CREATE TABLE api_recipients (
    business_id INTEGER NOT NULL,
    day         TEXT    NOT NULL,
    customer_id INTEGER NOT NULL,
    PRIMARY KEY (business_id, day, customer_id)
) WITHOUT ROWID;

CREATE TABLE api_quality_signals (
    business_id INTEGER NOT NULL,
    customer_id INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX api_quality_signals_business ON api_quality_signals (business_id, at);

CREATE TABLE api_media (
    id          TEXT    NOT NULL PRIMARY KEY,
    business_id INTEGER NOT NULL,
    mime_type   TEXT    NOT NULL,
    file_name   TEXT    NOT NULL,
    sha256      TEXT    NOT NULL,
    size        INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);

-- +goose Down
DROP TABLE api_media;
DROP TABLE api_quality_signals;
DROP TABLE api_recipients;
DROP TABLE api_windows;
DROP TABLE api_optins;
DROP TABLE api_templates;
DROP TABLE api_tokens;
DROP TABLE api_numbers;
