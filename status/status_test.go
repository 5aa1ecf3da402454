package status_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/blob/disk"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/status"
	"github.com/parleyhq/parley/store/sqlite"
)

// fixture is a Service over a real SQLite store and disk blob store; a
// request's user is its X-Test-User header (the server's device
// authentication is tested with the server).
type fixture struct {
	t     *testing.T
	url   string
	clock *parleytest.Clock
	svc   *status.Service
	blobs string
}

func newFixture(t *testing.T, tune func(*status.Config)) *fixture {
	dir := t.TempDir()
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	blobs, err := disk.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, clock: parleytest.NewClock(time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)), blobs: filepath.Join(dir, "blobs")}
	cfg := status.Config{Store: st, Blobs: blobs, Clock: f.clock, Authenticate: func(r *http.Request) (parley.Device, error) {
		u, err := strconv.ParseInt(r.Header.Get("X-Test-User"), 10, 64)
		if err != nil {
			return parley.Device{}, parley.Errorf(parley.CodeUnauthenticated, parley.ReasonBadCredentials, "no user")
		}
		return parley.Device{ID: parley.DeviceID(u * 10), User: parley.UserID(u)}, nil
	}}
	if tune != nil {
		tune(&cfg)
	}
	f.svc, err = status.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	f.svc.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

func (f *fixture) do(user int, method, path string, body []byte) (int, []byte) {
	f.t.Helper()
	req, _ := http.NewRequest(method, f.url+path, bytes.NewReader(body))
	req.Header.Set("X-Test-User", strconv.Itoa(user))
	req.Header.Set("Content-Type", status.ContentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func (f *fixture) post(user int, h status.Header, media []byte) (int, status.Created, string) {
	f.t.Helper()
	code, body := f.do(user, http.MethodPost, status.Path, append(status.EncodeUpload(h), media...))
	var c status.Created
	_ = json.Unmarshal(body, &c)
	return code, c, string(body)
}

func (f *fixture) feed(user int) status.Feed {
	f.t.Helper()
	code, body := f.do(user, http.MethodGet, status.Path, nil)
	var fd status.Feed
	if code != 200 || json.Unmarshal(body, &fd) != nil {
		f.t.Fatalf("feed of %d: %d %s", user, code, body)
	}
	return fd
}

func (f *fixture) blobCount() int {
	n := 0
	filepath.WalkDir(f.blobs, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// TestStatusLifecycle: a post with media is stored once and reaches only
// its audience; views are the poster's to list; a viewer outside the
// audience learns nothing; after 24 hours the feed is empty and Prune
// deletes the post and its blob; an early delete is the poster's alone.
func TestStatusLifecycle(t *testing.T) {
	f := newFixture(t, nil)
	const alice, bob, carol = 1, 2, 3
	media := bytes.Repeat([]byte("ciphertext"), 1000)
	code, c, body := f.post(alice, status.Header{ClientID: "p1", KeyID: "k1", Audience: []parley.UserID{bob, bob, alice}, Ciphertext: []byte("sealed")}, media)
	if code != http.StatusCreated || !c.ID.Valid() {
		t.Fatalf("post: %d %s", code, body)
	}
	if code, again, _ := f.post(alice, status.Header{ClientID: "p1", KeyID: "k1", Audience: []parley.UserID{bob}, Ciphertext: []byte("sealed")}, media); code != http.StatusCreated || again.ID != c.ID {
		t.Fatalf("a retried post: %d %+v", code, again)
	}
	if n := f.blobCount(); n != 1 {
		t.Fatalf("%d blobs, want 1", n)
	}
	fd := f.feed(bob)
	if len(fd.Posts) != 1 || fd.Posts[0].ID != c.ID || string(fd.Posts[0].Ciphertext) != "sealed" || fd.Posts[0].MediaSize != int64(len(media)) || fd.Posts[0].ViewedAt != nil {
		t.Fatalf("bob's feed: %+v", fd)
	}
	if fd := f.feed(carol); len(fd.Posts) != 0 {
		t.Fatalf("carol's feed: %+v", fd)
	}
	if code, got := f.do(bob, "GET", status.Path+"/"+string(c.ID)+"/media", nil); code != 200 || !bytes.Equal(got, media) {
		t.Fatalf("bob's media: %d, %d bytes", code, len(got))
	}
	for _, req := range []struct{ method, path string }{
		{"GET", "/media"}, {"POST", "/views"},
	} {
		if code, body := f.do(carol, req.method, status.Path+"/"+string(c.ID)+req.path, nil); code != 404 || !bytes.Contains(body, []byte(parley.ReasonStatusNotFound)) {
			t.Fatalf("carol %s %s: %d %s", req.method, req.path, code, body)
		}
	}
	if code, _ := f.do(bob, "POST", status.Path+"/"+string(c.ID)+"/views", nil); code != 204 {
		t.Fatalf("bob's view: %d", code)
	}
	if code, body := f.do(bob, "GET", status.Path+"/"+string(c.ID)+"/views", nil); code != 403 || !bytes.Contains(body, []byte(status.ReasonStatusNotPoster)) {
		t.Fatalf("bob lists the views: %d %s", code, body)
	}
	code, vb := f.do(alice, "GET", status.Path+"/"+string(c.ID)+"/views", nil)
	var vs status.Views
	if code != 200 || json.Unmarshal(vb, &vs) != nil || len(vs.Views) != 1 || vs.Views[0].User != bob {
		t.Fatalf("views: %d %s", code, vb)
	}
	if mine := f.feed(alice); len(mine.Posts) != 1 || !mine.Posts[0].Mine || mine.Posts[0].Views != 1 {
		t.Fatalf("alice's feed: %+v", mine)
	}
	if fd := f.feed(bob); fd.Posts[0].ViewedAt == nil {
		t.Fatalf("bob's view is not in his feed")
	}

	f.clock.Advance(24 * time.Hour)
	if fd := f.feed(bob); len(fd.Posts) != 0 {
		t.Fatalf("bob's feed after 24 h: %+v", fd)
	}
	if n, err := f.svc.Prune(t.Context()); err != nil || n != 1 {
		t.Fatalf("prune: %d, %v", n, err)
	}
	if n := f.blobCount(); n != 0 {
		t.Fatalf("%d blobs after the prune", n)
	}

	_, c2, _ := f.post(alice, status.Header{ClientID: "p2", KeyID: "k1", Audience: []parley.UserID{bob}, Ciphertext: []byte("two")}, media)
	if code, _ := f.do(bob, "DELETE", status.Path+"/"+string(c2.ID), nil); code != 403 {
		t.Fatalf("bob deletes alice's post: %d", code)
	}
	if code, _ := f.do(alice, "DELETE", status.Path+"/"+string(c2.ID), nil); code != 204 {
		t.Fatalf("alice deletes her post: %d", code)
	}
	if n := f.blobCount(); n != 0 || len(f.feed(bob).Posts) != 0 {
		t.Fatalf("after the early delete: %d blobs, feed %+v", n, f.feed(bob))
	}
}

// TestStatusLimits: every limit is refused with its reason before
// anything is stored.
func TestStatusLimits(t *testing.T) {
	f := newFixture(t, func(c *status.Config) {
		c.MaxPostBytes, c.MaxMediaBytes, c.MaxAudience, c.MaxPostsPerDay = 100, 1000, 3, 2
	})
	ok := status.Header{ClientID: "x", KeyID: "k", Audience: []parley.UserID{2}, Ciphertext: []byte("c")}
	cases := map[string]struct {
		h      status.Header
		media  []byte
		raw    []byte
		code   int
		reason string
	}{
		"post too large":     {h: status.Header{ClientID: "x", KeyID: "k", Audience: []parley.UserID{2}, Ciphertext: make([]byte, 101)}, code: 413, reason: status.ReasonStatusTooLarge},
		"media too large":    {h: ok, media: make([]byte, 1001), code: 413, reason: status.ReasonStatusMediaTooLarge},
		"audience too large": {h: status.Header{ClientID: "x", KeyID: "k", Audience: []parley.UserID{2, 3, 4, 5}, Ciphertext: []byte("c")}, code: 400, reason: status.ReasonStatusAudienceTooLarge},
		"audience empty":     {h: status.Header{ClientID: "x", KeyID: "k", Ciphertext: []byte("c")}, code: 400, reason: status.ReasonStatusAudienceEmpty},
		"only the poster":    {h: status.Header{ClientID: "x", KeyID: "k", Audience: []parley.UserID{1}, Ciphertext: []byte("c")}, code: 400, reason: status.ReasonStatusAudienceEmpty},
		"no key id":          {h: status.Header{ClientID: "x", Audience: []parley.UserID{2}, Ciphertext: []byte("c")}, code: 400, reason: status.ReasonStatusBadPost},
		"bad prefix":         {raw: []byte{0xff, 0xff, 0xff, 0xff}, code: 400, reason: status.ReasonStatusBadPost},
		"short":              {raw: []byte{0, 0}, code: 400, reason: status.ReasonStatusBadPost},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			body := tc.raw
			if body == nil {
				body = append(status.EncodeUpload(tc.h), tc.media...)
			}
			code, got := f.do(1, "POST", status.Path, body)
			if code != tc.code || !bytes.Contains(got, []byte(tc.reason)) {
				t.Fatalf("%d %s, want %d %s", code, got, tc.code, tc.reason)
			}
		})
	}
	if n := f.blobCount(); n != 0 {
		t.Fatalf("%d blobs stored by refused posts", n)
	}
	for i := range 2 {
		h := ok
		h.ClientID = strconv.Itoa(i)
		if code, _, body := f.post(1, h, nil); code != 201 {
			t.Fatalf("post %d: %d %s", i, code, body)
		}
	}
	if code, _, body := f.post(1, ok, nil); code != 429 || !bytes.Contains([]byte(body), []byte(status.ReasonStatusTooMany)) {
		t.Fatalf("a third post in a day: %d %s", code, body)
	}
}

// TestStatusWait: a waiting feed request returns as soon as a post for
// the caller is stored, with it, and at the end of the wait without one;
// posts not shared with the caller do not wake it.
func TestStatusWait(t *testing.T) {
	f := newFixture(t, nil)
	start := f.feed(2).Now
	done := make(chan status.Feed, 1)
	go func() {
		_, body := f.do(2, "GET", status.Path+"?after="+start.Format(time.RFC3339Nano)+"&wait=20", nil)
		var fd status.Feed
		_ = json.Unmarshal(body, &fd)
		done <- fd
	}()
	f.clock.Advance(time.Second)
	if code, _, body := f.post(1, status.Header{ClientID: "other", KeyID: "k", Audience: []parley.UserID{3}, Ciphertext: []byte("c")}, nil); code != 201 {
		t.Fatalf("post: %d %s", code, body)
	}
	// Post until the waiter has it: the request may not be waiting yet
	// when the first post is stored, and then returns it at once anyway.
	if code, _, body := f.post(1, status.Header{ClientID: "w", KeyID: "k", Audience: []parley.UserID{2}, Ciphertext: []byte("c")}, nil); code != 201 {
		t.Fatalf("post: %d %s", code, body)
	}
	select {
	case fd := <-done:
		if len(fd.Posts) != 1 || string(fd.Posts[0].Ciphertext) != "c" || fd.Posts[0].ClientID != "w" {
			t.Fatalf("woke with %+v", fd)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the waiting request did not wake")
	}
	// Nothing newer: the wait ends with no posts.
	code, body := f.do(2, "GET", status.Path+"?after="+f.clock.Now().Format(time.RFC3339Nano)+"&wait=0.2", nil)
	var fd status.Feed
	if code != 200 || json.Unmarshal(body, &fd) != nil || len(fd.Posts) != 0 {
		t.Fatalf("a wait that times out: %d %s", code, body)
	}
}
