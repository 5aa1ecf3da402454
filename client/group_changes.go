package client

import (
	"context"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client/groups"
	"github.com/parleyhq/parley/proto/parleypb"
)

// KindSystem marks a line the device writes into a chat's history for a
// change the server logged: a group's info, settings, roles or community
// (parley.GroupChange), a member leaving; and for membership changes this
// device processed: a Welcome that added this user, a commit that added
// or removed members (groups.Lines). Its Text describes the change; Sender
// is who made it. System lines never count as unread.
const KindSystem = groups.KindSystem

// lines writes this device's system lines (groups.Lines).
func (c *Client) lines(ctx context.Context) groups.Lines {
	return groups.Lines{Self: c.Account().User, Who: func(u parley.UserID) string { return c.Profiles.Name(ctx, u) }, Now: c.clock.Now(),
		Recent: func(conv parley.ConversationID) []MessageRecord { ms, _ := c.store.Messages(ctx, conv, 200); return ms }}
}

// systemRecord returns the history line for a group-change or leave
// system envelope, or nil for other system envelopes.
func (c *Client) systemRecord(ctx context.Context, env *parleypb.Envelope) *MessageRecord {
	m, name := c.lines(ctx).System(env)
	if name != nil {
		// Keep the chat's title in step for devices that were offline.
		_ = c.store.Apply(ctx, Applied{Conversation: parley.ConversationID(env.GetConversationId()),
			Chat: &Chat{Kind: parley.KindGroup, Title: *name}})
	}
	return m
}
