// Package localstore is the client's durable state on the device: one
// interface, Store, with everything a client keeps (account, KeyPackage
// secrets, chats and their MLS state, messages with their kinds' extras,
// business content, contacts, the endpoints' send path and outgoing
// statuses), and its implementations:
//
//   - OpenSQLite and OpenSealedSQLite (native): SQLite, its schema created
//     and upgraded by the embedded migrations (migrations/*.sql, applied
//     with goose like the server's store/sqlite);
//   - OpenKV (the browser): the whole state in memory over a small durable
//     key-value store (IndexedDB in web/wasm, MemKV in tests).
//
// One contract suite (contract*_test.go) runs against both.
package localstore

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/content"
)

// Account is this device's identity on a server. It is created by Verify or
// LinkDevice and never changes afterwards, except for Name.
type Account struct {
	ServerURL string
	User      parley.UserID
	Device    parley.DeviceID
	Secret    []byte // the device's bearer secret
	Phone     string
	Name      string
	Primary   bool
	// SigPriv and SigPub are the device's MLS signature key pair; SigPub is
	// the identity key the server publishes for the device.
	SigPriv []byte
	SigPub  []byte
}

// Registered reports whether the account has credentials.
func (a Account) Registered() bool { return a.Device != 0 && len(a.Secret) > 0 }

// Chat is a conversation as this device knows it.
type Chat struct {
	ID    parley.ConversationID
	Kind  parley.ConversationKind
	Peer  parley.UserID // the other user of a direct chat (this user for notes to self)
	Title string        // the peer's name, @username or phone
	// Cursor is the highest sequence number processed and stored here.
	Cursor    parley.Seq
	Epoch     parley.Epoch // the local MLS group's epoch
	Unread    int
	LastText  string // the last message's text; "[kind] caption" for media
	UpdatedAt time.Time
	// Muted, Pinned and Archived are this device's own flags for the chat
	// (SetChatFlags); they are never sent to the server.
	Muted, Pinned, Archived bool
}

// Contact is another user as this device last saw them.
type Contact struct {
	User     parley.UserID
	Name     string
	Username string
	Phone    string // empty when the user hides it from us
	Contact  bool   // in this user's contacts
	Blocked  bool   // blocked by this user
	Devices  []DeviceKey
}

// DeviceKey is a device's published MLS identity key.
type DeviceKey struct {
	Device      parley.DeviceID
	User        parley.UserID
	Name        string
	Primary     bool
	IdentityKey []byte
	Revoked     bool
	CreatedAt   time.Time
}

// KeyPackageSecret is the private half of a KeyPackage this device uploaded,
// kept until a Welcome using it arrives (one-time) or forever (last resort).
type KeyPackageSecret struct {
	Ref        []byte
	Private    []byte // the engine-specific private bundle
	LastResort bool
}

// Applied is the outcome of processing one incoming envelope or of one local
// change, committed atomically by Store.Apply.
type Applied struct {
	Conversation parley.ConversationID
	// Seq, when not 0, moves the conversation's cursor forward to Seq.
	Seq parley.Seq
	// Group, when not nil, replaces the conversation's MLS group state.
	Group []byte
	Epoch parley.Epoch
	// Chat, when not nil, creates or updates the chat's metadata (Cursor and
	// Epoch are taken from Seq and Epoch instead).
	Chat *Chat
	// Message, when not nil, is stored; an existing message with the same
	// (conversation, sender device, client id) is updated, never duplicated.
	Message *content.MessageRecord
	// UsedKeyPackage, when not nil, is the one-time KeyPackage a Welcome
	// consumed: it is deleted.
	UsedKeyPackage []byte
}

// Store is the client's durable state. The native implementation is
// SQLite (OpenSQLite, OpenSealedSQLite); the browser's is OpenKV. A store
// implements every method: there is no optional part a caller must probe
// for.
//
// Every method is atomic; lookups of missing records return an error with
// parley.CodeNotFound. Methods that apply the message kinds are idempotent,
// so a control message processed again after a crash changes nothing more.
type Store interface {
	Account(ctx context.Context) (Account, error)
	PutAccount(ctx context.Context, a Account) error

	PutKeyPackages(ctx context.Context, kps []KeyPackageSecret) error
	KeyPackages(ctx context.Context) ([]KeyPackageSecret, error)

	// Apply commits one processing step atomically.
	Apply(ctx context.Context, a Applied) error
	// Group returns the stored MLS state of a conversation.
	Group(ctx context.Context, id parley.ConversationID) ([]byte, error)
	Chat(ctx context.Context, id parley.ConversationID) (Chat, error)
	Chats(ctx context.Context) ([]Chat, error)
	// DeleteGroup forgets the MLS state of a conversation this device was
	// removed from (its chat and messages stay).
	DeleteGroup(ctx context.Context, id parley.ConversationID) error

	// Message returns the message of a chat with sequence number seq.
	Message(ctx context.Context, id parley.ConversationID, seq parley.Seq) (content.MessageRecord, error)
	// Messages returns the last limit messages of a chat, oldest first.
	Messages(ctx context.Context, id parley.ConversationID, limit int) ([]content.MessageRecord, error)
	// PendingMessages lists outgoing messages the server has not accepted.
	PendingMessages(ctx context.Context) ([]content.MessageRecord, error)
	// MarkSent records the server's acceptance of an outgoing message.
	MarkSent(ctx context.Context, id parley.ConversationID, client parley.ClientMessageID, seq parley.Seq) error
	// RaiseStatus raises the status of this user's outgoing messages with
	// Seq <= upto to status (never lowers one, never raises a failed one)
	// and returns those changed.
	RaiseStatus(ctx context.Context, id parley.ConversationID, upto parley.Seq, status content.Status) ([]content.MessageRecord, error)
	// MarkRead marks incoming messages with Seq <= upto read.
	MarkRead(ctx context.Context, id parley.ConversationID, upto parley.Seq) error

	PutContact(ctx context.Context, c Contact) error
	Contact(ctx context.Context, user parley.UserID) (Contact, error)
	Contacts(ctx context.Context) ([]Contact, error)

	// The message kinds (content/kinds.go).

	// PutExtras records a message's reply, mentions, poll and business
	// content (ext.Biz), keyed like the message so it may precede its seq.
	PutExtras(ctx context.Context, conv parley.ConversationID, device parley.DeviceID, client parley.ClientMessageID, ext content.Ext) error
	// React sets (emoji "" deletes) user's reaction to conv:target as of seq.
	React(ctx context.Context, conv parley.ConversationID, target parley.Seq, user parley.UserID, emoji string, seq parley.Seq) error
	// Edit replaces the text of conv:target, as of seq.
	Edit(ctx context.Context, conv parley.ConversationID, target parley.Seq, text string, at time.Time, seq parley.Seq) error
	// DeleteMessage deletes conv:target for everyone.
	DeleteMessage(ctx context.Context, conv parley.ConversationID, target parley.Seq, by parley.UserID, admin bool) error
	// Vote sets user's choices in the poll conv:target, as of seq.
	Vote(ctx context.Context, conv parley.ConversationID, target parley.Seq, user parley.UserID, choices []int, seq parley.Seq) error
	// Extras returns the extras of the messages of conv, by seq (messages
	// without extras are left out).
	Extras(ctx context.Context, conv parley.ConversationID, seqs []parley.Seq) (map[parley.Seq]content.Extras, error)
	// SetTimer records a chat's disappearing-messages timer (0: off).
	SetTimer(ctx context.Context, conv parley.ConversationID, ttl time.Duration) error
	// Timers lists the chats with a timer on.
	Timers(ctx context.Context) (map[parley.ConversationID]time.Duration, error)
	// Expire deletes conv's sent or received messages sent before before,
	// with their extras, and returns how many.
	Expire(ctx context.Context, conv parley.ConversationID, before time.Time) (int, error)

	// Chat flags and search.

	// SetChatFlags changes a chat's flags and returns the chat.
	SetChatFlags(ctx context.Context, id parley.ConversationID, f ChatFlags) (Chat, error)
	// Search returns up to limit (0: all) sent or received messages, of
	// conv or of every chat when conv is "", that query finds (full text,
	// search.go: every query word begins a word of the text, caption or
	// file name, ignoring case and diacritics), newest first (by when this
	// device stored them, then by chat and seq). Deleted and undecryptable
	// messages are never found; a query without words finds nothing.
	Search(ctx context.Context, query string, conv parley.ConversationID, limit int) ([]content.MessageRecord, error)

	// Business content.

	// BusinessOf fills in the Business content of ms's business messages.
	BusinessOf(ctx context.Context, ms []content.MessageRecord) error
	// AutoReplied returns when this device last sent the auto reply what
	// ("greeting", "away", …) in conv, Unix milliseconds (0 if never).
	AutoReplied(ctx context.Context, conv parley.ConversationID, what string) (int64, error)
	// NoteAutoReply records that the auto reply what was sent in conv at at
	// (Unix milliseconds).
	NoteAutoReply(ctx context.Context, conv parley.ConversationID, what string, at int64) error

	// The send path of always-online endpoints (client/endpoint.go).

	// PutPending stores m (pending, outgoing) with ext and the new group
	// state of conv, in one commit. It fails with CodeNotFound
	// "not_joined" when the store has no chat conv.
	PutPending(ctx context.Context, conv parley.ConversationID, state []byte, epoch parley.Epoch, m *content.MessageRecord, ext content.Ext) error
	// QueuePending is PutPending in two steps: it queues the write (writes
	// are committed in the order they were queued) and returns a function
	// that waits for its commit and reports its error. The caller may hold
	// a lock while it queues and wait without it, so that concurrent sends
	// share one commit. A store that does not batch commits at once.
	QueuePending(ctx context.Context, conv parley.ConversationID, state []byte, epoch parley.Epoch, m *content.MessageRecord, ext content.Ext) (func() error, error)
	// MarkSentAdvance records the server's acceptance of an outgoing
	// message at seq and moves conv's cursor to seq when it was seq-1.
	MarkSentAdvance(ctx context.Context, conv parley.ConversationID, client parley.ClientMessageID, seq parley.Seq) error
	// QueueMarkSent is MarkSentAdvance without waiting for the commit where
	// the store batches its writes. Losing it in a crash is harmless: the
	// message stays pending and is sent again under its client id, which
	// the server answers with the same seq.
	QueueMarkSent(ctx context.Context, conv parley.ConversationID, client parley.ClientMessageID, seq parley.Seq) error

	// Outgoing statuses of always-online endpoints.

	// OutgoingBetween returns device's outgoing messages the server
	// accepted (seq > 0, not failed) with from <= SentAt < to, in send
	// order, at most limit.
	OutgoingBetween(ctx context.Context, device parley.DeviceID, from, to time.Time, limit int) ([]content.MessageRecord, error)
	// Undelivered returns device's outgoing messages still "sent" (no
	// other member's device acknowledged them) stored before before,
	// oldest first, at most limit.
	Undelivered(ctx context.Context, device parley.DeviceID, before time.Time, limit int) ([]content.MessageRecord, error)
	// MarkFailed moves message seq of conv from "sent" to "failed" and
	// reports whether it did.
	MarkFailed(ctx context.Context, conv parley.ConversationID, seq parley.Seq) (bool, error)

	// Status (client/status), kept on this device only (store_status.go).
	StatusStore

	// Broadcast lists (client/broadcast), kept on this device only.

	// PutBroadcastList creates or replaces the list with l.ID.
	PutBroadcastList(ctx context.Context, l BroadcastList) error
	// BroadcastLists returns every list, by name then id.
	BroadcastLists(ctx context.Context) ([]BroadcastList, error)
	// DeleteBroadcastList deletes the list with id (CodeNotFound if none).
	DeleteBroadcastList(ctx context.Context, id string) error

	// The call log (client/calls), kept on this device only: store_calls.go.
	CallLog

	// Device-local chat tools (store_tools.go).

	// Star stars (on, as of at) or unstars message seq of conv.
	// CodeNotFound "no_message" when the device has no such message.
	Star(ctx context.Context, conv parley.ConversationID, seq parley.Seq, on bool, at time.Time) error
	// Starred returns the starred messages still stored, of conv or of
	// every chat when conv is "", the most recently starred first.
	Starred(ctx context.Context, conv parley.ConversationID) ([]content.MessageRecord, error)
	// DeleteForMe deletes message seq of conv from this device only, with
	// everything recorded about it (extras, reactions, votes, star,
	// edits). CodeNotFound "no_message" when there is no such message.
	DeleteForMe(ctx context.Context, conv parley.ConversationID, seq parley.Seq) error
	// NoteReceipt records that user received (kind delivered) or read
	// conv up to seq at at. Idempotent; the earliest time of a position
	// is kept.
	NoteReceipt(ctx context.Context, conv parley.ConversationID, user parley.UserID, kind parley.ReceiptKind, seq parley.Seq, at time.Time) error
	// Receipts returns, per user with a noted receipt covering message
	// seq of conv, when it was first delivered and read, by user id.
	Receipts(ctx context.Context, conv parley.ConversationID, seq parley.Seq) ([]MemberReceipt, error)
	// SetChatMarks replaces conv's marks (the zero ChatMarks clears them).
	SetChatMarks(ctx context.Context, conv parley.ConversationID, m ChatMarks) error
	// ChatMarks returns the marks of every chat that has some.
	ChatMarks(ctx context.Context) (map[parley.ConversationID]ChatMarks, error)

	Close() error
}

// BroadcastList is a named list of recipients a message is sent to one
// by one, each copy in the recipient's direct chat (client/broadcast).
type BroadcastList struct {
	ID         string
	Name       string
	Recipients []parley.UserID // in the order they were added, no repeats
	CreatedAt  time.Time
}

// sortLists orders broadcast lists by name, then id.
func sortLists(ls []BroadcastList) {
	slices.SortFunc(ls, func(a, b BroadcastList) int {
		if c := cmp.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// ChatFlags changes a chat's device-local flags; nil fields stay as they are.
type ChatFlags struct {
	Muted, Pinned, Archived *bool
}

// Apply sets ch's flags to those f sets.
func (f ChatFlags) Apply(ch *Chat) {
	if f.Muted != nil {
		ch.Muted = *f.Muted
	}
	if f.Pinned != nil {
		ch.Pinned = *f.Pinned
	}
	if f.Archived != nil {
		ch.Archived = *f.Archived
	}
}

// sortHits orders search hits newest first (by when this device stored
// them, then by chat and seq).
func sortHits(ms []content.MessageRecord) {
	slices.SortFunc(ms, func(a, b content.MessageRecord) int {
		if c := b.StoredAt.Compare(a.StoredAt); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Conversation, b.Conversation); c != 0 {
			return c
		}
		return cmp.Compare(b.Seq, a.Seq)
	})
}

func notFound(what string) error {
	return parley.Errorf(parley.CodeNotFound, ReasonNotFound, "%s not found", what)
}

// Reasons of the errors the stores return.
const (
	ReasonNotFound  = "not_found"  // a record the caller asked for is not stored
	ReasonNoMessage = "no_message" // no message with that seq on this device
	ReasonNotJoined = "not_joined" // PutPending for a chat the store does not have (package client: this device is not in the chat)
	ReasonClosed    = "closed"     // the store is closed (package client has its own, for a closed client)
)

// ReasonFailed is the reason of the error a client reports when its local
// store fails (CodeInternal).
const ReasonFailed = "local_store"

// Failed wraps a store failure as the parley error a client reports; nil
// stays nil.
func Failed(err error) error {
	if err == nil {
		return nil
	}
	return &parley.Error{Code: parley.CodeInternal, Reason: ReasonFailed, Message: "local store failed", Err: err}
}
