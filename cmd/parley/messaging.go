package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/apiclient"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/cmd/internal/render"
)

func send(x *call) error {
	fs := x.FS
	to := x.Need("to", "", "recipient: +PHONE, @username or a chat id")
	file := fs.String("file", "", "send this file (image, video, document: detected from its content)")
	voice := fs.String("voice", "", "send this audio file as a voice note")
	caption := fs.String("caption", "", "caption for --file or --voice")
	location := fs.String("location", "", "send a location: LAT,LON in decimal degrees")
	name := fs.String("name", "", "place name for --location")
	contact := fs.String("contact", "", "send a contact card: NAME,PHONE")
	replyTo := fs.String("reply-to", "", "send TEXT as a reply to this MESSAGE_ID (CHAT:SEQ) of the same chat")
	if err := x.Parse(); err != nil {
		return err
	}
	text := strings.Join(x.Pos, " ")
	if *file != "" || *voice != "" || *location != "" || *contact != "" || *caption != "" || *name != "" {
		if text != "" || *replyTo != "" {
			return usageError("send: give either TEXT (with --reply-to) or a media flag, not both")
		}
		return x.sendMedia(*to, *file, *voice, *caption, *location, *name, *contact)
	}
	if text == "" {
		return x.Usage()
	}
	return x.client(func(c *client.Client) error {
		// Send processes what arrived while we were away first, so the
		// group state (epoch, members) is current before encrypting.
		var m client.MessageRecord
		var err error
		if *replyTo != "" {
			_, seq, perr := client.ParseMessageID(*replyTo)
			if perr != nil {
				return usageError("send: --reply-to wants a MESSAGE_ID such as CHAT:SEQ")
			}
			m, err = c.SendText(x.Ctx, *to, text, seq)
		} else {
			m, err = c.Send(x.Ctx, *to, text)
		}
		if err != nil {
			return err
		}
		x.printSent(*to, m)
		return nil
	})
}

// listen prints messages and receipts (with --all, the other events) as
// they arrive, until --for, --count messages or an interrupt. With
// onMessage (business listen) it prints only incoming messages and runs
// onMessage after each.
func (x *call) listen(onMessage func(c *client.Client, m *client.MessageRecord)) error {
	dur := x.FS.Duration("for", 0, "stop after this long (default: until interrupted)")
	count := x.FS.Int("count", 0, "stop after this many messages")
	all := new(bool)
	if onMessage == nil {
		all = x.FS.Bool("all", false, "also print typing, presence, chat and connection events")
	}
	if err := x.Parse(); err != nil {
		return err
	}
	if *dur > 0 {
		var cancel context.CancelFunc
		x.Ctx, cancel = context.WithTimeout(x.Ctx, *dur)
		defer cancel()
	}
	ctx := x.Ctx
	c, err := x.open(ctx, "", true)
	if err != nil {
		return err
	}
	defer c.Close()
	if !c.Account().Registered() {
		return parley.Errorf(parley.CodeUnauthenticated, apiclient.ReasonNotRegistered, "profile %s is not registered", x.profile)
	}
	stopBackups := x.runScheduledBackups(ctx, c) // backup.go
	defer stopBackups()
	events := c.Events()
	seen := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-events:
			switch ev.Kind {
			case client.EventMessage:
				if onMessage != nil && ev.Message.Outgoing {
					continue
				}
				x.printMessage(ctx, c, ev.Message)
				if onMessage != nil {
					onMessage(c, ev.Message)
				}
				seen++
				if *count > 0 && seen >= *count {
					return nil
				}
			case client.EventReceipt:
				if onMessage == nil {
					x.printReceipt(ctx, c, ev.Conversation, ev.Receipt)
				}
			case client.EventTyping:
				if *all {
					x.out(map[string]any{"event": "typing", "chat": string(ev.Conversation), "user": int64(ev.Typing.User), "typing": ev.Typing.Typing},
						fmt.Sprintf("%s typing=%v in %s", c.Who(ctx, ev.Typing.User), ev.Typing.Typing, ev.Conversation))
				}
			case client.EventPresence:
				if *all {
					x.out(map[string]any{"event": "presence", "user": int64(ev.Presence.User), "online": ev.Presence.Online, "last_seen": render.TS(ev.Presence.LastSeen)},
						fmt.Sprintf("%s online=%v", c.Who(ctx, ev.Presence.User), ev.Presence.Online))
				}
			case client.EventConversation:
				if *all {
					x.out(map[string]any{"event": "chat", "chat": string(ev.Conversation)}, "chat changed: "+string(ev.Conversation))
				}
			case client.EventConnection:
				if ev.Err != nil && parley.IsCode(ev.Err, parley.CodeUnauthenticated) {
					return ev.Err
				}
				if *all {
					obj := map[string]any{"event": "connection", "connected": ev.Connected}
					if ev.Err != nil {
						obj["error"] = parley.ErrorMessage(ev.Err)
					}
					x.out(obj, fmt.Sprintf("connected=%v", ev.Connected))
				}
			}
		}
	}
}

func (e *env) printMessage(ctx context.Context, c *client.Client, m *client.MessageRecord) {
	e.out(render.Message(ctx, c, m), fmt.Sprintf("[%s] %s: %s", m.ID(), c.Who(ctx, m.Sender), displayText(m)))
}

// displayText is a message's text for people.
func displayText(m *client.MessageRecord) string {
	var s string
	switch {
	case m.Kind == client.KindUndecryptable:
		return "[this message could not be decrypted on this device]"
	case m.Kind == client.KindSystem:
		return "— " + m.Text
	case m.Media != nil:
		s = render.MediaSummary(m.Media)
		if m.Text != "" {
			s += " " + m.Text
		}
	case m.Kind != client.KindText:
		s = "[unsupported message: " + m.Kind + "]"
	default:
		s = m.Text
	}
	if m.Forwarded {
		s = "(forwarded) " + s
	}
	return s
}

func receiptKind(k parley.ReceiptKind) string {
	if k == parley.ReceiptRead {
		return "read"
	}
	return "delivered"
}

func (e *env) printReceipt(ctx context.Context, c *client.Client, conv parley.ConversationID, r *client.Receipt) {
	kind := receiptKind(r.Kind)
	var updated []string
	for _, m := range r.Updated {
		updated = append(updated, string(m.ClientID))
	}
	obj := map[string]any{"event": "receipt", "kind": kind, "chat": string(conv), "user": int64(r.User),
		"seq": int64(r.Seq), "at": render.TS(r.At), "messages": updated}
	if r.Device != 0 {
		obj["device"] = int64(r.Device)
	}
	e.out(obj, fmt.Sprintf("[%s] %s by %s up to #%d", conv, kind, c.Who(ctx, r.User), r.Seq))
}

func chats(x *call, c *client.Client) error {
	if err := c.Sync(x.Ctx); err != nil {
		return err
	}
	chats, err := c.Chats(x.Ctx)
	for _, ch := range chats {
		x.out(map[string]any{"event": "chat", "chat": string(ch.ID), "kind": string(ch.Kind), "title": ch.Title,
			"peer": int64(ch.Peer), "unread": ch.Unread, "last_text": ch.LastText, "epoch": uint64(ch.Epoch), "seq": int64(ch.Cursor)},
			fmt.Sprintf("%s\t%s\t%d unread\t%s", ch.ID, ch.Title, ch.Unread, ch.LastText))
	}
	return err
}

func read(x *call, c *client.Client) error {
	if err := c.Sync(x.Ctx); err != nil {
		return err
	}
	seq, err := c.MarkRead(x.Ctx, x.Pos[0])
	if err != nil {
		return err
	}
	ch, _ := c.Chat(x.Ctx, x.Pos[0])
	return x.print(map[string]any{"event": "read", "chat": string(ch.ID), "seq": int64(seq)}, fmt.Sprintf("marked %s read up to #%d", x.Pos[0], seq))
}

func verify(x *call, c *client.Client) error {
	sn, ct, err := c.SafetyNumber(x.Ctx, x.Pos[0])
	return x.done(err, map[string]any{"event": "safety_number", "contact": x.Pos[0], "user": int64(ct.User), "safety_number": sn},
		fmt.Sprintf("safety number with %s:\n%s\nCompare it with the one %s sees; if they match, your chat is end-to-end encrypted with the right keys.", x.Pos[0], sn, x.Pos[0]))
}

// block is block and unblock.
func block(x *call, c *client.Client) error {
	change := map[string]func(context.Context, string) (client.Contact, error){"block": c.Block, "unblock": c.Unblock}[x.Name]
	ct, err := change(x.Ctx, x.Pos[0])
	return x.done(err, map[string]any{"event": x.Name + "ed", "contact": x.Pos[0], "user": int64(ct.User)}, fmt.Sprintf("%sed %s", x.Name, x.Pos[0]))
}

// contactsCommands are `parley contacts …`.
var contactsCommands = []command{
	{Name: "add", Usage: "CONTACT", Min: 1, Max: 1, Run: do(changeContact)},
	{Name: "remove", Usage: "CONTACT", Min: 1, Max: 1, Run: do(changeContact)},
	{Name: "list", Run: do(func(x *call, c *client.Client) error {
		cs, err := c.Contacts(x.Ctx)
		if err != nil {
			return err
		}
		for _, ct := range cs {
			if ct.Contact || ct.Blocked {
				x.printContact("contact", ct)
			}
		}
		return nil
	})},
}

// changeContact is contacts add and contacts remove.
func changeContact(x *call, c *client.Client) error {
	add := x.Name == "add"
	change := map[bool]func(context.Context, string) (client.Contact, error){true: c.AddContact, false: c.RemoveContact}[add]
	ct, err := change(x.Ctx, x.Pos[0])
	if err != nil {
		return err
	}
	x.printContact("contact_"+map[bool]string{true: "added", false: "removed"}[add], ct)
	return nil
}

func (e *env) printContact(event string, ct client.Contact) {
	text := fmt.Sprintf("%d\t%s", ct.User, ct.Name)
	if ct.Username != "" {
		text += "\t@" + ct.Username
	}
	if ct.Phone != "" {
		text += "\t" + ct.Phone
	}
	if ct.Blocked {
		text += "\tblocked"
	}
	e.out(map[string]any{"event": event, "user": int64(ct.User), "name": ct.Name, "username": ct.Username, "phone": ct.Phone,
		"contact": ct.Contact, "blocked": ct.Blocked}, text)
}
