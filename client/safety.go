package client

import (
	"bytes"
	"context"
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

// SafetyNumber returns the safety number between this user and another:
// 60 digits in 12 groups of 5. It is computed from both users' active
// devices' identity keys as the server publishes them, so it is the same on
// both sides and on every device, and changes when either user adds or
// removes a device (or the server substitutes a key). Users compare it in
// person or over another channel.
func (c *Client) SafetyNumber(ctx context.Context, who string) (string, Contact, error) {
	ct, err := c.Resolve(ctx, who)
	if err != nil {
		return "", ct, err
	}
	mine, err := c.Devices(ctx)
	if err != nil {
		return "", ct, err
	}
	me := c.Account().User
	return safetyNumber(me, activeKeys(mine), ct.User, activeKeys(ct.Devices)), ct, nil
}

func activeKeys(ds []DeviceKey) [][]byte {
	var out [][]byte
	for _, d := range ds {
		if !d.Revoked {
			out = append(out, d.IdentityKey)
		}
	}
	return out
}

// safetyNumber combines the two users' 30-digit fingerprints, smaller first.
func safetyNumber(a parley.UserID, aKeys [][]byte, b parley.UserID, bKeys [][]byte) string {
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
