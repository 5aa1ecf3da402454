package node

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/store/sqlite"
)

// TestReadiness: /readyz is 200 with a store that answers, 503 with the
// reason once the store is closed or the server is stopping; other paths
// reach the wrapped handler.
func TestReadiness(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := withReadiness(ctx, next, st, nil)
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := get("/readyz"); code != http.StatusOK || body != "ready\n" {
		t.Fatalf("ready store: %d %q", code, body)
	}
	if code, _ := get("/"); code != http.StatusTeapot {
		t.Fatalf("/ answered %d, not the wrapped handler", code)
	}
	stop()
	if code, body := get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "shutting down") {
		t.Fatalf("stopping: %d %q", code, body)
	}
	h = withReadiness(t.Context(), next, st, nil)
	st.Close()
	if code, body := get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "store") {
		t.Fatalf("closed store: %d %q", code, body)
	}
}
