package backup_test

import (
	"bytes"
	"crypto/rand"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client/backup"
)

func mustSeal(t testing.TB, key backup.RecoveryKey, plain []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := backup.NewWriter(&out, key, time.UnixMilli(1_700_000_000_000))
	if err != nil {
		t.Fatal(err)
	}
	// Odd write sizes cross chunk boundaries.
	for p := plain; len(p) > 0; {
		n := min(len(p), 7919)
		if _, err := w.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func open(key backup.RecoveryKey, sealed []byte) ([]byte, error) {
	r, err := backup.NewReader(bytes.NewReader(sealed), key)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func TestRoundTrip(t *testing.T) {
	key := backup.NewRecoveryKey()
	for _, n := range []int{0, 1, backup.DefaultChunkSize - 1, backup.DefaultChunkSize, backup.DefaultChunkSize + 1, 3*backup.DefaultChunkSize + 17} {
		plain := make([]byte, n)
		_, _ = rand.Read(plain)
		sealed := mustSeal(t, key, plain)
		got, err := open(key, sealed)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if !bytes.Equal(got, plain) {
			t.Fatalf("%d bytes: the content differs", n)
		}
	}
}

func TestRefusals(t *testing.T) {
	key := backup.NewRecoveryKey()
	plain := bytes.Repeat([]byte("marker "), backup.DefaultChunkSize/3)
	sealed := mustSeal(t, key, plain)
	if bytes.Contains(sealed, []byte("marker")) {
		t.Fatal("the plaintext shows in the backup")
	}
	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 1
		return b
	}
	cases := []struct {
		name   string
		key    backup.RecoveryKey
		data   []byte
		reason string
	}{
		{"wrong key", backup.NewRecoveryKey(), sealed, backup.ReasonBackupWrongKey},
		{"not a backup", key, []byte("PK\x03\x04 not a backup at all, but long enough to hold a header......................"), backup.ReasonBackupCorrupt},
		{"empty", key, nil, backup.ReasonBackupCorrupt},
		{"newer version", key, flip(8), backup.ReasonBackupVersion},
		{"header date changed", key, flip(12), backup.ReasonBackupCorrupt},
		{"ciphertext changed", key, flip(len(sealed) - 20), backup.ReasonBackupCorrupt},
		{"cut at a chunk", key, sealed[:len(sealed)-(4+12+16+(len(plain)-2*backup.DefaultChunkSize))], backup.ReasonBackupCorrupt},
		{"cut inside", key, sealed[:len(sealed)-5], backup.ReasonBackupCorrupt},
		{"trailing data", key, append(bytes.Clone(sealed), 0), backup.ReasonBackupCorrupt},
	}
	for _, c := range cases {
		_, err := open(c.key, c.data)
		if parley.ErrorReason(err) != c.reason {
			t.Errorf("%s: got %v, want reason %s", c.name, err, c.reason)
		}
	}
}

func TestRecoveryKey(t *testing.T) {
	k := backup.NewRecoveryKey()
	s := k.String()
	if n := len(strings.ReplaceAll(s, " ", "")); n != 64 {
		t.Fatalf("%q has %d characters, want 64", s, n)
	}
	for _, form := range []string{s, strings.ReplaceAll(s, " ", ""), strings.ToUpper(strings.ReplaceAll(s, " ", "-"))} {
		got, err := backup.ParseRecoveryKey(form)
		if err != nil || got != k {
			t.Fatalf("parse %q: %v", form, err)
		}
	}
	for _, bad := range []string{"", s[:len(s)-1], strings.Replace(s, s[:1], "g", 1)} {
		if _, err := backup.ParseRecoveryKey(bad); parley.ErrorReason(err) != backup.ReasonBadRecoveryKey {
			t.Errorf("parse %q: got %v", bad, err)
		}
	}
}

// FuzzReader: a backup's bytes are untrusted (a file, the server's
// answer). Reading never panics, and whatever it returns besides the
// plaintext sealed is an error with a reason.
func FuzzReader(f *testing.F) {
	var key backup.RecoveryKey
	f.Add(mustSeal(f, key, []byte("hello")))
	f.Add(mustSeal(f, key, bytes.Repeat([]byte{1}, backup.DefaultChunkSize+3)))
	f.Add([]byte("PARLEYBK"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := open(key, data)
		if err != nil && parley.ErrorReason(err) == "" {
			t.Fatalf("an error without a reason: %v", err)
		}
	})
}
