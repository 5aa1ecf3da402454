package client_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/accounts"
	"github.com/parleyhq/parley/blob/disk"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/server"
	"github.com/parleyhq/parley/store/sqlite"
)

// codeBook is the harness's recording code sender (parleytest.Codes).
type codeBook struct{ *parleytest.Codes }

// MustCode is the code sent to phone; registration sends it before it
// answers, so it is there once Register returns.
func (b codeBook) MustCode(t *testing.T, phone string) string {
	t.Helper()
	code := b.Code(phone)
	if code == "" {
		t.Fatalf("no verification code for %s", phone)
	}
	return code
}

// testServer is a real server on 127.0.0.1 with a SQLite store in a temp dir
// and media in another (parleytest).
type testServer struct {
	*parleytest.Server
	Codes *codeBook
	srv   *server.Server
	store *sqlite.Store
}

func mustServer(t *testing.T) *testServer {
	t.Helper()
	blobDir := t.TempDir()
	blobs, err := disk.Open(filepath.Join(blobDir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	ps := parleytest.Start(t, func(c *server.Config) {
		c.Accounts.Limits = accounts.Limits{} // the defaults, as a deployment has them
		c.Media = &media.Config{Blobs: blobs, StagingDir: filepath.Join(blobDir, "uploads")}
	})
	ts := &testServer{Server: ps, Codes: &codeBook{ps.Codes}}
	ts.sync()
	return ts
}

func (ts *testServer) sync() { ts.srv, ts.store = ts.Server.Server, ts.Server.Store }

// mustRestart stops the server and starts a new one on the same address and
// database.
func (ts *testServer) mustRestart(*testing.T) {
	ts.Restart()
	ts.sync()
}

type user struct {
	*client.Client
	phone string
}

func mustOpen(t *testing.T, dir string) *client.Client {
	t.Helper()
	c, err := client.Open(context.Background(), withTestStore(t, client.Config{Dir: dir, Events: true, DeviceName: filepath.Base(dir),
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// With PARLEY_TEST_STORE=kv, every test client keeps its state in the KV
// store (the browser's) over a MemKV per profile directory, instead of
// SQLite: the whole client suite then runs against the KV store, reopening
// included.
var testKVs = struct {
	sync.Mutex
	m map[string]*client.MemKV
}{m: map[string]*client.MemKV{}}

func withTestStore(t *testing.T, cfg client.Config) client.Config {
	t.Helper()
	if os.Getenv("PARLEY_TEST_STORE") != "kv" {
		return cfg
	}
	testKVs.Lock()
	kv := testKVs.m[cfg.Dir]
	if kv == nil {
		kv = client.NewMemKV()
		testKVs.m[cfg.Dir] = kv
	}
	testKVs.Unlock()
	st, err := client.OpenKVStore(context.Background(), kv)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store = st
	return cfg
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func mustRegister(t *testing.T, ts *testServer, phone, name string) *user {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := mustOpen(t, t.TempDir())
	if _, err := c.Register(ctx, ts.URL, phone, name); err != nil {
		t.Fatalf("register %s: %v", phone, err)
	}
	if _, err := c.Verify(ctx, ts.Codes.MustCode(t, phone), ""); err != nil {
		t.Fatalf("verify %s: %v", phone, err)
	}
	return &user{Client: c, phone: phone}
}

func mustLink(t *testing.T, ts *testServer, primary *user) *user {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	code, _, err := primary.LinkCode(ctx)
	if err != nil {
		t.Fatalf("link code: %v", err)
	}
	c := mustOpen(t, t.TempDir())
	if _, err := c.LinkDevice(ctx, ts.URL, code); err != nil {
		t.Fatalf("link device: %v", err)
	}
	return &user{Client: c, phone: primary.phone}
}

// mustEvent waits for the first event satisfying match.
func mustEvent(t *testing.T, c *client.Client, what string, match func(client.Event) bool) client.Event {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case ev := <-c.Events():
			if match(ev) {
				return ev
			}
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func isMessage(text string) func(client.Event) bool {
	return func(ev client.Event) bool { return ev.Kind == client.EventMessage && ev.Message.Text == text }
}

func isReceipt(kind parley.ReceiptKind, seq parley.Seq) func(client.Event) bool {
	return func(ev client.Event) bool {
		return ev.Kind == client.EventReceipt && ev.Receipt.Kind == kind && ev.Receipt.Seq >= seq
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func phone(i int) string { return fmt.Sprintf("+1415555%04d", i) }
