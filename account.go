package parley

import "time"

// Visibility is a privacy audience: who may see a piece of metadata (last
// seen, presence) or use a lookup (find me by phone number).
type Visibility string

// The audiences. The zero value means VisibleEveryone.
const (
	VisibleEveryone Visibility = "everyone"
	VisibleContacts Visibility = "contacts" // users the owner has added as contacts
	VisibleNobody   Visibility = "nobody"
)

// Valid reports whether v is one of the defined audiences (or empty).
func (v Visibility) Valid() bool {
	switch v {
	case "", VisibleEveryone, VisibleContacts, VisibleNobody:
		return true
	}
	return false
}

// Privacy is a user's privacy settings. The zero value is the default:
// everyone may find the user by phone number and see presence and last seen.
type Privacy struct {
	FindByPhone Visibility // who can resolve the user's phone number to the account
	LastSeen    Visibility // who sees "online" and "last seen"
	Photo       Visibility // who sees the profile photo (docs/decisions/0006-profile-photos.md)
}

// User is an account, identified by its E.164 phone number.
type User struct {
	ID    UserID
	Phone string // E.164, normalised: "+" followed by digits
	Name  string // display name
	About string // the "about" line, at most MaxAbout bytes
	// PhotoTag names the current profile photo (a hash of its bytes; ""
	// when there is none). Only AccountStore.SetProfilePhoto changes it.
	PhotoTag   string
	Username   string // optional, unique case-insensitively; stored as the user chose it
	Privacy    Privacy
	PINHash    []byte // argon2id hash of the two-step PIN; nil when no PIN is set
	CreatedAt  time.Time
	LastSeenAt time.Time // last time any device of the user disconnected or was seen
	// SuspendedAt is when the operator suspended the account (zero: not
	// suspended). A suspended account cannot sign in and receives no
	// direct messages; only AdminStore.SetSuspended changes it.
	SuspendedAt time.Time
}

// Device is one device of a user: the primary, or one of up to four linked
// devices. Each has its own credentials; a revoked device is refused.
type Device struct {
	ID          DeviceID
	User        UserID
	Name        string
	Primary     bool
	SecretHash  []byte // SHA-256 of the device's bearer secret
	IdentityKey []byte // the device's MLS signature public key, published to contacts
	CreatedAt   time.Time
	RevokedAt   time.Time // zero while the device is active
}

// Active reports whether the device has not been revoked.
func (d Device) Active() bool { return d.RevokedAt.IsZero() }

// Verification is a pending phone-number verification.
type Verification struct {
	Phone     string
	CodeHash  []byte    // keyed HMAC of the 6-digit code (package accounts, codes.go)
	Name      string    // the display name given at registration
	Attempts  int       // wrong codes entered so far
	Sent      int       // codes sent in the current window
	WindowAt  time.Time // start of the current sending window
	ExpiresAt time.Time
}

// LinkCode is a short-lived, single-use code shown by a primary device to link
// a new device to its account.
type LinkCode struct {
	CodeHash  []byte // keyed HMAC of the code (package accounts, codes.go)
	User      UserID
	ExpiresAt time.Time
}

// KeyPackage is an MLS KeyPackage uploaded by a device for others to claim
// when they add it to a group. One-time KeyPackages are deleted when claimed;
// the last-resort one is handed out again when no one-time one is left.
type KeyPackage struct {
	Device     DeviceID
	Ref        []byte // the KeyPackageRef computed by the client (opaque to the server)
	Data       []byte // the serialised MLSMessage(KeyPackage)
	LastResort bool
}
