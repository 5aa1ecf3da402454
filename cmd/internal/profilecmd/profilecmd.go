// Package profilecmd is `parley profile …`: one's name, "about" line and
// profile photo, and who may see the photo (docs/cli.md; decision 0006).
package profilecmd

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/client/profile"
	"github.com/parleyhq/parley/cmd/internal/clicmd"
	"github.com/parleyhq/parley/cmd/internal/cmdline"
)

// maxPhotoFile is the largest image file `profile photo` reads (it is
// scaled down to a small JPEG before it is sent).
const maxPhotoFile = 32 << 20

// Commands are `parley profile …`.
func Commands[C clicmd.Call]() []cmdline.Command[C] {
	return []cmdline.Command[C]{
		{Name: "show", Max: 1, Usage: "[+PHONE|@USERNAME|USER_ID]\tyour profile, or someone's as the server lets you see it",
			Run: clicmd.Do(func(x C, c *client.Client) error {
				cl := x.Cmd()
				who := ""
				if len(cl.Pos) > 0 {
					who = cl.Pos[0]
				}
				p, err := c.Profiles.Show(cl.Ctx, who)
				return clicmd.Done(x, err, profileJSON(p), profileText(p))
			})},
		{Name: "name", Min: 1, Max: -1, Usage: "NAME\tchange your display name", Run: clicmd.Do(func(x C, c *client.Client) error {
			cl := x.Cmd()
			name := strings.Join(cl.Pos, " ")
			return clicmd.Done(x, c.Profiles.SetName(cl.Ctx, name), map[string]any{"event": "profile_name", "name": name}, "name set to "+name)
		})},
		{Name: "about", Max: -1, Usage: "TEXT\tchange your \"about\" line (no TEXT clears it)", Run: clicmd.Do(func(x C, c *client.Client) error {
			cl := x.Cmd()
			about := strings.Join(cl.Pos, " ")
			return clicmd.Done(x, c.Profiles.SetAbout(cl.Ctx, about), map[string]any{"event": "profile_about", "about": about}, "about set")
		})},
		{Name: "photo", Max: 1, Usage: "PATH | photo --remove | photo --who everyone|contacts|nobody\n\tset (scaled to 320 px), remove, or choose who can see your profile photo",
			Run: func(x C) error {
				cl := x.Cmd()
				remove := cl.FS.Bool("remove", false, "remove your profile photo")
				who := cl.FS.String("who", "", `who can see your photo: "everyone", "contacts" or "nobody"`)
				return x.Client(func(c *client.Client) error {
					return photo(x, c, cl, *remove, parley.Visibility(*who))
				})
			}},
	}
}

func photo[C clicmd.Call](x C, c *client.Client, cl *cmdline.Call, remove bool, who parley.Visibility) error {
	if remove && len(cl.Pos) == 1 || !remove && len(cl.Pos) == 0 && who == "" {
		return cl.Usage()
	}
	if who != "" {
		if err := c.Profiles.SetPhotoPrivacy(cl.Ctx, who); err != nil {
			return err
		}
		x.Out(map[string]any{"event": "profile_photo_privacy", "who": string(who)}, "who can see your photo: "+string(who))
	}
	switch {
	case remove:
		return clicmd.Done(x, c.Profiles.RemovePhoto(cl.Ctx), map[string]any{"event": "profile_photo_removed"}, "profile photo removed")
	case len(cl.Pos) == 1:
		img, err := readImage(cl.Pos[0])
		if err != nil {
			return err
		}
		jpeg, err := profile.PhotoFromImage(bytes.NewReader(img))
		if err != nil {
			return parley.Errorf(parley.CodeInvalid, profile.ReasonNotAnImage, "%s: not an image this client reads (JPEG, PNG, GIF, WebP, BMP): %v", cl.Pos[0], err)
		}
		tag, err := c.Profiles.SetPhoto(cl.Ctx, jpeg)
		return clicmd.Done(x, err, map[string]any{"event": "profile_photo", "tag": tag, "bytes": len(jpeg)},
			fmt.Sprintf("profile photo set (%d bytes)", len(jpeg)))
	}
	return nil
}

func readImage(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > maxPhotoFile {
		return nil, parley.Errorf(parley.CodeTooLarge, profile.ReasonPhotoFileTooLarge, "%s: an image for a profile photo is at most %d MB", path, maxPhotoFile>>20)
	}
	b := make([]byte, st.Size())
	if _, err := f.ReadAt(b, 0); err != nil {
		return nil, err
	}
	return b, nil
}

func profileJSON(p profile.Profile) map[string]any {
	return map[string]any{"event": "profile", "user": int64(p.User), "name": p.Name, "username": p.Username, "phone": p.Phone,
		"about": p.About, "photo_tag": p.PhotoTag, "title": p.Title()}
}

func profileText(p profile.Profile) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n  user id: %d", p.Title(), p.User)
	if p.Username != "" {
		fmt.Fprintf(&b, "\n  username: @%s", p.Username)
	}
	if p.Phone != "" {
		fmt.Fprintf(&b, "\n  phone: %s", p.Phone)
	}
	if p.About != "" {
		fmt.Fprintf(&b, "\n  about: %s", p.About)
	}
	if p.PhotoTag != "" {
		b.WriteString("\n  photo: yes")
	} else {
		b.WriteString("\n  photo: none (or hidden from you)")
	}
	return b.String()
}
