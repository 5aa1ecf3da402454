-- Business accounts (parley.BusinessStore): profiles, catalogs, quick
-- replies, labels and greeting/away settings. Numbered 00400 to stay clear
-- of the other areas' migrations. Times are Unix nanoseconds, 0 for the
-- zero time; nested values (hours, images, collections) are JSON.

-- +goose Up
CREATE TABLE business_profiles (
    user_id      bigint  NOT NULL PRIMARY KEY,
    name         text    NOT NULL,
    category     text    NOT NULL,
    description  text    NOT NULL,
    address      text    NOT NULL,
    hours        text    NOT NULL,
    website      text    NOT NULL,
    email        text    NOT NULL,
    verified     bigint  NOT NULL,
    verified_at  bigint  NOT NULL,
    hosted       bigint  NOT NULL,
    updated_at   bigint  NOT NULL
);

CREATE TABLE business_products (
    business_id  bigint  NOT NULL,
    id           text    NOT NULL,
    name         text    NOT NULL,
    price_1000   bigint  NOT NULL,
    currency     text    NOT NULL,
    description  text    NOT NULL,
    available    bigint  NOT NULL,
    url          text    NOT NULL,
    images       text    NOT NULL,
    collections  text    NOT NULL,
    updated_at   bigint  NOT NULL,
    PRIMARY KEY (business_id, id)
);

CREATE TABLE business_collections (
    business_id  bigint  NOT NULL,
    id           text    NOT NULL,
    name         text    NOT NULL,
    PRIMARY KEY (business_id, id)
);

CREATE TABLE business_quick_replies (
    business_id  bigint  NOT NULL,
    shortcut     text    NOT NULL,
    text         text    NOT NULL,
    media        bytea   NOT NULL,
    updated_at   bigint  NOT NULL,
    PRIMARY KEY (business_id, shortcut)
);

CREATE TABLE business_labels (
    business_id  bigint  NOT NULL,
    id           text    NOT NULL,
    name         text    NOT NULL,
    color        text    NOT NULL,
    PRIMARY KEY (business_id, id)
);

CREATE TABLE business_chat_labels (
    business_id     bigint  NOT NULL,
    conversation_id text    NOT NULL,
    label_id        text    NOT NULL,
    at              bigint  NOT NULL,
    PRIMARY KEY (business_id, conversation_id, label_id)
);
CREATE INDEX business_chat_labels_label ON business_chat_labels (business_id, label_id);

CREATE TABLE business_auto_replies (
    business_id      bigint  NOT NULL PRIMARY KEY,
    greeting_enabled bigint  NOT NULL,
    greeting         text    NOT NULL,
    greeting_after   bigint  NOT NULL,
    away_enabled     bigint  NOT NULL,
    away             text    NOT NULL,
    away_every       bigint  NOT NULL,
    updated_at       bigint  NOT NULL
);

-- One row per greeting or away message sent, keyed by the customer's
-- message that triggered it, so only one device of the business sends it
-- (the one named; its own retried claim succeeds again).
CREATE TABLE business_auto_reply_claims (
    business_id     bigint  NOT NULL,
    conversation_id text    NOT NULL,
    claim_key       text    NOT NULL,
    device_id       bigint  NOT NULL,
    at              bigint  NOT NULL,
    PRIMARY KEY (business_id, conversation_id, claim_key)
);

-- +goose Down
DROP TABLE business_auto_reply_claims;
DROP TABLE business_auto_replies;
DROP TABLE business_chat_labels;
DROP TABLE business_labels;
DROP TABLE business_quick_replies;
DROP TABLE business_collections;
DROP TABLE business_products;
DROP TABLE business_profiles;
