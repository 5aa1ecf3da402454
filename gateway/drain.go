package gateway

import (
	"context"
	"time"

	"github.com/parleyhq/parley"
)

// drainPoll is how often drain looks again at the sessions still busy.
const drainPoll = 2 * time.Millisecond

// drain closes every session of list once it is quiet: it sets
// g.draining, after which a session's reader drops the client frames it
// reads, then closes each session with GoAway when no frame is being
// handled and no request is waiting for its answer (sends being
// committed, acks), so the answers to every request the session started
// are queued before the close frame. After Config.DrainTimeout, or when
// ctx ends, the sessions still busy are closed anyway.
//
// Why it is exact: the reader sets s.busy before it loads g.draining, and
// drain sets g.draining before it loads s.busy and then s.pending (all
// sequentially consistent). A frame handled with draining unseen was
// therefore marked busy before drain looked, and whatever request it began
// (pending) is counted before busy is cleared; a frame read after drain
// looked sees draining and is dropped.
func (g *Gateway) drain(ctx context.Context, list []*session) {
	code, reason := CloseGoingAway, parley.ReasonServerShutdown
	if g.cfg.Cluster {
		code, reason = CloseNodeDraining, ReasonNodeDraining
	}
	g.draining.Store(true)
	deadline := time.NewTimer(g.cfg.DrainTimeout)
	defer deadline.Stop()
	for len(list) > 0 {
		rest := list[:0]
		for _, s := range list {
			if s.quiet() {
				s.closeWith(code, reason)
			} else {
				rest = append(rest, s)
			}
		}
		list = rest
		if len(list) == 0 {
			return
		}
		select {
		case <-time.After(drainPoll):
			continue
		case <-deadline.C:
		case <-ctx.Done():
		}
		g.log.Warn("closing sessions with requests still in flight", "sessions", len(list))
		for _, s := range list {
			s.closeWith(code, reason)
		}
		return
	}
}

// Draining reports whether Shutdown has begun: from then on sessions
// handle no client frame.
func (g *Gateway) Draining() bool { return g.draining.Load() }

// quiet reports whether the session handles no frame and owes no answer.
// Only meaningful once g.draining is set (see drain).
func (s *session) quiet() bool {
	if s.busy.Load() {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending == 0 || s.closing
}
