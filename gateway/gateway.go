// Package gateway is Parley's WebSocket gateway: it accepts connections at
// /v1/ws, speaks the binary protobuf protocol of docs/protocol.md (one
// ClientFrame or ServerFrame per WebSocket binary message), authenticates
// devices through the accounts service and connects each authenticated
// session to a delivery.Stream.
//
// It is built for many idle connections: one reader goroutine per
// connection reading frame headers straight from the socket with no
// per-connection buffer held while idle; writes from a short-lived writer
// goroutine that coalesces queued frames into few writes; a small session
// struct.
//
// Guarantees and policies:
//   - Replies carry the id of the request they answer; requests with id 0
//     get no reply.
//   - The send queue of a connection is bounded: envelopes by the delivery
//     window (flow control), replies by MaxPendingRequests (the reader stops
//     reading while that many are unanswered or the queue is full), and
//     signals (receipts, typing, presence) by SignalQueue, beyond which they
//     are dropped and counted. Signals wait up to SignalDelay for another
//     frame to share a write with. A write that does not complete within
//     WriteTimeout closes the connection (counted as a slow consumer);
//     undelivered envelopes stay in the log.
//   - Sessions close with the codes of docs/protocol.md, after a GoAway
//     frame that repeats the code and reason.
package gateway

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/clientip"
	"github.com/parleyhq/parley/delivery"
)

// Path is where the gateway is mounted.
const Path = "/v1/ws"

// ProtocolVersion is the newest protocol version the gateway speaks.
const ProtocolVersion = 1

// WebSocket close codes used by the gateway (docs/protocol.md).
const (
	CloseNormal             ws.StatusCode = 1000
	CloseGoingAway          ws.StatusCode = 1001 // server shutdown
	CloseUnsupportedVersion ws.StatusCode = 4001
	CloseProtocolError      ws.StatusCode = 4002
	CloseDeviceRevoked      ws.StatusCode = 4003
	CloseAuthFailed         ws.StatusCode = 4004
	CloseIdleTimeout        ws.StatusCode = 4008
	CloseTooLarge           ws.StatusCode = 4009
	CloseSessionReplaced    ws.StatusCode = 4010 // the device connected again
	CloseInternal           ws.StatusCode = 4011 // reason ReasonInternal, "attach_failed"
	CloseNodeDraining       ws.StatusCode = 4012 // reason ReasonNodeDraining: a cluster node stopping; reconnect at once
)

// Reasons the gateway's limits give.
const (
	// ReasonSessionReplaced closes (4010) a session whose device opened a
	// newer one beyond Config.MaxSessionsPerDevice.
	ReasonSessionReplaced = "session_replaced"
	// ReasonTooManyUnauthenticated refuses (HTTP 429) an upgrade from an
	// address holding Config.MaxUnauthenticatedPerAddress unauthenticated
	// sessions.
	ReasonTooManyUnauthenticated = "too_many_unauthenticated_sessions"
	// ReasonInternal is the close reason of a session ended by a server fault
	// (a failed store call during Auth, a frame handler that panicked).
	ReasonInternal = "internal"
	// ReasonNodeDraining closes (4012) the sessions of a cluster node
	// that is stopping (Config.Cluster): the other nodes serve them, so the
	// client reconnects at once.
	ReasonNodeDraining = "node_draining"
)

// Config tunes the gateway. Zero fields take the defaults.
type Config struct {
	// MaxFrameBytes is the largest ClientFrame accepted. Default 256 KiB.
	MaxFrameBytes int
	// HeartbeatInterval is how often clients should Ping; a session silent
	// for twice as long is closed (4008). Default 30 s.
	HeartbeatInterval time.Duration
	// WriteTimeout bounds one write to the socket. Default 10 s.
	WriteTimeout time.Duration
	// SignalQueue is the most signal frames (receipts, typing, presence,
	// notices) queued on one connection; more are dropped. Default 256.
	SignalQueue int
	// SignalDelay is how long a signal frame may wait for another frame to
	// the same connection (an envelope, a reply) to share its write. Under
	// load most receipts then cost no write of their own, on the server and
	// in the client; an idle connection gets them SignalDelay late. Default
	// 50 ms; negative disables.
	SignalDelay time.Duration
	// MaxPendingRequests is the most requests of a connection being
	// answered asynchronously (sends, acks) before the reader pauses.
	// Default 256.
	MaxPendingRequests int
	// MaxSessionsPerDevice is how many sessions one device may hold; an
	// Auth beyond it replaces the device's oldest session, which is closed
	// with 4010 "session_replaced" (a reconnecting device takes over from
	// its stale session at once). Default 1.
	MaxSessionsPerDevice int
	// MaxUnauthenticatedPerAddress is how many sessions one client address
	// (package clientip; IPv6 by /64) may hold before they authenticate;
	// more are refused at the upgrade with HTTP 429 and a Retry-After.
	// Default 64.
	MaxUnauthenticatedPerAddress int
	// Cluster says this gateway is one node of a cluster behind one
	// address: Shutdown closes sessions with 4012 "node_draining" (another
	// node takes the client at once) instead of 1001 "server_shutdown"
	// (reconnect with backoff until the server is back).
	Cluster bool
	// DrainTimeout bounds how long Shutdown waits for a session's requests
	// in flight to be answered before closing it anyway. Default 5 s.
	DrainTimeout time.Duration
}

func (c *Config) setDefaults() {
	if c.MaxFrameBytes <= 0 {
		c.MaxFrameBytes = 256 << 10
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = 30 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.SignalDelay == 0 {
		c.SignalDelay = 50 * time.Millisecond
	}
	if c.SignalQueue <= 0 {
		c.SignalQueue = 256
	}
	if c.MaxPendingRequests <= 0 {
		c.MaxPendingRequests = 256
	}
	if c.MaxSessionsPerDevice <= 0 {
		c.MaxSessionsPerDevice = 1
	}
	if c.MaxUnauthenticatedPerAddress <= 0 {
		c.MaxUnauthenticatedPerAddress = 64
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = 5 * time.Second
	}
}

// Gateway serves WebSocket sessions. Create it with New; mount it at Path.
type Gateway struct {
	acc            Accounts
	del            *delivery.Service
	clock          parley.Clock
	log            *slog.Logger
	cfg            Config
	deliveryWindow int
	groups         Groups   // nil: group frames refused (groups.go)
	biz            Business // nil: business frames refused (business.go)
	calls          Calls    // nil: call frames refused (calls.go)

	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	sessions map[*session]struct{}
	byDevice map[parley.DeviceID][]*session // authenticated sessions, oldest first
	unauth   map[string]int                 // unauthenticated sessions by clientip.Key
	closed   bool
	// draining is set by Shutdown: sessions stop handling client frames
	// (drain.go).
	draining atomic.Bool
	wg       sync.WaitGroup // readers
	writers  sync.WaitGroup
	// closesSent is closed once the first Shutdown has asked every session
	// to close (which starts writers): only then may anyone wait on
	// writers, as sync.WaitGroup requires.
	closesSent chan struct{}

	stats stats
}

type stats struct {
	accepted       atomic.Uint64
	framesIn       atomic.Uint64
	droppedSignals atomic.Uint64
	slowConsumers  atomic.Uint64
	idleTimeouts   atomic.Uint64
	protocolErrors atomic.Uint64
	rateLimited    atomic.Uint64
	replaced       atomic.Uint64
	refusedUnauth  atomic.Uint64
	handlerPanics  atomic.Uint64
}

// Stats is a snapshot of the gateway's counters.
type Stats struct {
	Sessions       int    // open sessions
	Accepted       uint64 // sessions accepted since start
	FramesIn       uint64 // client frames decoded
	DroppedSignals uint64 // signal frames dropped because a queue was full
	SlowConsumers  uint64 // connections closed because a write timed out
	IdleTimeouts   uint64 // sessions closed for missing heartbeats
	ProtocolErrors uint64 // sessions closed for breaking the protocol
	RateLimited    uint64 // account requests and auths refused by an abuse limit
	Replaced       uint64 // sessions closed because their device connected again (4010)
	RefusedUnauth  uint64 // upgrades refused: too many unauthenticated sessions from one address
	HandlerPanics  uint64 // sessions closed because a frame handler panicked
}

// Services are the services a gateway serves sessions with, handed over
// explicitly at construction: the gateway finds no service through another
// and none is set later.
type Services struct {
	Accounts Accounts          // required
	Delivery *delivery.Service // required
	// Groups serves the group frames (docs/groups.md); nil refuses them
	// with UNAVAILABLE "groups_disabled".
	Groups Groups
	// Business serves the business frames (docs/business.md); nil refuses
	// them with UNAVAILABLE "business_disabled".
	Business Business
	// Calls serves the call frames (docs/protocol.md §Calls); nil refuses
	// them with UNAVAILABLE "calls_disabled".
	Calls Calls
}

// New returns a gateway serving sessions with the given services.
func New(svc Services, clock parley.Clock, log *slog.Logger, cfg Config) *Gateway {
	acc, del := svc.Accounts, svc.Delivery
	cfg.setDefaults()
	if clock == nil {
		clock = parley.SystemClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Gateway{
		acc: acc, del: del, groups: svc.Groups, biz: svc.Business, calls: svc.Calls, clock: clock, log: log, cfg: cfg,
		deliveryWindow: del.Config().DeliveryWindow,
		ctx:            ctx, cancel: cancel,
		sessions: make(map[*session]struct{}),
		byDevice: make(map[parley.DeviceID][]*session),
		unauth:   make(map[string]int),

		closesSent: make(chan struct{}),
	}
}

// Stats returns the gateway's counters.
func (g *Gateway) Stats() Stats {
	g.mu.Lock()
	n := len(g.sessions)
	g.mu.Unlock()
	return Stats{
		Sessions:       n,
		Accepted:       g.stats.accepted.Load(),
		FramesIn:       g.stats.framesIn.Load(),
		DroppedSignals: g.stats.droppedSignals.Load(),
		SlowConsumers:  g.stats.slowConsumers.Load(),
		IdleTimeouts:   g.stats.idleTimeouts.Load(),
		ProtocolErrors: g.stats.protocolErrors.Load(),
		RateLimited:    g.stats.rateLimited.Load(),
		Replaced:       g.stats.replaced.Load(),
		RefusedUnauth:  g.stats.refusedUnauth.Load(),
		HandlerPanics:  g.stats.handlerPanics.Load(),
	}
}

// Queues returns the frames queued for writing over all sessions and the
// deepest single session's queue, at this moment. A session whose queue
// reaches its limit (MaxPendingRequests + the delivery window +
// SignalQueue) stops reading; one that cannot take an envelope is closed
// as a slow consumer. It visits every session, so it is for a scrape, not
// a hot path; the senders pay nothing for it.
func (g *Gateway) Queues() (frames, deepest int) {
	g.mu.Lock()
	list := make([]*session, 0, len(g.sessions))
	for s := range g.sessions {
		list = append(list, s)
	}
	g.mu.Unlock()
	for _, s := range list {
		s.mu.Lock()
		n := len(s.queue)
		s.mu.Unlock()
		frames += n
		deepest = max(deepest, n)
	}
	return frames, deepest
}

// QueueLimit is the depth at which a session stops reading its client's
// frames until its queue drains (Queues).
func (g *Gateway) QueueLimit() int {
	return g.cfg.MaxPendingRequests + g.deliveryWindow + g.cfg.SignalQueue
}

// ServeHTTP upgrades the request to a WebSocket session. The session runs in
// its own goroutine; the handler returns at once so the HTTP server's
// per-connection state is released.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	closed := g.closed
	g.mu.Unlock()
	if closed {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	addr, ok := clientip.From(r.Context())
	if !ok {
		// Served without the server's clientip.Handler (tests): the peer.
		addr = clientip.New(nil).Addr(r)
	}
	key := clientip.Key(addr)
	if !g.admitUnauth(key) {
		g.stats.refusedUnauth.Add(1)
		w.Header().Set("Retry-After", "10")
		http.Error(w, ReasonTooManyUnauthenticated+": too many unauthenticated sessions from this address", http.StatusTooManyRequests)
		return
	}
	// The upgrader writes its own response: it carries the request id
	// the server's middleware set (the link from the request to the
	// session in the logs) only when passed on.
	requestID := w.Header().Get(requestIDHeader)
	up := ws.HTTPUpgrader{Timeout: 10 * time.Second}
	if requestID != "" {
		up.Header = http.Header{requestIDHeader: {requestID}}
	}
	conn, rw, _, err := up.Upgrade(r, w)
	if err != nil {
		g.releaseUnauth(key)
		if conn != nil {
			conn.Close()
		}
		return
	}
	var rd io.Reader = conn
	if rw != nil && rw.Reader.Buffered() > 0 {
		// The client pipelined frames behind the handshake.
		early := make([]byte, rw.Reader.Buffered())
		_, _ = io.ReadFull(rw.Reader, early)
		rd = io.MultiReader(bytes.NewReader(early), conn)
	}
	g.serveConn(conn, rd, addr, key, requestID)
}

// serveConn starts a session on an upgraded connection; rd reads from it.
// The session holds one of key's unauthenticated slots (admitUnauth).
// requestID is the upgrade request's id, logged to link it to the session.
func (g *Gateway) serveConn(conn net.Conn, rd io.Reader, addr netip.Addr, key, requestID string) {
	// Requests run synchronously on the session's reader goroutine, which
	// ends before the session is torn down, so the gateway's context is the
	// session's: a context per session would only add to the memory of an
	// idle connection.
	s := &session{g: g, id: newSessionID(), conn: conn, r: newConnReader(conn, rd), addr: addr, addrKey: key, ctx: g.ctx}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		g.releaseUnauth(key)
		conn.Close()
		return
	}
	g.sessions[s] = struct{}{}
	g.wg.Add(1)
	g.mu.Unlock()
	g.stats.accepted.Add(1)
	s.log(slog.LevelDebug, "session opened", "request_id", requestID, "ip", addr)
	go s.run()
}

func (g *Gateway) remove(s *session) {
	g.mu.Lock()
	delete(g.sessions, s)
	if s.state == stateAuthed {
		list := g.byDevice[s.dev.ID]
		if i := slices.Index(list, s); i >= 0 {
			list = slices.Delete(list, i, i+1)
		}
		if len(list) == 0 {
			delete(g.byDevice, s.dev.ID)
		} else {
			g.byDevice[s.dev.ID] = list
		}
	} else {
		g.releaseUnauthLocked(s.addrKey)
	}
	g.mu.Unlock()
}

// admitUnauth takes one of key's unauthenticated session slots, or reports
// that none is left.
func (g *Gateway) admitUnauth(key string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.unauth[key] >= g.cfg.MaxUnauthenticatedPerAddress {
		return false
	}
	g.unauth[key]++
	return true
}

func (g *Gateway) releaseUnauth(key string) {
	g.mu.Lock()
	g.releaseUnauthLocked(key)
	g.mu.Unlock()
}

func (g *Gateway) releaseUnauthLocked(key string) {
	if n := g.unauth[key]; n > 1 {
		g.unauth[key] = n - 1
	} else {
		delete(g.unauth, key)
	}
}

// authenticated moves s from its address's unauthenticated slots to its
// device's sessions and returns the sessions it replaces (the oldest ones
// beyond MaxSessionsPerDevice), which the caller closes. The caller sets
// s.state to stateAuthed under this call's lock.
func (g *Gateway) authenticated(s *session, dev parley.DeviceID) []*session {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.releaseUnauthLocked(s.addrKey)
	s.dev.ID = dev
	s.state = stateAuthed
	list := append(g.byDevice[dev], s)
	var out []*session
	if n := len(list) - g.cfg.MaxSessionsPerDevice; n > 0 {
		out = slices.Clone(list[:n])
		list = slices.Delete(list, 0, n)
	}
	g.byDevice[dev] = list
	return out
}

// Shutdown drains the gateway and waits for its sessions to end. New
// upgrades are refused with 503 at once. Sessions stop handling client
// frames (a frame that arrives now is dropped unanswered: the client sends
// it again after reconnecting); each session is closed with GoAway once
// the requests it was handling are answered (their replies are written
// before the close), or after Config.DrainTimeout, with 4012
// "node_draining" when Config.Cluster is set and 1001 "server_shutdown"
// otherwise. When ctx ends first, the remaining connections are closed at
// once.
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.mu.Lock()
	first := !g.closed
	g.closed = true
	list := make([]*session, 0, len(g.sessions))
	for s := range g.sessions {
		list = append(list, s)
	}
	g.mu.Unlock()
	// A second, concurrent Shutdown only waits: closing again would start
	// writers while the first one waits for them to end.
	if first {
		g.drain(ctx, list) // drain.go
		close(g.closesSent)
	} else {
		select {
		case <-g.closesSent:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	done := make(chan struct{})
	go func() { g.wg.Wait(); g.writers.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		g.mu.Lock()
		for s := range g.sessions {
			s.conn.Close()
		}
		g.mu.Unlock()
		g.cancel()
		<-done
	}
	g.cancel()
	return err
}

// Buffer pool for incoming payloads, by power-of-two size class.
const (
	minBufShift = 9  // 512 B
	maxBufShift = 18 // 256 KiB
)

var bufPools [maxBufShift - minBufShift + 1]sync.Pool

func bufClass(n int) int {
	c := 0
	for (1 << (minBufShift + c)) < n {
		c++
	}
	return c
}

// getBuf returns a buffer of length 0 and capacity at least n.
func getBuf(n int) *[]byte {
	c := bufClass(n)
	if c < len(bufPools) {
		if v := bufPools[c].Get(); v != nil {
			return v.(*[]byte)
		}
		b := make([]byte, 0, 1<<(minBufShift+c))
		return &b
	}
	b := make([]byte, 0, n)
	return &b
}

func putBuf(b *[]byte) {
	c := cap(*b)
	if c < 1<<minBufShift || c > 1<<maxBufShift || c&(c-1) != 0 {
		return
	}
	*b = (*b)[:0]
	bufPools[bufClass(c)].Put(b)
}
