package client

import (
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/mls"
)

func TestAddChunk(t *testing.T) {
	kp := make([]byte, 280)
	adds := make([][]byte, 5000)
	for i := range adds {
		adds[i] = kp
	}
	n := addChunk(adds, maxFrameBytes, 0, false)
	// Each add: 280 + 8 in the commit, 160 in the Welcome, 24 in the frame.
	if want := (maxFrameBytes - 2*fixedReserve) / (280 + 8 + 160 + 24); n != want {
		t.Fatalf("addChunk = %d, want %d", n, want)
	}
	if n := addChunk(adds, maxFrameBytes, 7, false); n != 7 {
		t.Fatalf("addChunk with MaxAddsPerCommit 7 = %d", n)
	}
	// Payload-bound: a 1 MiB frame still keeps the commit under 192 KiB.
	if n := addChunk(adds, 1<<20, 0, false); n*(280+8)+fixedReserve > maxPayloadBytes {
		t.Fatalf("addChunk = %d overflows the commit payload", n)
	}
	if n := addChunk([][]byte{make([]byte, 300<<10)}, maxFrameBytes, 0, false); n != 1 {
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

// A post-quantum KeyPackage (X-Wing init key of 1,216 bytes) costs its
// Welcome ~1.3 KB, and with the tree inline its LeafNode twice more: the
// chunk shrinks accordingly, so the creating commit's frame still fits.
func TestAddChunkPostQuantum(t *testing.T) {
	cs := mls.MLS_128_MLKEM768X25519_AES128GCM_SHA256_Ed25519
	s, err := mls.GenerateSigner(cs)
	if err != nil {
		t.Fatal(err)
	}
	b, err := mls.NewKeyPackage(cs, s, mls.NewBasicCredential([]byte("1:1")), mls.KeyPackageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kp, err := mls.MarshalKeyPackage(&b.KeyPackage)
	if err != nil {
		t.Fatal(err)
	}
	adds := make([][]byte, 500)
	for i := range adds {
		adds[i] = kp
	}
	leaf := len(kp) - len(b.KeyPackage.InitKey)
	perAdd := len(kp) + proposalOverhead + welcomePerAdd - 32 + len(b.KeyPackage.InitKey) + addedDeviceBytes
	if n, want := addChunk(adds, maxFrameBytes, 0, false), (maxFrameBytes-2*fixedReserve)/perAdd; n != want {
		t.Fatalf("addChunk = %d, want %d", n, want)
	}
	if n, want := addChunk(adds, maxFrameBytes, 0, true), (maxFrameBytes-2*fixedReserve)/(perAdd+2*leaf); n != want {
		t.Fatalf("addChunk with the tree inline = %d, want %d", n, want)
	}
}
