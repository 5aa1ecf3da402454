-- +goose Up
-- The last time a business sent each customer a message: quality reports
-- and blocks count only from customers it messaged recently.
CREATE TABLE api_contacts (
    business_id bigint  NOT NULL,
    customer_id bigint  NOT NULL,
    last_at     bigint  NOT NULL,
    PRIMARY KEY (business_id, customer_id)
);

-- +goose Down
DROP TABLE api_contacts;
