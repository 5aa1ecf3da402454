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
)

// reply, react, edit, delete, poll and view: the message kinds (client/kinds.go).

func (e *env) reply(ctx context.Context, args []string) error {
	pos, err := parseFlags(newFlags("reply", e), args)
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		return usageError("usage: parley reply MESSAGE_ID TEXT")
	}
	return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
		m, err := c.Reply(ctx, pos[0], strings.Join(pos[1:], " "))
		if err != nil {
			return err
		}
		e.out(map[string]any{"event": "sent", "id": m.ID(), "chat": string(m.Conversation), "seq": int64(m.Seq), "reply_to": pos[0]},
			fmt.Sprintf("sent %s (reply to %s)", m.ID(), pos[0]))
		return nil
	})
}

func (e *env) react(ctx context.Context, args []string) error {
	fs := newFlags("react", e)
	remove := fs.Bool("remove", false, "remove your reaction")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 && !(*remove && len(pos) == 1) {
		return usageError("usage: parley react MESSAGE_ID EMOJI | parley react --remove MESSAGE_ID")
	}
	emoji := ""
	if !*remove {
		emoji = pos[1]
	}
	return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
		if err := c.React(ctx, pos[0], emoji); err != nil {
			return err
		}
		e.out(map[string]any{"event": "reacted", "id": pos[0], "emoji": emoji}, "reacted "+emoji+" to "+pos[0])
		return nil
	})
}

func (e *env) edit(ctx context.Context, args []string) error {
	pos, err := parseFlags(newFlags("edit", e), args)
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		return usageError("usage: parley edit MESSAGE_ID TEXT")
	}
	return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
		text := strings.Join(pos[1:], " ")
		if err := c.Edit(ctx, pos[0], text); err != nil {
			return err
		}
		e.out(map[string]any{"event": "edited", "id": pos[0], "text": text}, "edited "+pos[0])
		return nil
	})
}

func (e *env) deleteMessage(ctx context.Context, args []string) error {
	pos, err := parseFlags(newFlags("delete", e), args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("usage: parley delete MESSAGE_ID (deletes it for everyone)")
	}
	return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
		if err := c.Delete(ctx, pos[0]); err != nil {
			return err
		}
		e.out(map[string]any{"event": "deleted", "id": pos[0]}, "deleted "+pos[0])
		return nil
	})
}

func (e *env) poll(ctx context.Context, args []string) error {
	const usage = "usage: parley poll create --to CHAT QUESTION --option A --option B... [--multi] | poll vote MESSAGE_ID N... | poll show MESSAGE_ID"
	if len(args) == 0 {
		return usageError(usage)
	}
	sub, args := args[0], args[1:]
	fs := newFlags("poll "+sub, e)
	var options multiFlag
	var to *string
	var multi *bool
	if sub == "create" {
		to = fs.String("to", "", "the chat: a chat id, +PHONE or @USERNAME")
		fs.Var(&options, "option", "an option (repeat: 2 to 12)")
		multi = fs.Bool("multi", false, "voters may choose several options")
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch sub {
	case "create":
		if *to == "" || len(pos) == 0 {
			return usageError(usage)
		}
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			m, err := c.CreatePoll(ctx, *to, client.PollSpec{Question: strings.Join(pos, " "), Options: options, Multi: *multi})
			if err != nil {
				return err
			}
			e.out(map[string]any{"event": "sent", "id": m.ID(), "chat": string(m.Conversation), "seq": int64(m.Seq), "kind": client.KindPoll},
				"sent poll "+m.ID())
			return nil
		})
	case "vote":
		if len(pos) < 1 {
			return usageError(usage)
		}
		var choices []int
		for _, p := range pos[1:] {
			n, err := strconv.Atoi(p)
			if err != nil {
				return usageError("poll vote: options are numbers from 0 (as poll show lists them)")
			}
			choices = append(choices, n)
		}
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			if err := c.Vote(ctx, pos[0], choices); err != nil {
				return err
			}
			e.out(map[string]any{"event": "voted", "id": pos[0], "choices": choices}, fmt.Sprintf("voted %v in %s", choices, pos[0]))
			return nil
		})
	case "show":
		if len(pos) != 1 {
			return usageError(usage)
		}
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			if err := c.Sync(ctx); err != nil {
				return err
			}
			m, err := c.Message(ctx, pos[0])
			if err != nil {
				return err
			}
			ex, err := c.Extras(ctx, m.Conversation, m.Seq)
			if err != nil {
				return err
			}
			if ex.Poll == nil {
				return parley.Errorf(parley.CodeInvalid, "not_poll", "message %s is not a poll", pos[0])
			}
			obj, text := e.renderMessage(ctx, c, m, ex)
			e.out(obj, text)
			return nil
		})
	}
	return usageError(usage)
}

// view prints a chat's messages with their replies, mentions, hashtags,
// edits, deletions, reactions and polls.
func (e *env) view(ctx context.Context, args []string) error {
	fs := newFlags("view", e)
	limit := fs.Int("limit", 50, "show at most this many messages (0: all)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("usage: parley view CHAT [--limit N]")
	}
	return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
		if err := c.Sync(ctx); err != nil {
			return err
		}
		ch, ms, err := c.History(ctx, pos[0], *limit)
		if err != nil {
			return err
		}
		seqs := make([]parley.Seq, 0, len(ms))
		for _, m := range ms {
			if m.Seq > 0 {
				seqs = append(seqs, m.Seq)
			}
		}
		extras, err := c.ExtrasOf(ctx, ch.ID, seqs)
		if err != nil {
			return err
		}
		for _, m := range ms {
			obj, text := e.renderMessage(ctx, c, m, extras[m.Seq])
			e.out(obj, text)
		}
		return nil
	})
}

// renderMessage is one message with its extras, as JSON and as text.
func (e *env) renderMessage(ctx context.Context, c *client.Client, m client.MessageRecord, ex client.Extras) (map[string]any, string) {
	obj := messageJSON(ctx, c, &m)
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
		text = mediaSummary(m.Media)
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

// chat runs chat subcommands: disappear, resync.
func (e *env) chat(ctx context.Context, args []string) error {
	const usage = "usage: parley chat disappear CHAT [off|24h|7d|90d] | parley chat resync CHAT"
	pos, err := parseFlags(newFlags("chat", e), args)
	if err != nil {
		return err
	}
	if len(pos) == 2 && pos[0] == "resync" {
		return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
			if err := c.Resync(ctx, pos[1]); err != nil {
				return err
			}
			e.out(map[string]any{"event": "resynced", "chat": pos[1]}, "rejoined "+pos[1]+" with a fresh MLS state on this device")
			return nil
		})
	}
	if len(pos) < 2 || pos[0] != "disappear" || len(pos) > 3 {
		return usageError(usage)
	}
	return e.withClient(ctx, func(ctx context.Context, c *client.Client) error {
		if len(pos) == 2 {
			d, err := c.Disappearing(ctx, pos[1])
			if err != nil {
				return err
			}
			e.out(map[string]any{"event": "disappearing", "chat": pos[1], "seconds": int64(d / time.Second)}, "disappearing messages: "+durationText(d))
			return nil
		}
		d, ok := map[string]time.Duration{"off": 0, "0": 0, "24h": 24 * time.Hour, "1d": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "90d": 90 * 24 * time.Hour}[pos[2]]
		if !ok {
			return usageError(usage)
		}
		if err := c.SetDisappearing(ctx, pos[1], d); err != nil {
			return err
		}
		e.out(map[string]any{"event": "disappearing", "chat": pos[1], "seconds": int64(d / time.Second)}, "disappearing messages: "+durationText(d))
		return nil
	})
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
