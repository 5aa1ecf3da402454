package webhook_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/webhook"
)

// FuzzHandler sends arbitrary bodies and queries to the replay and
// deliveries endpoints: the answer is a 2xx or a 4xx, never a 5xx.
func FuzzHandler(f *testing.F) {
	s := openStore(f, f.TempDir())
	f.Cleanup(func() { s.Close() })
	svc := webhook.New(s, nil, nil, webhook.Config{Outbound: allowLoopback})
	h := svc.Handler(func(*http.Request) (parley.UserID, error) { return 1, nil })
	f.Add(`{"ids":[1,2,3]}`, "dead=1&limit=10")
	f.Add(`{"ids":[]}`, "limit=0")
	f.Add(`{"ids":"x"}`, "limit=99999999999999999999")
	f.Add(`[`, "dead=%zz")
	f.Add(`{"ids":[`+strings.Repeat("1,", 20000)+`1]}`, "")
	f.Fuzz(func(t *testing.T, body, query string) {
		for _, req := range []*http.Request{
			httptest.NewRequest("POST", webhook.Path+"/replay", strings.NewReader(body)),
			httptest.NewRequest("GET", webhook.Path+"/deliveries", nil),
		} {
			req.URL.RawQuery = query
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code >= 500 {
				t.Fatalf("%s %s?%s with %q: %d %s", req.Method, req.URL.Path, query, body, w.Code, w.Body)
			}
		}
	})
}
