package webhook_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/store/postgres"
	"github.com/parleyhq/parley/webhook"
)

// openPostgres opens a store on a fresh schema of PARLEY_TEST_POSTGRES
// (dropped when the test ends), or skips.
func openPostgres(t *testing.T) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), parleytest.PostgresDSN(t, "parley_wh"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestTwoServersOnePostgres: two delivery services (two server processes
// of a cluster) share one PostgreSQL outbox and a receiver that fails some
// attempts: every event arrives once, in order per key.
func TestTwoServersOnePostgres(t *testing.T) {
	const keys, per = 8, 15
	s := openPostgres(t)
	cfg := webhook.Config{Outbound: allowLoopback, Workers: 4, BaseDelay: 5 * time.Millisecond, MaxDelay: 30 * time.Millisecond, Poll: 10 * time.Millisecond}
	a, b := webhook.New(s, nil, nil, cfg), webhook.New(s, nil, nil, cfg)
	rc := newReceiver(t, keys*per)
	rc.fail = func(key string, n int) bool { return n%5 == 2 && rc.attempts%3 == 0 }
	configure(t, a, rc, 1)
	run(t, a)
	run(t, b)
	for n := range per {
		for k := range keys {
			svc := a
			if (n+k)%2 == 1 {
				svc = b
			}
			if err := svc.Enqueue(t.Context(), event(1, fmt.Sprint("wa", k), n)); err != nil {
				t.Fatal(err)
			}
		}
	}
	wait(t, rc.all, "all deliveries")
	rc.checkOrder(t, keys, per, false)
	if a.Stats().Delivered == 0 || b.Stats().Delivered == 0 {
		t.Logf("one service delivered everything: a %+v, b %+v", a.Stats(), b.Stats())
	}
}
