-- The hosted business endpoints' state (parley.HostedStateStore): per
-- business, keyed values sealed by the endpoint under the operator's key.

-- +goose Up
CREATE TABLE hosted_state (
    business bigint NOT NULL,
    key      text   NOT NULL,
    value    bytea  NOT NULL,
    PRIMARY KEY (business, key)
);

-- +goose Down
DROP TABLE hosted_state;
