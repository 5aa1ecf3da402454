package bridge

import (
	"context"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/client/chattools"
	"github.com/parleyhq/parley/client/localstore"
)

// MemberReceipt is api.ts MemberReceipt.
type MemberReceipt struct {
	User        int64  `json:"user"`
	Name        string `json:"name"`
	DeliveredAt int64  `json:"deliveredAt"` // Unix ms; 0: not yet
	ReadAt      int64  `json:"readAt"`
}

// MessageInfo is api.ts MessageInfo.
type MessageInfo struct {
	Message Message         `json:"message"`
	Members []MemberReceipt `json:"members"`
}

// withMarks adds the device-local marks (muted until, marked unread) to
// shaped chats.
func (api *API) withMarks(ctx context.Context, cs ...*Chat) error {
	marks, err := api.C.Tools().Marks(ctx)
	if err != nil {
		return err
	}
	api.withNames(ctx, cs...) // api_profile.go
	for _, c := range cs {
		m := marks[parley.ConversationID(c.ID)]
		c.MutedUntil, c.MarkedUnread = Millis(m.MutedUntil), m.Unread
	}
	return nil
}

// chatResult shapes one chat with its marks.
func (api *API) chatResult(ctx context.Context, c client.Chat, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	out := ChatOf(c)
	return out, api.withMarks(ctx, &out)
}

// markedResult is chatResult for the results of chattools' Mute and
// MarkUnread.
func (api *API) markedResult(ctx context.Context) func(c localstore.Chat, _ localstore.ChatMarks, err error) (any, error) {
	return func(c localstore.Chat, _ localstore.ChatMarks, err error) (any, error) {
		return api.chatResult(ctx, c, err)
	}
}

// toolMethods are the calls of the device-local chat tools (package
// chattools).
var toolMethods = map[string]handler{
	"star": func(ctx context.Context, api *API, a Args) (any, error) {
		id, err := a.Str(0, "message")
		if err != nil {
			return nil, err
		}
		on := true
		if err := a.Decode(1, "on", &on); err != nil {
			return nil, err
		}
		return none(api.C.Tools().Star(ctx, id, on))
	},
	"starred": str1("chat", func(ctx context.Context, api *API, ref string) (any, error) {
		ms, err := api.C.Tools().Starred(ctx, ref)
		if err != nil {
			return nil, err
		}
		titles := map[parley.ConversationID]string{}
		out := make([]SearchHit, 0, len(ms))
		for _, m := range ms {
			t, ok := titles[m.Conversation]
			if !ok {
				if ch, err := api.C.Chat(ctx, string(m.Conversation)); err == nil {
					t = ch.Title
				}
				titles[m.Conversation] = t
			}
			out = append(out, SearchHit{Chat: string(m.Conversation), ChatTitle: t, Message: MessageOf(m)})
		}
		return out, nil
	}),
	"deleteForMe": str1("message", func(ctx context.Context, api *API, id string) (any, error) {
		return none(api.C.Tools().DeleteForMe(ctx, id))
	}),
	"messageInfo": str1("message", func(ctx context.Context, api *API, id string) (any, error) {
		info, err := api.C.Tools().Info(ctx, id)
		if err != nil {
			return nil, err
		}
		out := MessageInfo{Message: MessageOf(info.Message), Members: make([]MemberReceipt, 0, len(info.Members))}
		for _, r := range info.Members {
			out.Members = append(out.Members, MemberReceipt{User: int64(r.User), Name: api.C.Profiles.Name(ctx, r.User),
				DeliveredAt: Millis(r.Delivered), ReadAt: Millis(r.Read)})
		}
		return out, nil
	}),
	"mute": func(ctx context.Context, api *API, a Args) (any, error) {
		ref, err := a.Str(0, "ref")
		if err != nil {
			return nil, err
		}
		var ms int64 // -1: always; 0: unmute
		if err := a.Decode(1, "forMs", &ms); err != nil {
			return nil, err
		}
		d := time.Duration(ms) * time.Millisecond
		if ms == -1 {
			d = chattools.Always
		}
		return api.markedResult(ctx)(api.C.Tools().Mute(ctx, ref, d))
	},
	"markUnread": func(ctx context.Context, api *API, a Args) (any, error) {
		ref, err := a.Str(0, "ref")
		if err != nil {
			return nil, err
		}
		on := true
		if err := a.Decode(1, "on", &on); err != nil {
			return nil, err
		}
		return api.markedResult(ctx)(api.C.Tools().MarkUnread(ctx, ref, on))
	},
}
