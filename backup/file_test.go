package backup_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/parleyhq/parley/backup"
)

// TestCreateFile: the archive appears at its path only when whole, never
// over an existing file, and no partial file is left behind either way.
func TestCreateFile(t *testing.T) {
	src, _ := mustDataDir(t)
	out := filepath.Join(t.TempDir(), "b.tar.gz")
	m, err := backup.CreateFile(context.Background(), out, backup.Options{DataDir: src})
	if err != nil {
		t.Fatal(err)
	}
	if m.Size() == 0 || !m.Hosted() || m.Keys {
		t.Fatalf("manifest: size %d hosted %v keys %v", m.Size(), m.Hosted(), m.Keys)
	}
	if _, err := os.Stat(out + ".partial"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("partial file after success: %v", err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := backup.Restore(context.Background(), f, filepath.Join(t.TempDir(), "r"), backup.RestoreOptions{}); err != nil {
		t.Fatalf("restore of CreateFile's archive: %v", err)
	}
	if _, err := backup.CreateFile(context.Background(), out, backup.Options{DataDir: src}); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("CreateFile over an existing archive: %v", err)
	}
	if _, err := os.Stat(out + ".partial"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("partial file after a refusal: %v", err)
	}
	if _, err := backup.CreateFile(context.Background(), out+"2", backup.Options{DataDir: filepath.Join(src, "missing")}); err == nil {
		t.Fatal("CreateFile of a missing data directory succeeded")
	}
	want := []string{filepath.Join(src, "operator.key"), filepath.Join(src, "code.key"), filepath.Join(src, "acme")}
	if got := backup.KeysIn(src); !reflect.DeepEqual(got, want) {
		t.Fatalf("KeysIn = %v, want %v", got, want)
	}
}
