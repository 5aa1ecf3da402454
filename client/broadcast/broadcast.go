// Package broadcast is the client side of broadcast lists: named lists of
// up to MaxRecipients people, kept on this device only (localstore), and
// sending to one.
//
// A message to a list is sent to each recipient as an ordinary message in
// the direct chat between the sender and that recipient (created if
// needed), encrypted with that chat's MLS group: no recipient can learn
// who else is on the list, and a reply comes back to the 1:1 chat. Each
// copy is marked as a broadcast copy (its client id ends in CopySuffix and
// the send frame carries broadcast=true); the server stores and delivers
// a copy only when the recipient has the sender in their contacts, and
// otherwise answers the same "sent" receipt with seq 0 and delivers
// nothing. A file is uploaded once and the same descriptor (capability
// and key) is sent in every chat, the way forwarding works.
//
// docs/broadcast.md describes the design and its limits.
package broadcast

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/attachment"
	"github.com/parleyhq/parley/client/files"
	"github.com/parleyhq/parley/client/localstore"
	"github.com/parleyhq/parley/content"
)

// MaxRecipients is the most recipients a list may have.
const MaxRecipients = 256

// MaxNameLen is the longest list name, in characters.
const MaxNameLen = 64

// CopySuffix ends the client id of every broadcast copy, so that a copy
// resent after a crash (from the pending messages) is still marked as one.
const CopySuffix = ".b"

// Reasons of the errors this package returns.
const (
	ReasonBroadcastTooMany    = "broadcast_too_many"    // CodeInvalid: a list has at most 256 recipients
	ReasonBroadcastName       = "broadcast_name"        // CodeInvalid: a list name is 1 to 64 characters
	ReasonBroadcastNameUsed   = "broadcast_name_used"   // CodeConflict: another list has that name
	ReasonBroadcastNotFound   = "broadcast_not_found"   // CodeNotFound: no list with that name
	ReasonBroadcastEmpty      = "broadcast_empty"       // CodeInvalid: a list needs at least one recipient
	ReasonBroadcastSelf       = "broadcast_self"        // CodeInvalid: you cannot be on your own list
	ReasonBroadcastNotContact = "broadcast_not_contact" // CodeInvalid: a recipient must be in your contacts
)

// IsCopy reports whether a client message id is a broadcast copy's.
func IsCopy(id parley.ClientMessageID) bool { return strings.HasSuffix(string(id), CopySuffix) }

// CopyID returns a fresh client message id for a broadcast copy.
func CopyID() parley.ClientMessageID { return parley.NewClientMessageID() + CopySuffix }

// Core is what Lists needs of the client it runs in.
type Core interface {
	Store() localstore.Store
	// Sync catches up with the server.
	Sync(ctx context.Context) error
	// Resolve finds a user by "+E164", "@username" or user id.
	Resolve(ctx context.Context, who string) (localstore.Contact, error)
	// DirectChat returns the direct chat with a known contact, creating it
	// when there is none, without a directory lookup (which could tell
	// whose contacts hold the sender).
	DirectChat(ctx context.Context, ct localstore.Contact) (parley.ConversationID, error)
	// SendCopy sends m's content (Kind, Text, Media) to conv as a
	// broadcast copy (client id from CopyID).
	SendCopy(ctx context.Context, conv parley.ConversationID, m content.MessageRecord) (content.MessageRecord, error)
	// Upload describes and uploads a file for conv (files.Files.Upload).
	Upload(ctx context.Context, conv parley.ConversationID, path string, opt files.SendFileOptions) (attachment.Descriptor, error)
	// Link lets the members of conv fetch d's blob (files.Files.Link).
	Link(ctx context.Context, d attachment.Descriptor, conv parley.ConversationID) error
	// Me is this device's user.
	Me() parley.UserID
	Now() time.Time
}

// Lists is the broadcast side of one client. New makes one.
type Lists struct {
	core Core
}

// New returns the Lists of the client core.
func New(core Core) *Lists { return &Lists{core: core} }

// List is a broadcast list as the caller sees it.
type List struct {
	ID         string      `json:"id"`
	Name       string      `json:"name"`
	Recipients []Recipient `json:"recipients"`
}

// Recipient is one person on a list.
type Recipient struct {
	User  parley.UserID `json:"user"`
	Title string        `json:"title"` // name, @username or phone as last seen
}

// EditOptions change a list; empty fields change nothing.
type EditOptions struct {
	Rename string
	Add    []string // people to add ("+E164", "@username", user id)
	Remove []string // people to remove (as Add)
}

// CreateBroadcast creates a list named name of the people to. Errors:
// CodeInvalid ReasonBroadcastName, ReasonBroadcastEmpty,
// ReasonBroadcastTooMany (before any lookup), ReasonBroadcastSelf,
// ReasonBroadcastNotContact (every recipient must be in this user's
// contacts, as in WhatsApp);
// CodeConflict ReasonBroadcastNameUsed; CodeNotFound for an unknown person.
func (l *Lists) CreateBroadcast(ctx context.Context, name string, to []string) (List, error) {
	name = strings.TrimSpace(name)
	if err := l.checkName(ctx, name, ""); err != nil {
		return List{}, err
	}
	if len(to) == 0 {
		return List{}, parley.Errorf(parley.CodeInvalid, ReasonBroadcastEmpty, "a broadcast list needs at least one recipient")
	}
	if err := checkCount(len(uniqueRefs(to))); err != nil {
		return List{}, err
	}
	users, err := l.resolve(ctx, nil, to)
	if err != nil {
		return List{}, err
	}
	bl := localstore.BroadcastList{ID: newListID(), Name: name, Recipients: users, CreatedAt: l.core.Now()}
	if err := l.core.Store().PutBroadcastList(ctx, bl); err != nil {
		return List{}, localstore.Failed(err)
	}
	return l.view(ctx, bl), nil
}

// EditBroadcast renames the list name and adds and removes recipients.
// The errors are CreateBroadcast's, and CodeNotFound
// ReasonBroadcastNotFound.
func (l *Lists) EditBroadcast(ctx context.Context, name string, o EditOptions) (List, error) {
	bl, err := l.find(ctx, name)
	if err != nil {
		return List{}, err
	}
	if r := strings.TrimSpace(o.Rename); r != "" && r != bl.Name {
		if err := l.checkName(ctx, r, bl.ID); err != nil {
			return List{}, err
		}
		bl.Name = r
	}
	if len(o.Remove) > 0 {
		gone, err := l.resolveKnown(ctx, o.Remove)
		if err != nil {
			return List{}, err
		}
		bl.Recipients = slices.DeleteFunc(bl.Recipients, func(u parley.UserID) bool { return slices.Contains(gone, u) })
	}
	if len(o.Add) > 0 {
		if err := checkCount(len(uniqueRefs(o.Add))); err != nil {
			return List{}, err // resolve counts the total after each lookup
		}
		if bl.Recipients, err = l.resolve(ctx, bl.Recipients, o.Add); err != nil {
			return List{}, err
		}
	}
	if len(bl.Recipients) == 0 {
		return List{}, parley.Errorf(parley.CodeInvalid, ReasonBroadcastEmpty, "a broadcast list needs at least one recipient; delete it instead")
	}
	if err := l.core.Store().PutBroadcastList(ctx, bl); err != nil {
		return List{}, localstore.Failed(err)
	}
	return l.view(ctx, bl), nil
}

// DeleteBroadcast deletes the list name (CodeNotFound
// ReasonBroadcastNotFound if there is none). Messages already sent stay in
// their chats.
func (l *Lists) DeleteBroadcast(ctx context.Context, name string) error {
	bl, err := l.find(ctx, name)
	if err != nil {
		return err
	}
	return localstore.Failed(l.core.Store().DeleteBroadcastList(ctx, bl.ID))
}

// Broadcasts returns this device's lists, by name.
func (l *Lists) Broadcasts(ctx context.Context) ([]List, error) {
	bls, err := l.core.Store().BroadcastLists(ctx)
	if err != nil {
		return nil, localstore.Failed(err)
	}
	out := make([]List, 0, len(bls))
	for _, bl := range bls {
		out = append(out, l.view(ctx, bl))
	}
	return out, nil
}

// Broadcast returns the list name.
func (l *Lists) Broadcast(ctx context.Context, name string) (List, error) {
	bl, err := l.find(ctx, name)
	if err != nil {
		return List{}, err
	}
	return l.view(ctx, bl), nil
}

func (l *Lists) find(ctx context.Context, name string) (localstore.BroadcastList, error) {
	bls, err := l.core.Store().BroadcastLists(ctx)
	if err != nil {
		return localstore.BroadcastList{}, localstore.Failed(err)
	}
	name = strings.TrimSpace(name)
	for _, bl := range bls {
		if bl.Name == name {
			return bl, nil
		}
	}
	return localstore.BroadcastList{}, parley.Errorf(parley.CodeNotFound, ReasonBroadcastNotFound, "no broadcast list %q", name)
}

// checkName checks a new name for the list with id (or a new list: "").
func (l *Lists) checkName(ctx context.Context, name, id string) error {
	if name == "" || utf8.RuneCountInString(name) > MaxNameLen {
		return parley.Errorf(parley.CodeInvalid, ReasonBroadcastName, "a broadcast list name is 1 to %d characters", MaxNameLen)
	}
	if err := parley.CheckName(name); err != nil {
		return err
	}
	if bl, err := l.find(ctx, name); err == nil && bl.ID != id {
		return parley.Errorf(parley.CodeConflict, ReasonBroadcastNameUsed, "there is already a broadcast list %q", name)
	} else if err != nil && !parley.IsCode(err, parley.CodeNotFound) {
		return err
	}
	return nil
}

func checkCount(n int) error {
	if n > MaxRecipients {
		return parley.Errorf(parley.CodeInvalid, ReasonBroadcastTooMany, "a broadcast list has at most %d recipients (%d given)", MaxRecipients, n)
	}
	return nil
}

// resolve appends the users refs name to have (without repeats) and
// checks the total.
func (l *Lists) resolve(ctx context.Context, have []parley.UserID, refs []string) ([]parley.UserID, error) {
	me := l.core.Me()
	out := slices.Clone(have)
	for _, ref := range uniqueRefs(refs) {
		ct, ok := l.localContact(ctx, ref)
		if !ok {
			var err error
			if ct, err = l.core.Resolve(ctx, ref); err != nil {
				return nil, err
			}
		}
		if ct.User == me {
			return nil, parley.Errorf(parley.CodeInvalid, ReasonBroadcastSelf, "you cannot be a recipient of your own broadcast list")
		}
		if !ct.Contact {
			return nil, parley.Errorf(parley.CodeInvalid, ReasonBroadcastNotContact, "%s is not in your contacts: add them first (a broadcast list is of your contacts)", ref)
		}
		if !slices.Contains(out, ct.User) {
			out = append(out, ct.User)
		}
		if err := checkCount(len(out)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// localContact finds ref among the contacts this device knows to be this
// user's contacts, so that a list of many people spends no directory
// lookups (the server allows 120 an hour by default).
func (l *Lists) localContact(ctx context.Context, ref string) (localstore.Contact, bool) {
	cts, err := l.core.Store().Contacts(ctx)
	if err != nil {
		return localstore.Contact{}, false
	}
	id, idErr := strconv.ParseInt(strings.TrimPrefix(ref, "u"), 10, 64)
	for _, ct := range cts {
		if !ct.Contact || len(ct.Devices) == 0 {
			continue // not a contact, or not looked up in full: ask the server
		}
		switch {
		case strings.HasPrefix(ref, "@"):
			if ct.Username != "" && strings.EqualFold(ct.Username, ref[1:]) {
				return ct, true
			}
		case strings.HasPrefix(ref, "+"):
			if ct.Phone != "" && digits(ct.Phone) == digits(ref) {
				return ct, true
			}
		case idErr == nil && parley.UserID(id) == ct.User:
			return ct, true
		}
	}
	return localstore.Contact{}, false
}

// digits keeps a phone number's digits.
func digits(phone string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, phone)
}

// resolveKnown finds the users refs name, locally first: a user id needs
// no lookup.
func (l *Lists) resolveKnown(ctx context.Context, refs []string) ([]parley.UserID, error) {
	var out []parley.UserID
	for _, ref := range uniqueRefs(refs) {
		if id, err := strconv.ParseInt(strings.TrimPrefix(ref, "u"), 10, 64); err == nil && id > 0 && !strings.HasPrefix(ref, "+") {
			out = append(out, parley.UserID(id))
			continue
		}
		ct, err := l.core.Resolve(ctx, ref)
		if err != nil {
			return nil, err
		}
		out = append(out, ct.User)
	}
	return out, nil
}

// view adds the recipients' titles from the contacts this device knows.
func (l *Lists) view(ctx context.Context, bl localstore.BroadcastList) List {
	v := List{ID: bl.ID, Name: bl.Name, Recipients: make([]Recipient, 0, len(bl.Recipients))}
	for _, u := range bl.Recipients {
		r := Recipient{User: u, Title: "user " + strconv.FormatInt(int64(u), 10)}
		if ct, err := l.core.Store().Contact(ctx, u); err == nil {
			r.Title = contactTitle(ct, r.Title)
		}
		v.Recipients = append(v.Recipients, r)
	}
	return v
}

func contactTitle(ct localstore.Contact, def string) string {
	switch {
	case ct.Name != "":
		return ct.Name
	case ct.Username != "":
		return "@" + ct.Username
	case ct.Phone != "":
		return ct.Phone
	}
	return def
}

// uniqueRefs trims refs and drops empty and repeated ones.
func uniqueRefs(refs []string) []string {
	var out []string
	for _, r := range refs {
		if r = strings.TrimSpace(r); r != "" && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

func newListID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "bl" + hex.EncodeToString(b[:])
}
