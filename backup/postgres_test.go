package backup_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/backup"
	"github.com/parleyhq/parley/store/postgres"
)

// pgBin finds pg_dump and pg_restore: on PATH, else Debian's PostgreSQL 15.
func pgBin(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return "/usr/lib/postgresql/15/bin/" + name
}

// mustDatabase creates an empty database on PARLEY_TEST_POSTGRES's server,
// dropped when the test ends, and returns its DSN.
func mustDatabase(t *testing.T) string {
	t.Helper()
	base := os.Getenv("PARLEY_TEST_POSTGRES")
	if base == "" {
		t.Skip("PARLEY_TEST_POSTGRES not set: start PostgreSQL with scripts/postgres-start.sh")
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "parley_backup_" + hex.EncodeToString(b)
	admin, err := pgx.Connect(t.Context(), base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(t.Context(), "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, base); err == nil {
			c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(ctx)
		}
	})
	u, _ := url.Parse(base)
	u.Path = "/" + name
	return u.String()
}

// TestPostgresRoundTrip: a PostgreSQL server's archive (pg_dump plus the
// blobs) restores into an empty database and directory, data intact.
func TestPostgresRoundTrip(t *testing.T) {
	src, dst := mustDatabase(t), mustDatabase(t)
	ctx := t.Context()
	st, err := postgres.Open(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateUser(ctx, parley.User{Phone: "+14155550100", Name: "Ada", CreatedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	dir, _ := mustDataDir(t) // its blobs and keys; its SQLite file is not archived
	var buf bytes.Buffer
	m, err := backup.Create(ctx, &buf, backup.Options{DataDir: dir, Postgres: src, PGDump: pgBin("pg_dump"), TempDir: t.TempDir()})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if m.Store != "postgres" {
		t.Fatalf("store = %q", m.Store)
	}
	restored := filepath.Join(t.TempDir(), "r")
	if _, err := backup.Restore(ctx, bytes.NewReader(buf.Bytes()), restored, backup.RestoreOptions{}); err == nil {
		t.Fatal("a PostgreSQL archive restored without a database")
	}
	if _, err := backup.Restore(ctx, bytes.NewReader(buf.Bytes()), restored, backup.RestoreOptions{Postgres: dst, PGRestore: pgBin("pg_restore")}); err != nil {
		t.Fatal(err)
	}
	st, err = postgres.Open(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if u, err := st.UserByPhone(ctx, "+14155550100"); err != nil || u.Name != "Ada" {
		t.Fatalf("restored user = %+v, %v", u, err)
	}
	for _, p := range []string{"blobs", "hosted/1/state"} {
		if _, err := os.Stat(filepath.Join(restored, p)); err != nil {
			t.Fatalf("%s not restored: %v", p, err)
		}
	}
	for _, p := range []string{"parley.db", "postgres.dump", "operator.key"} {
		if _, err := os.Stat(filepath.Join(restored, p)); err == nil {
			t.Fatalf("%s restored", p)
		}
	}
}
