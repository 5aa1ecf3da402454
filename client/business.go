package client

import (
	"context"
	"log/slog"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/attachment"
	"github.com/parleyhq/parley/client/biz"
	"github.com/parleyhq/parley/client/localstore"
	"github.com/parleyhq/parley/content"
	"github.com/parleyhq/parley/proto/parleypb"
)

// SendBusiness sends a business message to a chat (a chat id, +PHONE or
// @USERNAME, as SendText), optionally as a reply to the message replyTo
// (its seq, 0 for none; an interactive_reply replies to the interactive
// message it answers). The message's kind is bc.Kind() and its Text is
// bc.Summary(). Errors: CodeInvalid from Validate, then as SendText.
func (c *Client) SendBusiness(ctx context.Context, chat string, bc BusinessContent, replyTo parley.Seq) (MessageRecord, error) {
	if err := bc.Validate(); err != nil {
		return MessageRecord{}, err
	}
	if err := c.Sync(ctx); err != nil {
		return MessageRecord{}, err
	}
	conv, err := c.sendTarget(ctx, chat)
	if err != nil {
		return MessageRecord{}, err
	}
	ext := content.Ext{Biz: &bc}
	if replyTo > 0 {
		if _, err := c.store.Message(ctx, conv, replyTo); err != nil {
			return MessageRecord{}, parley.Errorf(parley.CodeNotFound, localstore.ReasonNoMessage, "no message %s on this device to reply to", FormatMessageID(conv, replyTo))
		}
		ext.ReplyTo = replyTo
	}
	return c.sendExt(ctx, conv, MessageRecord{Kind: bc.Kind(), Text: bc.Summary(), Business: &bc}, ext)
}

// businessOf fills in the Business content of ms's business messages.
func (c *Client) businessOf(ctx context.Context, ms []MessageRecord) error {
	return c.store.BusinessOf(ctx, ms)
}

// Types and functions of the business features: see package biz.
type (
	CartItem    = biz.CartItem
	AutoReplies = biz.AutoReplies
)

// ProductImageOf is the catalog record of an uploaded image's descriptor
// (biz.ProductImageOf).
func ProductImageOf(d attachment.Descriptor) parley.ProductImage { return biz.ProductImageOf(d) }

// bizCore is the Client as package biz sees it (biz.Core).
type bizCore struct{ *Client }

func (b bizCore) Request(ctx context.Context, f *parleypb.ClientFrame) (*parleypb.ServerFrame, error) {
	return b.request(ctx, f, true)
}
func (b bizCore) WithGroup(ctx context.Context, conv parley.ConversationID, f func(group) error) error {
	b.cryptoMu.Lock() // calls.Core: the chat's group, for call keys
	defer b.cryptoMu.Unlock()
	g, err := b.loadGroup(ctx, conv)
	if err == nil {
		err = f(g)
	}
	return err
}
func (b bizCore) Store() LocalStore                        { return b.store }
func (b bizCore) Now() time.Time                           { return b.clock.Now() }
func (b bizCore) Logger() *slog.Logger                     { return b.log }
func (b bizCore) Attachments() (*attachment.Client, error) { return b.attachments() }
func (b bizCore) ChatID(ctx context.Context, ref string) (parley.ConversationID, error) {
	return b.chatID(ctx, ref)
}
func (b bizCore) SendTarget(ctx context.Context, ref string) (parley.ConversationID, error) {
	return b.sendTarget(ctx, ref)
}
func (b bizCore) Target(ctx context.Context, id string) (MessageRecord, error) {
	return b.target(ctx, id)
}
func (b bizCore) SendMedia(ctx context.Context, conv parley.ConversationID, d attachment.Descriptor) (MessageRecord, error) {
	return b.sendMedia(ctx, conv, d, false)
}
