package cloudapi_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/webhook"
)

// replay sends the receiver's last accepted POST again, headers and body
// as they were, and returns the status the receiver answers.
func (r *receiver) replay(t *testing.T) (*http.Request, int) {
	t.Helper()
	r.mu.Lock()
	last, body := r.last, r.lastB
	r.mu.Unlock()
	if last == nil {
		t.Fatal("no POST to replay")
	}
	req, err := http.NewRequest(http.MethodPost, r.srv.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = last.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	again, _ := http.NewRequest(http.MethodPost, r.srv.URL, bytes.NewReader(body))
	again.Header = last.Header.Clone()
	return again, resp.StatusCode
}

// TestWebhookReplayRefused: a webhook POST from the real server carries a
// signed timestamp; ReadRequest accepts it once, refuses it sent again,
// and a receiver refuses it once its time is older than the tolerance,
// while fresh deliveries keep being accepted.
func TestWebhookReplayRefused(t *testing.T) {
	e := mustEnv(t)
	biz := e.mustBusiness("Bakery")
	cust := e.mustUser("Customer")
	if _, err := cust.c.Send(e.ctx(), biz.phone, "one loaf please"); err != nil {
		t.Fatal(err)
	}
	biz.hooks.mustEvent(t, "messages", "one loaf please")

	// The receiver (a webhook.Receiver) refuses the same POST sent again.
	captured, status := biz.hooks.replay(t)
	if status != http.StatusUnauthorized {
		t.Fatalf("replayed POST answered %d, want 401", status)
	}
	if captured.Header.Get(webhook.TimestampHeader) == "" || captured.Header.Get(webhook.TimedSignatureHeader) == "" {
		t.Fatalf("delivery without a signed timestamp: %v", captured.Header)
	}
	// ReadRequest: the first time it sees this fresh POST it accepts it,
	// the second time it is a replay.
	body, _ := io.ReadAll(captured.Body)
	read := func() error {
		r, _ := http.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header = captured.Header.Clone()
		_, err := webhook.ReadRequest(r, biz.hooks.secret)
		return err
	}
	if err := read(); err != nil {
		t.Fatalf("ReadRequest of a fresh delivery: %v", err)
	}
	if err := read(); parley.ErrorReason(err) != webhook.ReasonReplayed {
		t.Fatalf("ReadRequest of the same POST again: %v, want %s", err, webhook.ReasonReplayed)
	}

	// Later, the captured POST is old: refused as stale by a receiver that
	// never saw it; the server's new deliveries are signed with the new
	// time and accepted.
	e.clock.advance(10 * time.Minute)
	later := &webhook.Receiver{Secret: biz.hooks.secret, Clock: e.clock}
	r, _ := http.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	r.Header = captured.Header.Clone()
	if _, err := later.Read(r); parley.ErrorReason(err) != webhook.ReasonStaleTimestamp {
		t.Fatalf("an old POST: %v, want %s", err, webhook.ReasonStaleTimestamp)
	}
	if _, status := biz.hooks.replay(t); status != http.StatusUnauthorized {
		t.Fatalf("old POST replayed to the receiver answered %d, want 401", status)
	}
	if _, err := cust.c.Send(e.ctx(), biz.phone, "and a cake"); err != nil {
		t.Fatal(err)
	}
	biz.hooks.mustEvent(t, "messages", "and a cake")
}
