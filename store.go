package parley

import (
	"context"
	"time"
)

// Store is Parley's durable state. Implementations (store/sqlite,
// store/postgres) pass the one contract suite in store/storetest.
//
// Guarantees every implementation gives:
//   - Every method is atomic: it either takes full effect or none.
//   - A method that returned nil has made its effect durable (a crash after
//     it returns loses nothing).
//   - Lookups of missing records return an error with CodeNotFound.
//   - Uniqueness violations (phone, username, client message id) return
//     CodeConflict, except where a method documents idempotency instead.
//   - Times round-trip exactly (nanoseconds, UTC).
type Store interface {
	AccountStore
	DeviceStore
	ContactStore
	KeyPackageStore
	ConversationStore
	LogStore
	CounterStore
	LeaseStore
	HostedStateStore
	// The services' stores: a store missing one of their methods does not
	// compile, rather than silently running without the feature.
	GroupStore
	TreeStore
	BusinessStore
	MediaStore
	PushStore
	WebhookStore
	InsightsStore
	CloudAPIStore
	AdminStore
	BackupStore
	ModerationStore
	StatusStore
	Close() error
}

// AccountStore keeps users and pending phone verifications.
type AccountStore interface {
	// PutVerification creates or replaces the pending verification of v.Phone.
	PutVerification(ctx context.Context, v Verification) error
	Verification(ctx context.Context, phone string) (Verification, error)
	DeleteVerification(ctx context.Context, phone string) error

	// CreateUser stores u with a fresh ID and returns it. A phone number
	// already registered returns CodeConflict.
	CreateUser(ctx context.Context, u User) (User, error)
	User(ctx context.Context, id UserID) (User, error)
	UserByPhone(ctx context.Context, phone string) (User, error)
	// UserByUsername matches case-insensitively.
	UserByUsername(ctx context.Context, username string) (User, error)
	// UpdateUser replaces the mutable fields (name, username, privacy, PIN
	// hash, last seen). A username taken by another user (compared
	// case-insensitively) returns CodeConflict with reason "username_taken".
	UpdateUser(ctx context.Context, u User) error
	// SetProfilePhoto replaces the user's profile photo and its tag
	// (User.PhotoTag) in one write; nil photo (and tag "") removes it.
	// An unknown user returns CodeNotFound.
	SetProfilePhoto(ctx context.Context, user UserID, photo []byte, tag string) error
	// ProfilePhoto returns the user's profile photo; CodeNotFound when
	// there is none.
	ProfilePhoto(ctx context.Context, user UserID) ([]byte, error)
}

// DeviceStore keeps devices, their credentials and link codes.
type DeviceStore interface {
	// CreateDevice stores d with a fresh ID and returns it.
	CreateDevice(ctx context.Context, d Device) (Device, error)
	Device(ctx context.Context, id DeviceID) (Device, error)
	// Devices lists the user's devices, revoked ones included, by ID.
	Devices(ctx context.Context, user UserID) ([]Device, error)
	// RevokeDevice marks the device revoked at the given time, removes it
	// from every conversation it is a member of and deletes its KeyPackages;
	// revoking twice is a no-op. It returns the conversations the device was
	// removed from, sorted by ID.
	RevokeDevice(ctx context.Context, id DeviceID, at time.Time) ([]ConversationID, error)

	PutLinkCode(ctx context.Context, c LinkCode) error
	// TakeLinkCode returns and deletes the link code with this hash: a code
	// can be used once. Unknown codes return CodeNotFound.
	TakeLinkCode(ctx context.Context, codeHash []byte) (LinkCode, error)
}

// ContactStore keeps each user's contacts and blocks.
type ContactStore interface {
	// AddContact is idempotent.
	AddContact(ctx context.Context, owner, contact UserID) error
	RemoveContact(ctx context.Context, owner, contact UserID) error
	Contacts(ctx context.Context, owner UserID) ([]UserID, error)
	IsContact(ctx context.Context, owner, other UserID) (bool, error)

	// Block is idempotent.
	Block(ctx context.Context, blocker, blocked UserID) error
	Unblock(ctx context.Context, blocker, blocked UserID) error
	IsBlocked(ctx context.Context, blocker, blocked UserID) (bool, error)
	Blocked(ctx context.Context, blocker UserID) ([]UserID, error)
}

// KeyPackageStore keeps the MLS KeyPackages devices upload for others to claim.
type KeyPackageStore interface {
	// AddKeyPackages stores one-time KeyPackages; a LastResort one replaces
	// the device's previous last-resort KeyPackage.
	AddKeyPackages(ctx context.Context, device DeviceID, kps []KeyPackage) error
	// ClaimKeyPackage removes and returns one of the device's one-time
	// KeyPackages, oldest first; when none is left it returns the last-resort
	// one without removing it. CodeNotFound when the device has neither.
	ClaimKeyPackage(ctx context.Context, device DeviceID) (KeyPackage, error)
	// CountKeyPackages counts the device's remaining one-time KeyPackages.
	CountKeyPackages(ctx context.Context, device DeviceID) (int, error)
}

// Commit is a membership or key change of a conversation's MLS group,
// applied by ConversationStore.ApplyCommit.
type Commit struct {
	Conversation ConversationID
	// Epoch is the epoch the commit was made in; it must equal the
	// conversation's current epoch. The conversation moves to Epoch+1.
	Epoch     Epoch
	Add       []Member   // devices the commit adds (FromSeq is set by the store)
	Remove    []DeviceID // devices the commit removes
	GroupInfo []byte     // the GroupInfo of the new epoch
	// Envelopes are appended in the same transaction, in order: the commit
	// itself, then any Welcome. Their Seq is assigned by the store.
	Envelopes []Envelope
	// TreeRef, when set, names the ratchet tree of the new epoch (uploaded
	// with TreeStore.PutRatchetTree by the committing device, the sender of
	// Envelopes[0], for this conversation): the store binds it to Epoch+1
	// in the same transaction, or refuses the whole commit with CodeInvalid
	// "tree_ref" when it holds no such tree.
	TreeRef TreeRef
	// CommitRef, when set, names the commit itself, uploaded the same way
	// because it is too large for a frame (Envelopes[0] then carries only
	// a reference to it): the store binds it to Epoch, likewise.
	CommitRef TreeRef
}

// ConversationStore keeps conversations, their members and MLS group state
// the delivery service needs (epoch, GroupInfo).
type ConversationStore interface {
	// CreateConversation stores c (at c.Epoch, normally 1 after the creator's
	// first commit), its members and its first envelopes atomically. An
	// existing ID returns CodeConflict. Members join at FromSeq 0. For
	// KindDirect the users are c.CreatedBy and the members' users (at most
	// two, else CodeInvalid "too_many_users"); a second direct conversation
	// between the same users returns CodeConflict "direct_exists", so two
	// users starting the same chat at once get one conversation.
	CreateConversation(ctx context.Context, c Conversation, members []Member, first []Envelope) ([]Envelope, error)
	Conversation(ctx context.Context, id ConversationID) (Conversation, error)
	// DirectConversation finds the 1:1 conversation between two users
	// (a == b for notes to self). CodeNotFound if there is none.
	DirectConversation(ctx context.Context, a, b UserID) (ConversationID, error)
	// ConversationsOfUser lists the conversations any device of the user is
	// in, and the user's direct conversations (Conversation.DirectUsers) and
	// groups (GroupStore's members) even while none of its devices is in
	// them (after a re-registration).
	ConversationsOfUser(ctx context.Context, user UserID) ([]Conversation, error)
	// Members lists the member devices of a conversation.
	Members(ctx context.Context, id ConversationID) ([]Member, error)
	// Member returns one device's membership; CodeNotFound if it is not a member.
	Member(ctx context.Context, id ConversationID, device DeviceID) (Member, error)
	// ApplyCommit checks c.Epoch against the conversation's current epoch
	// (CodeConflict with reason "wrong_epoch" if it differs), then in one
	// transaction adds and removes the members, advances the epoch, stores the
	// GroupInfo and appends the envelopes. Exactly one of several concurrent
	// commits for the same epoch succeeds. Added devices get FromSeq = the Seq
	// of Envelopes[0] (the commit: they receive the Welcome, not the commit);
	// adding an existing member is a no-op. An envelope whose client id is
	// already in the log returns CodeConflict "duplicate_client_id" and
	// nothing is applied, so a commit never takes effect without its
	// envelope in the log.
	ApplyCommit(ctx context.Context, c Commit) ([]Envelope, error)
}

// AppendResult is the outcome of appending one envelope.
type AppendResult struct {
	Seq       Seq
	Duplicate bool // the (conversation, device, client id) was already in the log; Seq is the original's
	Err       error
}

// Cursor is a device's position in one conversation.
type Cursor struct {
	Conversation ConversationID
	Device       DeviceID
	Acked        Seq // highest acknowledged sequence number
	LastSeq      Seq // the conversation's highest sequence number
}

// LogStore keeps the per-conversation append-only logs and the per-device cursors.
type LogStore interface {
	// Append appends envelopes (possibly to several conversations) and
	// returns one result per envelope, in order. Within a conversation,
	// envelopes get consecutive sequence numbers in argument order. An
	// envelope whose (conversation, sender device, client id) is already in
	// the log is not appended again: its result is the original Seq with
	// Duplicate set; an empty ClientID is never a duplicate. A batch is
	// durable when Append returns. Per-envelope failures (CodeNotFound for an
	// unknown conversation; CodeConflict "wrong_epoch" for an application or
	// proposal envelope whose Epoch is not the conversation's current epoch,
	// unless it is a duplicate) are in AppendResult.Err; a non-nil error
	// return means nothing was appended. The epoch check runs in the same
	// transaction as the append, so no message of an old epoch lands after
	// the commit that ended it.
	Append(ctx context.Context, envs []Envelope) ([]AppendResult, error)
	// ReadLog returns up to limit envelopes with Seq > after, in order.
	ReadLog(ctx context.Context, id ConversationID, after Seq, limit int) ([]Envelope, error)
	// Pending lists the device's conversations whose log has envelopes past
	// the device's cursor.
	Pending(ctx context.Context, device DeviceID) ([]Cursor, error)
	// Cursors lists every conversation the device is a member of, with its
	// acknowledged position (which starts where the device joined) and the
	// conversation's last Seq, ordered by conversation. A delivery stream
	// loads them once at login, so live envelopes need no store reads.
	Cursors(ctx context.Context, device DeviceID) ([]Cursor, error)
	// Ack moves the device's cursor forward to seq (never backwards; a lower
	// seq is a no-op; capped at the conversation's last Seq). CodeNotFound
	// if the device is not a member.
	Ack(ctx context.Context, id ConversationID, device DeviceID, seq Seq) error
	// MarkRead records that the user has read the conversation up to seq
	// (never backwards).
	MarkRead(ctx context.Context, id ConversationID, user UserID, seq Seq) error
	// ReadMarks returns each member user's read position.
	ReadMarks(ctx context.Context, id ConversationID) (map[UserID]Seq, error)
	// Prune deletes envelopes every member device has acknowledged, and
	// envelopes created before olderThan whatever their acknowledgement. It
	// returns the number deleted. Unlike the other methods it works in
	// bounded transactions (one huge one would stall SQLite's single
	// writer): each is atomic, and after a failure calling again finishes.
	Prune(ctx context.Context, olderThan time.Time) (int, error)
}
