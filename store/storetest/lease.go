package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// RunLeases runs the parley.LeaseStore contract: acquire, renew, expiry
// takeover, release, and of concurrent contenders exactly one winner.
func RunLeases(t *testing.T, open func(t *testing.T) parley.Store) {
	s := open(t)
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0).UTC()
	ttl := 15 * time.Second
	acquire := func(name, holder string, at time.Time) parley.Lease {
		t.Helper()
		l, err := s.AcquireLease(ctx, name, holder, "http://"+holder, ttl, at)
		if err != nil {
			t.Fatalf("AcquireLease(%s, %s): %v", name, holder, err)
		}
		return l
	}
	if l := acquire("a", "n1", now); l.Holder != "n1" || l.Addr != "http://n1" || !l.Expires.Equal(now.Add(ttl)) {
		t.Fatalf("first acquire = %+v", l)
	}
	if l := acquire("a", "n2", now.Add(time.Second)); l.Holder != "n1" || !l.Expires.Equal(now.Add(ttl)) {
		t.Fatalf("acquire of a held lease = %+v, want n1's", l)
	}
	if l := acquire("a", "n1", now.Add(5*time.Second)); l.Holder != "n1" || !l.Expires.Equal(now.Add(5*time.Second+ttl)) {
		t.Fatalf("renewal = %+v", l)
	}
	if l := acquire("b", "n2", now); l.Holder != "n2" {
		t.Fatalf("another lease = %+v", l)
	}
	// n1 stops renewing: at expiry n2 takes over.
	if l := acquire("a", "n2", now.Add(5*time.Second+ttl-time.Nanosecond)); l.Holder != "n1" {
		t.Fatalf("acquire a nanosecond before expiry = %+v", l)
	}
	if l := acquire("a", "n2", now.Add(5*time.Second+ttl)); l.Holder != "n2" || l.Addr != "http://n2" {
		t.Fatalf("acquire at expiry = %+v, want n2's", l)
	}
	// A release by a non-holder does nothing; by the holder frees it.
	if err := s.ReleaseLease(ctx, "a", "n1"); err != nil {
		t.Fatal(err)
	}
	if l := acquire("a", "n3", now.Add(6*time.Second+ttl)); l.Holder != "n2" {
		t.Fatalf("after a non-holder's release = %+v", l)
	}
	if err := s.ReleaseLease(ctx, "a", "n2"); err != nil {
		t.Fatal(err)
	}
	if l := acquire("a", "n3", now.Add(6*time.Second+ttl)); l.Holder != "n3" {
		t.Fatalf("after the holder's release = %+v", l)
	}
	// Contenders at once: exactly one wins.
	const n = 8
	var wg sync.WaitGroup
	holders := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			me := string(rune('A' + i))
			l, err := s.AcquireLease(ctx, "c", me, "", ttl, now)
			if err != nil {
				t.Errorf("contender %s: %v", me, err)
				return
			}
			if l.Holder == me {
				holders[i] = me
			}
		}()
	}
	wg.Wait()
	won := 0
	for _, h := range holders {
		if h != "" {
			won++
		}
	}
	if won != 1 {
		t.Fatalf("%d contenders won the lease, want 1 (%q)", won, holders)
	}
}
