-- The business API (parley.CloudAPIStore): numbers enabled for the API, bearer
-- tokens, templates, opt-ins, the customer-service window, daily recipients
-- for the messaging tiers, quality signals and uploaded media. Times are Unix
-- nanoseconds, 0 for the zero time.

-- +goose Up
CREATE TABLE api_numbers (
    business_id     bigint  NOT NULL PRIMARY KEY,
    phone           text    NOT NULL,
    tier            bigint  NOT NULL,
    quality         text    NOT NULL,
    throughput      bigint  NOT NULL,
    auto_approve    bigint  NOT NULL,
    hosted_device   bigint  NOT NULL,
    tier_changed_at bigint  NOT NULL,
    created_at      bigint  NOT NULL,
    updated_at      bigint  NOT NULL
);

CREATE TABLE api_tokens (
    id          text    NOT NULL PRIMARY KEY,
    business_id bigint  NOT NULL,
    name        text    NOT NULL,
    scopes      text    NOT NULL,
    hash        bytea   NOT NULL UNIQUE,
    created_at  bigint  NOT NULL,
    revoked_at  bigint  NOT NULL
);
CREATE INDEX api_tokens_business ON api_tokens (business_id, created_at);

CREATE TABLE api_templates (
    id          text    NOT NULL PRIMARY KEY,
    business_id bigint  NOT NULL,
    name        text    NOT NULL,
    language    text    NOT NULL,
    category    text    NOT NULL,
    status      text    NOT NULL,
    reason      text    NOT NULL,
    components  text    NOT NULL,
    created_at  bigint  NOT NULL,
    updated_at  bigint  NOT NULL,
    UNIQUE (business_id, name, language)
);

CREATE TABLE api_optins (
    business_id  bigint  NOT NULL,
    customer_id  bigint  NOT NULL,
    source       text    NOT NULL,
    text         text    NOT NULL,
    at           bigint  NOT NULL,
    opted_out_at bigint  NOT NULL,
    opt_out_text text    NOT NULL,
    PRIMARY KEY (business_id, customer_id)
);

CREATE TABLE api_windows (
    business_id  bigint  NOT NULL,
    customer_id  bigint  NOT NULL,
    last_inbound bigint  NOT NULL,
    PRIMARY KEY (business_id, customer_id)
);

CREATE TABLE api_recipients (
    business_id bigint  NOT NULL,
    day         text    NOT NULL,
    customer_id bigint  NOT NULL,
    PRIMARY KEY (business_id, day, customer_id)
);

CREATE TABLE api_quality_signals (
    business_id bigint  NOT NULL,
    customer_id bigint  NOT NULL,
    kind        text    NOT NULL,
    reason      text    NOT NULL,
    at          bigint  NOT NULL
);
CREATE INDEX api_quality_signals_business ON api_quality_signals (business_id, at);

CREATE TABLE api_media (
    id          text    NOT NULL PRIMARY KEY,
    business_id bigint  NOT NULL,
    mime_type   text    NOT NULL,
    file_name   text    NOT NULL,
    sha256      text    NOT NULL,
    size        bigint  NOT NULL,
    created_at  bigint  NOT NULL
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
