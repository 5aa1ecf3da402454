package webhook_test

import (
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/webhook"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time                  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration)             { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func (c *fakeClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// TestRetriesAtLeast24Hours: with the default settings, a receiver that
// never succeeds is retried with growing delays for more than 24 hours
// (on a controlled clock) before the event becomes a dead letter; and
// RetryFor below 24 h is refused unless asked for.
func TestRetriesAtLeast24Hours(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	clk := &fakeClock{t: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	svc := webhook.New(s, clk, nil, webhook.Config{Outbound: allowLoopback, Poll: 2 * time.Millisecond, RetryFor: time.Hour})
	rc := newReceiver(t, 1)
	rc.fail = func(string, int) bool { return true }
	configure(t, svc, rc, 1)
	run(t, svc)
	start := clk.Now()
	if err := svc.Enqueue(t.Context(), event(1, "wa", 0)); err != nil {
		t.Fatal(err)
	}
	var lastAttempts int
	for {
		dead, err := s.WebhookDeliveries(t.Context(), 1, true, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(dead) == 1 {
			if el := clk.Since(start); el < 24*time.Hour {
				t.Fatalf("dead-lettered after %v", el)
			}
			if dead[0].Attempts < 20 {
				t.Fatalf("only %d attempts before the dead letter", dead[0].Attempts)
			}
			break
		}
		pending, err := s.WebhookDeliveries(t.Context(), 1, false, 1)
		if err != nil || len(pending) > 1 {
			t.Fatalf("pending: %v %v", pending, err)
		}
		if len(pending) == 0 {
			continue // dead-lettered since the look above: the next look sees it
		}
		p := pending[0]
		if p.Attempts > lastAttempts {
			lastAttempts = p.Attempts
			// Jump to the retry time; the next attempt happens then.
			if d := p.NextAt.Sub(clk.Now()); d > 0 && d < time.Hour+time.Minute {
				clk.Add(d)
			}
		}
		if clk.Since(start) > 30*time.Hour {
			t.Fatalf("still pending after 30 h: %+v", p)
		}
		time.Sleep(2 * time.Millisecond)
	}
	st := svc.Stats()
	if st.DeadLettered != 1 || st.Delivered != 0 {
		t.Fatalf("stats %+v", st)
	}
	// Dead letters are kept 30 days, then pruned.
	clk.Add(28 * 24 * time.Hour) // 29 days and a few hours after the event
	time.Sleep(50 * time.Millisecond)
	if _, dead, _ := s.WebhookBacklog(t.Context()); dead != 1 {
		t.Fatalf("%d dead letters 29 days after the event, want 1", dead)
	}
	clk.Add(2 * 24 * time.Hour)
	for end := time.Now().Add(10 * time.Second); ; {
		if _, dead, _ := s.WebhookBacklog(t.Context()); dead == 0 {
			break
		}
		if time.Now().After(end) {
			t.Fatal("dead letter not pruned after 31 days")
		}
		time.Sleep(5 * time.Millisecond)
	}
	var _ parley.Clock = clk
}
