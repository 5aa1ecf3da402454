package server_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"google.golang.org/protobuf/proto"

	"github.com/parleyhq/parley/proto/parleypb"
)

// tclient is a minimal protocol client for tests: raw gobwas/ws frames, one
// reader goroutine, replies matched by id, pushes kept in order.
type tclient struct {
	t      *testing.T
	conn   net.Conn
	frames chan *parleypb.ServerFrame
	done   chan struct{}

	mu          sync.Mutex
	closeCode   ws.StatusCode
	closeReason string

	nextID uint64
	pushes []*parleypb.ServerFrame // frames received while waiting for a reply

	// Set after auth.
	user, device int64
}

const wait = 5 * time.Second

func dialRaw(t *testing.T, addr string) *tclient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	conn, br, _, err := ws.Dialer{}.Dial(ctx, "ws://"+addr+"/v1/ws")
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	var r io.Reader = conn
	if br != nil {
		r = br
	}
	c := &tclient{t: t, conn: conn, frames: make(chan *parleypb.ServerFrame, 4096), done: make(chan struct{})}
	go c.read(bufio.NewReader(r))
	t.Cleanup(func() { c.conn.Close(); <-c.done })
	return c
}

// dial connects and says hello.
func dial(t *testing.T, addr string) *tclient {
	t.Helper()
	c := dialRaw(t, addr)
	f := c.call(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Hello{Hello: &parleypb.Hello{Versions: []uint32{1}, Client: "test"}}})
	if f.GetHelloOk() == nil {
		t.Fatalf("hello: got %v", f)
	}
	return c
}

func (c *tclient) read(r *bufio.Reader) {
	defer close(c.done)
	defer close(c.frames)
	for {
		h, err := ws.ReadHeader(r)
		if err != nil {
			return
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(r, p); err != nil {
			return
		}
		switch h.OpCode {
		case ws.OpClose:
			code, reason := ws.ParseCloseFrameData(p)
			c.mu.Lock()
			c.closeCode, c.closeReason = code, reason
			c.mu.Unlock()
			c.conn.Close()
			return
		case ws.OpBinary:
			var f parleypb.ServerFrame
			if err := proto.Unmarshal(p, &f); err != nil {
				c.t.Errorf("undecodable server frame: %v", err)
				return
			}
			c.frames <- &f
		}
	}
}

// writeRaw sends bytes as one masked WebSocket frame with the given opcode.
func (c *tclient) writeRaw(op ws.OpCode, payload []byte) error {
	p := append([]byte(nil), payload...)
	h := ws.Header{Fin: true, OpCode: op, Length: int64(len(p)), Masked: true, Mask: ws.NewMask()}
	ws.Cipher(p, h.Mask, 0)
	if err := ws.WriteHeader(c.conn, h); err != nil {
		return err
	}
	_, err := c.conn.Write(p)
	return err
}

func (c *tclient) send(f *parleypb.ClientFrame) {
	c.t.Helper()
	b, err := proto.Marshal(f)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := c.writeRaw(ws.OpBinary, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// call sends f with a fresh id and returns the frame answering it.
func (c *tclient) call(f *parleypb.ClientFrame) *parleypb.ServerFrame {
	c.t.Helper()
	c.nextID++
	f.Id = c.nextID
	c.send(f)
	return c.waitID(f.Id)
}

func (c *tclient) waitID(id uint64) *parleypb.ServerFrame {
	c.t.Helper()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				c.t.Fatalf("connection closed while waiting for reply %d (close %d %q)", id, c.code(), c.reason())
			}
			if f.Id == id {
				return f
			}
			c.pushes = append(c.pushes, f)
		case <-timer.C:
			c.t.Fatalf("no reply to request %d", id)
		}
	}
}

// mustOK calls and fails the test on an Error reply.
func (c *tclient) mustOK(f *parleypb.ClientFrame) *parleypb.ServerFrame {
	c.t.Helper()
	r := c.call(f)
	if e := r.GetError(); e != nil {
		c.t.Fatalf("%T: error %v %s: %s", f.Body, e.Code, e.Reason, e.Message)
	}
	return r
}

// mustErr calls and checks the Error reply's code and reason.
func (c *tclient) mustErr(f *parleypb.ClientFrame, code parleypb.ErrorCode, reason string) *parleypb.Error {
	c.t.Helper()
	r := c.call(f)
	e := r.GetError()
	if e == nil {
		c.t.Fatalf("%T: got %v, want error %v %s", f.Body, r, code, reason)
	}
	if e.Code != code || (reason != "" && e.Reason != reason) {
		c.t.Fatalf("%T: got error %v %s (%s), want %v %s", f.Body, e.Code, e.Reason, e.Message, code, reason)
	}
	return e
}

// next returns the next push (id 0) satisfying match, waiting for it.
func (c *tclient) next(match func(*parleypb.ServerFrame) bool) *parleypb.ServerFrame {
	c.t.Helper()
	for i, f := range c.pushes {
		if match(f) {
			c.pushes = append(c.pushes[:i], c.pushes[i+1:]...)
			return f
		}
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				c.t.Fatalf("connection closed while waiting for a push (close %d %q)", c.code(), c.reason())
			}
			if match(f) {
				return f
			}
			c.pushes = append(c.pushes, f)
		case <-timer.C:
			c.t.Fatalf("timed out waiting for a push")
		}
	}
}

func isEnvelope(f *parleypb.ServerFrame) bool { return f.GetEnvelope() != nil }

func (c *tclient) nextEnvelope() *parleypb.Envelope {
	c.t.Helper()
	return c.next(isEnvelope).GetEnvelope()
}

// noEnvelope checks that no envelope arrives within a round trip (a ping).
func (c *tclient) noEnvelope() {
	c.t.Helper()
	c.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Ping{Ping: &parleypb.Ping{}}})
	for _, f := range c.pushes {
		if isEnvelope(f) {
			c.t.Fatalf("unexpected envelope %v", f.GetEnvelope())
		}
	}
}

// waitClosed waits for the server to close the connection and returns the
// close code and the frames received before it.
func (c *tclient) waitClosed() (ws.StatusCode, []*parleypb.ServerFrame) {
	c.t.Helper()
	got := append([]*parleypb.ServerFrame(nil), c.pushes...)
	c.pushes = nil
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				return c.code(), got
			}
			got = append(got, f)
		case <-timer.C:
			c.t.Fatalf("server did not close the connection")
		}
	}
}

func (c *tclient) code() ws.StatusCode {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeCode
}

func (c *tclient) reason() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeReason
}
