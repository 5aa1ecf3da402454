// Package status is the client side of Status, WhatsApp's 24-hour
// stories: posting text (with a background colour and font), an image, a
// video or a voice note to an audience of one's contacts; a feed of the
// posts shared with this user, newest first, seen or not; who viewed one's
// own posts; private replies; muting; early deletion.
//
// End to end encrypted without one MLS group for the audience (its
// ratchet tree would show every viewer to every other): each poster has a
// status key (32 random bytes and an id) that reaches each audience member
// once, as a hidden control message in their 1:1 MLS chat
// (content.KindStatusKey). A post is sealed once under that key and
// uploaded once with its media (encrypted once under a key of its own
// inside the post); the server stores it with the audience's user ids and
// serves it to them alone for 24 hours (package status on the server). A
// member left out of a post's audience makes the poster start a new key
// before sealing it, which that member never receives: the posts from
// then on are sealed under a key they do not have. Changing the default
// audience changes nothing already posted. docs/decisions/0005-status.md
// has the design and its limits.
//
// Views: opening a post (View) records a view on the server, which only
// the poster can list, unless this user turned view receipts off
// (SetShareViews). Seen state and mutes are this device's alone.
package status

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/apiclient"
	"github.com/parleyhq/parley/attachment"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/client/localstore"
	"github.com/parleyhq/parley/content"
)

// Reasons of the errors this package returns.
const (
	ReasonStatusAudience   = "status_audience"    // CodeInvalid: an audience is contacts, except:PEOPLE or only:PEOPLE
	ReasonStatusNotContact = "status_not_contact" // CodeInvalid: a status audience is made of your contacts
	ReasonStatusNoAudience = "status_no_audience" // CodeInvalid: the status audience has nobody in it
	ReasonStatusEmpty      = "status_empty"       // CodeInvalid: a status post needs text or a file
	ReasonStatusText       = "status_text"        // CodeInvalid: a status text is at most 700 bytes
	ReasonStatusStyle      = "status_style"       // CodeInvalid: a background is #rrggbb and a font one of the offered fonts
	ReasonStatusMediaKind  = "status_media_kind"  // CodeInvalid: a status file is an image, a video or a voice note
	ReasonStatusUnreadable = "status_unreadable"  // CodeInvalid: a status post or its media does not decrypt or is malformed
	ReasonStatusNoKey      = "status_no_key"      // CodeNotFound: the poster's status key has not reached this device (yet)
	ReasonStatusMine       = "status_mine"        // CodeInvalid: you cannot reply to your own status
	ReasonStatusFileSize   = "status_file_size"   // CodeTooLarge: a status file is at most 30 MiB
)

// MaxFileSize bounds a status file (before encryption).
const MaxFileSize = 30 << 20

// Audience modes.
const (
	AudienceContacts = "contacts" // every contact
	AudienceExcept   = "except"   // every contact except People
	AudienceOnly     = "only"     // only People
)

// Audience is who a post is shared with.
type Audience struct {
	Mode   string   `json:"mode"`
	People []string `json:"people,omitempty"` // "+E164", "@username" or user ids
}

// ParseAudience parses "contacts", "except:+P,+Q" or "only:+P,@q".
func ParseAudience(s string) (Audience, error) {
	mode, list, _ := strings.Cut(strings.TrimSpace(s), ":")
	a := Audience{Mode: mode}
	for _, p := range strings.Split(list, ",") {
		if p = strings.TrimSpace(p); p != "" {
			a.People = append(a.People, p)
		}
	}
	if err := a.check(); err != nil {
		return Audience{}, err
	}
	return a, nil
}

func (a Audience) check() error {
	switch {
	case a.Mode == AudienceContacts && len(a.People) == 0, a.Mode == AudienceExcept, a.Mode == AudienceOnly && len(a.People) > 0:
		return nil
	}
	return parley.Errorf(parley.CodeInvalid, ReasonStatusAudience, "an audience is contacts, except:PEOPLE or only:PEOPLE, not %q", a.String())
}

// String is the audience as ParseAudience reads it.
func (a Audience) String() string {
	if len(a.People) == 0 {
		return a.Mode
	}
	return a.Mode + ":" + strings.Join(a.People, ",")
}

// PostOptions describe a post: Text, or File (with Text as its caption).
type PostOptions struct {
	Text       string
	File       string
	Voice      bool      // File is a voice note (else its type decides: image or video)
	Background string    // a text post's background, "#rrggbb"
	Font       string    // a text post's font, one of Fonts
	Audience   *Audience // nil: the default audience (SetDefaultAudience)
}

// Post is a post as this device shows it.
type Post struct {
	ID         parley.StatusID `json:"id"`
	Poster     parley.UserID   `json:"poster"`
	PosterName string          `json:"poster_name"`
	Kind       string          `json:"kind"` // "" when the post cannot be read here (Err says why)
	Text       string          `json:"text,omitempty"`
	Background string          `json:"background,omitempty"`
	Font       string          `json:"font,omitempty"`
	MediaType  string          `json:"media_type,omitempty"`
	MediaSize  int64           `json:"media_size,omitempty"`
	MediaName  string          `json:"media_name,omitempty"`
	Thumb      []byte          `json:"-"`
	CreatedAt  time.Time       `json:"created_at"`
	ExpiresAt  time.Time       `json:"expires_at"`
	Mine       bool            `json:"mine,omitempty"`
	Seen       bool            `json:"seen"`
	Views      int             `json:"views,omitempty"` // of a post of mine
	Muted      bool            `json:"muted,omitempty"`
	Err        error           `json:"-"`

	media *MediaInfo
}

// Viewer is one recorded view of a post of mine.
type Viewer struct {
	User parley.UserID `json:"user"`
	Name string        `json:"name"`
	At   time.Time     `json:"at"`
}

// Posted is the outcome of Post.
type Posted struct {
	ID        parley.StatusID `json:"id"`
	Audience  int             `json:"audience"`
	KeyID     string          `json:"key_id"`
	Rotated   bool            `json:"rotated"`    // a new status key was started for this post
	KeysSent  int             `json:"keys_sent"`  // members the key was sent to now
	MediaSize int64           `json:"media_size"` // ciphertext bytes uploaded (0: none)
	ExpiresAt time.Time       `json:"expires_at"`
	// Timings of the three steps, for the bench.
	Distribute, Seal, Upload time.Duration `json:"-"`
}

// State names in the store.
const (
	stateKey      = "key"      // ownKey
	stateAudience = "audience" // the default Audience
	stateNoViews  = "no_views" // present: view receipts are off
)

// ownKey is this user's current status key and who has been sent it.
type ownKey struct {
	ID   string          `json:"id"`
	Key  []byte          `json:"key"`
	Sent []parley.UserID `json:"sent"`
}

// Status is one client's side of Status. New makes one.
type Status struct {
	c   *client.Client
	st  localstore.StatusStore
	now func() time.Time
}

// New returns the Status of c, reading the time from now (nil: time.Now).
func New(c *client.Client, now func() time.Time) *Status {
	if now == nil {
		now = time.Now
	}
	return &Status{c: c, st: c.StatusStore(), now: now}
}

func (s *Status) api() (*apiclient.Client, error) {
	a := s.c.Account()
	return apiclient.ForDevice(a.ServerURL, a.Device, a.Secret)
}

// SetDefaultAudience sets the audience of posts made without one. Posts
// already made keep theirs.
func (s *Status) SetDefaultAudience(ctx context.Context, a Audience) error {
	if err := a.check(); err != nil {
		return err
	}
	b, _ := json.Marshal(a)
	return s.st.PutStatusState(ctx, stateAudience, b)
}

// DefaultAudience is the audience of posts made without one (contacts
// unless set).
func (s *Status) DefaultAudience(ctx context.Context) (Audience, error) {
	b, err := s.st.StatusState(ctx, stateAudience)
	a := Audience{Mode: AudienceContacts}
	if err == nil && b != nil {
		err = json.Unmarshal(b, &a)
	}
	return a, err
}

// SetShareViews turns this user's status view receipts on or off (on by
// default): with them off, viewing a post records no view.
func (s *Status) SetShareViews(ctx context.Context, share bool) error {
	var v []byte
	if !share {
		v = []byte("1")
	}
	return s.st.PutStatusState(ctx, stateNoViews, v)
}

// ShareViews reports whether viewing a post records a view.
func (s *Status) ShareViews(ctx context.Context) (bool, error) {
	v, err := s.st.StatusState(ctx, stateNoViews)
	return v == nil, err
}

// contacts returns this user's contacts (not blocked), by id.
func (s *Status) contacts(ctx context.Context) ([]localstore.Contact, error) {
	all, err := s.c.Contacts(ctx)
	if err != nil {
		return nil, err
	}
	me := s.c.Account().User
	out := all[:0:0]
	for _, ct := range all {
		if ct.Contact && !ct.Blocked && ct.User != me {
			out = append(out, ct)
		}
	}
	slices.SortFunc(out, func(a, b localstore.Contact) int { return cmp.Compare(a.User, b.User) })
	return out, nil
}

// find returns the contact ref names among cts.
func find(cts []localstore.Contact, ref string) (localstore.Contact, bool) {
	ref = strings.TrimSpace(ref)
	digits := func(p string) string {
		return strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, p)
	}
	for _, ct := range cts {
		switch {
		case strings.HasPrefix(ref, "@"):
			if ct.Username != "" && strings.EqualFold(ct.Username, ref[1:]) {
				return ct, true
			}
		case strings.HasPrefix(ref, "+") || strings.HasPrefix(ref, "00"):
			if d := digits(strings.TrimPrefix(ref, "00")); d != "" && digits(ct.Phone) == d {
				return ct, true
			}
		default:
			if id, err := strconv.ParseInt(strings.TrimPrefix(ref, "u"), 10, 64); err == nil && parley.UserID(id) == ct.User {
				return ct, true
			}
		}
	}
	return localstore.Contact{}, false
}

// Members resolves an audience to user ids, from this device's contacts.
func (s *Status) Members(ctx context.Context, a Audience) ([]parley.UserID, error) {
	if err := a.check(); err != nil {
		return nil, err
	}
	cts, err := s.contacts(ctx)
	if err != nil {
		return nil, err
	}
	named := map[parley.UserID]bool{}
	for _, p := range a.People {
		ct, ok := find(cts, p)
		if !ok {
			return nil, parley.Errorf(parley.CodeInvalid, ReasonStatusNotContact, "%s is not in your contacts", p)
		}
		named[ct.User] = true
	}
	var out []parley.UserID
	for _, ct := range cts {
		if a.Mode == AudienceOnly && named[ct.User] || a.Mode != AudienceOnly && !named[ct.User] {
			out = append(out, ct.User)
		}
	}
	if len(out) == 0 {
		return nil, parley.Errorf(parley.CodeInvalid, ReasonStatusNoAudience, "the audience %s has nobody in it", a)
	}
	return out, nil
}

var colourRe = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// Post seals and uploads a post to its audience, sending the status key
// first to the members who do not have it (and starting a new key when a
// member who has the current one is left out). Errors: CodeInvalid
// ReasonStatusEmpty, ReasonStatusText, ReasonStatusStyle,
// ReasonStatusMediaKind, ReasonStatusAudience, ReasonStatusNotContact,
// ReasonStatusNoAudience; the server's limits (package status).
func (s *Status) Post(ctx context.Context, opt PostOptions) (Posted, error) {
	b := Body{Kind: KindText, Text: strings.TrimSpace(opt.Text), Background: opt.Background, Font: opt.Font, SentAt: s.now().UnixMilli()}
	var media []byte
	switch {
	case len(b.Text) > MaxTextLen:
		return Posted{}, parley.Errorf(parley.CodeInvalid, ReasonStatusText, "a status text is at most %d bytes", MaxTextLen)
	case b.Background != "" && !colourRe.MatchString(b.Background), b.Font != "" && !slices.Contains(Fonts, b.Font):
		return Posted{}, parley.Errorf(parley.CodeInvalid, ReasonStatusStyle, "a background is #rrggbb and a font one of %s", strings.Join(Fonts, ", "))
	case opt.File != "":
		data, err := os.ReadFile(opt.File)
		if err != nil {
			return Posted{}, err
		}
		if len(data) > MaxFileSize {
			return Posted{}, parley.Errorf(parley.CodeTooLarge, ReasonStatusFileSize, "a status file is at most %d bytes", MaxFileSize)
		}
		d, err := attachment.Describe(bytes.NewReader(data), int64(len(data)), opt.File)
		if err != nil {
			return Posted{}, err
		}
		switch {
		case opt.Voice || strings.HasPrefix(d.MIME, "audio/"):
			b.Kind = KindVoice
		case d.Kind == attachment.KindImage || d.Kind == attachment.KindVideo:
			b.Kind = string(d.Kind)
		default:
			return Posted{}, parley.Errorf(parley.CodeInvalid, ReasonStatusMediaKind, "a status file is an image, a video or a voice note, not %s", d.MIME)
		}
		b.Background, b.Font = "", ""
		var m *MediaInfo
		if media, m, err = EncryptMedia(data); err != nil {
			return Posted{}, err
		}
		m.Type, m.Name = d.MIME, filepath.Base(opt.File)
		if len(d.Thumbnail) <= MaxThumbLen {
			m.Thumb = d.Thumbnail
		}
		b.Media = m
	case b.Text == "":
		return Posted{}, parley.Errorf(parley.CodeInvalid, ReasonStatusEmpty, "a status post needs text or a file")
	}
	a := opt.Audience
	if a == nil {
		def, err := s.DefaultAudience(ctx)
		if err != nil {
			return Posted{}, err
		}
		a = &def
	}
	members, err := s.Members(ctx, *a)
	if err != nil {
		return Posted{}, err
	}
	out := Posted{Audience: len(members)}
	t0 := time.Now()
	key, err := s.distribute(ctx, members, &out)
	if err != nil {
		return out, err
	}
	t1 := time.Now()
	me := s.c.Account().User
	sealed, err := Seal(key, me, b)
	if err != nil {
		return out, err
	}
	t2 := time.Now()
	api, err := s.api()
	if err != nil {
		return out, err
	}
	created, err := api.PostStatus(ctx, apiclient.StatusUpload{ClientID: newID(), KeyID: key.ID, Audience: members, Ciphertext: sealed}, media)
	if err != nil {
		return out, err
	}
	out.Distribute, out.Seal, out.Upload = t1.Sub(t0), t2.Sub(t1), time.Since(t2)
	out.ID, out.KeyID, out.MediaSize, out.ExpiresAt = created.ID, key.ID, int64(len(media)), created.ExpiresAt
	return out, nil
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// distribute returns the key to seal a post for members under, after
// sending it to those who do not have it. A member of the current key's
// recipients missing from members makes a new key.
func (s *Status) distribute(ctx context.Context, members []parley.UserID, out *Posted) (content.StatusKey, error) {
	var own ownKey
	raw, err := s.st.StatusState(ctx, stateKey)
	if err != nil {
		return content.StatusKey{}, err
	}
	if raw != nil {
		if err := json.Unmarshal(raw, &own); err != nil {
			return content.StatusKey{}, err
		}
	}
	in := make(map[parley.UserID]bool, len(members))
	for _, u := range members {
		in[u] = true
	}
	rotate := own.ID == ""
	for _, u := range own.Sent {
		if !in[u] {
			rotate = true
			break
		}
	}
	save := func() error {
		b, _ := json.Marshal(own)
		return s.st.PutStatusState(ctx, stateKey, b)
	}
	if rotate {
		own = ownKey{ID: newID(), Key: make([]byte, content.StatusKeyLen)}
		_, _ = rand.Read(own.Key)
		// This user's own copy, to read its posts here; its other devices
		// get the key with the members' (they are in every 1:1 chat).
		if err := s.st.PutStatusKey(ctx, localstore.StatusKey{Poster: s.c.Account().User, ID: own.ID, Key: own.Key, At: s.now()}); err != nil {
			return content.StatusKey{}, err
		}
		if err := save(); err != nil {
			return content.StatusKey{}, err
		}
		out.Rotated = true
	}
	key := content.StatusKey{ID: own.ID, Key: own.Key}
	has := make(map[parley.UserID]bool, len(own.Sent))
	for _, u := range own.Sent {
		has[u] = true
	}
	unsaved := 0
	for _, u := range members {
		if has[u] {
			continue
		}
		conv, err := s.c.DirectChat(ctx, strconv.FormatInt(int64(u), 10))
		if err == nil {
			err = s.c.SendStatusKey(ctx, conv, key)
		}
		if err != nil {
			_ = save()
			return key, err
		}
		own.Sent = append(own.Sent, u)
		out.KeysSent++
		if unsaved++; unsaved == 100 {
			if err := save(); err != nil {
				return key, err
			}
			unsaved = 0
		}
	}
	return key, save()
}

// List returns the posts shared with this user and its own, newest first,
// without those of muted posters unless withMuted. A post whose key has
// not reached this device comes back with Kind "" and Err
// ReasonStatusNoKey.
func (s *Status) List(ctx context.Context, withMuted bool) ([]Post, error) {
	api, err := s.api()
	if err != nil {
		return nil, err
	}
	feed, err := api.StatusFeed(ctx, time.Time{}, 0)
	if err != nil {
		return nil, err
	}
	return s.open(ctx, feed.Posts, withMuted)
}

// Wait returns the posts created after after (the server's clock) as soon
// as there is one, or none when wait has passed; and the server's clock,
// the after of the next call.
func (s *Status) Wait(ctx context.Context, after time.Time, wait time.Duration) ([]Post, time.Time, error) {
	api, err := s.api()
	if err != nil {
		return nil, time.Time{}, err
	}
	feed, err := api.StatusFeed(ctx, after, wait)
	if err != nil {
		return nil, time.Time{}, err
	}
	ps, err := s.open(ctx, feed.Posts, false)
	return ps, feed.Now, err
}

// open decrypts feed posts, catching up once with the chats when a key is
// missing (it may be waiting in a 1:1 chat).
func (s *Status) open(ctx context.Context, feed []apiclient.StatusPost, withMuted bool) ([]Post, error) {
	mutedList, err := s.st.StatusMuted(ctx)
	if err != nil {
		return nil, err
	}
	seen, err := s.st.StatusSeen(ctx)
	if err != nil {
		return nil, err
	}
	names := map[parley.UserID]string{}
	now := s.now()
	synced := false
	var out []Post
	for _, fp := range feed {
		muted := slices.Contains(mutedList, fp.Poster)
		if muted && !withMuted || !fp.ExpiresAt.After(now) {
			continue // muted here, or expired by this device's clock
		}
		p := Post{ID: fp.ID, Poster: fp.Poster, CreatedAt: fp.CreatedAt, ExpiresAt: fp.ExpiresAt, Mine: fp.Mine,
			Views: fp.Views, Muted: muted, MediaSize: fp.MediaSize}
		_, p.Seen = seen[string(fp.ID)]
		p.Seen = p.Seen || fp.ViewedAt != nil || fp.Mine
		if _, ok := names[fp.Poster]; !ok {
			names[fp.Poster] = s.c.Who(ctx, fp.Poster)
		}
		p.PosterName = names[fp.Poster]
		k, err := s.st.StatusKey(ctx, fp.Poster, fp.KeyID)
		if parley.IsCode(err, parley.CodeNotFound) && !synced {
			synced = true
			if err := s.c.Sync(ctx); err != nil {
				return nil, err
			}
			k, err = s.st.StatusKey(ctx, fp.Poster, fp.KeyID)
		}
		switch {
		case parley.IsCode(err, parley.CodeNotFound):
			p.Err = parley.Errorf(parley.CodeNotFound, ReasonStatusNoKey, "the status key of %s has not reached this device", p.PosterName)
		case err != nil:
			return nil, err
		default:
			var b Body
			if b, p.Err = Open(content.StatusKey{ID: k.ID, Key: k.Key}, fp.Poster, fp.Ciphertext); p.Err == nil {
				p.Kind, p.Text, p.Background, p.Font, p.media = b.Kind, b.Text, b.Background, b.Font, b.Media
				if b.Media != nil {
					p.MediaType, p.MediaName, p.Thumb = b.Media.Type, b.Media.Name, b.Media.Thumb
				}
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// View returns the unexpired posts of one person ("+E164", "@username",
// user id, or "me"), oldest first as a viewer plays them, marks them seen
// here and records a view on the server for each readable one unless view
// receipts are off.
func (s *Status) View(ctx context.Context, who string) ([]Post, error) {
	poster := s.c.Account().User
	if who != "me" {
		cts, err := s.c.Contacts(ctx)
		if err != nil {
			return nil, err
		}
		ct, ok := find(cts, who)
		if !ok {
			if ct, err = s.c.Resolve(ctx, who); err != nil {
				return nil, err
			}
		}
		poster = ct.User
	}
	all, err := s.List(ctx, true)
	if err != nil {
		return nil, err
	}
	share, err := s.ShareViews(ctx)
	if err != nil {
		return nil, err
	}
	api, err := s.api()
	if err != nil {
		return nil, err
	}
	var out []Post
	for _, p := range slices.Backward(all) {
		if p.Poster != poster {
			continue
		}
		if p.Err == nil && !p.Mine {
			if err := s.st.MarkStatusSeen(ctx, string(p.ID), s.now()); err != nil {
				return nil, err
			}
			if share {
				if err := api.ViewStatus(ctx, p.ID); err != nil {
					return nil, err
				}
			}
			p.Seen = true
		}
		out = append(out, p)
	}
	_ = s.st.ForgetStatusSeen(ctx, s.now().Add(-48*time.Hour))
	return out, nil
}

// Media fetches, decrypts and checks the media of a post from List or
// View.
func (s *Status) Media(ctx context.Context, p Post) ([]byte, error) {
	if p.media == nil {
		return nil, parley.Errorf(parley.CodeInvalid, ReasonStatusMediaKind, "this status post has no media")
	}
	api, err := s.api()
	if err != nil {
		return nil, err
	}
	ct, err := api.StatusMedia(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	return DecryptMedia(p.media, ct)
}

// Viewers returns who viewed a post of this user's, earliest first (only
// viewers who share view receipts are recorded).
func (s *Status) Viewers(ctx context.Context, id parley.StatusID) ([]Viewer, error) {
	api, err := s.api()
	if err != nil {
		return nil, err
	}
	vs, err := api.StatusViews(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]Viewer, 0, len(vs))
	for _, v := range vs {
		out = append(out, Viewer{User: v.User, Name: s.c.Who(ctx, v.User), At: v.At})
	}
	return out, nil
}

// Delete deletes a post of this user's now, with its media, for everyone.
func (s *Status) Delete(ctx context.Context, id parley.StatusID) error {
	api, err := s.api()
	if err != nil {
		return err
	}
	return api.DeleteStatus(ctx, id)
}

// Mute hides a person's posts from List on this device; Unmute shows them
// again.
func (s *Status) Mute(ctx context.Context, who string) (localstore.Contact, error) {
	return s.mute(ctx, who, true)
}

// Unmute undoes Mute.
func (s *Status) Unmute(ctx context.Context, who string) (localstore.Contact, error) {
	return s.mute(ctx, who, false)
}

func (s *Status) mute(ctx context.Context, who string, muted bool) (localstore.Contact, error) {
	cts, err := s.c.Contacts(ctx)
	if err != nil {
		return localstore.Contact{}, err
	}
	ct, ok := find(cts, who)
	if !ok {
		if ct, err = s.c.Resolve(ctx, who); err != nil {
			return ct, err
		}
	}
	return ct, s.st.SetStatusMuted(ctx, ct.User, muted)
}

// Reply replies privately to a post: text lands in the 1:1 chat with its
// poster, quoting the post (content.StatusQuote: id, kind, a preview of
// its text and its thumbnail).
func (s *Status) Reply(ctx context.Context, id parley.StatusID, text string) (client.MessageRecord, error) {
	all, err := s.List(ctx, true)
	if err != nil {
		return client.MessageRecord{}, err
	}
	i := slices.IndexFunc(all, func(p Post) bool { return p.ID == id })
	if i < 0 {
		return client.MessageRecord{}, parley.Errorf(parley.CodeNotFound, parley.ReasonStatusNotFound, "no status post %s", id)
	}
	p := all[i]
	if p.Mine {
		return client.MessageRecord{}, parley.Errorf(parley.CodeInvalid, ReasonStatusMine, "you cannot reply to your own status")
	}
	if p.Err != nil {
		return client.MessageRecord{}, p.Err
	}
	q := content.StatusQuote{ID: string(p.ID), Poster: p.Poster, Kind: p.Kind, Preview: preview(p.Text)}
	if len(p.Thumb) <= content.MaxStatusThumbLen {
		q.Thumb = p.Thumb
	}
	conv, err := s.c.DirectChat(ctx, strconv.FormatInt(int64(p.Poster), 10))
	if err != nil {
		return client.MessageRecord{}, err
	}
	return s.c.ReplyToStatus(ctx, conv, text, q)
}

// preview cuts text to a quote's preview, on a character boundary.
func preview(text string) string {
	if len(text) <= content.MaxStatusPreviewLen {
		return text
	}
	cut := content.MaxStatusPreviewLen - len("…")
	for cut > 0 && !isBoundary(text, cut) {
		cut--
	}
	return text[:cut] + "…"
}

func isBoundary(s string, i int) bool { return i == len(s) || s[i]&0xC0 != 0x80 }

// ErrNoKey reports whether err is a post's missing key.
func ErrNoKey(err error) bool { return parley.ErrorReason(err) == ReasonStatusNoKey }
