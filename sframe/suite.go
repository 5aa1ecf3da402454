package sframe

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"hash"

	"github.com/parleyhq/parley"
)

// Suite is an SFrame cipher suite (RFC 9605 §4.5, IANA "SFrame Cipher
// Suites").
type Suite uint16

// The cipher suites of RFC 9605. Parley calls use AES128GCMSHA256; the
// others are here so that the RFC's vectors check the whole construction.
const (
	AES128CTRHMACSHA256_80 Suite = 0x0001
	AES128CTRHMACSHA256_64 Suite = 0x0002
	AES128CTRHMACSHA256_32 Suite = 0x0003
	AES128GCMSHA256        Suite = 0x0004
	AES256GCMSHA512        Suite = 0x0005
)

type params struct {
	hash func() hash.Hash
	nk   int // key size (for CTR+HMAC: encryption key then authentication key)
	nka  int // encryption part of the key, CTR+HMAC only
	nt   int // tag size
}

const nonceSize = 12 // AEAD.Nn, the same for every registered suite

func (s Suite) params() (params, bool) {
	switch s {
	case AES128CTRHMACSHA256_80:
		return params{sha256.New, 48, 16, 10}, true
	case AES128CTRHMACSHA256_64:
		return params{sha256.New, 48, 16, 8}, true
	case AES128CTRHMACSHA256_32:
		return params{sha256.New, 48, 16, 4}, true
	case AES128GCMSHA256:
		return params{sha256.New, 16, 0, 16}, true
	case AES256GCMSHA512:
		return params{sha512.New, 32, 0, 16}, true
	}
	return params{}, false
}

// KeySize is the suite's AEAD.Nk: the size of a base key and of a frame key.
// It is 0 for an unknown suite.
func (s Suite) KeySize() int { p, _ := s.params(); return p.nk }

// Overhead is the largest number of bytes Seal adds to a frame: the
// longest header and the tag.
func (s Suite) Overhead() int { p, _ := s.params(); return maxHeaderSize + p.nt }

func errUnknownSuite(op string, s Suite) error {
	return parley.Errorf(parley.CodeInvalid, ReasonUnknownSuite, "%s: unknown SFrame cipher suite 0x%04x", op, uint16(s))
}

// newAEAD keys the suite's AEAD with a frame key.
func (s Suite) newAEAD(key []byte) (cipher.AEAD, error) {
	p, ok := s.params()
	if !ok {
		return nil, errUnknownSuite("sframe: new aead", s)
	}
	if len(key) != p.nk {
		return nil, parley.Errorf(parley.CodeInvalid, ReasonBadKey, "sframe: new aead: key is %d bytes, suite 0x%04x needs %d", len(key), uint16(s), p.nk)
	}
	if p.nka == 0 {
		b, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		return cipher.NewGCM(b)
	}
	b, err := aes.NewCipher(key[:p.nka])
	if err != nil {
		return nil, err
	}
	return &ctrHMAC{block: b, authKey: key[p.nka:], hash: p.hash, tagSize: p.nt}, nil
}

// ctrHMAC is the AES-CTR + truncated HMAC construction of RFC 9605 §4.5.1.
type ctrHMAC struct {
	block   cipher.Block
	authKey []byte
	hash    func() hash.Hash
	tagSize int
}

func (a *ctrHMAC) NonceSize() int { return nonceSize }
func (a *ctrHMAC) Overhead() int  { return a.tagSize }

func (a *ctrHMAC) tag(nonce, aad, ct []byte) []byte {
	m := hmac.New(a.hash, a.authKey)
	var lens [24]byte
	binary.BigEndian.PutUint64(lens[0:], uint64(len(aad)))
	binary.BigEndian.PutUint64(lens[8:], uint64(len(ct)))
	binary.BigEndian.PutUint64(lens[16:], uint64(a.tagSize))
	m.Write(lens[:])
	m.Write(nonce)
	m.Write(aad)
	m.Write(ct)
	return m.Sum(nil)[:a.tagSize]
}

func (a *ctrHMAC) xor(dst, src, nonce []byte) {
	var iv [aes.BlockSize]byte
	copy(iv[:], nonce) // the last four bytes, the block counter, start at zero
	cipher.NewCTR(a.block, iv[:]).XORKeyStream(dst, src)
}

func (a *ctrHMAC) Seal(dst, nonce, pt, aad []byte) []byte {
	ret, out := sliceForAppend(dst, len(pt)+a.tagSize)
	ct := out[:len(pt)]
	a.xor(ct, pt, nonce)
	copy(out[len(pt):], a.tag(nonce, aad, ct))
	return ret
}

func (a *ctrHMAC) Open(dst, nonce, ct, aad []byte) ([]byte, error) {
	if len(ct) < a.tagSize {
		return nil, errAuth
	}
	body, tag := ct[:len(ct)-a.tagSize], ct[len(ct)-a.tagSize:]
	if subtle.ConstantTimeCompare(tag, a.tag(nonce, aad, body)) != 1 {
		return nil, errAuth
	}
	ret, out := sliceForAppend(dst, len(body))
	a.xor(out, body, nonce)
	return ret, nil
}

// sliceForAppend extends in by n bytes, reallocating if needed, and returns
// the whole slice and the n new bytes.
func sliceForAppend(in []byte, n int) (head, tail []byte) {
	if total := len(in) + n; cap(in) >= total {
		head = in[:total]
	} else {
		head = make([]byte, total)
		copy(head, in)
	}
	return head, head[len(in):]
}
