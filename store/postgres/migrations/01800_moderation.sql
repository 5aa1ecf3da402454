-- Reporting and moderation (parley.ModerationStore): users' reports of an
-- account, a chat or a message, with the evidence the reporter chose to
-- include, and the groups' ban lists. Times are Unix nanoseconds.

-- +goose Up
CREATE TABLE reports (
    id              bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reporter        bigint  NOT NULL,
    target          text    NOT NULL,
    user_id         bigint  NOT NULL,
    conversation_id text    NOT NULL,
    seq             bigint  NOT NULL,
    category        text    NOT NULL,
    text            text    NOT NULL,
    -- A JSON array of parley.ReportEvidence; NULL when none was included.
    evidence        text,
    status          text    NOT NULL,
    handled_by      text    NOT NULL,
    note            text    NOT NULL,
    created_at      bigint  NOT NULL,
    handled_at      bigint  NOT NULL
);
CREATE INDEX reports_status ON reports (status, id);
CREATE INDEX reports_conversation ON reports (conversation_id, id);

CREATE TABLE group_bans (
    group_id   text    NOT NULL,
    user_id    bigint  NOT NULL,
    banned_by  bigint  NOT NULL,
    created_at bigint  NOT NULL,
    PRIMARY KEY (group_id, user_id)
);

-- +goose Down
DROP TABLE group_bans;
DROP TABLE reports;
