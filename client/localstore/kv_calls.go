package localstore

import (
	"context"
	"encoding/json"

	"github.com/parleyhq/parley"
)

// The KV store's key of the call log (beside those listed in kv.go):
//
//	call/<call id>    a CallRecord

const kvCallPrefix = "call/"

func (s *kvStore) loadCall(v []byte) error {
	var r CallRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return err
	}
	if s.calls == nil {
		s.calls = map[parley.CallID]CallRecord{}
	}
	s.calls[r.ID] = r
	return nil
}

func (s *kvStore) PutCall(ctx context.Context, r CallRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r = normalCall(r)
	tx := newKVTx()
	tx.put(kvCallPrefix+string(r.ID), r)
	if err := s.commit(ctx, tx); err != nil {
		return err
	}
	if s.calls == nil {
		s.calls = map[parley.CallID]CallRecord{}
	}
	s.calls[r.ID] = r
	return nil
}

func (s *kvStore) Call(ctx context.Context, id parley.CallID) (CallRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.calls[id]
	if !ok {
		return r, notFound("call " + string(id))
	}
	return r, nil
}

func (s *kvStore) Calls(ctx context.Context, limit int) ([]CallRecord, error) {
	s.mu.Lock()
	out := make([]CallRecord, 0, len(s.calls))
	for _, r := range s.calls {
		out = append(out, r)
	}
	s.mu.Unlock()
	sortCalls(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
