//go:build js

package client

import (
	"context"
	"github.com/parleyhq/parley/content"

	"github.com/parleyhq/parley"
)

// fastSendStore has no implementation in the browser: sends take the
// general path.
type fastSendStore interface {
	putPending(ctx context.Context, conv parley.ConversationID, state []byte, epoch parley.Epoch, m *MessageRecord, ext content.Ext) error
	queuePending(ctx context.Context, conv parley.ConversationID, state []byte, epoch parley.Epoch, m *MessageRecord, ext content.Ext) (func() error, error)
	markSentAdvance(ctx context.Context, conv parley.ConversationID, client parley.ClientMessageID, seq parley.Seq) error
	queueMarkSent(ctx context.Context, conv parley.ConversationID, client parley.ClientMessageID, seq parley.Seq) error
}
