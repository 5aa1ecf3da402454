// Package searchcmd is `parley search`: full-text search of the messages
// on this device (its SQLite store's FTS5 index; the server cannot read
// messages, so it is never asked).
package searchcmd

import (
	"fmt"
	"strings"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/cmd/internal/clicmd"
	"github.com/parleyhq/parley/cmd/internal/cmdline"
	"github.com/parleyhq/parley/cmd/internal/render"
)

// Command is `parley search WORDS… [--chat CHAT] [--limit N]`.
func Command[C clicmd.Call]() cmdline.Command[C] {
	return cmdline.Command[C]{Name: "search", Min: 1, Max: -1,
		Usage: "WORDS… [--chat CHAT] [--limit N]\tfind messages on this device: every word begins a word of the text,\n\tcaption or file name (case and accents ignored), newest first",
		Run: func(x C) error {
			cl := x.Cmd()
			chat := cl.FS.String("chat", "", "search only this chat")
			limit := cl.FS.Int("limit", client.SearchDefaultLimit, fmt.Sprintf("at most this many hits (up to %d)", client.SearchMaxLimit))
			return x.Client(func(c *client.Client) error {
				hits, err := c.Search(cl.Ctx, strings.Join(cl.Pos, " "), *chat, *limit)
				if err != nil {
					return err
				}
				for i := range hits {
					m := &hits[i]
					obj := render.Message(cl.Ctx, c, m)
					obj["event"] = "search_hit"
					x.Out(obj, fmt.Sprintf("[%s] %s %s: %s", m.ID(), m.SentAt.Format("2006-01-02 15:04"), c.Who(cl.Ctx, m.Sender), text(m)))
				}
				x.Out(map[string]any{"event": "search_done", "hits": len(hits)}, fmt.Sprintf("%d found", len(hits)))
				return nil
			})
		}}
}

func text(m *client.MessageRecord) string {
	if m.Media != nil && m.Text == "" {
		return render.MediaSummary(m.Media)
	}
	return m.Text
}
