package localstore

import (
	"cmp"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/content"
)

// KV is a small durable key-value store the KV local store keeps its state
// in: the browser's IndexedDB (web/wasm), or MemKV in tests.
//
// Load returns every key and value. Commit applies puts and deletes
// atomically: after a crash either all of them are visible to the next Load
// or none is.
type KV interface {
	Load(ctx context.Context) (map[string][]byte, error)
	Commit(ctx context.Context, puts map[string][]byte, deletes []string) error
	Close() error
}

// MemKV is a KV held in memory: it survives closing and reopening a store
// over it (the same *MemKV), not the process. For tests and tools.
type MemKV struct {
	mu      sync.Mutex
	data    map[string][]byte
	commits int
	// FailCommit, when set, makes Commit fail with it (and change nothing).
	FailCommit error
}

// NewMemKV returns an empty MemKV.
func NewMemKV() *MemKV { return &MemKV{data: map[string][]byte{}} }

// Load returns a copy of the contents.
func (m *MemKV) Load(context.Context) (map[string][]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string][]byte, len(m.data))
	for k, v := range m.data {
		out[k] = slices.Clone(v)
	}
	return out, nil
}

// Commit applies puts and deletes atomically.
func (m *MemKV) Commit(_ context.Context, puts map[string][]byte, deletes []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.FailCommit != nil {
		return m.FailCommit
	}
	for _, k := range deletes {
		delete(m.data, k)
	}
	for k, v := range puts {
		m.data[k] = slices.Clone(v)
	}
	m.commits++
	return nil
}

// Commits returns how many commits succeeded.
func (m *MemKV) Commits() int { m.mu.Lock(); defer m.mu.Unlock(); return m.commits }

// Close does nothing: the contents stay for the next store.
func (m *MemKV) Close() error { return nil }

// The KV store's keys. Every record is stored whole, as JSON (the MLS group
// state as raw bytes), under a key naming it:
//
//	a                            the account
//	k/<hex ref>                  a KeyPackage secret
//	c/<conv>                     a chat (Chat)
//	g/<conv>                     a chat's MLS group state
//	m/<conv>/<device>/<client>   a message (content.MessageRecord)
//	u/<user>                     a contact (Contact)
//	x/<conv>/<device>/<client>   a message's reply, mentions and poll (content.Ext)
//	e/<conv>/<seq>               a message's edit and deletion (kvChange)
//	r/<conv>/<seq>               a message's reactions (map user → kvMark)
//	v/<conv>/<seq>               a poll's votes (map user → kvMark)
//	t/<conv>                     a chat's disappearing-messages timer (ms)
const (
	kvAccount = "a"
)

func kvMsgKey(conv parley.ConversationID, dev parley.DeviceID, client parley.ClientMessageID) string {
	return "m/" + string(conv) + "/" + strconv.FormatInt(int64(dev), 10) + "/" + string(client)
}

func kvExtKey(conv parley.ConversationID, dev parley.DeviceID, client parley.ClientMessageID) string {
	return "x/" + kvMsgKey(conv, dev, client)[2:]
}

func kvSeqKey(prefix string, conv parley.ConversationID, seq parley.Seq) string {
	return prefix + "/" + string(conv) + "/" + strconv.FormatInt(int64(seq), 10)
}

// kvChange is what edits and deletions recorded about a message.
type kvChange struct {
	EditedAt     int64 `json:"edited_at,omitempty"` // ms
	EditSeq      int64 `json:"edit_seq,omitempty"`
	DeletedBy    int64 `json:"deleted_by,omitempty"`
	DeletedAdmin bool  `json:"deleted_admin,omitempty"`
}

// kvMark is one user's reaction or vote, with the seq of the control
// message that set it (later ones win).
type kvMark struct {
	Emoji   string `json:"emoji,omitempty"`
	Choices []int  `json:"choices,omitempty"`
	AtSeq   int64  `json:"at"`
}

// kvConv is everything the store holds about one conversation.
type kvConv struct {
	id    parley.ConversationID
	chat  *Chat  // nil: no chat (messages may still exist)
	group []byte // nil: no MLS state

	msgs map[string]*content.MessageRecord // by key
	// lazy holds messages loaded but not decoded yet, by key: decoding
	// every message of every chat on open costs seconds in the browser,
	// while the chat list needs only their statuses and the last one. A
	// message is in msgs or in lazy, never both; every method that looks
	// at a chat's messages beyond that calls decodeAll first.
	lazy     map[string]lazyMsg
	lazySeq  map[parley.Seq]string // keys of lazy messages by seq
	bySeq    map[parley.Seq]*content.MessageRecord
	order    []*content.MessageRecord // by (seq = 0, seq, stored at); valid unless dirty
	dirty    bool
	seqs     []parley.Seq // every seq of the chat's messages, decoded or not, ascending; valid if seqsOK
	seqsOK   bool
	search   *kvSearchIndex         // search.go; nil until a search needs it, dropped when messages change
	exts     map[string]content.Ext // by message key
	changes  map[parley.Seq]kvChange
	reacts   map[parley.Seq]map[parley.UserID]kvMark
	votes    map[parley.Seq]map[parley.UserID]kvMark
	timerTTL time.Duration
	// autoReplies: when this device last sent each business auto reply
	// ("greeting", "away", "last_in"), Unix milliseconds.
	autoReplies map[string]int64
	tools       kvTools // stars, receipts and marks (kv_tools.go)
}

func newKVConv(id parley.ConversationID) *kvConv {
	return &kvConv{id: id, msgs: map[string]*content.MessageRecord{}, bySeq: map[parley.Seq]*content.MessageRecord{}, lazy: map[string]lazyMsg{}, lazySeq: map[parley.Seq]string{},
		exts: map[string]content.Ext{}, changes: map[parley.Seq]kvChange{},
		reacts: map[parley.Seq]map[parley.UserID]kvMark{}, votes: map[parley.Seq]map[parley.UserID]kvMark{}}
}

func msgLess(a, b *content.MessageRecord) int {
	if (a.Seq == 0) != (b.Seq == 0) {
		if a.Seq == 0 {
			return 1
		}
		return -1
	}
	if c := cmp.Compare(a.Seq, b.Seq); c != 0 {
		return c
	}
	return a.StoredAt.Compare(b.StoredAt)
}

// lazyMsg is a stored message not decoded yet, with what the chat list
// needs of it.
type lazyMsg struct {
	raw    []byte
	seq    parley.Seq
	status content.Status
}

// lazyIndex is the part of a stored content.MessageRecord decoded on load.
type lazyIndex struct {
	Seq    parley.Seq
	Status content.Status
}

// promote decodes one lazy message into msgs.
func (cv *kvConv) promote(key string) error {
	l, ok := cv.lazy[key]
	if !ok {
		return nil
	}
	m := new(content.MessageRecord)
	if err := json.Unmarshal(l.raw, m); err != nil {
		return fmt.Errorf("decode %s: %w", key, err)
	}
	delete(cv.lazy, key)
	if cv.lazySeq[l.seq] == key {
		delete(cv.lazySeq, l.seq)
	}
	cv.msgs[key] = m
	if m.Seq > 0 {
		cv.bySeq[m.Seq] = m
	}
	cv.dirty = true
	return nil
}

// atSeq returns the message with sequence number seq (nil if none),
// decoding it if needed.
func (cv *kvConv) atSeq(seq parley.Seq) (*content.MessageRecord, error) {
	if m := cv.bySeq[seq]; m != nil || seq <= 0 {
		return m, nil
	}
	if k, ok := cv.lazySeq[seq]; ok {
		if err := cv.promote(k); err != nil {
			return nil, err
		}
	}
	return cv.bySeq[seq], nil
}

// lastN returns the last limit messages in order (all when limit <= 0),
// decoding only those when it can.
func (cv *kvConv) lastN(limit int) ([]*content.MessageRecord, error) {
	lazyPending := false
	for _, l := range cv.lazy {
		lazyPending = lazyPending || l.seq <= 0
	}
	if limit > 0 && len(cv.lazy) > 0 && !lazyPending {
		// Pending messages (seq 0) are newest and all decoded; then the
		// highest seqs, decoded or not.
		var pend []*content.MessageRecord
		for _, m := range cv.msgs {
			if m.Seq <= 0 {
				pend = append(pend, m)
			}
		}
		slices.SortStableFunc(pend, msgLess)
		if len(pend) >= limit {
			return pend[len(pend)-limit:], nil
		}
		if !cv.seqsOK {
			cv.seqs = cv.seqs[:0]
			for seq := range cv.bySeq {
				cv.seqs = append(cv.seqs, seq)
			}
			for seq := range cv.lazySeq {
				cv.seqs = append(cv.seqs, seq)
			}
			slices.Sort(cv.seqs)
			cv.seqsOK = true
		}
		seqs := cv.seqs[max(0, len(cv.seqs)-(limit-len(pend))):]
		out := make([]*content.MessageRecord, 0, len(seqs)+len(pend))
		for _, seq := range seqs {
			m, err := cv.atSeq(seq)
			if err != nil {
				return nil, err
			}
			if m != nil {
				out = append(out, m)
			}
		}
		return append(out, pend...), nil
	}
	if err := cv.decodeAll(); err != nil {
		return nil, err
	}
	order := cv.sorted()
	if limit > 0 && len(order) > limit {
		order = order[len(order)-limit:]
	}
	return order, nil
}

// decodeAll decodes the conversation's lazy messages.
func (cv *kvConv) decodeAll() error {
	for key := range cv.lazy {
		if err := cv.promote(key); err != nil {
			return err
		}
	}
	return nil
}

// sorted returns the conversation's messages in order. The caller has
// called decodeAll.
func (cv *kvConv) sorted() []*content.MessageRecord {
	if cv.dirty {
		cv.order = slices.Collect(maps.Values(cv.msgs))
		slices.SortStableFunc(cv.order, msgLess)
		cv.dirty = false
	}
	return cv.order
}

// add indexes a message new to the conversation.
func (cv *kvConv) add(key string, m *content.MessageRecord) {
	cv.msgs[key] = m
	cv.search = nil
	if m.Seq > 0 {
		cv.bySeq[m.Seq] = m
	}
	if m.Seq > 0 {
		if cv.seqsOK && (len(cv.seqs) == 0 || cv.seqs[len(cv.seqs)-1] < m.Seq) {
			cv.seqs = append(cv.seqs, m.Seq)
		} else {
			cv.seqsOK, cv.search = false, nil
		}
	}
	if !cv.dirty && len(cv.lazy) == 0 && (len(cv.order) == 0 || msgLess(cv.order[len(cv.order)-1], m) <= 0) {
		cv.order = append(cv.order, m)
	} else {
		cv.dirty = true
	}
}

// kvStore is the Store over a KV: the whole state lives in memory, and
// every change commits the keys it touched in one KV transaction before it
// returns. If a commit fails, the memory is reloaded from the KV, so it
// never runs ahead of what is durable.
type kvStore struct {
	kv    KV
	mu    sync.Mutex
	acct  *Account
	kps   map[string]KeyPackageSecret // by hex ref
	convs map[parley.ConversationID]*kvConv
	users map[parley.UserID]Contact
	lists map[string]BroadcastList     // broadcast lists by id
	stat  kvStatus                     // kv_status.go
	calls map[parley.CallID]CallRecord // the call log (kv_calls.go)
	now   func() time.Time
}

// OpenKV loads a local store kept in kv. It supports everything the
// SQLite store does (message kinds, chat flags, search).
func OpenKV(ctx context.Context, kv KV) (Store, error) {
	s := &kvStore{kv: kv, now: time.Now}
	if err := s.load(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *kvStore) conv(id parley.ConversationID) *kvConv {
	cv := s.convs[id]
	if cv == nil {
		cv = newKVConv(id)
		s.convs[id] = cv
	}
	return cv
}

// load replaces the memory with the KV's contents.
func (s *kvStore) load(ctx context.Context) error {
	data, err := s.kv.Load(ctx)
	if err != nil {
		return fmt.Errorf("load local store: %w", err)
	}
	s.acct, s.kps, s.convs, s.users = nil, map[string]KeyPackageSecret{}, map[parley.ConversationID]*kvConv{}, map[parley.UserID]Contact{}
	s.lists, s.calls = map[string]BroadcastList{}, map[parley.CallID]CallRecord{}
	s.stat = newKVStatus()
	for k, v := range data {
		if err := s.loadKey(k, v); err != nil {
			return fmt.Errorf("load local store: key %q: %w", k, err)
		}
	}
	for _, cv := range s.convs {
		cv.dirty = true
		cv.seqsOK, cv.search = false, nil
	}
	return nil
}

func (s *kvStore) loadKey(k string, v []byte) error {
	if k == kvAccount {
		s.acct = new(Account)
		return json.Unmarshal(v, s.acct)
	}
	kind, rest, ok := strings.Cut(k, "/")
	if !ok {
		return nil // unknown: kept in the KV, ignored
	}
	convOf := func() (*kvConv, string) {
		id, tail, _ := strings.Cut(rest, "/")
		return s.conv(parley.ConversationID(id)), tail
	}
	seqOf := func(tail string) (parley.Seq, error) {
		n, err := strconv.ParseInt(tail, 10, 64)
		return parley.Seq(n), err
	}
	switch kind {
	case "k":
		var kp KeyPackageSecret
		if err := json.Unmarshal(v, &kp); err != nil {
			return err
		}
		s.kps[rest] = kp
	case "c":
		cv, _ := convOf()
		cv.chat = new(Chat)
		return json.Unmarshal(v, cv.chat)
	case "g":
		cv, _ := convOf()
		cv.group = slices.Clone(v)
	case "m":
		cv, _ := convOf()
		var ix lazyIndex
		if err := json.Unmarshal(v, &ix); err != nil {
			return err
		}
		cv.lazy[k] = lazyMsg{raw: v, seq: ix.Seq, status: ix.Status}
		if ix.Seq > 0 {
			cv.lazySeq[ix.Seq] = k
		}
	case "u":
		var c Contact
		if err := json.Unmarshal(v, &c); err != nil {
			return err
		}
		s.users[c.User] = c
	case "call":
		return s.loadCall(v)
	case "l":
		var l BroadcastList
		if err := json.Unmarshal(v, &l); err != nil {
			return err
		}
		s.lists[l.ID] = l
	case "b":
		cv, what := convOf()
		var at int64
		if err := json.Unmarshal(v, &at); err != nil {
			return err
		}
		if cv.autoReplies == nil {
			cv.autoReplies = map[string]int64{}
		}
		cv.autoReplies[what] = at
	case "x":
		cv, _ := convOf()
		var e content.Ext
		if err := json.Unmarshal(v, &e); err != nil {
			return err
		}
		cv.exts["m/"+rest] = e
	case "e", "r", "v":
		cv, tail := convOf()
		seq, err := seqOf(tail)
		if err != nil {
			return err
		}
		switch kind {
		case "e":
			var ch kvChange
			if err := json.Unmarshal(v, &ch); err != nil {
				return err
			}
			cv.changes[seq] = ch
		case "r", "v":
			marks := map[parley.UserID]kvMark{}
			if err := json.Unmarshal(v, &marks); err != nil {
				return err
			}
			if kind == "r" {
				cv.reacts[seq] = marks
			} else {
				cv.votes[seq] = marks
			}
		}
	case "s", "q", "n":
		cv, tail := convOf()
		return cv.tools.load(kind, tail, v)
	case kvStatusPrefix:
		return s.stat.load(rest, v)
	case "t":
		cv, _ := convOf()
		var ms int64
		if err := json.Unmarshal(v, &ms); err != nil {
			return err
		}
		cv.timerTTL = time.Duration(ms) * time.Millisecond
	}
	return nil
}

// kvTx collects one step's changed keys.
type kvTx struct {
	puts map[string][]byte
	dels map[string]bool
	err  error
}

func newKVTx() *kvTx { return &kvTx{puts: map[string][]byte{}, dels: map[string]bool{}} }

func (tx *kvTx) put(key string, v any) {
	var b []byte
	if raw, ok := v.([]byte); ok {
		b = raw
	} else {
		var err error
		if b, err = json.Marshal(v); err != nil && tx.err == nil {
			tx.err = fmt.Errorf("encode %s: %w", key, err)
		}
	}
	delete(tx.dels, key)
	tx.puts[key] = b
}

func (tx *kvTx) del(key string) {
	delete(tx.puts, key)
	tx.dels[key] = true
}

// commit writes tx; on failure it restores the memory from the KV. The
// caller holds s.mu.
func (s *kvStore) commit(ctx context.Context, tx *kvTx) error {
	err := tx.err
	if err == nil && (len(tx.puts) > 0 || len(tx.dels) > 0) {
		err = s.kv.Commit(ctx, tx.puts, slices.Sorted(maps.Keys(tx.dels)))
	}
	if err != nil {
		if lerr := s.load(context.WithoutCancel(ctx)); lerr != nil {
			return fmt.Errorf("commit local store: %w (and reloading failed: %v)", err, lerr)
		}
		return fmt.Errorf("commit local store: %w", err)
	}
	return nil
}

func (s *kvStore) Close() error { return s.kv.Close() }

func (s *kvStore) Account(ctx context.Context) (Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.acct == nil {
		return Account{}, notFound("account")
	}
	return *s.acct, nil
}

func (s *kvStore) PutAccount(ctx context.Context, a Account) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.acct = &a
	tx := newKVTx()
	tx.put(kvAccount, a)
	return s.commit(ctx, tx)
}

func (s *kvStore) PutKeyPackages(ctx context.Context, kps []KeyPackageSecret) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := newKVTx()
	for _, kp := range kps {
		h := hex.EncodeToString(kp.Ref)
		s.kps[h] = kp
		tx.put("k/"+h, kp)
	}
	return s.commit(ctx, tx)
}

func (s *kvStore) KeyPackages(ctx context.Context) ([]KeyPackageSecret, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []KeyPackageSecret
	for _, h := range slices.Sorted(maps.Keys(s.kps)) {
		out = append(out, s.kps[h])
	}
	return out, nil
}

// ms truncates t to milliseconds, the precision the SQLite store keeps.
func ms(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.UnixMilli(t.UnixMilli())
}

func (s *kvStore) Apply(ctx context.Context, a Applied) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := newKVTx()
	if err := s.apply(tx, a); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// apply adds a's changes to tx and to the memory. The caller holds s.mu.
func (s *kvStore) apply(tx *kvTx, a Applied) error {
	now := ms(s.now())
	cv := s.conv(a.Conversation)
	if a.Chat != nil {
		ch := *a.Chat
		ch.ID = a.Conversation
		if old := cv.chat; old != nil {
			if ch.Title == "" {
				ch.Title = old.Title
			}
			ch.Cursor, ch.Epoch, ch.UpdatedAt = old.Cursor, old.Epoch, old.UpdatedAt
			ch.Muted, ch.Pinned, ch.Archived = old.Muted, old.Pinned, old.Archived
		} else {
			ch.Cursor, ch.Epoch, ch.UpdatedAt = 0, 0, now
			ch.Muted, ch.Pinned, ch.Archived = false, false, false
		}
		ch.Unread, ch.LastText = 0, ""
		cv.chat = &ch
	}
	if a.Group != nil {
		if cv.chat == nil {
			cv.chat = &Chat{ID: a.Conversation, Kind: parley.KindDirect, UpdatedAt: now}
		}
		cv.group = slices.Clone(a.Group)
		cv.chat.Epoch = a.Epoch
		tx.put("g/"+string(a.Conversation), cv.group)
	}
	if a.Seq != 0 && cv.chat != nil && a.Seq > cv.chat.Cursor {
		cv.chat.Cursor = a.Seq
	}
	if m := a.Message; m != nil {
		key := kvMsgKey(m.Conversation, m.SenderDevice, m.ClientID)
		cv := s.conv(m.Conversation)
		if err := cv.promote(key); err != nil {
			return err
		}
		if old := cv.msgs[key]; old != nil {
			if m.Seq != 0 && m.Seq != old.Seq {
				delete(cv.bySeq, old.Seq)
				old.Seq = m.Seq
				cv.bySeq[old.Seq] = old
				cv.dirty = true
				cv.seqsOK, cv.search = false, nil
			}
			if old.Status == content.StatusPending {
				old.Status = m.Status
			}
			old.Payload, old.Epoch = slices.Clone(m.Payload), m.Epoch
			tx.put(key, old)
		} else {
			rec := *m
			rec.SentAt, rec.StoredAt = ms(rec.SentAt), ms(rec.StoredAt)
			rec.Payload = slices.Clone(m.Payload)
			cv.add(key, &rec)
			tx.put(key, &rec)
		}
		if ch := s.convs[a.Conversation].chat; ch != nil {
			ch.UpdatedAt = now
		}
	}
	if cv.chat != nil && (a.Chat != nil || a.Group != nil || a.Seq != 0 || a.Message != nil) {
		tx.put("c/"+string(a.Conversation), cv.chat)
	}
	if a.UsedKeyPackage != nil {
		h := hex.EncodeToString(a.UsedKeyPackage)
		if kp, ok := s.kps[h]; ok && !kp.LastResort {
			delete(s.kps, h)
			tx.del("k/" + h)
		}
	}
	return nil
}

func (s *kvStore) Group(ctx context.Context, id parley.ConversationID) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.convs[id]
	if cv == nil || cv.chat == nil || cv.group == nil {
		return nil, notFound("group " + string(id))
	}
	return slices.Clone(cv.group), nil
}

func (s *kvStore) DeleteGroup(ctx context.Context, id parley.ConversationID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.convs[id]
	if cv == nil || cv.group == nil {
		return nil
	}
	cv.group = nil
	tx := newKVTx()
	tx.del("g/" + string(id))
	return s.commit(ctx, tx)
}

// chatView returns a copy of cv's chat with its unread count and last
// text, decoding no more messages than it needs.
func (cv *kvConv) chatView() (Chat, error) {
	ch := *cv.chat
	ch.Unread, ch.LastText = 0, ""
	var last *content.MessageRecord
	for _, m := range cv.msgs {
		if m.Status == content.StatusReceived {
			ch.Unread++
		}
		if m.Seq > 0 && (last == nil || m.Seq > last.Seq) {
			last = m
		}
	}
	lastKey, lastSeq := "", parley.Seq(0)
	for k, l := range cv.lazy {
		if l.status == content.StatusReceived {
			ch.Unread++
		}
		if l.seq > lastSeq {
			lastKey, lastSeq = k, l.seq
		}
	}
	if lastKey != "" && (last == nil || lastSeq > last.Seq) {
		if err := cv.promote(lastKey); err != nil {
			return ch, err
		}
		last = cv.msgs[lastKey]
	}
	if last == nil && (len(cv.msgs) > 0 || len(cv.lazy) > 0) {
		// Only pending ones: the latest stored.
		if err := cv.decodeAll(); err != nil {
			return ch, err
		}
		for _, m := range cv.sorted() {
			if last == nil || !m.StoredAt.Before(last.StoredAt) {
				last = m
			}
		}
	}
	if last != nil {
		ch.LastText = last.Text
		if last.Media != nil {
			ch.LastText = strings.TrimSpace("[" + last.Kind + "] " + last.Text)
		}
	}
	return ch, nil
}

func (s *kvStore) Chat(ctx context.Context, id parley.ConversationID) (Chat, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.convs[id]
	if cv == nil || cv.chat == nil {
		return Chat{}, notFound("chat " + string(id))
	}
	return cv.chatView()
}

func (s *kvStore) Chats(ctx context.Context) ([]Chat, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Chat
	for _, cv := range s.convs {
		if cv.chat != nil {
			ch, err := cv.chatView()
			if err != nil {
				return nil, err
			}
			out = append(out, ch)
		}
	}
	slices.SortFunc(out, func(a, b Chat) int {
		if c := b.UpdatedAt.Compare(a.UpdatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

func copyMsg(m *content.MessageRecord) content.MessageRecord {
	out := *m
	out.Payload = slices.Clone(m.Payload)
	if m.Media != nil {
		d := *m.Media
		out.Media = &d
	}
	return out
}

func (s *kvStore) Message(ctx context.Context, id parley.ConversationID, seq parley.Seq) (content.MessageRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cv := s.convs[id]; cv != nil && seq > 0 {
		m, err := cv.atSeq(seq)
		if err != nil {
			return content.MessageRecord{}, err
		}
		if m != nil {
			return copyMsg(m), nil
		}
	}
	return content.MessageRecord{}, parley.Errorf(parley.CodeNotFound, ReasonNoMessage, "no message %s:%d on this device", id, seq)
}

func (s *kvStore) Messages(ctx context.Context, id parley.ConversationID, limit int) ([]content.MessageRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.convs[id]
	if cv == nil {
		return nil, nil
	}
	order, err := cv.lastN(limit)
	if err != nil {
		return nil, err
	}
	out := make([]content.MessageRecord, len(order))
	for i, m := range order {
		out[i] = copyMsg(m)
	}
	return out, nil
}

func (s *kvStore) PendingMessages(ctx context.Context) ([]content.MessageRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []content.MessageRecord
	for _, cv := range s.convs {
		for k, l := range cv.lazy {
			if l.status == content.StatusPending {
				if err := cv.promote(k); err != nil {
					return nil, err
				}
			}
		}
		for _, m := range cv.msgs {
			if m.Status == content.StatusPending {
				out = append(out, copyMsg(m))
			}
		}
	}
	slices.SortStableFunc(out, func(a, b content.MessageRecord) int { return a.StoredAt.Compare(b.StoredAt) })
	return out, nil
}

func (s *kvStore) MarkSent(ctx context.Context, id parley.ConversationID, client parley.ClientMessageID, seq parley.Seq) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := newKVTx()
	if err := s.markSent(tx, id, client, seq); err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// markSent adds MarkSent's changes to tx and to the memory. The caller
// holds s.mu.
func (s *kvStore) markSent(tx *kvTx, id parley.ConversationID, client parley.ClientMessageID, seq parley.Seq) error {
	cv := s.convs[id]
	if cv == nil {
		return nil
	}
	if err := cv.decodeAll(); err != nil {
		return err
	}
	for key, m := range cv.msgs {
		if m.ClientID != client || !m.Outgoing {
			continue
		}
		cv.setSent(tx, key, m, seq)
	}
	return nil
}

// setSent records that the outgoing message m (under key) was accepted at
// seq.
func (cv *kvConv) setSent(tx *kvTx, key string, m *content.MessageRecord, seq parley.Seq) {
	if m.Seq != seq {
		if m.Seq > 0 && cv.bySeq[m.Seq] == m {
			delete(cv.bySeq, m.Seq)
		}
		m.Seq = seq
		if seq > 0 {
			cv.bySeq[seq] = m
		}
		cv.dirty = true
		cv.seqsOK, cv.search = false, nil
	}
	m.Payload = nil
	if m.Status == content.StatusPending {
		m.Status = content.StatusSent
	}
	tx.put(key, m)
}

func (s *kvStore) RaiseStatus(ctx context.Context, id parley.ConversationID, upto parley.Seq, status content.Status) ([]content.MessageRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.convs[id]
	if cv == nil {
		return nil, nil
	}
	if err := cv.decodeAll(); err != nil {
		return nil, err
	}
	tx := newKVTx()
	var changed []content.MessageRecord
	for key, m := range cv.msgs {
		if !m.Outgoing || m.Seq <= 0 || m.Seq > upto {
			continue
		}
		if m.Status != content.StatusSent && !(status == content.StatusRead && m.Status == content.StatusDelivered) {
			continue
		}
		m.Status = status
		tx.put(key, m)
		changed = append(changed, copyMsg(m))
	}
	slices.SortFunc(changed, func(a, b content.MessageRecord) int { return cmp.Compare(a.Seq, b.Seq) })
	if err := s.commit(ctx, tx); err != nil {
		return nil, err
	}
	return changed, nil
}

func (s *kvStore) MarkRead(ctx context.Context, id parley.ConversationID, upto parley.Seq) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.convs[id]
	if cv == nil {
		return nil
	}
	for k, l := range cv.lazy {
		// Only incoming messages are ever "received".
		if l.status == content.StatusReceived && l.seq <= upto {
			if err := cv.promote(k); err != nil {
				return err
			}
		}
	}
	tx := newKVTx()
	for key, m := range cv.msgs {
		if !m.Outgoing && m.Seq <= upto && m.Status == content.StatusReceived {
			m.Status = content.StatusRead
			tx.put(key, m)
		}
	}
	return s.commit(ctx, tx)
}

func (s *kvStore) PutContact(ctx context.Context, c Contact) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[c.User] = c
	tx := newKVTx()
	tx.put("u/"+strconv.FormatInt(int64(c.User), 10), c)
	return s.commit(ctx, tx)
}

func (s *kvStore) Contact(ctx context.Context, user parley.UserID) (Contact, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.users[user]
	if !ok {
		return Contact{}, notFound("contact " + user.String())
	}
	return c, nil
}

func (s *kvStore) Contacts(ctx context.Context) ([]Contact, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Contact
	for _, u := range slices.Sorted(maps.Keys(s.users)) {
		out = append(out, s.users[u])
	}
	return out, nil
}

// ---- message kinds ----

func (s *kvStore) PutExtras(ctx context.Context, conv parley.ConversationID, device parley.DeviceID, client parley.ClientMessageID, ext content.Ext) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := newKVTx()
	s.putExtras(tx, conv, device, client, ext)
	return s.commit(ctx, tx)
}

// putExtras adds PutExtras's change to tx and to the memory. The caller
// holds s.mu.
func (s *kvStore) putExtras(tx *kvTx, conv parley.ConversationID, device parley.DeviceID, client parley.ClientMessageID, ext content.Ext) {
	cv := s.conv(conv)
	key := kvMsgKey(conv, device, client)
	if _, ok := cv.exts[key]; ok {
		return
	}
	cv.exts[key] = ext
	tx.put(kvExtKey(conv, device, client), ext)
}

// mark sets (or with clear, deletes) user's mark in marks[target] as of
// seq, later seqs winning; it reports whether anything changed.
func setMark(all map[parley.Seq]map[parley.UserID]kvMark, target parley.Seq, user parley.UserID, m kvMark, clear bool) bool {
	marks := all[target]
	old, had := marks[user]
	if had && old.AtSeq > m.AtSeq {
		return false
	}
	if clear {
		if !had {
			return false
		}
		delete(marks, user)
		return true
	}
	if marks == nil {
		marks = map[parley.UserID]kvMark{}
		all[target] = marks
	}
	marks[user] = m
	return true
}

func (s *kvStore) putMarks(tx *kvTx, prefix string, conv parley.ConversationID, target parley.Seq, marks map[parley.UserID]kvMark) {
	if len(marks) == 0 {
		tx.del(kvSeqKey(prefix, conv, target))
		return
	}
	tx.put(kvSeqKey(prefix, conv, target), marks)
}

func (s *kvStore) React(ctx context.Context, conv parley.ConversationID, target parley.Seq, user parley.UserID, emoji string, seq parley.Seq) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.conv(conv)
	if !setMark(cv.reacts, target, user, kvMark{Emoji: emoji, AtSeq: int64(seq)}, emoji == "") {
		return nil
	}
	tx := newKVTx()
	s.putMarks(tx, "r", conv, target, cv.reacts[target])
	if len(cv.reacts[target]) == 0 {
		delete(cv.reacts, target)
	}
	return s.commit(ctx, tx)
}

func (s *kvStore) Vote(ctx context.Context, conv parley.ConversationID, target parley.Seq, user parley.UserID, choices []int, seq parley.Seq) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.conv(conv)
	if !setMark(cv.votes, target, user, kvMark{Choices: slices.Clone(choices), AtSeq: int64(seq)}, len(choices) == 0) {
		return nil
	}
	tx := newKVTx()
	s.putMarks(tx, "v", conv, target, cv.votes[target])
	if len(cv.votes[target]) == 0 {
		delete(cv.votes, target)
	}
	return s.commit(ctx, tx)
}

func (s *kvStore) Edit(ctx context.Context, conv parley.ConversationID, target parley.Seq, text string, at time.Time, seq parley.Seq) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.conv(conv)
	ch := cv.changes[target]
	if ch.EditSeq > int64(seq) {
		return nil // a later edit is applied already
	}
	m, err := cv.atSeq(target)
	if err != nil {
		return err
	}
	tx := newKVTx()
	if m != nil {
		m.Text = text
		cv.search = nil
		tx.put(kvMsgKey(conv, m.SenderDevice, m.ClientID), m)
	}
	ch.EditedAt, ch.EditSeq = at.UnixMilli(), int64(seq)
	cv.changes[target] = ch
	tx.put(kvSeqKey("e", conv, target), ch)
	return s.commit(ctx, tx)
}

func (s *kvStore) DeleteMessage(ctx context.Context, conv parley.ConversationID, target parley.Seq, by parley.UserID, admin bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.conv(conv)
	m, err := cv.atSeq(target)
	if err != nil {
		return err
	}
	tx := newKVTx()
	if m != nil {
		m.Kind, m.Text, m.Media = content.KindDeleted, "", nil
		cv.search = nil
		tx.put(kvMsgKey(conv, m.SenderDevice, m.ClientID), m)
	}
	delete(cv.reacts, target)
	delete(cv.votes, target)
	tx.del(kvSeqKey("r", conv, target))
	tx.del(kvSeqKey("v", conv, target))
	ch := cv.changes[target]
	ch.DeletedBy, ch.DeletedAdmin = int64(by), admin
	cv.changes[target] = ch
	tx.put(kvSeqKey("e", conv, target), ch)
	return s.commit(ctx, tx)
}

func (s *kvStore) Extras(ctx context.Context, conv parley.ConversationID, seqs []parley.Seq) (map[parley.Seq]content.Extras, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[parley.Seq]content.Extras, len(seqs))
	cv := s.convs[conv]
	if cv == nil {
		return out, nil
	}
	for _, seq := range seqs {
		var ex content.Extras
		has := false
		m, err := cv.atSeq(seq)
		if err != nil {
			return nil, err
		}
		if m != nil {
			if e, ok := cv.exts[kvMsgKey(conv, m.SenderDevice, m.ClientID)]; ok {
				has = true
				ex.ReplyTo, ex.Mentions, ex.Everyone = e.ReplyTo, slices.Clone(e.Mentions), e.Everyone
				if e.Status != nil { // kv_status.go
					q := *e.Status
					q.Thumb = slices.Clone(q.Thumb)
					ex.Status = &q
				}
				if e.Poll != nil {
					ex.Poll = &content.PollResult{PollSpec: *e.Poll, Votes: map[parley.UserID][]int{}, Tallies: make([]int, len(e.Poll.Options))}
					ex.Poll.Options = slices.Clone(e.Poll.Options)
				}
			}
		}
		if ch, ok := cv.changes[seq]; ok {
			has = true
			if ch.EditedAt != 0 {
				ex.Edited, ex.EditedAt = true, time.UnixMilli(ch.EditedAt)
			}
			ex.Deleted, ex.DeletedByAdmin = ch.DeletedBy != 0, ch.DeletedAdmin
		}
		for u, r := range cv.reacts[seq] {
			if ex.Reactions == nil {
				ex.Reactions = map[parley.UserID]string{}
			}
			ex.Reactions[u] = r.Emoji
			has = true
		}
		if ex.Poll != nil {
			for u, v := range cv.votes[seq] {
				ex.Poll.Votes[u] = slices.Clone(v.Choices)
				for _, c := range v.Choices {
					if c >= 0 && c < len(ex.Poll.Tallies) {
						ex.Poll.Tallies[c]++
					}
				}
			}
		}
		if has {
			out[seq] = ex
		}
	}
	return out, nil
}

func (s *kvStore) SetTimer(ctx context.Context, conv parley.ConversationID, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.conv(conv)
	cv.timerTTL = ttl
	tx := newKVTx()
	tx.put("t/"+string(conv), ttl.Milliseconds())
	return s.commit(ctx, tx)
}

func (s *kvStore) Timers(ctx context.Context) (map[parley.ConversationID]time.Duration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[parley.ConversationID]time.Duration{}
	for id, cv := range s.convs {
		if cv.timerTTL > 0 {
			out[id] = cv.timerTTL
		}
	}
	return out, nil
}

func (s *kvStore) Expire(ctx context.Context, conv parley.ConversationID, before time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.convs[conv]
	if cv == nil {
		return 0, nil
	}
	if err := cv.decodeAll(); err != nil {
		return 0, err
	}
	tx := newKVTx()
	n := 0
	b := before.UnixMilli()
	for key, m := range cv.msgs {
		if m.Seq <= 0 || m.SentAt.UnixMilli() >= b {
			continue
		}
		n++
		delete(cv.msgs, key)
		delete(cv.bySeq, m.Seq)
		tx.del(key)
		if _, ok := cv.exts[key]; ok {
			delete(cv.exts, key)
			tx.del("x/" + key[2:])
		}
		for _, p := range []string{"r", "v", "e"} {
			tx.del(kvSeqKey(p, conv, m.Seq))
		}
		delete(cv.reacts, m.Seq)
		delete(cv.votes, m.Seq)
		delete(cv.changes, m.Seq)
	}
	if n == 0 {
		return 0, nil
	}
	cv.dirty = true
	cv.seqsOK, cv.search = false, nil
	if err := s.commit(ctx, tx); err != nil {
		return 0, err
	}
	return n, nil
}

// ---- chat flags and search ----

func (s *kvStore) SetChatFlags(ctx context.Context, id parley.ConversationID, f ChatFlags) (Chat, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.convs[id]
	if cv == nil || cv.chat == nil {
		return Chat{}, notFound("chat " + string(id))
	}
	f.Apply(cv.chat)
	tx := newKVTx()
	tx.put("c/"+string(id), cv.chat)
	if err := s.commit(ctx, tx); err != nil {
		return Chat{}, err
	}
	return cv.chatView()
}

func (s *kvStore) Search(ctx context.Context, query string, conv parley.ConversationID, limit int) ([]content.MessageRecord, error) {
	words := queryWords(query)
	if len(words) == 0 {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []content.MessageRecord
	for id, cv := range s.convs {
		if conv != "" && id != conv {
			continue
		}
		if cv.search == nil {
			if err := cv.decodeAll(); err != nil {
				return nil, err
			}
			cv.search = newKVSearchIndex(cv.msgs)
		}
		for key := range cv.search.find(words) {
			if m := cv.msgs[key]; m != nil && searchable(m) {
				out = append(out, copyMsg(m))
			}
		}
	}
	sortHits(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// BusinessOf fills in the Business content of ms's business messages from
// their stored extras (the content travels in ext.biz).
func (s *kvStore) BusinessOf(ctx context.Context, ms []content.MessageRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range ms {
		m := &ms[i]
		if !content.IsBusinessKind(m.Kind) || m.Business != nil {
			continue
		}
		cv := s.convs[m.Conversation]
		if cv == nil {
			continue
		}
		if e, ok := cv.exts[kvMsgKey(m.Conversation, m.SenderDevice, m.ClientID)]; ok && e.Biz != nil {
			bc := *e.Biz
			m.Business = &bc
		}
	}
	return nil
}

// AutoReplied returns when this device last sent the auto reply what in
// conv (0 if never).
func (s *kvStore) AutoReplied(ctx context.Context, conv parley.ConversationID, what string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cv := s.convs[conv]; cv != nil {
		return cv.autoReplies[what], nil
	}
	return 0, nil
}

// NoteAutoReply records that the auto reply what was sent in conv at at.
func (s *kvStore) NoteAutoReply(ctx context.Context, conv parley.ConversationID, what string, at int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.conv(conv)
	if cv.autoReplies == nil {
		cv.autoReplies = map[string]int64{}
	}
	cv.autoReplies[what] = at
	tx := newKVTx()
	tx.put("b/"+string(conv)+"/"+what, at)
	return s.commit(ctx, tx)
}

// ---- broadcast lists ----

func (s *kvStore) PutBroadcastList(ctx context.Context, l BroadcastList) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l.Recipients = slices.Clone(l.Recipients)
	if old, ok := s.lists[l.ID]; ok {
		l.CreatedAt = old.CreatedAt
	}
	l.CreatedAt = time.UnixMilli(l.CreatedAt.UnixMilli())
	tx := newKVTx()
	tx.put("l/"+l.ID, l)
	if err := s.commit(ctx, tx); err != nil {
		return err
	}
	s.lists[l.ID] = l
	return nil
}

func (s *kvStore) BroadcastLists(ctx context.Context) ([]BroadcastList, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []BroadcastList
	for _, l := range s.lists {
		l.Recipients = slices.Clone(l.Recipients)
		out = append(out, l)
	}
	sortLists(out)
	return out, nil
}

func (s *kvStore) DeleteBroadcastList(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.lists[id]; !ok {
		return notFound("broadcast list " + id)
	}
	tx := newKVTx()
	tx.del("l/" + id)
	if err := s.commit(ctx, tx); err != nil {
		return err
	}
	delete(s.lists, id)
	return nil
}
