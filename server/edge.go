package server

import (
	"errors"
	"fmt"
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

// idleBody gives every Read of the body idle to return. A Read that takes
// longer is aborted by moving the connection's read deadline to now: the
// read fails, the handler sees the error, and the server closes the
// connection. Reads that return in time never touch the deadline.
type idleBody struct {
	body    io.ReadCloser
	rc      *http.ResponseController
	idle    time.Duration
	timer   *time.Timer
	fired   chan struct{} // closed by the timer once it aborted the read
	aborted bool          // the timer fired: every later Read fails
}

// errBodyIdle is what a Read aborted for idleness returns (with the
// connection's timeout error).
var errBodyIdle = errors.New("request body idle for too long")

func (b *idleBody) Read(p []byte) (int, error) {
	if b.aborted {
		return 0, errBodyIdle
	}
	if b.timer == nil {
		b.fired = make(chan struct{})
		b.timer = time.AfterFunc(b.idle, b.abort)
	} else {
		b.timer.Reset(b.idle)
	}
	n, err := b.body.Read(p)
	if !b.timer.Stop() {
		<-b.fired // the abort ran (or is running): wait, so it never outlives the handler
		b.aborted = true
		if err == nil {
			err = errBodyIdle
		} else {
			err = fmt.Errorf("%w: %w", errBodyIdle, err)
		}
	}
	return n, err
}

func (b *idleBody) abort() {
	_ = b.rc.SetReadDeadline(time.Now())
	close(b.fired)
}

func (b *idleBody) Close() error {
	if b.timer != nil {
		b.timer.Stop()
	}
	return b.body.Close()
}
