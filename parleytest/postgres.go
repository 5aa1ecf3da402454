package parleytest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// PostgresDSN returns a DSN of the PostgreSQL server in PARLEY_TEST_POSTGRES
// (scripts/postgres-start.sh prints it) on a new, empty schema named
// prefix_<random>, dropped when t ends; it skips t, saying how to run it,
// when the variable is unset.
func PostgresDSN(t testing.TB, prefix string) string {
	t.Helper()
	base := os.Getenv("PARLEY_TEST_POSTGRES")
	if base == "" {
		t.Skip("PARLEY_TEST_POSTGRES not set: eval \"$(bash scripts/postgres-start.sh)\" first")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := prefix + "_" + hex.EncodeToString(b)
	exec := func(sql string) error {
		ctx := context.Background()
		admin, err := pgx.Connect(ctx, base)
		if err != nil {
			return err
		}
		defer admin.Close(ctx)
		_, err = admin.Exec(ctx, sql)
		return err
	}
	if err := exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("parleytest: create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		if err := exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE"); err != nil {
			t.Errorf("parleytest: drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parleytest: PARLEY_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
