package client

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
	"github.com/parleyhq/parley/proto/parleypb"
)

// WebSocketPath is the path of the server's WebSocket endpoint, used when the
// server URL has no path.
const WebSocketPath = "/v1/ws"

// ProtocolVersion is the wire protocol version this client speaks.
const ProtocolVersion = 1

const (
	defaultRequestTimeout = 20 * time.Second
	minBackoff            = 200 * time.Millisecond
	maxBackoff            = 15 * time.Second
	initialReadLimit      = 8 << 20
	// maxServerFrame is the largest server frame accepted once the server
	// told its own limit (HelloOK.max_frame_bytes, for client frames).
	maxServerFrame = 8 << 20
)

// session is one WebSocket connection: hello done, authenticated when the
// client has credentials. It ends on the first read or write error.
type session struct {
	ws     *websocket.Conn
	ctx    context.Context
	cancel context.CancelCauseFunc
	hello  *parleypb.HelloOK
	authed *parleypb.AuthResponse // nil on an unauthenticated session

	mu      sync.Mutex
	nextID  uint64
	waiting map[uint64]chan *parleypb.ServerFrame
}

// webSocketURL turns http(s)://host[:port][/path] or ws(s)://… into the URL
// to dial.
func webSocketURL(server string) (string, error) {
	u, err := url.Parse(server)
	if err != nil || u.Host == "" {
		return "", parley.Errorf(parley.CodeInvalid, "bad_server_url", "server URL %q: want http://host:port", server)
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return "", parley.Errorf(parley.CodeInvalid, "bad_server_url", "server URL %q: want http://host:port", server)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = WebSocketPath
	}
	return u.String(), nil
}

// dial opens a session: WebSocket, Hello, and Auth when acct has credentials.
func dial(ctx context.Context, server string) (*session, error) {
	wsURL, err := webSocketURL(server)
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, defaultRequestTimeout)
	defer cancel()
	ws, _, err := websocket.Dial(dctx, wsURL, nil)
	if err != nil {
		return nil, &parley.Error{Code: parley.CodeUnavailable, Reason: "connect_failed", Message: "cannot reach the server at " + server, Err: err}
	}
	ws.SetReadLimit(initialReadLimit)
	sctx, scancel := context.WithCancelCause(ctx)
	s := &session{ws: ws, ctx: sctx, cancel: scancel, waiting: map[uint64]chan *parleypb.ServerFrame{}}
	return s, nil
}

// handshake sends Hello and, with credentials, Auth. The read loop must be
// running.
func (s *session) handshake(ctx context.Context, acct Account, clientName string) error {
	f, err := s.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Hello{Hello: &parleypb.Hello{Versions: []uint32{ProtocolVersion}, Client: clientName}}})
	if err != nil {
		return fmt.Errorf("hello: %w", err)
	}
	s.hello = f.GetHelloOk()
	if s.hello == nil {
		return parley.Errorf(parley.CodeInternal, "protocol", "unexpected reply to hello")
	}
	if s.hello.MaxFrameBytes > 0 {
		// MaxFrameBytes bounds what the server accepts; its answers about
		// large groups (a 5,000-member group's details, ~350 KB) may be
		// larger, up to maxServerFrame.
		s.ws.SetReadLimit(max(int64(s.hello.MaxFrameBytes), maxServerFrame) + 1024)
	}
	if !acct.Registered() {
		return nil
	}
	f, err = s.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Auth{Auth: &parleypb.AuthRequest{DeviceId: int64(acct.Device), Secret: acct.Secret}}})
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	s.authed = f.GetAuth()
	if s.authed == nil {
		return parley.Errorf(parley.CodeInternal, "protocol", "unexpected reply to auth")
	}
	return nil
}

// ReasonSessionReplaced is the reason of the error a Client ends with when
// the server closed its session because the same device connected again
// (close code 4010): another window or tab of the same browser profile, or
// a copy of the profile. The Client does not reconnect by itself then, so
// two copies of one device do not keep replacing each other.
const ReasonSessionReplaced = "session_replaced"

var errSessionReplaced = &parley.Error{Code: parley.CodeConflict, Reason: ReasonSessionReplaced,
	Message: "this device connected again elsewhere (another window or tab); this one stopped"}

// readLoop reads frames until the connection fails, answering waiting
// requests and handing pushes to push (which must not block for long).
func (s *session) readLoop(push func(*parleypb.ServerFrame)) {
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
				s.cancel(errSessionReplaced)
			} else {
				s.cancel(&parley.Error{Code: parley.CodeUnavailable, Reason: "go_away", Message: "the server closed the session: " + ga.GetReason()})
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
			s.cancel(wireError(e))
			continue
		}
		push(f)
	}
}

// send writes a frame that wants no reply.
func (s *session) send(ctx context.Context, f *parleypb.ClientFrame) error {
	data, err := proto.Marshal(f)
	if err != nil {
		return err
	}
	if err := s.ws.Write(ctx, websocket.MessageBinary, data); err != nil {
		s.cancel(err)
		return &parley.Error{Code: parley.CodeUnavailable, Reason: "connection_lost", Message: "connection to the server lost", Err: err}
	}
	return nil
}

// request sends f with a fresh id and waits for the reply. A reply carrying
// an Error is returned as a *parley.Error.
func (s *session) request(ctx context.Context, f *parleypb.ClientFrame) (*parleypb.ServerFrame, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultRequestTimeout)
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
	if err := s.send(ctx, f); err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		if e := r.GetError(); e != nil {
			return nil, wireError(e)
		}
		return r, nil
	case <-s.ctx.Done():
		cause := context.Cause(s.ctx)
		var pe *parley.Error
		if errors.As(cause, &pe) {
			return nil, pe
		}
		return nil, &parley.Error{Code: parley.CodeUnavailable, Reason: "connection_lost", Message: "connection to the server lost", Err: cause}
	case <-ctx.Done():
		return nil, &parley.Error{Code: parley.CodeUnavailable, Reason: "timeout", Message: "the server did not answer in time", Err: ctx.Err()}
	}
}

// heartbeat pings the server at half its heartbeat interval and ends the
// session when a ping goes unanswered.
func (s *session) heartbeat(clock parley.Clock) {
	secs := s.hello.GetHeartbeatSeconds()
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
			_, err := s.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Ping{Ping: &parleypb.Ping{ClientTimeMs: clock.Now().UnixMilli()}}})
			cancel()
			if err != nil && s.ctx.Err() == nil {
				s.cancel(fmt.Errorf("heartbeat: %w", err))
				return
			}
		}
	}
}

func (s *session) close() {
	s.cancel(errors.New("closed by client"))
	s.ws.Close(websocket.StatusNormalClosure, "bye")
}

// backoff returns the delay before reconnect attempt n (0-based):
// exponential from minBackoff to maxBackoff with full jitter on the upper half.
func backoff(n int) time.Duration {
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

// wireError converts a wire Error into a *parley.Error.
func wireError(e *parleypb.Error) *parley.Error {
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
