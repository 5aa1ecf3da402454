// Package natstest starts real NATS servers for tests: the nats-server code
// (github.com/nats-io/nats-server/v2) running in the test process, listening
// on a loopback port. Only tests import it.
package natstest

import (
	"net"
	"os"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// Server is a running NATS server.
type Server struct {
	t    testing.TB
	opts natsserver.Options
	srv  *natsserver.Server
}

// Start starts a NATS server on 127.0.0.1 with a free port, stopped when
// the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, opts: natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true}}
	s.start()
	// Later restarts keep the port, so clients reconnect to the same URL.
	s.opts.Port = s.srv.Addr().(*net.TCPAddr).Port
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start() {
	s.t.Helper()
	opts := s.opts
	srv, err := natsserver.NewServer(&opts)
	if err != nil {
		s.t.Fatalf("nats server: %v", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		s.t.Fatalf("nats server not ready")
	}
	s.srv = srv
}

// URL is the server's client URL (nats://127.0.0.1:PORT).
func (s *Server) URL() string { return s.srv.ClientURL() }

// Stop shuts the server down (idempotent).
func (s *Server) Stop() {
	if s.srv != nil {
		s.srv.Shutdown()
		s.srv.WaitForShutdown()
		s.srv = nil
	}
}

// Restart stops the server and starts a new one on the same port; clients
// see a connection loss and reconnect.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}

// URLFromEnv returns PARLEY_TEST_NATS if set (a nats-server started by
// scripts/nats-start.sh), else the URL of a new in-process server.
func URLFromEnv(t testing.TB) string {
	t.Helper()
	if u := os.Getenv("PARLEY_TEST_NATS"); u != "" {
		return u
	}
	return Start(t).URL()
}
