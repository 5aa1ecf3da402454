package node

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunRefusesNATSWithSQLite: a cluster node needs the shared PostgreSQL
// database; Run refuses before opening anything.
func TestRunRefusesNATSWithSQLite(t *testing.T) {
	dir := t.TempDir()
	err := Run(t.Context(), Options{NATS: "nats://127.0.0.1:1", DataDir: dir, Listen: "127.0.0.1:0", Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if !errors.Is(err, ErrNATSNeedsPostgres) {
		t.Fatalf("Run with NATS and no Postgres: %v, want %v", err, ErrNATSNeedsPostgres)
	}
	if _, err := os.Stat(filepath.Join(dir, "parley.db")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("parley.db after the refusal: %v", err)
	}
}

// TestKeyFiles: a missing key file is created (mode 0600) and read back as
// the same key; a file that holds no key is refused, not replaced.
func TestKeyFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	k1, err := codeKey(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "code.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("code.key: %v %v", fi, err)
	}
	k2, err := codeKey(dir, "")
	if err != nil || !bytes.Equal(k1, k2) || len(k1) != 32 {
		t.Fatalf("code key read back: %x, %v; created %x", k2, err, k1)
	}
	cfg, err := businessAPIConfig(dir, "", "tok", false)
	if err != nil || len(cfg.OperatorKey) != 32 || bytes.Equal(cfg.OperatorKey, k1) {
		t.Fatalf("operator key: %+v, %v", cfg, err)
	}
	bad := filepath.Join(dir, "bad.key")
	if err := os.WriteFile(bad, []byte("not hex\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := codeKey(dir, bad); err == nil || !strings.Contains(err.Error(), "64 hex digits") {
		t.Fatalf("bad code key: %v", err)
	}
	if data, _ := os.ReadFile(bad); string(data) != "not hex\n" {
		t.Fatalf("bad key file replaced: %q", data)
	}
}
