package client

import (
	"testing"

	"github.com/parleyhq/parley"
)

func TestAddChunk(t *testing.T) {
	kp := make([]byte, 280)
	adds := make([][]byte, 5000)
	for i := range adds {
		adds[i] = kp
	}
	n := addChunk(adds, maxFrameBytes, 0)
	// Each add: 280 + 8 in the commit, 160 in the Welcome, 24 in the frame.
	if want := (maxFrameBytes - 2*fixedReserve) / (280 + 8 + 160 + 24); n != want {
		t.Fatalf("addChunk = %d, want %d", n, want)
	}
	if n := addChunk(adds, maxFrameBytes, 7); n != 7 {
		t.Fatalf("addChunk with MaxAddsPerCommit 7 = %d", n)
	}
	// Payload-bound: a 1 MiB frame still keeps the commit under 192 KiB.
	if n := addChunk(adds, 1<<20, 0); n*(280+8)+fixedReserve > maxPayloadBytes {
		t.Fatalf("addChunk = %d overflows the commit payload", n)
	}
	if n := addChunk([][]byte{make([]byte, 300<<10)}, maxFrameBytes, 0); n != 1 {
		t.Fatalf("addChunk of one oversized KeyPackage = %d, want 1 (the server refuses it)", n)
	}
}

func TestCheckCommitSize(t *testing.T) {
	for name, tc := range map[string]struct {
		pc pendingCommit
		ok bool
	}{
		"small":               {pendingCommit{Commit: make([]byte, 1000), Welcome: make([]byte, 1000), GroupInfo: make([]byte, 300)}, true},
		"commit over payload": {pendingCommit{Commit: make([]byte, maxPayloadBytes+1)}, false},
		"frame overflow":      {pendingCommit{Commit: make([]byte, 150<<10), Welcome: make([]byte, 110<<10)}, false},
	} {
		err := checkCommitSize(&tc.pc, maxFrameBytes)
		if tc.ok != (err == nil) || (err != nil && parley.ErrorReason(err) != "commit_too_large") {
			t.Fatalf("%s: %v", name, err)
		}
	}
}
