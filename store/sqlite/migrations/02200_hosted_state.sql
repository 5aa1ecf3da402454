-- The hosted business endpoints' state (parley.HostedStateStore): per
-- business, keyed values sealed by the endpoint under the operator's key.

-- +goose Up
CREATE TABLE hosted_state (
    business INTEGER NOT NULL,
    key      TEXT    NOT NULL,
    value    BLOB    NOT NULL,
    PRIMARY KEY (business, key)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE hosted_state;
