-- Reporting and moderation (parley.ModerationStore): users' reports of an
-- account, a chat or a message, with the evidence the reporter chose to
-- include, and the groups' ban lists. Times are Unix nanoseconds.

-- +goose Up
CREATE TABLE reports (
    id              INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    reporter        INTEGER NOT NULL,
    target          TEXT    NOT NULL,
    user_id         INTEGER NOT NULL,
    conversation_id TEXT    NOT NULL,
    seq             INTEGER NOT NULL,
    category        TEXT    NOT NULL,
    text            TEXT    NOT NULL,
    -- A JSON array of parley.ReportEvidence; NULL when none was included.
    evidence        TEXT,
    status          TEXT    NOT NULL,
    handled_by      TEXT    NOT NULL,
    note            TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    handled_at      INTEGER NOT NULL
);
CREATE INDEX reports_status ON reports (status, id);
CREATE INDEX reports_conversation ON reports (conversation_id, id);

CREATE TABLE group_bans (
    group_id   TEXT    NOT NULL,
    user_id    INTEGER NOT NULL,
    banned_by  INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
);

-- +goose Down
DROP TABLE group_bans;
DROP TABLE reports;
