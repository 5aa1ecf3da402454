package localstore

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/content"
)

// The KV store's send path of always-online endpoints and their outgoing
// statuses: the same contract as the SQLite store's (sqlite_fast.go,
// sqlite_outgoing.go), each step one commit of the KV.

var _ Store = (*kvStore)(nil)

func (s *kvStore) PutPending(ctx context.Context, conv parley.ConversationID, state []byte, epoch parley.Epoch, m *content.MessageRecord, ext content.Ext) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.pendingTx(conv, state, epoch, m, ext)
	if err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// pendingTx applies a pending message to the memory and returns its keys.
// The caller holds s.mu.
func (s *kvStore) pendingTx(conv parley.ConversationID, state []byte, epoch parley.Epoch, m *content.MessageRecord, ext content.Ext) (*kvTx, error) {
	if cv := s.convs[conv]; cv == nil || cv.chat == nil {
		return nil, parley.Errorf(parley.CodeNotFound, ReasonNotJoined, "this device is not in chat %s", conv)
	}
	rec := *m
	rec.Seq = 0
	tx := newKVTx()
	if err := s.apply(tx, Applied{Conversation: conv, Group: state, Epoch: epoch, Message: &rec}); err != nil {
		return nil, err
	}
	s.putExtras(tx, conv, m.SenderDevice, m.ClientID, ext)
	return tx, nil
}

// QueueKV is a KV that queues commits: Queue applies puts and deletes as
// Commit does, after every commit queued or made before it, and returns a
// function that waits for that commit and reports its error. Over a
// QueueKV the KV store's QueuePending waits without its lock, so that
// concurrent sends share the KV's commits, and QueueMarkSent does not wait
// (as the SQLite store's batch writer does). A KV that failed a queued
// commit fails every later one until its next Load.
type QueueKV interface {
	KV
	Queue(puts map[string][]byte, deletes []string) (wait func() error)
}

// queue queues tx's keys on a QueueKV. The caller holds s.mu; the returned
// wait must be called without it (on failure it reloads the memory).
func (s *kvStore) queue(ctx context.Context, q QueueKV, tx *kvTx) (func() error, error) {
	if tx.err != nil {
		err := tx.err
		if lerr := s.load(context.WithoutCancel(ctx)); lerr != nil {
			return nil, fmt.Errorf("commit local store: %w (and reloading failed: %v)", err, lerr)
		}
		return nil, fmt.Errorf("commit local store: %w", err)
	}
	if len(tx.puts) == 0 && len(tx.dels) == 0 {
		return func() error { return nil }, nil
	}
	w := q.Queue(tx.puts, slices.Sorted(maps.Keys(tx.dels)))
	return func() error {
		err := w()
		if err == nil {
			return nil
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if lerr := s.load(context.WithoutCancel(ctx)); lerr != nil {
			return fmt.Errorf("commit local store: %w (and reloading failed: %v)", err, lerr)
		}
		return fmt.Errorf("commit local store: %w", err)
	}, nil
}

// QueuePending queues the write on a QueueKV; on another KV it commits at
// once.
func (s *kvStore) QueuePending(ctx context.Context, conv parley.ConversationID, state []byte, epoch parley.Epoch, m *content.MessageRecord, ext content.Ext) (func() error, error) {
	q, ok := s.kv.(QueueKV)
	if !ok {
		err := s.PutPending(ctx, conv, state, epoch, m, ext)
		return func() error { return nil }, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.pendingTx(conv, state, epoch, m, ext)
	if err != nil {
		return nil, err
	}
	return s.queue(ctx, q, tx)
}

func (s *kvStore) MarkSentAdvance(ctx context.Context, conv parley.ConversationID, client parley.ClientMessageID, seq parley.Seq) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.markSentTx(conv, client, seq)
	if err != nil {
		return err
	}
	return s.commit(ctx, tx)
}

// markSentTx applies the mark to the memory and returns its keys. The
// caller holds s.mu.
func (s *kvStore) markSentTx(conv parley.ConversationID, client parley.ClientMessageID, seq parley.Seq) (*kvTx, error) {
	tx := newKVTx()
	// This device's message is under a key naming it: no need to look at
	// (and decode) every message of the chat, as markSent does.
	cv := s.convs[conv]
	var own *content.MessageRecord
	var key string
	if cv != nil && s.acct != nil {
		key = kvMsgKey(conv, s.acct.Device, client)
		if err := cv.promote(key); err != nil {
			return nil, err
		}
		if m := cv.msgs[key]; m != nil && m.Outgoing && m.ClientID == client {
			own = m
		}
	}
	if own != nil {
		cv.setSent(tx, key, own, seq)
	} else if err := s.markSent(tx, conv, client, seq); err != nil {
		return nil, err
	}
	if cv != nil && cv.chat != nil && cv.chat.Cursor == seq-1 {
		cv.chat.Cursor = seq
		tx.put("c/"+string(conv), cv.chat)
	}
	return tx, nil
}

// QueueMarkSent queues the mark on a QueueKV without waiting for it; on
// another KV it commits at once.
func (s *kvStore) QueueMarkSent(ctx context.Context, conv parley.ConversationID, client parley.ClientMessageID, seq parley.Seq) error {
	q, ok := s.kv.(QueueKV)
	if !ok {
		return s.MarkSentAdvance(ctx, conv, client, seq)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.markSentTx(conv, client, seq)
	if err != nil {
		return err
	}
	_, err = s.queue(ctx, q, tx)
	return err
}

// outgoing returns copies of device's accepted outgoing messages for which
// keep is true, ordered by by then seq, at most limit. The caller holds s.mu.
func (s *kvStore) outgoing(device parley.DeviceID, keep func(*content.MessageRecord) bool, by func(*content.MessageRecord) time.Time, limit int) ([]content.MessageRecord, error) {
	var out []content.MessageRecord
	for _, cv := range s.convs {
		if err := cv.decodeAll(); err != nil {
			return nil, err
		}
		for _, m := range cv.msgs {
			if m.Outgoing && m.SenderDevice == device && m.Seq > 0 && keep(m) {
				out = append(out, copyMsg(m))
			}
		}
	}
	slices.SortFunc(out, func(a, b content.MessageRecord) int {
		if c := by(&a).Compare(by(&b)); c != 0 {
			return c
		}
		return cmp.Compare(a.Seq, b.Seq)
	})
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (s *kvStore) OutgoingBetween(ctx context.Context, device parley.DeviceID, from, to time.Time, limit int) ([]content.MessageRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	from, to = ms(from), ms(to)
	return s.outgoing(device, func(m *content.MessageRecord) bool {
		switch m.Status {
		case content.StatusSent, content.StatusDelivered, content.StatusRead:
			return !m.SentAt.Before(from) && m.SentAt.Before(to)
		}
		return false
	}, func(m *content.MessageRecord) time.Time { return m.SentAt }, limit)
}

func (s *kvStore) Undelivered(ctx context.Context, device parley.DeviceID, before time.Time, limit int) ([]content.MessageRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	before = ms(before)
	return s.outgoing(device, func(m *content.MessageRecord) bool {
		return m.Status == content.StatusSent && m.StoredAt.Before(before)
	}, func(m *content.MessageRecord) time.Time { return m.StoredAt }, limit)
}

func (s *kvStore) MarkFailed(ctx context.Context, conv parley.ConversationID, seq parley.Seq) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.convs[conv]
	if cv == nil {
		return false, nil
	}
	m, err := cv.atSeq(seq)
	if err != nil || m == nil || !m.Outgoing || m.Status != content.StatusSent {
		return false, err
	}
	m.Status = content.StatusFailed
	tx := newKVTx()
	tx.put(kvMsgKey(conv, m.SenderDevice, m.ClientID), m)
	if err := s.commit(ctx, tx); err != nil {
		return false, err
	}
	return true, nil
}
