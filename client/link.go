package client

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client/localstore"
)

// SkippedChat is a conversation this device could not join by external
// commit: its GroupInfo or ratchet tree is not valid MLS (junk posted by a
// stranger or a malicious member, or a broken group state), or the server
// refused the join. The device is not in it; everything else works.
type SkippedChat struct {
	Conversation parley.ConversationID
	Err          error
}

// linkRollbackTimeout bounds the removal of a half-linked device.
const linkRollbackTimeout = 30 * time.Second

// SkippedChats returns the conversations the last join pass (LinkDevice's,
// or the one a conversations-changed signal runs) skipped because they
// could not be joined. Each later pass tries them again.
func (c *Client) SkippedChats() []SkippedChat {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]SkippedChat(nil), c.skipped...)
}

func (c *Client) setSkipped(s []SkippedChat) {
	c.mu.Lock()
	c.skipped = s
	c.mu.Unlock()
}

// joinFatal reports whether a join error is about this device or its link
// — the server unreachable, the context over, the local store failing,
// this device revoked — rather than about the one conversation (whose MLS
// state this device cannot use).
func joinFatal(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var pe *parley.Error
	if !errors.As(err, &pe) {
		return false // an MLS decoding or validation error: the conversation's
	}
	switch pe.Code {
	case parley.CodeUnavailable, parley.CodeUnauthenticated, parley.CodeRateLimited:
		return true
	case parley.CodeInternal:
		return pe.Reason == localstore.ReasonFailed
	}
	return false
}

// rollbackLink undoes a link that failed after the server created the
// device: the device removes itself (the server drops it from every
// conversation and tells the members, whose clients commit the MLS
// removal of its leaf), so no orphan device stays registered or in any
// tree. The profile keeps the revoked credentials and cannot be used
// again: link with a fresh one.
func (c *Client) rollbackLink(ctx context.Context, acct Account, cause error) (Account, error) {
	if !acct.Registered() {
		return acct, cause
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), linkRollbackTimeout)
	defer cancel()
	if err := c.RemoveDevice(rctx, acct.Device); err != nil {
		c.log.Error("removing a half-linked device", "device", acct.Device, "err", err)
		return acct, fmt.Errorf("%w (removing the half-linked device %d failed too: %v; remove it from the primary device: parley device remove %d)",
			cause, acct.Device, err, acct.Device)
	}
	c.log.Warn("link failed: the new device was removed again", "device", acct.Device, "err", cause)
	return acct, fmt.Errorf("%w (the new device %d was removed again; link with a fresh profile)", cause, acct.Device)
}
