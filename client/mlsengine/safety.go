package mlsengine

import (
	"bytes"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/parleyhq/parley"
)

// safetyIterations is the number of SHA-512 iterations per fingerprint, as
// in Signal's numeric fingerprints.
const safetyIterations = 5200

// SafetyNumber is the safety number between users a and b, from their
// active devices' identity keys (MLS signature keys): 60 digits in 12
// groups of 5, the two users' 30-digit fingerprints, smaller first. It is
// the same whichever side computes it and whatever the keys' order, and
// changes when a key is added, removed or substituted.
func SafetyNumber(a parley.UserID, aKeys [][]byte, b parley.UserID, bKeys [][]byte) string {
	fa, fb := fingerprint(a, aKeys), fingerprint(b, bKeys)
	if fb < fa {
		fa, fb = fb, fa
	}
	digits := fa + fb
	var groups []string
	for i := 0; i < len(digits); i += 5 {
		groups = append(groups, digits[i:i+5])
	}
	return strings.Join(groups, " ")
}

// fingerprint is a user's 30-digit half of a safety number: SHA-512
// iterated over the version, the user's sorted identity keys and the user
// id, then six 5-byte chunks each reduced mod 100000.
func fingerprint(u parley.UserID, keys [][]byte) string {
	keys = slices.Clone(keys)
	slices.SortFunc(keys, bytes.Compare)
	all := bytes.Join(keys, nil)
	h := sha512.New()
	h.Write([]byte{0, 0})
	h.Write(all)
	h.Write([]byte(strconv.FormatInt(int64(u), 10)))
	sum := h.Sum(nil)
	for i := 1; i < safetyIterations; i++ {
		h.Reset()
		h.Write(sum)
		h.Write(all)
		sum = h.Sum(sum[:0])
	}
	var sb strings.Builder
	for i := 0; i < 6; i++ {
		var b [8]byte
		copy(b[3:], sum[i*5:i*5+5])
		fmt.Fprintf(&sb, "%05d", binary.BigEndian.Uint64(b[:])%100000)
	}
	return sb.String()
}
