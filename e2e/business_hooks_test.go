package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/webhook"
)

// hookReceiver is the business's webhook endpoint: a real HTTP server on
// 127.0.0.1 that answers the handshake, checks signatures and records the
// customer messages it acknowledged, in arrival order.
type hookReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	down   bool
	texts  []string
	badSig int
	posts  int
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			if r.URL.Query().Get("hub.verify_token") != "vt-e2e" {
				http.Error(w, "wrong token", http.StatusForbidden)
				return
			}
			io.WriteString(w, r.URL.Query().Get("hub.challenge"))
			return
		}
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		h.posts++
		if !webhook.Verify("e2e-secret", body, r.Header.Get(webhook.SignatureHeader)) {
			h.badSig++
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if h.down {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		changes, err := webhook.ParseEnvelope(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, c := range changes {
			var v struct {
				Messages []struct {
					Text struct{ Body string } `json:"text"`
				} `json:"messages"`
			}
			_ = json.Unmarshal(c.Value, &v)
			for _, m := range v.Messages {
				if m.Text.Body != "" {
					h.texts = append(h.texts, m.Text.Body)
				}
			}
		}
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookReceiver) setDown(d bool) { h.mu.Lock(); h.down = d; h.mu.Unlock() }

func (h *hookReceiver) waitTexts(t *testing.T, n int, within time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		h.mu.Lock()
		got := append([]string(nil), h.texts...)
		h.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhook got %v, want %d customer messages", got, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestBusinessHooksCLI: a business on the API configures its webhook with
// the CLI (GET handshake), gets customer messages signed; while its
// endpoint is down the server is killed (SIGKILL) with events queued, and
// after the restart they all arrive, in order; insights count the
// conversation and its response time; the dashboard and its data are served.
func TestBusinessHooksCLI(t *testing.T) {
	t.Setenv("PARLEY_METRICS_TOKEN", "metrics-token") // /metrics on the public listener needs it
	s := mustServe(t)
	biz := newDevice(t, "shop", "+14155550861")
	cust := newDevice(t, "dana", "+14155550862")
	biz.mustRegister(s, "Shop")
	cust.mustRegister(s, "Dana")
	biz.must("business", "api", "enable")
	tok := biz.must("business", "tokens", "create", "--name", "hooks").lines()
	if len(tok) != 1 || tok[0]["token"] == nil {
		t.Fatalf("tokens create printed %v", tok)
	}
	token, pnid := tok[0]["token"].(string), tok[0]["phone_number_id"].(string)

	h := newHookReceiver(t)
	biz.mustFail(exitInvalid, "business", "webhook", "set", "--url", h.URL+"/hook", "--verify-token", "wrong", "--app-secret", "e2e-secret")
	biz.mustFail(exitNotFound, "business", "webhook", "show")
	set := biz.must("business", "webhook", "set", "--url", h.URL+"/hook", "--verify-token", "vt-e2e", "--app-secret", "e2e-secret").lines()
	if len(set) != 1 || set[0]["callback_url"] != h.URL+"/hook" || set[0]["app_secret_set"] != true || set[0]["app_secret"] != nil {
		t.Fatalf("webhook set printed %v", set)
	}

	cust.must("send", "--to", biz.phone, "hello, are you open?")
	h.waitTexts(t, 1, 30*time.Second)

	// The business answers through the API: a sent status and a response time.
	wa := strings.TrimPrefix(cust.phone, "+")
	body := `{"messaging_product":"whatsapp","to":"` + wa + `","type":"text","text":{"body":"yes, until 6"}}`
	req, _ := http.NewRequest("POST", s.URL+"/v23.0/"+pnid+"/messages", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("API send: %s", resp.Status)
	}

	// The endpoint goes down; three messages queue up and fail.
	h.setDown(true)
	for _, m := range []string{"one", "two", "three"} {
		cust.must("send", "--to", biz.phone, m)
	}
	// Wait until the three messages are in the outbox behind a delivery
	// that failed at least once, then kill the server.
	deadline := time.Now().Add(30 * time.Second)
	for {
		p := biz.must("business", "webhook", "pending").lines()
		queued, failed := 0, 0
		for _, d := range p {
			if d["attempts"].(float64) >= 1 {
				failed++
			}
			v, _ := json.Marshal(d["value"])
			for _, m := range []string{`"body":"one"`, `"body":"two"`, `"body":"three"`} {
				if strings.Contains(string(v), m) {
					queued++
				}
			}
		}
		if queued == 3 && failed >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pending deliveries: %v", p)
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.kill()
	s.mustRestart()
	h.setDown(false)
	// A delivery cut by the kill waits for its lease (2 min) at worst.
	got := h.waitTexts(t, 4, 150*time.Second)
	if strings.Join(got, ",") != "hello, are you open?,one,two,three" {
		t.Fatalf("webhook got %v, want the customer's messages once each, in order", got)
	}
	if h.badSig != 0 {
		t.Fatalf("%d bad signatures", h.badSig)
	}
	if d := biz.must("business", "webhook", "dead").lines(); len(d) != 0 {
		t.Fatalf("dead letters: %v", d)
	}

	// Insights.
	var rep struct {
		Total struct {
			Sent, Inbound int
		}
		ResponseTimes struct {
			Count int
		} `json:"response_times"`
	}
	// Insights are recorded in batches just after the webhook is queued:
	// the last message's may still be on its way.
	for deadline := time.Now().Add(10 * time.Second); ; {
		out := biz.must("business", "insights")
		if err := json.Unmarshal([]byte(out.stdout), &rep); err != nil {
			t.Fatalf("insights: %v: %s", err, out.stdout)
		}
		if rep.Total.Sent >= 1 && rep.Total.Inbound == 4 && rep.ResponseTimes.Count == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("insights: %s", out.stdout)
		}
		time.Sleep(50 * time.Millisecond) // polling the batched insights writer, with a deadline
	}
	dash := biz.must("business", "insights", "dashboard").lines()
	if len(dash) != 1 {
		t.Fatalf("dashboard printed %v", dash)
	}
	u, err := url.Parse(dash[0]["url"].(string))
	if err != nil {
		t.Fatal(err)
	}
	// The URL carries a read-only insights token, never the device's
	// credentials.
	frag, _ := url.ParseQuery(u.EscapedFragment())
	dashToken := frag.Get("token")
	if !strings.HasPrefix(dashToken, "PRLY") || frag.Has("auth") || dash[0]["token_id"] == nil {
		t.Fatalf("dashboard URL %s: want a token in its fragment", u)
	}
	req, _ = http.NewRequest("POST", s.URL+"/v23.0/"+pnid+"/messages", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+dashToken)
	req.Header.Set("Content-Type", "application/json")
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a send with the dashboard's token: %s", resp.Status)
	}
	resp, err = http.Get(s.URL + u.Path)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "Business insights") {
		t.Fatalf("dashboard page: %s", resp.Status)
	}
	req, _ = http.NewRequest("GET", s.URL+"/business/v1/insights/charts/days.svg", nil)
	req.Header.Set("Authorization", "Bearer "+dashToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	svg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(svg), "<svg") {
		t.Fatalf("chart with the dashboard's credentials: %s %s", resp.Status, svg)
	}
	req, _ = http.NewRequest("GET", s.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer metrics-token")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `parley_business_message_events_total{status="inbound"} 4`) ||
		!regexp.MustCompile(`parley_webhook_deliveries_total\{result="delivered"\} [1-9]`).Match(metrics) ||
		!strings.Contains(string(metrics), `parley_webhook_backlog{state="dead"} 0`) {
		t.Fatalf("metrics:\n%s", metrics)
	}
}
