package ratelimit

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley"
)

// SharedKeyPrefix starts every key a Shared limiter writes to its
// CounterStore, so its counters never mix with the store's other durable
// counters (the PIN's guess budget, "pin.user:…").
const SharedKeyPrefix = "rl:"

// DefaultPruneEvery is how often a Shared limiter deletes the counters
// whose window ended.
const DefaultPruneEvery = 10 * time.Minute

// Shared is a parley.Limiter whose counters live in a parley.CounterStore:
// with the PostgreSQL store, every node of a cluster counts against the
// same budget, and a restart resets nothing. It is what `parley serve
// --postgres` uses (package node); a single node on SQLite keeps Memory,
// which costs no write.
//
// It counts in fixed windows rather than Memory's token buckets: a key
// gets Limit.Events events in the Limit.Window that starts with its first
// event; once they are spent it is refused until that window ends (the
// retry-after says when), and the next event opens a new window. So a
// client may pass up to twice Events within one Window across a window's
// end, and a refused client waits for the whole window rather than for one
// token to refill; over a long time the rate is the same.
//
// Guarantees: every Allow and Check is one store statement, and the
// store's AddEvent is atomic per key (concurrent calls on any nodes never
// lose an event), so no more than Events calls of Allow pass in one
// window, whichever nodes they reach. A refused Allow still counts in the
// window, which only moves its count further past the limit and never
// extends the window. A store error is returned as is: callers refuse
// (parley.Limiter). Every PruneEvery, one Allow also deletes the ended
// windows of every key (in the background; its error is ignored and the
// next prune retries).
type Shared struct {
	store      parley.CounterStore
	clock      parley.Clock
	pruneEvery time.Duration
	nextPrune  atomic.Int64 // unix nanoseconds
	pruning    atomic.Bool
}

var _ parley.Limiter = (*Shared)(nil)

// NewShared returns a Shared limiter on store. A nil clock means the system
// clock; pruneEvery <= 0 means DefaultPruneEvery.
func NewShared(store parley.CounterStore, clock parley.Clock, pruneEvery time.Duration) *Shared {
	if clock == nil {
		clock = parley.SystemClock{}
	}
	if pruneEvery <= 0 {
		pruneEvery = DefaultPruneEvery
	}
	s := &Shared{store: store, clock: clock, pruneEvery: pruneEvery}
	s.nextPrune.Store(clock.Now().Add(pruneEvery).UnixNano())
	return s
}

// Allow counts one event for key; see parley.Limiter and the type's
// documentation.
func (s *Shared) Allow(ctx context.Context, key string, l parley.Limit) (bool, time.Duration, error) {
	if l.Unlimited() {
		return true, 0, nil
	}
	now := s.clock.Now()
	s.maybePrune(now)
	n, reset, err := s.store.AddEvent(ctx, SharedKeyPrefix+key, l.Window, now)
	if err != nil {
		return false, 0, err
	}
	if n <= l.Events {
		return true, 0, nil
	}
	return false, max(reset.Sub(now), 0), nil
}

// Check reports whether key has an event left in its window, counting
// nothing; see parley.Limiter.
func (s *Shared) Check(ctx context.Context, key string, l parley.Limit) (bool, time.Duration, error) {
	if l.Unlimited() {
		return true, 0, nil
	}
	now := s.clock.Now()
	n, reset, err := s.store.Events(ctx, SharedKeyPrefix+key, now)
	if err != nil {
		return false, 0, err
	}
	if n < l.Events {
		return true, 0, nil
	}
	return false, max(reset.Sub(now), 0), nil
}

// maybePrune starts one background prune when the last is PruneEvery ago.
func (s *Shared) maybePrune(now time.Time) {
	next := s.nextPrune.Load()
	if now.UnixNano() < next || !s.nextPrune.CompareAndSwap(next, now.Add(s.pruneEvery).UnixNano()) {
		return
	}
	if !s.pruning.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer s.pruning.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, _ = s.store.PruneEvents(ctx, now)
	}()
}
