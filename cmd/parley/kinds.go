package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/cmd/internal/cmdline"
	"github.com/parleyhq/parley/cmd/internal/render"
)

// The message kinds (client/kinds.go): reply, react, edit, delete, poll
// and view.

func reply(x *call, c *client.Client) error {
	m, err := c.Reply(x.Ctx, x.Pos[0], strings.Join(x.Pos[1:], " "))
	return x.done(err, map[string]any{"event": "sent", "id": m.ID(), "chat": string(m.Conversation), "seq": int64(m.Seq), "reply_to": x.Pos[0]},
		fmt.Sprintf("sent %s (reply to %s)", m.ID(), x.Pos[0]))
}

func react(x *call) error {
	remove := x.FS.Bool("remove", false, "remove your reaction")
	if err := x.Parse(); err != nil {
		return err
	}
	if len(x.Pos) != 2 && !(*remove && len(x.Pos) == 1) {
		return x.Usage()
	}
	emoji := ""
	if !*remove {
		emoji = x.Pos[1]
	}
	return x.client(func(c *client.Client) error {
		return x.done(c.React(x.Ctx, x.Pos[0], emoji), map[string]any{"event": "reacted", "id": x.Pos[0], "emoji": emoji}, "reacted "+emoji+" to "+x.Pos[0])
	})
}

func edit(x *call, c *client.Client) error {
	text := strings.Join(x.Pos[1:], " ")
	return x.done(c.Edit(x.Ctx, x.Pos[0], text), map[string]any{"event": "edited", "id": x.Pos[0], "text": text}, "edited "+x.Pos[0])
}

func deleteMessage(x *call, c *client.Client) error {
	return x.done(c.Delete(x.Ctx, x.Pos[0]), map[string]any{"event": "deleted", "id": x.Pos[0]}, "deleted "+x.Pos[0])
}

// pollCommands are `parley poll …`.
var pollCommands = []command{
	{Name: "create", Min: 1, Max: -1, Usage: "--to CHAT QUESTION --option A --option B... [--multi]", Run: func(x *call) error {
		var options cmdline.Strings
		to := x.Need("to", "", "the chat: a chat id, +PHONE or @USERNAME")
		x.FS.Var(&options, "option", "an option (repeat: 2 to 12)")
		multi := x.FS.Bool("multi", false, "voters may choose several options")
		return x.client(func(c *client.Client) error {
			m, err := c.CreatePoll(x.Ctx, *to, client.PollSpec{Question: strings.Join(x.Pos, " "), Options: options, Multi: *multi})
			return x.done(err, map[string]any{"event": "sent", "id": m.ID(), "chat": string(m.Conversation), "seq": int64(m.Seq), "kind": client.KindPoll},
				"sent poll "+m.ID())
		})
	}},
	{Name: "vote", Min: 1, Max: -1, Usage: "MESSAGE_ID N...", Run: func(x *call) error {
		if err := x.Parse(); err != nil {
			return err
		}
		var choices []int
		for _, p := range x.Pos[1:] {
			n, err := strconv.Atoi(p)
			if err != nil {
				return usageError("poll vote: options are numbers from 0 (as poll show lists them)")
			}
			choices = append(choices, n)
		}
		return x.client(func(c *client.Client) error {
			return x.done(c.Vote(x.Ctx, x.Pos[0], choices), map[string]any{"event": "voted", "id": x.Pos[0], "choices": choices}, fmt.Sprintf("voted %v in %s", choices, x.Pos[0]))
		})
	}},
	{Name: "show", Min: 1, Max: 1, Usage: "MESSAGE_ID", Run: do(func(x *call, c *client.Client) error {
		if err := c.Sync(x.Ctx); err != nil {
			return err
		}
		m, err := c.Message(x.Ctx, x.Pos[0])
		if err != nil {
			return err
		}
		ex, err := c.Extras(x.Ctx, m.Conversation, m.Seq)
		if err != nil {
			return err
		}
		if ex.Poll == nil {
			return parley.Errorf(parley.CodeInvalid, client.ReasonNotPoll, "message %s is not a poll", x.Pos[0])
		}
		return x.print(x.renderMessage(x.Ctx, c, m, ex))
	})},
}

// chatMessages is view (a chat's messages with their replies, mentions,
// hashtags, edits, deletions, reactions and polls) and history (the same
// with each message's status).
func chatMessages(x *call) error {
	limit := x.FS.Int("limit", 50, "show at most this many messages (0: all)")
	return x.client(func(c *client.Client) error {
		if err := c.Sync(x.Ctx); err != nil {
			return err
		}
		ch, ms, err := c.History(x.Ctx, x.Pos[0], *limit)
		if err != nil {
			return err
		}
		seqs := make([]parley.Seq, 0, len(ms))
		for _, m := range ms {
			if m.Seq > 0 {
				seqs = append(seqs, m.Seq)
			}
		}
		extras, err := c.ExtrasOf(x.Ctx, ch.ID, seqs)
		if err != nil {
			return err
		}
		for _, m := range ms {
			obj, text := x.renderMessage(x.Ctx, c, m, extras[m.Seq])
			if x.Name == "history" {
				obj["chat"], obj["status"] = string(ch.ID), string(m.Status)
				if m.ID() == "" {
					text = "(pending) " + text
				}
				text = fmt.Sprintf("%s  [%s, %s]", text, m.SentAt.Local().Format(time.DateTime), m.Status)
			}
			x.out(obj, text)
		}
		return nil
	})
}

// renderMessage is one message with its extras, as JSON and as text.
func (e *env) renderMessage(ctx context.Context, c *client.Client, m client.MessageRecord, ex client.Extras) (map[string]any, string) {
	obj := render.Message(ctx, c, &m)
	var b strings.Builder
	from := c.Who(ctx, m.Sender)
	text := m.Text
	switch {
	case ex.Deleted && ex.DeletedByAdmin:
		text = "(deleted by admin)"
	case ex.Deleted || m.Kind == client.KindDeleted:
		text = "(this message was deleted)"
	case m.Kind == client.KindUndecryptable:
		text = "[this message could not be decrypted on this device]"
	case m.Kind == client.KindSystem:
		fmt.Fprintf(&b, "%s  — %s", m.ID(), m.Text)
		return obj, b.String()
	case m.Media != nil:
		text = render.MediaSummary(m.Media)
		if m.Text != "" {
			text += " " + m.Text
		}
	case m.Kind != client.KindText && m.Kind != client.KindPoll:
		text = fmt.Sprintf("[%s] %s", m.Kind, m.Text)
	}
	fmt.Fprintf(&b, "%s  %s: %s", m.ID(), from, text)
	if m.Forwarded {
		b.WriteString("  (forwarded)")
	}
	if ex.Edited {
		b.WriteString("  (edited)")
		obj["edited"] = true
	}
	if ex.Deleted {
		obj["deleted"] = true
		obj["deleted_by_admin"] = ex.DeletedByAdmin
	}
	if ex.ReplyTo > 0 {
		rid := client.FormatMessageID(m.Conversation, ex.ReplyTo)
		obj["reply_to"] = rid
		quote := ""
		if q, err := c.Message(ctx, rid); err == nil {
			quote = q.Text
			if len(quote) > 60 {
				quote = quote[:60] + "…"
			}
		}
		fmt.Fprintf(&b, "\n    ↪ reply to %s: %q", rid, quote)
	}
	if q := ex.Status; q != nil { // a private reply to a status (docs/status.md)
		obj["status_reply"] = map[string]any{"id": q.ID, "poster": int64(q.Poster), "kind": q.Kind, "preview": q.Preview}
		fmt.Fprintf(&b, "\n    ↪ reply to %s's status %s: %q", c.Who(ctx, q.Poster), q.ID, q.Preview)
	}
	if len(ex.Mentions) > 0 || ex.Everyone {
		var names []string
		if ex.Everyone {
			names = append(names, "@everyone")
		}
		for _, u := range ex.Mentions {
			names = append(names, c.Who(ctx, u))
		}
		obj["mentions"], obj["mentions_everyone"] = userIDs(ex.Mentions), ex.Everyone
		fmt.Fprintf(&b, "\n    mentions: %s", strings.Join(names, ", "))
	}
	if tags := client.Hashtags(m.Text); len(tags) > 0 && !ex.Deleted {
		obj["hashtags"] = tags
	}
	if len(ex.Reactions) > 0 {
		users := make([]parley.UserID, 0, len(ex.Reactions))
		for u := range ex.Reactions {
			users = append(users, u)
		}
		slices.Sort(users)
		var parts []string
		rj := map[string]string{}
		for _, u := range users {
			parts = append(parts, ex.Reactions[u]+" "+c.Who(ctx, u))
			rj[strconv.FormatInt(int64(u), 10)] = ex.Reactions[u]
		}
		obj["reactions"] = rj
		fmt.Fprintf(&b, "\n    reactions: %s", strings.Join(parts, ", "))
	}
	if p := ex.Poll; p != nil && !ex.Deleted {
		votes := map[string][]int{}
		for u, cs := range p.Votes {
			votes[strconv.FormatInt(int64(u), 10)] = cs
		}
		obj["poll"] = map[string]any{"question": p.Question, "options": p.Options, "multi": p.Multi, "tallies": p.Tallies, "votes": votes}
		for i, o := range p.Options {
			var who []string
			for u, cs := range p.Votes {
				if slices.Contains(cs, i) {
					who = append(who, c.Who(ctx, u))
				}
			}
			slices.Sort(who)
			fmt.Fprintf(&b, "\n    [%d] %s: %d", i, o, p.Tallies[i])
			if len(who) > 0 {
				fmt.Fprintf(&b, " (%s)", strings.Join(who, ", "))
			}
		}
	}
	return obj, b.String()
}

// chatCommands are `parley chat …`.
var chatCommands = []command{
	{Name: "disappear", Min: 1, Max: 2, Usage: "CHAT [off|24h|7d|90d]\tshow or set disappearing messages", Run: func(x *call) error {
		if err := x.Parse(); err != nil {
			return err
		}
		d, ok := map[string]time.Duration{"off": 0, "0": 0, "24h": 24 * time.Hour, "1d": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "90d": 90 * 24 * time.Hour}[x.Arg(1)]
		if len(x.Pos) == 2 && !ok {
			return x.Usage()
		}
		return x.client(func(c *client.Client) error {
			var err error
			if len(x.Pos) == 1 {
				d, err = c.Disappearing(x.Ctx, x.Pos[0])
			} else {
				err = c.SetDisappearing(x.Ctx, x.Pos[0], d)
			}
			return x.done(err, map[string]any{"event": "disappearing", "chat": x.Pos[0], "seconds": int64(d / time.Second)}, "disappearing messages: "+durationText(d))
		})
	}},
	{Name: "resync", Min: 1, Max: 1, Usage: "CHAT\trejoin a chat whose encryption state broke on this\n\tdevice (done by itself when it detects that)", Run: do(func(x *call, c *client.Client) error {
		return x.done(c.Resync(x.Ctx, x.Pos[0]), map[string]any{"event": "resynced", "chat": x.Pos[0]}, "rejoined "+x.Pos[0]+" with a fresh MLS state on this device")
	})},
}

func durationText(d time.Duration) string {
	if d == 0 {
		return "off"
	}
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}
