package main

import (
	"fmt"
	"strings"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/client/broadcast"
	"github.com/parleyhq/parley/cmd/internal/cmdline"
)

// broadcastCommands are `parley broadcast …` (docs/broadcast.md).
var broadcastCommands = []command{
	{Name: "create", Min: 1, Max: -1, Usage: "NAME --to CONTACT...\tcreate a list of up to 256 recipients (+PHONE, @username or user id)",
		Run: func(x *call) error {
			var to cmdline.Strings
			x.FS.Var(&to, "to", "a recipient (repeatable): +PHONE, @USERNAME or user id")
			return x.client(func(c *client.Client) error {
				l, err := c.CreateBroadcast(x.Ctx, strings.Join(x.Pos, " "), to)
				return x.done(err, listJSON("broadcast_created", l), listText("created", l))
			})
		}},
	{Name: "send", Min: 1, Max: -1, Usage: "NAME TEXT | send NAME --file PATH [--caption TEXT]\n\tsend to each recipient in your 1:1 chat with them",
		Run: func(x *call) error {
			file := x.FS.String("file", "", "send this file (uploaded once)")
			caption := x.FS.String("caption", "", "the file's caption")
			return x.client(func(c *client.Client) error {
				var (
					s   broadcast.Sent
					err error
				)
				if *file != "" {
					if len(x.Pos) > 1 && *caption == "" {
						*caption = strings.Join(x.Pos[1:], " ")
					}
					s, err = c.SendBroadcastFile(x.Ctx, x.Pos[0], *file, client.SendFileOptions{Caption: *caption})
				} else {
					s, err = c.SendBroadcast(x.Ctx, x.Pos[0], strings.Join(x.Pos[1:], " "))
				}
				if err != nil {
					return err
				}
				for _, f := range s.Failed {
					x.out(map[string]any{"event": "broadcast_failed", "list": s.List, "user": int64(f.User), "title": f.Title, "error": f.Error},
						fmt.Sprintf("not sent to %s: %s", f.Title, f.Error))
				}
				return x.print(map[string]any{"event": "broadcast_sent", "list": s.List, "copies": s.Copies, "failed": len(s.Failed)},
					fmt.Sprintf("sent to %s: %d copies, %d failed", s.List, len(s.Copies), len(s.Failed)))
			})
		}},
	{Name: "list", Usage: "\tyour broadcast lists (kept on this device)", Run: do(func(x *call, c *client.Client) error {
		ls, err := c.Broadcasts(x.Ctx)
		for _, l := range ls {
			x.out(listJSON("broadcast", l), listText("", l))
		}
		return err
	})},
	{Name: "edit", Min: 1, Max: -1, Usage: "NAME [--rename NEW] [--add CONTACT]... [--remove CONTACT]...",
		Run: func(x *call) error {
			var add, remove cmdline.Strings
			rename := x.FS.String("rename", "", "the list's new name")
			x.FS.Var(&add, "add", "a recipient to add (repeatable)")
			x.FS.Var(&remove, "remove", "a recipient to remove (repeatable)")
			return x.client(func(c *client.Client) error {
				l, err := c.EditBroadcast(x.Ctx, strings.Join(x.Pos, " "), broadcast.EditOptions{Rename: *rename, Add: add, Remove: remove})
				return x.done(err, listJSON("broadcast_changed", l), listText("changed", l))
			})
		}},
	{Name: "delete", Min: 1, Max: -1, Usage: "NAME\tdelete a list (sent messages stay in their chats)", Run: do(func(x *call, c *client.Client) error {
		name := strings.Join(x.Pos, " ")
		return x.done(c.DeleteBroadcast(x.Ctx, name), map[string]any{"event": "broadcast_deleted", "name": name}, "deleted broadcast list "+name)
	})},
}

func listJSON(event string, l broadcast.List) map[string]any {
	return map[string]any{"event": event, "id": l.ID, "name": l.Name, "recipients": l.Recipients}
}

func listText(verb string, l broadcast.List) string {
	titles := make([]string, len(l.Recipients))
	for i, r := range l.Recipients {
		titles[i] = r.Title
	}
	s := fmt.Sprintf("%s\t%d recipients: %s", l.Name, len(l.Recipients), strings.Join(titles, ", "))
	if verb != "" {
		s = verb + " broadcast list " + s
	}
	return s
}
