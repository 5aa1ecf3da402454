package client

import (
	"context"
	"github.com/parleyhq/parley/content"

	"github.com/parleyhq/parley"
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
			return MessageRecord{}, parley.Errorf(parley.CodeNotFound, "no_message", "no message %s on this device to reply to", FormatMessageID(conv, replyTo))
		}
		ext.ReplyTo = replyTo
	}
	return c.sendExt(ctx, conv, MessageRecord{Kind: bc.Kind(), Text: bc.Summary(), Business: &bc}, ext)
}

// businessOf fills in the Business content of ms's business messages.
func (c *Client) businessOf(ctx context.Context, ms []MessageRecord) error {
	return c.store.BusinessOf(ctx, ms)
}
