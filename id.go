package parley

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// UserID identifies an account. It is assigned by the Store (NewUserID)
// and never reused. IDs are random, so knowing some tells nothing about
// others: walking IDs finds no one. Accounts created before IDs were random
// keep their small sequential IDs.
type UserID int64

// User IDs are drawn uniformly from [MinRandomUserID, MaxUserID]: 53 bits
// minus a sliver, so that every ID is exact in a JavaScript number and
// never collides with the sequential IDs of earlier accounts.
const (
	MinRandomUserID UserID = 1 << 32
	MaxUserID       UserID = 1<<53 - 1
)

// NewUserID returns a fresh random user ID in [MinRandomUserID, MaxUserID].
// The store retries on the (negligible) chance that it is taken.
func NewUserID() UserID {
	var b [8]byte
	_, _ = rand.Read(b[:])
	span := uint64(MaxUserID - MinRandomUserID + 1)
	return MinRandomUserID + UserID(binary.BigEndian.Uint64(b[:])%span) // span is tiny next to 2^64: the bias is below 2^-10
}

// DeviceID identifies one device (a primary or a linked device) of a user.
// It is assigned by the Store, globally unique, and never reused.
type DeviceID int64

// ConversationID identifies a conversation. It is also the MLS group ID of the
// conversation's group, so clients create it (NewConversationID) and the
// server only checks its shape.
type ConversationID string

// Seq is a position in a conversation's log. The server assigns 1, 2, 3, …
// per conversation with no gaps; 0 means "before the first envelope".
type Seq int64

// ClientMessageID is chosen by the sending device for every envelope. The
// server keeps at most one envelope per (conversation, sending device,
// ClientMessageID), so a retried send is never appended twice.
type ClientMessageID string

// NewClientMessageID returns a fresh client message ID: 24 lower-case hex
// digits, the first 12 the current Unix time in milliseconds and the rest 48
// random bits. IDs made later sort later (to the millisecond, on one clock),
// so the server's idempotency index, which starts with the ID, grows at its
// end instead of in one place per conversation; the random half keeps IDs of
// the same millisecond apart.
func NewClientMessageID() ClientMessageID {
	var b [12]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMilli())<<16)
	_, _ = rand.Read(b[6:])
	return ClientMessageID(hex.EncodeToString(b[:]))
}

// Epoch is an MLS epoch number of a conversation's group.
type Epoch uint64

func (id UserID) String() string   { return "u" + strconv.FormatInt(int64(id), 10) }
func (id DeviceID) String() string { return "d" + strconv.FormatInt(int64(id), 10) }

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// randomID is prefix followed by 26 lower-case base32 characters: 128
// random bits.
func randomID(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return prefix + strings.ToLower(idEncoding.EncodeToString(b[:]))
}

// validID reports whether id is the one-letter prefix followed by 8 to 64
// characters from [a-z0-9] and extra.
func validID(id string, prefix byte, extra string) bool {
	if len(id) < 9 || len(id) > 65 || id[0] != prefix {
		return false
	}
	for i := 1; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte(extra, c) >= 0) {
			return false
		}
	}
	return true
}

// NewConversationID returns a fresh random conversation ID ("c" followed by
// 26 base32 characters: 128 random bits).
func NewConversationID() ConversationID {
	return ConversationID(randomID("c"))
}

// Valid reports whether id has the shape NewConversationID produces: a
// lower-case letter "c" followed by 8 to 64 characters from [a-z0-9_-].
func (id ConversationID) Valid() bool {
	return validID(string(id), 'c', "_-")
}
