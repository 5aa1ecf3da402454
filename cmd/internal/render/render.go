// Package render is how the parley CLI shows Parley's objects: the --json
// objects (stable snake_case keys, documented in docs/cli.md) and the lines
// for people, of messages, attachments (never their keys or capabilities)
// and business objects.
package render

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/attachment"
	"github.com/parleyhq/parley/client"
)

// Message is a message's --json object (listen and history).
func Message(ctx context.Context, c *client.Client, m *client.MessageRecord) map[string]any {
	obj := map[string]any{"event": "message", "id": m.ID(), "chat": string(m.Conversation), "from": c.Who(ctx, m.Sender),
		"from_user": int64(m.Sender), "from_device": int64(m.SenderDevice), "text": m.Text, "kind": m.Kind,
		"seq": int64(m.Seq), "client_id": string(m.ClientID), "sent_at": TS(m.SentAt), "outgoing": m.Outgoing}
	if m.Forwarded {
		obj["forwarded"] = true
	}
	if m.Media != nil {
		obj["media"] = Media(m.Media)
	}
	if m.Business != nil {
		obj["business"] = Business(m.Business) // business.go
	}
	return obj
}

// Media is what a person may see of an attachment (never the key or
// the capability).
func Media(d *attachment.Descriptor) map[string]any {
	obj := map[string]any{"kind": string(d.Kind)}
	if d.MIME != "" {
		obj["mime"] = d.MIME
	}
	if d.Caption != "" {
		obj["caption"] = d.Caption
	}
	if d.HasBlob() {
		obj["blob"] = string(d.Blob)
		obj["size"] = d.Size
		obj["sha256"] = fmt.Sprintf("%x", d.PlainSHA256)
	}
	if d.FileName != "" {
		obj["file_name"] = d.FileName
	}
	if d.Width > 0 || d.Height > 0 {
		obj["width"], obj["height"] = d.Width, d.Height
	}
	if d.Duration > 0 {
		obj["duration_ms"] = d.Duration.Milliseconds()
	}
	if len(d.Waveform) > 0 {
		wave := make([]int, len(d.Waveform))
		for i, v := range d.Waveform {
			wave[i] = int(v)
		}
		obj["waveform"] = wave
	}
	if d.Pages > 0 {
		obj["pages"] = d.Pages
	}
	if len(d.Thumbnail) > 0 {
		obj["thumbnail_bytes"] = len(d.Thumbnail)
	}
	if d.Location != nil {
		obj["lat"], obj["lon"] = d.Location.Lat, d.Location.Lon
		if d.Location.Name != "" {
			obj["place"] = d.Location.Name
		}
	}
	if d.Kind == attachment.KindContact {
		obj["vcard"] = d.VCard
		if ct, err := attachment.ParseVCard(d.VCard); err == nil {
			obj["contact_name"] = ct.Name
			obj["contact_phones"] = ct.Phones
		}
	}
	return obj
}

// MediaSummary is a one-line description of an attachment for people.
func MediaSummary(d *attachment.Descriptor) string {
	var parts []string
	switch d.Kind {
	case attachment.KindLocation:
		if d.Location != nil {
			parts = append(parts, fmt.Sprintf("%.6f,%.6f", d.Location.Lat, d.Location.Lon))
			if d.Location.Name != "" {
				parts = append(parts, fmt.Sprintf("%q", d.Location.Name))
			}
		}
	case attachment.KindContact:
		if ct, err := attachment.ParseVCard(d.VCard); err == nil {
			parts = append(parts, ct.Name)
			parts = append(parts, ct.Phones...)
		}
	default:
		if d.FileName != "" {
			parts = append(parts, d.FileName)
		}
		parts = append(parts, ByteSize(d.Size))
		if d.Width > 0 && d.Height > 0 {
			parts = append(parts, fmt.Sprintf("%dx%d", d.Width, d.Height))
		}
		if d.Duration > 0 {
			parts = append(parts, d.Duration.Round(100*time.Millisecond).String())
		}
		if d.Pages > 0 {
			parts = append(parts, fmt.Sprintf("%d pages", d.Pages))
		}
	}
	return "[" + strings.Join(append([]string{string(d.Kind)}, parts...), " ") + "]"
}

// ByteSize formats n bytes for people.
func ByteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// Sent is the --json object of a sent business message, with more
// keys and values.
func Sent(m client.MessageRecord, kv ...any) map[string]any {
	obj := map[string]any{"event": "sent", "id": m.ID(), "chat": string(m.Conversation), "seq": int64(m.Seq), "kind": m.Kind}
	for i := 0; i+1 < len(kv); i += 2 {
		obj[kv[i].(string)] = kv[i+1]
	}
	return obj
}

// Business is a business message's content for --json output, with
// media shown as mediaJSON does (never keys or capabilities).
func Business(bc *client.BusinessContent) map[string]any {
	c := *bc
	var media *attachment.Descriptor
	switch {
	case c.Product != nil && c.Product.Image != nil:
		p := *c.Product
		media, p.Image = p.Image, nil
		c.Product = &p
	case c.Interactive != nil && c.Interactive.HeaderMedia != nil:
		m := *c.Interactive
		media, m.HeaderMedia = m.HeaderMedia, nil
		c.Interactive = &m
	case c.Template != nil && c.Template.HeaderMedia != nil:
		m := *c.Template
		media, m.HeaderMedia = m.HeaderMedia, nil
		c.Template = &m
	}
	var obj map[string]any
	data, _ := json.Marshal(c)
	_ = json.Unmarshal(data, &obj)
	if media != nil {
		obj["media"] = Media(media)
	}
	return obj
}

func Profile(p parley.BusinessProfile) map[string]any {
	return map[string]any{"event": "business_profile", "user": int64(p.User), "name": p.Name, "category": p.Category,
		"description": p.Description, "address": p.Address, "website": p.Website, "email": p.Email,
		"hours": p.Hours.String(), "zone": p.Hours.Zone, "verified": p.Verified, "verified_at": TS(p.VerifiedAt),
		"hosted": p.Hosted, "updated_at": TS(p.UpdatedAt)}
}

func ProfileText(p parley.BusinessProfile) string {
	var b strings.Builder
	b.WriteString(p.Name)
	if p.Verified {
		b.WriteString(" ✓ verified business")
	}
	b.WriteString("\n")
	for _, f := range [][2]string{{"category", p.Category}, {"about", p.Description}, {"address", p.Address},
		{"hours", p.Hours.String()}, {"website", p.Website}, {"email", p.Email}} {
		if f[1] != "" {
			fmt.Fprintf(&b, "  %-9s %s\n", f[0]+":", f[1])
		}
	}
	if p.Hosted {
		b.WriteString("  note:     this business uses a server-hosted endpoint (its API): the server operator can read its chats\n")
	} else {
		b.WriteString("  note:     chats with this business are end-to-end encrypted with its own devices\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

func Product(p parley.Product) map[string]any {
	obj := map[string]any{"event": "product", "business": int64(p.Business), "id": string(p.ID), "name": p.Name,
		"price": p.Price.String(), "amount_1000": p.Price.Amount1000, "currency": p.Price.Currency,
		"description": p.Description, "available": p.Available, "url": p.URL, "images": len(p.Images),
		"preview":     len(p.Images) > 0 && len(p.Images[0].Thumbnail) > 0,
		"collections": p.Collections, "updated_at": TS(p.UpdatedAt)}
	if p.Collections == nil {
		obj["collections"] = []string{}
	}
	return obj
}

func ProductText(p parley.Product) string {
	s := fmt.Sprintf("%-12s %s — %s", p.ID, p.Name, p.Price)
	if !p.Available {
		s += " (unavailable)"
	}
	if len(p.Collections) > 0 {
		var cs []string
		for _, c := range p.Collections {
			cs = append(cs, string(c))
		}
		s += "  [" + strings.Join(cs, ", ") + "]"
	}
	return s
}

func AutoReply(a parley.AutoReplySettings) map[string]any {
	return map[string]any{"event": "auto_reply", "greeting_enabled": a.GreetingEnabled, "greeting": a.Greeting,
		"greeting_after": a.GreetingAfter.String(), "away_enabled": a.AwayEnabled, "away": a.Away, "away_every": a.AwayEvery.String(),
		"updated_at": TS(a.UpdatedAt)}
}

func AutoReplyText(a parley.AutoReplySettings) string {
	g, w := "off", "off"
	if a.GreetingEnabled {
		g = fmt.Sprintf("%q", a.Greeting)
		if a.GreetingAfter > 0 {
			g += fmt.Sprintf(" (again after %v of silence)", a.GreetingAfter)
		}
	}
	if a.AwayEnabled {
		every := a.AwayEvery
		if every <= 0 {
			every = parley.DefaultAwayEvery
		}
		w = fmt.Sprintf("%q (at most every %v per chat)", a.Away, every)
	}
	return "greeting: " + g + "\naway:     " + w
}

func TS(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
