package bridge

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/apiclient"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/client/backup"
	"github.com/parleyhq/parley/client/broadcast"
)

// API serves the calls of api.ts's Parley interface that take and return
// JSON values. Calls with Blobs or callbacks (sendMedia, media, onEvent)
// are JavaScript glue in web/wasm around the same client.
type API struct {
	C *client.Client
	// Origin is the server the page came from (location.origin): where a
	// new device registers.
	Origin string
	// HTTP makes the push subscription requests (nil: http.DefaultClient).
	HTTP *http.Client
	// Backups keeps the backup setting (api_backup.go); nil: in memory.
	Backups backup.ScheduleStore

	connected atomic.Bool
}

// Args are a call's arguments, each the JSON of one JavaScript value
// ("null" for undefined).
type Args []json.RawMessage

// Decode unmarshals argument i into v; a missing or null argument leaves
// v as it is. A value of the wrong type is CodeInvalid "bad_argument".
func (a Args) Decode(i int, name string, v any) error {
	if i >= len(a) || len(a[i]) == 0 || string(a[i]) == "null" {
		return nil
	}
	if err := json.Unmarshal(a[i], v); err != nil {
		return parley.Errorf(parley.CodeInvalid, ReasonBadArgument, "argument %d (%s): %v", i+1, name, err)
	}
	return nil
}

// Str returns string argument i ("" when missing).
func (a Args) Str(i int, name string) (string, error) {
	var s string
	return s, a.Decode(i, name, &s)
}

// Observe updates the connection state from an event; the wasm glue feeds
// every event through it.
func (api *API) Observe(ev client.Event) {
	if ev.Kind == client.EventConnection {
		api.connected.Store(ev.Connected)
	}
}

// Status is api.ts status().
func (api *API) Status() Status {
	acct := api.C.Account()
	st := Status{Registered: acct.Registered(), Connected: api.connected.Load(), ServerURL: api.Origin}
	if acct.Phone != "" || acct.Registered() {
		a := AccountOf(acct)
		st.Account = &a
	}
	return st
}

type handler func(ctx context.Context, api *API, a Args) (any, error)

// none adapts a call without a result.
func none(err error) (any, error) { return nil, err }

// Methods lists the names Call serves.
func Methods() []string {
	out := make([]string, 0, len(methods))
	for name := range methods {
		out = append(out, name)
	}
	return out
}

// Call runs method name with JSON arguments and returns its result, to be
// marshalled to JSON for JavaScript (nil: undefined).
//
// Errors: CodeInvalid "no_such_method" or "bad_argument"; the client's.
func (api *API) Call(ctx context.Context, name string, a Args) (any, error) {
	h, ok := methods[name]
	if !ok {
		return nil, parley.Errorf(parley.CodeInvalid, ReasonNoSuchMethod, "parley.%s is not a method", name)
	}
	return h(ctx, api, a)
}

// str1 and str2 adapt calls taking one or two string arguments.
func str1(names string, f func(ctx context.Context, api *API, s string) (any, error)) handler {
	return func(ctx context.Context, api *API, a Args) (any, error) {
		s, err := a.Str(0, names)
		if err != nil {
			return nil, err
		}
		return f(ctx, api, s)
	}
}

func str2(n1, n2 string, f func(ctx context.Context, api *API, s1, s2 string) (any, error)) handler {
	return func(ctx context.Context, api *API, a Args) (any, error) {
		s1, err := a.Str(0, n1)
		if err != nil {
			return nil, err
		}
		s2, err := a.Str(1, n2)
		if err != nil {
			return nil, err
		}
		return f(ctx, api, s1, s2)
	}
}

func contactResult(c client.Contact, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return ContactOf(c), nil
}

func messageResult(m client.MessageRecord, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return MessageOf(m), nil
}

func groupResult(g client.Group, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return GroupOf(g), nil
}

func addResult(r client.GroupAddResult, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return GroupAddResultOf(r), nil
}

func groupOptions(a Args, i int) (client.GroupOptions, error) {
	var o GroupOptions
	if err := a.Decode(i, "options", &o); err != nil {
		return client.GroupOptions{}, err
	}
	return client.GroupOptions{Description: o.Description, Icon: o.Icon, OnlyAdminsSend: o.OnlyAdminsSend,
		OnlyAdminsEditInfo: o.OnlyAdminsEditInfo, Community: parley.ConversationID(o.Community)}, nil
}

// nameMembers decodes (name, members[], options?) from position i.
func nameMembers(a Args, i int) (string, []string, client.GroupOptions, error) {
	name, err := a.Str(i, "name")
	if err != nil {
		return "", nil, client.GroupOptions{}, err
	}
	var members []string
	if err := a.Decode(i+1, "members", &members); err != nil {
		return "", nil, client.GroupOptions{}, err
	}
	o, err := groupOptions(a, i+2)
	return name, members, o, err
}

var methods map[string]handler

func init() {
	// The other files' tables: api_tools.go, api_moderation.go, api_backup.go, api_profile.go.
	defer func() {
		for _, t := range []map[string]handler{toolMethods, moderationMethods, backupMethods, profileMethods} {
			maps.Copy(methods, t)
		}
	}()
	methods = map[string]handler{
		"status": func(ctx context.Context, api *API, a Args) (any, error) { return api.Status(), nil },

		// account
		"register": str2("phone", "name", func(ctx context.Context, api *API, phone, name string) (any, error) {
			r, err := api.C.Register(ctx, api.Origin, phone, name)
			if err != nil {
				return nil, err
			}
			return Registration{Phone: r.Phone, ExpiresInMs: r.ExpiresIn.Milliseconds(), ResendAfterMs: r.ResendAfter.Milliseconds()}, nil
		}),
		"verify": str2("code", "pin", func(ctx context.Context, api *API, code, pin string) (any, error) {
			acct, err := api.C.Verify(ctx, strings.TrimSpace(code), pin)
			if err != nil {
				return nil, err
			}
			return AccountOf(acct), nil
		}),
		"linkCode": func(ctx context.Context, api *API, a Args) (any, error) {
			code, ttl, err := api.C.LinkCode(ctx)
			if err != nil {
				return nil, err
			}
			return LinkCode{Code: code, ExpiresInMs: ttl.Milliseconds()}, nil
		},
		"linkDevice": str2("code", "server", func(ctx context.Context, api *API, code, server string) (any, error) {
			if server == "" {
				server = api.Origin
			}
			acct, err := api.C.LinkDevice(ctx, server, code)
			if err != nil {
				return nil, err
			}
			return AccountOf(acct), nil
		}),
		"setUsername": str1("username", func(ctx context.Context, api *API, u string) (any, error) {
			return none(api.C.SetUsername(ctx, u))
		}),
		"setPrivacy": func(ctx context.Context, api *API, a Args) (any, error) {
			var p struct {
				FindByPhone parley.Visibility `json:"findByPhone"`
				LastSeen    parley.Visibility `json:"lastSeen"`
			}
			if err := a.Decode(0, "privacy", &p); err != nil {
				return nil, err
			}
			if !p.FindByPhone.Valid() || !p.LastSeen.Valid() {
				return nil, parley.Errorf(parley.CodeInvalid, ReasonBadVisibility, "privacy values are everyone, contacts or nobody")
			}
			return none(api.C.SetPrivacy(ctx, p.FindByPhone, p.LastSeen))
		},
		"setPIN": str2("pin", "old", func(ctx context.Context, api *API, pin, old string) (any, error) {
			return none(api.C.SetPIN(ctx, pin, old))
		}),
		"devices": func(ctx context.Context, api *API, a Args) (any, error) {
			ds, err := api.C.Devices(ctx)
			if err != nil {
				return nil, err
			}
			return deviceKeys(ds), nil
		},
		"removeDevice": func(ctx context.Context, api *API, a Args) (any, error) {
			var d int64
			if err := a.Decode(0, "device", &d); err != nil {
				return nil, err
			}
			return none(api.C.RemoveDevice(ctx, parley.DeviceID(d)))
		},

		// people
		"resolve": str1("who", func(ctx context.Context, api *API, who string) (any, error) {
			return contactResult(api.C.Resolve(ctx, who))
		}),
		"contacts": func(ctx context.Context, api *API, a Args) (any, error) {
			cs, err := api.C.Contacts(ctx)
			if err != nil {
				return nil, err
			}
			out := make([]Contact, 0, len(cs))
			for _, c := range cs {
				out = append(out, ContactOf(c))
			}
			return out, nil
		},
		"addContact": str1("who", func(ctx context.Context, api *API, who string) (any, error) {
			return contactResult(api.C.AddContact(ctx, who))
		}),
		"removeContact": str1("who", func(ctx context.Context, api *API, who string) (any, error) {
			return contactResult(api.C.RemoveContact(ctx, who))
		}),
		"block": str1("who", func(ctx context.Context, api *API, who string) (any, error) {
			return contactResult(api.C.Block(ctx, who))
		}),
		"unblock": str1("who", func(ctx context.Context, api *API, who string) (any, error) {
			return contactResult(api.C.Unblock(ctx, who))
		}),
		"safetyNumber": str1("who", func(ctx context.Context, api *API, who string) (any, error) {
			n, c, err := api.C.SafetyNumber(ctx, who)
			if err != nil {
				return nil, err
			}
			return SafetyNumber{Number: n, Contact: ContactOf(c)}, nil
		}),
		"presence": func(ctx context.Context, api *API, a Args) (any, error) {
			var u int64
			if err := a.Decode(0, "user", &u); err != nil {
				return nil, err
			}
			p, err := api.C.Presence(ctx, parley.UserID(u))
			if err != nil {
				return nil, err
			}
			return Presence{User: int64(p.User), Online: p.Online, LastSeen: Millis(p.LastSeen)}, nil
		},
		"who": func(ctx context.Context, api *API, a Args) (any, error) {
			var u int64
			if err := a.Decode(0, "user", &u); err != nil {
				return nil, err
			}
			return api.C.Profiles.Name(ctx, parley.UserID(u)), nil
		},

		// chats
		"chats": func(ctx context.Context, api *API, a Args) (any, error) {
			cs, err := api.C.Chats(ctx)
			if err != nil {
				return nil, err
			}
			out := make([]Chat, 0, len(cs))
			ptrs := make([]*Chat, len(cs))
			for i, c := range cs {
				out = append(out, ChatOf(c))
				ptrs[i] = &out[i]
			}
			return out, api.withMarks(ctx, ptrs...)
		},
		"chat": str1("ref", func(ctx context.Context, api *API, ref string) (any, error) {
			c, err := api.C.Chat(ctx, ref)
			return api.chatResult(ctx, c, err)
		}),
		"openChat": str1("ref", func(ctx context.Context, api *API, ref string) (any, error) {
			c, err := api.C.OpenChat(ctx, ref)
			return api.chatResult(ctx, c, err)
		}),
		"history": func(ctx context.Context, api *API, a Args) (any, error) {
			ref, err := a.Str(0, "ref")
			if err != nil {
				return nil, err
			}
			var limit int
			if err := a.Decode(1, "limit", &limit); err != nil {
				return nil, err
			}
			ch, ms, err := api.C.History(ctx, ref, limit)
			if err != nil {
				return nil, err
			}
			h := History{Chat: ChatOf(ch), Messages: messages(ms)}
			return h, api.withMarks(ctx, &h.Chat)
		},
		"search": func(ctx context.Context, api *API, a Args) (any, error) {
			q, err := a.Str(0, "query")
			if err != nil {
				return nil, err
			}
			ref, err := a.Str(1, "chat")
			if err != nil {
				return nil, err
			}
			var limit int
			if err := a.Decode(2, "limit", &limit); err != nil {
				return nil, err
			}
			hits, err := api.C.Search(ctx, q, ref, limit)
			if err != nil {
				return nil, err
			}
			titles := map[parley.ConversationID]string{}
			out := make([]SearchHit, 0, len(hits))
			for _, m := range hits {
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
		},
		"setChatFlags": func(ctx context.Context, api *API, a Args) (any, error) {
			ref, err := a.Str(0, "ref")
			if err != nil {
				return nil, err
			}
			var f ChatFlags
			if err := a.Decode(1, "flags", &f); err != nil {
				return nil, err
			}
			ch, err := api.C.SetChatFlags(ctx, ref, client.ChatFlags{Muted: f.Muted, Pinned: f.Pinned, Archived: f.Archived})
			return api.chatResult(ctx, ch, err)
		},
		"markRead": str1("ref", func(ctx context.Context, api *API, ref string) (any, error) {
			seq, err := api.C.MarkRead(ctx, ref)
			if err == nil { // opening a chat clears its "marked unread"
				_, _, err = api.C.Tools().MarkUnread(ctx, ref, false)
			}
			return int64(seq), err
		}),
		"typing": func(ctx context.Context, api *API, a Args) (any, error) {
			ref, err := a.Str(0, "ref")
			if err != nil {
				return nil, err
			}
			var typing bool
			if err := a.Decode(1, "typing", &typing); err != nil {
				return nil, err
			}
			return none(api.C.Typing(ctx, ref, typing))
		},
		"setDisappearing": func(ctx context.Context, api *API, a Args) (any, error) {
			ref, err := a.Str(0, "ref")
			if err != nil {
				return nil, err
			}
			var ms int64
			if err := a.Decode(1, "ttlMs", &ms); err != nil {
				return nil, err
			}
			return none(api.C.SetDisappearing(ctx, ref, time.Duration(ms)*time.Millisecond))
		},
		"disappearing": str1("ref", func(ctx context.Context, api *API, ref string) (any, error) {
			d, err := api.C.Disappearing(ctx, ref)
			return d.Milliseconds(), err
		}),

		// messages
		"send": str2("to", "text", func(ctx context.Context, api *API, to, text string) (any, error) {
			return messageResult(api.C.Send(ctx, to, text))
		}),
		"sendText": func(ctx context.Context, api *API, a Args) (any, error) {
			chat, err := a.Str(0, "chat")
			if err != nil {
				return nil, err
			}
			text, err := a.Str(1, "text")
			if err != nil {
				return nil, err
			}
			var reply int64
			if err := a.Decode(2, "replyTo", &reply); err != nil {
				return nil, err
			}
			return messageResult(api.C.SendText(ctx, chat, text, parley.Seq(reply)))
		},
		"sendLocation": func(ctx context.Context, api *API, a Args) (any, error) {
			to, err := a.Str(0, "to")
			if err != nil {
				return nil, err
			}
			var lat, lon float64
			var name string
			if err := a.Decode(1, "lat", &lat); err != nil {
				return nil, err
			}
			if err := a.Decode(2, "lon", &lon); err != nil {
				return nil, err
			}
			if err := a.Decode(3, "name", &name); err != nil {
				return nil, err
			}
			return messageResult(api.C.SendLocation(ctx, to, lat, lon, name))
		},
		"sendContact": str2("to", "vcard", func(ctx context.Context, api *API, to, vcard string) (any, error) {
			return messageResult(api.C.SendContact(ctx, to, vcard))
		}),
		// broadcast lists (client/broadcast, docs/broadcast.md)
		"broadcasts": func(ctx context.Context, api *API, a Args) (any, error) {
			ls, err := api.C.Broadcasts(ctx)
			return BroadcastListsOf(ls), err
		},
		"createBroadcast": func(ctx context.Context, api *API, a Args) (any, error) {
			name, err := a.Str(0, "name")
			var to []string
			if err == nil {
				err = a.Decode(1, "to", &to)
			}
			if err != nil {
				return nil, err
			}
			return broadcastResult(api.C.CreateBroadcast(ctx, name, to))
		},
		"editBroadcast": func(ctx context.Context, api *API, a Args) (any, error) {
			name, err := a.Str(0, "name")
			var e BroadcastEdit
			if err == nil {
				err = a.Decode(1, "edit", &e)
			}
			if err != nil {
				return nil, err
			}
			return broadcastResult(api.C.EditBroadcast(ctx, name, broadcast.EditOptions{Rename: e.Rename, Add: e.Add, Remove: e.Remove}))
		},
		"deleteBroadcast": str1("name", func(ctx context.Context, api *API, name string) (any, error) {
			return none(api.C.DeleteBroadcast(ctx, name))
		}),
		"sendBroadcast": str2("name", "text", func(ctx context.Context, api *API, name, text string) (any, error) {
			s, err := api.C.SendBroadcast(ctx, name, text)
			if err != nil {
				return nil, err
			}
			return BroadcastSentOf(s), nil
		}),
		"forward": str2("message", "to", func(ctx context.Context, api *API, id, to string) (any, error) {
			return messageResult(api.C.Forward(ctx, id, to))
		}),
		"react": str2("message", "emoji", func(ctx context.Context, api *API, id, emoji string) (any, error) {
			return none(api.C.React(ctx, id, emoji))
		}),
		"edit": str2("message", "text", func(ctx context.Context, api *API, id, text string) (any, error) {
			return none(api.C.Edit(ctx, id, text))
		}),
		"deleteMessage": str1("message", func(ctx context.Context, api *API, id string) (any, error) {
			return none(api.C.Delete(ctx, id))
		}),
		"createPoll": func(ctx context.Context, api *API, a Args) (any, error) {
			chat, err := a.Str(0, "chat")
			if err != nil {
				return nil, err
			}
			var p PollSpec
			if err := a.Decode(1, "poll", &p); err != nil {
				return nil, err
			}
			return messageResult(api.C.CreatePoll(ctx, chat, client.PollSpec{Question: p.Question, Options: p.Options, Multi: p.Multi}))
		},
		"vote": func(ctx context.Context, api *API, a Args) (any, error) {
			id, err := a.Str(0, "message")
			if err != nil {
				return nil, err
			}
			var choices []int
			if err := a.Decode(1, "choices", &choices); err != nil {
				return nil, err
			}
			return none(api.C.Vote(ctx, id, choices))
		},
		"extras": func(ctx context.Context, api *API, a Args) (any, error) {
			chat, err := a.Str(0, "chat")
			if err != nil {
				return nil, err
			}
			var seqs []int64
			if err := a.Decode(1, "seqs", &seqs); err != nil {
				return nil, err
			}
			ps := make([]parley.Seq, 0, len(seqs))
			for _, s := range seqs {
				ps = append(ps, parley.Seq(s))
			}
			ex, err := api.C.ExtrasOf(ctx, parley.ConversationID(chat), ps)
			if err != nil {
				return nil, err
			}
			out := make(map[string]Extras, len(ex))
			for seq, e := range ex {
				out[strconv.FormatInt(int64(seq), 10)] = ExtrasOf(e)
			}
			return out, nil
		},
		"message": str1("id", func(ctx context.Context, api *API, id string) (any, error) {
			return messageResult(api.C.Message(ctx, id))
		}),

		// groups
		"groups": func(ctx context.Context, api *API, a Args) (any, error) {
			gs, err := api.C.Groups(ctx)
			if err != nil {
				return nil, err
			}
			out := make([]Group, 0, len(gs))
			for _, g := range gs {
				out = append(out, GroupOf(g))
			}
			return out, nil
		},
		"group": str1("ref", func(ctx context.Context, api *API, ref string) (any, error) {
			return groupResult(api.C.Group(ctx, ref))
		}),
		"createGroup": func(ctx context.Context, api *API, a Args) (any, error) {
			name, members, o, err := nameMembers(a, 0)
			if err != nil {
				return nil, err
			}
			return addResult(api.C.CreateGroup(ctx, name, members, o))
		},
		"addGroupMembers": func(ctx context.Context, api *API, a Args) (any, error) {
			ref, err := a.Str(0, "ref")
			if err != nil {
				return nil, err
			}
			var members []string
			if err := a.Decode(1, "members", &members); err != nil {
				return nil, err
			}
			return addResult(api.C.AddGroupMembers(ctx, ref, members))
		},
		"removeGroupMember": str2("ref", "member", func(ctx context.Context, api *API, ref, m string) (any, error) {
			return none(api.C.RemoveGroupMember(ctx, ref, m))
		}),
		"setGroupAdmin": func(ctx context.Context, api *API, a Args) (any, error) {
			ref, err := a.Str(0, "ref")
			if err != nil {
				return nil, err
			}
			m, err := a.Str(1, "member")
			if err != nil {
				return nil, err
			}
			var admin bool
			if err := a.Decode(2, "admin", &admin); err != nil {
				return nil, err
			}
			return none(api.C.SetGroupAdmin(ctx, ref, m, admin))
		},
		"updateGroup": func(ctx context.Context, api *API, a Args) (any, error) {
			ref, err := a.Str(0, "ref")
			if err != nil {
				return nil, err
			}
			var u GroupUpdate
			if err := a.Decode(1, "update", &u); err != nil {
				return nil, err
			}
			return groupResult(api.C.UpdateGroup(ctx, ref, client.GroupUpdate{Name: u.Name, Description: u.Description, Icon: u.Icon,
				OnlyAdminsSend: u.OnlyAdminsSend, OnlyAdminsEditInfo: u.OnlyAdminsEditInfo, JoinApproval: u.JoinApproval}))
		},
		"leaveGroup": str1("ref", func(ctx context.Context, api *API, ref string) (any, error) {
			return none(api.C.LeaveGroup(ctx, ref))
		}),
		"inviteToGroup": str2("ref", "member", func(ctx context.Context, api *API, ref, m string) (any, error) {
			return none(api.C.InviteToGroup(ctx, ref, m))
		}),
		"groupInvitations": func(ctx context.Context, api *API, a Args) (any, error) {
			is, err := api.C.GroupInvitations(ctx)
			if err != nil {
				return nil, err
			}
			out := make([]GroupInvitation, 0, len(is))
			for _, i := range is {
				out = append(out, GroupInvitation{Group: string(i.Group), Name: i.Name, InvitedBy: int64(i.InvitedBy), At: Millis(i.At)})
			}
			return out, nil
		},
		"acceptGroupInvitation": str1("ref", func(ctx context.Context, api *API, ref string) (any, error) {
			return groupResult(api.C.AcceptGroupInvitation(ctx, ref))
		}),
		"declineGroupInvitation": str1("ref", func(ctx context.Context, api *API, ref string) (any, error) {
			return none(api.C.DeclineGroupInvitation(ctx, ref))
		}),
		"setGroupAddPrivacy": str1("who", func(ctx context.Context, api *API, who string) (any, error) {
			return none(api.C.SetGroupAddPrivacy(ctx, who))
		}),
		"createInviteLink": func(ctx context.Context, api *API, a Args) (any, error) {
			ref, err := a.Str(0, "ref")
			if err != nil {
				return nil, err
			}
			var o LinkOptions
			if err := a.Decode(1, "options", &o); err != nil {
				return nil, err
			}
			l, err := api.C.CreateInviteLink(ctx, ref, client.LinkOptions{ExpiresIn: time.Duration(o.ExpiresInMs) * time.Millisecond, MaxUses: o.MaxUses, Approve: o.Approve})
			if err != nil {
				return nil, err
			}
			return InviteLinkOf(l), nil
		},
		"inviteLinks": str1("ref", func(ctx context.Context, api *API, ref string) (any, error) {
			ls, err := api.C.InviteLinks(ctx, ref)
			if err != nil {
				return nil, err
			}
			out := make([]InviteLink, 0, len(ls))
			for _, l := range ls {
				out = append(out, InviteLinkOf(l))
			}
			return out, nil
		}),
		"revokeInviteLink": str2("ref", "link", func(ctx context.Context, api *API, ref, link string) (any, error) {
			return none(api.C.RevokeInviteLink(ctx, ref, link))
		}),
		"joinByLink": str1("link", func(ctx context.Context, api *API, link string) (any, error) {
			r, err := api.C.JoinByLink(ctx, link)
			if err != nil {
				return nil, err
			}
			return JoinResult{Group: GroupOf(r.Group), Pending: r.Pending}, nil
		}),
		"joinRequests": str1("ref", func(ctx context.Context, api *API, ref string) (any, error) {
			rs, err := api.C.JoinRequests(ctx, ref)
			if err != nil {
				return nil, err
			}
			out := make([]JoinRequest, 0, len(rs))
			for _, r := range rs {
				out = append(out, JoinRequest{User: int64(r.User), At: Millis(r.At)})
			}
			return out, nil
		}),
		"decideJoinRequest": func(ctx context.Context, api *API, a Args) (any, error) {
			ref, err := a.Str(0, "ref")
			if err != nil {
				return nil, err
			}
			var user int64
			var approve bool
			if err := a.Decode(1, "user", &user); err != nil {
				return nil, err
			}
			if err := a.Decode(2, "approve", &approve); err != nil {
				return nil, err
			}
			return none(api.C.DecideJoinRequest(ctx, ref, parley.UserID(user), approve))
		},

		// communities
		"createCommunity": func(ctx context.Context, api *API, a Args) (any, error) {
			name, members, o, err := nameMembers(a, 0)
			if err != nil {
				return nil, err
			}
			return addResult(api.C.CreateCommunity(ctx, name, members, o))
		},
		"createCommunityGroup": func(ctx context.Context, api *API, a Args) (any, error) {
			comm, err := a.Str(0, "community")
			if err != nil {
				return nil, err
			}
			name, members, o, err := nameMembers(a, 1)
			if err != nil {
				return nil, err
			}
			return addResult(api.C.CreateCommunityGroup(ctx, comm, name, members, o))
		},
		"addCommunityGroup": str2("community", "group", func(ctx context.Context, api *API, comm, g string) (any, error) {
			return none(api.C.AddCommunityGroup(ctx, comm, g))
		}),
		"removeCommunityGroup": str2("community", "group", func(ctx context.Context, api *API, comm, g string) (any, error) {
			return none(api.C.RemoveCommunityGroup(ctx, comm, g))
		}),
		"communityGroups": str1("community", func(ctx context.Context, api *API, comm string) (any, error) {
			gs, err := api.C.CommunityGroups(ctx, comm)
			if err != nil {
				return nil, err
			}
			out := make([]CommunityGroup, 0, len(gs))
			for _, g := range gs {
				out = append(out, CommunityGroup{ID: string(g.ID), Name: g.Name, Description: g.Description, Members: g.Members, Member: g.Member,
					JoinApproval: g.JoinApproval, Pending: g.Pending})
			}
			return out, nil
		}),
		"joinCommunityGroup": str2("community", "group", func(ctx context.Context, api *API, comm, g string) (any, error) {
			r, err := api.C.JoinCommunityGroup(ctx, comm, g)
			if err != nil {
				return nil, err
			}
			return JoinResult{Group: GroupOf(r.Group), Pending: r.Pending}, nil
		}),
		"announce": str2("community", "text", func(ctx context.Context, api *API, comm, text string) (any, error) {
			return messageResult(api.C.Announce(ctx, comm, text))
		}),

		// web push
		"vapidKey": func(ctx context.Context, api *API, a Args) (any, error) {
			var r struct {
				Key string `json:"key"`
			}
			if err := api.pushRequest(ctx, http.MethodGet, "/push/v1/vapid", nil, &r, false); err != nil {
				return nil, err
			}
			return r.Key, nil
		},
		"subscribePush": func(ctx context.Context, api *API, a Args) (any, error) {
			var sub json.RawMessage
			if err := a.Decode(0, "subscription", &sub); err != nil {
				return nil, err
			}
			if len(sub) == 0 {
				return nil, parley.Errorf(parley.CodeInvalid, ReasonBadArgument, "subscribePush needs PushSubscription.toJSON()")
			}
			return nil, api.pushRequest(ctx, http.MethodPost, "/push/v1/subscriptions", sub, nil, true)
		},
		"unsubscribePush": str1("endpoint", func(ctx context.Context, api *API, endpoint string) (any, error) {
			return nil, api.pushRequest(ctx, http.MethodDelete, "/push/v1/subscriptions", map[string]string{"endpoint": endpoint}, nil, true)
		}),
	}
}

// pushRequest calls the server's push routes, with the device's
// credential when auth is set, sending in (when not nil) as JSON and
// decoding a JSON answer into out; errors are apiclient's *parley.Error.
func (api *API) pushRequest(ctx context.Context, method, path string, in, out any, auth bool) error {
	acct := api.C.Account()
	server := acct.ServerURL
	if server == "" {
		server = api.Origin
	}
	credential := ""
	if auth {
		if !acct.Registered() {
			return parley.Errorf(parley.CodeUnauthenticated, apiclient.ReasonNotRegistered, "register this browser first")
		}
		credential = apiclient.DeviceAuth(acct.Device, acct.Secret)
	}
	c, err := apiclient.New(server, credential)
	if err != nil {
		return err
	}
	c.HTTP = api.HTTP
	return c.Call(ctx, method, path, in, out)
}
