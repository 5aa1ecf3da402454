-- The operator's admin API (package admin): account suspension and the
-- append-only audit log of admin actions.

-- +goose Up
ALTER TABLE users ADD COLUMN suspended_at bigint NOT NULL DEFAULT 0;

CREATE TABLE admin_audit (
    id      bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      bigint  NOT NULL,
    actor   text    NOT NULL,
    action  text    NOT NULL,
    target  text    NOT NULL,
    detail  text
);

-- +goose Down
DROP TABLE admin_audit;
ALTER TABLE users DROP COLUMN suspended_at;
