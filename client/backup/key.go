package backup

import (
	"crypto/rand"
	"encoding/hex"
	"strings"

	"github.com/parleyhq/parley"
)

// KeySize is the size of a recovery key's secret in bytes.
const KeySize = 32

// RecoveryKey is the secret a backup is encrypted under: 32 random bytes,
// written as 64 hexadecimal characters. The user keeps it; it never leaves
// the device that made it except as the user writes it down.
type RecoveryKey [KeySize]byte

// NewRecoveryKey returns a new random recovery key.
func NewRecoveryKey() RecoveryKey {
	var k RecoveryKey
	_, _ = rand.Read(k[:]) // crypto/rand.Read never fails (Go 1.24+)
	return k
}

// String returns the key as 64 lowercase hexadecimal characters in 16
// groups of 4 separated by spaces, for reading aloud and writing down.
// ParseRecoveryKey accepts it with or without the spaces.
func (k RecoveryKey) String() string {
	h := hex.EncodeToString(k[:])
	var b strings.Builder
	for i := 0; i < len(h); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(h[i : i+4])
	}
	return b.String()
}

// ParseRecoveryKey parses a key as String writes it; spaces and dashes
// are ignored and case does not matter. Anything else is CodeInvalid,
// ReasonBadRecoveryKey.
func ParseRecoveryKey(s string) (RecoveryKey, error) {
	var k RecoveryKey
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, strings.ToLower(s))
	if len(s) != 2*KeySize {
		return k, parley.Errorf(parley.CodeInvalid, ReasonBadRecoveryKey, "a recovery key has %d hexadecimal characters, got %d", 2*KeySize, len(s))
	}
	if _, err := hex.Decode(k[:], []byte(s)); err != nil {
		return k, parley.Errorf(parley.CodeInvalid, ReasonBadRecoveryKey, "a recovery key has only the characters 0-9 and a-f")
	}
	return k, nil
}
