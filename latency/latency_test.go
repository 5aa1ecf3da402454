package latency_test

import (
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/latency"
)

// TestHistogram: each duration lands in the first bucket whose bound it
// does not exceed (a bound is inclusive, as Prometheus' le), buckets are
// cumulative, and what is above every bound counts in Count only.
func TestHistogram(t *testing.T) {
	var h latency.Histogram
	for _, d := range []time.Duration{
		50 * time.Microsecond,  // le 0.0001
		100 * time.Microsecond, // le 0.0001 (inclusive)
		101 * time.Microsecond, // le 0.00025
		3 * time.Millisecond,   // le 0.005
		10 * time.Second,       // le 10
		time.Minute,            // +Inf only
	} {
		h.Observe(d)
	}
	s := h.Snapshot()
	want := map[float64]uint64{0.0001: 2, 0.00025: 3, 0.0005: 3, 0.0025: 3, 0.005: 4, 5: 4, 10: 5}
	for i, b := range latency.Bounds {
		if w, ok := want[b]; ok && s.Buckets[i] != w {
			t.Errorf("le %g: %d, want %d", b, s.Buckets[i], w)
		}
	}
	if s.Count != 6 {
		t.Errorf("count %d, want 6", s.Count)
	}
	wantSum := (50*time.Microsecond + 100*time.Microsecond + 101*time.Microsecond + 3*time.Millisecond + 10*time.Second + time.Minute).Seconds()
	if s.Sum != wantSum {
		t.Errorf("sum %g, want %g", s.Sum, wantSum)
	}
}

// TestHistogramConcurrent: concurrent observers lose no count (run with -race).
func TestHistogramConcurrent(t *testing.T) {
	var h latency.Histogram
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				h.Observe(time.Duration(i) * time.Millisecond)
				_ = h.Snapshot()
			}
		}()
	}
	wg.Wait()
	if n := h.Snapshot().Count; n != 8000 {
		t.Fatalf("count %d, want 8000", n)
	}
}

// BenchmarkObserve shows Observe is a few atomic adds with no allocation.
func BenchmarkObserve(b *testing.B) {
	var h latency.Histogram
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		d := 3 * time.Millisecond
		for pb.Next() {
			h.Observe(d)
		}
	})
}
