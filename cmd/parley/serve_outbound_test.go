package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/parleyhq/parley/outbound"
)

// mustServe runs `parley serve` with args on port 0 in a temp dir and
// returns its URL; it stops when the test ends.
func mustServe(t *testing.T, args ...string) string {
	t.Helper()
	public, _ := runServe(t, args...)
	return public
}

// TestServeOutboundAllow: `parley serve --sms-webhook` on a loopback
// gateway reaches it only when --outbound-allow (or PARLEY_OUTBOUND_ALLOW)
// names its range; otherwise registration fails and the gateway is never
// contacted.
func TestServeOutboundAllow(t *testing.T) {
	var hits atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gw := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })}
	go func() { _ = gw.Serve(ln) }()
	t.Cleanup(func() { gw.Close() })
	sms := "http://" + ln.Addr().String() + "/sms"
	register := func(url, phone string) int {
		code, _, _ := runMain(t, "--json", "--timeout", "10s", "--profile", t.TempDir(), "account", "register", "--server", url, "--phone", phone, "--name", "A")
		return code
	}

	if code := register(mustServe(t, "--sms-webhook", sms), "+14155550181"); code != exitUnavailable {
		t.Fatalf("register with the gateway refused: exit %d, want %d", code, exitUnavailable)
	}
	if hits.Load() != 0 {
		t.Fatalf("the loopback gateway was hit %d times without --outbound-allow", hits.Load())
	}
	if code := register(mustServe(t, "--sms-webhook", sms, "--outbound-allow", "10.0.0.0/8, 127.0.0.1/32"), "+14155550182"); code != exitOK {
		t.Fatalf("register with the gateway allowed: exit %d", code)
	}
	if hits.Load() != 1 {
		t.Fatalf("gateway hits %d, want 1", hits.Load())
	}
	t.Setenv("PARLEY_OUTBOUND_ALLOW", "127.0.0.0/8")
	if code := register(mustServe(t, "--sms-webhook", sms), "+14155550183"); code != exitOK {
		t.Fatalf("register with the gateway allowed by PARLEY_OUTBOUND_ALLOW: exit %d", code)
	}
	if hits.Load() != 2 {
		t.Fatalf("gateway hits %d, want 2", hits.Load())
	}
}

func TestServeOutboundAllowInvalid(t *testing.T) {
	var log syncBuffer
	err := serveCommand(context.Background(), []string{"--data", t.TempDir(), "--listen", "127.0.0.1:0", "--outbound-allow", "localhost"}, &log, &log)
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte(outbound.ReasonBadAllow)) {
		t.Fatalf("serve --outbound-allow localhost: %v", err)
	}
}
