package client

import (
	"context"
	"time"

	"github.com/parleyhq/parley"
)

// SentBetween returns this device's messages the server accepted whose
// send started in [from, to), oldest first, at most limit (the hosted
// endpoint re-reports their "sent" status after a crash).
func (c *Client) SentBetween(ctx context.Context, from, to time.Time, limit int) ([]MessageRecord, error) {
	list, err := c.store.OutgoingBetween(ctx, c.Account().Device, from, to, limit)
	return list, storeErr(err)
}

// Undelivered returns this device's messages that the server accepted
// before before and that no device of another member has acknowledged,
// oldest first, at most limit.
func (c *Client) Undelivered(ctx context.Context, before time.Time, limit int) ([]MessageRecord, error) {
	list, err := c.store.Undelivered(ctx, c.Account().Device, before, limit)
	return list, storeErr(err)
}

// MarkFailed records that message seq of conv (this device's, still
// undelivered) failed; a later receipt no longer raises it. It reports
// whether the message was still undelivered.
func (c *Client) MarkFailed(ctx context.Context, conv parley.ConversationID, seq parley.Seq) (bool, error) {
	ok, err := c.store.MarkFailed(ctx, conv, seq)
	return ok, storeErr(err)
}
