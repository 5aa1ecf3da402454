package client_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
)

// mustCopyProfile makes dst a second copy of the closed profile src: the
// same device, as two tabs of one browser profile share one.
func mustCopyProfile(t *testing.T, src, dst string) {
	t.Helper()
	if os.Getenv("PARLEY_TEST_STORE") == "kv" {
		testKVs.Lock()
		testKVs.m[dst] = testKVs.m[src]
		testKVs.Unlock()
		return
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || e.Name() == "lock" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSessionReplacedStopsReconnecting: when a second copy of a device
// connects, the server closes the first copy's session (4010
// session_replaced); the first copy stops instead of reconnecting and
// taking the session back, and the second copy keeps working.
func TestSessionReplacedStopsReconnecting(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	dir := t.TempDir()
	first := mustOpen(t, dir)
	if _, err := first.Register(ctx, ts.URL, phone(9401), "Ann"); err != nil {
		t.Fatal(err)
	}
	if _, err := first.Verify(ctx, ts.Codes.MustCode(t, phone(9401)), ""); err != nil {
		t.Fatal(err)
	}
	bob := mustRegister(t, ts, phone(9402), "Bob")
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	copyDir := t.TempDir()
	mustCopyProfile(t, dir, copyDir)

	first = mustOpen(t, dir)
	if _, err := first.Devices(ctx); err != nil {
		t.Fatalf("first copy online: %v", err)
	}
	second := mustOpen(t, copyDir)
	if _, err := second.Devices(ctx); err != nil {
		t.Fatalf("second copy online: %v", err)
	}
	ev := mustEvent(t, first, "the first copy to be replaced", func(ev client.Event) bool {
		return ev.Kind == client.EventConnection && parley.ErrorReason(ev.Err) == client.ReasonSessionReplaced
	})
	if !parley.IsCode(ev.Err, parley.CodeConflict) {
		t.Fatalf("replaced: %v, want conflict", ev.Err)
	}
	if _, err := first.Devices(ctx); parley.ErrorReason(err) != client.ReasonSessionReplaced {
		t.Fatalf("first copy's request after replacement: %v, want %s", err, client.ReasonSessionReplaced)
	}
	// Had the first copy reconnected, it would have replaced the second
	// in turn; the second sends and Bob receives.
	if _, err := second.Send(ctx, bob.phone, "from the second copy"); err != nil {
		t.Fatalf("second copy sends: %v", err)
	}
	mustEvent(t, bob.Client, "Bob to receive the second copy's message", isMessage("from the second copy"))
	if _, err := second.Devices(ctx); err != nil {
		t.Fatalf("second copy after the first stopped: %v", err)
	}
}
