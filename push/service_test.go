package push_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/outbound"
	"github.com/parleyhq/parley/push"
	"github.com/parleyhq/parley/store/sqlite"
)

var b64 = base64.RawURLEncoding

// receiver is a push service on 127.0.0.1: it checks every request as a
// real one does (VAPID token, encoding, TTL) and decrypts the payload with
// the browser's private key.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	ua     *ecdh.PrivateKey
	auth   []byte
	vapid  []byte // the server's public key, as the browser subscribed with it
	status int    // what to answer

	mu   sync.Mutex
	got  []map[string]any
	hdrs []http.Header
	seen chan struct{}
}

func newReceiver(t *testing.T) *receiver {
	ua, _ := ecdh.P256().GenerateKey(rand.Reader)
	auth := make([]byte, 16)
	rand.Read(auth)
	r := &receiver{t: t, ua: ua, auth: auth, status: http.StatusCreated, seen: make(chan struct{}, 100)}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	defer func() { r.seen <- struct{}{} }()
	endpoint := "http://" + req.Host + req.URL.Path
	_, key, err := push.VerifyVAPID(req.Header.Get("Authorization"), endpoint, time.Now())
	if err != nil || !bytes.Equal(key, r.vapid) {
		r.t.Errorf("vapid: %v (key matches: %v)", err, bytes.Equal(key, r.vapid))
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if req.Header.Get("Content-Encoding") != "aes128gcm" || req.Header.Get("TTL") == "" || req.Header.Get("Urgency") != "high" {
		r.t.Errorf("headers %v", req.Header)
	}
	body, _ := io.ReadAll(req.Body)
	pt, err := push.Decrypt(body, r.ua, r.auth)
	if err != nil {
		r.t.Errorf("decrypt: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var p map[string]any
	if err := json.Unmarshal(pt, &p); err != nil {
		r.t.Errorf("payload %q: %v", pt, err)
	}
	r.mu.Lock()
	r.got = append(r.got, p)
	r.hdrs = append(r.hdrs, req.Header.Clone())
	status := r.status
	r.mu.Unlock()
	w.WriteHeader(status)
}

func (r *receiver) subscription(path string) []byte {
	b, _ := json.Marshal(map[string]any{"endpoint": r.srv.URL + path,
		"keys": map[string]string{"p256dh": b64.EncodeToString(r.ua.PublicKey().Bytes()), "auth": b64.EncodeToString(r.auth)}})
	return b
}

func (r *receiver) wait(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-r.seen:
		case <-time.After(10 * time.Second):
			t.Fatal("no push request")
		}
	}
}

// devices: device d belongs to user 10*d, secret "s<d>".
func authenticate(ctx context.Context, id parley.DeviceID, secret []byte) (parley.Device, error) {
	if string(secret) != "s"+string(rune('0'+id)) {
		return parley.Device{}, parley.Errorf(parley.CodeUnauthenticated, "bad_credentials", "bad secret")
	}
	return parley.Device{ID: id, User: parley.UserID(10 * id)}, nil
}

type env struct {
	svc    *push.Service
	api    *httptest.Server
	store  *sqlite.Store
	cancel context.CancelFunc
	done   chan struct{}
}

func newEnv(t *testing.T, cfg push.Config) *env {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store, cfg.Authenticate = st, media.DeviceAuth(authenticate)
	// The test's push service is on loopback: allowed as an operator would.
	cfg.Outbound = outbound.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	svc, err := push.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{svc: svc, store: st, done: make(chan struct{})}
	e.api = httptest.NewServer(svc)
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	go func() { defer close(e.done); svc.Run(ctx) }()
	t.Cleanup(func() { e.stop(); e.api.Close(); st.Close() })
	return e
}

func (e *env) stop() {
	if e.cancel != nil {
		e.cancel()
		<-e.done
		e.cancel = nil
	}
}

func (e *env) do(t *testing.T, method, path string, dev parley.DeviceID, body []byte) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, e.api.URL+path, bytes.NewReader(body))
	if dev != 0 {
		req.Header.Set("Authorization", "Parley "+string(rune('0'+dev))+":"+base64.StdEncoding.EncodeToString([]byte("s"+string(rune('0'+dev)))))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestSubscribeAndNotify(t *testing.T) {
	e := newEnv(t, push.Config{MaxPerDevice: 2})
	rcv := newReceiver(t)

	code, body := e.do(t, "GET", "/push/v1/vapid", 0, nil)
	key, _ := b64.DecodeString(body["key"].(string))
	if code != 200 || !bytes.Equal(key, e.svc.PublicKey()) || len(key) != 65 {
		t.Fatalf("vapid: %d %v", code, body)
	}
	rcv.vapid = key

	// Subscriptions need a device.
	if code, body := e.do(t, "POST", "/push/v1/subscriptions", 0, rcv.subscription("/a")); code != 401 || body["code"] != "unauthenticated" {
		t.Fatalf("anonymous subscribe: %d %v", code, body)
	}
	if code, body := e.do(t, "POST", "/push/v1/subscriptions", 1, []byte(`{"endpoint":"https://x"}`)); code != 400 || body["reason"] != "bad_subscription" {
		t.Fatalf("bad subscription: %d %v", code, body)
	}
	if code, body := e.do(t, "POST", "/push/v1/subscriptions", 1, bytes.Repeat([]byte("x"), 9000)); code != 413 || body["reason"] != "subscription_too_large" {
		t.Fatalf("huge subscription: %d %v", code, body)
	}
	if code, _ := e.do(t, "PUT", "/push/v1/subscriptions", 1, nil); code != 405 {
		t.Fatalf("PUT: %d", code)
	}
	for _, p := range []string{"/a", "/b"} {
		if code, body := e.do(t, "POST", "/push/v1/subscriptions", 1, rcv.subscription(p)); code != 204 {
			t.Fatalf("subscribe %s: %d %v", p, code, body)
		}
	}
	if code, body := e.do(t, "POST", "/push/v1/subscriptions", 1, rcv.subscription("/c")); code != 413 || body["reason"] != "too_many_subscriptions" {
		t.Fatalf("third subscription: %d %v", code, body)
	}
	if code, _ := e.do(t, "POST", "/push/v1/subscriptions", 1, rcv.subscription("/a")); code != 204 {
		t.Fatal("re-subscribing a known endpoint is refused")
	}
	if code, _ := e.do(t, "POST", "/push/v1/subscriptions", 2, rcv.subscription("/d")); code != 204 {
		t.Fatal("device 2")
	}
	// Another device cannot delete device 1's subscription.
	e.do(t, "DELETE", "/push/v1/subscriptions", 2, []byte(`{"endpoint":"`+rcv.srv.URL+`/b"}`))
	if subs, _ := e.store.PushSubscriptions(context.Background(), []parley.DeviceID{1}); len(subs) != 2 {
		t.Fatalf("device 2 deleted device 1's subscription: %v", subs)
	}
	if code, _ := e.do(t, "DELETE", "/push/v1/subscriptions", 1, []byte(`{"endpoint":"`+rcv.srv.URL+`/b"}`)); code != 204 {
		t.Fatal("delete")
	}

	// A message for devices 1 and 2 from user 20 (device 2's user): only
	// device 1 is notified, with the conversation and seq only.
	e.svc.Notify("cabcdefghij", 7, 20, []parley.DeviceID{1, 2})
	rcv.wait(t, 1)
	rcv.mu.Lock()
	if len(rcv.got) != 1 || rcv.got[0]["c"] != "cabcdefghij" || rcv.got[0]["s"] != 7.0 || len(rcv.got[0]) != 2 {
		t.Fatalf("payloads %v", rcv.got)
	}
	if rcv.hdrs[0].Get("Topic") != "cabcdefghij" {
		t.Fatalf("topic %q", rcv.hdrs[0].Get("Topic"))
	}
	rcv.mu.Unlock()

	// The push service says the subscription is gone: it is deleted.
	rcv.mu.Lock()
	rcv.status = http.StatusGone
	rcv.mu.Unlock()
	e.svc.Notify("cabcdefghij", 8, 30, []parley.DeviceID{1})
	rcv.wait(t, 1)
	deadline := time.Now().Add(5 * time.Second)
	for {
		subs, _ := e.store.PushSubscriptions(context.Background(), []parley.DeviceID{1})
		if len(subs) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gone subscription kept: %v", subs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.stop()
	if st := e.svc.Stats(); st.Sent != 1 || st.Gone != 1 || st.Queued != 2 || st.Dropped != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// The key pair survives restarts: subscriptions made against it stay valid.
func TestVAPIDKeyKept(t *testing.T) {
	dir := t.TempDir()
	var keys [][]byte
	for range 2 {
		st, err := sqlite.Open(context.Background(), filepath.Join(dir, "parley.db"))
		if err != nil {
			t.Fatal(err)
		}
		svc, err := push.New(context.Background(), push.Config{Store: st, Authenticate: media.DeviceAuth(authenticate)})
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, svc.PublicKey())
		st.Close()
	}
	if !bytes.Equal(keys[0], keys[1]) {
		t.Fatal("a restart made a new VAPID key")
	}
}

// Notify never blocks the append path: beyond the queue, notifications
// are dropped and counted.
func TestQueueFullDrops(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := push.New(context.Background(), push.Config{Store: st, Authenticate: media.DeviceAuth(authenticate), QueueSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := range 10 {
		svc.Notify("cabcdefghij", parley.Seq(i+1), 10, []parley.DeviceID{1})
	}
	if time.Since(start) > time.Second {
		t.Fatal("Notify blocked")
	}
	if s := svc.Stats(); s.Queued != 3 || s.Dropped != 7 {
		t.Fatalf("stats %+v", s)
	}
}
