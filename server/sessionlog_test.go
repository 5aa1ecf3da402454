package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/gobwas/ws"

	"github.com/parleyhq/parley/proto/parleypb"
	"github.com/parleyhq/parley/server"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) records(t *testing.T) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

// TestSessionLogs: every record of a WebSocket session carries its
// session id; once authenticated also its user and device; the session's
// first record carries the upgrade request's id, the X-Request-Id the
// client got, so an operator can follow one connection from the HTTP
// request to its close.
func TestSessionLogs(t *testing.T) {
	var logs lockedBuffer
	e := newEnv(t, func(c *server.Config) {
		c.Log = slog.New(server.ContextLogHandler(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	})
	a := e.register("alice")

	var requestID string
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	conn, br, _, err := ws.Dialer{OnHeader: func(key, value []byte) error {
		if strings.EqualFold(string(key), server.RequestIDHeader) {
			requestID = string(value)
		}
		return nil
	}}.Dial(ctx, "ws://"+e.addr+"/v1/ws")
	if err != nil {
		t.Fatal(err)
	}
	var r io.Reader = conn
	if br != nil {
		r = br
	}
	c := &tclient{t: t, conn: conn, frames: make(chan *parleypb.ServerFrame, 64), done: make(chan struct{})}
	go c.read(bufio.NewReader(r))
	t.Cleanup(func() { c.conn.Close(); <-c.done })
	if requestID == "" {
		t.Fatal("the upgrade's response has no X-Request-Id")
	}
	c.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Hello{Hello: &parleypb.Hello{Versions: []uint32{1}, Client: "test"}}})
	c.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Auth{Auth: &parleypb.AuthRequest{DeviceId: a.device, Secret: a.secret}}})
	// A text frame breaks the protocol: the server closes the session.
	if err := c.writeRaw(ws.OpText, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if code, _ := c.waitClosed(); code != 4002 {
		t.Fatalf("close %d, want 4002", code)
	}

	var session string
	var mine []map[string]any
	for _, rec := range logs.records(t) {
		if rec["msg"] == "session opened" && rec["request_id"] == requestID {
			session, _ = rec["session"].(string)
		}
		if session != "" && rec["session"] == session {
			mine = append(mine, rec)
		}
	}
	if len(session) != 16 {
		t.Fatalf("no session opened with request_id %s (session %q)", requestID, session)
	}
	seen := map[string]map[string]any{}
	for _, rec := range mine {
		seen[rec["msg"].(string)] = rec
	}
	for _, msg := range []string{"session opened", "session authenticated", "closing session"} {
		if seen[msg] == nil {
			t.Fatalf("no %q record of session %s in %v", msg, session, mine)
		}
	}
	for _, msg := range []string{"session authenticated", "closing session"} {
		rec := seen[msg]
		if rec["user"] != float64(a.user) || rec["device"] != float64(a.device) {
			t.Errorf("%q: user %v device %v, want %d %d", msg, rec["user"], rec["device"], a.user, a.device)
		}
	}
	if rec := seen["closing session"]; rec["code"] != float64(4002) || rec["reason"] == "" || rec["level"] != "INFO" {
		t.Errorf("closing session: %v", rec)
	}
}
