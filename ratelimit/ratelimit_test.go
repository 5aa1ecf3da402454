package ratelimit_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ratelimit"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestBucket(t *testing.T) {
	ctx := context.Background()
	clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	m := ratelimit.New(clk, 0)
	l := parley.Limit{Events: 3, Window: time.Minute}
	for i := range 3 {
		if ok, _, _ := m.Allow(ctx, "k", l); !ok {
			t.Fatalf("event %d refused within the burst", i)
		}
	}
	ok, wait, _ := m.Allow(ctx, "k", l)
	if ok || wait != 20*time.Second {
		t.Fatalf("4th event: ok=%v wait=%v, want refused with 20s", ok, wait)
	}
	if ok, _, _ := m.Check(ctx, "k", l); ok {
		t.Fatal("Check passes an empty bucket")
	}
	if ok, _, _ := m.Allow(ctx, "other", l); !ok {
		t.Fatal("another key shares the bucket")
	}
	clk.Advance(20 * time.Second)
	if ok, _, _ := m.Check(ctx, "k", l); !ok {
		t.Fatal("Check refuses after a refill")
	}
	if ok, _, _ := m.Allow(ctx, "k", l); !ok {
		t.Fatal("refused after a refill")
	}
	if ok, _, _ := m.Allow(ctx, "k", l); ok {
		t.Fatal("refill gave more than one token in 20s")
	}
	if ok, _, _ := m.Allow(ctx, "k", parley.Limit{}); !ok {
		t.Fatal("an unlimited Limit refused")
	}
}

func TestConcurrentAllowNeverOverspends(t *testing.T) {
	m := ratelimit.New(&fakeClock{t: time.Unix(1_800_000_000, 0)}, 0)
	l := parley.Limit{Events: 50, Window: time.Hour}
	var granted atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 20 {
				if ok, _, _ := m.Allow(context.Background(), "k", l); ok {
					granted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if granted.Load() != 50 {
		t.Fatalf("granted %d of 320 concurrent events, want exactly 50", granted.Load())
	}
}

func TestSweepBoundsMemory(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	m := ratelimit.New(clk, 100)
	l := parley.Limit{Events: 2, Window: time.Minute}
	for i := range 1000 {
		_, _, _ = m.Allow(context.Background(), fmt.Sprint(i), l)
		clk.Advance(time.Second)
	}
	if n := m.Len(); n > 100 {
		t.Fatalf("%d buckets held, want at most 100", n)
	}
}

// BenchmarkAllow: one limit check on the hot path of an account request.
func BenchmarkAllow(b *testing.B) {
	m := ratelimit.New(nil, 0)
	l := parley.Limit{Events: 1 << 30, Window: time.Hour}
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprintf("auth.addr:10.0.%d.%d", i/256, i%256)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, _, _ = m.Allow(ctx, keys[i%len(keys)], l)
	}
}
