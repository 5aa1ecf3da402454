package gateway_test

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"google.golang.org/protobuf/proto"

	"github.com/parleyhq/parley/gateway"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/proto/parleypb"
	"github.com/parleyhq/parley/server"
)

// records keeps the messages and attributes logged at error level.
type records struct {
	mu   sync.Mutex
	errs []string
}

func (r *records) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	b.WriteString(rec.Message)
	rec.Attrs(func(a slog.Attr) bool { b.WriteString(" " + a.Key + "=" + a.Value.String()); return true })
	r.mu.Lock()
	r.errs = append(r.errs, b.String())
	r.mu.Unlock()
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

func (r *records) find(sub string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.errs {
		if strings.Contains(e, sub) {
			return e
		}
	}
	return ""
}

// startServer runs the real server (parleytest) logging to log.
func startServer(t *testing.T, log *slog.Logger) (*server.Server, string) {
	t.Helper()
	ps := parleytest.Start(t, func(c *server.Config) { c.Log = log })
	return ps.Server, ps.Addr
}

// wsConn is a raw protocol connection after Hello.
type wsConn struct {
	t    *testing.T
	conn net.Conn
}

func dialHello(t *testing.T, addr string) *wsConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	conn, br, _, err := ws.Dialer{}.Dial(ctx, "ws://"+addr+gateway.Path)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if br != nil {
		t.Fatal("server sent frames before hello")
	}
	t.Cleanup(func() { conn.Close() })
	c := &wsConn{t: t, conn: conn}
	c.write(&parleypb.ClientFrame{Id: 1, Body: &parleypb.ClientFrame_Hello{Hello: &parleypb.Hello{Versions: []uint32{1}, Client: "test"}}})
	if f, _ := c.read(); f.GetHelloOk() == nil {
		t.Fatalf("hello: %v", f)
	}
	return c
}

func (c *wsConn) write(f *parleypb.ClientFrame) {
	c.t.Helper()
	b, err := proto.Marshal(f)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := wsutil.WriteClientBinary(c.conn, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// read returns the next server frame, or nil and the close frame's code
// once the server closed the connection.
func (c *wsConn) read() (*parleypb.ServerFrame, ws.StatusCode) {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		msgs, err := wsutil.ReadServerMessage(c.conn, nil)
		if err != nil {
			var ce wsutil.ClosedError
			if errorAs(err, &ce) {
				return nil, ce.Code
			}
			c.t.Fatalf("read: %v", err)
		}
		for _, m := range msgs {
			if m.OpCode == ws.OpClose {
				code, _ := ws.ParseCloseFrameData(m.Payload)
				return nil, code
			}
			if m.OpCode != ws.OpBinary {
				continue
			}
			f := &parleypb.ServerFrame{}
			if err := proto.Unmarshal(m.Payload, f); err != nil {
				c.t.Fatalf("unmarshal: %v", err)
			}
			return f, 0
		}
	}
}

func ping(ms int64) *parleypb.ClientFrame {
	return &parleypb.ClientFrame{Id: 2, Body: &parleypb.ClientFrame_Ping{Ping: &parleypb.Ping{ClientTimeMs: ms}}}
}

// TestHandlerPanicEndsOnlyItsSession makes a frame handler panic on one
// session: that session is closed with 4011 "internal", the panic is logged
// with its stack and counted, and the other sessions go on being served.
func TestHandlerPanicEndsOnlyItsSession(t *testing.T) {
	const poison = 666
	defer gateway.SetFrameHook(func(f *parleypb.ClientFrame) {
		if f.GetPing().GetClientTimeMs() == poison {
			panic("injected handler fault")
		}
	})()
	rec := &records{}
	srv, addr := startServer(t, slog.New(rec))

	bystander := dialHello(t, addr)
	victim := dialHello(t, addr)
	victim.write(ping(poison))
	var goAway *parleypb.GoAway
	for {
		f, code := victim.read()
		if f == nil {
			if code != gateway.CloseInternal {
				t.Fatalf("close code %d, want %d", code, gateway.CloseInternal)
			}
			break
		}
		if ga := f.GetGoAway(); ga != nil {
			goAway = ga
		}
	}
	if goAway.GetReason() != gateway.ReasonInternal || goAway.GetCloseCode() != uint32(gateway.CloseInternal) {
		t.Fatalf("GoAway %v, want %d %q", goAway, gateway.CloseInternal, gateway.ReasonInternal)
	}
	logged := rec.find("frame handler panicked")
	if !strings.Contains(logged, "injected handler fault") || !strings.Contains(logged, "goroutine") {
		t.Fatalf("panic log %q lacks the value or the stack", logged)
	}
	if n := srv.Gateway.Stats().HandlerPanics; n != 1 {
		t.Fatalf("HandlerPanics = %d, want 1", n)
	}

	// The session that was open all along, and a new one, are served.
	for _, c := range []*wsConn{bystander, dialHello(t, addr)} {
		c.write(ping(7))
		if f, code := c.read(); f.GetPong().GetClientTimeMs() != 7 {
			t.Fatalf("after the panic: got %v (close %d), want a pong", f, code)
		}
	}
}

func errorAs(err error, target *wsutil.ClosedError) bool {
	ce, ok := err.(wsutil.ClosedError)
	if ok {
		*target = ce
	}
	return ok
}
