package parley

import (
	"crypto/rand"
	"encoding/base32"
	"strconv"
	"strings"
)

// UserID identifies an account. It is assigned by the Store and never reused.
type UserID int64

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

// Epoch is an MLS epoch number of a conversation's group.
type Epoch uint64

func (id UserID) String() string   { return "u" + strconv.FormatInt(int64(id), 10) }
func (id DeviceID) String() string { return "d" + strconv.FormatInt(int64(id), 10) }

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewConversationID returns a fresh random conversation ID ("c" followed by
// 26 base32 characters: 128 random bits).
func NewConversationID() ConversationID {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return ConversationID("c" + strings.ToLower(idEncoding.EncodeToString(b[:])))
}

// Valid reports whether id has the shape NewConversationID produces: a
// lower-case letter "c" followed by 8 to 64 characters from [a-z0-9_-].
func (id ConversationID) Valid() bool {
	if len(id) < 9 || len(id) > 65 || id[0] != 'c' {
		return false
	}
	for i := 1; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
