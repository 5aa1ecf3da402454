package groups

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client/mlsengine"
	"github.com/parleyhq/parley/content"
	"github.com/parleyhq/parley/proto/parleypb"
)

// The group's membership changes reach a device as MLS commits and
// Welcomes (and a leave as a system envelope): the lines below are what
// the device writes into the chat's history for them. who names a user,
// and names this user "you".

// DescribeJoin is the line of a Welcome from by that brought this user
// into the group: "Ann added you", or for the Welcome that came with the
// group's creation (created) "Ann created the group and added you" —
// "You created the group" on the creator's other devices; "" for a later
// Welcome from this user's own other device.
func DescribeJoin(by, self parley.UserID, created bool, who func(parley.UserID) string) string {
	switch {
	case created && by == self:
		return "You created the group"
	case created:
		return sentence(who(by) + " created the group and added you")
	case by == self:
		return ""
	}
	return sentence(who(by) + " added you")
}

// DescribeLeft is the line of a leave system envelope's payload, and the
// user who left; "" when payload is not a leave.
func DescribeLeft(payload []byte, who func(parley.UserID) string) (string, parley.UserID) {
	var p struct {
		LeftUser parley.UserID `json:"left_user"`
	}
	if json.Unmarshal(payload, &p) != nil || p.LeftUser == 0 {
		return "", 0
	}
	return sentence(who(p.LeftUser) + " left"), p.LeftUser
}

// DescribeMembers is the line of a commit by by that changed the group's
// users from before to after: "Ann added Bob and Carol", "Ann removed
// Dan". A removal of a user whose leave the history shows already (left
// reports it) is left out: another member's device commits it. "" when the
// users did not change; "Dave joined" for an external commit.
func DescribeMembers(by parley.UserID, before, after []parley.UserID, left func(parley.UserID) bool, who func(parley.UserID) string) string {
	var added, removed []string
	joined := false // an external commit: by joined by itself (an invite link)
	for _, u := range after {
		switch {
		case slices.Contains(before, u):
		case u == by:
			joined = true
		default:
			added = append(added, who(u))
		}
	}
	for _, u := range before {
		if !slices.Contains(after, u) && !left(u) {
			removed = append(removed, who(u))
		}
	}
	var parts []string
	if joined {
		parts = append(parts, "joined")
	}
	if len(added) > 0 {
		parts = append(parts, "added "+and(added))
	}
	if len(removed) > 0 {
		parts = append(parts, "removed "+and(removed))
	}
	if len(parts) == 0 {
		return ""
	}
	return sentence(who(by) + " " + strings.Join(parts, " and "))
}

// LeftIn reports whether ms (a chat's recent history) has the line of
// user leaving: the server names a leave envelope "left/<user>/…".
func LeftIn(ms []content.MessageRecord, user parley.UserID) bool {
	prefix := "left/" + strconv.FormatInt(int64(user), 10) + "/"
	return slices.ContainsFunc(ms, func(m content.MessageRecord) bool { return strings.HasPrefix(string(m.ClientID), prefix) })
}

func and(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// sentence starts a line that begins with this user: "you left" → "You
// left" (names are shown as they are).
func sentence(s string) string {
	if rest, ok := strings.CutPrefix(s, "you "); ok {
		return "You " + rest
	}
	return s
}

// KindSystem is the kind of the lines Lines writes (client.KindSystem).
const KindSystem = "system"

// Lines writes one device's system lines (KindSystem records).
type Lines struct {
	Self parley.UserID
	// Who names a user.
	Who func(parley.UserID) string
	Now time.Time
	// Recent returns a chat's recent history (for LeftIn).
	Recent func(parley.ConversationID) []content.MessageRecord
}

// whoYou names users as Who does, and this user "you".
func (l Lines) whoYou(u parley.UserID) string {
	if u == l.Self {
		return "you"
	}
	return l.Who(u)
}

// System is the line of a group-change or leave system envelope (nil for
// other system envelopes), and the group's new name when the change
// renamed it.
func (l Lines) System(env *parleypb.Envelope) (*content.MessageRecord, *string) {
	if text, by := DescribeLeft(env.GetPayload(), l.whoYou); text != "" {
		return l.Line(env, by, text), nil
	}
	var p parley.GroupChange
	if json.Unmarshal(env.GetPayload(), &p) != nil || p.Change == "" {
		return nil, nil
	}
	m := l.Line(env, p.By, DescribeChange(p, l.whoYou))
	if m == nil || p.Change != "info" {
		return m, nil
	}
	return m, p.Name
}

// CreationEpoch is the epoch of the Welcome that comes with a group's
// creation, and of no other Welcome.
const CreationEpoch = 1

// Created is the creator's line for a group it just created, at seq (the
// creation Welcome's; nil when the group was created without members and
// has no envelope yet).
func (l Lines) Created(conv parley.ConversationID, seq parley.Seq) *content.MessageRecord {
	if seq == 0 {
		return nil
	}
	return l.Line(&parleypb.Envelope{ConversationId: string(conv), Seq: int64(seq), SentMs: l.Now.UnixMilli()}, l.Self, "You created the group")
}

// Join is the line of a Welcome that brought this device into a group
// chat (nil when it shows nothing).
func (l Lines) Join(env *parleypb.Envelope) *content.MessageRecord {
	by := parley.UserID(env.GetSenderUser())
	if by == 0 {
		return nil
	}
	// The server stamps the Welcome that comes with a group's creation with
	// epoch 1 (a conversation starts at epoch 1; a later commit's Welcome
	// is for epoch 2 or later): docs/protocol.md, "Group system lines".
	return l.Line(env, by, DescribeJoin(by, l.Self, env.GetEpoch() == CreationEpoch, l.whoYou))
}

// Commit is the line of a commit by sender (an MLS credential) that
// changed the group's members from before to after (nil when the users
// did not change).
func (l Lines) Commit(env *parleypb.Envelope, sender string, before, after []mlsengine.Member) *content.MessageRecord {
	by, _, err := mlsengine.ParseCredential(sender)
	if err != nil {
		return nil
	}
	left := func(u parley.UserID) bool {
		return LeftIn(l.Recent(parley.ConversationID(env.GetConversationId())), u)
	}
	return l.Line(env, by, DescribeMembers(by, users(before), users(after), left, l.whoYou))
}

func users(ms []mlsengine.Member) (us []parley.UserID) {
	for _, m := range ms {
		if !slices.Contains(us, m.User) {
			us = append(us, m.User)
		}
	}
	return us
}

// Line is a system line by by at env's seq (nil when text is "").
func (l Lines) Line(env *parleypb.Envelope, by parley.UserID, text string) *content.MessageRecord {
	if text == "" {
		return nil
	}
	id := parley.ClientMessageID(env.GetClientId())
	if id == "" {
		id = parley.ClientMessageID(fmt.Sprintf("system/%d", env.GetSeq()))
	}
	return &content.MessageRecord{
		Conversation: parley.ConversationID(env.GetConversationId()), Seq: parley.Seq(env.GetSeq()),
		ClientID: id, Sender: by, SenderDevice: parley.DeviceID(env.GetSenderDevice()),
		Outgoing: by == l.Self, Kind: KindSystem, Text: text,
		SentAt: time.UnixMilli(env.GetSentMs()), StoredAt: l.Now, Status: content.StatusRead,
	}
}
