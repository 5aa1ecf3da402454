-- The call log (client/calls): one row per call this device rang for,
-- started or answered, kept on this device only. Times are Unix ms; 0 is
-- "never" (answered_at of a call nobody answered, ended_at of a call still
-- going on).

-- +goose Up
CREATE TABLE IF NOT EXISTS call_log (
	id TEXT PRIMARY KEY,
	conversation TEXT NOT NULL,
	outgoing INTEGER NOT NULL,
	video INTEGER NOT NULL,
	peer INTEGER NOT NULL,
	status TEXT NOT NULL,
	started_at INTEGER NOT NULL,
	answered_at INTEGER NOT NULL,
	ended_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS call_log_started ON call_log (started_at DESC, id);

-- +goose Down
DROP TABLE IF EXISTS call_log;
