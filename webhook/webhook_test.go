package webhook_test

import (
	"net/netip"

	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/outbound"
	"github.com/parleyhq/parley/store/sqlite"
	"github.com/parleyhq/parley/webhook"
)

// allowLoopback lets the tests' receivers on 127.0.0.1 be reached, as an
// operator allows a private range with --outbound-allow.
var allowLoopback = outbound.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const secret = "app-secret"

// receiver is a real HTTP webhook endpoint on 127.0.0.1: it answers the GET
// handshake, checks every POST's signature, fails on purpose when fail
// says so, and records what it acknowledged per order key.
type receiver struct {
	*httptest.Server
	verifyToken string

	mu       sync.Mutex
	fail     func(key string, n int) bool // true: answer 503
	got      map[string][]int             // acknowledged values per key
	attempts int
	posts    int // POSTs answered 2xx (each may carry several events)
	badSig   int
	all      chan struct{} // closed when want acknowledgements arrived
	want     int
	acked    int
	flag     bool // for a test's own use, under mu
}

func newReceiver(t *testing.T, want int) *receiver {
	rc := &receiver{verifyToken: "vt", got: map[string][]int{}, all: make(chan struct{}), want: want}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		q := r.URL.Query()
		if q.Get("hub.mode") != "subscribe" || q.Get("hub.verify_token") != rc.verifyToken {
			http.Error(w, "bad verify token", http.StatusForbidden)
			return
		}
		io.WriteString(w, q.Get("hub.challenge"))
		return
	}
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.attempts++
	if !webhook.Verify(secret, body, r.Header.Get(webhook.SignatureHeader)) {
		rc.badSig++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	changes, err := webhook.ParseEnvelope(body)
	if err != nil {
		http.Error(w, "bad envelope", http.StatusBadRequest)
		return
	}
	type event struct {
		Key string `json:"key"`
		N   int    `json:"n"`
	}
	evs := make([]event, len(changes))
	for i, c := range changes {
		_ = json.Unmarshal(c.Value, &evs[i])
		if rc.fail != nil && rc.fail(evs[i].Key, evs[i].N) {
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return // the whole POST fails
		}
	}
	rc.posts++
	for _, v := range evs {
		prev := rc.got[v.Key]
		rc.got[v.Key] = append(prev, v.N)
		if len(prev) > 0 && prev[len(prev)-1] == v.N {
			continue // a re-send: counted once
		}
		rc.acked++
		if rc.acked == rc.want {
			close(rc.all)
		}
	}
}

// checkOrder fails unless every key got 0..per-1, in order; with dups
// allowed, a value may repeat only right after itself (a re-send of an
// event whose acknowledgement was lost).
func (rc *receiver) checkOrder(t *testing.T, keys, per int, dups bool) {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.got) != keys {
		t.Fatalf("got %d keys, want %d", len(rc.got), keys)
	}
	for k, v := range rc.got {
		next := 0
		for i, n := range v {
			switch {
			case n == next:
				next++
			case dups && i > 0 && n == v[i-1]:
			default:
				t.Fatalf("key %s got %v: want 0..%d in order", k, v, per-1)
			}
		}
		if next != per {
			t.Fatalf("key %s got %v: want 0..%d", k, v, per-1)
		}
	}
	if rc.badSig != 0 {
		t.Fatalf("%d deliveries had a bad signature", rc.badSig)
	}
}

func openStore(t testing.TB, dir string) *sqlite.Store {
	s, err := sqlite.Open(context.Background(), filepath.Join(dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func run(t *testing.T, svc *webhook.Service) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); svc.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func event(biz parley.UserID, key string, n int) parley.WebhookEvent {
	return parley.WebhookEvent{Business: biz, PhoneNumberID: "100", OrderKey: key, Field: "messages",
		Value: json.RawMessage(fmt.Sprintf(`{"messaging_product":"whatsapp","key":%q,"n":%d}`, key, n))}
}

func configure(t *testing.T, svc *webhook.Service, rc *receiver, biz parley.UserID) {
	t.Helper()
	if _, err := svc.Configure(t.Context(), parley.WebhookConfig{Business: biz, CallbackURL: rc.URL + "/hook", VerifyToken: rc.verifyToken, AppSecret: secret}); err != nil {
		t.Fatal(err)
	}
}

func wait(t *testing.T, ch chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestSignature(t *testing.T) {
	body := []byte(`{"object":"whatsapp_business_account"}`)
	// Reference value: printf '%s' "$body" | openssl dgst -sha256 -hmac app-secret
	sig := webhook.Sign(secret, body)
	if !strings.HasPrefix(sig, "sha256=") || len(sig) != 7+64 {
		t.Fatalf("signature %q", sig)
	}
	if !webhook.Verify(secret, body, sig) || !webhook.Verify(secret, body, strings.ToUpper(sig[:7])+sig[7:]) {
		t.Fatal("valid signature refused")
	}
	for name, tc := range map[string]struct {
		secret, sig string
		body        []byte
	}{
		"other secret": {"x", sig, body},
		"other body":   {secret, sig, append(body, ' ')},
		"empty":        {secret, "", body},
		"no prefix":    {secret, sig[7:], body},
	} {
		if webhook.Verify(tc.secret, tc.body, tc.sig) {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestBackoff(t *testing.T) {
	base, max := 2*time.Second, time.Hour
	prev := time.Duration(0)
	for a := 1; a <= 40; a++ {
		hi := webhook.Backoff(base, max, a, 0.999999)
		lo := webhook.Backoff(base, max, a, 0)
		if lo < hi/2-time.Millisecond || hi > max || hi < prev {
			t.Fatalf("attempt %d: [%v, %v] after %v", a, lo, hi, prev)
		}
		prev = hi
	}
	if webhook.Backoff(base, max, 1, 0.999999) > base || webhook.Backoff(base, max, 1000, 0.5) != 45*time.Minute {
		t.Fatal("backoff bounds")
	}
}

func TestConfigureHandshake(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	svc := webhook.New(s, nil, nil, webhook.Config{Outbound: allowLoopback})
	rc := newReceiver(t, 0)
	echoWrong := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "nope") }))
	defer echoWrong.Close()
	for name, tc := range map[string]struct {
		url, token, reason string
	}{
		"ok":          {rc.URL, "vt", ""},
		"wrong token": {rc.URL, "other", "webhook_verification_failed"},
		"no echo":     {echoWrong.URL, "vt", "webhook_verification_failed"},
		"not http":    {"ftp://127.0.0.1/x", "vt", "bad_callback_url"},
		"relative":    {"/hook", "vt", "bad_callback_url"},
		"unreachable": {"http://127.0.0.1:1/hook", "vt", "webhook_verification_failed"},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := svc.Configure(t.Context(), parley.WebhookConfig{Business: 5, CallbackURL: tc.url, VerifyToken: tc.token, AppSecret: secret})
			if tc.reason == "" {
				if err != nil || c.VerifiedAt.IsZero() {
					t.Fatalf("configure: %v", err)
				}
				return
			}
			if parley.ErrorReason(err) != tc.reason {
				t.Fatalf("got %v, want reason %s", err, tc.reason)
			}
		})
	}
	if _, err := svc.Configure(t.Context(), parley.WebhookConfig{Business: 5, CallbackURL: rc.URL, VerifyToken: "vt"}); parley.ErrorReason(err) != "missing_secret" {
		t.Fatalf("no secret: %v", err)
	}
}

func TestEnqueueRules(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	svc := webhook.New(s, nil, nil, webhook.Config{Outbound: allowLoopback})
	ctx := t.Context()
	if err := svc.Enqueue(ctx, event(9, "k", 0)); err != nil || svc.Stats().Unconfigured != 1 {
		t.Fatalf("unconfigured business: %v %+v", err, svc.Stats())
	}
	for name, ev := range map[string]parley.WebhookEvent{
		"no business": {Field: "messages", Value: json.RawMessage(`{}`)},
		"no field":    {Business: 1, Value: json.RawMessage(`{}`)},
		"array value": {Business: 1, Field: "messages", Value: json.RawMessage(`[1]`)},
		"bad json":    {Business: 1, Field: "messages", Value: json.RawMessage(`{`)},
	} {
		if err := svc.Enqueue(ctx, ev); parley.ErrorCode(err) != parley.CodeInvalid {
			t.Errorf("%s: got %v, want invalid", name, err)
		}
	}
	big := parley.WebhookEvent{Business: 1, Field: "messages", Value: json.RawMessage(`{"x":"` + strings.Repeat("a", webhook.MaxValue) + `"}`)}
	if err := svc.Enqueue(ctx, big); parley.ErrorCode(err) != parley.CodeTooLarge {
		t.Errorf("big value: %v", err)
	}
}

// TestDeliveryRetriesKeepOrder: a receiver that fails a third of the first
// attempts still gets every event, signed, in order per key.
func TestDeliveryRetriesKeepOrder(t *testing.T) {
	const keys, per = 6, 20
	s := openStore(t, t.TempDir())
	defer s.Close()
	svc := webhook.New(s, nil, nil, webhook.Config{Outbound: allowLoopback, Workers: 8, BaseDelay: 5 * time.Millisecond, MaxDelay: 40 * time.Millisecond, Poll: 10 * time.Millisecond})
	rc := newReceiver(t, keys*per)
	failed := map[string]bool{}
	rc.fail = func(key string, n int) bool {
		id := fmt.Sprint(key, n)
		if (n%3 == 1) && !failed[id] {
			failed[id] = true
			return true
		}
		return false
	}
	configure(t, svc, rc, 1)
	run(t, svc)
	for n := range per {
		for k := range keys {
			if err := svc.Enqueue(t.Context(), event(1, fmt.Sprint("wa", k), n)); err != nil {
				t.Fatal(err)
			}
		}
	}
	wait(t, rc.all, "all deliveries")
	rc.checkOrder(t, keys, per, false)
	// The receiver answers before the worker counts the delivery.
	for end := time.Now().Add(5 * time.Second); svc.Stats().Delivered < keys*per && time.Now().Before(end); {
		time.Sleep(5 * time.Millisecond)
	}
	st := svc.Stats()
	if st.Failed == 0 || st.Delivered != keys*per {
		t.Fatalf("stats %+v: want failures and %d delivered", st, keys*per)
	}
}

// TestDeadLetterAndReplay: a receiver that is down past RetryFor makes the
// event a dead letter, visible over HTTP; replay delivers it once the
// receiver is back, and a dead letter does not block later events of its key.
func TestDeadLetterAndReplay(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	svc := webhook.New(s, nil, nil, webhook.Config{Outbound: allowLoopback, BaseDelay: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond, Poll: 10 * time.Millisecond,
		RetryFor: 150 * time.Millisecond, AllowShortRetry: true})
	rc := newReceiver(t, 2)
	var down sync.Mutex
	isDown := true
	rc.fail = func(key string, n int) bool { down.Lock(); defer down.Unlock(); return isDown && n == 0 }
	configure(t, svc, rc, 1)
	run(t, svc)
	if err := svc.Enqueue(t.Context(), event(1, "wa1", 0)); err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(svc.Handler(func(r *http.Request) (parley.UserID, error) {
		if r.Header.Get("Authorization") != "Parley biz1" {
			return 0, parley.Errorf(parley.CodeUnauthenticated, "bad_credentials", "who are you")
		}
		return 1, nil
	}))
	defer api.Close()
	call := func(method, path, body string, out any) int {
		t.Helper()
		req, _ := http.NewRequest(method, api.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Parley biz1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if out != nil {
			_ = json.NewDecoder(resp.Body).Decode(out)
		}
		return resp.StatusCode
	}
	var dead struct{ Deliveries []webhook.DeliveryView }
	deadline := time.Now().Add(20 * time.Second)
	for len(dead.Deliveries) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no dead letter")
		}
		time.Sleep(20 * time.Millisecond)
		call("GET", "/business/v1/webhook/deliveries?dead=1", "", &dead)
	}
	d := dead.Deliveries[0]
	// last_error is the outbound client's one generic error: the status
	// (503) is in the server log only.
	if !d.Dead || d.Attempts < 2 || d.LastError != outbound.ErrFailed.Error() || d.OrderKey != "wa1" {
		t.Fatalf("dead letter %+v", d)
	}
	// A later event of the same key is not blocked by the dead one.
	if err := svc.Enqueue(t.Context(), event(1, "wa1", 1)); err != nil {
		t.Fatal(err)
	}
	for {
		rc.mu.Lock()
		n := len(rc.got["wa1"])
		rc.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	down.Lock()
	isDown = false
	down.Unlock()
	var rep struct{ Replayed int }
	if st := call("POST", "/business/v1/webhook/replay", fmt.Sprintf(`{"ids":[%d]}`, d.ID), &rep); st != 200 || rep.Replayed != 1 {
		t.Fatalf("replay: %d %+v", st, rep)
	}
	wait(t, rc.all, "the replayed delivery")
	rc.mu.Lock()
	got := rc.got["wa1"]
	rc.mu.Unlock()
	if fmt.Sprint(got) != "[1 0]" {
		t.Fatalf("got %v, want the live event then the replayed one", got)
	}
	var cfg webhook.ConfigView
	if st := call("GET", "/business/v1/webhook", "", &cfg); st != 200 || !cfg.HasSecret || cfg.CallbackURL != rc.URL+"/hook" {
		t.Fatalf("config view: %d %+v", st, cfg)
	}
	req, _ := http.NewRequest("GET", api.URL+"/business/v1/webhook", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no credentials: %d", resp.StatusCode)
	}
}

func FuzzParseEnvelope(f *testing.F) {
	f.Add(webhook.Envelope(event(1, "wa", 0)))
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"statuses":[{"id":"wamid.x","status":"read"}]}}]}]}`))
	f.Add([]byte(`{"object":"page","entry":[]}`))
	f.Add([]byte(`{"entry":[{"changes":[{"field":"","value":null}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		cs, err := webhook.ParseEnvelope(body)
		if err != nil {
			if c := parley.ErrorCode(err); c != parley.CodeInvalid && c != parley.CodeTooLarge {
				t.Fatalf("error code %s", c)
			}
			return
		}
		for _, c := range cs {
			// Every accepted change survives a round trip through Envelope.
			again, err := webhook.ParseEnvelope(webhook.Envelope(parley.WebhookEvent{Business: 1, Field: c.Field, Value: c.Value}))
			if err != nil || len(again) != 1 || again[0].Field != c.Field {
				t.Fatalf("round trip of %+v: %v %+v", c, err, again)
			}
		}
	})
}

// TestBatchesAndIsolatesRetries: first attempts of one business due together
// share POSTs; after a POST fails its events are retried one per POST, so an
// event the callback keeps refusing holds up none of the others.
func TestBatchesAndIsolatesRetries(t *testing.T) {
	const keys = 40
	s := openStore(t, t.TempDir())
	defer s.Close()
	svc := webhook.New(s, nil, nil, webhook.Config{Outbound: allowLoopback, Workers: 4, MaxBatch: 16, BaseDelay: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond, Poll: 10 * time.Millisecond})
	rc := newReceiver(t, keys)
	rc.fail = func(key string, n int) bool { return key == "poison" }
	configure(t, svc, rc, 1)
	// Enqueued before Run, so the first claim finds them all due.
	for k := range keys {
		if err := svc.Enqueue(t.Context(), event(1, fmt.Sprint("wa", k), 0)); err != nil {
			t.Fatal(err)
		}
		if k == keys/2 {
			if err := svc.Enqueue(t.Context(), event(1, "poison", 0)); err != nil {
				t.Fatal(err)
			}
		}
	}
	run(t, svc)
	wait(t, rc.all, "every event but the poisoned one")
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.got["poison"]) != 0 {
		t.Fatalf("the refused event was acknowledged: %v", rc.got["poison"])
	}
	// 41 events: with batches of up to 16 the first attempts took at most
	// a few POSTs, then the poisoned batch's events went one by one.
	if rc.posts >= keys {
		t.Fatalf("%d POSTs for %d events: not batched", rc.posts, keys)
	}
}

func TestReadRequest(t *testing.T) {
	body := webhook.Envelope(event(7, "wa1", 1), event(7, "wa2", 2))
	req := func(b []byte, sig string, at time.Time) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(b))
		r.Header.Set(webhook.SignatureHeader, sig)
		r.Header.Set(webhook.TimedSignatureHeader, webhook.SignTimed(secret, at, b))
		return r
	}
	changes, err := webhook.ReadRequest(req(body, webhook.Sign(secret, body), time.Now()), secret)
	if err != nil || len(changes) != 2 || changes[0].EntryID != "7" || !strings.Contains(string(changes[1].Value), `"wa2"`) {
		t.Fatalf("changes %+v, %v", changes, err)
	}
	if _, err := webhook.ReadRequest(req(body, webhook.Sign("other", body), time.Now()), secret); parley.ErrorCode(err) != parley.CodeUnauthenticated {
		t.Fatalf("wrong secret: %v", err)
	}
	junk := []byte(`{"object":"page"}`)
	if _, err := webhook.ReadRequest(req(junk, webhook.Sign(secret, junk), time.Now()), secret); parley.ErrorCode(err) != parley.CodeInvalid {
		t.Fatalf("not an envelope: %v", err)
	}
}

// TestReceiverRefusesReplays checks the signed timestamp: a POST without
// it, with a forged one, outside the window either way, or accepted once
// already is refused with its reason; a fresh one is accepted.
func TestReceiverRefusesReplays(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
	body := webhook.Envelope(event(7, "wa1", 1))
	req := func(sig, timed string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(body))
		r.Header.Set(webhook.SignatureHeader, sig)
		if timed != "" {
			r.Header.Set(webhook.TimedSignatureHeader, timed)
		}
		return r
	}
	good := webhook.Sign(secret, body)
	other := webhook.Envelope(event(7, "wa1", 2))
	for _, tc := range []struct {
		name, timed, reason string
	}{
		{"no timestamp", "", webhook.ReasonMissingTimestamp},
		{"malformed", "t=yesterday,v1=00", webhook.ReasonMissingTimestamp},
		{"another body's signature", webhook.SignTimed(secret, clk.Now(), other), webhook.ReasonBadSignature},
		{"another secret", webhook.SignTimed("other", clk.Now(), body), webhook.ReasonBadSignature},
		{"timestamp changed", strings.Replace(webhook.SignTimed(secret, clk.Now(), body), "t=", "t=1", 1), webhook.ReasonBadSignature},
		{"too old", webhook.SignTimed(secret, clk.Now().Add(-webhook.DefaultTolerance-time.Second), body), webhook.ReasonStaleTimestamp},
		{"too new", webhook.SignTimed(secret, clk.Now().Add(webhook.DefaultTolerance+time.Second), body), webhook.ReasonStaleTimestamp},
	} {
		rv := &webhook.Receiver{Secret: secret, Clock: clk}
		_, err := rv.Read(req(good, tc.timed))
		if parley.ErrorCode(err) != parley.CodeUnauthenticated || parley.ErrorReason(err) != tc.reason {
			t.Errorf("%s: got %v, want %s", tc.name, err, tc.reason)
		}
	}
	rv := &webhook.Receiver{Secret: secret, Clock: clk}
	fresh := webhook.SignTimed(secret, clk.Now().Add(-time.Minute), body)
	// X-Parley-Timestamp, when present, must be the signed time.
	mismatched := req(good, fresh)
	mismatched.Header.Set(webhook.TimestampHeader, "1")
	if _, err := rv.Read(mismatched); parley.ErrorReason(err) != webhook.ReasonBadSignature {
		t.Fatalf("a timestamp header that is not the signed one: %v", err)
	}
	if _, err := rv.Read(req(good, fresh)); err != nil {
		t.Fatalf("fresh POST: %v", err)
	}
	if _, err := rv.Read(req(good, fresh)); parley.ErrorReason(err) != webhook.ReasonReplayed {
		t.Fatalf("the same POST again: %v, want %s", err, webhook.ReasonReplayed)
	}
	clk.Add(webhook.DefaultTolerance)
	if _, err := rv.Read(req(good, fresh)); parley.ErrorReason(err) != webhook.ReasonStaleTimestamp {
		t.Fatalf("the same POST later: %v, want %s", err, webhook.ReasonStaleTimestamp)
	}
	// The same body sent again at another time (a retry) is a new POST.
	if _, err := rv.Read(req(good, webhook.SignTimed(secret, clk.Now(), body))); err != nil {
		t.Fatalf("a retry signed anew: %v", err)
	}
}

// FuzzVerifyTimed feeds arbitrary X-Parley-Signature values: the answer is
// an error with one of the documented reasons or, only for the header
// SignTimed makes, success.
func FuzzVerifyTimed(f *testing.F) {
	now := time.Unix(1765108800, 0)
	body := []byte(`{"object":"whatsapp_business_account"}`)
	f.Add(webhook.SignTimed(secret, now, body))
	f.Add("t=1765108800,v1=zz")
	f.Add("t=,v1=")
	f.Add("v1=00,t=1765108800,v1=11")
	f.Fuzz(func(t *testing.T, header string) {
		_, _, err := webhook.VerifyTimed(secret, body, header, now, webhook.DefaultTolerance)
		if err == nil {
			if want := webhook.SignTimed(secret, now, body)[len("t=1765108800,"):]; !strings.Contains(strings.ToLower(header), want) {
				t.Fatalf("accepted %q", header)
			}
			return
		}
		switch parley.ErrorReason(err) {
		case webhook.ReasonMissingTimestamp, webhook.ReasonBadSignature, webhook.ReasonStaleTimestamp:
		default:
			t.Fatalf("%q: %v", header, err)
		}
	})
}
