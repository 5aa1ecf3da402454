package hosted

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/parleyhq/parley"
)

func TestSealedFileRoundTrip(t *testing.T) {
	key := bytes.Repeat([]byte{1}, 32)
	dir := t.TempDir()
	for _, size := range []int{0, 1, chunkSize - 1, chunkSize, chunkSize + 1, 3*chunkSize + 17} {
		data := make([]byte, size)
		_, _ = rand.Read(data)
		path := filepath.Join(dir, "f")
		n, sum, err := sealFile(key, path, "med_x", bytes.NewReader(data), 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		want := sha256.Sum256(data)
		if n != int64(size) || sum != hex.EncodeToString(want[:]) {
			t.Fatalf("size %d: got %d %s", size, n, sum)
		}
		raw, _ := os.ReadFile(path)
		if size > 16 && bytes.Contains(raw, data[:16]) {
			t.Fatal("plaintext on disk")
		}
		rc, err := openSealedFile(key, path, "med_x")
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("size %d: read back %d bytes, err %v", size, len(got), err)
		}
		// Another id, another key, a truncated file: all refused.
		if rc, err := openSealedFile(key, path, "med_y"); err == nil {
			if _, err := io.ReadAll(rc); err == nil {
				t.Fatalf("size %d: opened under another id", size)
			}
			rc.Close()
		}
		if rc, err := openSealedFile(bytes.Repeat([]byte{2}, 32), path, "med_x"); err == nil {
			if _, err := io.ReadAll(rc); err == nil {
				t.Fatalf("size %d: opened with another key", size)
			}
			rc.Close()
		}
		if size > chunkSize {
			if err := os.WriteFile(path, raw[:len(raw)-(size%chunkSize)-40], 0o600); err != nil {
				t.Fatal(err)
			}
			if rc, err := openSealedFile(key, path, "med_x"); err == nil {
				if _, err := io.ReadAll(rc); err == nil {
					t.Fatalf("size %d: a truncated file read without error", size)
				}
				rc.Close()
			}
		}
		os.Remove(path)
	}
}

func TestSealedFileLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	_, _, err := sealFile(bytes.Repeat([]byte{1}, 32), path, "m", bytes.NewReader(make([]byte, 100)), 99)
	if !parley.IsCode(err, parley.CodeTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("a refused file was left behind")
	}
}

func TestMessageID(t *testing.T) {
	id := MessageID("cabcdefghij", 42)
	conv, seq, err := ParseMessageID(id)
	if err != nil || conv != "cabcdefghij" || seq != 42 {
		t.Fatalf("%s → %s %d %v", id, conv, seq, err)
	}
	for _, bad := range []string{"", "wamid.", "wamid.cabcdefghij", "wamid.cabcdefghij.0", "wamid.X.1", "mid.cabcdefghij.1", "wamid.cabcdefghij.x"} {
		if _, _, err := ParseMessageID(bad); !parley.IsCode(err, parley.CodeInvalid) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
