package nats

import (
	"testing"

	"github.com/parleyhq/parley"
)

// TestPresenceFullStateReplacesAtEnd: while a node's full state is being
// received ('x', 's'..., 'e'), what was known of it stays in force, so a
// user online there never looks offline; at 'e' the new state replaces it,
// and live changes received meanwhile are kept.
func TestPresenceFullStateReplacesAtEnd(t *testing.T) {
	ps := presenceState{remote: map[string]map[parley.UserID]struct{}{}, count: map[parley.UserID]int{}}
	online := func(u parley.UserID) bool { return ps.count[u] > 0 }
	ps.set("n1", 1, true)
	ps.set("n1", 2, true)
	ps.set("n2", 2, true)

	ps.begin("n1")
	if !online(1) || !online(2) {
		t.Fatal("users went offline when the full state began")
	}
	ps.add("n1", []parley.UserID{1})
	ps.set("n1", 3, true) // a live change during the transfer
	if !online(1) || !online(2) || !online(3) {
		t.Fatal("users went offline during the transfer")
	}
	ps.end("n1")
	if !online(1) || !online(3) {
		t.Fatal("users in the new state (or changed live) are offline")
	}
	if ps.count[2] != 1 {
		t.Fatalf("user 2 is counted on %d nodes, want 1 (n2 only)", ps.count[2])
	}
	ps.forget("n2")
	if online(2) {
		t.Fatal("user 2 online after its only node was forgotten")
	}
}
