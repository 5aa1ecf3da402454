// Package chattools is the client's device-local chat tools: starring
// messages, deleting a message for this device only, a message's info
// (when each member received and read it), muting a chat for a while and
// marking a chat unread. Everything stays on the device: none of it is
// sent to the server or to this user's other devices.
//
// The client facade (client.Client.Tools) makes one with New.
package chattools

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client/groups"
	"github.com/parleyhq/parley/client/localstore"
	"github.com/parleyhq/parley/content"
)

// Always, as a Mute duration, mutes a chat until it is unmuted.
const Always time.Duration = -1

// Core is the client as the tools see it.
type Core interface {
	Store() localstore.Store
	Account() localstore.Account
	// Chat resolves a chat reference ("+E164", "@username", user or
	// conversation id).
	Chat(ctx context.Context, ref string) (localstore.Chat, error)
	// Group returns a group with its members.
	Group(ctx context.Context, ref string) (groups.Group, error)
}

// Tools are the device-local chat tools of one client.
type Tools struct {
	Store localstore.Store
	// Chat resolves a chat reference as Core.Chat does.
	Chat func(ctx context.Context, ref string) (localstore.Chat, error)
	// Members lists the members of a group chat (for Info).
	Members func(ctx context.Context, ch localstore.Chat) ([]parley.UserID, error)
	Self    func() parley.UserID
	Now     func() time.Time
}

// New returns the tools of core, on the clock now.
func New(core Core, now func() time.Time) *Tools {
	return &Tools{Store: core.Store(), Chat: core.Chat, Self: func() parley.UserID { return core.Account().User }, Now: now,
		Members: func(ctx context.Context, ch localstore.Chat) ([]parley.UserID, error) {
			g, err := core.Group(ctx, string(ch.ID))
			us := make([]parley.UserID, 0, len(g.Members))
			for _, m := range g.Members {
				us = append(us, m.User)
			}
			return us, err
		}}
}

// Star stars (on) or unstars a message, by its id ("<chat>:<seq>").
// Errors: CodeInvalid "bad_message_id"; CodeNotFound "no_message".
func (t *Tools) Star(ctx context.Context, id string, on bool) error {
	conv, seq, err := content.ParseMessageID(id)
	if err != nil {
		return err
	}
	return storeErr(t.Store.Star(ctx, conv, seq, on, t.Now()))
}

// Starred returns the starred messages of the chat ref, or of every chat
// when ref is "", the most recently starred first.
func (t *Tools) Starred(ctx context.Context, ref string) ([]content.MessageRecord, error) {
	var conv parley.ConversationID
	if ref != "" {
		ch, err := t.Chat(ctx, ref)
		if err != nil {
			return nil, err
		}
		conv = ch.ID
	}
	ms, err := t.Store.Starred(ctx, conv)
	return ms, storeErr(err)
}

// DeleteForMe deletes a message (anyone's) from this device only; the
// other members and this user's other devices keep it.
func (t *Tools) DeleteForMe(ctx context.Context, id string) error {
	conv, seq, err := content.ParseMessageID(id)
	if err != nil {
		return err
	}
	return storeErr(t.Store.DeleteForMe(ctx, conv, seq))
}

// Info is what Message info shows of one of this user's messages.
type Info struct {
	Message content.MessageRecord
	// Members are the chat's other members (the peer of a direct chat),
	// by user id, with when each received and read the message as far as
	// this device saw the receipts (zero: not yet).
	Members []localstore.MemberReceipt
}

// Info returns a sent message's delivery and read times per member.
// Errors: CodeInvalid "not_own_message" for another user's message;
// as Star.
func (t *Tools) Info(ctx context.Context, id string) (Info, error) {
	conv, seq, err := content.ParseMessageID(id)
	if err != nil {
		return Info{}, err
	}
	m, err := t.Store.Message(ctx, conv, seq)
	if err != nil {
		return Info{}, storeErr(err)
	}
	if !m.Outgoing {
		return Info{}, parley.Errorf(parley.CodeInvalid, ReasonNotOwnMessage, "message info is shown for your own messages only")
	}
	rs, err := t.Store.Receipts(ctx, conv, seq)
	if err != nil {
		return Info{}, storeErr(err)
	}
	ch, err := t.Store.Chat(ctx, conv)
	if err != nil {
		return Info{}, storeErr(err)
	}
	var members []parley.UserID
	switch {
	case ch.Kind == parley.KindDirect:
		members = []parley.UserID{ch.Peer}
	case t.Members != nil:
		if members, err = t.Members(ctx, ch); err != nil {
			return Info{}, err
		}
	}
	self := t.Self()
	out := Info{Message: m}
	for _, u := range members {
		if u == self {
			continue
		}
		r := localstore.MemberReceipt{User: u}
		if i := slices.IndexFunc(rs, func(r localstore.MemberReceipt) bool { return r.User == u }); i >= 0 {
			r = rs[i]
		}
		out.Members = append(out.Members, r)
	}
	return out, nil
}

// NoteReceipt records another user's receipt for Info (this user's own
// receipts, from its other devices, are not member receipts). A receipt
// without a time is taken as seen now.
func (t *Tools) NoteReceipt(ctx context.Context, conv parley.ConversationID, user parley.UserID, kind parley.ReceiptKind, seq parley.Seq, at time.Time) error {
	if user == t.Self() || seq <= 0 {
		return nil
	}
	if at.IsZero() {
		at = t.Now()
	}
	return storeErr(t.Store.NoteReceipt(ctx, conv, user, kind, seq, at))
}

// Mute mutes the chat ref for d (Always: until unmuted; 0: unmutes it)
// and returns the chat and its marks.
func (t *Tools) Mute(ctx context.Context, ref string, d time.Duration) (localstore.Chat, localstore.ChatMarks, error) {
	if d < 0 && d != Always {
		return localstore.Chat{}, localstore.ChatMarks{}, parley.Errorf(parley.CodeInvalid, ReasonBadMute, "mute for a positive duration, or always")
	}
	return t.mark(ctx, ref, func(ch *localstore.Chat, m *localstore.ChatMarks) error {
		forever := d == Always
		m.MutedUntil = time.Time{}
		if d > 0 {
			m.MutedUntil = t.Now().Add(d)
		}
		if ch.Muted != forever {
			nc, err := t.Store.SetChatFlags(ctx, ch.ID, localstore.ChatFlags{Muted: &forever})
			if err != nil {
				return storeErr(err)
			}
			*ch = nc
		}
		return nil
	})
}

// MarkUnread marks the chat ref unread (on) until it is opened, or clears
// the mark.
func (t *Tools) MarkUnread(ctx context.Context, ref string, on bool) (localstore.Chat, localstore.ChatMarks, error) {
	return t.mark(ctx, ref, func(_ *localstore.Chat, m *localstore.ChatMarks) error {
		m.Unread = on
		return nil
	})
}

func (t *Tools) mark(ctx context.Context, ref string, f func(*localstore.Chat, *localstore.ChatMarks) error) (localstore.Chat, localstore.ChatMarks, error) {
	ch, err := t.Chat(ctx, ref)
	if err != nil {
		return ch, localstore.ChatMarks{}, err
	}
	all, err := t.Store.ChatMarks(ctx)
	if err != nil {
		return ch, localstore.ChatMarks{}, storeErr(err)
	}
	m := all[ch.ID]
	if err := f(&ch, &m); err != nil {
		return ch, m, err
	}
	return ch, m, storeErr(t.Store.SetChatMarks(ctx, ch.ID, m))
}

// Marks returns the marks of every chat that has some; a mute that has
// run out is left out (and Muted reports it).
func (t *Tools) Marks(ctx context.Context) (map[parley.ConversationID]localstore.ChatMarks, error) {
	all, err := t.Store.ChatMarks(ctx)
	if err != nil {
		return nil, storeErr(err)
	}
	now := t.Now()
	for id, m := range all {
		if !m.MutedUntil.IsZero() && !m.MutedUntil.After(now) {
			m.MutedUntil = time.Time{}
			if m.IsZero() {
				delete(all, id)
			} else {
				all[id] = m
			}
		}
	}
	return all, nil
}

// Muted reports whether ch is muted now: for good, or until a later time.
func Muted(ch localstore.Chat, m localstore.ChatMarks, now time.Time) bool {
	return ch.Muted || m.MutedUntil.After(now)
}

// storeErr passes the store's parley errors (not found…) through and
// reports any other failure as localstore.Failed.
func storeErr(err error) error {
	if _, ok := errors.AsType[*parley.Error](err); ok || err == nil {
		return err
	}
	return localstore.Failed(err)
}
