package client

import (
	"context"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/proto/parleypb"
)

// Resync: a device whose MLS state of a conversation was lost or broke (a
// commit it could not process, a message of an epoch it never reached, a
// group state missing from its store) cannot read anything sent there any
// more. It rejoins by an external commit from the server's GroupInfo that
// replaces its own old leaf (RFC 9420 §12.4.3.2, mls ResyncSelf); the
// server keeps its membership as it is. Messages sent between the break and
// the rejoin stay unreadable on this device (they are shown as such);
// everything after the rejoin is readable again.

// resyncInterval is the least time between two automatic rejoins of one
// conversation, so that a rejoin that does not help cannot loop.
const resyncInterval = 30 * time.Second

// Resync rejoins a chat on this device at once (see above): the manual
// form of what the client does by itself when it detects a broken state.
func (c *Client) Resync(ctx context.Context, ref string) error {
	conv, err := c.chatID(ctx, ref)
	if err != nil {
		return err
	}
	c.cryptoMu.Lock()
	defer c.cryptoMu.Unlock()
	return c.resync(ctx, conv)
}

// resync rejoins conv. The caller holds cryptoMu.
func (c *Client) resync(ctx context.Context, conv parley.ConversationID) error {
	chat, err := c.store.Chat(ctx, conv)
	if err == nil {
		return c.externalCommit(ctx, conv, chat.Kind, true)
	}
	if !parley.IsCode(err, parley.CodeNotFound) {
		return storeErr(err)
	}
	// No chat here at all (its Welcome could not be processed): the server
	// says what kind of conversation it is.
	list, err := c.listConversations(ctx)
	if err != nil {
		return err
	}
	for _, info := range list {
		if parley.ConversationID(info.GetId()) == conv {
			return c.externalCommit(ctx, conv, parley.ConversationKind(info.GetKind()), true)
		}
	}
	return parley.Errorf(parley.CodeNotFound, parley.ReasonConversationNotFound, "no such conversation")
}

// needsResync reports whether failing to apply env means this device's
// state of the conversation is broken (rather than env being bad): a
// commit of the current epoch or later it could not process, a message of
// a later epoch than its own, or no group state or chat at all (a Welcome
// it could not process, e.g. whose ratchet tree had expired).
func (c *Client) needsResync(ctx context.Context, env *parleypb.Envelope) bool {
	conv := parley.ConversationID(env.GetConversationId())
	kind := parley.EnvelopeKind(env.GetKind())
	if kind != parley.EnvelopeCommit && kind != parley.EnvelopeApplication {
		return false
	}
	chat, err := c.store.Chat(ctx, conv)
	if parley.IsCode(err, parley.CodeNotFound) {
		return true // delivered here, so this device is a member, yet it never joined
	}
	if err != nil {
		return false
	}
	if _, err := c.store.Group(ctx, conv); parley.IsCode(err, parley.CodeNotFound) {
		return true
	}
	epoch := parley.Epoch(env.GetEpoch())
	if kind == parley.EnvelopeCommit {
		return epoch >= chat.Epoch
	}
	return epoch > chat.Epoch
}

// scheduleResync rejoins conv in the background, at most once per
// resyncInterval.
func (c *Client) scheduleResync(conv parley.ConversationID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return
	}
	now := c.clock.Now()
	if last, ok := c.resyncAt[conv]; ok && now.Sub(last) < resyncInterval {
		return
	}
	if c.resyncAt == nil {
		c.resyncAt = map[parley.ConversationID]time.Time{}
	}
	c.resyncAt[conv] = now
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		ctx, cancel := context.WithTimeout(c.ctx, time.Minute)
		defer cancel()
		c.cryptoMu.Lock()
		err := c.resync(ctx, conv)
		c.cryptoMu.Unlock()
		if err != nil && ctx.Err() == nil {
			c.log.Warn("rejoin a conversation whose state broke", "conversation", conv, "err", err)
		}
	}()
}
