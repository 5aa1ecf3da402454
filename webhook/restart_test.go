package webhook_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/parleyhq/parley/server"
	"github.com/parleyhq/parley/store/sqlite"
	"github.com/parleyhq/parley/webhook"
)

// startServer runs the real server over the SQLite file in dir on 127.0.0.1.
func startServer(t *testing.T, dir string) (*server.Server, *sqlite.Store, func()) {
	t.Helper()
	st := openStore(t, dir)
	srv, err := server.New(server.Config{Store: st, Outbound: allowLoopback, Webhook: webhook.Config{Workers: 4, BaseDelay: 5 * time.Millisecond,
		MaxDelay: 30 * time.Millisecond, Poll: 10 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background(), ln) }()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		if err := <-done; err != nil {
			t.Error(err)
		}
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	}
	return srv, st, stop
}

// TestRestartLosesNothing stops the real server while its outbox is being
// delivered to a receiver that fails some attempts, starts a new server on
// the same data, and checks every event arrives, in order per key (a
// delivery cut by the shutdown may arrive twice, right after itself).
func TestRestartLosesNothing(t *testing.T) {
	const keys, per = 5, 40
	dir := t.TempDir()
	rc := newReceiver(t, keys*per)
	halfway := make(chan struct{})
	rc.fail = func(key string, n int) bool {
		if rc.acked >= keys*per/3 && !rc.flag { // POSTs carry several events: acked moves in steps
			rc.flag = true
			close(halfway)
		}
		time.Sleep(time.Millisecond)
		return n%7 == 3 && rc.attempts%2 == 0
	}
	srv, _, stop := startServer(t, dir)
	configure(t, srv.Webhooks, rc, 1)
	for n := range per {
		for k := range keys {
			if err := srv.Webhooks.Enqueue(t.Context(), event(1, fmt.Sprint("wa", k), n)); err != nil {
				t.Fatal(err)
			}
		}
	}
	wait(t, halfway, "a third of the deliveries")
	stop()

	// Between the two servers: events are still in the outbox.
	st := openStore(t, dir)
	pending, _, err := st.WebhookBacklog(t.Context())
	st.Close()
	if err != nil || pending == 0 {
		t.Fatalf("after the stop: %d pending (%v), want some", pending, err)
	}
	rc.mu.Lock()
	before := rc.acked
	rc.mu.Unlock()

	_, _, stop = startServer(t, dir)
	defer stop()
	wait(t, rc.all, "the deliveries after the restart")
	rc.checkOrder(t, keys, per, true)
	t.Logf("%d acknowledged before the restart, %d pending at the stop", before, pending)
}
