package storetest

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// HooksStore is what RunWebhooks and RunInsights need.
type HooksStore interface {
	parley.WebhookStore
	parley.InsightsStore
	Close() error
}

// RunWebhooks runs the contract suite of parley.WebhookStore and
// parley.InsightsStore. open works as for Run: a second call with the same t
// reopens the same storage.
func RunWebhooks(t *testing.T, open func(t *testing.T) HooksStore) {
	tests := []struct {
		name string
		f    func(t *testing.T, s HooksStore)
	}{
		{"Config", testWebhookConfig},
		{"ClaimHeadsOnly", testWebhookClaimHeads},
		{"RetryDeadReplay", testWebhookRetryDeadReplay},
		{"ClaimConcurrent", testWebhookClaimConcurrent},
		{"Batches", testWebhookBatches},
		{"InsightsDedupeAndTotals", testInsightsTotals},
		{"InsightsResponseTimes", testInsightsResponses},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			tc.f(t, s)
		})
	}
	t.Run("Persistence", func(t *testing.T) {
		s := open(t)
		ev := hookEvent(7, "k", 1)
		id, err := s.EnqueueWebhook(t.Context(), ev, t0)
		must(t, err)
		must(t, s.Close())
		s = open(t)
		defer s.Close()
		got, err := s.ClaimWebhooks(t.Context(), t0, time.Minute, 10)
		must(t, err)
		if len(got) != 1 || got[0].ID != id || string(got[0].Event.Value) != string(ev.Value) {
			t.Fatalf("after reopen claimed %+v, want the enqueued event %d", got, id)
		}
	})
}

func hookEvent(business parley.UserID, key string, n int) parley.WebhookEvent {
	return parley.WebhookEvent{Business: business, PhoneNumberID: "p1", OrderKey: key, Field: "messages",
		Value: json.RawMessage(fmt.Sprintf(`{"n":%d}`, n))}
}

func testWebhookConfig(t *testing.T, s HooksStore) {
	ctx := t.Context()
	if _, err := s.WebhookConfig(ctx, 1); parley.ErrorCode(err) != parley.CodeNotFound {
		t.Fatalf("missing config: got %v, want not_found", err)
	}
	c := parley.WebhookConfig{Business: 1, CallbackURL: "http://127.0.0.1/a", VerifyToken: "v", AppSecret: "s", VerifiedAt: t0}
	must(t, s.PutWebhookConfig(ctx, c))
	c.CallbackURL = "http://127.0.0.1/b"
	must(t, s.PutWebhookConfig(ctx, c))
	got, err := s.WebhookConfig(ctx, 1)
	must(t, err)
	if got != c {
		t.Fatalf("config %+v, want %+v", got, c)
	}
	must(t, s.DeleteWebhookConfig(ctx, 1))
	if err := s.DeleteWebhookConfig(ctx, 1); parley.ErrorCode(err) != parley.CodeNotFound {
		t.Fatalf("second delete: got %v, want not_found", err)
	}
}

func testWebhookClaimHeads(t *testing.T, s HooksStore) {
	ctx := t.Context()
	var ids []int64
	for i, key := range []string{"a", "a", "b", "a", "b"} {
		id, err := s.EnqueueWebhook(ctx, hookEvent(1, key, i), t0)
		must(t, err)
		if len(ids) > 0 && id <= ids[len(ids)-1] {
			t.Fatalf("ids not increasing: %d after %v", id, ids)
		}
		ids = append(ids, id)
	}
	_, err := s.EnqueueWebhook(ctx, hookEvent(2, "a", 9), t0) // same key, other business
	must(t, err)
	got, err := s.ClaimWebhooks(ctx, t0, time.Minute, 100)
	must(t, err)
	if len(got) != 3 || got[0].ID != ids[0] || got[1].ID != ids[2] || got[2].Event.Business != 2 {
		t.Fatalf("claimed %+v, want the heads of a, b and business 2's a", got)
	}
	if again, err := s.ClaimWebhooks(ctx, t0.Add(59*time.Second), time.Minute, 100); err != nil || len(again) != 0 {
		t.Fatalf("claim within the lease: %v, %v; want nothing", again, err)
	}
	// Lease expiry: the same heads come back.
	again, err := s.ClaimWebhooks(ctx, t0.Add(time.Minute), time.Minute, 100)
	must(t, err)
	if len(again) != 3 {
		t.Fatalf("after the lease: %d claimed, want 3", len(again))
	}
	must(t, s.DeliveredWebhook(ctx, ids[0]))
	next, err := s.ClaimWebhooks(ctx, t0.Add(time.Minute), time.Minute, 100)
	must(t, err)
	if len(next) != 1 || next[0].ID != ids[1] || string(next[0].Event.Value) != `{"n":1}` || next[0].Event.OrderKey != "a" {
		t.Fatalf("after delivering a's head claimed %+v, want id %d", next, ids[1])
	}
}

func testWebhookRetryDeadReplay(t *testing.T, s HooksStore) {
	ctx := t.Context()
	id1, err := s.EnqueueWebhook(ctx, hookEvent(1, "a", 1), t0)
	must(t, err)
	id2, err := s.EnqueueWebhook(ctx, hookEvent(1, "a", 2), t0)
	must(t, err)
	_, err = s.ClaimWebhooks(ctx, t0, time.Minute, 10)
	must(t, err)
	must(t, s.RetryWebhook(ctx, id1, 1, t0.Add(time.Hour), "503"))
	if got, _ := s.ClaimWebhooks(ctx, t0.Add(30*time.Minute), time.Minute, 10); len(got) != 0 {
		t.Fatalf("claimed %+v before the retry time, and the head blocks its key", got)
	}
	got, err := s.ClaimWebhooks(ctx, t0.Add(time.Hour), time.Minute, 10)
	must(t, err)
	if len(got) != 1 || got[0].ID != id1 || got[0].Attempts != 1 || got[0].LastError != "503" {
		t.Fatalf("claimed %+v, want the retried head with its attempt", got)
	}
	must(t, s.DeadWebhook(ctx, id1, 2, "gave up"))
	got, err = s.ClaimWebhooks(ctx, t0.Add(time.Hour), time.Minute, 10)
	must(t, err)
	if len(got) != 1 || got[0].ID != id2 {
		t.Fatalf("claimed %+v, want the next event once the head is dead", got)
	}
	dead, err := s.WebhookDeliveries(ctx, 1, true, 10)
	must(t, err)
	if len(dead) != 1 || dead[0].ID != id1 || !dead[0].Dead || dead[0].Attempts != 2 || dead[0].LastError != "gave up" {
		t.Fatalf("dead letters %+v", dead)
	}
	pending, deadN, err := s.WebhookBacklog(ctx)
	must(t, err)
	if pending != 1 || deadN != 1 {
		t.Fatalf("backlog %d pending %d dead, want 1 and 1", pending, deadN)
	}
	if n, err := s.ReplayWebhooks(ctx, 2, nil, t0); err != nil || n != 0 {
		t.Fatalf("replay of another business: %d, %v", n, err)
	}
	if n, err := s.PruneDeadWebhooks(ctx, t0); err != nil || n != 0 {
		t.Fatalf("prune before the dead letter was created: %d, %v", n, err)
	}
	n, err := s.ReplayWebhooks(ctx, 1, []int64{id1}, t0.Add(2*time.Hour))
	must(t, err)
	if n != 1 {
		t.Fatalf("replayed %d, want 1", n)
	}
	// The replayed event waits behind id2, still pending (its lease ran out).
	if got, _ := s.ClaimWebhooks(ctx, t0.Add(2*time.Hour), time.Minute, 10); len(got) != 1 || got[0].ID != id2 {
		t.Fatalf("claimed %+v, want only %d: the replayed event queues behind it", got, id2)
	}
	must(t, s.DeliveredWebhook(ctx, id2))
	got, err = s.ClaimWebhooks(ctx, t0.Add(2*time.Hour), time.Minute, 10)
	must(t, err)
	if len(got) != 1 || got[0].ID <= id2 || string(got[0].Event.Value) != `{"n":1}` || got[0].Attempts != 0 || got[0].Dead || !got[0].CreatedAt.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("after replay claimed %+v, want event 1 queued again", got)
	}
	if dead, _ := s.WebhookDeliveries(ctx, 1, true, 10); len(dead) != 0 {
		t.Fatalf("dead letters after replay: %+v", dead)
	}
	must(t, s.DeadWebhook(ctx, got[0].ID, 3, "gave up again"))
	if n, err := s.PruneDeadWebhooks(ctx, t0.Add(3*time.Hour)); err != nil || n != 1 {
		t.Fatalf("prune: %d, %v", n, err)
	}
	if pending, dead, _ := s.WebhookBacklog(ctx); pending != 0 || dead != 0 {
		t.Fatalf("after prune: %d pending, %d dead", pending, dead)
	}
}

func testWebhookClaimConcurrent(t *testing.T, s HooksStore) {
	ctx := t.Context()
	const keys, per = 8, 5
	for i := range per {
		for k := range keys {
			_, err := s.EnqueueWebhook(ctx, hookEvent(1, fmt.Sprint("k", k), i), t0)
			must(t, err)
		}
	}
	// Claimers race; every claim is a distinct head, and per key the values
	// come in enqueue order.
	var mu sync.Mutex
	seen := map[string][]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				got, err := s.ClaimWebhooks(ctx, t0, time.Hour, 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					mu.Lock()
					n := 0
					for _, v := range seen {
						n += len(v)
					}
					mu.Unlock()
					if n == keys*per {
						return
					}
					continue
				}
				for _, d := range got {
					var v struct{ N int }
					_ = json.Unmarshal(d.Event.Value, &v)
					mu.Lock()
					seen[d.Event.OrderKey] = append(seen[d.Event.OrderKey], v.N)
					mu.Unlock()
					if err := s.DeliveredWebhook(ctx, d.ID); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	for k, v := range seen {
		for i, n := range v {
			if n != i {
				t.Fatalf("key %s delivered %v, want 0..%d in order", k, v, per-1)
			}
		}
	}
}

func testInsightsTotals(t *testing.T, s HooksStore) {
	ctx := t.Context()
	day2 := t0.Add(24 * time.Hour)
	rec := func(ev parley.MessageEvent, want bool) {
		t.Helper()
		ev.Business = 1
		added, err := s.RecordMessageEvent(ctx, ev)
		must(t, err)
		if added != want {
			t.Fatalf("record %+v: added %v, want %v", ev, added, want)
		}
	}
	rec(parley.MessageEvent{MessageID: "m1", Customer: "c1", Template: "promo", Category: "MARKETING", Campaign: "xmas", Status: "sent", At: t0}, true)
	rec(parley.MessageEvent{MessageID: "m1", Status: "sent", At: t0.Add(time.Second)}, false)
	rec(parley.MessageEvent{MessageID: "m1", Status: "delivered", At: t0.Add(time.Second)}, true)
	rec(parley.MessageEvent{MessageID: "m1", Status: "read", At: day2}, true)
	rec(parley.MessageEvent{MessageID: "m2", Customer: "c2", Status: "sent", At: t0}, true)
	rec(parley.MessageEvent{MessageID: "m2", Status: "failed", At: t0}, true)
	rec(parley.MessageEvent{MessageID: "m3", Customer: "c1", Template: "order", Status: "sent", At: day2}, true)
	total, days, tmpl, camp, err := s.InsightsTotals(ctx, parley.InsightsQuery{Business: 1, From: t0, To: day2.Add(time.Hour)})
	must(t, err)
	if total != (parley.StatusCounts{Sent: 3, Delivered: 1, Read: 1, Failed: 1}) {
		t.Fatalf("total %+v", total)
	}
	d0, d2 := t0.UTC().Format("2006-01-02"), day2.UTC().Format("2006-01-02")
	if len(days) != 2 || days[0].Key != d0 || days[0].Sent != 2 || days[0].Delivered != 1 || days[1].Key != d2 || days[1].Read != 1 || days[1].Sent != 1 {
		t.Fatalf("days %+v", days)
	}
	if len(tmpl) != 2 || tmpl[0].Key != "order" || tmpl[0].Sent != 1 || tmpl[1].Key != "promo" || tmpl[1].Read != 1 || tmpl[1].Delivered != 1 {
		t.Fatalf("templates %+v", tmpl)
	}
	if len(camp) != 1 || camp[0].Key != "xmas" || camp[0].Read != 1 {
		t.Fatalf("campaigns %+v", camp)
	}
	total, _, _, _, err = s.InsightsTotals(ctx, parley.InsightsQuery{Business: 1, From: t0, To: day2.Add(time.Hour), Campaign: "xmas"})
	must(t, err)
	if total != (parley.StatusCounts{Sent: 1, Delivered: 1, Read: 1}) {
		t.Fatalf("xmas total %+v", total)
	}
	m, err := s.MessageStatuses(ctx, 1, "m1")
	must(t, err)
	if m.Customer != "c1" || m.Template != "promo" || len(m.At) != 3 || !m.At["read"].Equal(day2) {
		t.Fatalf("m1 statuses %+v", m)
	}
	if _, err := s.MessageStatuses(ctx, 2, "m1"); parley.ErrorCode(err) != parley.CodeNotFound {
		t.Fatalf("other business's message: %v, want not_found", err)
	}
	all, err := s.InsightsStatusTotals(ctx)
	must(t, err)
	if all.Sent != 3 || all.Failed != 1 {
		t.Fatalf("status totals %+v", all)
	}
}

func testInsightsResponses(t *testing.T, s HooksStore) {
	ctx := t.Context()
	rec := func(id, cust, status string, at time.Time) {
		t.Helper()
		_, err := s.RecordMessageEvent(ctx, parley.MessageEvent{Business: 1, MessageID: id, Customer: cust, Status: status, At: at})
		must(t, err)
	}
	rec("in1", "c1", "inbound", t0)
	rec("in2", "c1", "inbound", t0.Add(time.Minute)) // still waiting since in1
	rec("out1", "c1", "sent", t0.Add(3*time.Minute))
	rec("out2", "c1", "sent", t0.Add(4*time.Minute)) // nothing waiting
	rec("in3", "c2", "inbound", t0.Add(time.Minute))
	rec("out3", "c2", "sent", t0.Add(2*time.Minute))
	rec("in4", "c3", "inbound", t0) // unanswered
	// A batch follows the same rules, in order, and dedupes within itself.
	must(t, s.RecordMessageEvents(ctx, []parley.MessageEvent{
		{Business: 1, MessageID: "in5", Customer: "c5", Status: "inbound", At: t0.Add(time.Minute)},
		{Business: 1, MessageID: "out5", Customer: "c5", Status: "sent", At: t0.Add(6 * time.Minute)},
		{Business: 1, MessageID: "out5", Customer: "c5", Status: "sent", At: t0.Add(7 * time.Minute)},
	}))
	rs, err := s.ResponseTimes(ctx, parley.InsightsQuery{Business: 1, From: t0, To: t0.Add(time.Hour)}, 100)
	must(t, err)
	if len(rs) != 3 || rs[0].Customer != "c2" || rs[0].SentAt.Sub(rs[0].InboundAt) != time.Minute ||
		rs[1].Customer != "c1" || rs[1].SentAt.Sub(rs[1].InboundAt) != 3*time.Minute ||
		rs[2].Customer != "c5" || rs[2].SentAt.Sub(rs[2].InboundAt) != 5*time.Minute {
		t.Fatalf("response times %+v", rs)
	}
}

func testWebhookBatches(t *testing.T, s HooksStore) {
	ctx := t.Context()
	evs := []parley.WebhookEvent{hookEvent(1, "a", 0), hookEvent(1, "b", 0), hookEvent(1, "a", 1), hookEvent(1, "a", 2)}
	must(t, s.EnqueueWebhooks(ctx, evs, t0))
	got, err := s.ClaimWebhooks(ctx, t0, time.Minute, 10)
	must(t, err)
	if len(got) != 2 || got[0].Event.OrderKey != "a" || got[1].Event.OrderKey != "b" {
		t.Fatalf("claimed %+v, want the heads of a and b", got)
	}
	must(t, s.DeliveredWebhooks(ctx, []int64{got[0].ID, got[1].ID, got[0].ID}))
	got, err = s.ClaimWebhooks(ctx, t0, time.Minute, 10)
	must(t, err)
	if len(got) != 1 || string(got[0].Event.Value) != `{"n":1}` {
		t.Fatalf("claimed %+v, want a's second event", got)
	}
	pending, _, err := s.WebhookBacklog(ctx)
	must(t, err)
	if pending != 2 {
		t.Fatalf("%d pending, want 2", pending)
	}
}
