// Package blobtest is the contract suite every parley.BlobStore passes:
// blob/disk runs it on a temporary directory, blob/s3 on a real
// S3-compatible server.
package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/parleyhq/parley"
)

// Run runs the contract suite. open returns a fresh, empty store for each
// subtest.
func Run(t *testing.T, open func(t *testing.T) parley.BlobStore) {
	for _, tc := range []struct {
		name string
		f    func(t *testing.T, s parley.BlobStore)
	}{
		{"PutGetStat", testPutGetStat},
		{"Ranges", testRanges},
		{"Empty", testEmpty},
		{"WrongSize", testWrongSize},
		{"Missing", testMissing},
		{"Delete", testDelete},
		{"Streaming", testStreaming},
		{"Concurrent", testConcurrent},
		{"CancelledPut", testCancelledPut},
		{"ImportFile", testImportFile},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.f(t, open(t)) })
	}
}

// MustPut stores data under a fresh ID and returns the ID.
func MustPut(t *testing.T, s parley.BlobStore, data []byte) parley.BlobID {
	t.Helper()
	id := parley.NewBlobID()
	if err := s.Put(t.Context(), id, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("Put %s: %v", id, err)
	}
	return id
}

// MustGet reads length bytes from offset.
func MustGet(t *testing.T, s parley.BlobStore, id parley.BlobID, offset, length int64) []byte {
	t.Helper()
	rc, err := s.Get(t.Context(), id, offset, length)
	if err != nil {
		t.Fatalf("Get %s [%d,+%d): %v", id, offset, length, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get %s: read: %v", id, err)
	}
	return b
}

func random(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	_, _ = r.Read(b)
	return b
}

func testPutGetStat(t *testing.T, s parley.BlobStore) {
	data := random(300_000, 1)
	id := MustPut(t, s, data)
	if got := MustGet(t, s, id, 0, -1); !bytes.Equal(got, data) {
		t.Fatalf("Get returned %d bytes, want the %d put", len(got), len(data))
	}
	info, err := s.Stat(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if info.ID != id || info.Size != int64(len(data)) {
		t.Fatalf("Stat = %+v, want %s of %d bytes", info, id, len(data))
	}
}

func testRanges(t *testing.T, s parley.BlobStore) {
	data := random(100_000, 2)
	id := MustPut(t, s, data)
	for name, c := range map[string]struct{ off, n, wantOff, wantN int64 }{
		"head":        {0, 10, 0, 10},
		"middle":      {4_000, 65_552, 4_000, 65_552},
		"tail":        {99_990, -1, 99_990, 10},
		"clipped":     {99_000, 5_000, 99_000, 1_000},
		"at end":      {100_000, -1, 100_000, 0},
		"zero length": {50, 0, 50, 0},
	} {
		t.Run(name, func(t *testing.T) {
			got := MustGet(t, s, id, c.off, c.n)
			if want := data[c.wantOff : c.wantOff+c.wantN]; !bytes.Equal(got, want) {
				t.Fatalf("Get(%d, %d) = %d bytes, want %d", c.off, c.n, len(got), len(want))
			}
		})
	}
	if _, err := s.Get(t.Context(), id, 100_001, -1); !parley.IsCode(err, parley.CodeInvalid) {
		t.Fatalf("Get past the end: %v, want CodeInvalid", err)
	}
}

func testEmpty(t *testing.T, s parley.BlobStore) {
	id := MustPut(t, s, nil)
	if got := MustGet(t, s, id, 0, -1); len(got) != 0 {
		t.Fatalf("empty blob read as %d bytes", len(got))
	}
	if info, err := s.Stat(t.Context(), id); err != nil || info.Size != 0 {
		t.Fatalf("Stat = %+v, %v", info, err)
	}
}

func testWrongSize(t *testing.T, s parley.BlobStore) {
	for name, n := range map[string]int{"short": 999, "long": 1001} {
		t.Run(name, func(t *testing.T) {
			id := parley.NewBlobID()
			err := s.Put(t.Context(), id, bytes.NewReader(random(n, 3)), 1000)
			if err == nil {
				t.Fatalf("Put of %d bytes declared as 1000 succeeded", n)
			}
			if _, err := s.Stat(t.Context(), id); !parley.IsCode(err, parley.CodeNotFound) {
				t.Fatalf("after a failed Put, Stat = %v, want CodeNotFound", err)
			}
		})
	}
}

func testMissing(t *testing.T, s parley.BlobStore) {
	id := parley.NewBlobID()
	if _, err := s.Get(t.Context(), id, 0, -1); !parley.IsCode(err, parley.CodeNotFound) {
		t.Errorf("Get missing: %v", err)
	}
	if _, err := s.Stat(t.Context(), id); !parley.IsCode(err, parley.CodeNotFound) {
		t.Errorf("Stat missing: %v", err)
	}
	if err := s.Delete(t.Context(), id); err != nil && !parley.IsCode(err, parley.CodeNotFound) {
		t.Errorf("Delete missing: %v", err)
	}
}

func testDelete(t *testing.T, s parley.BlobStore) {
	id := MustPut(t, s, random(1000, 4))
	keep := MustPut(t, s, random(1000, 5))
	if err := s.Delete(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(t.Context(), id, 0, -1); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
	if _, err := s.Stat(t.Context(), keep); err != nil {
		t.Fatalf("Delete removed another blob: %v", err)
	}
}

// testStreaming puts a blob from a reader that is not a bytes.Reader (no
// Seek, no ReaderAt) and checks its digest.
func testStreaming(t *testing.T, s parley.BlobStore) {
	const size = 24<<20 + 123
	src := rand.NewChaCha8([32]byte{6})
	want := sha256.New()
	id := parley.NewBlobID()
	if err := s.Put(t.Context(), id, io.TeeReader(io.LimitReader(src, size), want), size); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Get(t.Context(), id, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got := sha256.New()
	n, err := io.Copy(got, rc)
	if err != nil || n != size {
		t.Fatalf("read %d bytes, %v; want %d", n, err, size)
	}
	if !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatal("digest of the stored blob differs from the one put")
	}
}

func testConcurrent(t *testing.T, s parley.BlobStore) {
	data := random(200_000, 7)
	id := MustPut(t, s, data)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			off := int64(i * 20_000)
			rc, err := s.Get(context.Background(), id, off, 30_000)
			if err != nil {
				errs <- err
				return
			}
			defer rc.Close()
			b, err := io.ReadAll(rc)
			if err == nil && !bytes.Equal(b, data[off:off+30_000]) {
				err = io.ErrUnexpectedEOF
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func testCancelledPut(t *testing.T, s parley.BlobStore) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	id := parley.NewBlobID()
	if err := s.Put(ctx, id, bytes.NewReader(random(1000, 8)), 1000); err == nil {
		t.Fatal("Put with a cancelled context succeeded")
	}
	if _, err := s.Stat(t.Context(), id); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("after a cancelled Put, Stat = %v, want CodeNotFound", err)
	}
}

func testImportFile(t *testing.T, s parley.BlobStore) {
	imp, ok := s.(parley.BlobFileImporter)
	if !ok {
		t.Skip("store does not implement parley.BlobFileImporter")
	}
	data := random(70_000, 9)
	path := filepath.Join(t.TempDir(), "staged")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	id := parley.NewBlobID()
	if err := imp.ImportFile(t.Context(), id, path, int64(len(data))); err != nil {
		t.Fatal(err)
	}
	if got := MustGet(t, s, id, 0, -1); !bytes.Equal(got, data) {
		t.Fatal("imported blob differs")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("ImportFile left the staged file: %v", err)
	}
}
