package client

import (
	"context"
	"time"

	"github.com/parleyhq/parley"
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
// change, committed atomically by LocalStore.Apply.
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
	Message *MessageRecord
	// UsedKeyPackage, when not nil, is the one-time KeyPackage a Welcome
	// consumed: it is deleted.
	UsedKeyPackage []byte
}

// LocalStore is the client's durable state. The native implementation is
// SQLite (OpenSQLiteStore); the browser supplies its own.
//
// Every method is atomic; lookups of missing records return an error with
// parley.CodeNotFound.
type LocalStore interface {
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
	// DeleteChat forgets a conversation this device was removed from
	// (its messages stay).
	DeleteGroup(ctx context.Context, id parley.ConversationID) error

	// Message returns the message of a chat with sequence number seq.
	Message(ctx context.Context, id parley.ConversationID, seq parley.Seq) (MessageRecord, error)
	// Messages returns the last limit messages of a chat, oldest first.
	Messages(ctx context.Context, id parley.ConversationID, limit int) ([]MessageRecord, error)
	// PendingMessages lists outgoing messages the server has not accepted.
	PendingMessages(ctx context.Context) ([]MessageRecord, error)
	// MarkSent records the server's acceptance of an outgoing message.
	MarkSent(ctx context.Context, id parley.ConversationID, client parley.ClientMessageID, seq parley.Seq) error
	// RaiseStatus raises the status of this user's outgoing messages with
	// Seq <= upto to status (never lowers one) and returns those changed.
	RaiseStatus(ctx context.Context, id parley.ConversationID, upto parley.Seq, status Status) ([]MessageRecord, error)
	// MarkRead marks incoming messages with Seq <= upto read.
	MarkRead(ctx context.Context, id parley.ConversationID, upto parley.Seq) error

	PutContact(ctx context.Context, c Contact) error
	Contact(ctx context.Context, user parley.UserID) (Contact, error)
	Contacts(ctx context.Context) ([]Contact, error)

	Close() error
}
