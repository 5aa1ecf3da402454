package client

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client/localstore"
	"github.com/parleyhq/parley/content"
	"github.com/parleyhq/parley/proto/parleypb"
)

// mentions resolves the @username mentions of text to members of the chat;
// @everyone is for group admins (CodeForbidden "admins_only_everyone").
func (c *Client) mentions(ctx context.Context, conv parley.ConversationID, text string) (content.Ext, error) {
	var ext content.Ext
	var members []parley.UserID
	for _, name := range content.MentionNames(text) {
		if strings.EqualFold(name, "everyone") {
			g, err := c.Group(ctx, string(conv))
			if err != nil || !g.IsAdmin(c.Account().User) {
				return ext, parley.Errorf(parley.CodeForbidden, ReasonAdminsOnlyEveryone, "only group admins can mention @everyone")
			}
			ext.Everyone = true
			continue
		}
		if members == nil {
			ms, err := c.Members(ctx, string(conv))
			if err != nil {
				return ext, err
			}
			for _, d := range ms {
				members = append(members, d.User)
			}
		}
		ct, err := c.Resolve(ctx, "@"+name)
		if err != nil || !slices.Contains(members, ct.User) || slices.Contains(ext.Mentions, ct.User) {
			continue // not a member: plain text
		}
		ext.Mentions = append(ext.Mentions, ct.User)
	}
	return ext, nil
}

// SendText sends a text message to a chat, optionally as a reply to the
// message replyTo (its seq, 0 for none), with its @mentions resolved to the
// chat's members (@everyone: group admins only).
func (c *Client) SendText(ctx context.Context, chat string, text string, replyTo parley.Seq) (MessageRecord, error) {
	if strings.TrimSpace(text) == "" {
		return MessageRecord{}, parley.Errorf(parley.CodeInvalid, parley.ReasonEmptyMessage, "the message is empty")
	}
	if err := c.Sync(ctx); err != nil {
		return MessageRecord{}, err
	}
	conv, err := c.sendTarget(ctx, chat)
	if err != nil {
		return MessageRecord{}, err
	}
	ext, err := c.mentions(ctx, conv, text)
	if err != nil {
		return MessageRecord{}, err
	}
	if replyTo > 0 {
		if _, err := c.store.Message(ctx, conv, replyTo); err != nil {
			return MessageRecord{}, parley.Errorf(parley.CodeNotFound, localstore.ReasonNoMessage, "no message %s on this device to reply to", FormatMessageID(conv, replyTo))
		}
		ext.ReplyTo = replyTo
	}
	return c.sendExt(ctx, conv, MessageRecord{Kind: KindText, Text: text}, ext)
}

// Reply sends text as a reply to the message messageID ("CHAT:SEQ").
func (c *Client) Reply(ctx context.Context, messageID, text string) (MessageRecord, error) {
	conv, seq, err := ParseMessageID(messageID)
	if err != nil {
		return MessageRecord{}, err
	}
	return c.SendText(ctx, string(conv), text, seq)
}

// CreatePoll sends a poll: a question with 2 to MaxPollOptions options.
func (c *Client) CreatePoll(ctx context.Context, chat string, p PollSpec) (MessageRecord, error) {
	p.Question = strings.TrimSpace(p.Question)
	if p.Question == "" || len(p.Options) < 2 || len(p.Options) > MaxPollOptions {
		return MessageRecord{}, parley.Errorf(parley.CodeInvalid, ReasonPoll, "a poll has a question and 2 to %d options", MaxPollOptions)
	}
	for i, o := range p.Options {
		p.Options[i] = strings.TrimSpace(o)
		if p.Options[i] == "" || len(o) > content.MaxOptionBytes || slices.Contains(p.Options[:i], p.Options[i]) {
			return MessageRecord{}, parley.Errorf(parley.CodeInvalid, ReasonPollOption, "poll options are distinct, not empty, and at most %d bytes", content.MaxOptionBytes)
		}
	}
	if err := c.Sync(ctx); err != nil {
		return MessageRecord{}, err
	}
	conv, err := c.sendTarget(ctx, chat)
	if err != nil {
		return MessageRecord{}, err
	}
	return c.sendExt(ctx, conv, MessageRecord{Kind: KindPoll, Text: p.Question}, content.Ext{Poll: &p})
}

// sendExt sends a stored message (text or poll) with a body extension: like
// sendContent, it is stored as pending first and resent under its client id.
func (c *Client) sendExt(ctx context.Context, conv parley.ConversationID, m MessageRecord, ext content.Ext) (MessageRecord, error) {
	m.ClientID = parley.NewClientMessageID()
	for attempt := 0; ; attempt++ {
		acct := c.Account()
		now := c.clock.Now()
		rec := MessageRecord{Conversation: conv, ClientID: m.ClientID, Sender: acct.User, SenderDevice: acct.Device, Outgoing: true,
			Kind: m.Kind, Text: m.Text, Business: m.Business, SentAt: now, StoredAt: now, Status: StatusPending}
		b := content.RecordBody(rec)
		b.Ext = &ext
		c.cryptoMu.Lock()
		g, payload, err := c.encryptBody(ctx, conv, b)
		if err == nil {
			rec.Payload, rec.Epoch = payload, g.Epoch()
			if err = c.store.PutExtras(ctx, conv, acct.Device, rec.ClientID, ext); err != nil {
				c.forgetGroup(conv)
				err = storeErr(err)
			} else {
				// The group's new state and the pending message, atomically.
				err = c.saveGroup(ctx, conv, g, Applied{Message: &rec})
			}
		}
		c.cryptoMu.Unlock()
		if err != nil {
			return MessageRecord{}, err
		}
		sent, err := c.deliver(ctx, rec)
		if parley.ErrorReason(err) == parley.ReasonWrongEpoch && attempt < 3 {
			if err := c.Sync(ctx); err != nil {
				return sent, err
			}
			continue
		}
		return sent, err
	}
}

// encryptBody encrypts a body with the chat's group; the caller saves the
// group's advanced state (saveGroup) and holds cryptoMu.
func (c *Client) encryptBody(ctx context.Context, conv parley.ConversationID, b content.Body) (group, []byte, error) {
	g, err := c.loadGroup(ctx, conv)
	if err == nil && g == nil {
		err = parley.Errorf(parley.CodeNotFound, localstore.ReasonNotJoined, "this device is not in chat %s", conv)
	}
	if err != nil {
		return nil, nil, err
	}
	payload, err := g.Encrypt(content.Encode(b), nil)
	if err != nil {
		c.forgetGroup(conv)
		return nil, nil, fmt.Errorf("encrypt: %w", err)
	}
	return g, payload, nil
}

// sendControl sends a control message (reaction, edit, delete, vote) about
// conv:ext.Target and applies it here once the server has it (the server
// does not echo a device's own envelopes).
func (c *Client) sendControl(ctx context.Context, conv parley.ConversationID, kind, text string, ext content.Ext) (parley.Seq, error) {
	cid := parley.NewClientMessageID()
	for attempt := 0; ; attempt++ {
		acct := c.Account()
		b := content.Body{Kind: kind, Text: text, SentAt: c.clock.Now().UnixMilli(), ClientID: string(cid), Ext: &ext}
		c.cryptoMu.Lock()
		g, payload, err := c.encryptBody(ctx, conv, b)
		var epoch parley.Epoch
		if err == nil {
			epoch = g.Epoch()
			err = c.saveGroup(ctx, conv, g, Applied{})
		}
		c.cryptoMu.Unlock()
		if err != nil {
			return 0, err
		}
		f, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Send{Send: &parleypb.SendRequest{
			ConversationId: string(conv), ClientId: string(cid), Kind: uint32(parley.EnvelopeApplication),
			Epoch: uint64(epoch), Payload: payload}}}, true)
		if parley.ErrorReason(err) == parley.ReasonWrongEpoch && attempt < 3 {
			if err := c.Sync(ctx); err != nil {
				return 0, err
			}
			continue
		}
		if err != nil {
			return 0, errorf("send "+kind, err)
		}
		seq := parley.Seq(f.GetSent().GetSeq())
		c.cryptoMu.Lock()
		_, err = c.applyControl(ctx, conv, seq, acct.User, b)
		if err == nil {
			c.advanceOwn(ctx, conv, []int64{int64(seq)})
		}
		c.cryptoMu.Unlock()
		return seq, err
	}
}

// target returns the message messageID names, after catching up.
func (c *Client) target(ctx context.Context, messageID string) (MessageRecord, error) {
	if err := c.Sync(ctx); err != nil {
		return MessageRecord{}, err
	}
	m, err := c.Message(ctx, messageID)
	if err != nil {
		return m, err
	}
	if m.Kind == KindDeleted {
		return m, parley.Errorf(parley.CodeNotFound, ReasonMessageDeleted, "message %s was deleted", messageID)
	}
	return m, nil
}

// React sets this user's reaction to a message ("" removes it). One
// reaction per person per message: a new one replaces the old.
func (c *Client) React(ctx context.Context, messageID, emoji string) error {
	emoji = strings.TrimSpace(emoji)
	if len(emoji) > content.MaxEmojiBytes || !utf8.ValidString(emoji) {
		return parley.Errorf(parley.CodeInvalid, ReasonEmoji, "a reaction is one emoji")
	}
	m, err := c.target(ctx, messageID)
	if err != nil {
		return err
	}
	_, err = c.sendControl(ctx, m.Conversation, KindReaction, "", content.Ext{Target: m.Seq, Emoji: emoji})
	return err
}

// Edit replaces the text of one of this user's text messages, within
// EditWindow of sending it (CodeForbidden "not_sender", CodeExpired
// "edit_window").
func (c *Client) Edit(ctx context.Context, messageID, text string) error {
	if strings.TrimSpace(text) == "" {
		return parley.Errorf(parley.CodeInvalid, parley.ReasonEmptyMessage, "the message is empty")
	}
	m, err := c.target(ctx, messageID)
	if err != nil {
		return err
	}
	if m.Sender != c.Account().User {
		return parley.Errorf(parley.CodeForbidden, ReasonNotSender, "you can edit only your own messages")
	}
	if m.Kind != KindText {
		return parley.Errorf(parley.CodeInvalid, ReasonNotText, "only text messages can be edited")
	}
	if c.clock.Now().Sub(m.SentAt) > EditWindow {
		return parley.Errorf(parley.CodeExpired, ReasonEditWindow, "messages can be edited for %v after sending", EditWindow)
	}
	_, err = c.sendControl(ctx, m.Conversation, KindEdit, text, content.Ext{Target: m.Seq})
	return err
}

// Delete deletes a message for everyone: one's own within DeleteWindow, or
// anyone's in a group one administers (shown as "deleted by admin").
// CodeForbidden "not_sender", CodeExpired "delete_window".
func (c *Client) Delete(ctx context.Context, messageID string) error {
	m, err := c.target(ctx, messageID)
	if err != nil {
		return err
	}
	if m.Sender != c.Account().User {
		g, err := c.Group(ctx, string(m.Conversation))
		if err != nil || !g.IsAdmin(c.Account().User) {
			return parley.Errorf(parley.CodeForbidden, ReasonNotSender, "you can delete only your own messages (or any, as a group admin)")
		}
	} else if c.clock.Now().Sub(m.SentAt) > DeleteWindow {
		return parley.Errorf(parley.CodeExpired, ReasonDeleteWindow, "messages can be deleted for everyone for %v after sending", DeleteWindow)
	}
	_, err = c.sendControl(ctx, m.Conversation, KindDelete, "", content.Ext{Target: m.Seq})
	return err
}

// Vote sets this user's choices in a poll (option indexes from 0; none
// retracts the vote). Votes are changeable; a single-choice poll takes one.
func (c *Client) Vote(ctx context.Context, messageID string, choices []int) error {
	m, err := c.target(ctx, messageID)
	if err != nil {
		return err
	}
	if m.Kind != KindPoll {
		return parley.Errorf(parley.CodeInvalid, ReasonNotPoll, "message %s is not a poll", messageID)
	}
	ex, err := c.Extras(ctx, m.Conversation, m.Seq)
	if err != nil {
		return err
	}
	if ex.Poll == nil {
		return parley.Errorf(parley.CodeInvalid, ReasonNotPoll, "message %s is not a poll", messageID)
	}
	if err := content.ValidChoices(&ex.Poll.PollSpec, choices); err != nil {
		return err
	}
	_, err = c.sendControl(ctx, m.Conversation, KindVote, "", content.Ext{Target: m.Seq, Choices: choices})
	return err
}

// Extras returns what the message kinds add to the message conv:seq.
func (c *Client) Extras(ctx context.Context, conv parley.ConversationID, seq parley.Seq) (Extras, error) {
	m, err := c.ExtrasOf(ctx, conv, []parley.Seq{seq})
	return m[seq], err
}

// ExtrasOf returns the extras of messages of a chat, by seq (messages
// without extras are left out).
func (c *Client) ExtrasOf(ctx context.Context, conv parley.ConversationID, seqs []parley.Seq) (map[parley.Seq]Extras, error) {
	if err := c.expireChat(ctx, conv); err != nil {
		return nil, err
	}
	m, err := c.store.Extras(ctx, conv, seqs)
	return m, storeErr(err)
}

// applyKind is called for every decrypted incoming application message
// before it is stored. It records the extras of a message (reply, mentions,
// poll) and returns done=false; for a control message it applies the
// effect and returns done=true: the caller then only advances the cursor.
// The caller holds cryptoMu.
func (c *Client) applyKind(ctx context.Context, conv parley.ConversationID, seq parley.Seq, sender parley.UserID, device parley.DeviceID, b content.Body) (bool, error) {
	if err := c.expireChat(ctx, conv); err != nil {
		return false, err
	}
	if k := b.Ext; b.Kind == content.KindStatusKey && k != nil && k.StatusKey != nil { // a status key (client/status)
		return true, storeErr(c.store.PutStatusKey(ctx, localstore.StatusKey{Poster: sender, ID: k.StatusKey.ID, Key: k.StatusKey.Key, At: c.clock.Now()}))
	}
	if content.IsControl(b.Kind) {
		return c.applyControl(ctx, conv, seq, sender, b)
	}
	if b.Ext == nil {
		return false, nil
	}
	ext := *b.Ext
	ext.Target, ext.Emoji, ext.Choices = 0, "", nil
	if b.Kind != KindPoll {
		ext.Poll = nil
	}
	if ext.Everyone && !c.isAdmin(ctx, conv, sender) {
		ext.Everyone = false
	}
	return false, storeErr(c.store.PutExtras(ctx, conv, device, parley.ClientMessageID(b.ClientID), ext))
}

// isAdmin reports whether user is an admin of the group conv (false for
// other chats or when the server cannot say).
func (c *Client) isAdmin(ctx context.Context, conv parley.ConversationID, user parley.UserID) bool {
	g, err := c.Group(ctx, string(conv))
	return err == nil && g.IsAdmin(user)
}

// applyControl applies a control message from sender, after checking it
// against the rules every device enforces (a control message breaking them
// is dropped: done, with no effect). The caller holds cryptoMu.
func (c *Client) applyControl(ctx context.Context, conv parley.ConversationID, seq parley.Seq, sender parley.UserID, b content.Body) (bool, error) {
	if b.Ext == nil || b.Ext.Target <= 0 {
		return true, nil
	}
	t, err := c.store.Message(ctx, conv, b.Ext.Target)
	if err != nil || t.Kind == KindDeleted {
		return true, nil // unknown here (before we joined) or deleted
	}
	sentAt := time.UnixMilli(b.SentAt)
	switch b.Kind {
	case KindReaction:
		if len(b.Ext.Emoji) > content.MaxEmojiBytes {
			return true, nil
		}
		err = c.store.React(ctx, conv, t.Seq, sender, b.Ext.Emoji, seq)
	case KindEdit:
		if t.Sender != sender || t.Kind != KindText || sentAt.Sub(t.SentAt) > EditWindow || strings.TrimSpace(b.Text) == "" {
			return true, nil
		}
		err = c.store.Edit(ctx, conv, t.Seq, b.Text, sentAt, seq)
	case KindDelete:
		admin := false
		if t.Sender != sender {
			if admin = c.isAdmin(ctx, conv, sender); !admin {
				return true, nil
			}
		} else if sentAt.Sub(t.SentAt) > DeleteWindow {
			return true, nil
		}
		err = c.store.DeleteMessage(ctx, conv, t.Seq, sender, admin)
	case KindVote:
		ex, xerr := c.store.Extras(ctx, conv, []parley.Seq{t.Seq})
		if xerr != nil {
			return true, storeErr(xerr)
		}
		p := ex[t.Seq].Poll
		if p == nil || content.ValidChoices(&p.PollSpec, b.Ext.Choices) != nil {
			return true, nil
		}
		err = c.store.Vote(ctx, conv, t.Seq, sender, b.Ext.Choices, seq)
	}
	if err != nil {
		return true, storeErr(err)
	}
	c.emit(Event{Kind: EventMessage, Conversation: conv, Message: &MessageRecord{Conversation: conv, Seq: seq,
		ClientID: parley.ClientMessageID(b.ClientID), Sender: sender, Outgoing: sender == c.Account().User, Kind: b.Kind,
		Text: content.ControlText(b, t.ID()), Target: t.Seq, Emoji: b.Ext.Emoji, SentAt: sentAt, StoredAt: c.clock.Now(), Status: StatusReceived}})
	return true, nil
}

// SetDisappearing sets a chat's disappearing-messages timer: 0 (off), 24h,
// 7 days or 90 days. Every member's devices then delete messages older than
// the timer, and the server deletes them from its log. In a group whose
// info only admins edit, only admins may (CodeForbidden
// "admins_only_edit_info").
func (c *Client) SetDisappearing(ctx context.Context, chat string, ttl time.Duration) error {
	id, err := c.chatID(ctx, chat)
	if err != nil {
		return err
	}
	ch := Chat{ID: id}
	secs := uint32(ttl / time.Second)
	if _, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_ChatTimer{ChatTimer: &parleypb.ChatTimerRequest{
		ConversationId: string(ch.ID), Seconds: &secs}}}, true); err != nil {
		return errorf("set disappearing messages", err)
	}
	if err := c.store.SetTimer(ctx, ch.ID, ttl); err != nil {
		return storeErr(err)
	}
	return c.expireChat(ctx, ch.ID)
}

// Disappearing returns a chat's disappearing-messages timer as the server
// has it (0: off).
func (c *Client) Disappearing(ctx context.Context, chat string) (time.Duration, error) {
	id, err := c.chatID(ctx, chat)
	if err != nil {
		return 0, err
	}
	f, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_ChatTimer{ChatTimer: &parleypb.ChatTimerRequest{
		ConversationId: string(id)}}}, true)
	if err != nil {
		return 0, errorf("disappearing messages", err)
	}
	return time.Duration(f.GetChatTimer().GetSeconds()) * time.Second, nil
}

// ExpireMessages deletes, in every chat with a timer, the messages older
// than the timer. Incoming messages and Extras do it for their chat.
func (c *Client) ExpireMessages(ctx context.Context) error {
	ts, err := c.store.Timers(ctx)
	if err != nil {
		return storeErr(err)
	}
	now := c.clock.Now()
	for conv, ttl := range ts {
		if _, err := c.store.Expire(ctx, conv, now.Add(-ttl)); err != nil {
			return storeErr(err)
		}
	}
	return nil
}

// expireChat deletes conv's messages older than its timer, if any.
func (c *Client) expireChat(ctx context.Context, conv parley.ConversationID) error {
	ts, err := c.store.Timers(ctx)
	if err != nil {
		return storeErr(err)
	}
	if ttl, ok := ts[conv]; ok {
		_, err = c.store.Expire(ctx, conv, c.clock.Now().Add(-ttl))
	}
	return storeErr(err)
}

// noteSystem reads a system envelope for what the message kinds need: a
// chat's disappearing-messages timer. The caller holds cryptoMu.
func (c *Client) noteSystem(ctx context.Context, conv parley.ConversationID, payload []byte) error {
	var p struct {
		DisappearSeconds *int64 `json:"disappear_s"`
	}
	if json.Unmarshal(payload, &p) != nil || p.DisappearSeconds == nil {
		return nil
	}
	if err := c.store.SetTimer(ctx, conv, time.Duration(*p.DisappearSeconds)*time.Second); err != nil {
		return storeErr(err)
	}
	c.emit(Event{Kind: EventConversation, Conversation: conv})
	return c.expireChat(ctx, conv)
}

// chatID resolves a chat reference (a chat id, +PHONE, @USERNAME, or a
// group's name) after catching up with the server.
func (c *Client) chatID(ctx context.Context, ref string) (parley.ConversationID, error) {
	if err := c.Sync(ctx); err != nil {
		return "", err
	}
	ch, err := c.Chat(ctx, ref)
	if err == nil {
		return ch.ID, nil
	}
	if g, gerr := c.Group(ctx, ref); gerr == nil {
		return g.ID, nil
	}
	return "", err
}

// sendTarget resolves where to send: a chat id this device has, a group by
// its unambiguous name, or a person (whose direct chat is found or made).
func (c *Client) sendTarget(ctx context.Context, ref string) (parley.ConversationID, error) {
	if id := parley.ConversationID(ref); id.Valid() {
		if _, err := c.store.Chat(ctx, id); err == nil {
			return id, nil
		}
	}
	if t := strings.TrimSpace(ref); t != "" && !strings.HasPrefix(t, "+") && !strings.HasPrefix(t, "@") {
		if g, err := c.Group(ctx, t); err == nil && g.IsMember(c.Account().User) {
			return g.ID, nil
		}
	}
	return c.resolveChat(ctx, ref, true)
}

// StatusStore is the device's status keys, state, mutes and seen posts (client/status).
func (c *Client) StatusStore() localstore.StatusStore { return c.store }

// SendStatusKey sends k to the direct chat conv as a control message, never listed (client/status).
func (c *Client) SendStatusKey(ctx context.Context, conv parley.ConversationID, k content.StatusKey) (err error) {
	_, err = c.sendControl(ctx, conv, content.KindStatusKey, "", content.Ext{StatusKey: &k})
	return err
}

// ReplyToStatus sends text to conv quoting the status post q (client/status).
func (c *Client) ReplyToStatus(ctx context.Context, conv parley.ConversationID, text string, q content.StatusQuote) (MessageRecord, error) {
	return c.sendNow(ctx, conv, MessageRecord{Kind: KindText, Text: text}, content.Ext{Status: &q})
}
