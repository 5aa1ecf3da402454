package mls

import (
	"crypto/hmac"
	"errors"
	"fmt"
	"hash"
	"maps"
	"math/bits"
	"slices"

	"github.com/parleyhq/parley/mls/codec"
)

// Errors of the secret tree. Callers branch on them to tell replays and
// stale messages from other failures.
var (
	// ErrGenerationConsumed means the key for a generation was already used
	// (or evicted from the out-of-order window) and has been deleted, as
	// forward secrecy requires (RFC 9420 §9.2). A replayed message fails
	// with this error.
	ErrGenerationConsumed = errors.New("mls: key generation already consumed or expired")
	// ErrGenerationTooFar means a generation is further ahead of the
	// ratchet than the configured maximum forward distance.
	ErrGenerationTooFar = errors.New("mls: key generation too far ahead")
	// ErrInvalidLeaf means a leaf index is outside the tree.
	ErrInvalidLeaf = errors.New("mls: leaf index out of range")
)

// RatchetType selects one of the two hash ratchets of a leaf.
type RatchetType uint8

// Ratchet types (RFC 9420 §9.1).
const (
	RatchetHandshake   RatchetType = 0
	RatchetApplication RatchetType = 1
)

// ContentTypeRatchet returns the ratchet used for content of type ct:
// application data uses the application ratchet, proposals and commits the
// handshake ratchet.
func ContentTypeRatchet(ct ContentType) RatchetType {
	if ct == ContentTypeApplication {
		return RatchetApplication
	}
	return RatchetHandshake
}

// SecretTreeConfig bounds the state a receiver keeps for out-of-order
// messages (RFC 9420 §9.2).
type SecretTreeConfig struct {
	// OutOfOrderWindow is the number of skipped (not yet used) past
	// generations whose keys are retained per ratchet. Keys beyond it are
	// deleted oldest-first. 0 means DefaultOutOfOrderWindow; a negative
	// value retains none.
	OutOfOrderWindow int
	// MaxForwardDistance is the largest number of generations a receiver
	// will ratchet forward to reach a message's generation. 0 means
	// DefaultMaxForwardDistance.
	MaxForwardDistance uint32
}

// Defaults of SecretTreeConfig.
const (
	DefaultOutOfOrderWindow   = 128
	DefaultMaxForwardDistance = 1024
)

// KeyNonce is an AEAD key and nonce for one generation of a ratchet.
type KeyNonce struct {
	Generation uint32
	Key        []byte
	Nonce      []byte
}

// hashRatchet is the state of one handshake or application ratchet
// (RFC 9420 §9.1): the secret for generation next, plus retained keys of
// skipped generations.
type hashRatchet struct {
	next    uint32
	secret  []byte
	skipped map[uint32]KeyNonce
	// order lists skipped generations in increasing order (for eviction).
	order []uint32
}

type leafRatchets struct {
	r [2]*hashRatchet
}

// SecretTree derives per-sender, per-generation AEAD keys from an epoch's
// encryption_secret (RFC 9420 §9). It deletes every secret as soon as it is
// no longer needed: tree node secrets once their children are derived, ratchet
// secrets once the next generation is derived, and generation keys once
// returned. A SecretTree is not safe for concurrent use.
type SecretTree struct {
	cs       CipherSuite
	si       *suiteInfo
	nLeaves  uint32
	root     uint32
	nodes    map[uint32][]byte
	leaves   map[uint32]*leafRatchets
	window   int
	maxAhead uint32

	// Cached HMAC keyed with the epoch's sender_data_secret.
	sdSecret []byte
	sdMAC    hash.Hash
}

// NewSecretTree returns the secret tree of a group with nLeaves leaves,
// rooted at encryptionSecret. The tree keeps its own copy of the secret.
func NewSecretTree(cs CipherSuite, encryptionSecret []byte, nLeaves uint32, cfg SecretTreeConfig) (*SecretTree, error) {
	if !cs.Supported() {
		return nil, fmt.Errorf("mls: secret tree: %w: %d", ErrUnsupportedCipherSuite, uint16(cs))
	}
	if nLeaves == 0 || nLeaves > 1<<31 {
		return nil, fmt.Errorf("mls: secret tree: invalid leaf count %d", nLeaves)
	}
	si, _ := cs.info()
	st := &SecretTree{
		cs:       cs,
		si:       si,
		nLeaves:  nLeaves,
		root:     stRoot(nLeaves),
		nodes:    make(map[uint32][]byte),
		leaves:   make(map[uint32]*leafRatchets),
		window:   cfg.OutOfOrderWindow,
		maxAhead: cfg.MaxForwardDistance,
	}
	if st.window == 0 {
		st.window = DefaultOutOfOrderWindow
	} else if st.window < 0 {
		st.window = 0
	}
	if st.maxAhead == 0 {
		st.maxAhead = DefaultMaxForwardDistance
	}
	st.nodes[st.root] = append([]byte(nil), encryptionSecret...)
	return st, nil
}

// LeafCount returns the number of leaves of the tree.
func (st *SecretTree) LeafCount() uint32 { return st.nLeaves }

// stRoot returns the root node index of a tree with n leaves (rounded up
// to a power of two, as MLS trees always are).
func stRoot(n uint32) uint32 {
	if n <= 1 {
		return 0
	}
	d := bits.Len32(n - 1) // ceil(log2 n)
	return (uint32(1) << d) - 1
}

// stLevel returns the level of node x (leaves are level 0).
func stLevel(x uint32) uint {
	return uint(bits.TrailingZeros32(^x))
}

// leafSecret derives (and removes from the tree) the node secret of leaf.
func (st *SecretTree) leafSecret(leaf uint32) ([]byte, error) {
	target := 2 * leaf
	// Find the lowest ancestor of target (including itself) holding a secret.
	x := st.root
	var path []uint32
	for {
		if _, ok := st.nodes[x]; ok {
			path = path[:0]
		}
		path = append(path, x)
		if x == target {
			break
		}
		k := stLevel(x)
		if k == 0 {
			return nil, fmt.Errorf("mls: secret tree: walk reached leaf %d, want %d", x, target)
		}
		if target < x {
			x = x ^ (1 << (k - 1))
		} else {
			x = x ^ (3 << (k - 1))
		}
	}
	if _, ok := st.nodes[path[0]]; !ok {
		return nil, fmt.Errorf("%w: secrets of leaf %d already consumed", ErrGenerationConsumed, leaf)
	}
	for i := 0; i+1 < len(path); i++ {
		p := path[i]
		secret := st.nodes[p]
		k := stLevel(p)
		left, err := st.cs.ExpandWithLabel(secret, "tree", []byte("left"), st.cs.HashSize())
		if err != nil {
			return nil, err
		}
		right, err := st.cs.ExpandWithLabel(secret, "tree", []byte("right"), st.cs.HashSize())
		if err != nil {
			return nil, err
		}
		st.nodes[p^(1<<(k-1))] = left
		st.nodes[p^(3<<(k-1))] = right
		clear(secret)
		delete(st.nodes, p)
	}
	s := st.nodes[target]
	delete(st.nodes, target)
	return s, nil
}

// ratchet returns the ratchet of the given type for leaf, initialising the
// leaf's ratchets on first use.
func (st *SecretTree) ratchet(leaf uint32, typ RatchetType) (*hashRatchet, error) {
	if leaf >= st.nLeaves {
		return nil, fmt.Errorf("%w: %d >= %d", ErrInvalidLeaf, leaf, st.nLeaves)
	}
	if typ > RatchetApplication {
		return nil, fmt.Errorf("mls: secret tree: invalid ratchet type %d", typ)
	}
	lr, ok := st.leaves[leaf]
	if !ok {
		secret, err := st.leafSecret(leaf)
		if err != nil {
			return nil, err
		}
		hs, err := st.cs.ExpandWithLabel(secret, "handshake", nil, st.cs.HashSize())
		if err != nil {
			return nil, err
		}
		app, err := st.cs.ExpandWithLabel(secret, "application", nil, st.cs.HashSize())
		if err != nil {
			return nil, err
		}
		clear(secret)
		lr = &leafRatchets{r: [2]*hashRatchet{{secret: hs}, {secret: app}}}
		st.leaves[leaf] = lr
	}
	return lr.r[typ], nil
}

// derive returns the key and nonce of the ratchet's current generation and
// advances the ratchet, deleting the old secret.
func (st *SecretTree) derive(r *hashRatchet) (KeyNonce, error) {
	if r.secret == nil {
		return KeyNonce{}, fmt.Errorf("%w: ratchet exhausted", ErrGenerationConsumed)
	}
	g := r.next
	// One HMAC keyed with the ratchet secret serves the three
	// DeriveTreeSecret calls of RFC 9420 §9.1.
	m := hmac.New(st.si.newHash, r.secret)
	gen := [4]byte{byte(g >> 24), byte(g >> 16), byte(g >> 8), byte(g)}
	var buf [64]byte
	nh := st.si.hashSize
	key := expandKeyed(m, nh, appendKDFLabel(buf[:0], st.si.aeadKey, "key", gen[:]), st.si.aeadKey)
	nonce := expandKeyed(m, nh, appendKDFLabel(buf[:0], st.si.aeadNonce, "nonce", gen[:]), st.si.aeadNonce)
	next := expandKeyed(m, nh, appendKDFLabel(buf[:0], nh, "secret", gen[:]), nh)
	m.Reset()
	clear(r.secret)
	if g == ^uint32(0) {
		// The generation counter cannot advance further.
		clear(next)
		r.secret = nil
	} else {
		r.secret = next
		r.next = g + 1
	}
	return KeyNonce{Generation: g, Key: key, Nonce: nonce}, nil
}

// Next returns the key and nonce for the sender's next message on the given
// ratchet of leaf and advances the ratchet; the returned key is not kept.
func (st *SecretTree) Next(leaf uint32, typ RatchetType) (KeyNonce, error) {
	r, err := st.ratchet(leaf, typ)
	if err != nil {
		return KeyNonce{}, err
	}
	return st.derive(r)
}

// Get returns the key and nonce of the given generation of leaf's ratchet
// for decrypting a received message, and deletes it so that it cannot be
// used again. Generations ahead of the ratchet are reached by ratcheting
// forward (at most MaxForwardDistance steps), retaining the keys of skipped
// generations in the out-of-order window. Past generations are available
// only while retained in the window; otherwise Get fails with
// ErrGenerationConsumed.
func (st *SecretTree) Get(leaf uint32, typ RatchetType, generation uint32) (KeyNonce, error) {
	r, err := st.ratchet(leaf, typ)
	if err != nil {
		return KeyNonce{}, err
	}
	if r.secret == nil || generation < r.next {
		kn, ok := r.skipped[generation]
		if !ok {
			return KeyNonce{}, fmt.Errorf("%w: leaf %d generation %d", ErrGenerationConsumed, leaf, generation)
		}
		delete(r.skipped, generation)
		for i, g := range r.order {
			if g == generation {
				r.order = append(r.order[:i], r.order[i+1:]...)
				break
			}
		}
		return kn, nil
	}
	if generation-r.next > st.maxAhead {
		return KeyNonce{}, fmt.Errorf("%w: leaf %d generation %d, ratchet at %d", ErrGenerationTooFar, leaf, generation, r.next)
	}
	for r.next < generation {
		kn, err := st.derive(r)
		if err != nil {
			return KeyNonce{}, err
		}
		st.retain(r, kn)
	}
	return st.derive(r)
}

// retain stores a skipped generation's key, evicting the oldest beyond the
// window.
func (st *SecretTree) retain(r *hashRatchet, kn KeyNonce) {
	if st.window == 0 {
		clear(kn.Key)
		clear(kn.Nonce)
		return
	}
	if r.skipped == nil {
		r.skipped = make(map[uint32]KeyNonce)
	}
	r.skipped[kn.Generation] = kn
	r.order = append(r.order, kn.Generation)
	for len(r.order) > st.window {
		old := r.order[0]
		r.order = r.order[1:]
		if k, ok := r.skipped[old]; ok {
			clear(k.Key)
			clear(k.Nonce)
			delete(r.skipped, old)
		}
	}
}

// putBack returns an unused key obtained from Get to the ratchet's retained
// keys, so that a message that failed to decrypt does not consume it.
func (st *SecretTree) putBack(leaf uint32, typ RatchetType, kn KeyNonce) {
	r, err := st.ratchet(leaf, typ)
	if err != nil || st.window == 0 {
		return
	}
	if _, ok := r.skipped[kn.Generation]; ok {
		return
	}
	if r.skipped == nil {
		r.skipped = make(map[uint32]KeyNonce)
	}
	r.skipped[kn.Generation] = kn
	// Keep order sorted so that eviction stays oldest-first.
	i := len(r.order)
	for i > 0 && r.order[i-1] > kn.Generation {
		i--
	}
	r.order = append(r.order, 0)
	copy(r.order[i+1:], r.order[i:])
	r.order[i] = kn.Generation
	for len(r.order) > st.window {
		old := r.order[0]
		r.order = r.order[1:]
		if k, ok := r.skipped[old]; ok {
			clear(k.Key)
			clear(k.Nonce)
			delete(r.skipped, old)
		}
	}
}

// senderDataKeyNonce is CipherSuite.SenderDataKeyNonce with the HMAC keyed
// by sender_data_secret cached across messages of the epoch.
func (st *SecretTree) senderDataKeyNonce(senderDataSecret, ciphertext []byte) (key, nonce []byte) {
	if st.sdMAC == nil || !hmac.Equal(st.sdSecret, senderDataSecret) {
		clear(st.sdSecret)
		st.sdSecret = append([]byte(nil), senderDataSecret...)
		st.sdMAC = hmac.New(st.si.newHash, st.sdSecret)
	}
	sample := ciphertext
	nh := st.si.hashSize
	if len(sample) > nh {
		sample = sample[:nh]
	}
	var buf [128]byte
	key = expandKeyed(st.sdMAC, nh, appendKDFLabel(buf[:0], st.si.aeadKey, "key", sample), st.si.aeadKey)
	nonce = expandKeyed(st.sdMAC, nh, appendKDFLabel(buf[:0], st.si.aeadNonce, "nonce", sample), st.si.aeadNonce)
	return key, nonce
}

// marshal writes the tree's complete state for Group.MarshalState: size,
// configuration, the node secrets not yet consumed and, per initialised
// leaf, both ratchets (next generation, current secret unless exhausted,
// and the retained out-of-order keys in eviction order). Deleted secrets
// are not written, so a restored tree cannot recover them either. The cached
// sender-data HMAC is not written; it is rebuilt on first use.
func (st *SecretTree) marshal(w *codec.Writer) {
	w.U32(st.nLeaves)
	w.U32(uint32(int32(st.window)))
	w.U32(st.maxAhead)
	keys := slices.Sorted(maps.Keys(st.nodes))
	w.Vector(func(w *codec.Writer) {
		for _, k := range keys {
			w.U32(k)
			w.Opaque(st.nodes[k])
		}
	})
	leaves := slices.Sorted(maps.Keys(st.leaves))
	w.Vector(func(w *codec.Writer) {
		for _, l := range leaves {
			w.U32(l)
			for _, r := range st.leaves[l].r {
				w.U32(r.next)
				w.Optional(r.secret != nil)
				if r.secret != nil {
					w.Opaque(r.secret)
				}
				w.Vector(func(w *codec.Writer) {
					for _, gen := range r.order {
						kn, ok := r.skipped[gen]
						if !ok {
							continue
						}
						w.U32(gen)
						w.Opaque(kn.Key)
						w.Opaque(kn.Nonce)
					}
				})
			}
		}
	})
}

// unmarshal replaces st with a tree of suite cs read from r (as written by
// marshal). Malformed input, including secrets, keys or nonces of the wrong
// size for the suite, fails r; st must then not be used.
func (st *SecretTree) unmarshal(r *codec.Reader, cs CipherSuite) {
	n := r.U32()
	window := int(int32(r.U32()))
	maxAhead := r.U32()
	if r.Err() != nil {
		return
	}
	if n == 0 || n > maxTreeLeaves {
		r.Failf("secret tree of %d leaves", n)
		return
	}
	// Build through the constructor so that derived fields are set, then
	// replace the secret state.
	fresh, err := NewSecretTree(cs, make([]byte, cs.HashSize()), n, SecretTreeConfig{})
	if err != nil {
		r.Fail(err)
		return
	}
	*st = *fresh
	st.nodes = make(map[uint32][]byte)
	st.leaves = make(map[uint32]*leafRatchets)
	st.window = max(window, 0)
	st.maxAhead = maxAhead
	nh, nk, nn := st.si.hashSize, st.si.aeadKey, st.si.aeadNonce
	r.VectorEach(func(r *codec.Reader) {
		k := r.U32()
		secret := r.Opaque()
		if r.Err() == nil && (k > 2*st.root || len(secret) != nh) {
			r.Failf("secret tree node %d", k)
			return
		}
		st.nodes[k] = secret
	})
	r.VectorEach(func(r *codec.Reader) {
		l := r.U32()
		if l >= n {
			r.Failf("secret tree leaf %d out of range", l)
			return
		}
		lr := &leafRatchets{}
		for i := range lr.r {
			hr := &hashRatchet{next: r.U32()}
			if r.Optional() {
				if hr.secret = r.Opaque(); r.Err() == nil && len(hr.secret) != nh {
					r.Failf("ratchet secret of %d bytes", len(hr.secret))
					return
				}
			}
			r.VectorEach(func(r *codec.Reader) {
				gen := r.U32()
				kn := KeyNonce{Generation: gen, Key: r.Opaque(), Nonce: r.Opaque()}
				if r.Err() != nil {
					return
				}
				if len(kn.Key) != nk || len(kn.Nonce) != nn {
					r.Failf("retained key of generation %d", gen)
					return
				}
				if hr.skipped == nil {
					hr.skipped = make(map[uint32]KeyNonce)
				}
				hr.skipped[gen] = kn
				hr.order = append(hr.order, gen)
			})
			lr.r[i] = hr
		}
		st.leaves[l] = lr
	})
}
