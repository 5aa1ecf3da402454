// Package broadcastcmd is `parley broadcast …`: broadcast lists from the
// command line (docs/broadcast.md).
package broadcastcmd

import (
	"fmt"
	"strings"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/client/broadcast"
	"github.com/parleyhq/parley/cmd/internal/clicmd"
	"github.com/parleyhq/parley/cmd/internal/cmdline"
)

// Commands are `parley broadcast …` (docs/broadcast.md).
func Commands[C clicmd.Call]() []cmdline.Command[C] {
	return []cmdline.Command[C]{
		{Name: "create", Min: 1, Max: -1, Usage: "NAME --to CONTACT...\tcreate a list of up to 256 recipients (+PHONE, @username or user id)",
			Run: func(x C) error {
				cl := x.Cmd()
				var to cmdline.Strings
				cl.FS.Var(&to, "to", "a recipient (repeatable): +PHONE, @USERNAME or user id")
				return x.Client(func(c *client.Client) error {
					l, err := c.CreateBroadcast(cl.Ctx, strings.Join(cl.Pos, " "), to)
					return clicmd.Done(x, err, listJSON("broadcast_created", l), listText("created", l))
				})
			}},
		{Name: "send", Min: 1, Max: -1, Usage: "NAME TEXT | send NAME --file PATH [--caption TEXT]\n\tsend to each recipient in your 1:1 chat with them",
			Run: func(x C) error {
				cl := x.Cmd()
				file := cl.FS.String("file", "", "send this file (uploaded once)")
				caption := cl.FS.String("caption", "", "the file's caption")
				return x.Client(func(c *client.Client) error {
					var (
						s   broadcast.Sent
						err error
					)
					if *file != "" {
						if len(cl.Pos) > 1 && *caption == "" {
							*caption = strings.Join(cl.Pos[1:], " ")
						}
						s, err = c.SendBroadcastFile(cl.Ctx, cl.Pos[0], *file, client.SendFileOptions{Caption: *caption})
					} else {
						s, err = c.SendBroadcast(cl.Ctx, cl.Pos[0], strings.Join(cl.Pos[1:], " "))
					}
					if err != nil {
						return err
					}
					for _, f := range s.Failed {
						x.Out(map[string]any{"event": "broadcast_failed", "list": s.List, "user": int64(f.User), "title": f.Title, "error": f.Error},
							fmt.Sprintf("not sent to %s: %s", f.Title, f.Error))
					}
					x.Out(map[string]any{"event": "broadcast_sent", "list": s.List, "copies": s.Copies, "failed": len(s.Failed)},
						fmt.Sprintf("sent to %s: %d copies, %d failed", s.List, len(s.Copies), len(s.Failed)))
					return nil
				})
			}},
		{Name: "list", Usage: "\tyour broadcast lists (kept on this device)", Run: clicmd.Do(func(x C, c *client.Client) error {
			cl := x.Cmd()
			ls, err := c.Broadcasts(cl.Ctx)
			for _, l := range ls {
				x.Out(listJSON("broadcast", l), listText("", l))
			}
			return err
		})},
		{Name: "edit", Min: 1, Max: -1, Usage: "NAME [--rename NEW] [--add CONTACT]... [--remove CONTACT]...",
			Run: func(x C) error {
				cl := x.Cmd()
				var add, remove cmdline.Strings
				rename := cl.FS.String("rename", "", "the list's new name")
				cl.FS.Var(&add, "add", "a recipient to add (repeatable)")
				cl.FS.Var(&remove, "remove", "a recipient to remove (repeatable)")
				return x.Client(func(c *client.Client) error {
					l, err := c.EditBroadcast(cl.Ctx, strings.Join(cl.Pos, " "), broadcast.EditOptions{Rename: *rename, Add: add, Remove: remove})
					return clicmd.Done(x, err, listJSON("broadcast_changed", l), listText("changed", l))
				})
			}},
		{Name: "delete", Min: 1, Max: -1, Usage: "NAME\tdelete a list (sent messages stay in their chats)", Run: clicmd.Do(func(x C, c *client.Client) error {
			cl := x.Cmd()
			name := strings.Join(cl.Pos, " ")
			return clicmd.Done(x, c.DeleteBroadcast(cl.Ctx, name), map[string]any{"event": "broadcast_deleted", "name": name}, "deleted broadcast list "+name)
		})},
	}
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
