// Package latency measures how long operations take, for /metrics: a
// Histogram counts durations into fixed buckets with atomic adds only, so
// observing on a hot path (every group commit, every log read) costs a few
// nanoseconds and allocates nothing. Snapshot copies it for a scrape.
package latency

import (
	"sync/atomic"
	"time"
)

// Bounds are the upper bounds of a Histogram's buckets, in seconds (the
// Prometheus convention), from 100 µs to 10 s: a store operation faster
// than 100 µs is a cache hit, slower than 10 s an outage. A duration above
// the last bound is counted in +Inf only.
var Bounds = [...]float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// bounds are Bounds as durations, for comparing without converting.
var bounds = func() (d [len(Bounds)]time.Duration) {
	for i, s := range Bounds {
		d[i] = time.Duration(s * float64(time.Second))
	}
	return d
}()

// Histogram counts durations by bucket. The zero Histogram is ready;
// its methods are safe for concurrent use. A Snapshot taken while
// observations run may be off by those in flight (each bucket is exact on
// its own), which a scrape tolerates.
type Histogram struct {
	counts [len(Bounds) + 1]atomic.Uint64 // per bucket, not cumulative; the last is above every bound
	sum    atomic.Int64                   // nanoseconds
}

// Observe counts one operation that took d.
func (h *Histogram) Observe(d time.Duration) {
	i := 0
	for i < len(bounds) && d > bounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(int64(d))
}

// Since observes the time from start to now: `defer h.Since(time.Now())`
// or `t := time.Now(); …; h.Since(t)`.
func (h *Histogram) Since(start time.Time) { h.Observe(time.Since(start)) }

// Snapshot is a Histogram's state in Prometheus' shape.
type Snapshot struct {
	// Buckets[i] counts the operations that took at most Bounds[i]
	// (cumulative, as Prometheus' le buckets).
	Buckets [len(Bounds)]uint64
	Count   uint64  // all operations (the +Inf bucket)
	Sum     float64 // their total duration in seconds
}

// Snapshot returns the counts so far.
func (h *Histogram) Snapshot() Snapshot {
	var s Snapshot
	var run uint64
	for i := range h.counts {
		run += h.counts[i].Load()
		if i < len(s.Buckets) {
			s.Buckets[i] = run
		}
	}
	s.Count = run
	s.Sum = time.Duration(h.sum.Load()).Seconds()
	return s
}
