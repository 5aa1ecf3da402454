package hosted

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client/localstore"
)

// An endpoint's state in the server's store (Config.State): the client's
// local store as a KV store (localstore.OpenKV) whose keys are kept under
// "s/", the handled marks under "h/<chat>" and the sent watermark under
// "w", all in parley.HostedStateStore rows of the business. Any node can
// so continue the endpoint: nothing of it is in a node's files but the
// media kept for the API (media/) and temporary files.
//
// Every value is sealed with AES-256-GCM under a key derived from the
// operator's key and a random 16-byte salt drawn each time the endpoint
// opens: SHA-256("parley hosted state" || operator key || salt). A value
// is version byte 1 || salt || 8-byte big-endian counter (the nonce's last
// 8 bytes, so nonces never repeat under one key however many values an
// endpoint writes) || ciphertext and tag; the additional data is the
// business id (8 bytes big-endian) and the key, so a value cannot be moved
// to another key or business.
//
// Commits are grouped: while one is in flight the next ones queue, and the
// queue is then committed as one transaction (later puts and deletes of a
// key replace earlier ones), in queue order. In a cluster each commit is
// fenced by the endpoint's lease (parley.HostedStateCommit): a node that
// lost the lease cannot write the state any more.

const (
	statePrefix   = "s/" // the client store's keys
	handledPrefix = "h/" // handled marks: "h/<chat>" → seq
	watermarkKey  = "w"  // the sent watermark (status.go)
	sealVersion   = 1
	saltLen       = 16
)

// stateKV is a business's state in the store: the client store's KV
// (localstore.QueueKV) and the endpoint's own records.
type stateKV struct {
	st       parley.HostedStateStore
	business parley.UserID
	key      []byte
	fence    func() (lease, holder string) // "" when not fenced
	now      func() time.Time              // for the fence
	salt     [saltLen]byte
	aead     cipher.AEAD

	mu          sync.Mutex
	counter     uint64
	opened      map[[saltLen]byte]cipher.AEAD // keys of other salts, for Load
	queue       []*stateBatch
	busy        bool  // a committer goroutine runs
	broken      error // a queued commit failed: every later one fails until Load
	drained     *sync.Cond
	initial     map[string][]byte // opened values read at open, until forget
	initialUsed bool              // the first Load took initial
}

type stateBatch struct {
	puts map[string][]byte
	dels []string
	done chan error
}

func deriveStateKey(key []byte, salt []byte) (cipher.AEAD, error) {
	h := sha256.New()
	h.Write([]byte("parley hosted state"))
	h.Write(key)
	h.Write(salt)
	block, err := aes.NewCipher(h.Sum(nil))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func newStateKV(st parley.HostedStateStore, business parley.UserID, key []byte, fence func() (string, string), now func() time.Time) (*stateKV, error) {
	s := &stateKV{st: st, business: business, key: key, fence: fence, now: now, opened: map[[saltLen]byte]cipher.AEAD{}}
	_, _ = rand.Read(s.salt[:])
	aead, err := deriveStateKey(key, s.salt[:])
	if err != nil {
		return nil, err
	}
	s.aead = aead
	s.opened[s.salt] = aead
	s.drained = sync.NewCond(&s.mu)
	return s, nil
}

func (s *stateKV) ad(k string) []byte {
	return append(binary.BigEndian.AppendUint64(nil, uint64(s.business)), k...)
}

// seal seals v for key k. The caller holds s.mu (the counter).
func (s *stateKV) seal(k string, v []byte) []byte {
	s.counter++
	out := make([]byte, 0, 1+saltLen+8+len(v)+s.aead.Overhead())
	out = append(out, sealVersion)
	out = append(out, s.salt[:]...)
	out = binary.BigEndian.AppendUint64(out, s.counter)
	nonce := make([]byte, 12)
	binary.BigEndian.PutUint64(nonce[4:], s.counter)
	return s.aead.Seal(out, nonce, v, s.ad(k))
}

// open opens the value of key k.
func (s *stateKV) open(k string, v []byte) ([]byte, error) {
	if len(v) < 1+saltLen+8 || v[0] != sealVersion {
		return nil, fmt.Errorf("hosted state %q: not a sealed value", k)
	}
	var salt [saltLen]byte
	copy(salt[:], v[1:])
	s.mu.Lock()
	aead, ok := s.opened[salt]
	s.mu.Unlock()
	if !ok {
		var err error
		if aead, err = deriveStateKey(s.key, salt[:]); err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.opened[salt] = aead
		s.mu.Unlock()
	}
	nonce := make([]byte, 12)
	copy(nonce[4:], v[1+saltLen:1+saltLen+8])
	plain, err := aead.Open(nil, nonce, v[1+saltLen+8:], s.ad(k))
	if err != nil {
		return nil, fmt.Errorf("hosted state %q: wrong operator key or damaged value", k)
	}
	return plain, nil
}

// read reads and opens every value of the business, and keeps them for
// the endpoint's start (until forget).
func (s *stateKV) read(ctx context.Context) error {
	all, err := s.loadAll(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.initial = all
	s.mu.Unlock()
	return nil
}

// forget drops what read kept.
func (s *stateKV) forget() {
	s.mu.Lock()
	s.initial = nil
	s.mu.Unlock()
}

// snapshot returns what read kept, or reads the store.
func (s *stateKV) snapshot(ctx context.Context) (map[string][]byte, error) {
	s.mu.Lock()
	all := s.initial
	s.mu.Unlock()
	if all != nil {
		return all, nil
	}
	return s.loadAll(ctx)
}

// loadAll reads and opens every value of the business.
func (s *stateKV) loadAll(ctx context.Context) (map[string][]byte, error) {
	rows, err := s.st.HostedState(ctx, s.business)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(rows))
	for k, v := range rows {
		plain, err := s.open(k, v)
		if err != nil {
			return nil, err
		}
		out[k] = plain
	}
	return out, nil
}

// Load returns the client store's keys (localstore.KV). It waits for the
// queued commits and clears a failure: what it returns is what is durable.
func (s *stateKV) Load(ctx context.Context) (map[string][]byte, error) {
	s.mu.Lock()
	for s.busy {
		s.drained.Wait()
	}
	s.broken = nil
	var all map[string][]byte
	if !s.initialUsed {
		all, s.initialUsed = s.initial, true // the first Load, at open
	}
	s.mu.Unlock()
	var err error
	if all == nil {
		all, err = s.loadAll(ctx)
	}
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for k, v := range all {
		if rest, ok := strings.CutPrefix(k, statePrefix); ok {
			out[rest] = v
		}
	}
	return out, nil
}

// Commit commits the client store's puts and deletes (localstore.KV).
func (s *stateKV) Commit(_ context.Context, puts map[string][]byte, deletes []string) error {
	return s.Queue(puts, deletes)()
}

// Queue queues a commit of the client store's keys (localstore.QueueKV).
func (s *stateKV) Queue(puts map[string][]byte, deletes []string) func() error {
	p := make(map[string][]byte, len(puts))
	for k, v := range puts {
		p[statePrefix+k] = v
	}
	d := make([]string, len(deletes))
	for i, k := range deletes {
		d[i] = statePrefix + k
	}
	return s.queueRaw(p, d)
}

// queueRaw queues puts (sealed here) and deletes of full keys.
func (s *stateKV) queueRaw(puts map[string][]byte, deletes []string) func() error {
	b := &stateBatch{puts: make(map[string][]byte, len(puts)), dels: deletes, done: make(chan error, 1)}
	s.mu.Lock()
	for k, v := range puts {
		b.puts[k] = s.seal(k, v)
	}
	if s.broken != nil {
		err := s.broken
		s.mu.Unlock()
		b.done <- err
	} else {
		s.queue = append(s.queue, b)
		if !s.busy {
			s.busy = true
			go s.commitLoop()
		}
		s.mu.Unlock()
	}
	return func() error { return <-b.done }
}

// commitLoop commits the queue, all of it at a time, until it is empty.
func (s *stateKV) commitLoop() {
	for {
		s.mu.Lock()
		batch := s.queue
		s.queue = nil
		broken := s.broken
		if len(batch) == 0 {
			s.busy = false
			s.drained.Broadcast()
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		err := broken
		if err == nil {
			c := parley.HostedStateCommit{Business: s.business, Puts: map[string][]byte{}}
			dels := map[string]bool{}
			for _, b := range batch {
				for _, k := range b.dels {
					delete(c.Puts, k)
					dels[k] = true
				}
				for k, v := range b.puts {
					delete(dels, k)
					c.Puts[k] = v
				}
			}
			for k := range dels {
				c.Deletes = append(c.Deletes, k)
			}
			if s.fence != nil {
				c.Lease, c.Holder = s.fence()
				if c.Lease != "" {
					c.Now = s.now()
				}
			}
			// The commit is not the caller's to cancel: a half-queued
			// batch cannot be taken back.
			err = s.st.CommitHostedState(context.Background(), c)
			if err != nil {
				s.mu.Lock()
				if s.broken == nil {
					s.broken = err
				}
				s.mu.Unlock()
			}
		}
		for _, b := range batch {
			b.done <- err
		}
	}
}

// drain waits until no queued commit is left.
func (s *stateKV) drain() {
	s.mu.Lock()
	for s.busy {
		s.drained.Wait()
	}
	s.mu.Unlock()
}

// Close does nothing: the state stays in the store.
func (s *stateKV) Close() error { return nil }

var _ localstore.QueueKV = (*stateKV)(nil)

// The endpoint's own records (endpointRecords) in the store.

func (s *stateKV) loadHandled() (map[parley.ConversationID]parley.Seq, error) {
	all, err := s.snapshot(context.Background())
	if err != nil {
		return nil, err
	}
	out := map[parley.ConversationID]parley.Seq{}
	for k, v := range all {
		if conv, ok := strings.CutPrefix(k, handledPrefix); ok {
			n, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("handled mark of %s: %w", conv, err)
			}
			out[parley.ConversationID(conv)] = parley.Seq(n)
		}
	}
	return out, nil
}

func (s *stateKV) markHandled(conv parley.ConversationID, seq parley.Seq) error {
	return s.queueRaw(map[string][]byte{handledPrefix + string(conv): []byte(strconv.FormatInt(int64(seq), 10))}, nil)()
}

func (s *stateKV) saveHandled(marks map[parley.ConversationID]parley.Seq) error {
	puts := make(map[string][]byte, len(marks))
	for conv, seq := range marks {
		puts[handledPrefix+string(conv)] = []byte(strconv.FormatInt(int64(seq), 10))
	}
	if len(puts) == 0 {
		return nil
	}
	return s.queueRaw(puts, nil)()
}

func (s *stateKV) readWatermark() ([]byte, bool, error) {
	all, err := s.snapshot(context.Background())
	if err != nil {
		return nil, false, err
	}
	v, ok := all[watermarkKey]
	return v, ok, nil
}

func (s *stateKV) writeWatermark(v []byte) error {
	return s.queueRaw(map[string][]byte{watermarkKey: v}, nil)()
}

// hasAccount reports whether what read kept holds a client store (its
// account key).
func (s *stateKV) hasAccount() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.initial[statePrefix+"a"]
	return ok
}

// SealStateValue seals v as the value of key k of business's state in the
// store, under the operator's key: for tests and repair tools that put a
// record in place (e.g. rewind the sent watermark, key "w", whose value is
// an RFC 3339 time and a newline).
func SealStateValue(operatorKey []byte, business parley.UserID, k string, v []byte) ([]byte, error) {
	s, err := newStateKV(nil, business, operatorKey, nil, nil)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seal(k, v), nil
}
