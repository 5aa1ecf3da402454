package client

import (
	"context"
	"encoding/json"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client/groups"
	"github.com/parleyhq/parley/proto/parleypb"
)

// KindSystem marks a line the device writes into a chat's history for a
// change the server logged: a group's info, settings, roles or community
// (parley.GroupChange). Its Text describes the change; Sender is who made
// it. System lines never count as unread.
const KindSystem = "system"

// systemRecord returns the history line for a group-change system envelope,
// or nil for other system envelopes.
func (c *Client) systemRecord(ctx context.Context, env *parleypb.Envelope) *MessageRecord {
	var p parley.GroupChange
	if json.Unmarshal(env.GetPayload(), &p) != nil || p.Change == "" {
		return nil
	}
	text := groups.DescribeChange(p, func(u parley.UserID) string { return c.Who(ctx, u) })
	if text == "" {
		return nil
	}
	if p.Change == "info" && p.Name != nil {
		// Keep the chat's title in step for devices that were offline.
		_ = c.store.Apply(ctx, Applied{Conversation: parley.ConversationID(env.GetConversationId()),
			Chat: &Chat{Kind: parley.KindGroup, Title: *p.Name}})
	}
	return &MessageRecord{
		Conversation: parley.ConversationID(env.GetConversationId()), Seq: parley.Seq(env.GetSeq()),
		ClientID: parley.ClientMessageID(env.GetClientId()), Sender: p.By, SenderDevice: parley.DeviceID(env.GetSenderDevice()),
		Outgoing: p.By == c.Account().User, Kind: KindSystem, Text: text,
		SentAt: time.UnixMilli(env.GetSentMs()), StoredAt: c.clock.Now(), Status: StatusRead,
	}
}
