// Package statuscmd is `parley status …`: Status, 24-hour stories, from
// the command line (docs/status.md).
package statuscmd

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/client/status"
	"github.com/parleyhq/parley/cmd/internal/clicmd"
	"github.com/parleyhq/parley/cmd/internal/cmdline"
)

// Commands are `parley status …` (docs/status.md).
func Commands[C clicmd.Call]() []cmdline.Command[C] {
	return []cmdline.Command[C]{
		{Name: "post", Max: -1, Usage: "TEXT | post --file PATH [CAPTION]\tpost a status for 24 hours; --audience contacts|except:+P,…|only:+P,…;\n\ta text's --background #rrggbb and --font " + strings.Join(status.Fonts, "|") + "; --voice",
			Run: func(x C) error {
				cl := x.Cmd()
				file := cl.FS.String("file", "", "post this image, video or voice note (encrypted and uploaded once)")
				voice := cl.FS.Bool("voice", false, "the file is a voice note")
				audience := cl.FS.String("audience", "", "who sees it: contacts, except:+P,… or only:+P,… (default: the setting)")
				bg := cl.FS.String("background", "", "a text status's background colour, #rrggbb")
				font := cl.FS.String("font", "", "a text status's font: "+strings.Join(status.Fonts, ", "))
				return x.Client(func(c *client.Client) error {
					opt := status.PostOptions{Text: strings.Join(cl.Pos, " "), File: *file, Voice: *voice, Background: *bg, Font: *font}
					if *audience != "" {
						a, err := status.ParseAudience(*audience)
						if err != nil {
							return err
						}
						opt.Audience = &a
					}
					p, err := status.New(c, nil).Post(cl.Ctx, opt)
					return clicmd.Done(x, err, map[string]any{"event": "status_posted", "id": p.ID, "audience": p.Audience, "key_id": p.KeyID,
						"rotated": p.Rotated, "keys_sent": p.KeysSent, "media_size": p.MediaSize, "expires_at": p.ExpiresAt},
						fmt.Sprintf("posted status %s to %d people until %s", p.ID, p.Audience, p.ExpiresAt.Local().Format(time.DateTime)))
				})
			}},
		{Name: "list", Usage: "[--muted]\tthe statuses shared with you and yours, newest first",
			Run: func(x C) error {
				cl := x.Cmd()
				muted := cl.FS.Bool("muted", false, "include muted people's statuses")
				return x.Client(func(c *client.Client) error {
					ps, err := status.New(c, nil).List(cl.Ctx, *muted)
					for _, p := range ps {
						x.Out(postJSON("status", p), postText(p))
					}
					return err
				})
			}},
		{Name: "view", Min: 1, Max: 1, Usage: "CONTACT [--save DIR]\twatch someone's statuses (\"me\" for yours), oldest first;\n\tsends view receipts unless they are off; --save writes the media to DIR",
			Run: func(x C) error {
				cl := x.Cmd()
				dir := cl.FS.String("save", "", "write each status's media into this directory")
				return x.Client(func(c *client.Client) error {
					s := status.New(c, nil)
					ps, err := s.View(cl.Ctx, cl.Pos[0])
					if err != nil {
						return err
					}
					for _, p := range ps {
						obj, text := postJSON("status_viewed", p), postText(p)
						if *dir != "" && p.Err == nil && p.MediaSize > 0 {
							data, err := s.Media(cl.Ctx, p)
							if err != nil {
								return err
							}
							path := filepath.Join(*dir, string(p.ID)+ext(p))
							if err := os.WriteFile(path, data, 0o600); err != nil {
								return err
							}
							obj["file"], text = path, text+" → "+path
						}
						x.Out(obj, text)
					}
					return nil
				})
			}},
		{Name: "viewers", Min: 1, Max: 1, Usage: "STATUS_ID\twho viewed a status of yours (those who share view receipts)",
			Run: clicmd.Do(func(x C, c *client.Client) error {
				cl := x.Cmd()
				id := parley.StatusID(cl.Pos[0])
				vs, err := status.New(c, nil).Viewers(cl.Ctx, id)
				for _, v := range vs {
					x.Out(map[string]any{"event": "status_viewer", "status": id, "user": int64(v.User), "name": v.Name, "at": v.At},
						fmt.Sprintf("%s\t%s", v.At.Local().Format(time.DateTime), v.Name))
				}
				return clicmd.Done(x, err, map[string]any{"event": "status_viewers", "status": id, "count": len(vs)}, fmt.Sprintf("%d viewers", len(vs)))
			})},
		{Name: "delete", Min: 1, Max: 1, Usage: "STATUS_ID\tdelete a status of yours now, for everyone",
			Run: clicmd.Do(func(x C, c *client.Client) error {
				cl := x.Cmd()
				id := parley.StatusID(cl.Pos[0])
				return clicmd.Done(x, status.New(c, nil).Delete(cl.Ctx, id), map[string]any{"event": "status_deleted", "id": id}, "deleted status "+string(id))
			})},
		{Name: "mute", Min: 1, Max: 1, Usage: "CONTACT\thide someone's statuses on this device", Run: clicmd.Do(func(x C, c *client.Client) error {
			cl := x.Cmd()
			ct, err := status.New(c, nil).Mute(cl.Ctx, cl.Pos[0])
			return clicmd.Done(x, err, map[string]any{"event": "status_muted", "user": int64(ct.User), "muted": true}, "muted the statuses of "+cl.Pos[0])
		})},
		{Name: "unmute", Min: 1, Max: 1, Usage: "CONTACT", Run: clicmd.Do(func(x C, c *client.Client) error {
			cl := x.Cmd()
			ct, err := status.New(c, nil).Unmute(cl.Ctx, cl.Pos[0])
			return clicmd.Done(x, err, map[string]any{"event": "status_muted", "user": int64(ct.User), "muted": false}, "unmuted the statuses of "+cl.Pos[0])
		})},
		{Name: "reply", Min: 2, Max: -1, Usage: "STATUS_ID TEXT\treply privately: the message lands in your 1:1 chat, quoting the status",
			Run: clicmd.Do(func(x C, c *client.Client) error {
				cl := x.Cmd()
				id := parley.StatusID(cl.Pos[0])
				m, err := status.New(c, nil).Reply(cl.Ctx, id, strings.Join(cl.Pos[1:], " "))
				return clicmd.Done(x, err, map[string]any{"event": "status_replied", "status": id, "chat": m.Conversation, "message": m.ID()},
					"replied in chat "+string(m.Conversation))
			})},
		{Name: "settings", Usage: "[--audience contacts|except:+P,…|only:+P,…] [--receipts on|off]\n\tthe default audience of new statuses (posted ones keep theirs) and view receipts",
			Run: func(x C) error {
				cl := x.Cmd()
				audience := cl.FS.String("audience", "", "the default audience")
				receipts := cl.FS.String("receipts", "", "on: viewing a status tells its poster; off: it does not")
				return x.Client(func(c *client.Client) error {
					s := status.New(c, nil)
					if *audience != "" {
						a, err := status.ParseAudience(*audience)
						if err == nil {
							err = s.SetDefaultAudience(cl.Ctx, a)
						}
						if err != nil {
							return err
						}
					}
					switch *receipts {
					case "":
					case "on", "off":
						if err := s.SetShareViews(cl.Ctx, *receipts == "on"); err != nil {
							return err
						}
					default:
						return &cmdline.UsageError{Msg: "--receipts is on or off"}
					}
					a, err := s.DefaultAudience(cl.Ctx)
					if err != nil {
						return err
					}
					share, err := s.ShareViews(cl.Ctx)
					return clicmd.Done(x, err, map[string]any{"event": "status_settings", "audience": a.String(), "receipts": share},
						fmt.Sprintf("default audience: %s; view receipts: %v", a, share))
				})
			}},
	}
}

func ext(p status.Post) string {
	if e := filepath.Ext(p.MediaName); e != "" && len(e) <= 8 {
		return e
	}
	return ".bin"
}

func postJSON(event string, p status.Post) map[string]any {
	obj := map[string]any{"event": event, "id": p.ID, "poster": int64(p.Poster), "poster_name": p.PosterName, "kind": p.Kind,
		"created_at": p.CreatedAt, "expires_at": p.ExpiresAt, "mine": p.Mine, "seen": p.Seen, "muted": p.Muted}
	for k, v := range map[string]string{"text": p.Text, "background": p.Background, "font": p.Font, "media_type": p.MediaType} {
		if v != "" {
			obj[k] = v
		}
	}
	if p.MediaSize > 0 {
		obj["media_size"] = p.MediaSize
	}
	if p.Mine {
		obj["views"] = p.Views
	}
	if p.Err != nil {
		obj["error"] = parley.ErrorReason(p.Err)
	}
	return obj
}

func postText(p status.Post) string {
	mark := "•"
	if p.Seen {
		mark = " "
	}
	what := p.Text
	switch {
	case p.Err != nil:
		what = "(cannot be read here: " + p.Err.Error() + ")"
	case p.Kind != status.KindText:
		what = strings.TrimSpace(fmt.Sprintf("[%s %s, %d bytes] %s", p.Kind, p.MediaType, p.MediaSize, p.Text))
	}
	s := fmt.Sprintf("%s %s\t%s\t%s\t%s", mark, p.ID, p.CreatedAt.Local().Format("15:04"), p.PosterName, what)
	if p.Mine {
		s += fmt.Sprintf("\t(%d views)", p.Views)
	}
	return s
}
