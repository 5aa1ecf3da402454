// Package ratelimit has the two parley.Limiters. Memory is in-process: a
// token bucket per key, held in memory. It is what a single server on
// SQLite uses; its counters start empty at every restart. Shared keeps
// fixed-window counters in a parley.CounterStore (PostgreSQL in a cluster),
// so every node counts against one budget and a restart resets nothing; it
// costs one store statement per check.
//
// Memory's memory is bounded: when MaxKeys buckets are held, the buckets that have
// refilled completely are forgotten (which changes no answer); if every
// bucket is still in use, the oldest-touched half is dropped, which can only
// make a limit more lenient for those keys, never lock anyone out.
package ratelimit

import (
	"context"
	"sync"
	"time"

	"github.com/parleyhq/parley"
)

// DefaultMaxKeys is how many buckets a Memory holds before sweeping.
const DefaultMaxKeys = 200_000

// Memory is an in-process parley.Limiter. The zero value is not usable;
// create one with New. It is safe for concurrent use.
type Memory struct {
	clock   parley.Clock
	maxKeys int

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

var _ parley.Limiter = (*Memory)(nil)

// New returns an empty Memory. A nil clock means the system clock; maxKeys
// <= 0 means DefaultMaxKeys.
func New(clock parley.Clock, maxKeys int) *Memory {
	if clock == nil {
		clock = parley.SystemClock{}
	}
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	return &Memory{clock: clock, maxKeys: maxKeys, buckets: make(map[string]*bucket)}
}

// Allow takes one token for key; see parley.Limiter.
func (m *Memory) Allow(_ context.Context, key string, l parley.Limit) (bool, time.Duration, error) {
	if l.Unlimited() {
		return true, 0, nil
	}
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.buckets[key]
	if b == nil {
		if len(m.buckets) >= m.maxKeys {
			m.sweep(now, l)
		}
		b = &bucket{tokens: float64(l.Events), at: now}
		m.buckets[key] = b
	}
	b.tokens = refill(b, l, now)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0, nil
	}
	return false, wait(b.tokens, l), nil
}

// Check reports whether key has a token left; see parley.Limiter.
func (m *Memory) Check(_ context.Context, key string, l parley.Limit) (bool, time.Duration, error) {
	if l.Unlimited() {
		return true, 0, nil
	}
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.buckets[key]
	if b == nil {
		return true, 0, nil
	}
	tokens := refill(b, l, now)
	if tokens >= 1 {
		return true, 0, nil
	}
	return false, wait(tokens, l), nil
}

// Len returns how many buckets are held.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.buckets)
}

func rate(l parley.Limit) float64 { return float64(l.Events) / l.Window.Seconds() }

func refill(b *bucket, l parley.Limit, now time.Time) float64 {
	elapsed := now.Sub(b.at).Seconds()
	if elapsed < 0 {
		elapsed = 0 // the clock stepped back: no refill, no debt
	}
	return min(float64(l.Events), b.tokens+elapsed*rate(l))
}

func wait(tokens float64, l parley.Limit) time.Duration {
	return time.Duration((1 - tokens) / rate(l) * float64(time.Second))
}

// sweep frees room: buckets that refilled under l go first (keys of other
// limits refill at least as fast in practice; a wrong guess only forgets a
// partly used bucket); if that frees less than a tenth, the older half goes.
func (m *Memory) sweep(now time.Time, l parley.Limit) {
	for k, b := range m.buckets {
		if refill(b, l, now) >= float64(l.Events) {
			delete(m.buckets, k)
		}
	}
	if len(m.buckets) < m.maxKeys*9/10 {
		return
	}
	var total time.Duration
	for _, b := range m.buckets {
		total += now.Sub(b.at) / time.Duration(len(m.buckets))
	}
	for k, b := range m.buckets {
		if now.Sub(b.at) >= total {
			delete(m.buckets, k)
		}
	}
}
