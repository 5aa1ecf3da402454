-- Business accounts (parley.BusinessStore): profiles, catalogs, quick
-- replies, labels and greeting/away settings. Numbered 00400 to stay clear
-- of the other areas' migrations. Times are Unix nanoseconds, 0 for the
-- zero time; nested values (hours, images, collections) are JSON.

-- +goose Up
CREATE TABLE business_profiles (
    user_id      INTEGER NOT NULL PRIMARY KEY,
    name         TEXT    NOT NULL,
    category     TEXT    NOT NULL,
    description  TEXT    NOT NULL,
    address      TEXT    NOT NULL,
    hours        TEXT    NOT NULL,
    website      TEXT    NOT NULL,
    email        TEXT    NOT NULL,
    verified     INTEGER NOT NULL,
    verified_at  INTEGER NOT NULL,
    hosted       INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

CREATE TABLE business_products (
    business_id  INTEGER NOT NULL,
    id           TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    price_1000   INTEGER NOT NULL,
    currency     TEXT    NOT NULL,
    description  TEXT    NOT NULL,
    available    INTEGER NOT NULL,
    url          TEXT    NOT NULL,
    images       TEXT    NOT NULL,
    collections  TEXT    NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (business_id, id)
) WITHOUT ROWID;

CREATE TABLE business_collections (
    business_id  INTEGER NOT NULL,
    id           TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    PRIMARY KEY (business_id, id)
) WITHOUT ROWID;

CREATE TABLE business_quick_replies (
    business_id  INTEGER NOT NULL,
    shortcut     TEXT    NOT NULL,
    text         TEXT    NOT NULL,
    media        BLOB    NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (business_id, shortcut)
) WITHOUT ROWID;

CREATE TABLE business_labels (
    business_id  INTEGER NOT NULL,
    id           TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    color        TEXT    NOT NULL,
    PRIMARY KEY (business_id, id)
) WITHOUT ROWID;

CREATE TABLE business_chat_labels (
    business_id     INTEGER NOT NULL,
    conversation_id TEXT    NOT NULL,
    label_id        TEXT    NOT NULL,
    at              INTEGER NOT NULL,
    PRIMARY KEY (business_id, conversation_id, label_id)
) WITHOUT ROWID;
CREATE INDEX business_chat_labels_label ON business_chat_labels (business_id, label_id);

CREATE TABLE business_auto_replies (
    business_id      INTEGER NOT NULL PRIMARY KEY,
    greeting_enabled INTEGER NOT NULL,
    greeting         TEXT    NOT NULL,
    greeting_after   INTEGER NOT NULL,
    away_enabled     INTEGER NOT NULL,
    away             TEXT    NOT NULL,
    away_every       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

-- One row per greeting or away message sent, keyed by the customer's
-- message that triggered it, so only one device of the business sends it
-- (the one named; its own retried claim succeeds again).
CREATE TABLE business_auto_reply_claims (
    business_id     INTEGER NOT NULL,
    conversation_id TEXT    NOT NULL,
    claim_key       TEXT    NOT NULL,
    device_id       INTEGER NOT NULL,
    at              INTEGER NOT NULL,
    PRIMARY KEY (business_id, conversation_id, claim_key)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE business_auto_reply_claims;
DROP TABLE business_auto_replies;
DROP TABLE business_chat_labels;
DROP TABLE business_labels;
DROP TABLE business_quick_replies;
DROP TABLE business_collections;
DROP TABLE business_products;
DROP TABLE business_profiles;
