package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/parleyhq/parley/server"
	"github.com/parleyhq/parley/web"
)

// The browser client is served at / without taking over the API paths.
func TestWebClientAtRoot(t *testing.T) {
	app := fstest.MapFS{"index.html": {Data: []byte("<!doctype html><title>Parley web</title>")}}
	e := newEnv(t, func(c *server.Config) { c.Web = web.New(app) })
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + e.addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, b := get("/"); code != 200 || !strings.Contains(b, "Parley web") {
		t.Fatalf("/: %d %q", code, b)
	}
	if code, b := get("/chats"); code != 200 || !strings.Contains(b, "Parley web") {
		t.Fatalf("/chats: %d %q", code, b)
	}
	if code, b := get("/healthz"); code != 200 || strings.TrimSpace(b) != "ok" {
		t.Fatalf("/healthz: %d %q", code, b)
	}
	// The WebSocket endpoint still answers as itself (no upgrade: an error, not the app).
	if code, b := get("/v1/ws"); code == 200 || strings.Contains(b, "Parley web") {
		t.Fatalf("/v1/ws: %d %q", code, b)
	}
	dial(t, e.addr) // the WebSocket session works (hello answered)
}
