package trees_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/store/sqlite"
	"github.com/parleyhq/parley/store/storetest"
	"github.com/parleyhq/parley/trees"
)

// env is a tree service over a real SQLite store with one conversation
// whose only member is dev.
type env struct {
	srv   *httptest.Server
	svc   *trees.Service
	store *sqlite.Store
	clock *parleytest.Clock
	dev   parley.Device
	conv  parley.ConversationID
}

func mustEnv(t *testing.T) *env {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	u := storetest.MustUser(t, st)
	dev := storetest.MustDevice(t, st, u.ID)
	conv := storetest.MustGroup(t, st, u.ID, dev)
	clock := parleytest.NewClock(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC))
	svc, err := trees.New(trees.Config{
		Store: st, Clock: clock, MaxTreeBytes: 1000,
		// Members only, as delivery's GroupInfo rule would say here.
		Access: func(ctx context.Context, d parley.Device, c parley.ConversationID) error {
			if _, err := st.Member(ctx, c, d.ID); err != nil {
				return parley.Errorf(parley.CodeNotFound, "conversation_not_found", "no such conversation")
			}
			return nil
		},
		// The real header parser; the secret is "s" for every device.
		Authenticate: media.DeviceAuth(func(ctx context.Context, id parley.DeviceID, secret []byte) (parley.Device, error) {
			if string(secret) != "s" {
				return parley.Device{}, parley.Errorf(parley.CodeUnauthenticated, "bad_credentials", "bad secret")
			}
			return st.Device(ctx, id)
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	return &env{srv: srv, svc: svc, store: st, clock: clock, dev: dev, conv: conv}
}

func (e *env) do(t *testing.T, method, path, auth string, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestTreesHTTP(t *testing.T) {
	e := mustEnv(t)
	auth := "Parley " + strings.TrimPrefix(e.dev.ID.String(), "d") + ":cw==" // base64("s")
	tree := []byte("the tree of epoch 2")
	put := "/mls/v1/trees?conversation=" + string(e.conv)
	cases := []struct {
		name, method, path, auth string
		body                     []byte
		status                   int
		reason                   string
	}{
		{"no credentials", http.MethodPut, put, "", tree, 401, "bad_credentials"},
		{"wrong secret", http.MethodPut, put, "Parley 1:eA==", tree, 401, "bad_credentials"},
		{"no conversation", http.MethodPut, "/mls/v1/trees", auth, tree, 400, "conversation_id"},
		{"not a member", http.MethodPut, "/mls/v1/trees?conversation=cnosuchconversation", auth, tree, 404, "conversation_not_found"},
		{"empty", http.MethodPut, put, auth, nil, 400, "empty_tree"},
		{"too large", http.MethodPut, put, auth, make([]byte, 1001), 413, "tree_too_large"},
		{"bad epoch", http.MethodGet, "/mls/v1/trees/" + string(e.conv) + "/x", auth, nil, 400, "tree_path"},
		{"unbound epoch", http.MethodGet, "/mls/v1/trees/" + string(e.conv) + "/2", auth, nil, 404, "tree_not_found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := e.do(t, tc.method, tc.path, tc.auth, tc.body)
			var eb struct{ Reason string }
			_ = json.Unmarshal([]byte(body), &eb)
			if status != tc.status || eb.Reason != tc.reason {
				t.Fatalf("%d %s, want %d %s", status, body, tc.status, tc.reason)
			}
		})
	}

	status, body := e.do(t, http.MethodPut, put, auth, tree)
	ref := parley.TreeRefOf(tree)
	if status != 201 || !strings.Contains(body, string(ref)) {
		t.Fatalf("upload: %d %s", status, body)
	}
	// Bound by a commit, it is served for its epoch.
	c := parley.Envelope{Conversation: e.conv, Sender: e.dev.User, SenderDevice: e.dev.ID, ClientID: "c1", Kind: parley.EnvelopeCommit, Epoch: 1, Payload: []byte("c")}
	if _, err := e.store.ApplyCommit(t.Context(), parley.Commit{Conversation: e.conv, Epoch: 1, GroupInfo: []byte("gi"), Envelopes: []parley.Envelope{c}, TreeRef: ref}); err != nil {
		t.Fatal(err)
	}
	status, body = e.do(t, http.MethodGet, "/mls/v1/trees/"+string(e.conv)+"/2", auth, nil)
	if status != 200 || body != string(tree) {
		t.Fatalf("fetch: %d %q", status, body)
	}

	// Pruning keeps the latest epochs' trees and drops stale uploads.
	if status, _ := e.do(t, http.MethodPut, put, auth, []byte("never bound")); status != 201 {
		t.Fatalf("second upload: %d", status)
	}
	e.clock.Advance(30 * 24 * time.Hour)
	n, err := e.svc.Prune(t.Context())
	if err != nil || n != 1 {
		t.Fatalf("prune: %d, %v; want the unbound upload only", n, err)
	}
	if status, _ := e.do(t, http.MethodGet, "/mls/v1/trees/"+string(e.conv)+"/2", auth, nil); status != 200 {
		t.Fatalf("the latest epoch's tree was pruned: %d", status)
	}
}
