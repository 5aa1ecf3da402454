package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// RunHostedState runs the parley.HostedStateStore contract: commits are
// atomic and per business, deletes and puts apply, and a fenced commit
// takes effect only while its holder holds the lease.
func RunHostedState(t *testing.T, open func(t *testing.T) parley.Store) {
	s := open(t)
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0).UTC()
	get := func(b parley.UserID) map[string][]byte {
		t.Helper()
		m, err := s.HostedState(ctx, b)
		if err != nil {
			t.Fatalf("HostedState(%d): %v", b, err)
		}
		return m
	}
	if m := get(1); len(m) != 0 {
		t.Fatalf("empty state = %v", m)
	}
	if err := s.CommitHostedState(ctx, parley.HostedStateCommit{Business: 1, Puts: map[string][]byte{"a": []byte("1"), "b": []byte("2"), "e": {}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.CommitHostedState(ctx, parley.HostedStateCommit{Business: 2, Puts: map[string][]byte{"a": []byte("other")}}); err != nil {
		t.Fatal(err)
	}
	if err := s.CommitHostedState(ctx, parley.HostedStateCommit{Business: 1, Puts: map[string][]byte{"a": []byte("3")}, Deletes: []string{"b", "missing"}}); err != nil {
		t.Fatal(err)
	}
	if m := get(1); len(m) != 2 || string(m["a"]) != "3" || m["e"] == nil || len(m["e"]) != 0 {
		t.Fatalf("state 1 = %q, want a=3 and an empty e", m)
	}
	if m := get(2); len(m) != 1 || string(m["a"]) != "other" {
		t.Fatalf("state 2 = %q", m)
	}

	// Fenced: only the lease's holder, only before it expires.
	ttl := 15 * time.Second
	if _, err := s.AcquireLease(ctx, "hosted/1", "n1", "", ttl, now); err != nil {
		t.Fatal(err)
	}
	fenced := func(holder string, at time.Time, v string) error {
		return s.CommitHostedState(ctx, parley.HostedStateCommit{Business: 1, Puts: map[string][]byte{"a": []byte(v)}, Deletes: []string{"e"},
			Lease: "hosted/1", Holder: holder, Now: at})
	}
	if err := fenced("n1", now.Add(time.Second), "4"); err != nil {
		t.Fatalf("the holder's commit: %v", err)
	}
	for _, c := range []struct {
		holder string
		at     time.Time
	}{{"n2", now.Add(time.Second)}, {"n1", now.Add(ttl)}, {"n1", now.Add(time.Hour)}} {
		if err := fenced(c.holder, c.at, "5"); !parley.IsCode(err, parley.CodeConflict) || parley.ErrorReason(err) != parley.ReasonLeaseLost {
			t.Fatalf("commit by %s at +%s = %v, want conflict %s", c.holder, c.at.Sub(now), err, parley.ReasonLeaseLost)
		}
	}
	if err := s.CommitHostedState(ctx, parley.HostedStateCommit{Business: 1, Puts: map[string][]byte{"x": []byte("1")}, Lease: "hosted/none", Holder: "n1", Now: now}); parley.ErrorReason(err) != parley.ReasonLeaseLost {
		t.Fatalf("commit under a lease nobody holds = %v", err)
	}
	if m := get(1); len(m) != 1 || string(m["a"]) != "4" {
		t.Fatalf("after refused commits: %q, want only a=4", m)
	}

	if err := s.DeleteHostedState(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if m := get(1); len(m) != 0 {
		t.Fatalf("deleted state = %q", m)
	}
	if m := get(2); len(m) != 1 {
		t.Fatalf("another business's state after a delete = %q", m)
	}
}
