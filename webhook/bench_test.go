package webhook_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/webhook"
)

// BenchmarkDeliver measures webhook deliveries per second end to end: b.N
// events enqueued durably in SQLite (spread over 1,000 customers), claimed,
// signed, POSTed to a local receiver that checks each signature, and
// removed from the outbox. Reported as deliveries/s.
func BenchmarkDeliver(b *testing.B) {
	for _, workers := range []int{16, 64} {
		b.Run(fmt.Sprint("workers=", workers), func(b *testing.B) {
			var got atomic.Int64
			all := make(chan struct{})
			want := int64(b.N)
			rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodGet {
					io.WriteString(w, r.URL.Query().Get("hub.challenge"))
					return
				}
				body, _ := io.ReadAll(r.Body)
				if !webhook.Verify(secret, body, r.Header.Get(webhook.SignatureHeader)) {
					http.Error(w, "bad signature", http.StatusUnauthorized)
					return
				}
				if got.Add(1) == want {
					close(all)
				}
			}))
			defer rc.Close()
			st := openStore(b, b.TempDir())
			defer st.Close()
			svc := webhook.New(st, nil, nil, webhook.Config{Outbound: allowLoopback, Workers: workers})
			if _, err := svc.Configure(context.Background(), parley.WebhookConfig{Business: 1, CallbackURL: rc.URL, VerifyToken: "v", AppSecret: secret}); err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			b.ResetTimer()
			start := time.Now()
			go func() { defer close(done); svc.Run(ctx) }()
			// 32 concurrent producers, as API requests would be.
			var wg sync.WaitGroup
			for p := range 32 {
				wg.Go(func() {
					for i := p; i < b.N; i += 32 {
						if err := svc.Enqueue(ctx, event(1, fmt.Sprint("wa", i%1000), i)); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			<-all
			elapsed := time.Since(start)
			b.StopTimer()
			cancel()
			<-done
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
		})
	}
}
