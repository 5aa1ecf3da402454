package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"google.golang.org/protobuf/proto"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/delivery"
	"github.com/parleyhq/parley/proto/parleypb"
)

// Session states.
const (
	stateNew    uint8 = iota // waiting for Hello
	stateHello               // Hello done, not authenticated
	stateAuthed              // authenticated: stream attached
)

// session is one WebSocket connection. Its only permanent goroutine is the
// reader (run); writes happen in a short-lived writer goroutine started when
// frames are queued. Nothing is buffered while the connection is idle: the
// header is read into hdr, payloads into pooled buffers.
type session struct {
	g       *Gateway
	conn    net.Conn
	r       connReader         // reads conn, or conn preceded by bytes buffered during the upgrade
	addr    netip.Addr         // the client's (package clientip)
	addrKey string             // clientip.Key(addr): its unauthenticated-session slot
	id      uint64             // for logs (sessionlog.go)
	ctx     context.Context    // the gateway's
	cancel  context.CancelFunc // nil, or called when the session ends (tests)

	hdr         [ws.MaxHeaderSize]byte
	state       uint8
	msg         *[]byte   // the data message being assembled (pooled), across continuation frames
	deadlineSet time.Time // when the read deadline was last renewed

	// Set once authenticated (read by the reader goroutine only, except dev.ID for logs).
	dev    parley.Device
	stream *delivery.Stream

	// busy is set while the reader handles a client frame (drain.go).
	busy atomic.Bool

	mu      sync.Mutex
	queue   []outFrame
	spare   []outFrame
	signals int         // signals in queue
	writing bool        // a writer goroutine is running
	held    bool        // signals are queued, waiting up to SignalDelay for company
	heldT   *time.Timer // releases held signals; made on first use
	closing bool        // a close frame is queued, or the connection is closed
	pending int         // requests answered asynchronously, not yet answered
	waiting bool        // the reader waits for room (wake)
	wake    chan struct{}
}

func (s *session) deviceID() parley.DeviceID {
	if s.state == stateAuthed {
		return s.dev.ID
	}
	return 0
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// run is the session's reader loop. It returns when the connection ends.
//
// It is kept shallow: an idle session's goroutine is parked in r.wait, a
// few frames deep, so its stack stays at the minimum size (the runtime
// starts goroutines at the average stack depth it observes, and shrinks a
// stack only when most of it is unused). The work on a frame happens in
// readFrame, whose stack is released when it returns.
func (s *session) run() {
	defer s.g.wg.Done()
	defer s.cleanup()
	defer s.leaveCalls() // calls.go
	defer s.releaseReader()
	idle := 2 * s.g.cfg.HeartbeatInterval
	renew := min(idle/8, time.Second)
	for {
		if !s.waitRoom() {
			return
		}
		s.r.frameStart()
		if s.r.empty() {
			// Waiting for the client: renew the idle deadline, at most every
			// renew (the timeout is then between idle-renew and idle).
			if now := time.Now(); now.Sub(s.deadlineSet) >= renew {
				if err := s.conn.SetReadDeadline(now.Add(idle)); err != nil {
					return
				}
				s.deadlineSet = now
			}
			if err := s.r.wait(); err != nil {
				s.readFailed(err)
				return
			}
		}
		if !s.readFrame() {
			return
		}
	}
}

func (s *session) releaseReader() {
	if s.msg != nil {
		putBuf(s.msg)
		s.msg = nil
	}
	s.r.release()
}

// readFrame reads and handles one WebSocket frame. It returns false when the
// session must end.
//
//go:noinline
func (s *session) readFrame() bool {
	h, err := ws.ReadHeaderBuffer(&s.r, s.hdr[:2:len(s.hdr)])
	if err != nil {
		s.readFailed(err)
		return false
	}
	if h.Rsv != 0 || (h.OpCode.IsControl() && (!h.Fin || h.Length > 125)) || h.OpCode.IsReserved() {
		s.protocolError(0, ReasonBadWebSocketFrame, "malformed WebSocket frame")
		return false
	}
	if h.OpCode.IsControl() {
		var small [125]byte
		p := small[:h.Length]
		if _, err := io.ReadFull(&s.r, p); err != nil {
			s.readFailed(err)
			return false
		}
		if h.Masked {
			ws.Cipher(p, h.Mask, 0)
		}
		switch h.OpCode {
		case ws.OpPing:
			s.enqueue(outFrame{op: ws.OpPong, kind: outControl, b: append([]byte(nil), p...)})
		case ws.OpClose:
			code, _ := ws.ParseCloseFrameData(p)
			if code == 0 {
				code = ws.StatusNormalClosure
			}
			s.enqueue(outFrame{op: ws.OpClose, kind: outControl, close: true, b: ws.NewCloseFrameBody(code, "")})
			return false
		}
		return true
	}
	// A data frame.
	msg := s.msg
	size := int64(0)
	if msg != nil {
		size = int64(len(*msg))
	}
	switch {
	case h.OpCode == ws.OpContinuation && msg == nil:
		s.protocolError(0, ReasonBadWebSocketFrame, "continuation frame without a message")
		return false
	case h.OpCode != ws.OpContinuation && msg != nil:
		s.protocolError(0, ReasonBadWebSocketFrame, "new message before the previous one ended")
		return false
	case h.OpCode == ws.OpText:
		s.protocolError(0, ReasonTextFrame, "frames are binary WebSocket messages")
		return false
	case size+h.Length > int64(s.g.cfg.MaxFrameBytes):
		s.sendError(0, parleypb.ErrorCode_TOO_LARGE, ReasonFrameTooLarge, "frame larger than max_frame_bytes", 0)
		s.closeWith(CloseTooLarge, ReasonFrameTooLarge)
		return false
	}
	if msg == nil {
		msg = getBuf(int(h.Length))
		s.msg = msg
	}
	start := len(*msg)
	if need := start + int(h.Length); need > cap(*msg) {
		// A continuation frame: move to a larger buffer.
		bigger := getBuf(need)
		*bigger = append((*bigger)[:0], *msg...)
		putBuf(msg)
		msg = bigger
		s.msg = msg
	}
	*msg = (*msg)[:start+int(h.Length)]
	p := (*msg)[start:]
	if _, err := io.ReadFull(&s.r, p); err != nil {
		s.readFailed(err)
		return false
	}
	if h.Masked {
		ws.Cipher(p, h.Mask, 0)
	}
	if !h.Fin {
		return true
	}
	ok := s.handleMessage(*msg)
	putBuf(msg)
	s.msg = nil
	return ok
}

// readFailed ends the session after a failed read.
func (s *session) readFailed(err error) {
	if isTimeout(err) {
		s.mu.Lock()
		closing := s.closing
		s.mu.Unlock()
		if !closing {
			s.g.stats.idleTimeouts.Add(1)
			s.closeWith(CloseIdleTimeout, ReasonIdleTimeout)
		}
	}
}

// handleMessage decodes and handles one ClientFrame. It returns false when
// the session must end.
//
// Sends and acks (decoded by hand) are handled on the reader goroutine;
// every other frame is decoded and handled off its stack (see offStack).
//
// A handler that panics ends only its own session: see handleSafely.
func (s *session) handleMessage(b []byte) bool {
	s.busy.Store(true)
	defer s.busy.Store(false)
	if s.g.draining.Load() {
		return true // dropped unanswered: see drain
	}
	if f, ok := decodeHot(b); ok {
		s.g.stats.framesIn.Add(1)
		return s.handleSafely(f)
	}
	ok := false
	offStack(func() {
		f := &parleypb.ClientFrame{}
		if err := proto.Unmarshal(b, f); err != nil {
			s.protocolError(0, ReasonUndecodableFrame, "the frame is not a valid ClientFrame")
			return
		}
		s.g.stats.framesIn.Add(1)
		ok = s.handleSafely(f)
	})
	return ok
}

// handleSafely runs handle, recovering from a panic in it: the panic is
// logged with its stack and counted (Stats.HandlerPanics), the session is
// closed with CloseInternal "internal", and every other session goes on.
func (s *session) handleSafely(f *parleypb.ClientFrame) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			s.g.stats.handlerPanics.Add(1)
			s.log(slog.LevelError, "frame handler panicked", "ip", s.addr,
				"frame", frameKind(f), "panic", r, "stack", string(debug.Stack()))
			s.closeWith(CloseInternal, ReasonInternal)
			ok = false
		}
	}()
	if h := frameHook.Load(); h != nil {
		(*h)(f)
	}
	return s.handle(f)
}

// frameHook, when set, runs before every frame is handled. Only tests set
// it (to make a handler panic); it is nil in a running server.
var frameHook atomic.Pointer[func(*parleypb.ClientFrame)]

// frameKind names a frame's body for logs.
func frameKind(f *parleypb.ClientFrame) string {
	if f.Body == nil {
		return "none"
	}
	return fmt.Sprintf("%T", f.Body)
}

// waitRoom blocks the reader while the session has MaxPendingRequests
// asynchronous requests unanswered or a full queue, so a client that does
// not read its replies cannot make the server buffer without bound. It
// returns false when the session is closing.
func (s *session) waitRoom() bool {
	limit := s.g.cfg.MaxPendingRequests
	qlimit := s.g.cfg.MaxPendingRequests + s.g.deliveryWindow + s.g.cfg.SignalQueue
	for {
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			return false
		}
		if s.pending < limit && len(s.queue) < qlimit {
			s.waiting = false
			s.mu.Unlock()
			return true
		}
		if s.wake == nil {
			s.wake = make(chan struct{}, 1)
		}
		wake := s.wake
		s.waiting = true
		s.mu.Unlock()
		select {
		case <-wake:
		case <-s.ctx.Done():
			return false
		}
	}
}

func (s *session) wakeReader() {
	s.mu.Lock()
	w := s.wake
	s.mu.Unlock()
	if w != nil {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

// beginAsync counts a request answered later; endAsync uncounts it.
func (s *session) beginAsync() {
	s.mu.Lock()
	s.pending++
	s.mu.Unlock()
}

func (s *session) endAsync() {
	s.mu.Lock()
	s.pending--
	waiting := s.waiting
	s.mu.Unlock()
	if waiting {
		s.wakeReader()
	}
}

// reply queues the answer to request id (nothing when id is 0).
func (s *session) reply(id uint64, f *parleypb.ServerFrame) {
	if id == 0 {
		return
	}
	f.Id = id
	b, err := proto.Marshal(f)
	if err != nil {
		s.log(slog.LevelError, "marshal reply", "err", err)
		return
	}
	s.enqueue(outFrame{op: ws.OpBinary, kind: outReply, b: b})
}

// sendError queues an Error frame. Session errors (id 0) are always sent.
func (s *session) sendError(id uint64, code parleypb.ErrorCode, reason, msg string, retryAfter time.Duration) {
	f := &parleypb.ServerFrame{Id: id, Body: &parleypb.ServerFrame_Error{Error: &parleypb.Error{
		Code: code, Reason: reason, Message: msg, RetryAfterMs: uint32(retryAfter.Milliseconds()),
	}}}
	b, err := proto.Marshal(f)
	if err != nil {
		return
	}
	s.enqueue(outFrame{op: ws.OpBinary, kind: outReply, b: b})
}

// protocolError reports a broken session rule and closes with 4002.
func (s *session) protocolError(id uint64, reason, msg string) {
	s.g.stats.protocolErrors.Add(1)
	s.sendError(id, parleypb.ErrorCode_PROTOCOL, reason, msg, 0)
	s.closeWith(CloseProtocolError, reason)
}

// closeWith queues GoAway and a WebSocket close frame; the writer closes the
// connection after writing them. Later frames are dropped. Idempotent.
func (s *session) closeWith(code ws.StatusCode, reason string) {
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if closing {
		return
	}
	// A session ended for a reason is worth an operator's eye; a normal
	// close, or every session of a node shutting down, is not.
	level := slog.LevelInfo
	if code == ws.StatusNormalClosure || code == CloseGoingAway || code == CloseNodeDraining {
		level = slog.LevelDebug
	}
	s.log(level, "closing session", "code", int(code), "reason", reason)
	ga, _ := proto.Marshal(&parleypb.ServerFrame{Body: &parleypb.ServerFrame_GoAway{GoAway: &parleypb.GoAway{CloseCode: uint32(code), Reason: reason}}})
	s.enqueue(outFrame{op: ws.OpBinary, kind: outControl, b: ga})
	s.enqueue(outFrame{op: ws.OpClose, kind: outControl, close: true, b: ws.NewCloseFrameBody(code, reason)})
}

// cleanup runs when the reader ends: it detaches the stream, makes sure the
// connection gets closed, and unregisters the session.
func (s *session) cleanup() {
	if s.stream != nil {
		s.stream.Close()
	}
	if s.cancel != nil {
		s.cancel()
	}
	s.mu.Lock()
	closing, writing := s.closing, s.writing
	s.mu.Unlock()
	switch {
	case !closing:
		s.closeWith(ws.StatusNormalClosure, "")
	case !writing:
		_ = s.conn.Close()
	}
	s.g.remove(s)
}
