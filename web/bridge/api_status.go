package bridge

import (
	"context"
	"encoding/base64"
	"maps"
	"slices"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client/status"
)

// StatusPost is api.ts StatusPost: a status as the browser shows it.
type StatusPost struct {
	ID         string `json:"id"`
	Poster     int64  `json:"poster"`
	PosterName string `json:"posterName"`
	Kind       string `json:"kind"` // "" when it cannot be read here (error says why)
	Text       string `json:"text,omitempty"`
	Background string `json:"background,omitempty"`
	Font       string `json:"font,omitempty"`
	MediaType  string `json:"mediaType,omitempty"`
	MediaSize  int64  `json:"mediaSize,omitempty"`
	Thumb      string `json:"thumb,omitempty"` // a data: URL of the thumbnail
	CreatedAt  int64  `json:"createdAt"`       // Unix ms
	ExpiresAt  int64  `json:"expiresAt"`
	Mine       bool   `json:"mine"`
	Seen       bool   `json:"seen"`
	Views      int    `json:"views"`
	Muted      bool   `json:"muted"`
	Error      string `json:"error,omitempty"` // the reason it cannot be read
}

// StatusViewer is api.ts StatusViewer.
type StatusViewer struct {
	User int64  `json:"user"`
	Name string `json:"name"`
	At   int64  `json:"at"`
}

// StatusPostOptions is api.ts StatusPostOptions.
type StatusPostOptions struct {
	Text       string `json:"text"`
	Background string `json:"background,omitempty"`
	Font       string `json:"font,omitempty"`
	Audience   string `json:"audience,omitempty"` // contacts, except:…, only:… ("": the default)
}

// StatusMedia is api.ts StatusMedia: a media status's decrypted file.
type StatusMedia struct {
	Type string `json:"type"`
	Data []byte `json:"data"` // base64 in JSON
}

// StatusSettings is api.ts StatusSettings.
type StatusSettings struct {
	Audience string `json:"audience"`
	Receipts bool   `json:"receipts"`
}

// StatusPostOf shapes a status.
func StatusPostOf(p status.Post) StatusPost {
	out := StatusPost{ID: string(p.ID), Poster: int64(p.Poster), PosterName: p.PosterName, Kind: p.Kind, Text: p.Text,
		Background: p.Background, Font: p.Font, MediaType: p.MediaType, MediaSize: p.MediaSize,
		CreatedAt: Millis(p.CreatedAt), ExpiresAt: Millis(p.ExpiresAt), Mine: p.Mine, Seen: p.Seen, Views: p.Views, Muted: p.Muted}
	if len(p.Thumb) > 0 {
		out.Thumb = "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(p.Thumb)
	}
	if p.Err != nil {
		out.Error = parley.ErrorReason(p.Err)
	}
	return out
}

func statusPosts(ps []status.Post, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	out := make([]StatusPost, 0, len(ps))
	for _, p := range ps {
		out = append(out, StatusPostOf(p))
	}
	return out, nil
}

func (api *API) statuses() *status.Status { return status.New(api.C, nil) }

func (api *API) statusSettings(ctx context.Context) (any, error) {
	a, err := api.statuses().DefaultAudience(ctx)
	if err != nil {
		return nil, err
	}
	share, err := api.statuses().ShareViews(ctx)
	return StatusSettings{Audience: a.String(), Receipts: share}, err
}

// statusMethods are the calls of Status (package client/status,
// docs/status.md). Text statuses only: a browser has no file paths to
// post from yet (a media status is shown: statusMedia).
var statusMethods = map[string]handler{
	"statuses": func(ctx context.Context, api *API, a Args) (any, error) {
		var withMuted bool
		if err := a.Decode(0, "withMuted", &withMuted); err != nil {
			return nil, err
		}
		return statusPosts(api.statuses().List(ctx, withMuted))
	},
	"postStatus": func(ctx context.Context, api *API, a Args) (any, error) {
		var o StatusPostOptions
		if err := a.Decode(0, "options", &o); err != nil {
			return nil, err
		}
		opt := status.PostOptions{Text: o.Text, Background: o.Background, Font: o.Font}
		if o.Audience != "" {
			aud, err := status.ParseAudience(o.Audience)
			if err != nil {
				return nil, err
			}
			opt.Audience = &aud
		}
		p, err := api.statuses().Post(ctx, opt)
		if err != nil {
			return nil, err
		}
		return map[string]any{"id": p.ID, "audience": p.Audience, "expiresAt": Millis(p.ExpiresAt)}, nil
	},
	"viewStatus": str1("who", func(ctx context.Context, api *API, who string) (any, error) {
		return statusPosts(api.statuses().View(ctx, who))
	}),
	"statusViewers": str1("id", func(ctx context.Context, api *API, id string) (any, error) {
		vs, err := api.statuses().Viewers(ctx, parley.StatusID(id))
		if err != nil {
			return nil, err
		}
		out := make([]StatusViewer, 0, len(vs))
		for _, v := range vs {
			out = append(out, StatusViewer{User: int64(v.User), Name: v.Name, At: Millis(v.At)})
		}
		return out, nil
	}),
	"statusMedia": str1("id", func(ctx context.Context, api *API, id string) (any, error) {
		st := api.statuses()
		ps, err := st.List(ctx, true)
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(ps, func(p status.Post) bool { return string(p.ID) == id })
		if i < 0 {
			return nil, parley.Errorf(parley.CodeNotFound, parley.ReasonStatusNotFound, "no status post %s", id)
		}
		data, err := st.Media(ctx, ps[i])
		if err != nil {
			return nil, err
		}
		return StatusMedia{Type: ps[i].MediaType, Data: data}, nil
	}),
	"deleteStatus": str1("id", func(ctx context.Context, api *API, id string) (any, error) {
		return none(api.statuses().Delete(ctx, parley.StatusID(id)))
	}),
	"replyStatus": str2("id", "text", func(ctx context.Context, api *API, id, text string) (any, error) {
		m, err := api.statuses().Reply(ctx, parley.StatusID(id), text)
		if err != nil {
			return nil, err
		}
		return MessageOf(m), nil
	}),
	"muteStatus": func(ctx context.Context, api *API, a Args) (any, error) {
		who, err := a.Str(0, "who")
		if err != nil {
			return nil, err
		}
		on := true
		if err := a.Decode(1, "on", &on); err != nil {
			return nil, err
		}
		if on {
			return contactResult(api.statuses().Mute(ctx, who))
		}
		return contactResult(api.statuses().Unmute(ctx, who))
	},
	"statusSettings": func(ctx context.Context, api *API, a Args) (any, error) { return api.statusSettings(ctx) },
	"setStatusSettings": func(ctx context.Context, api *API, a Args) (any, error) {
		var s struct {
			Audience *string `json:"audience"`
			Receipts *bool   `json:"receipts"`
		}
		if err := a.Decode(0, "settings", &s); err != nil {
			return nil, err
		}
		st := api.statuses()
		if s.Audience != nil {
			aud, err := status.ParseAudience(*s.Audience)
			if err == nil {
				err = st.SetDefaultAudience(ctx, aud)
			}
			if err != nil {
				return nil, err
			}
		}
		if s.Receipts != nil {
			if err := st.SetShareViews(ctx, *s.Receipts); err != nil {
				return nil, err
			}
		}
		return api.statusSettings(ctx)
	},
}

// The status calls join the table api.go builds (this file's init runs
// after api.go's: Go initialises a package's files in name order).
func init() { maps.Copy(methods, statusMethods) }
