package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/store/postgres"
	"github.com/parleyhq/parley/store/storetest"
)

var (
	dbsMu sync.Mutex
	dbs   = map[testing.TB]string{}
)

// dsn returns PARLEY_TEST_POSTGRES or skips the test.
func dsn(t testing.TB) string {
	t.Helper()
	d := os.Getenv("PARLEY_TEST_POSTGRES")
	if d == "" {
		t.Skip("PARLEY_TEST_POSTGRES not set: start PostgreSQL with scripts/postgres-start.sh")
	}
	return d
}

// open opens a store on a schema of its own per test (created here, dropped
// with everything in it when the test ends; the store reaches it through
// search_path); a second call with the same t reopens it.
func open(t *testing.T) parley.Store { return openTB(t, nil) }

// openBench opens a store on a fresh schema for a benchmark, with room for
// 32 transactions in flight.
func openBench(b *testing.B) *postgres.Store {
	return openTB(b, url.Values{"pool_max_conns": {"32"}})
}

func openTB(t testing.TB, params url.Values) *postgres.Store {
	base := dsn(t)
	dbsMu.Lock()
	name, ok := dbs[t]
	if !ok {
		name = createSchema(t, base)
		dbs[t] = name
	}
	dbsMu.Unlock()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	for k, v := range params {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	s, err := postgres.Open(t.Context(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func createSchema(t testing.TB, base string) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "parley_t_" + hex.EncodeToString(b)
	admin, err := pgx.Connect(t.Context(), base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(t.Context(), "CREATE SCHEMA "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		dbsMu.Lock()
		delete(dbs, t)
		dbsMu.Unlock()
		ctx := context.Background()
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
	return name
}

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestStore(t *testing.T) {
	dsn(t)
	storetest.RunAll(t, open)
}

func TestOpenBadDSN(t *testing.T) {
	if _, err := postgres.Open(t.Context(), "postgres://nobody@127.0.0.1:1/none?connect_timeout=1"); err == nil {
		t.Fatal("Open of an unreachable server succeeded")
	}
}
