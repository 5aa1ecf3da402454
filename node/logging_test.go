package node

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/server"
)

// lockedBuffer is a bytes.Buffer the server's goroutines may write at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestJSONLogRequestID: with --log-format json every line is a JSON object,
// and a request's log line carries the request_id the response's
// X-Request-Id header gave the client; two requests get different ids.
func TestJSONLogRequestID(t *testing.T) {
	var buf lockedBuffer
	log, err := NewLogger(&buf, "json", slog.LevelDebug)
	if err != nil {
		t.Fatal(err)
	}
	srv := parleytest.Start(t, func(c *server.Config) { c.Log = log })
	var ids []string
	for range 2 {
		resp, err := http.Get(srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		id := resp.Header.Get(server.RequestIDHeader)
		if id == "" {
			t.Fatal("no X-Request-Id in the response")
		}
		ids = append(ids, id)
	}
	if ids[0] == ids[1] {
		t.Fatalf("two requests share the id %s", ids[0])
	}
	found := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(buf.String()))
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", sc.Text(), err)
		}
		if rec["msg"] == "request" && rec["path"] == "/healthz" {
			id, _ := rec["request_id"].(string)
			found[id] = true
		}
	}
	for _, id := range ids {
		if !found[id] {
			t.Errorf("no JSON log line of /healthz with request_id %s in:\n%s", id, buf.String())
		}
	}
}

// TestNewLoggerFormats: text stays the default and keeps the message text
// the e2e harness reads; an unknown format is refused.
func TestNewLoggerFormats(t *testing.T) {
	var buf bytes.Buffer
	log, err := NewLogger(&buf, "", slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("listening on http://127.0.0.1:1")
	if !strings.Contains(buf.String(), `msg="listening on http://127.0.0.1:1"`) {
		t.Errorf("text line: %q", buf.String())
	}
	buf.Reset()
	log, _ = NewLogger(&buf, "json", slog.LevelInfo)
	log.Info("listening on http://127.0.0.1:1")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil || rec["msg"] != "listening on http://127.0.0.1:1" {
		t.Errorf("json line %q: %v", buf.String(), err)
	}
	if _, err := NewLogger(&buf, "xml", slog.LevelInfo); err == nil {
		t.Error("format xml accepted")
	}
}
