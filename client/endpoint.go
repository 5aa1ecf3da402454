package client

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/attachment"
	"github.com/parleyhq/parley/client/localstore"
	"github.com/parleyhq/parley/content"
	"github.com/parleyhq/parley/proto/parleypb"
)

// This file holds the send path of always-online endpoints (the server's
// hosted business endpoint, bots): they stay connected and process pushes
// as they arrive, so unlike Send and SendText these methods do not first
// catch up with the server (Sync lists every conversation, which costs as
// much as the endpoint has chats). A send in a stale epoch is refused by
// the server with wrong_epoch; the send then catches up and retries, as
// every send does.

// DirectChat returns the direct chat with a person ("+E164", "@username" or
// a user id), creating it when there is none.
func (c *Client) DirectChat(ctx context.Context, who string) (parley.ConversationID, error) {
	return c.resolveChat(ctx, who, true)
}

// SendTextTo sends text to the chat conv without catching up first,
// optionally replying to the message replyTo (0 for none). Errors as SendText.
func (c *Client) SendTextTo(ctx context.Context, conv parley.ConversationID, text string, replyTo parley.Seq) (MessageRecord, error) {
	if strings.TrimSpace(text) == "" {
		return MessageRecord{}, parley.Errorf(parley.CodeInvalid, parley.ReasonEmptyMessage, "the message is empty")
	}
	return c.sendNow(ctx, conv, MessageRecord{Kind: KindText, Text: text}, content.Ext{ReplyTo: replyTo})
}

// SendBusinessTo sends business content to the chat conv without catching
// up first. Errors as SendBusiness.
func (c *Client) SendBusinessTo(ctx context.Context, conv parley.ConversationID, bc BusinessContent, replyTo parley.Seq) (MessageRecord, error) {
	if err := bc.Validate(); err != nil {
		return MessageRecord{}, err
	}
	return c.sendNow(ctx, conv, MessageRecord{Kind: bc.Kind(), Text: bc.Summary(), Business: &bc}, content.Ext{Biz: &bc, ReplyTo: replyTo})
}

// SendDescriptorTo sends a location or contact descriptor (attachment.
// NewLocation, attachment.NewContact) to the chat conv without catching up.
func (c *Client) SendDescriptorTo(ctx context.Context, conv parley.ConversationID, d attachment.Descriptor) (MessageRecord, error) {
	if d.HasBlob() {
		return MessageRecord{}, parley.Errorf(parley.CodeInvalid, ReasonNeedsUpload, "a file is sent with SendFileTo")
	}
	return c.sendMedia(ctx, conv, d, false)
}

// ReactTo sets this user's reaction to the message seq of conv ("" removes
// it) without catching up first, and returns the reaction's own seq.
func (c *Client) ReactTo(ctx context.Context, conv parley.ConversationID, seq parley.Seq, emoji string) (parley.Seq, error) {
	emoji = strings.TrimSpace(emoji)
	if len(emoji) > content.MaxEmojiBytes || !utf8.ValidString(emoji) {
		return 0, parley.Errorf(parley.CodeInvalid, ReasonEmoji, "a reaction is one emoji")
	}
	if _, err := c.store.Message(ctx, conv, seq); err != nil {
		return 0, parley.Errorf(parley.CodeNotFound, localstore.ReasonNoMessage, "no message %s on this device", FormatMessageID(conv, seq))
	}
	return c.sendControl(ctx, conv, KindReaction, "", content.Ext{Target: seq, Emoji: emoji})
}

// MarkReadUpTo marks the chat conv read up to seq (this user's read
// receipt goes to the other members).
func (c *Client) MarkReadUpTo(ctx context.Context, conv parley.ConversationID, seq parley.Seq) error {
	if seq <= 0 {
		return parley.Errorf(parley.CodeInvalid, ReasonBadSeq, "nothing to mark read")
	}
	if _, err := c.store.Message(ctx, conv, seq); err != nil {
		return parley.Errorf(parley.CodeNotFound, localstore.ReasonNoMessage, "no message %s on this device", FormatMessageID(conv, seq))
	}
	if _, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Read{Read: &parleypb.ReadRequest{ConversationId: string(conv), Seq: int64(seq)}}}, true); err != nil {
		return errorf("mark read", err)
	}
	return storeErr(c.store.MarkRead(ctx, conv, seq))
}

// StartDirect returns a new direct chat with a person ("+E164", "@username"
// or a user id), created at once without looking for an existing one: for an
// endpoint that keeps its own index of chats (DirectChat lists every chat,
// which costs as much as the endpoint has). When the server already has a
// direct chat between the two users (CodeConflict "direct_exists") it falls
// back to DirectChat.
func (c *Client) StartDirect(ctx context.Context, who string) (parley.ConversationID, error) {
	ct, err := c.Resolve(ctx, who)
	if err != nil {
		return "", err
	}
	if ct.User == c.Account().User {
		return c.directWith(ctx, ct, true)
	}
	id, err := c.createDirect(ctx, ct)
	if parley.IsCode(err, parley.CodeConflict) {
		return c.directWith(ctx, ct, true)
	}
	return id, err
}

// sendNow sends a message with an extension to conv without catching up
// first, through the store's fast path (localstore.Store.PutPending):
// stored as pending with the group's new state in one transaction, sent,
// then marked sent with the cursor moved past it in one more (which a
// batching store commits later: the send returns once the server has the
// message). A send in a stale epoch catches up and is encrypted again, as
// every send is.
//
// The encryption and the queueing of the pending write happen under
// cryptoMu (writes commit in queue order, so a group's stored state never
// goes back); the wait for the commit does not, so concurrent sends share
// commits. The message goes to the server only after its own state is
// committed, so a generation of the sender's ratchet that a sent message
// used is always stored as used. If the write fails the in-memory group
// stays advanced: the store then holds an older state whose next
// generations were used at most by messages that were never sent.
func (c *Client) sendNow(ctx context.Context, conv parley.ConversationID, m MessageRecord, ext content.Ext) (MessageRecord, error) {
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
		var wait func() error
		if err == nil {
			rec.Payload, rec.Epoch = payload, g.Epoch()
			var state []byte
			if state, err = g.MarshalState(); err == nil {
				wait, err = c.store.QueuePending(ctx, conv, state, g.Epoch(), &rec, ext)
			}
			if err != nil {
				c.forgetGroup(conv)
				err = storeErr(err)
			} else {
				c.groups[conv] = g
			}
		}
		c.cryptoMu.Unlock()
		if err != nil {
			return MessageRecord{}, err
		}
		if err := wait(); err != nil {
			return MessageRecord{}, storeErr(err)
		}
		f, err := c.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Send{Send: &parleypb.SendRequest{
			ConversationId: string(conv), ClientId: string(rec.ClientID), Kind: uint32(parley.EnvelopeApplication),
			Epoch: uint64(rec.Epoch), Payload: rec.Payload}}}, true)
		if err != nil {
			if parley.ErrorReason(err) == parley.ReasonWrongEpoch && attempt < 3 {
				if err := c.Sync(ctx); err != nil {
					return rec, err
				}
				continue
			}
			return rec, errorf("send", err)
		}
		seq := parley.Seq(f.GetSent().GetSeq())
		if err := c.store.QueueMarkSent(ctx, conv, rec.ClientID, seq); err != nil {
			return rec, storeErr(err)
		}
		rec.Seq, rec.Status, rec.Payload = seq, StatusSent, nil
		return rec, nil
	}
}
