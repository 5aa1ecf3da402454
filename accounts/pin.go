package accounts

import (
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/parleyhq/parley"
)

// PIN hashing: argon2id with the OWASP-recommended minimum parameters (19 MiB,
// 2 passes, 1 lane), a 16-byte random salt and a 32-byte key, stored in the
// PHC string format so the parameters travel with the hash and can be raised
// later without invalidating existing PINs:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>   (unpadded standard base64)
const (
	pinMemoryKiB = 19 * 1024
	pinTime      = 2
	pinThreads   = 1
	pinSaltLen   = 16
	pinKeyLen    = 32
	minPINLen    = 4
	maxPINLen    = 12
)

var pinB64 = base64.RawStdEncoding

func checkPIN(pin string) error {
	ok := len(pin) >= minPINLen && len(pin) <= maxPINLen
	for i := 0; i < len(pin); i++ {
		if pin[i] < '0' || pin[i] > '9' {
			ok = false
		}
	}
	if !ok {
		return parley.Errorf(parley.CodeInvalid, ReasonPINInvalid, "the PIN must be %d to %d digits", minPINLen, maxPINLen)
	}
	return nil
}

func hashPIN(pin string) []byte {
	salt := randomBytes(pinSaltLen)
	key := argon2.IDKey([]byte(pin), salt, pinTime, pinMemoryKiB, pinThreads, pinKeyLen)
	return fmt.Appendf(nil, "$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, pinMemoryKiB, pinTime, pinThreads, pinB64.EncodeToString(salt), pinB64.EncodeToString(key))
}

// pinMatches reports whether pin matches an encoded hash from hashPIN. A
// malformed hash never matches.
func pinMatches(encoded []byte, pin string) bool {
	parts := strings.Split(string(encoded), "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	var mem, time uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &time, &threads); err != nil ||
		mem == 0 || mem > 1<<22 || time == 0 || time > 16 || threads == 0 {
		return false
	}
	salt, err := pinB64.DecodeString(parts[4])
	if err != nil {
		return false
	}
	key, err := pinB64.DecodeString(parts[5])
	if err != nil || len(key) == 0 || len(key) > 128 {
		return false
	}
	got := argon2.IDKey([]byte(pin), salt, time, mem, threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}
