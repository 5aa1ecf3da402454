package accounts

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
)

// Codes at rest. Verification codes (6 digits) and link codes are stored as
// a version byte followed by HMAC-SHA256 under Config.CodeKey, a server
// secret kept outside the database (the data directory's code.key): a copy
// of the database alone does not let anyone test the million possible
// codes. The MAC covers a domain ("verify" or "link"), the subject (the
// phone number for verification codes) and the code, so equal codes for
// different numbers store differently.
//
// Upgrade path: records written before keyed codes hold the bare SHA-256
// of the code (32 bytes, no version byte). They are still accepted until
// they expire (Config.CodeTTL, Config.LinkCodeTTL); nothing writes that
// form any more, so after one TTL none is left.
const codeMACv1 byte = 1

func (s *Service) codeMAC(domain, subject, code string) []byte {
	m := hmac.New(sha256.New, s.cfg.CodeKey)
	m.Write([]byte(domain))
	m.Write([]byte{0})
	m.Write([]byte(subject))
	m.Write([]byte{0})
	m.Write([]byte(code))
	return m.Sum([]byte{codeMACv1})
}

// verificationCodeMatches compares a typed code with a stored one, keyed
// or legacy, in constant time.
func (s *Service) verificationCodeMatches(stored []byte, phone, code string) bool {
	if len(stored) == sha256.Size {
		return subtle.ConstantTimeCompare(stored, hash([]byte(code))) == 1
	}
	return subtle.ConstantTimeCompare(stored, s.codeMAC("verify", phone, code)) == 1
}
