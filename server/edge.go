package server

import (
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/parleyhq/parley/clientip"
)

// DefaultBodyIdleTimeout is how long a request body may go without
// delivering a byte before the request fails.
const DefaultBodyIdleTimeout = 30 * time.Second

// edge wraps every HTTP and WebSocket entry point of the server: it puts the
// client address (package clientip, honouring forwarding headers only from
// trusted proxies) in the request context, and gives request bodies an idle
// timeout, so a client trickling a body (slowloris) holds a handler for at
// most idle between two bytes.
func edge(next http.Handler, resolver *clientip.Resolver, idle time.Duration) http.Handler {
	return resolver.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &idleBody{body: r.Body, rc: http.NewResponseController(w), idle: idle}
		}
		next.ServeHTTP(w, r)
	}))
}

// idleBody pushes the connection's read deadline idle ahead before every
// Read of the body, and clears it once the body ends (the server's
// background read then watches the connection with no deadline).
type idleBody struct {
	body io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
	done bool
}

func (b *idleBody) Read(p []byte) (int, error) {
	if !b.done {
		if err := b.rc.SetReadDeadline(time.Now().Add(b.idle)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return 0, err
		}
	}
	n, err := b.body.Read(p)
	if err != nil && !b.done {
		b.done = true
		if errors.Is(err, io.EOF) {
			_ = b.rc.SetReadDeadline(time.Time{})
		}
		// On a failure the expired deadline stays: the server's attempt
		// to drain the rest of the body fails at once and the connection
		// is closed.
	}
	return n, err
}

func (b *idleBody) Close() error { return b.body.Close() }
