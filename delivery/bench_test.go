package delivery_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/broker/inproc"
	"github.com/parleyhq/parley/delivery"
	"github.com/parleyhq/parley/store/sqlite"
)

// BenchmarkSendDirect measures the append path of direct messages: Send
// validates, the appender group-commits to SQLite (synchronous=NORMAL, as
// `parley bench` runs it), the publisher completes the request. 64
// senders in 32 conversations keep the group commit busy, as many clients
// do. Compare before and after a change to the hot path (docs/operations.md
// "Store latency and queues").
func BenchmarkSendDirect(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), sqlite.WithSynchronousNormal())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	const pairs = 32
	var senders []parley.Device
	var convs []parley.ConversationID
	for i := range pairs {
		var devs [2]parley.Device
		for j := range 2 {
			u, err := st.CreateUser(ctx, parley.User{Phone: fmt.Sprintf("+1415555%04d", 2*i+j), Name: "b", CreatedAt: now})
			if err != nil {
				b.Fatal(err)
			}
			if devs[j], err = st.CreateDevice(ctx, parley.Device{User: u.ID, Name: "d", Primary: true, SecretHash: make([]byte, 32), IdentityKey: []byte{byte(j)}, CreatedAt: now}); err != nil {
				b.Fatal(err)
			}
		}
		id := parley.ConversationID(fmt.Sprintf("cbenchconv-%02d", i))
		if _, err := st.CreateConversation(ctx, parley.Conversation{ID: id, Kind: parley.KindDirect, Epoch: 1, CreatedBy: devs[0].User, CreatedAt: now},
			[]parley.Member{{Conversation: id, User: devs[0].User, Device: devs[0].ID}, {Conversation: id, User: devs[1].User, Device: devs[1].ID}}, nil); err != nil {
			b.Fatal(err)
		}
		senders, convs = append(senders, devs[0], devs[1]), append(convs, id, id)
	}
	del := delivery.New(st, inproc.New(), nil, parley.SystemClock{}, nil, delivery.Config{PruneInterval: -1})
	defer del.Shutdown(ctx)
	payload := make([]byte, 200)

	var next atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	for w := range len(senders) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			done := make(chan error, 1)
			for n := next.Add(1); n <= int64(b.N); n = next.Add(1) {
				p := delivery.SendParams{Conversation: convs[w], ClientID: parley.ClientMessageID(fmt.Sprintf("m%d", n)), Kind: parley.EnvelopeApplication, Epoch: 1, Payload: payload}
				if err := del.Send(ctx, senders[w], p, func(_ delivery.SendResult, err error) { done <- err }); err != nil {
					b.Error(err)
					return
				}
				if err := <-done; err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
