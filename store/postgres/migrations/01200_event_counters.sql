-- Durable event counters in fixed windows (parley.CounterStore), for the
-- abuse limits a restart must not reset, such as the two-step PIN's guess
-- budget.

-- +goose Up
CREATE TABLE event_counters (
    key      text    NOT NULL PRIMARY KEY,
    count    integer NOT NULL,
    reset_at bigint  NOT NULL
);

-- +goose Down
DROP TABLE event_counters;
