package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/store/sqlite"
	"github.com/parleyhq/parley/store/storetest"
)

var (
	dirsMu sync.Mutex
	dirs   = map[*testing.T]string{}
)

// open opens a store on a file of its own per test; a second call with the
// same t reopens the same file.
func open(t *testing.T) parley.Store {
	dirsMu.Lock()
	dir, ok := dirs[t]
	if !ok {
		dir = t.TempDir()
		dirs[t] = dir
		t.Cleanup(func() {
			dirsMu.Lock()
			delete(dirs, t)
			dirsMu.Unlock()
		})
	}
	dirsMu.Unlock()
	s, err := sqlite.Open(t.Context(), filepath.Join(dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestStore(t *testing.T) {
	storetest.Run(t, open)
}

func TestOpenBadPath(t *testing.T) {
	_, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "missing", "dir", "parley.db"))
	if err == nil || !strings.Contains(err.Error(), "sqlite: open") {
		t.Fatalf("Open in a missing directory: %v", err)
	}
}

func TestAppendCancelledAndClosed(t *testing.T) {
	ctx := t.Context()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "parley.db"), sqlite.WithSynchronousNormal(), sqlite.WithReadConns(2))
	if err != nil {
		t.Fatal(err)
	}
	u := storetest.MustUser(t, s)
	d := storetest.MustDevice(t, s, u.ID)
	id := storetest.MustGroup(t, s, u.ID, d)
	e := parley.Envelope{Conversation: id, SenderDevice: d.ID, ClientID: "x", Kind: parley.EnvelopeApplication, Payload: []byte("p")}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Append(cancelled, []parley.Envelope{e}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Append with a cancelled context: %v", err)
	}
	if err := s.Ack(cancelled, id, d.ID, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("Ack with a cancelled context: %v", err)
	}
	c, err := s.Conversation(ctx, id)
	if err != nil || c.LastSeq != 0 {
		t.Fatalf("after cancelled Append: %+v, %v", c, err)
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, []parley.Envelope{e}); err == nil {
		t.Fatal("Append after Close succeeded")
	}
}
