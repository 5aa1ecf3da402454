// Package parleytest is the one harness tests use to run Parley: a real
// server (package server) listening on 127.0.0.1 over a SQLite store in the
// test's temporary directory, with a recording code sender (Codes) instead
// of scraping verification codes from logs, and a clock tests move by hand
// (Clock).
//
// Only tests import it (TestDeps checks). Tests of packages the server
// imports use it from their external test package (package x_test), as Go
// allows.
package parleytest

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/accounts"
	"github.com/parleyhq/parley/delivery"
	"github.com/parleyhq/parley/server"
	"github.com/parleyhq/parley/store/sqlite"
)

// Codes is a parley.CodeSender that records the last code sent to every
// number instead of sending it, and can be told to fail. Safe for
// concurrent use.
type Codes struct {
	mu    sync.Mutex
	codes map[string]string
	sends int
	err   error
}

// NewCodes returns an empty recorder.
func NewCodes() *Codes { return &Codes{codes: map[string]string{}} }

// SendCode records code for phone, or returns the error set by Fail.
func (c *Codes) SendCode(_ context.Context, phone, code string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	c.codes[phone] = code
	c.sends++
	return nil
}

// Code is the last code sent to phone, "" when none was.
func (c *Codes) Code(phone string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.codes[phone]
}

// Sends is how many codes were sent.
func (c *Codes) Sends() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sends
}

// Fail makes every later SendCode return err (nil: succeed again).
func (c *Codes) Fail(err error) {
	c.mu.Lock()
	c.err = err
	c.mu.Unlock()
}

// Clock is a parley.Clock that moves only when told. Safe for concurrent
// use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock d forward (backward for a negative d).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

var (
	_ parley.CodeSender = (*Codes)(nil)
	_ parley.Clock      = (*Clock)(nil)
	// Both stores implement every store interface the server needs.
	_ parley.Store = (*sqlite.Store)(nil)
)

// Server is a real server serving on 127.0.0.1. Its fields are valid
// until Close; Restart replaces Server and Store.
type Server struct {
	*server.Server
	Store *sqlite.Store
	Codes *Codes // the code sender (Config.Sender unless a test set its own)
	Addr  string // host:port of the listener, kept across restarts
	URL   string // http://Addr
	Dir   string // the test's temporary directory holding the database
	DB    string // the SQLite database's path (in Dir)

	t    testing.TB
	cfg  server.Config
	stop func() error
}

// Generous are account limits that let one test register many accounts
// from loopback; tests of the limits set their own.
var Generous = accounts.Limits{
	SMSPerAddress:     parley.Limit{Events: 100_000, Window: time.Hour},
	GuessesPerAddress: parley.Limit{Events: 100_000, Window: time.Hour},
}

// Start starts a server with the defaults below, changed by configure, and
// closes it when the test ends (failing the test if the shutdown fails).
// Defaults: Sender Codes, account limits Generous, no delivery pruner;
// Store is always the harness's SQLite store.
func Start(t testing.TB, configure ...func(*server.Config)) *Server {
	t.Helper()
	s := &Server{t: t, Codes: NewCodes(), Dir: t.TempDir()}
	s.DB = filepath.Join(s.Dir, "parley.db")
	s.cfg = server.Config{
		Sender:   s.Codes,
		Accounts: accounts.Config{Limits: Generous},
		Delivery: delivery.Config{PruneInterval: -1},
	}
	for _, c := range configure {
		c(&s.cfg)
	}
	s.start()
	t.Cleanup(s.Close)
	return s
}

// Config is the configuration the server was started with (Store unset).
func (s *Server) Config() server.Config { return s.cfg }

func (s *Server) start() {
	s.t.Helper()
	st, err := sqlite.Open(context.Background(), s.DB)
	if err != nil {
		s.t.Fatalf("parleytest: open store: %v", err)
	}
	cfg := s.cfg
	cfg.Store = st
	srv, err := server.New(cfg)
	if err != nil {
		st.Close()
		s.t.Fatalf("parleytest: %v", err)
	}
	addr := s.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	for i := 0; err != nil && s.Addr != "" && i < 50; i++ {
		time.Sleep(20 * time.Millisecond) // a restart: the old listener's port is being released
		ln, err = net.Listen("tcp", addr)
	}
	if err != nil {
		_ = srv.Shutdown(context.Background())
		st.Close()
		s.t.Fatalf("parleytest: listen: %v", err)
	}
	s.Server, s.Store = srv, st
	s.Addr = ln.Addr().String()
	s.URL = "http://" + s.Addr
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background(), ln) }()
	s.stop = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := srv.Shutdown(ctx)
		if serr := <-done; serr != nil {
			err = errors.Join(err, serr)
		}
		return errors.Join(err, st.Close())
	}
}

// Close shuts the server down and closes its store. Safe to call twice.
func (s *Server) Close() {
	if s.stop == nil {
		return
	}
	stop := s.stop
	s.stop = nil
	if err := stop(); err != nil {
		s.t.Errorf("parleytest: shutdown: %v", err)
	}
}

// Restart starts a new server on the same database and address, as a
// process restart does, after stopping the running one (if Close has not
// already: a test may look at the database between the two).
func (s *Server) Restart() {
	s.t.Helper()
	s.Close()
	s.start()
}
