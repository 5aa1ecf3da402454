// Package moderationcmd is reporting and moderation from the command line
// (docs/operations.md, "Moderate"): `parley report`, the group moderators'
// `parley group ban|unban|bans|reports` and the operator's
// `parley admin reports` and `parley admin report show|resolve|dismiss`.
package moderationcmd

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/apiclient"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/client/moderation"
	"github.com/parleyhq/parley/cmd/internal/clicmd"
	"github.com/parleyhq/parley/cmd/internal/cmdline"
)

// Report is `parley report TARGET …`.
func Report[C clicmd.Call]() cmdline.Command[C] {
	return cmdline.Command[C]{Name: "report", Min: 1, Max: 1,
		Usage: "CONTACT|CHAT|MESSAGE_ID [--reason spam|abuse|other] [--text T] [--include N] [--block]\n" +
			"\treport to the server's operator (and a group's admins); --include sends the last N\n" +
			"\tmessages, decrypted on this device, to the operator; none are sent without it",
		Run: func(x C) error {
			cl := x.Cmd()
			reason := cl.FS.String("reason", "other", "why: spam, abuse or other")
			text := cl.FS.String("text", "", "your own words (at most 1000 bytes)")
			include := cl.FS.Int("include", 0, "include the chat's last N messages (0 to 10), decrypted on this device")
			block := cl.FS.Bool("block", false, "also block the reported person (or the message's sender)")
			return x.Client(func(c *client.Client) error {
				f, err := moderation.Report(cl.Ctx, c, cl.Pos[0], moderation.Options{Category: parley.ReportCategory(*reason),
					Text: *text, Include: *include, Block: *block})
				obj := map[string]any{"event": "reported", "id": f.ID, "target": f.Target, "included": f.Included, "blocked": f.Blocked}
				if f.User != 0 {
					obj["user"] = int64(f.User)
				}
				if f.Conversation != "" {
					obj["chat"] = f.Conversation
				}
				if f.Seq != 0 {
					obj["seq"] = int64(f.Seq)
				}
				txt := fmt.Sprintf("reported (report %d), %d messages included", f.ID, f.Included)
				if f.Blocked {
					txt += "; blocked"
				}
				return clicmd.Done(x, err, obj, txt)
			})
		}}
}

// GroupCommands are `parley group ban|unban|bans|reports` (a group's
// admins, and its community's).
func GroupCommands[C clicmd.Call]() []cmdline.Command[C] {
	banOrUnban := func(ban bool) func(x C, c *client.Client) error {
		return func(x C, c *client.Client) error {
			cl := x.Cmd()
			f, verb := moderation.Unban, "unbanned"
			if ban {
				f, verb = moderation.Ban, "banned"
			}
			g, ct, err := f(cl.Ctx, c, cl.Pos[0], cl.Pos[1])
			return clicmd.Done(x, err, map[string]any{"event": verb, "group": g.ID, "user": int64(ct.User)},
				fmt.Sprintf("%s %s in %s", verb, title(ct), g.Name))
		}
	}
	return []cmdline.Command[C]{
		{Name: "ban", Min: 2, Max: 2, Usage: "GROUP MEMBER\tremove a member and keep them out (links, requests, invitations)",
			Run: clicmd.Do(banOrUnban(true))},
		{Name: "unban", Min: 2, Max: 2, Usage: "GROUP USER\tlift a ban", Run: clicmd.Do(banOrUnban(false))},
		{Name: "bans", Min: 1, Max: 1, Usage: "GROUP\tthe group's bans", Run: clicmd.Do(func(x C, c *client.Client) error {
			cl := x.Cmd()
			g, bs, err := moderation.Bans(cl.Ctx, c, cl.Pos[0])
			for _, b := range bs {
				x.Out(map[string]any{"event": "ban", "group": g.ID, "user": int64(b.User), "by": int64(b.By), "at": b.At},
					fmt.Sprintf("%s\tbanned by %s\t%s", c.Who(cl.Ctx, b.User), c.Who(cl.Ctx, b.By), b.At.Format("2006-01-02 15:04")))
			}
			return err
		})},
		{Name: "reports", Min: 1, Max: 1, Usage: "GROUP [--status open|resolved|dismissed]\treports about the group (without who reported or included messages)",
			Run: func(x C) error {
				cl := x.Cmd()
				status := cl.FS.String("status", "", "only reports with this status")
				return x.Client(func(c *client.Client) error {
					_, rs, err := moderation.GroupReports(cl.Ctx, c, cl.Pos[0], parley.ReportStatus(*status))
					for _, r := range rs {
						x.Out(reportJSON(r), reportLine(r))
					}
					return err
				})
			}},
	}
}

// AdminCommands are the operator's `parley admin reports` and `parley
// admin report show|resolve|dismiss ID` (docs/admin-api.md).
func AdminCommands[C clicmd.Call]() []cmdline.Command[C] {
	handle := func(resolve bool) func(x C) error {
		return func(x C) error {
			cl := x.Cmd()
			note := cl.FS.String("note", "", "a note for the record (at most 500 bytes)")
			return x.Admin(func(a *apiclient.Client) error {
				id, err := reportID(cl.Pos[0])
				if err != nil {
					return err
				}
				r, err := a.AdminHandleReport(cl.Ctx, id, resolve, *note)
				return clicmd.Done(x, err, reportJSON(r), reportLine(r))
			})
		}
	}
	return []cmdline.Command[C]{
		{Name: "reports", Usage: "[--status open|resolved|dismissed] [--after ID] [--limit N]\tusers' reports, oldest first (the queue)",
			Run: func(x C) error {
				cl := x.Cmd()
				status := cl.FS.String("status", "", "only reports with this status")
				after := cl.FS.Int64("after", 0, "reports after this ID (paging)")
				limit := cl.FS.Int("limit", 100, "at most this many (1 to 1000)")
				return x.Admin(func(a *apiclient.Client) error {
					rs, err := a.AdminReports(cl.Ctx, parley.ReportStatus(*status), *after, *limit)
					for _, r := range rs {
						x.Out(reportJSON(r), reportLine(r))
					}
					return err
				})
			}},
		{Name: "report", Usage: "show|resolve|dismiss ID [--note TEXT]\tone report whole (with what the reporter included);\n\tresolve or dismiss it", Subs: []cmdline.Command[C]{
			{Name: "show", Min: 1, Max: 1, Usage: "ID", Run: func(x C) error {
				cl := x.Cmd()
				return x.Admin(func(a *apiclient.Client) error {
					id, err := reportID(cl.Pos[0])
					if err != nil {
						return err
					}
					r, err := a.AdminReport(cl.Ctx, id)
					if err != nil {
						return err
					}
					lines := []string{reportLine(r)}
					for _, e := range r.Evidence {
						lines = append(lines, fmt.Sprintf("  %d\t%s\tu%d\t%s\t%s", e.Seq, e.SentAt.Format("2006-01-02 15:04"), e.Sender, e.Kind, e.Text))
					}
					x.Out(reportJSON(r), strings.Join(lines, "\n"))
					return nil
				})
			}},
			{Name: "resolve", Min: 1, Max: 1, Usage: "ID [--note TEXT]", Run: handle(true)},
			{Name: "dismiss", Min: 1, Max: 1, Usage: "ID [--note TEXT]", Run: handle(false)},
		}},
	}
}

func reportID(s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || id <= 0 {
		return 0, &cmdline.UsageError{Msg: fmt.Sprintf("%q is not a report id", s)}
	}
	return id, nil
}

// reportJSON is the report as the API's JSON object.
func reportJSON(r parley.Report) map[string]any {
	b, _ := json.Marshal(r)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

func reportLine(r parley.Report) string {
	what := string(r.Target)
	switch {
	case r.Seq != 0:
		what += fmt.Sprintf(" %s:%d", r.Conversation, r.Seq)
	case r.Conversation != "":
		what += " " + string(r.Conversation)
	}
	if r.User != 0 {
		what += fmt.Sprintf(" u%d", r.User)
	}
	s := fmt.Sprintf("%d\t%s\t%s\t%s\t%d included", r.ID, r.Status, r.Category, what, len(r.Evidence))
	if r.Reporter != 0 {
		s += fmt.Sprintf("\tby u%d", r.Reporter)
	}
	if r.Text != "" {
		s += "\t" + strconv.Quote(r.Text)
	}
	return s
}

func title(ct client.Contact) string {
	switch {
	case ct.Name != "":
		return ct.Name
	case ct.Username != "":
		return "@" + ct.Username
	case ct.Phone != "":
		return ct.Phone
	}
	return fmt.Sprintf("u%d", ct.User)
}
