// Package bot is a small SDK for business bots on the Parley client core: a
// Bot runs on the business's own device (a profile of its account, linked
// like any device), so customers' chats stay end-to-end encrypted between
// the customer and the bot. It routes each incoming customer message to a
// handler — by command ("/status 42" or "status 42"), by keyword, by the id
// of the reply button or list row the customer chose, for orders — and
// handlers answer with text, reply buttons, lists or any business content.
//
// Guarantees: messages are handled one at a time in arrival order; a
// handler's error is logged and does not stop the bot; greeting and away
// messages (the profile's auto replies) run before the handlers when
// Options.AutoReply is set. The bot handles what arrives while it runs:
// messages received while it was stopped are in the profile's history, not
// replayed.
//
// The same bots can run against the HTTP API instead (the business's number
// behind the hosted endpoint, webhooks in, POST /messages out): see
// bot/examples/httpfaq.
package bot

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"unicode"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/client/status"
)

// Handler answers one message.
type Handler func(m *Message) error

// Options tune a Bot.
type Options struct {
	Log *slog.Logger // default: discard
	// AutoReply runs the business profile's greeting and away messages
	// (client.BusinessAutoReply) for every customer message.
	AutoReply bool
}

// Bot routes a business device's incoming messages to handlers.
type Bot struct {
	c    *client.Client
	opts Options
	log  *slog.Logger

	commands map[string]Handler
	keywords []keyword
	choices  map[string]Handler
	prefixes []prefix
	order    Handler
	fallback Handler
	outgoing Handler
}

type keyword struct {
	words []string
	h     Handler
}

type prefix struct {
	p string
	h Handler
}

// New returns a Bot on c, an open, registered client of the business
// (opened with Events: true so Run gets messages).
func New(c *client.Client, opts Options) *Bot {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Bot{c: c, opts: opts, log: opts.Log, commands: map[string]Handler{}, choices: map[string]Handler{}}
}

// Client returns the bot's client.
func (b *Bot) Client() *client.Client { return b.c }

// Status is the bot's side of Status, 24-hour stories (package
// client/status: Post, List, View, Viewers, Delete, Reply, Mute).
func (b *Bot) Status() *status.Status { return status.New(b.c, nil) }

// Command routes text messages whose first word is name, with or without a
// leading "/", compared case-insensitively; Message.Args holds the words
// after it.
func (b *Bot) Command(name string, h Handler) {
	b.commands[strings.ToLower(strings.TrimPrefix(name, "/"))] = h
}

// Keyword routes text messages containing any of words (whole words,
// case-insensitive), checked in registration order after commands.
func (b *Bot) Keyword(words []string, h Handler) {
	lw := make([]string, len(words))
	for i, w := range words {
		lw[i] = strings.ToLower(w)
	}
	b.keywords = append(b.keywords, keyword{lw, h})
}

// Choice routes the customer's choice of the reply button or list row with
// this id. An id ending in "*" matches every id with that prefix (for
// example "faq:*").
func (b *Bot) Choice(id string, h Handler) {
	if p, ok := strings.CutSuffix(id, "*"); ok {
		b.prefixes = append(b.prefixes, prefix{p, h})
		return
	}
	b.choices[id] = h
}

// Order routes orders (a customer's cart).
func (b *Bot) Order(h Handler) { b.order = h }

// Outgoing handles messages this account sent from its other devices (for
// example order statuses the owner sets with `parley business order
// status`), so a bot can follow what the people of the business do.
func (b *Bot) Outgoing(h Handler) { b.outgoing = h }

// Default handles what no other route took.
func (b *Bot) Default(h Handler) { b.fallback = h }

// Run handles the client's messages until ctx ends (nil) or the device is
// revoked (an unauthenticated error).
func (b *Bot) Run(ctx context.Context) error {
	events := b.c.Events()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-events:
			switch ev.Kind {
			case client.EventMessage:
				if err := b.Handle(ctx, *ev.Message); err != nil {
					b.log.Warn("bot handler failed", "chat", ev.Conversation, "seq", ev.Message.Seq, "err", err)
				}
			case client.EventConnection:
				if ev.Err != nil && parley.IsCode(ev.Err, parley.CodeUnauthenticated) {
					return ev.Err
				}
			}
		}
	}
}

// Handle routes one message: customers' messages to the routes below,
// this account's messages from other devices to Outgoing, nothing else.
// It returns the handler's error.
func (b *Bot) Handle(ctx context.Context, msg client.MessageRecord) error {
	acct := b.c.Account()
	if msg.Seq <= 0 {
		return nil
	}
	if msg.Outgoing || msg.Sender == acct.User {
		if b.outgoing == nil || msg.SenderDevice == acct.Device {
			return nil
		}
		return b.outgoing(&Message{ctx: ctx, bot: b, Record: msg, Text: strings.TrimSpace(msg.Text)})
	}
	if b.opts.AutoReply {
		if err := b.c.BusinessAutoReply(ctx, msg); err != nil {
			b.log.Warn("auto reply failed", "chat", msg.Conversation, "err", err)
		}
	}
	m := &Message{ctx: ctx, bot: b, Record: msg, Text: strings.TrimSpace(msg.Text)}
	h := b.route(m)
	if h == nil {
		return nil
	}
	return h(m)
}

func (b *Bot) route(m *Message) Handler {
	if bc := m.Record.Business; bc != nil {
		switch {
		case bc.Reply != nil:
			m.Choice = bc.Reply.ID
			if h, ok := b.choices[bc.Reply.ID]; ok {
				return h
			}
			for _, p := range b.prefixes {
				if strings.HasPrefix(bc.Reply.ID, p.p) {
					return p.h
				}
			}
		case bc.Order != nil && b.order != nil:
			return b.order
		}
		return b.fallback
	}
	if m.Text == "" {
		return b.fallback
	}
	words := strings.Fields(m.Text)
	if h, ok := b.commands[strings.ToLower(strings.TrimPrefix(words[0], "/"))]; ok {
		m.Args = words[1:]
		return h
	}
	lower := strings.FieldsFunc(strings.ToLower(m.Text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
	for _, k := range b.keywords {
		for _, w := range k.words {
			for _, tw := range lower {
				if tw == w {
					return k.h
				}
			}
		}
	}
	return b.fallback
}

// Message is one incoming message being handled.
type Message struct {
	ctx    context.Context
	bot    *Bot
	Record client.MessageRecord
	Text   string   // the trimmed text
	Args   []string // for a command: the words after it
	Choice string   // for a button or list reply: the chosen id
}

// Context is the handler's context.
func (m *Message) Context() context.Context { return m.ctx }

// Customer is the sender.
func (m *Message) Customer() parley.UserID { return m.Record.Sender }

// Order is the order of an order message (nil otherwise).
func (m *Message) Order() *client.OrderMessage {
	if m.Record.Business == nil {
		return nil
	}
	return m.Record.Business.Order
}

// Reply sends text to the chat, quoting the message.
func (m *Message) Reply(text string) error {
	_, err := m.bot.c.SendText(m.ctx, string(m.Record.Conversation), text, m.Record.Seq)
	return err
}

// Send sends business content (buttons, a list, a product, an order status…) to the chat.
func (m *Message) Send(bc client.BusinessContent) error {
	_, err := m.bot.c.SendBusiness(m.ctx, string(m.Record.Conversation), bc, 0)
	return err
}

// Button is a reply button: the id the bot gets back and the title shown.
type Button struct{ ID, Title string }

// ReplyButtons sends body with 1 to 3 reply buttons.
func (m *Message) ReplyButtons(body string, buttons ...Button) error {
	if len(buttons) == 0 || len(buttons) > 3 {
		return parley.Errorf(parley.CodeInvalid, ReasonBadButtons, "1 to 3 reply buttons, got %d", len(buttons))
	}
	im := &client.InteractiveMessage{Type: "button", Body: body}
	for _, bt := range buttons {
		im.Buttons = append(im.Buttons, client.ReplyButton{ID: bt.ID, Title: bt.Title})
	}
	return m.Send(client.BusinessContent{Interactive: im})
}

// ReplyList sends body with a list opened by buttonText; rows are (id, title).
func (m *Message) ReplyList(body, buttonText string, rows ...Button) error {
	sec := client.ListSection{}
	for _, r := range rows {
		sec.Rows = append(sec.Rows, client.ListRow{ID: r.ID, Title: r.Title})
	}
	return m.Send(client.BusinessContent{Interactive: &client.InteractiveMessage{Type: "list", Body: body, ButtonText: buttonText,
		Sections: []client.ListSection{sec}}})
}

// OrderStatus tells the customer an order's new status (client.OrderPaid …).
func (m *Message) OrderStatus(orderID, status, note string) error {
	return m.Send(client.BusinessContent{OrderStatus: &client.OrderStatusMessage{OrderID: orderID, Status: status, Note: note}})
}

// String describes the message for logs.
func (m *Message) String() string {
	return fmt.Sprintf("%s#%d from %s", m.Record.Conversation, m.Record.Seq, m.Record.Sender)
}
