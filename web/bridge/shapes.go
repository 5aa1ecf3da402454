// Package bridge is the part of the browser client's wasm bridge that does
// not need a browser: the JSON shapes of the client core's records as
// web/app/src/core/api.ts declares them, and the dispatch of API calls with
// JSON arguments to a *client.Client. web/wasm adds the JavaScript glue
// (promises, Blobs, callbacks, IndexedDB). Keeping this part native lets it
// be tested against a real server with `go test`.
package bridge

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/attachment"
	"github.com/parleyhq/parley/client"
)

// The shapes below mirror the interfaces of api.ts field by field
// (TestShapesMatchAPI checks it). Times are Unix milliseconds (0: none),
// durations milliseconds, IDs numbers or strings.

// Account is api.ts Account.
type Account struct {
	ServerURL string `json:"serverUrl"`
	User      int64  `json:"user"`
	Device    int64  `json:"device"`
	Phone     string `json:"phone"`
	Name      string `json:"name"`
	Primary   bool   `json:"primary"`
}

// Status is api.ts Status.
type Status struct {
	Registered bool     `json:"registered"`
	Connected  bool     `json:"connected"`
	Account    *Account `json:"account,omitempty"`
	ServerURL  string   `json:"serverUrl"`
}

// Registration is api.ts Registration.
type Registration struct {
	Phone         string `json:"phone"`
	ExpiresInMs   int64  `json:"expiresInMs"`
	ResendAfterMs int64  `json:"resendAfterMs"`
}

// LinkCode is api.ts LinkCode.
type LinkCode struct {
	Code        string `json:"code"`
	ExpiresInMs int64  `json:"expiresInMs"`
}

// DeviceKey is api.ts DeviceKey.
type DeviceKey struct {
	Device      int64  `json:"device"`
	User        int64  `json:"user"`
	Name        string `json:"name"`
	Primary     bool   `json:"primary"`
	IdentityKey string `json:"identityKey"`
	Revoked     bool   `json:"revoked"`
	CreatedAt   int64  `json:"createdAt"`
}

// Contact is api.ts Contact.
type Contact struct {
	User     int64       `json:"user"`
	Name     string      `json:"name"`
	Username string      `json:"username"`
	Phone    string      `json:"phone"`
	Contact  bool        `json:"contact"`
	Blocked  bool        `json:"blocked"`
	Devices  []DeviceKey `json:"devices"`
}

// SafetyNumber is api.ts SafetyNumber.
type SafetyNumber struct {
	Number  string  `json:"number"`
	Contact Contact `json:"contact"`
}

// Chat is api.ts Chat.
type Chat struct {
	ID        string `json:"id"`
	Kind      string `json:"kind"`
	Peer      int64  `json:"peer"`
	Title     string `json:"title"`
	Cursor    int64  `json:"cursor"`
	Unread    int    `json:"unread"`
	LastText  string `json:"lastText"`
	UpdatedAt int64  `json:"updatedAt"`
	Muted     bool   `json:"muted"`
	Pinned    bool   `json:"pinned"`
	Archived  bool   `json:"archived"`
	// MutedUntil (Unix ms, 0: none) and MarkedUnread are the chat's
	// device-local marks (package chattools).
	MutedUntil   int64 `json:"mutedUntil"`
	MarkedUnread bool  `json:"markedUnread"`
}

// ChatFlags is api.ts ChatFlags.
type ChatFlags struct {
	Muted    *bool `json:"muted,omitempty"`
	Pinned   *bool `json:"pinned,omitempty"`
	Archived *bool `json:"archived,omitempty"`
}

// Location is api.ts Location.
type Location struct {
	Lat  float64 `json:"lat"`
	Lon  float64 `json:"lon"`
	Name string  `json:"name,omitempty"`
}

// Media is api.ts Media: an attachment without its key and capability.
type Media struct {
	Kind       string    `json:"kind"`
	MIME       string    `json:"mime"`
	Size       int64     `json:"size"`
	FileName   string    `json:"fileName"`
	Width      int       `json:"width"`
	Height     int       `json:"height"`
	DurationMs int64     `json:"durationMs"`
	Waveform   []int     `json:"waveform"`
	Pages      int       `json:"pages"`
	Thumbnail  string    `json:"thumbnail"`
	Location   *Location `json:"location,omitempty"`
	VCard      string    `json:"vcard,omitempty"`
}

// Message is api.ts Message.
type Message struct {
	ID           string `json:"id"`
	Chat         string `json:"chat"`
	Seq          int64  `json:"seq"`
	ClientID     string `json:"clientId"`
	Sender       int64  `json:"sender"`
	SenderDevice int64  `json:"senderDevice"`
	Outgoing     bool   `json:"outgoing"`
	Kind         string `json:"kind"`
	Text         string `json:"text"`
	Media        *Media `json:"media,omitempty"`
	Forwarded    bool   `json:"forwarded"`
	SentAt       int64  `json:"sentAt"`
	StoredAt     int64  `json:"storedAt"`
	Status       string `json:"status"`
}

// PollSpec is api.ts PollSpec.
type PollSpec struct {
	Question string   `json:"question"`
	Options  []string `json:"options"`
	Multi    bool     `json:"multi,omitempty"`
}

// PollResult is api.ts PollResult.
type PollResult struct {
	Question string           `json:"question"`
	Options  []string         `json:"options"`
	Multi    bool             `json:"multi,omitempty"`
	Votes    map[string][]int `json:"votes"`
	Tallies  []int            `json:"tallies"`
}

// Extras is api.ts Extras.
type Extras struct {
	ReplyTo        int64             `json:"replyTo"`
	Mentions       []int64           `json:"mentions"`
	Everyone       bool              `json:"everyone"`
	Edited         bool              `json:"edited"`
	EditedAt       int64             `json:"editedAt"`
	Deleted        bool              `json:"deleted"`
	DeletedByAdmin bool              `json:"deletedByAdmin"`
	Reactions      map[string]string `json:"reactions"`
	Poll           *PollResult       `json:"poll,omitempty"`
	// Status is the status post the message replies to privately.
	Status *StatusQuote `json:"status,omitempty"`
}

// StatusQuote is api.ts StatusQuote: the status a private reply quotes.
type StatusQuote struct {
	ID      string `json:"id"`
	Poster  int64  `json:"poster"`
	Kind    string `json:"kind"`
	Preview string `json:"preview"`
	Thumb   []byte `json:"thumb,omitempty"` // base64 in JSON
}

// History is api.ts History.
type History struct {
	Chat     Chat      `json:"chat"`
	Messages []Message `json:"messages"`
}

// SearchHit is api.ts SearchHit.
type SearchHit struct {
	Chat      string  `json:"chat"`
	ChatTitle string  `json:"chatTitle"`
	Message   Message `json:"message"`
}

// SendMediaOptions is api.ts SendMediaOptions.
type SendMediaOptions struct {
	Kind       string `json:"kind,omitempty"`
	Caption    string `json:"caption,omitempty"`
	DurationMs int64  `json:"durationMs,omitempty"`
	Name       string `json:"name,omitempty"`
	MIME       string `json:"mime,omitempty"`
	Thumbnail  string `json:"thumbnail,omitempty"`
	Width      int    `json:"width,omitempty"`
	Height     int    `json:"height,omitempty"`
	// Waveform of a voice note recorded in the browser: at most
	// attachment.WaveformBars levels 0–255 (Web Audio decodes the
	// recording; the core cannot decode Opus).
	Waveform []int `json:"waveform,omitempty"`
}

// Presence is api.ts Presence.
type Presence struct {
	User     int64 `json:"user"`
	Online   bool  `json:"online"`
	LastSeen int64 `json:"lastSeen"`
}

// thumbnailPrefix starts the data: URL of a JPEG thumbnail, as Media
// carries it and as canvas.toDataURL("image/jpeg") makes it.
const thumbnailPrefix = "data:image/jpeg;base64,"

// Client returns the client core's options for o; mime is the type to
// assume when o names none (the Blob's). A thumbnail that is not a JPEG
// data: URL within client.MaxSenderThumbnail is CodeInvalid "bad_thumbnail".
func (o SendMediaOptions) Client(mime string) (client.SendMediaOptions, error) {
	co := client.SendMediaOptions{Kind: o.Kind, Caption: o.Caption, MIME: mime, Duration: time.Duration(o.DurationMs) * time.Millisecond}
	if o.MIME != "" {
		co.MIME = o.MIME
	}
	if len(o.Waveform) > attachment.WaveformBars {
		return co, parley.Errorf(parley.CodeInvalid, client.ReasonBadWaveform, "a waveform has at most %d levels, not %d", attachment.WaveformBars, len(o.Waveform))
	}
	for _, w := range o.Waveform {
		if w < 0 || w > 255 {
			return co, parley.Errorf(parley.CodeInvalid, client.ReasonBadWaveform, "waveform level %d is outside 0–255", w)
		}
		co.Waveform = append(co.Waveform, byte(w))
	}
	if o.Thumbnail == "" {
		return co, nil
	}
	b64, ok := strings.CutPrefix(o.Thumbnail, thumbnailPrefix)
	if !ok || base64.StdEncoding.DecodedLen(len(b64)) > client.MaxSenderThumbnail+3 {
		return co, parley.Errorf(parley.CodeInvalid, attachment.ReasonBadThumbnail, "a thumbnail must be a JPEG data: URL of at most %d bytes", client.MaxSenderThumbnail)
	}
	thumb, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return co, parley.Errorf(parley.CodeInvalid, attachment.ReasonBadThumbnail, "thumbnail: %v", err)
	}
	co.Thumbnail, co.Width, co.Height = thumb, o.Width, o.Height
	return co, nil
}

// GroupMember is api.ts GroupMember.
type GroupMember struct {
	User     int64       `json:"user"`
	Admin    bool        `json:"admin"`
	JoinedAt int64       `json:"joinedAt"`
	Devices  []DeviceKey `json:"devices"`
}

// Group is api.ts Group.
type Group struct {
	ID                 string        `json:"id"`
	Name               string        `json:"name"`
	Description        string        `json:"description"`
	Icon               string        `json:"icon"`
	OnlyAdminsSend     bool          `json:"onlyAdminsSend"`
	OnlyAdminsEditInfo bool          `json:"onlyAdminsEditInfo"`
	JoinApproval       bool          `json:"joinApproval"`
	CreatedBy          int64         `json:"createdBy"`
	CreatedAt          int64         `json:"createdAt"`
	Members            []GroupMember `json:"members"`
	Community          string        `json:"community"`
	IsCommunity        bool          `json:"isCommunity"`
}

// GroupOptions is api.ts GroupOptions.
type GroupOptions struct {
	Description        string `json:"description,omitempty"`
	Icon               string `json:"icon,omitempty"`
	OnlyAdminsSend     bool   `json:"onlyAdminsSend,omitempty"`
	OnlyAdminsEditInfo bool   `json:"onlyAdminsEditInfo,omitempty"`
	Community          string `json:"community,omitempty"`
}

// GroupAddResult is api.ts GroupAddResult.
type GroupAddResult struct {
	Group   Group   `json:"group"`
	Added   []int64 `json:"added"`
	Invited []int64 `json:"invited"`
}

// GroupUpdate is api.ts GroupUpdate.
type GroupUpdate struct {
	Name               *string `json:"name,omitempty"`
	Description        *string `json:"description,omitempty"`
	Icon               *string `json:"icon,omitempty"`
	OnlyAdminsSend     *bool   `json:"onlyAdminsSend,omitempty"`
	OnlyAdminsEditInfo *bool   `json:"onlyAdminsEditInfo,omitempty"`
	JoinApproval       *bool   `json:"joinApproval,omitempty"`
}

// GroupInvitation is api.ts GroupInvitation.
type GroupInvitation struct {
	Group     string `json:"group"`
	Name      string `json:"name"`
	InvitedBy int64  `json:"invitedBy"`
	At        int64  `json:"at"`
}

// InviteLink is api.ts InviteLink.
type InviteLink struct {
	ID        string `json:"id"`
	Link      string `json:"link"`
	Group     string `json:"group"`
	CreatedBy int64  `json:"createdBy"`
	CreatedAt int64  `json:"createdAt"`
	ExpiresAt int64  `json:"expiresAt"`
	MaxUses   int    `json:"maxUses"`
	Uses      int    `json:"uses"`
	Approve   bool   `json:"approve"`
	Revoked   bool   `json:"revoked"`
}

// LinkOptions is api.ts LinkOptions.
type LinkOptions struct {
	ExpiresInMs int64 `json:"expiresInMs,omitempty"`
	MaxUses     int   `json:"maxUses,omitempty"`
	Approve     bool  `json:"approve,omitempty"`
}

// JoinResult is api.ts JoinResult.
type JoinResult struct {
	Group   Group `json:"group"`
	Pending bool  `json:"pending"`
}

// JoinRequest is api.ts JoinRequest.
type JoinRequest struct {
	User int64 `json:"user"`
	At   int64 `json:"at"`
}

// CommunityGroup is api.ts CommunityGroup.
type CommunityGroup struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Description  string `json:"description"`
	Members      int    `json:"members"`
	Member       bool   `json:"member"`
	JoinApproval bool   `json:"joinApproval"`
	Pending      bool   `json:"pending"`
}

// Receipt is api.ts Receipt.
type Receipt struct {
	Kind    string    `json:"kind"`
	User    int64     `json:"user"`
	Device  int64     `json:"device"`
	Seq     int64     `json:"seq"`
	At      int64     `json:"at"`
	Updated []Message `json:"updated"`
}

// Event is api.ts ParleyEvent (a union: the fields of Kind are set).
type Event struct {
	Kind      string   `json:"kind"`
	Chat      string   `json:"chat,omitempty"`
	Message   *Message `json:"message,omitempty"`
	Receipt   *Receipt `json:"receipt,omitempty"`
	User      int64    `json:"user,omitempty"`
	Typing    *bool    `json:"typing,omitempty"`
	Online    *bool    `json:"online,omitempty"`
	LastSeen  int64    `json:"lastSeen,omitempty"`
	Connected *bool    `json:"connected,omitempty"`
	Error     string   `json:"error,omitempty"`
	Seq       int64    `json:"seq,omitempty"`
}

// ---- conversions ----

// Millis is t in Unix milliseconds, 0 for the zero time.
func Millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// AccountOf shapes an account (never its secret or keys).
func AccountOf(a client.Account) Account {
	return Account{ServerURL: a.ServerURL, User: int64(a.User), Device: int64(a.Device), Phone: a.Phone, Name: a.Name, Primary: a.Primary}
}

// DeviceKeyOf shapes a device key.
func DeviceKeyOf(d client.DeviceKey) DeviceKey {
	return DeviceKey{Device: int64(d.Device), User: int64(d.User), Name: d.Name, Primary: d.Primary,
		IdentityKey: base64.StdEncoding.EncodeToString(d.IdentityKey), Revoked: d.Revoked, CreatedAt: Millis(d.CreatedAt)}
}

func deviceKeys(ds []client.DeviceKey) []DeviceKey {
	out := make([]DeviceKey, 0, len(ds))
	for _, d := range ds {
		out = append(out, DeviceKeyOf(d))
	}
	return out
}

// ContactOf shapes a contact.
func ContactOf(c client.Contact) Contact {
	return Contact{User: int64(c.User), Name: c.Name, Username: c.Username, Phone: c.Phone, Contact: c.Contact, Blocked: c.Blocked, Devices: deviceKeys(c.Devices)}
}

// ChatOf shapes a chat.
func ChatOf(c client.Chat) Chat {
	return Chat{ID: string(c.ID), Kind: string(c.Kind), Peer: int64(c.Peer), Title: c.Title, Cursor: int64(c.Cursor), Unread: c.Unread,
		LastText: c.LastText, UpdatedAt: Millis(c.UpdatedAt), Muted: c.Muted, Pinned: c.Pinned, Archived: c.Archived}
}

// MediaOf shapes an attachment, leaving out its key and capability.
func MediaOf(d *attachment.Descriptor) *Media {
	if d == nil {
		return nil
	}
	m := &Media{Kind: string(d.Kind), MIME: d.MIME, Size: d.Size, FileName: d.FileName, Width: d.Width, Height: d.Height,
		DurationMs: d.Duration.Milliseconds(), Waveform: []int{}, Pages: d.Pages, VCard: d.VCard}
	for _, w := range d.Waveform {
		m.Waveform = append(m.Waveform, int(w))
	}
	if len(d.Thumbnail) > 0 {
		m.Thumbnail = "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(d.Thumbnail)
	}
	if d.Location != nil {
		m.Location = &Location{Lat: d.Location.Lat, Lon: d.Location.Lon, Name: d.Location.Name}
	}
	return m
}

// MessageOf shapes a message.
func MessageOf(m client.MessageRecord) Message {
	return Message{ID: m.ID(), Chat: string(m.Conversation), Seq: int64(m.Seq), ClientID: string(m.ClientID), Sender: int64(m.Sender),
		SenderDevice: int64(m.SenderDevice), Outgoing: m.Outgoing, Kind: m.Kind, Text: m.Text, Media: MediaOf(m.Media),
		Forwarded: m.Forwarded, SentAt: Millis(m.SentAt), StoredAt: Millis(m.StoredAt), Status: string(m.Status)}
}

func messages(ms []client.MessageRecord) []Message {
	out := make([]Message, 0, len(ms))
	for _, m := range ms {
		out = append(out, MessageOf(m))
	}
	return out
}

func users(us []parley.UserID) []int64 {
	out := make([]int64, 0, len(us))
	for _, u := range us {
		out = append(out, int64(u))
	}
	return out
}

func userKey(u parley.UserID) string { return strconv.FormatInt(int64(u), 10) }

// ExtrasOf shapes a message's extras.
func ExtrasOf(e client.Extras) Extras {
	out := Extras{ReplyTo: int64(e.ReplyTo), Mentions: users(e.Mentions), Everyone: e.Everyone, Edited: e.Edited, EditedAt: Millis(e.EditedAt),
		Deleted: e.Deleted, DeletedByAdmin: e.DeletedByAdmin, Reactions: map[string]string{}}
	for u, r := range e.Reactions {
		out.Reactions[userKey(u)] = r
	}
	if p := e.Poll; p != nil {
		out.Poll = &PollResult{Question: p.Question, Options: p.Options, Multi: p.Multi, Votes: map[string][]int{}, Tallies: p.Tallies}
		for u, v := range p.Votes {
			out.Poll.Votes[userKey(u)] = v
		}
	}
	if q := e.Status; q != nil {
		out.Status = &StatusQuote{ID: q.ID, Poster: int64(q.Poster), Kind: q.Kind, Preview: q.Preview, Thumb: q.Thumb}
	}
	return out
}

// GroupOf shapes a group.
func GroupOf(g client.Group) Group {
	out := Group{ID: string(g.ID), Name: g.Name, Description: g.Description, Icon: g.Icon, OnlyAdminsSend: g.OnlyAdminsSend,
		OnlyAdminsEditInfo: g.OnlyAdminsEditInfo, JoinApproval: g.JoinApproval, CreatedBy: int64(g.CreatedBy), CreatedAt: Millis(g.CreatedAt),
		Members: []GroupMember{}, Community: string(g.Community), IsCommunity: g.IsCommunity()}
	for _, m := range g.Members {
		out.Members = append(out.Members, GroupMember{User: int64(m.User), Admin: m.Admin, JoinedAt: Millis(m.JoinedAt), Devices: deviceKeys(m.Devices)})
	}
	return out
}

// GroupAddResultOf shapes a group creation or addition.
func GroupAddResultOf(r client.GroupAddResult) GroupAddResult {
	return GroupAddResult{Group: GroupOf(r.Group), Added: users(r.Added), Invited: users(r.Invited)}
}

// InviteLinkOf shapes an invite link.
func InviteLinkOf(l client.InviteLink) InviteLink {
	return InviteLink{ID: l.ID, Link: l.Link, Group: string(l.Group), CreatedBy: int64(l.CreatedBy), CreatedAt: Millis(l.CreatedAt),
		ExpiresAt: Millis(l.ExpiresAt), MaxUses: l.MaxUses, Uses: l.Uses, Approve: l.Approve, Revoked: l.Revoked}
}

// ReceiptOf shapes a receipt.
func ReceiptOf(r client.Receipt) Receipt {
	kind := "delivered"
	if r.Kind == parley.ReceiptRead {
		kind = "read"
	}
	return Receipt{Kind: kind, User: int64(r.User), Device: int64(r.Device), Seq: int64(r.Seq), At: Millis(r.At), Updated: messages(r.Updated)}
}

// EventOf shapes a client event.
func EventOf(ev client.Event) Event {
	out := Event{Kind: string(ev.Kind), Chat: string(ev.Conversation)}
	switch ev.Kind {
	case client.EventMessage:
		if ev.Message != nil {
			m := MessageOf(*ev.Message)
			out.Message = &m
		}
	case client.EventReceipt:
		if ev.Receipt != nil {
			r := ReceiptOf(*ev.Receipt)
			out.Receipt = &r
		}
	case client.EventTyping:
		if ev.Typing != nil {
			out.User, out.Typing = int64(ev.Typing.User), &ev.Typing.Typing
		}
	case client.EventPresence:
		if ev.Presence != nil {
			out.User, out.Online, out.LastSeen = int64(ev.Presence.User), &ev.Presence.Online, Millis(ev.Presence.LastSeen)
		}
	case client.EventConnection:
		connected := ev.Connected
		out.Connected = &connected
		if ev.Err != nil {
			out.Error = ev.Err.Error()
		}
	case client.EventExtras:
		out.Seq = int64(ev.Target)
	}
	return out
}
