package webhook_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/store/postgres"
	"github.com/parleyhq/parley/webhook"
)

// openPostgres opens a store on a fresh schema of PARLEY_TEST_POSTGRES
// (dropped when the test ends), or skips.
func openPostgres(t *testing.T) *postgres.Store {
	t.Helper()
	base := os.Getenv("PARLEY_TEST_POSTGRES")
	if base == "" {
		t.Skip("PARLEY_TEST_POSTGRES not set: start PostgreSQL with scripts/postgres-start.sh")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "parley_wh_" + hex.EncodeToString(b)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop %s: %v", name, err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "DROP SCHEMA IF EXISTS "+name+" CASCADE"); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	s, err := postgres.Open(ctx, u.String())
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
