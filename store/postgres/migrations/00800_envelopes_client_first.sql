-- The idempotency index starts with the client message id instead of the
-- conversation (see the SQLite migration of the same number): clients make
-- ids that start with the time, so new entries land at the end of the index.

-- +goose Up
DROP INDEX envelopes_client;
CREATE UNIQUE INDEX envelopes_client ON envelopes (client_id, sender_device, conversation_id) WHERE client_id <> '';

-- +goose Down
DROP INDEX envelopes_client;
CREATE UNIQUE INDEX envelopes_client ON envelopes (conversation_id, sender_device, client_id) WHERE client_id <> '';
