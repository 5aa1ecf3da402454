package localstore

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
)

// The KV store's keys of Status (beside those listed in kv.go):
//
//	status/k/<poster>/<key id>   a status key (kvStatusKey)
//	status/v/<name>              a status state value (raw bytes)
//	status/m/<user>              a muted poster (true)
//	status/s/<post id>           a post seen here: when first (ms)
const kvStatusPrefix = "status"

type kvStatusKey struct {
	Key []byte `json:"key"`
	At  int64  `json:"at"` // ms
}

type kvKeyRef struct {
	poster parley.UserID
	id     string
}

// kvStatus is the memory of the Status keys.
type kvStatus struct {
	keys  map[kvKeyRef]kvStatusKey
	state map[string][]byte
	muted map[parley.UserID]bool
	seen  map[string]int64
}

func newKVStatus() kvStatus {
	return kvStatus{keys: map[kvKeyRef]kvStatusKey{}, state: map[string][]byte{}, muted: map[parley.UserID]bool{}, seen: map[string]int64{}}
}

// load reads one key; rest is what follows "status/".
func (st *kvStatus) load(rest string, v []byte) error {
	kind, tail, _ := strings.Cut(rest, "/")
	switch kind {
	case "k":
		poster, id, _ := strings.Cut(tail, "/")
		u, err := strconv.ParseInt(poster, 10, 64)
		if err != nil {
			return err
		}
		var k kvStatusKey
		if err := json.Unmarshal(v, &k); err != nil {
			return err
		}
		st.keys[kvKeyRef{parley.UserID(u), id}] = k
	case "v":
		st.state[tail] = slices.Clone(v)
	case "m":
		u, err := strconv.ParseInt(tail, 10, 64)
		if err != nil {
			return err
		}
		st.muted[parley.UserID(u)] = true
	case "s":
		var at int64
		if err := json.Unmarshal(v, &at); err != nil {
			return err
		}
		st.seen[tail] = at
	}
	return nil // unknown kinds: kept in the KV, ignored
}

func kvStatusKeyName(poster parley.UserID, id string) string {
	return kvStatusPrefix + "/k/" + strconv.FormatInt(int64(poster), 10) + "/" + id
}

func (s *kvStore) PutStatusKey(ctx context.Context, k StatusKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := kvStatusKey{Key: slices.Clone(k.Key), At: unixMs(k.At)}
	s.stat.keys[kvKeyRef{k.Poster, k.ID}] = v
	tx := newKVTx()
	tx.put(kvStatusKeyName(k.Poster, k.ID), v)
	return s.commit(ctx, tx)
}

func (s *kvStore) StatusKey(ctx context.Context, poster parley.UserID, id string) (StatusKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.stat.keys[kvKeyRef{poster, id}]
	if !ok {
		return StatusKey{Poster: poster, ID: id}, notFound("status key")
	}
	return StatusKey{Poster: poster, ID: id, Key: slices.Clone(v.Key), At: time.UnixMilli(v.At)}, nil
}

func (s *kvStore) PutStatusState(ctx context.Context, name string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := newKVTx()
	if value == nil {
		delete(s.stat.state, name)
		tx.del(kvStatusPrefix + "/v/" + name)
	} else {
		s.stat.state[name] = slices.Clone(value)
		tx.put(kvStatusPrefix+"/v/"+name, slices.Clone(value))
	}
	return s.commit(ctx, tx)
}

func (s *kvStore) StatusState(ctx context.Context, name string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.stat.state[name]), nil
}

func (s *kvStore) SetStatusMuted(ctx context.Context, user parley.UserID, muted bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := kvStatusPrefix + "/m/" + strconv.FormatInt(int64(user), 10)
	tx := newKVTx()
	if muted {
		s.stat.muted[user] = true
		tx.put(key, true)
	} else {
		delete(s.stat.muted, user)
		tx.del(key)
	}
	return s.commit(ctx, tx)
}

func (s *kvStore) StatusMuted(ctx context.Context) ([]parley.UserID, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]parley.UserID, 0, len(s.stat.muted))
	for u := range s.stat.muted {
		out = append(out, u)
	}
	slices.Sort(out)
	return out, nil
}

func (s *kvStore) MarkStatusSeen(ctx context.Context, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.stat.seen[id]; ok {
		return nil
	}
	s.stat.seen[id] = unixMs(at)
	tx := newKVTx()
	tx.put(kvStatusPrefix+"/s/"+id, unixMs(at))
	return s.commit(ctx, tx)
}

func (s *kvStore) StatusSeen(ctx context.Context) (map[string]time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]time.Time, len(s.stat.seen))
	for id, at := range s.stat.seen {
		out[id] = time.UnixMilli(at)
	}
	return out, nil
}

func (s *kvStore) ForgetStatusSeen(ctx context.Context, before time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := newKVTx()
	for id, at := range s.stat.seen {
		if at < unixMs(before) {
			delete(s.stat.seen, id)
			tx.del(kvStatusPrefix + "/s/" + id)
		}
	}
	return s.commit(ctx, tx)
}
