package insights_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// TestConcurrentRecord: 32 concurrent recorders (group-committed) lose and
// double-count nothing.
func TestConcurrentRecord(t *testing.T) {
	svc, _ := newService(t)
	var wg sync.WaitGroup
	for p := range 32 {
		wg.Go(func() {
			for i := range 20 {
				id := fmt.Sprintf("m%d-%d", p, i)
				for _, st := range []string{"sent", "delivered", "sent"} {
					if err := svc.Record(t.Context(), parley.MessageEvent{Business: 1, MessageID: id, Customer: "c", Status: st, At: t0}); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	rep, err := svc.Report(t.Context(), parley.InsightsQuery{Business: 1, From: t0, To: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total.Sent != 640 || rep.Total.Delivered != 640 {
		t.Fatalf("total %+v, want 640 sent and delivered", rep.Total)
	}
}

// BenchmarkRecord measures recorded events per second from 32 concurrent
// callers (as API requests record "sent"), durable in SQLite
// (synchronous=FULL).
func BenchmarkRecord(b *testing.B) {
	svc, _ := newService(b)
	ctx := b.Context()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for p := range 32 {
		wg.Go(func() {
			for i := p; i < b.N; i += 32 {
				if err := svc.Record(ctx, parley.MessageEvent{Business: 1, MessageID: fmt.Sprint("m", i), Customer: fmt.Sprint("c", i%1000),
					Status: "sent", At: t0}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
}
