package node

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/tlsserve"
)

// readyPath answers whether this server can serve now; /healthz (in
// package server) only says that the process is up.
const readyPath = "/readyz"

// readiness decides /readyz: 200 "ready" when the store answers a query
// within readyTimeout, the HTTPS front (if any) has a certificate for every
// domain, and the server is not shutting down; else 503 with the first
// reason. It is mounted in front of the web client's handler, the server's
// catch-all, so it needs no route of its own in package server.
type readiness struct {
	store    parley.Store
	front    *tlsserve.Front // nil for plain HTTP
	next     http.Handler
	stopping context.Context // done: the server is shutting down
}

const readyTimeout = 2 * time.Second

// withReadiness serves readyPath and passes every other request to next.
// It reports "shutting down" once ctx ends.
func withReadiness(ctx context.Context, next http.Handler, st parley.Store, front *tlsserve.Front) http.Handler {
	return &readiness{store: st, front: front, next: next, stopping: ctx}
}

func (rd *readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != readyPath {
		rd.next.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := rd.check(r.Context()); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not ready: %v\n", err)
		return
	}
	fmt.Fprintln(w, "ready")
}

func (rd *readiness) check(ctx context.Context) error {
	if rd.stopping.Err() != nil {
		return fmt.Errorf("shutting down")
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	// A lookup of a user that cannot exist: "not found" proves the store
	// answered a query.
	if _, err := rd.store.User(ctx, 0); err != nil && parley.ErrorCode(err) != parley.CodeNotFound {
		return fmt.Errorf("store: %v", err)
	}
	if rd.front != nil {
		if err := rd.front.Ready(); err != nil {
			return fmt.Errorf("tls: %w", err)
		}
	}
	return nil
}
