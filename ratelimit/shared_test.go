package ratelimit_test

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/ratelimit"
	"github.com/parleyhq/parley/store/postgres"
	"github.com/parleyhq/parley/store/sqlite"
)

func sqliteCounters(t *testing.T) parley.CounterStore {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// postgresNodes opens two stores on one fresh PostgreSQL schema: the
// counters two cluster nodes see.
func postgresNodes(t *testing.T) (parley.CounterStore, parley.CounterStore) {
	dsn := parleytest.PostgresDSN(t, "parley_ratelimit")
	var out [2]parley.CounterStore
	for i := range out {
		st, err := postgres.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		out[i] = st
	}
	return out[0], out[1]
}

func TestSharedWindow(t *testing.T) {
	for name, open := range map[string]func(*testing.T) parley.CounterStore{
		"sqlite":   sqliteCounters,
		"postgres": func(t *testing.T) parley.CounterStore { a, _ := postgresNodes(t); return a },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
			s := ratelimit.NewShared(open(t), clk, 0)
			l := parley.Limit{Events: 3, Window: time.Minute}
			if ok, _, err := s.Check(ctx, "k", l); !ok || err != nil {
				t.Fatalf("check of an unused key: %v %v", ok, err)
			}
			for i := range 3 {
				if ok, _, err := s.Allow(ctx, "k", l); !ok || err != nil {
					t.Fatalf("event %d refused within the window: %v", i, err)
				}
			}
			clk.Advance(20 * time.Second)
			ok, wait, err := s.Allow(ctx, "k", l)
			if ok || err != nil || wait != 40*time.Second {
				t.Fatalf("4th event: ok=%v wait=%v err=%v, want refused for 40s (the window's rest)", ok, wait, err)
			}
			if ok, wait, _ := s.Check(ctx, "k", l); ok || wait != 40*time.Second {
				t.Fatalf("check after the limit: ok=%v wait=%v", ok, wait)
			}
			if ok, _, _ := s.Allow(ctx, "other", l); !ok {
				t.Fatal("another key shares the budget")
			}
			if ok, _, _ := s.Allow(ctx, "k", parley.Limit{}); !ok {
				t.Fatal("unlimited refused")
			}
			clk.Advance(40 * time.Second) // the window ends
			if ok, _, _ := s.Check(ctx, "k", l); !ok {
				t.Fatal("check refused after the window ended")
			}
			if ok, _, _ := s.Allow(ctx, "k", l); !ok {
				t.Fatal("refused after the window ended")
			}
		})
	}
}

// TestSharedAcrossNodes: two limiters on two connections to one
// PostgreSQL database (two nodes) let exactly Events concurrent calls pass
// in all, and a refusal seen by one is seen by the other.
func TestSharedAcrossNodes(t *testing.T) {
	a, b := postgresNodes(t)
	ctx := context.Background()
	la, lb := ratelimit.NewShared(a, nil, 0), ratelimit.NewShared(b, nil, 0)
	l := parley.Limit{Events: 10, Window: time.Hour}
	var passed atomic.Int64
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lim := la
			if i%2 == 1 {
				lim = lb
			}
			ok, _, err := lim.Allow(ctx, "auth.device:7", l)
			if err != nil {
				t.Error(err)
			}
			if ok {
				passed.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := passed.Load(); n != int64(l.Events) {
		t.Fatalf("%d of 40 concurrent events passed on two nodes, want exactly %d", n, l.Events)
	}
	for name, lim := range map[string]*ratelimit.Shared{"a": la, "b": lb} {
		ok, wait, err := lim.Check(ctx, "auth.device:7", l)
		if ok || err != nil || wait <= 0 || wait > time.Hour {
			t.Fatalf("node %s: check after the limit: ok=%v wait=%v err=%v", name, ok, wait, err)
		}
	}
}

// TestSharedPrunes: ended windows are deleted in the background, the PIN
// budget's own counters are kept while their window is open.
func TestSharedPrunes(t *testing.T) {
	ctx := context.Background()
	st := sqliteCounters(t)
	clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	s := ratelimit.NewShared(st, clk, time.Minute)
	l := parley.Limit{Events: 1, Window: 30 * time.Second}
	if _, _, err := s.Allow(ctx, "old", l); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.AddEvent(ctx, "pin.user:1", 24*time.Hour, clk.Now()); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Minute)
	if _, _, err := s.Allow(ctx, "new", l); err != nil { // starts the prune
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		// The old key's window ended: pruned, so a prune now finds nothing.
		n, err := st.PruneEvents(ctx, clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the limiter did not prune ended windows")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n, _, _ := st.Events(ctx, "pin.user:1", clk.Now()); n != 1 {
		t.Fatalf("the PIN counter was pruned within its window: %d", n)
	}
}
