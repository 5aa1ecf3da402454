package sframe

import (
	"crypto/cipher"
	"crypto/hkdf"
	"encoding/binary"
	"math"
	"sync"

	"github.com/parleyhq/parley"
)

// Key is one sender's frame key: the AEAD key and the nonce salt derived
// for a key id (RFC 9605 §4.4.2). It is safe for concurrent use.
type Key struct {
	suite Suite
	kid   uint64
	aead  cipher.AEAD
	salt  [nonceSize]byte
}

// DeriveKey derives the frame key for kid from baseKey (any non-empty
// secret; MLS-derived base keys are suite.KeySize() bytes).
func DeriveKey(suite Suite, kid uint64, baseKey []byte) (*Key, error) {
	p, ok := suite.params()
	if !ok {
		return nil, errUnknownSuite("sframe: derive key", suite)
	}
	if len(baseKey) == 0 {
		return nil, parley.Errorf(parley.CodeInvalid, ReasonBadKey, "sframe: derive key: empty base key")
	}
	secret, err := hkdf.Extract(p.hash, baseKey, nil)
	if err != nil {
		return nil, err
	}
	label := func(prefix string) string {
		b := append([]byte(prefix), make([]byte, 10)...)
		binary.BigEndian.PutUint64(b[len(prefix):], kid)
		binary.BigEndian.PutUint16(b[len(prefix)+8:], uint16(suite))
		return string(b)
	}
	key, err := hkdf.Expand(p.hash, secret, label("SFrame 1.0 Secret key "), p.nk)
	if err != nil {
		return nil, err
	}
	salt, err := hkdf.Expand(p.hash, secret, label("SFrame 1.0 Secret salt "), nonceSize)
	if err != nil {
		return nil, err
	}
	aead, err := suite.newAEAD(key)
	if err != nil {
		return nil, err
	}
	k := &Key{suite: suite, kid: kid, aead: aead}
	copy(k.salt[:], salt)
	return k, nil
}

// KID is the key id the key encrypts under.
func (k *Key) KID() uint64 { return k.kid }

// Suite is the key's cipher suite.
func (k *Key) Suite() Suite { return k.suite }

func (k *Key) nonce(ctr uint64) []byte {
	n := k.salt
	var c [8]byte
	binary.BigEndian.PutUint64(c[:], ctr)
	for i := range c {
		n[nonceSize-8+i] ^= c[i]
	}
	return n[:]
}

// Seal appends to dst the SFrame ciphertext of pt under counter ctr, with
// metadata authenticated but not sent. Callers must never seal two frames
// with the same key and counter; a [Sealer] keeps that promise for them.
func (k *Key) Seal(dst []byte, ctr uint64, metadata, pt []byte) []byte {
	start := len(dst)
	dst = AppendHeader(dst, Header{KID: k.kid, CTR: ctr})
	aad := dst[start:]
	if len(metadata) > 0 {
		aad = append(append(make([]byte, 0, len(aad)+len(metadata)), aad...), metadata...)
	}
	return k.aead.Seal(dst, k.nonce(ctr), pt, aad)
}

// open decrypts the body of a frame whose header (h, its n bytes) is
// already parsed and names this key.
func (k *Key) open(dst, frame []byte, h Header, n int, metadata []byte) ([]byte, error) {
	if len(frame)-n < k.aead.Overhead() {
		return nil, parley.Errorf(parley.CodeInvalid, ReasonShortFrame, "sframe: open: %d bytes after the header, the tag alone is %d", len(frame)-n, k.aead.Overhead())
	}
	aad := frame[:n]
	if len(metadata) > 0 {
		aad = append(append(make([]byte, 0, n+len(metadata)), aad...), metadata...)
	}
	out, err := k.aead.Open(dst, k.nonce(h.CTR), frame[n:], aad)
	if err != nil {
		return nil, errAuth
	}
	return out, nil
}

// Open decrypts one SFrame ciphertext sealed under this key and appends the
// plaintext to dst. It does not check for replays; a [Receiver] does.
func (k *Key) Open(dst, frame, metadata []byte) ([]byte, error) {
	h, n, err := ParseHeader(frame)
	if err != nil {
		return nil, err
	}
	if h.KID != k.kid {
		return nil, parley.Errorf(parley.CodeInvalid, ReasonUnknownKey, "sframe: open: frame is for KID %d, key is %d", h.KID, k.kid)
	}
	return k.open(dst, frame, h, n, metadata)
}

// Sealer encrypts one sender's frames with increasing counters. It is safe
// for concurrent use; frames sealed concurrently get distinct counters.
type Sealer struct {
	mu  sync.Mutex
	key *Key
	ctr uint64
}

// NewSealer returns a Sealer whose first frame uses counter 0.
func NewSealer(k *Key) *Sealer { return &Sealer{key: k} }

// Rekey switches to k (a new epoch's key) and restarts the counter.
func (s *Sealer) Rekey(k *Key) {
	s.mu.Lock()
	s.key, s.ctr = k, 0
	s.mu.Unlock()
}

// Key returns the key frames are sealed under now.
func (s *Sealer) Key() *Key {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.key
}

// Seal appends the ciphertext of pt to dst under the next counter.
func (s *Sealer) Seal(dst, metadata, pt []byte) ([]byte, error) {
	s.mu.Lock()
	k, ctr := s.key, s.ctr
	if ctr == math.MaxUint64 {
		s.mu.Unlock()
		return nil, parley.Errorf(parley.CodeInvalid, ReasonCounterSpent, "sframe: seal: KID %d used every counter; rekey", k.kid)
	}
	s.ctr++
	s.mu.Unlock()
	return k.Seal(dst, ctr, metadata, pt), nil
}

// ReplayWindow is how many counters behind the newest one a Receiver still
// accepts (once each), to tolerate reordering on the network.
const ReplayWindow = 128

type replay struct {
	top  uint64                    // newest counter seen + 1 (0: none yet)
	seen [ReplayWindow / 64]uint64 // bit i: counter top-1-i was seen
}

// check reports whether ctr is new and within the window, and records it.
func (r *replay) check(ctr uint64) bool {
	if ctr >= r.top {
		shift := ctr + 1 - r.top
		r.shiftLeft(shift)
		r.top = ctr + 1
		r.seen[0] |= 1
		return true
	}
	back := r.top - 1 - ctr
	if back >= ReplayWindow {
		return false
	}
	w, b := back/64, back%64
	if r.seen[w]&(1<<b) != 0 {
		return false
	}
	r.seen[w] |= 1 << b
	return true
}

func (r *replay) shiftLeft(n uint64) {
	if n >= ReplayWindow {
		r.seen = [ReplayWindow / 64]uint64{}
		return
	}
	words, bitsN := int(n/64), n%64
	for i := len(r.seen) - 1; i >= 0; i-- {
		var v uint64
		if j := i - words; j >= 0 {
			v = r.seen[j] << bitsN
			if bitsN > 0 && j > 0 {
				v |= r.seen[j-1] >> (64 - bitsN)
			}
		}
		r.seen[i] = v
	}
}

// Receiver decrypts frames from many senders, choosing the key by the
// header's KID, and drops replays. It is safe for concurrent use.
type Receiver struct {
	mu   sync.Mutex
	keys map[uint64]*recvKey
}

type recvKey struct {
	key *Key
	win replay
}

// NewReceiver returns a Receiver with no keys.
func NewReceiver() *Receiver { return &Receiver{keys: make(map[uint64]*recvKey)} }

// Add makes frames under k.KID() decryptable; adding a key for a KID that
// already has one replaces it and resets its replay window.
func (r *Receiver) Add(k *Key) {
	r.mu.Lock()
	r.keys[k.kid] = &recvKey{key: k}
	r.mu.Unlock()
}

// Remove forgets the key for kid: its frames no longer decrypt.
func (r *Receiver) Remove(kid uint64) {
	r.mu.Lock()
	delete(r.keys, kid)
	r.mu.Unlock()
}

// Retain forgets every key for which keep returns false.
func (r *Receiver) Retain(keep func(kid uint64) bool) {
	r.mu.Lock()
	for kid := range r.keys {
		if !keep(kid) {
			delete(r.keys, kid)
		}
	}
	r.mu.Unlock()
}

// Open decrypts frame, appends the plaintext to dst and returns it with the
// frame's header. Errors are *parley.Error with CodeInvalid and Reason
// ReasonShortHeader, ReasonShortFrame, ReasonUnknownKey, ReasonAuthFailed or
// ReasonReplayed; a frame that fails changes no state.
func (r *Receiver) Open(dst, frame, metadata []byte) ([]byte, Header, error) {
	h, n, err := ParseHeader(frame)
	if err != nil {
		return nil, Header{}, err
	}
	r.mu.Lock()
	rk := r.keys[h.KID]
	r.mu.Unlock()
	if rk == nil {
		return nil, h, parley.Errorf(parley.CodeInvalid, ReasonUnknownKey, "sframe: open: no key for KID %d", h.KID)
	}
	out, err := rk.key.open(dst, frame, h, n, metadata)
	if err != nil {
		return nil, h, err
	}
	r.mu.Lock()
	ok := rk.win.check(h.CTR)
	r.mu.Unlock()
	if !ok {
		return nil, h, parley.Errorf(parley.CodeInvalid, ReasonReplayed, "sframe: open: KID %d counter %d replayed or too old", h.KID, h.CTR)
	}
	return out, h, nil
}
