// Package conn is the client's WebSocket session to a Parley server: dial,
// the Hello/Auth handshake, request/reply matching by frame id, pushes,
// heartbeats, the reconnect backoff, and the mapping of wire errors to
// parley errors (docs/protocol.md). A Session ends on its first read or
// write error; the client opens a new one.
package conn

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/apiclient"
	"github.com/parleyhq/parley/client/localstore"
	"github.com/parleyhq/parley/proto/parleypb"
)

// WebSocketPath is the path of the server's WebSocket endpoint, used when the
// server URL has no path.
const WebSocketPath = "/v1/ws"

// ProtocolVersion is the wire protocol version this client speaks.
const ProtocolVersion = 1

const (
	// DefaultRequestTimeout bounds a request whose context has no deadline.
	DefaultRequestTimeout = 20 * time.Second
	minBackoff            = 200 * time.Millisecond
	maxBackoff            = 15 * time.Second
	initialReadLimit      = 8 << 20
	// maxServerFrame is the largest server frame accepted once the server
	// told its own limit (HelloOK.max_frame_bytes, for client frames).
	maxServerFrame = 8 << 20
)

// Session is one WebSocket connection: hello done, authenticated when the
// client has credentials. It ends on the first read or write error.
type Session struct {
	ws     *websocket.Conn
	ctx    context.Context
	cancel context.CancelCauseFunc
	// Hello is the server's answer to Hello (set by Handshake).
	Hello *parleypb.HelloOK
	// Authed is the server's answer to Auth; nil on an unauthenticated
	// session.
	Authed *parleypb.AuthResponse

	mu      sync.Mutex
	nextID  uint64
	waiting map[uint64]chan *parleypb.ServerFrame
}

// WebSocketURL turns http(s)://host[:port][/path] or ws(s)://… into the URL
// to dial.
func WebSocketURL(server string) (string, error) {
	u, err := url.Parse(server)
	if err != nil || u.Host == "" {
		return "", parley.Errorf(parley.CodeInvalid, apiclient.ReasonBadServerURL, "server URL %q: want http://host:port", server)
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return "", parley.Errorf(parley.CodeInvalid, apiclient.ReasonBadServerURL, "server URL %q: want http://host:port", server)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = WebSocketPath
	}
	return u.String(), nil
}

// Dial opens a session: WebSocket, Hello, and Auth when acct has credentials.
func Dial(ctx context.Context, server string) (*Session, error) {
	wsURL, err := WebSocketURL(server)
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, DefaultRequestTimeout)
	defer cancel()
	ws, _, err := websocket.Dial(dctx, wsURL, nil)
	if err != nil {
		return nil, &parley.Error{Code: parley.CodeUnavailable, Reason: ReasonConnectFailed, Message: "cannot reach the server at " + server, Err: err}
	}
	ws.SetReadLimit(initialReadLimit)
	sctx, scancel := context.WithCancelCause(ctx)
	s := &Session{ws: ws, ctx: sctx, cancel: scancel, waiting: map[uint64]chan *parleypb.ServerFrame{}}
	return s, nil
}

// Handshake sends Hello and, with credentials, Auth. The read loop must be
// running.
func (s *Session) Handshake(ctx context.Context, acct localstore.Account, clientName string) error {
	f, err := s.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Hello{Hello: &parleypb.Hello{Versions: []uint32{ProtocolVersion}, Client: clientName}}})
	if err != nil {
		return fmt.Errorf("hello: %w", err)
	}
	s.Hello = f.GetHelloOk()
	if s.Hello == nil {
		return parley.Errorf(parley.CodeInternal, ReasonProtocol, "unexpected reply to hello")
	}
	if s.Hello.MaxFrameBytes > 0 {
		// MaxFrameBytes bounds what the server accepts; its answers about
		// large groups (a 5,000-member group's details, ~350 KB) may be
		// larger, up to maxServerFrame.
		s.ws.SetReadLimit(max(int64(s.Hello.MaxFrameBytes), maxServerFrame) + 1024)
	}
	if !acct.Registered() {
		return nil
	}
	f, err = s.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Auth{Auth: &parleypb.AuthRequest{DeviceId: int64(acct.Device), Secret: acct.Secret}}})
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	s.Authed = f.GetAuth()
	if s.Authed == nil {
		return parley.Errorf(parley.CodeInternal, ReasonProtocol, "unexpected reply to auth")
	}
	return nil
}

// ReasonSessionReplaced is the reason of the error a Client ends with when
// the server closed its session because the same device connected again
// (close code 4010): another window or tab of the same browser profile, or
// a copy of the profile. The Client does not reconnect by itself then, so
// two copies of one device do not keep replacing each other.
const ReasonSessionReplaced = "session_replaced"

// ErrSessionReplaced is the cause a session replaced by another of the
// same device ends with.
var ErrSessionReplaced = &parley.Error{Code: parley.CodeConflict, Reason: ReasonSessionReplaced,
	Message: "this device connected again elsewhere (another window or tab); this one stopped"}

// ReadLoop reads frames until the connection fails, answering waiting
// requests and handing pushes to push (which must not block for long).
func (s *Session) ReadLoop(push func(*parleypb.ServerFrame)) {
	defer s.ws.CloseNow()
	for {
		typ, data, err := s.ws.Read(s.ctx)
		if err != nil {
			s.cancel(err)
			return
		}
		if typ != websocket.MessageBinary {
			continue
		}
		f := new(parleypb.ServerFrame)
		if err := proto.Unmarshal(data, f); err != nil {
			s.cancel(fmt.Errorf("decode server frame: %w", err))
			return
		}
		if ga := f.GetGoAway(); ga != nil {
			if ga.GetReason() == ReasonSessionReplaced {
				s.cancel(ErrSessionReplaced)
			} else {
				s.cancel(&parley.Error{Code: parley.CodeUnavailable, Reason: ReasonGoAway, Message: "the server closed the session: " + ga.GetReason()})
			}
			if f.GetId() == 0 {
				continue
			}
		}
		if id := f.GetId(); id != 0 {
			s.mu.Lock()
			ch := s.waiting[id]
			delete(s.waiting, id)
			s.mu.Unlock()
			if ch != nil {
				ch <- f
			}
			continue
		}
		if e := f.GetError(); e != nil {
			// A session error: the server closes next.
			s.cancel(WireError(e))
			continue
		}
		push(f)
	}
}

// Send writes a frame that wants no reply.
func (s *Session) Send(ctx context.Context, f *parleypb.ClientFrame) error {
	data, err := proto.Marshal(f)
	if err != nil {
		return err
	}
	if err := s.ws.Write(ctx, websocket.MessageBinary, data); err != nil {
		s.cancel(err)
		return &parley.Error{Code: parley.CodeUnavailable, Reason: ReasonConnectionLost, Message: "connection to the server lost", Err: err}
	}
	return nil
}

// Request sends f with a fresh id and waits for the reply. A reply carrying
// an Error is returned as a *parley.Error.
func (s *Session) Request(ctx context.Context, f *parleypb.ClientFrame) (*parleypb.ServerFrame, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultRequestTimeout)
		defer cancel()
	}
	ch := make(chan *parleypb.ServerFrame, 1)
	s.mu.Lock()
	s.nextID++
	f.Id = s.nextID
	s.waiting[f.Id] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.waiting, f.Id)
		s.mu.Unlock()
	}()
	if err := s.Send(ctx, f); err != nil {
		return nil, err
	}
	reply := func(r *parleypb.ServerFrame) (*parleypb.ServerFrame, error) {
		if e := r.GetError(); e != nil {
			return nil, WireError(e)
		}
		return r, nil
	}
	select {
	case r := <-ch:
		return reply(r)
	case <-s.ctx.Done():
		// The read loop hands a reply over before it reads what follows it:
		// a reply that came before the session's end (an authentication
		// refusal followed by the server's close) is the answer.
		select {
		case r := <-ch:
			return reply(r)
		default:
		}
		cause := context.Cause(s.ctx)
		var pe *parley.Error
		if errors.As(cause, &pe) {
			return nil, pe
		}
		return nil, &parley.Error{Code: parley.CodeUnavailable, Reason: ReasonConnectionLost, Message: "connection to the server lost", Err: cause}
	case <-ctx.Done():
		return nil, &parley.Error{Code: parley.CodeUnavailable, Reason: ReasonTimeout, Message: "the server did not answer in time", Err: ctx.Err()}
	}
}

// Heartbeat pings the server at half its heartbeat interval and ends the
// session when a ping goes unanswered.
func (s *Session) Heartbeat(clock parley.Clock) {
	secs := s.Hello.GetHeartbeatSeconds()
	if secs == 0 {
		secs = 30
	}
	t := time.NewTicker(time.Duration(secs) * time.Second / 2)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(s.ctx, time.Duration(secs)*time.Second)
			_, err := s.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Ping{Ping: &parleypb.Ping{ClientTimeMs: clock.Now().UnixMilli()}}})
			cancel()
			if err != nil && s.ctx.Err() == nil {
				s.cancel(fmt.Errorf("heartbeat: %w", err))
				return
			}
		}
	}
}

// Context is the session's life: done when the session ended, its cause
// (context.Cause) why.
func (s *Session) Context() context.Context { return s.ctx }

// Close ends the session.
func (s *Session) Close() {
	s.cancel(errors.New("closed by client"))
	s.ws.Close(websocket.StatusNormalClosure, "bye")
}

// Backoff returns the delay before reconnect attempt n (0-based):
// exponential from minBackoff to maxBackoff with full jitter on the upper half.
func Backoff(n int) time.Duration {
	d := minBackoff << min(n, 10)
	if d > maxBackoff || d <= 0 {
		d = maxBackoff
	}
	return d/2 + rand.N(d/2+1)
}

var wireCodes = map[parleypb.ErrorCode]parley.Code{
	parleypb.ErrorCode_INVALID:             parley.CodeInvalid,
	parleypb.ErrorCode_UNAUTHENTICATED:     parley.CodeUnauthenticated,
	parleypb.ErrorCode_FORBIDDEN:           parley.CodeForbidden,
	parleypb.ErrorCode_NOT_FOUND:           parley.CodeNotFound,
	parleypb.ErrorCode_CONFLICT:            parley.CodeConflict,
	parleypb.ErrorCode_RATE_LIMITED:        parley.CodeRateLimited,
	parleypb.ErrorCode_TOO_LARGE:           parley.CodeTooLarge,
	parleypb.ErrorCode_BLOCKED:             parley.CodeBlocked,
	parleypb.ErrorCode_EXPIRED:             parley.CodeExpired,
	parleypb.ErrorCode_UNAVAILABLE:         parley.CodeUnavailable,
	parleypb.ErrorCode_INTERNAL:            parley.CodeInternal,
	parleypb.ErrorCode_UNSUPPORTED_VERSION: parley.CodeInvalid,
	parleypb.ErrorCode_PROTOCOL:            parley.CodeInvalid,
}

// WireError converts a wire Error into a *parley.Error.
func WireError(e *parleypb.Error) *parley.Error {
	code, ok := wireCodes[e.GetCode()]
	if !ok {
		code = parley.CodeInternal
	}
	msg := e.GetMessage()
	if msg == "" {
		msg = strings.ReplaceAll(e.GetReason(), "_", " ")
	}
	return &parley.Error{Code: code, Reason: e.GetReason(), Message: msg}
}

// PushQueue is an unbounded FIFO of pushed frames between the read loop
// (which never blocks on it) and the processing goroutine. Envelopes in it
// are bounded by the server's delivery window.
type PushQueue struct {
	mu     sync.Mutex
	items  []*parleypb.ServerFrame
	signal chan struct{}
	closed bool
}

// Init prepares the queue for use.
func (q *PushQueue) Init() { q.signal = make(chan struct{}, 1) }

// Push appends f without blocking.
func (q *PushQueue) Push(f *parleypb.ServerFrame) {
	q.mu.Lock()
	q.items = append(q.items, f)
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// Close makes Pop return nil.
func (q *PushQueue) Close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// Pop waits for the next frame; nil when the queue is closed.
func (q *PushQueue) Pop() *parleypb.ServerFrame {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return nil
		}
		if len(q.items) > 0 {
			f := q.items[0]
			q.items[0] = nil
			q.items = q.items[1:]
			q.mu.Unlock()
			return f
		}
		q.mu.Unlock()
		<-q.signal
	}
}

// Len returns how many frames wait.
func (q *PushQueue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}
