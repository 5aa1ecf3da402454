package webhook_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/server"
	"github.com/parleyhq/parley/store/sqlite"
	"github.com/parleyhq/parley/webhook"
)

// startServer runs the real server (parleytest) on 127.0.0.1 with fast
// webhook retries.
func startServer(t *testing.T) *parleytest.Server {
	t.Helper()
	return parleytest.Start(t, func(c *server.Config) {
		c.Outbound = allowLoopback
		c.Webhook = webhook.Config{Workers: 4, BaseDelay: 5 * time.Millisecond, MaxDelay: 30 * time.Millisecond, Poll: 10 * time.Millisecond}
	})
}

// TestRestartLosesNothing stops the real server while its outbox is being
// delivered to a receiver that fails some attempts, starts a new server on
// the same data, and checks every event arrives, in order per key (a
// delivery cut by the shutdown may arrive twice, right after itself).
func TestRestartLosesNothing(t *testing.T) {
	const keys, per = 5, 40
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
	srv := startServer(t)
	configure(t, srv.Webhooks, rc, 1)
	for n := range per {
		for k := range keys {
			if err := srv.Webhooks.Enqueue(t.Context(), event(1, fmt.Sprint("wa", k), n)); err != nil {
				t.Fatal(err)
			}
		}
	}
	wait(t, halfway, "a third of the deliveries")
	srv.Close()

	// Between the two servers: events are still in the outbox.
	st, err := sqlite.Open(t.Context(), srv.DB)
	if err != nil {
		t.Fatal(err)
	}
	pending, _, err := st.WebhookBacklog(t.Context())
	st.Close()
	if err != nil || pending == 0 {
		t.Fatalf("after the stop: %d pending (%v), want some", pending, err)
	}
	rc.mu.Lock()
	before := rc.acked
	rc.mu.Unlock()

	srv.Restart()
	wait(t, rc.all, "the deliveries after the restart")
	rc.checkOrder(t, keys, per, true)
	t.Logf("%d acknowledged before the restart, %d pending at the stop", before, pending)
}
