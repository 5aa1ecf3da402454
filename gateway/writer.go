package gateway

import (
	"log/slog"
	"sync"
	"time"

	"github.com/gobwas/ws"

	"github.com/parleyhq/parley"
)

// outKind classifies queued frames for the queue policy.
type outKind uint8

const (
	outReply    outKind = iota // an answer to a request: bounded by MaxPendingRequests
	outEnvelope                // flow-controlled by the delivery window: never dropped
	outSignal                  // receipts, typing, presence: dropped when SignalQueue are queued
	outControl                 // WebSocket pong/close, GoAway
)

type outFrame struct {
	op    ws.OpCode
	kind  outKind
	close bool // the connection closes after this frame
	b     []byte
}

// writeChunk is the most bytes the writer coalesces into one write.
const writeChunk = 64 << 10

var writeBufPool = sync.Pool{New: func() any { b := make([]byte, 0, writeChunk+1024); return &b }}

// enqueue queues a frame and starts the writer if it is not running. It
// never blocks. It returns false when the frame was dropped (the session is
// closing, or a signal found the signal quota full).
func (s *session) enqueue(f outFrame) bool {
	s.mu.Lock()
	if s.closing && !f.close {
		s.mu.Unlock()
		return false
	}
	if f.kind == outSignal {
		if s.signals >= s.g.cfg.SignalQueue {
			s.mu.Unlock()
			s.g.stats.droppedSignals.Add(1)
			return false
		}
		s.signals++
	}
	s.queue = append(s.queue, f)
	if f.close {
		s.closing = true
	}
	if s.writing {
		s.mu.Unlock()
		return true
	}
	if f.kind == outSignal && s.g.cfg.SignalDelay > 0 {
		// Without a writer running, everything queued is held signals:
		// wait for a frame that needs writing now, or for the delay.
		if !s.held {
			s.held = true
			if s.heldT == nil {
				s.heldT = time.AfterFunc(s.g.cfg.SignalDelay, s.releaseSignals)
			} else {
				s.heldT.Reset(s.g.cfg.SignalDelay)
			}
		}
		s.mu.Unlock()
		return true
	}
	s.startWriterLocked()
	s.mu.Unlock()
	return true
}

// startWriterLocked starts the writer for what is queued. s.mu is held and
// no writer is running.
func (s *session) startWriterLocked() {
	s.writing = true
	s.held = false // the writer takes the held signals along
	s.g.writers.Add(1)
	go s.writeLoop()
}

// releaseSignals writes held signals that found no company within
// SignalDelay.
func (s *session) releaseSignals() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.held || s.writing {
		return
	}
	s.held = false
	if len(s.queue) > 0 {
		s.startWriterLocked()
	}
}

func appendHeader(b []byte, op ws.OpCode, n int) []byte {
	b = append(b, 0x80|byte(op))
	switch {
	case n < 126:
		return append(b, byte(n))
	case n <= 0xffff:
		return append(b, 126, byte(n>>8), byte(n))
	default:
		return append(b, 127, byte(uint64(n)>>56), byte(uint64(n)>>48), byte(uint64(n)>>40), byte(uint64(n)>>32),
			byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}

// writeLoop is the session's short-lived writer: it drains the queue,
// coalescing frames into writes of up to writeChunk bytes, and ends when the
// queue is empty. A write that does not finish within WriteTimeout closes
// the connection (a slow consumer).
func (s *session) writeLoop() {
	defer s.g.writers.Done()
	bp := writeBufPool.Get().(*[]byte)
	buf := (*bp)[:0]
	defer func() {
		if cap(buf) <= 4*writeChunk {
			*bp = buf[:0]
			writeBufPool.Put(bp)
		}
	}()
	for {
		s.mu.Lock()
		q := s.queue
		if len(q) == 0 {
			s.writing = false
			s.spare = nil // an idle session keeps one small queue array
			s.mu.Unlock()
			return
		}
		s.queue = s.spare[:0]
		s.spare = nil
		s.signals = 0
		s.mu.Unlock()

		closeAfter := false
		for i := range q {
			f := &q[i]
			buf = appendHeader(buf, f.op, len(f.b))
			buf = append(buf, f.b...)
			if f.close {
				closeAfter = true
			}
			q[i] = outFrame{}
			if len(buf) >= writeChunk || closeAfter || i == len(q)-1 {
				if err := s.write(buf); err != nil {
					s.abort(err)
					return
				}
				buf = buf[:0]
			}
			if closeAfter {
				break
			}
		}
		s.mu.Lock()
		if cap(q) <= 64 {
			s.spare = q[:0]
		}
		waiting := s.waiting
		s.mu.Unlock()
		if waiting {
			s.wakeReader()
		}
		if closeAfter {
			s.abort(nil)
			return
		}
	}
}

func (s *session) write(b []byte) error {
	if err := s.conn.SetWriteDeadline(time.Now().Add(s.g.cfg.WriteTimeout)); err != nil {
		return err
	}
	_, err := s.conn.Write(b)
	return err
}

// abort closes the connection at once and drops what is queued. The reader
// goroutine then fails its read and cleans up.
func (s *session) abort(err error) {
	s.mu.Lock()
	s.closing = true
	s.queue = nil
	s.spare = nil
	s.writing = false
	s.held = false
	if s.heldT != nil {
		s.heldT.Stop()
	}
	s.mu.Unlock()
	if err != nil {
		if isTimeout(err) {
			s.g.stats.slowConsumers.Add(1)
		}
		s.log(slog.LevelDebug, "write failed", "err", err)
	}
	_ = s.conn.Close()
	s.wakeReader()
}

// Push implements delivery.Sink.
func (s *session) Push(frame []byte, kind parley.EventKind) {
	k := outSignal
	if kind == parley.EventEnvelope {
		k = outEnvelope
	}
	s.enqueue(outFrame{op: ws.OpBinary, kind: k, b: frame})
}

// Revoke implements delivery.Sink: the device was revoked.
func (s *session) Revoke() {
	s.closeWith(CloseDeviceRevoked, parley.ReasonDeviceRevoked)
}
