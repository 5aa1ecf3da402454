package client_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/blob/disk"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/server"
	"github.com/parleyhq/parley/store/sqlite"
)

// codeBook collects verification codes from the development sender's log
// line "verification code for <phone>: <code>".
type codeBook struct {
	mu     sync.Mutex
	codes  map[string]string
	notify chan struct{}
}

func newCodeBook() *codeBook {
	return &codeBook{codes: map[string]string{}, notify: make(chan struct{})}
}

func (b *codeBook) Enabled(context.Context, slog.Level) bool { return true }
func (b *codeBook) WithAttrs([]slog.Attr) slog.Handler       { return b }
func (b *codeBook) WithGroup(string) slog.Handler            { return b }
func (b *codeBook) Handle(_ context.Context, r slog.Record) error {
	rest, ok := strings.CutPrefix(r.Message, "verification code for ")
	if !ok {
		return nil
	}
	phone, code, ok := strings.Cut(rest, ": ")
	if !ok {
		return nil
	}
	b.mu.Lock()
	b.codes[phone] = code
	close(b.notify)
	b.notify = make(chan struct{})
	b.mu.Unlock()
	return nil
}

// MustCode waits for the code sent to phone.
func (b *codeBook) MustCode(t *testing.T, phone string) string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		b.mu.Lock()
		code, ok := b.codes[phone]
		delete(b.codes, phone)
		ch := b.notify
		b.mu.Unlock()
		if ok {
			return code
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("no verification code for %s", phone)
		}
	}
}

// testServer is a real server on 127.0.0.1 with a SQLite store in a temp dir.
type testServer struct {
	URL   string
	Codes *codeBook
	addr  string
	dir   string
	srv   *server.Server
	store *sqlite.Store
	done  chan error
}

func mustServer(t *testing.T) *testServer {
	t.Helper()
	ts := &testServer{Codes: newCodeBook(), dir: t.TempDir(), addr: "127.0.0.1:0"}
	ts.mustStart(t)
	t.Cleanup(func() { ts.stop(t) })
	return ts
}

func (ts *testServer) mustStart(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(ts.dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := disk.Open(filepath.Join(ts.dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Store: st, Log: slog.New(ts.Codes),
		Media: &media.Config{Blobs: blobs, StagingDir: filepath.Join(ts.dir, "uploads")}})
	if err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	for i := 0; ; i++ {
		ln, err = net.Listen("tcp", ts.addr)
		if err == nil || i > 50 {
			break
		}
		time.Sleep(20 * time.Millisecond) // the old listener's port is being released
	}
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = ln.Addr().String()
	ts.URL = "http://" + ts.addr
	ts.srv, ts.store, ts.done = srv, st, make(chan error, 1)
	go func() { ts.done <- srv.Serve(context.Background(), ln) }()
}

func (ts *testServer) stop(t *testing.T) {
	if ts.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
	if err := <-ts.done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("serve: %v", err)
	}
	ts.store.Close()
	ts.srv = nil
}

// mustRestart stops the server and starts a new one on the same address and
// database.
func (ts *testServer) mustRestart(t *testing.T) {
	t.Helper()
	ts.stop(t)
	ts.mustStart(t)
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
