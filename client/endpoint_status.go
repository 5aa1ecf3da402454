package client

import (
	"context"
	"time"

	"github.com/parleyhq/parley"
)

// outgoingStore is the status bookkeeping of always-online endpoints (the
// hosted business endpoint): implemented by the SQLite stores.
type outgoingStore interface {
	// outgoingBetween returns device's outgoing messages the server
	// accepted (seq > 0, not failed) with from <= sent_at < to, in send
	// order, at most limit.
	outgoingBetween(ctx context.Context, device parley.DeviceID, from, to time.Time, limit int) ([]MessageRecord, error)
	// undelivered returns device's outgoing messages still "sent" (no
	// other member's device acknowledged them) stored before before,
	// oldest first, at most limit.
	undelivered(ctx context.Context, device parley.DeviceID, before time.Time, limit int) ([]MessageRecord, error)
	// markFailed moves message seq of conv from "sent" to "failed" and
	// reports whether it did.
	markFailed(ctx context.Context, conv parley.ConversationID, seq parley.Seq) (bool, error)
}

func (c *Client) outgoingStore() (outgoingStore, error) {
	os, ok := c.store.(outgoingStore)
	if !ok {
		return nil, parley.Errorf(parley.CodeUnavailable, "unsupported_store", "this local store does not keep outgoing statuses")
	}
	return os, nil
}

// SentBetween returns this device's messages the server accepted whose
// send started in [from, to), oldest first, at most limit (the hosted
// endpoint re-reports their "sent" status after a crash). Only the SQLite
// stores support it (CodeUnavailable otherwise).
func (c *Client) SentBetween(ctx context.Context, from, to time.Time, limit int) ([]MessageRecord, error) {
	os, err := c.outgoingStore()
	if err != nil {
		return nil, err
	}
	list, err := os.outgoingBetween(ctx, c.Account().Device, from, to, limit)
	return list, storeErr(err)
}

// Undelivered returns this device's messages that the server accepted
// before before and that no device of another member has acknowledged,
// oldest first, at most limit. Only the SQLite stores support it.
func (c *Client) Undelivered(ctx context.Context, before time.Time, limit int) ([]MessageRecord, error) {
	os, err := c.outgoingStore()
	if err != nil {
		return nil, err
	}
	list, err := os.undelivered(ctx, c.Account().Device, before, limit)
	return list, storeErr(err)
}

// MarkFailed records that message seq of conv (this device's, still
// undelivered) failed; a later receipt no longer raises it. It reports
// whether the message was still undelivered.
func (c *Client) MarkFailed(ctx context.Context, conv parley.ConversationID, seq parley.Seq) (bool, error) {
	os, err := c.outgoingStore()
	if err != nil {
		return false, err
	}
	ok, err := os.markFailed(ctx, conv, seq)
	return ok, storeErr(err)
}
