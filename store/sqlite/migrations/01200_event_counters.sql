-- Durable event counters in fixed windows (parley.CounterStore), for the
-- abuse limits a restart must not reset, such as the two-step PIN's guess
-- budget.

-- +goose Up
CREATE TABLE event_counters (
    key      TEXT    NOT NULL PRIMARY KEY,
    count    INTEGER NOT NULL,
    reset_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE event_counters;
