package client

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/parleyhq/parley"
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
	text := c.describeChange(ctx, p)
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

// describeChange says what a group change did, in the words a chat shows.
func (c *Client) describeChange(ctx context.Context, p parley.GroupChange) string {
	who := c.Who(ctx, p.By)
	onOff := func(b *bool, on, off string) string {
		if *b {
			return on
		}
		return off
	}
	var parts []string
	switch p.Change {
	case "info":
		if p.Name != nil {
			parts = append(parts, fmt.Sprintf("changed the group name to %q", *p.Name))
		}
		if p.Description != nil {
			parts = append(parts, "changed the group description")
		}
		if p.Icon != nil {
			parts = append(parts, "changed the group icon")
		}
		if p.OnlyAdminsSend != nil {
			parts = append(parts, onOff(p.OnlyAdminsSend, "allowed only admins to send messages", "allowed all members to send messages"))
		}
		if p.OnlyAdminsEditInfo != nil {
			parts = append(parts, onOff(p.OnlyAdminsEditInfo, "allowed only admins to edit the group info", "allowed all members to edit the group info"))
		}
		if p.JoinApproval != nil {
			parts = append(parts, onOff(p.JoinApproval, "asked community members to request to join", "let community members join without approval"))
		}
	case "role":
		if p.Admin == nil {
			return ""
		}
		member := c.Who(ctx, p.User)
		if *p.Admin {
			parts = append(parts, "made "+member+" an admin")
		} else {
			parts = append(parts, "removed "+member+" as admin")
		}
	case "community":
		if p.Community == nil || *p.Community == "" {
			parts = append(parts, "removed this group from its community")
		} else {
			parts = append(parts, "added this group to a community")
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return who + " " + strings.Join(parts, "; ")
}
