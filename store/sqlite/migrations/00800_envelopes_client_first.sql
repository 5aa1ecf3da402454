-- The idempotency index starts with the client message id instead of the
-- conversation. Clients make ids that start with the time
-- (parley.NewClientMessageID), so new entries land at the end of the index:
-- a group commit of envelopes for many conversations dirties a page or two
-- of it instead of one page per conversation. Uniqueness is the same set of
-- columns.

-- +goose Up
DROP INDEX envelopes_client;
CREATE UNIQUE INDEX envelopes_client ON envelopes (client_id, sender_device, conv) WHERE client_id <> '';

-- +goose Down
DROP INDEX envelopes_client;
CREATE UNIQUE INDEX envelopes_client ON envelopes (conv, sender_device, client_id) WHERE client_id <> '';
