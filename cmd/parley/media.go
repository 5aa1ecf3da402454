package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/attachment"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/client/files"
	"github.com/parleyhq/parley/cmd/internal/ffmpeg"
	"github.com/parleyhq/parley/cmd/internal/render"
)

// transferTimeout is the command timeout for moving size bytes: --timeout
// plus one second per MiB (a 2 GiB file gets at least 34 minutes).
func (e *env) transferTimeout(size int64) time.Duration {
	return e.timeout + time.Duration(size>>20)*time.Second
}

// sendMedia is `parley send` with --file, --voice, --location or --contact.
func (x *call) sendMedia(to, file, voice, caption, location, name, contact string) error {
	set := 0
	for _, s := range []string{file, voice, location, contact} {
		if s != "" {
			set++
		}
	}
	if set != 1 {
		return usageError("send: give one of TEXT, --file PATH, --voice PATH, --location LAT,LON or --contact NAME,PHONE")
	}
	if name != "" && location == "" {
		return usageError("send: --name goes with --location")
	}
	if caption != "" && file == "" && voice == "" {
		return usageError("send: --caption goes with --file or --voice")
	}
	timeout := x.timeout
	path := file + voice
	if path != "" {
		st, err := os.Stat(path)
		if err != nil {
			return parley.Errorf(parley.CodeInvalid, files.ReasonNoFile, "%s: %v", path, err)
		}
		timeout = x.transferTimeout(st.Size())
	}
	var vcard string
	var lat, lon float64
	switch {
	case location != "":
		var err error
		if lat, lon, err = attachment.ParseLatLon(location); err != nil {
			return err
		}
	case contact != "":
		i := strings.LastIndex(contact, ",")
		if i <= 0 || strings.TrimSpace(contact[:i]) == "" || strings.TrimSpace(contact[i+1:]) == "" {
			return usageError("send: --contact NAME,PHONE")
		}
		vcard = attachment.VCard(strings.TrimSpace(contact[:i]), strings.TrimSpace(contact[i+1:]))
	}
	return x.withClientTimeout(x.Ctx, timeout, func(ctx context.Context, c *client.Client) error {
		var m client.MessageRecord
		var err error
		switch {
		case path != "":
			m, err = c.SendFile(ctx, to, path, client.SendFileOptions{Voice: voice != "", Caption: caption, Video: ffmpeg.Reporting(x.stderr)})
		case location != "":
			m, err = c.SendLocation(ctx, to, lat, lon, name)
		default:
			m, err = c.SendContact(ctx, to, vcard)
		}
		if err != nil {
			return err
		}
		x.printSent(to, m)
		return nil
	})
}

// printSent reports a sent message.
func (e *env) printSent(to string, m client.MessageRecord) {
	obj := map[string]any{"event": "sent", "id": m.ID(), "chat": string(m.Conversation), "to": to, "seq": int64(m.Seq),
		"client_id": string(m.ClientID), "kind": m.Kind, "text": m.Text, "status": string(m.Status)}
	if m.Forwarded {
		obj["forwarded"] = true
	}
	if m.Media != nil {
		obj["media"] = render.Media(m.Media)
	}
	what := "sent"
	if m.Forwarded {
		what = "forwarded"
	}
	text := fmt.Sprintf("%s to %s: message %s (chat %s, seq %d)", what, to, m.ID(), m.Conversation, m.Seq)
	if m.Media != nil {
		text += " " + render.MediaSummary(m.Media)
	}
	e.out(obj, text)
}

// forward is `parley forward MESSAGE_ID --to CHAT`.
func forward(x *call) error {
	to := x.Need("to", "", "recipient: +PHONE, @username or a chat id")
	if err := x.Parse(); err != nil {
		return err
	}
	if _, _, err := client.ParseMessageID(x.Pos[0]); err != nil {
		return err
	}
	return x.client(func(c *client.Client) error {
		m, err := c.Forward(x.Ctx, x.Pos[0], *to)
		if err != nil {
			return err
		}
		x.printSent(*to, m)
		return nil
	})
}

// mediaGet is `parley media get MESSAGE_ID [-o PATH]`.
func mediaGet(x *call) error {
	out := x.FS.String("o", "", "write the file here (default: the sender's file name in the current directory; - for stdout)")
	if err := x.Parse(); err != nil {
		return err
	}
	if _, _, err := client.ParseMessageID(x.Pos[0]); err != nil {
		return err
	}
	// The transfer's size is known only from the message: look it up with
	// the normal timeout, then allow time for the download.
	var size int64
	err := x.withClient(x.Ctx, func(ctx context.Context, c *client.Client) error {
		if err := c.Sync(ctx); err != nil {
			return err
		}
		m, err := c.Message(ctx, x.Pos[0])
		if err == nil && m.Media != nil {
			size = m.Media.Size
		}
		return err
	})
	if err != nil {
		return err
	}
	return x.withClientTimeout(x.Ctx, x.transferTimeout(size), func(ctx context.Context, c *client.Client) error {
		if *out == "-" {
			if x.json {
				return usageError("media get: -o - writes the file to stdout, which --json uses")
			}
			_, err := c.DownloadMedia(ctx, x.Pos[0], x.stdout)
			return err
		}
		m, path, err := c.DownloadMediaFile(ctx, x.Pos[0], *out)
		if err != nil {
			return err
		}
		return x.print(map[string]any{"event": "media_saved", "id": m.ID(), "path": path, "kind": m.Kind, "size": m.Media.Size,
			"sha256": fmt.Sprintf("%x", m.Media.PlainSHA256), "verified": true},
			fmt.Sprintf("saved %s (%s, %s, SHA-256 verified)", path, m.Kind, render.ByteSize(m.Media.Size)))
	})
}
