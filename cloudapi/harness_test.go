package cloudapi_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/accounts"
	"github.com/parleyhq/parley/blob/disk"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/hosted"
	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/outbound"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/server"
	"github.com/parleyhq/parley/store/sqlite"
	"github.com/parleyhq/parley/webhook"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"),
		// tusd's upload handler waits out its graceful completion timeout
		// (10 s) in a goroutine after each request: not a leak (as in client).
		goleak.IgnoreTopFunction("github.com/tus/tusd/v2/pkg/handler.newDelayedContext.func1"))
}

// codeBook is the harness's recording code sender (parleytest.Codes).
type codeBook struct{ *parleytest.Codes }

// mustCode is the code sent to phone: registration sends it before it
// answers.
func (b codeBook) mustCode(t *testing.T, phone string) string {
	t.Helper()
	code := b.Code(phone)
	if code == "" {
		t.Fatalf("no verification code for %s", phone)
	}
	return code
}

// offsetClock is the system clock moved forward by a settable offset.
type offsetClock struct{ d atomic.Int64 }

func (c *offsetClock) Now() time.Time          { return time.Now().Add(time.Duration(c.d.Load())) }
func (c *offsetClock) advance(d time.Duration) { c.d.Add(int64(d)) }

// receiver is a real webhook receiver on 127.0.0.1: it answers the GET
// handshake and records POSTed deliveries whose X-Hub-Signature-256 and
// signed timestamp check (webhook.Receiver on the server's clock), with
// the last accepted POST kept whole (to replay it).
type receiver struct {
	srv    *httptest.Server
	secret string
	mu     sync.Mutex
	bodies []string
	raws   [][]byte // the accepted POST bodies as they arrived
	bad    int
	last   *http.Request // the last accepted POST, its body readable again
	lastB  []byte
}

const verifyToken = "verify-me"

func newReceiver(t *testing.T, clock parley.Clock) *receiver {
	r := &receiver{secret: "app-secret"}
	check := &webhook.Receiver{Secret: r.secret, Clock: clock}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodGet {
			q := req.URL.Query()
			if q.Get("hub.mode") != "subscribe" || q.Get("hub.verify_token") != verifyToken {
				http.Error(w, "bad token", http.StatusForbidden)
				return
			}
			io.WriteString(w, q.Get("hub.challenge"))
			return
		}
		body, _ := io.ReadAll(req.Body)
		mac := hmac.New(sha256.New, []byte(r.secret))
		mac.Write(body)
		want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
		r.mu.Lock()
		defer r.mu.Unlock()
		if !hmac.Equal([]byte(req.Header.Get("X-Hub-Signature-256")), []byte(want)) {
			r.bad++
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		again := req.Clone(req.Context())
		again.Body = io.NopCloser(bytes.NewReader(body))
		if _, err := check.Read(again); err != nil {
			r.bad++
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		r.last, r.lastB = req.Clone(context.Background()), body
		r.raws = append(r.raws, body)
		// One POST may carry several events: keep each as a body of its
		// own, as tests look for one event at a time.
		changes, err := webhook.ParseEnvelope(body)
		if err != nil {
			r.bad++
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, c := range changes {
			business, _ := strconv.ParseInt(c.EntryID, 10, 64)
			r.bodies = append(r.bodies, string(webhook.Envelope(parley.WebhookEvent{Business: parley.UserID(business), Field: c.Field, Value: c.Value})))
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// mustEvent waits for a delivery of field containing substr.
func (r *receiver) mustEvent(t *testing.T, field, substr string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		for _, b := range r.bodies {
			if strings.Contains(b, `"field":"`+field+`"`) && strings.Contains(b, substr) {
				r.mu.Unlock()
				return b
			}
		}
		r.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no %s webhook containing %q", field, substr)
	return ""
}

// count is how many webhook bodies of field contain substr.
func (r *receiver) count(field, substr string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, b := range r.bodies {
		if strings.Contains(b, `"field":"`+field+`"`) && strings.Contains(b, substr) {
			n++
		}
	}
	return n
}

type env struct {
	t     *testing.T
	ps    *parleytest.Server
	url   string
	dir   string // blobs and hosted endpoints (the database is in ps.Dir)
	codes codeBook
	clock *offsetClock
	srv   *server.Server
	st    *sqlite.Store
	n     int

	// outbound is the server's outbound policy (mustEnv: 127.0.0.1 allowed).
	outbound outbound.Policy
}

const operatorToken = "operator-secret"

func mustEnv(t *testing.T) *env {
	t.Helper()
	return newEnv(t, outbound.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
}

// newEnv starts a real server (parleytest) with media and the business API,
// whose outbound requests follow pol.
func newEnv(t *testing.T, pol outbound.Policy) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), clock: &offsetClock{}, outbound: pol}
	blobs, err := disk.Open(filepath.Join(e.dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	key := bytes.Repeat([]byte{7}, 32)
	// The tests' webhook receivers and media links are on 127.0.0.1:
	// allowed as an operator allows a private range (--outbound-allow).
	e.ps = parleytest.Start(t, func(c *server.Config) {
		c.Accounts.Limits = accounts.Limits{} // the defaults, as a deployment has them
		c.Clock, c.Outbound = e.clock, e.outbound
		c.Media = &media.Config{Blobs: blobs, StagingDir: filepath.Join(e.dir, "uploads")}
		c.BusinessAPI = &server.BusinessAPIConfig{HostedDir: filepath.Join(e.dir, "hosted"), OperatorKey: key, OperatorToken: operatorToken, Hosted: hosted.ForServer}
	})
	e.codes = codeBook{e.ps.Codes}
	e.sync()
	return e
}

func (e *env) sync() { e.url, e.srv, e.st = e.ps.URL, e.ps.Server, e.ps.Store }

// stop shuts the server down and closes its store (the test may then
// change its files).
func (e *env) stop() { e.ps.Close() }

// start starts the stopped server again on the same address and data.
func (e *env) start() {
	e.ps.Restart()
	e.sync()
}

// restart stops the server and starts it again on the same address.
func (e *env) restart() { e.start() }

type user struct {
	c     *client.Client
	phone string
	acct  client.Account
}

func (u *user) auth() string {
	return fmt.Sprintf("Parley %d:%s", u.acct.Device, base64.StdEncoding.EncodeToString(u.acct.Secret))
}

func (e *env) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	e.t.Cleanup(cancel)
	return ctx
}

// mustUser registers a user with a fresh phone number.
func (e *env) mustUser(name string) *user {
	t := e.t
	t.Helper()
	e.n++
	phone := fmt.Sprintf("+1415556%04d", e.n)
	c, err := client.Open(e.ctx(), client.Config{Dir: t.TempDir(), ServerURL: e.url, Events: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Register(e.ctx(), e.url, phone, name); err != nil {
		t.Fatal(err)
	}
	acct, err := c.Verify(e.ctx(), e.codes.mustCode(t, phone), "")
	if err != nil {
		t.Fatal(err)
	}
	return &user{c: c, phone: phone, acct: acct}
}

// do sends an HTTP request and decodes the JSON answer into out.
func (e *env) do(method, path, auth string, body any, out any) int {
	e.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.url+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

// business is a registered business with the API enabled and a token.
type business struct {
	*user
	pnid  string
	token string
	hooks *receiver
}

func (e *env) mustBusiness(name string) *business {
	t := e.t
	t.Helper()
	u := e.mustUser(name)
	code, _, err := u.c.LinkCode(e.ctx())
	if err != nil {
		t.Fatal(err)
	}
	var n map[string]any
	if st := e.do("POST", "/business/v1/api/enable", u.auth(), map[string]string{"link_code": code}, &n); st != 200 {
		t.Fatalf("enable: %d %v", st, n)
	}
	var tok map[string]any
	if st := e.do("POST", "/business/v1/api/tokens", u.auth(), map[string]any{"name": "test"}, &tok); st != 200 {
		t.Fatalf("token: %d %v", st, tok)
	}
	b := &business{user: u, pnid: n["phone_number_id"].(string), token: tok["token"].(string), hooks: newReceiver(t, e.clock)}
	var wh map[string]any
	if st := e.do("PUT", "/business/v1/webhook", u.auth(), map[string]string{"callback_url": b.hooks.srv.URL,
		"verify_token": verifyToken, "app_secret": b.hooks.secret}, &wh); st != 200 {
		t.Fatalf("webhook: %d %v", st, wh)
	}
	return b
}

type apiErr struct {
	Error struct {
		Message   string `json:"message"`
		Type      string `json:"type"`
		Code      int    `json:"code"`
		ErrorData struct {
			Details string `json:"details"`
		} `json:"error_data"`
	} `json:"error"`
}

type sendResp struct {
	MessagingProduct string `json:"messaging_product"`
	Contacts         []struct {
		Input string `json:"input"`
		WaID  string `json:"wa_id"`
	} `json:"contacts"`
	Messages []struct {
		ID            string `json:"id"`
		MessageStatus string `json:"message_status"`
	} `json:"messages"`
	apiErr
}

func (b *business) send(e *env, body map[string]any) (int, sendResp) {
	e.t.Helper()
	body["messaging_product"] = "whatsapp"
	var r sendResp
	st := e.do("POST", "/v23.0/"+b.pnid+"/messages", "Bearer "+b.token, body, &r)
	return st, r
}

func text(to, body string) map[string]any {
	return map[string]any{"to": to, "type": "text", "text": map[string]any{"body": body}}
}

// mustMessage waits for a message event on c matching f.
func mustMessage(t *testing.T, c *client.Client, f func(client.MessageRecord) bool) client.MessageRecord {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case ev := <-c.Events():
			if ev.Kind == client.EventMessage && ev.Message != nil && f(*ev.Message) {
				return *ev.Message
			}
		case <-deadline:
			t.Fatal("no matching message")
		}
	}
}
