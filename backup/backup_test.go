package backup_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/backup"
	"github.com/parleyhq/parley/blob/disk"
	"github.com/parleyhq/parley/store/sqlite"
)

// mustDataDir makes a data directory as `parley serve` leaves it: a SQLite
// store with a user, a blob, the keys and a staged upload.
func mustDataDir(t testing.TB) (dir string, blob parley.BlobID) {
	t.Helper()
	dir = t.TempDir()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.CreateUser(ctx, parley.User{Phone: "+14155550100", Name: "Ada", CreatedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	bs, err := disk.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	blob = parley.BlobID("b" + strings.Repeat("7", 63))
	if !blob.Valid() {
		t.Fatalf("test blob id %s is not valid", blob)
	}
	data := []byte("ciphertext of a photo")
	if err := bs.Put(ctx, blob, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"operator.key", "code.key", "acme/acme_account+key", "uploads/partial", "hosted/1/state"} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, []byte(name), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir, blob
}

func mustArchive(t testing.TB, dir string, keys bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := backup.Create(context.Background(), &buf, backup.Options{DataDir: dir, IncludeKeys: keys, TempDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	src, blob := mustDataDir(t)
	for _, keys := range []bool{false, true} {
		t.Run(map[bool]string{false: "without keys", true: "with keys"}[keys], func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "restored")
			m, err := backup.Restore(context.Background(), bytes.NewReader(mustArchive(t, src, keys)), dst, backup.RestoreOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if m.Store != "sqlite" || m.Keys != keys {
				t.Fatalf("manifest store %q keys %v", m.Store, m.Keys)
			}
			st, err := sqlite.Open(context.Background(), filepath.Join(dst, "parley.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if u, err := st.UserByPhone(context.Background(), "+14155550100"); err != nil || u.Name != "Ada" {
				t.Fatalf("restored user = %+v, %v", u, err)
			}
			bs, _ := disk.Open(filepath.Join(dst, "blobs"))
			rc, err := bs.Get(context.Background(), blob, 0, -1)
			if err != nil {
				t.Fatalf("restored blob: %v", err)
			}
			got, _ := io.ReadAll(rc)
			rc.Close()
			if string(got) != "ciphertext of a photo" {
				t.Fatalf("restored blob = %q", got)
			}
			if _, err := os.Stat(filepath.Join(dst, "hosted/1/state")); err != nil {
				t.Fatal("hosted state not restored")
			}
			if _, err := os.Stat(filepath.Join(dst, "uploads")); err == nil {
				t.Fatal("staged uploads were restored")
			}
			for _, k := range []string{"operator.key", "code.key", "acme/acme_account+key"} {
				_, err := os.Stat(filepath.Join(dst, k))
				if (err == nil) != keys {
					t.Fatalf("%s restored = %v, want %v", k, err == nil, keys)
				}
			}
		})
	}
}

// entry is one file of a hand-made archive.
type entry struct {
	name string
	data string
	typ  byte
}

// craft writes entries and then a manifest listing listed (nil: every
// entry, with its true checksum), as Create would.
func craft(t testing.TB, entries []entry, m *backup.Manifest) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	if m == nil {
		m = &backup.Manifest{Format: backup.Format, Version: backup.Version, Store: "sqlite"}
		for _, e := range entries {
			sum := sha256.Sum256([]byte(e.data))
			m.Files = append(m.Files, backup.File{Path: e.name, Size: int64(len(e.data)), SHA256: hex.EncodeToString(sum[:])})
		}
	}
	js, _ := json.Marshal(m)
	for _, e := range append(entries, entry{name: backup.ManifestName, data: string(js)}) {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{Name: e.name, Mode: 0o600, Size: int64(len(e.data)), Typeflag: typ}
		if typ != tar.TypeReg {
			hdr.Size, hdr.Linkname = 0, "/etc/passwd"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(e.data))
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

func TestRestoreRefuses(t *testing.T) {
	src, _ := mustDataDir(t)
	good := mustArchive(t, src, false)
	db, _ := os.ReadFile(filepath.Join(src, "parley.db"))
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	manifest := func(files ...backup.File) *backup.Manifest {
		return &backup.Manifest{Format: backup.Format, Version: backup.Version, Store: "sqlite", Files: files}
	}
	dbFile := backup.File{Path: "parley.db", Size: int64(len(db)), SHA256: sum(string(db))}
	for name, tc := range map[string]struct {
		archive []byte
		reason  string
	}{
		"not gzip":          {[]byte("hello"), backup.ReasonNotArchive},
		"truncated":         {good[:len(good)/2], backup.ReasonNotArchive},
		"no manifest":       {craftNoManifest(t), backup.ReasonBadManifest},
		"parent path":       {craft(t, []entry{{name: "blobs/../../x", data: "x"}}, nil), backup.ReasonUnsafePath},
		"absolute path":     {craft(t, []entry{{name: "/etc/x", data: "x"}}, nil), backup.ReasonUnsafePath},
		"unknown top level": {craft(t, []entry{{name: "uploads/x", data: "x"}}, nil), backup.ReasonUnsafePath},
		"symlink":           {craft(t, []entry{{name: "blobs/l", typ: tar.TypeSymlink}}, nil), backup.ReasonUnsafePath},
		"checksum":          {craft(t, []entry{{name: "parley.db", data: string(db)}, {name: "blobs/aa/x", data: "tampered"}}, manifest(dbFile, backup.File{Path: "blobs/aa/x", Size: 8, SHA256: sum("original")})), backup.ReasonChecksum},
		"unlisted":          {craft(t, []entry{{name: "parley.db", data: string(db)}, {name: "blobs/aa/x", data: "x"}}, manifest(dbFile)), backup.ReasonUnlistedFile},
		"missing":           {craft(t, []entry{{name: "parley.db", data: string(db)}}, manifest(dbFile, backup.File{Path: "blobs/aa/x", Size: 1, SHA256: sum("x")})), backup.ReasonMissingFile},
		"duplicate":         {craft(t, []entry{{name: "parley.db", data: string(db)}, {name: "parley.db", data: string(db)}}, manifest(dbFile)), backup.ReasonDuplicateFile},
		"undeclared key":    {craft(t, []entry{{name: "parley.db", data: string(db)}, {name: "operator.key", data: "k"}}, nil), backup.ReasonBadManifest},
		"corrupt database":  {craft(t, []entry{{name: "parley.db", data: "SQLite format 3\x00" + strings.Repeat("\xff", 4096)}}, nil), backup.ReasonCorruptSQLite},
	} {
		t.Run(name, func(t *testing.T) {
			dst := t.TempDir()
			_, err := backup.Restore(context.Background(), bytes.NewReader(tc.archive), dst, backup.RestoreOptions{})
			var pe *parley.Error
			if !errors.As(err, &pe) || pe.Reason != tc.reason {
				t.Fatalf("Restore = %v, want reason %s", err, tc.reason)
			}
			if ents, _ := os.ReadDir(dst); len(ents) != 0 {
				t.Fatalf("a refused restore left %d entries", len(ents))
			}
		})
	}
	t.Run("target not empty", func(t *testing.T) {
		dst := t.TempDir()
		os.WriteFile(filepath.Join(dst, "keep"), []byte("mine"), 0o600)
		_, err := backup.Restore(context.Background(), bytes.NewReader(good), dst, backup.RestoreOptions{})
		var pe *parley.Error
		if !errors.As(err, &pe) || pe.Reason != backup.ReasonNotEmpty {
			t.Fatalf("Restore = %v, want %s", err, backup.ReasonNotEmpty)
		}
		if b, _ := os.ReadFile(filepath.Join(dst, "keep")); string(b) != "mine" {
			t.Fatal("a refused restore touched the directory's file")
		}
	})
}

func craftNoManifest(t testing.TB) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	tw.WriteHeader(&tar.Header{Name: "parley.db", Mode: 0o600, Size: 1, Typeflag: tar.TypeReg})
	tw.Write([]byte("x"))
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

// FuzzRestore: any bytes either restore into a verified directory or are
// refused leaving it empty; nothing is written outside it.
func FuzzRestore(f *testing.F) {
	// Hand-made seeds in Create's layout, of a PostgreSQL server's archive
	// (with no database to load into, Restore refuses them after the
	// checks): an accepted SQLite archive would run SQLite's integrity
	// check, very slow under the fuzzer's instrumentation (TestRoundTrip
	// and TestRestoreRefuses cover that path).
	pg := func(entries ...entry) []byte {
		m := &backup.Manifest{Format: backup.Format, Version: backup.Version, Store: "postgres", Keys: true}
		for _, e := range entries {
			sum := sha256.Sum256([]byte(e.data))
			m.Files = append(m.Files, backup.File{Path: e.name, Size: int64(len(e.data)), SHA256: hex.EncodeToString(sum[:])})
		}
		return craft(f, entries, m)
	}
	f.Add(pg(entry{name: "postgres.dump", data: "PGDMP"}, entry{name: "blobs/aa/x", data: "x"}, entry{name: "hosted/1/s", data: "s"}))
	f.Add(pg(entry{name: "postgres.dump", data: "PGDMP"}, entry{name: "operator.key", data: "k"}, entry{name: "acme/a", data: "a"}))
	f.Add(craft(f, []entry{{name: "blobs/aa/x", data: "x"}}, nil))
	f.Add(craftNoManifest(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		parent := t.TempDir()
		dst := filepath.Join(parent, "d")
		_, err := backup.Restore(context.Background(), bytes.NewReader(data), dst, backup.RestoreOptions{MaxSize: 16 << 20})
		if ents, _ := os.ReadDir(parent); len(ents) != 1 {
			t.Fatalf("restore wrote beside its directory: %v", ents)
		}
		ents, _ := os.ReadDir(dst)
		if err != nil && len(ents) != 0 {
			t.Fatalf("refused restore (%v) left %d entries", err, len(ents))
		}
		if err == nil {
			if _, err := os.Stat(filepath.Join(dst, "parley.db")); err != nil {
				t.Fatal("accepted archive without its database")
			}
		}
	})
}

// FuzzParseManifest: a manifest either parses into one whose every path
// is safe, or is refused with a parley error.
func FuzzParseManifest(f *testing.F) {
	m, _ := json.Marshal(backup.Manifest{Format: backup.Format, Version: backup.Version, Store: "sqlite",
		Files: []backup.File{{Path: "parley.db", Size: 3, SHA256: strings.Repeat("ab", 32)}, {Path: "blobs/aa/b", Size: 1, SHA256: strings.Repeat("cd", 32)}}})
	f.Add(m)
	f.Add([]byte(`{"format":"parley-backup","version":1,"store":"postgres","files":[{"path":"../x"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := backup.ParseManifest(b)
		if err != nil {
			var pe *parley.Error
			if !errors.As(err, &pe) || pe.Code != parley.CodeInvalid {
				t.Fatalf("refusal is not an invalid parley error: %v", err)
			}
			return
		}
		for _, f := range m.Files {
			if strings.Contains(f.Path, "..") || strings.HasPrefix(f.Path, "/") {
				t.Fatalf("accepted path %q", f.Path)
			}
		}
	})
}
