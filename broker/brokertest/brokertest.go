// Package brokertest is the contract suite every parley.Broker implementation
// passes (broker/inproc, broker/nats). An implementation's test calls Run
// with a constructor; a cluster broker also calls RunPair, which publishes
// through one node's broker and subscribes through another's.
package brokertest

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// Run runs the contract suite. newBroker returns a fresh broker for each
// subtest; the subtest cleans it up through t.Cleanup if needed.
func Run(t *testing.T, newBroker func(t *testing.T) parley.Broker) {
	run(t, func(t *testing.T) (parley.Broker, parley.Broker) {
		b := newBroker(t)
		return b, b
	})
}

// RunPair runs the contract suite across two brokers of one cluster:
// newPair returns fresh brokers (two nodes' connections to the same
// routing fabric); events are published through pub and subscribed to
// through sub.
func RunPair(t *testing.T, newPair func(t *testing.T) (pub, sub parley.Broker)) {
	run(t, newPair)
}

func run(t *testing.T, newPair func(t *testing.T) (pub, sub parley.Broker)) {
	t.Run("PublishReachesSubscriber", func(t *testing.T) { testPublish(t, pair(t, newPair)) })
	t.Run("SeveralSubscriptionsPerDevice", func(t *testing.T) { testSeveral(t, pair(t, newPair)) })
	t.Run("CancelStopsDelivery", func(t *testing.T) { testCancel(t, pair(t, newPair)) })
	t.Run("NoSubscriberIsNotAnError", func(t *testing.T) { testNoSubscriber(t, pair(t, newPair)) })
	t.Run("OrderPerPublisher", func(t *testing.T) { testOrder(t, pair(t, newPair)) })
	t.Run("OnlyNamedDevices", func(t *testing.T) { testOnlyNamed(t, pair(t, newPair)) })
	t.Run("ConcurrentSubscribeAndPublish", func(t *testing.T) { testConcurrent(t, pair(t, newPair)) })
}

// brokers is the publishing and the subscribing side of one test (the same
// broker, or two nodes of a cluster).
type brokers struct{ pub, sub parley.Broker }

func pair(t *testing.T, newPair func(t *testing.T) (pub, sub parley.Broker)) brokers {
	pub, sub := newPair(t)
	return brokers{pub, sub}
}

// recorder collects events without blocking the publisher.
type recorder struct {
	mu     sync.Mutex
	events []parley.Event
	notify chan struct{}
}

func newRecorder() *recorder { return &recorder{notify: make(chan struct{}, 1)} }

func (r *recorder) handle(ev parley.Event) {
	// Copy the frame: a broker may reuse nothing, but a handler must not
	// assume it may keep a reference past the call either way.
	ev.Frame = bytes.Clone(ev.Frame)
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

func (r *recorder) snapshot() []parley.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]parley.Event(nil), r.events...)
}

// wait waits until the recorder holds at least n events.
func (r *recorder) wait(t *testing.T, n int) []parley.Event {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		if evs := r.snapshot(); len(evs) >= n {
			return evs
		}
		select {
		case <-r.notify:
		case <-deadline:
			t.Fatalf("timed out waiting for %d events, have %d", n, len(r.snapshot()))
		}
	}
}

func mustSubscribe(t *testing.T, b parley.Broker, d parley.DeviceID, h func(parley.Event)) func() {
	t.Helper()
	cancel, err := b.Subscribe(d, h)
	if err != nil {
		t.Fatalf("subscribe %v: %v", d, err)
	}
	t.Cleanup(cancel)
	return cancel
}

func mustPublish(t *testing.T, b parley.Broker, ds []parley.DeviceID, ev parley.Event) {
	t.Helper()
	if err := b.Publish(context.Background(), ds, ev); err != nil {
		t.Fatalf("publish: %v", err)
	}
}

func testPublish(t *testing.T, b brokers) {
	r := newRecorder()
	mustSubscribe(t, b.sub, 1, r.handle)
	want := parley.Event{Kind: parley.EventEnvelope, Conversation: "cabcdefghij", Seq: 7, Frame: []byte("frame")}
	mustPublish(t, b.pub, []parley.DeviceID{1}, want)
	got := r.wait(t, 1)[0]
	if got.Kind != want.Kind || got.Conversation != want.Conversation || got.Seq != want.Seq || !bytes.Equal(got.Frame, want.Frame) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func testSeveral(t *testing.T, b brokers) {
	r1, r2 := newRecorder(), newRecorder()
	mustSubscribe(t, b.sub, 1, r1.handle)
	mustSubscribe(t, b.sub, 1, r2.handle)
	mustPublish(t, b.pub, []parley.DeviceID{1}, parley.Event{Kind: parley.EventSignal, Frame: []byte("x")})
	r1.wait(t, 1)
	r2.wait(t, 1)
}

func testCancel(t *testing.T, b brokers) {
	r := newRecorder()
	cancel := mustSubscribe(t, b.sub, 1, r.handle)
	other := newRecorder()
	mustSubscribe(t, b.sub, 1, other.handle)
	cancel()
	cancel() // idempotent
	mustPublish(t, b.pub, []parley.DeviceID{1}, parley.Event{Kind: parley.EventSignal, Frame: []byte("after")})
	other.wait(t, 1) // the event has been routed
	if n := len(r.snapshot()); n != 0 {
		t.Fatalf("cancelled subscription got %d events", n)
	}
}

func testNoSubscriber(t *testing.T, b brokers) {
	mustPublish(t, b.pub, []parley.DeviceID{42, 43}, parley.Event{Kind: parley.EventSignal, Frame: []byte("x")})
	mustPublish(t, b.pub, nil, parley.Event{Kind: parley.EventSignal})
}

func testOrder(t *testing.T, b brokers) {
	r := newRecorder()
	mustSubscribe(t, b.sub, 5, r.handle)
	const n = 500
	for i := 1; i <= n; i++ {
		mustPublish(t, b.pub, []parley.DeviceID{5}, parley.Event{Kind: parley.EventEnvelope, Conversation: "cabcdefghij", Seq: parley.Seq(i), Frame: []byte(fmt.Sprint(i))})
	}
	evs := r.wait(t, n)
	for i, ev := range evs {
		if ev.Seq != parley.Seq(i+1) {
			t.Fatalf("event %d has seq %d", i, ev.Seq)
		}
	}
}

func testOnlyNamed(t *testing.T, b brokers) {
	r1, r2, r3 := newRecorder(), newRecorder(), newRecorder()
	mustSubscribe(t, b.sub, 1, r1.handle)
	mustSubscribe(t, b.sub, 2, r2.handle)
	mustSubscribe(t, b.sub, 3, r3.handle)
	mustPublish(t, b.pub, []parley.DeviceID{1, 3}, parley.Event{Kind: parley.EventSignal, Frame: []byte("a")})
	mustPublish(t, b.pub, []parley.DeviceID{2}, parley.Event{Kind: parley.EventSignal, Frame: []byte("b")})
	r1.wait(t, 1)
	r3.wait(t, 1)
	evs := r2.wait(t, 1)
	if string(evs[0].Frame) != "b" {
		t.Fatalf("device 2 got %q, want only %q", evs[0].Frame, "b")
	}
	if n := len(r1.snapshot()) + len(r3.snapshot()); n != 2 {
		t.Fatalf("devices 1 and 3 got %d events, want 2", n)
	}
}

func testConcurrent(t *testing.T, b brokers) {
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			d := parley.DeviceID(100 + g)
			for i := 0; i < 100; i++ {
				cancel, err := b.sub.Subscribe(d, func(parley.Event) {})
				if err != nil {
					t.Errorf("subscribe: %v", err)
					return
				}
				if err := b.pub.Publish(context.Background(), []parley.DeviceID{d, d + 1}, parley.Event{Kind: parley.EventSignal}); err != nil {
					t.Errorf("publish: %v", err)
				}
				cancel()
			}
		}(g)
	}
	wg.Wait()
}
