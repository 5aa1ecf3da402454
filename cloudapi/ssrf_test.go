package cloudapi_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/outbound"
	"github.com/parleyhq/parley/webhook"
)

// The attacks below drive the real server (port 0, temp dir) through the
// business API and the webhook routes. An internal listener on 127.0.0.1
// stands for what lies behind the server (an admin port, a metadata
// service); it must never be hit. The allowed receiver (the business's
// public webhook and file host) listens on 127.0.0.2, the one range the
// server's outbound policy allows, on the same port as the internal
// listener, so that a name rebound from one to the other keeps its port.

// internalListener counts every connection and request it gets.
type internalListener struct {
	url, port string
	conns     atomic.Int64
	hits      atomic.Int64
}

func mustInternal(t *testing.T) *internalListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	il := &internalListener{url: "http://" + ln.Addr().String()}
	_, il.port, _ = net.SplitHostPort(ln.Addr().String())
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			il.hits.Add(1)
			io.WriteString(w, "internal secret")
		}),
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				il.conns.Add(1)
			}
		},
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return il
}

func (il *internalListener) mustBeUntouched(t *testing.T) {
	t.Helper()
	if c, h := il.conns.Load(), il.hits.Load(); c != 0 || h != 0 {
		t.Fatalf("the internal listener got %d connections and %d requests", c, h)
	}
}

// stubDNS answers names from a table the test changes (DNS rebinding).
type stubDNS struct {
	mu sync.Mutex
	m  map[string]netip.Addr
}

func (d *stubDNS) set(host, addr string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.m[host] = netip.MustParseAddr(addr)
}

func (d *stubDNS) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if a, ok := d.m[host]; ok {
		return []netip.Addr{a}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// ssrfReceiver is the business's allowed host on 127.0.0.2: the webhook
// handshake and deliveries, a file, a 404, a redirect to the internal
// listener and an answer that never comes. It closes every connection
// after one answer, so each request makes a new dial (and lookup).
type ssrfReceiver struct {
	url        string
	handshakes atomic.Int64
	mu         sync.Mutex
	bodies     []string
}

func mustSSRFReceiver(t *testing.T, port string, internal *internalListener) *ssrfReceiver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.2:"+port)
	if err != nil {
		t.Fatal(err)
	}
	rc := &ssrfReceiver{url: "http://" + ln.Addr().String()}
	release := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		switch {
		case r.URL.Path == "/hook" && r.Method == http.MethodGet && r.URL.Query().Get("hub.mode") == "subscribe":
			rc.handshakes.Add(1)
			io.WriteString(w, r.URL.Query().Get("hub.challenge"))
		case r.URL.Path == "/hook" && r.Method == http.MethodPost:
			b, _ := io.ReadAll(r.Body)
			rc.mu.Lock()
			rc.bodies = append(rc.bodies, string(b))
			rc.mu.Unlock()
		case r.URL.Path == "/doc":
			w.Header().Set("Content-Type", "application/pdf")
			io.WriteString(w, "%PDF-1.4\n% a public document\n")
		case r.URL.Path == "/redirect":
			http.Redirect(w, r, internal.url+"/secret", http.StatusFound)
		case r.URL.Path == "/stall":
			select {
			case <-r.Context().Done():
			case <-release:
			}
		default:
			http.NotFound(w, r)
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { close(release); srv.Close() })
	return rc
}

// mustPost waits for a webhook POST containing substr.
func (rc *ssrfReceiver) mustPost(t *testing.T, substr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		rc.mu.Lock()
		for _, b := range rc.bodies {
			if strings.Contains(b, substr) {
				rc.mu.Unlock()
				return
			}
		}
		rc.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no webhook POST containing %q", substr)
}

// closedURL is an http URL on 127.0.0.2 where nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String() + "/"
	ln.Close()
	return u
}

type ssrfEnv struct {
	*env
	internal *internalListener
	rc       *ssrfReceiver
	dns      *stubDNS
}

// mustSSRFEnv starts the server with the outbound policy an operator would
// set to reach the receiver only: --outbound-allow 127.0.0.2/32.
func mustSSRFEnv(t *testing.T) *ssrfEnv {
	t.Helper()
	il := mustInternal(t)
	dns := &stubDNS{m: map[string]netip.Addr{}}
	dns.set("hooks.test", "127.0.0.2")
	dns.set("internal.test", "127.0.0.1")
	dns.set("metadata.test", "169.254.169.254")
	e := newEnv(t, outbound.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}, Resolver: dns})
	return &ssrfEnv{env: e, internal: il, rc: mustSSRFReceiver(t, il.port, il), dns: dns}
}

// mustAPIBusiness enables the business API for a new user and sets its
// webhook to the receiver by name (hooks.test).
func (se *ssrfEnv) mustAPIBusiness(name string) *business {
	t := se.t
	t.Helper()
	u := se.mustUser(name)
	code, _, err := u.c.LinkCode(se.ctx())
	if err != nil {
		t.Fatal(err)
	}
	var n map[string]any
	if st := se.do("POST", "/business/v1/api/enable", u.auth(), map[string]string{"link_code": code}, &n); st != 200 {
		t.Fatalf("enable: %d %v", st, n)
	}
	var tok map[string]any
	if st := se.do("POST", "/business/v1/api/tokens", u.auth(), map[string]any{"name": "test"}, &tok); st != 200 {
		t.Fatalf("token: %d %v", st, tok)
	}
	var wh map[string]any
	if st := se.do("PUT", "/business/v1/webhook", u.auth(), map[string]string{"callback_url": "http://hooks.test:" + se.internal.port + "/hook",
		"verify_token": verifyToken, "app_secret": "app-secret"}, &wh); st != 200 {
		t.Fatalf("webhook: %d %v", st, wh)
	}
	return &business{user: u, pnid: n["phone_number_id"].(string), token: tok["token"].(string)}
}

// internalURLs are the ways to name the internal listener (or another
// internal address) in a URL.
func (se *ssrfEnv) internalURLs() map[string]string {
	p := se.internal.port
	return map[string]string{
		"loopback literal":   se.internal.url + "/secret",
		"mapped literal":     "http://[::ffff:127.0.0.1]:" + p + "/secret",
		"unspecified":        "http://0.0.0.0:" + p + "/secret",
		"name to loopback":   "http://internal.test:" + p + "/secret",
		"name to metadata":   "http://metadata.test/latest/meta-data/",
		"metadata literal":   "http://169.254.169.254/latest/meta-data/",
		"private literal":    "http://10.0.0.1:" + p + "/",
		"redirect to inside": se.rc.url + "/redirect",
	}
}

// TestSSRFMediaLink: a business API caller cannot make the server fetch an
// internal address through a media link, and the error it gets is the same
// for a refused address, a closed port, a 404 and a timeout.
func TestSSRFMediaLink(t *testing.T) {
	se := mustSSRFEnv(t)
	biz := se.mustAPIBusiness("Link Shop")
	cust := se.mustUser("Hal")
	wa := strings.TrimPrefix(cust.phone, "+")
	if _, err := cust.c.Send(se.ctx(), biz.phone, "send me the price list"); err != nil {
		t.Fatal(err)
	}
	se.rc.mustPost(t, "send me the price list") // the window is open
	doc := func(link string) (int, sendResp) {
		return biz.send(se.env, map[string]any{"to": wa, "type": "document", "document": map[string]any{"link": link, "filename": "prices.pdf"}})
	}
	// The allowed host works, by address and by name.
	for _, link := range []string{se.rc.url + "/doc", "http://hooks.test:" + se.internal.port + "/doc"} {
		if st, r := doc(link); st != 200 {
			t.Fatalf("allowed link %s: %d %+v", link, st, r.Error)
		}
	}
	var first *apiErr
	check := func(name, link string) {
		t.Helper()
		st, r := doc(link)
		if st != 400 || r.Error.Code != 131052 {
			t.Fatalf("%s (%s): %d %+v", name, link, st, r.Error)
		}
		if first == nil {
			first = &r.apiErr
		} else if r.apiErr != *first {
			t.Fatalf("%s: the error differs from the refused one: %+v, want %+v", name, r.Error, first.Error)
		}
	}
	for name, link := range se.internalURLs() {
		check(name, link)
	}
	se.internal.mustBeUntouched(t)
	// The same answer when the allowed host is closed, answers 404 or
	// never answers (the response header timeout: 10 s).
	check("closed port", closedURL(t))
	check("404", se.rc.url+"/missing")
	check("timeout", se.rc.url+"/stall")
	se.internal.mustBeUntouched(t)
}

// TestSSRFWebhookURL: a webhook URL naming an internal address fails the
// handshake without reaching it, with one message whatever the cause.
func TestSSRFWebhookURL(t *testing.T) {
	se := mustSSRFEnv(t)
	biz := se.mustAPIBusiness("Hook Shop")
	type errBody struct{ Code, Reason, Message string }
	var first *errBody
	put := func(name, u string) {
		t.Helper()
		var got errBody
		st := se.do("PUT", "/business/v1/webhook", biz.auth(), map[string]string{"callback_url": u, "verify_token": verifyToken, "app_secret": "s"}, &got)
		if st != 400 || got.Reason != webhook.ReasonVerificationFailed {
			t.Fatalf("%s (%s): %d %+v", name, u, st, got)
		}
		if first == nil {
			first = &got
		} else if got != *first {
			t.Fatalf("%s: %+v differs from %+v", name, got, *first)
		}
	}
	for name, u := range se.internalURLs() {
		put(name, u)
	}
	se.internal.mustBeUntouched(t)
	put("closed port", closedURL(t))
	put("404", se.rc.url+"/missing")
	put("timeout", se.rc.url+"/stall") // the webhook timeout: 10 s
	se.internal.mustBeUntouched(t)
	// The configuration kept is still the verified one.
	var view webhook.ConfigView
	if st := se.do("GET", "/business/v1/webhook", biz.auth(), nil, &view); st != 200 || !strings.HasPrefix(view.CallbackURL, "http://hooks.test:") {
		t.Fatalf("webhook after refused changes: %d %+v", st, view)
	}
}

// TestSSRFWebhookRebinding: the callback's name answers the allowed
// receiver during the handshake, then the internal listener. Deliveries
// are refused at dial time, the business sees the generic error, and once
// the name answers the receiver again the retried event arrives there.
func TestSSRFWebhookRebinding(t *testing.T) {
	se := mustSSRFEnv(t)
	biz := se.mustAPIBusiness("Rebind Shop")
	cust := se.mustUser("Ida")
	if se.rc.handshakes.Load() != 1 {
		t.Fatalf("handshakes: %d", se.rc.handshakes.Load())
	}
	se.dns.set("hooks.test", "127.0.0.1")
	if _, err := cust.c.Send(se.ctx(), biz.phone, "rebound hello"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var out struct{ Deliveries []webhook.DeliveryView }
		se.do("GET", "/business/v1/webhook/deliveries", biz.auth(), nil, &out)
		if len(out.Deliveries) > 0 && out.Deliveries[0].Attempts > 0 {
			if d := out.Deliveries[0]; d.LastError != outbound.ErrFailed.Error() {
				t.Fatalf("last_error %q, want the generic %q", d.LastError, outbound.ErrFailed.Error())
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failed delivery attempt: %+v", out.Deliveries)
		}
		time.Sleep(20 * time.Millisecond)
	}
	se.internal.mustBeUntouched(t)
	se.dns.set("hooks.test", "127.0.0.2")
	se.rc.mustPost(t, "rebound hello")
	se.internal.mustBeUntouched(t)
}

// TestWebhookNeedsBusiness: an account that is not a business cannot set
// (or read) a webhook, and no handshake is made for it.
func TestWebhookNeedsBusiness(t *testing.T) {
	se := mustSSRFEnv(t)
	u := se.mustUser("Personal")
	var got struct{ Code, Reason string }
	st := se.do("PUT", "/business/v1/webhook", u.auth(), map[string]string{"callback_url": se.rc.url + "/hook", "verify_token": verifyToken, "app_secret": "s"}, &got)
	if st != http.StatusForbidden || got.Reason != webhook.ReasonNotBusiness {
		t.Fatalf("personal account sets a webhook: %d %+v", st, got)
	}
	if st := se.do("GET", "/business/v1/webhook", u.auth(), nil, &got); st != http.StatusForbidden || got.Reason != webhook.ReasonNotBusiness {
		t.Fatalf("personal account reads a webhook: %d %+v", st, got)
	}
	if n := se.rc.handshakes.Load(); n != 0 {
		t.Fatalf("the receiver got %d handshakes", n)
	}
	// A published business profile makes it a business.
	if _, err := u.c.SetBusinessProfile(se.ctx(), parley.BusinessProfile{Name: "Corner Shop"}); err != nil {
		t.Fatal(err)
	}
	if st := se.do("PUT", "/business/v1/webhook", u.auth(), map[string]string{"callback_url": se.rc.url + "/hook", "verify_token": verifyToken, "app_secret": "s"}, &got); st != 200 {
		t.Fatalf("business sets a webhook: %d %+v", st, got)
	}
}
