package server_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/accounts"
	"github.com/parleyhq/parley/outbound"
	"github.com/parleyhq/parley/proto/parleypb"
	"github.com/parleyhq/parley/push"
	"github.com/parleyhq/parley/server"
)

// internal is a listener on 127.0.0.1 standing for what lies behind the
// server; it counts every connection and request.
type internal struct {
	url, port   string
	conns, hits atomic.Int64
}

func mustInternal(t *testing.T) *internal {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	in := &internal{url: "http://" + ln.Addr().String()}
	_, in.port, _ = net.SplitHostPort(ln.Addr().String())
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { in.hits.Add(1) }),
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				in.conns.Add(1)
			}
		},
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return in
}

func (in *internal) mustBeUntouched(t *testing.T) {
	t.Helper()
	if c, h := in.conns.Load(), in.hits.Load(); c != 0 || h != 0 {
		t.Fatalf("the internal listener got %d connections and %d requests", c, h)
	}
}

// allowReceiver is the policy an operator sets to reach a gateway on
// 127.0.0.2 only (--outbound-allow 127.0.0.2/32).
var allowReceiver = outbound.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}}

// TestSSRFPushEndpoint: a device subscribes with push endpoints on the
// internal listener; the notifications the server then sends for it are
// refused at dial time and counted as failed.
func TestSSRFPushEndpoint(t *testing.T) {
	in := mustInternal(t)
	e := newEnv(t, func(c *server.Config) { c.Push = &push.Config{}; c.Outbound = allowReceiver })
	a, b := e.register("Ann"), e.register("Bob")
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	authSecret := make([]byte, push.AuthSecretSize)
	rand.Read(authSecret)
	b64 := base64.RawURLEncoding.EncodeToString
	endpoints := []string{in.url + "/push", "https://127.0.0.1:" + in.port + "/push", "http://localhost:" + in.port + "/push"}
	for _, ep := range endpoints {
		var sub push.Subscription
		sub.Endpoint, sub.Keys.P256DH, sub.Keys.Auth = ep, b64(priv.PublicKey().Bytes()), b64(authSecret)
		body, _ := json.Marshal(sub)
		req, _ := http.NewRequest(http.MethodPost, "http://"+e.addr+push.Path+"subscriptions", bytes.NewReader(body))
		req.Header.Set("Authorization", "Parley "+strconv.FormatInt(b.device, 10)+":"+base64.StdEncoding.EncodeToString(b.secret))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("subscribe %s: %d %s", ep, resp.StatusCode, msg)
		}
	}
	// Bob has no live session: Ann's messages notify his subscriptions.
	ca := e.connect(a)
	conv := e.direct(ca, b)
	ca.mustOK(sendFrame(conv, "m1", "hello"))
	deadline := time.Now().Add(20 * time.Second)
	for st := e.srv.Push.Stats(); st.Sent+st.Failed+st.Gone < int64(len(endpoints)); st = e.srv.Push.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("push stats %+v: want %d requests made", st, len(endpoints))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st := e.srv.Push.Stats(); st.Failed != int64(len(endpoints)) || st.Sent != 0 {
		t.Fatalf("push stats %+v: want every request failed", st)
	}
	in.mustBeUntouched(t)
}

// smsGateway is an SMS gateway on 127.0.0.2 that records codes and
// redirects /redirect to the internal listener.
type smsGateway struct {
	url   string
	mu    sync.Mutex
	codes []string
}

func mustSMSGateway(t *testing.T, in *internal) *smsGateway {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &smsGateway{url: "http://" + ln.Addr().String()}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, in.url+"/sms", http.StatusTemporaryRedirect)
			return
		}
		var body struct{ Code string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		g.mu.Lock()
		g.codes = append(g.codes, body.Code)
		g.mu.Unlock()
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return g
}

// TestSSRFSMSWebhook: an SMS webhook URL on an address the operator did
// not allow is never reached, directly or through a redirect from an
// allowed gateway; registration fails with sms_gateway_failed. The allowed
// gateway gets its codes.
func TestSSRFSMSWebhook(t *testing.T) {
	in := mustInternal(t)
	gw := mustSMSGateway(t, in)
	for name, tc := range map[string]struct {
		url string
		ok  bool
	}{
		"internal":         {in.url + "/sms", false},
		"mapped":           {"http://[::ffff:127.0.0.1]:" + in.port + "/sms", false},
		"unspecified":      {"http://0.0.0.0:" + in.port + "/sms", false},
		"redirect":         {gw.url + "/redirect", false},
		"allowed receiver": {gw.url + "/sms", true},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, func(c *server.Config) { c.Sender = accounts.NewWebhookSender(tc.url, "", allowReceiver) })
			c := dial(t, e.addr)
			reg := &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Register{Register: &parleypb.RegisterRequest{Phone: "+14155550177", Name: "Sam"}}}
			if tc.ok {
				c.mustOK(reg)
				gw.mu.Lock()
				n := len(gw.codes)
				gw.mu.Unlock()
				if n == 0 {
					t.Fatal("the allowed gateway got no code")
				}
				return
			}
			c.mustErr(reg, parleypb.ErrorCode_UNAVAILABLE, accounts.ReasonSMSGatewayFailed)
			in.mustBeUntouched(t)
		})
	}
}
