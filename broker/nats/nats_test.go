package nats_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/broker/brokertest"
	natsbroker "github.com/parleyhq/parley/broker/nats"
	"github.com/parleyhq/parley/broker/nats/natstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func mustDial(t *testing.T, url string, cfg natsbroker.Config) *natsbroker.Broker {
	t.Helper()
	b, err := natsbroker.Dial(context.Background(), url, cfg)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// TestBroker runs the contract suite on one broker against a real NATS server.
func TestBroker(t *testing.T) {
	srv := natstest.Start(t)
	brokertest.Run(t, func(t *testing.T) parley.Broker {
		return mustDial(t, srv.URL(), natsbroker.Config{Prefix: "t" + uniq()})
	})
}

// TestBrokerAcrossNodes runs the contract suite publishing through one node
// and subscribing through another.
func TestBrokerAcrossNodes(t *testing.T) {
	srv := natstest.Start(t)
	brokertest.RunPair(t, func(t *testing.T) (parley.Broker, parley.Broker) {
		cfg := natsbroker.Config{Prefix: "t" + uniq()}
		return mustDial(t, srv.URL(), cfg), mustDial(t, srv.URL(), cfg)
	})
}

var (
	uniqMu sync.Mutex
	uniqN  int
)

// uniq keeps subtests sharing a server apart.
func uniq() string {
	uniqMu.Lock()
	defer uniqMu.Unlock()
	uniqN++
	return string(rune('a'+uniqN%26)) + time.Now().Format("150405.000000000")[7:]
}

// events collects events and lets a test wait for one matching a predicate.
type events struct {
	mu  sync.Mutex
	evs []parley.Event
	ch  chan struct{}
}

func newEvents() *events { return &events{ch: make(chan struct{}, 1)} }

func (e *events) handle(ev parley.Event) {
	e.mu.Lock()
	e.evs = append(e.evs, ev)
	e.mu.Unlock()
	select {
	case e.ch <- struct{}{}:
	default:
	}
}

func (e *events) waitFor(t *testing.T, what string, ok func([]parley.Event) bool) []parley.Event {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		e.mu.Lock()
		evs := append([]parley.Event(nil), e.evs...)
		e.mu.Unlock()
		if ok(evs) {
			return evs
		}
		select {
		case <-e.ch:
		case <-deadline:
			t.Fatalf("timed out waiting for %s; have %d events", what, len(evs))
		}
	}
}

func hasResync(evs []parley.Event) bool {
	for _, ev := range evs {
		if ev.Kind == parley.EventResync {
			return true
		}
	}
	return false
}

// TestResyncAfterServerRestart: a NATS server restart loses whatever was in
// flight, so every subscriber is told to resync once reconnected, and live
// events flow again.
func TestResyncAfterServerRestart(t *testing.T) {
	srv := natstest.Start(t)
	pub := mustDial(t, srv.URL(), natsbroker.Config{})
	sub := mustDial(t, srv.URL(), natsbroker.Config{})
	e := newEvents()
	cancel, err := sub.Subscribe(7, e.handle)
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	srv.Restart()
	e.waitFor(t, "a resync", hasResync)
	// The subscription was replayed: events published now arrive. (An
	// event published before the publisher reconnected may be lost: that
	// is what the resync is for; so publish until one arrives.)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			_ = pub.Publish(context.Background(), []parley.DeviceID{7}, parley.Event{Kind: parley.EventSignal, Frame: []byte("after")})
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	e.waitFor(t, "an event after the restart", func(evs []parley.Event) bool {
		for _, ev := range evs {
			if string(ev.Frame) == "after" {
				return true
			}
		}
		return false
	})
}

// TestResyncAfterSlowConsumer: events dropped because the node could not
// keep up are followed by a resync.
func TestResyncAfterSlowConsumer(t *testing.T) {
	srv := natstest.Start(t)
	pub := mustDial(t, srv.URL(), natsbroker.Config{})
	sub := mustDial(t, srv.URL(), natsbroker.Config{Buffer: 4})
	release := make(chan struct{})
	var once sync.Once
	e := newEvents()
	cancel, err := sub.Subscribe(9, func(ev parley.Event) {
		once.Do(func() { <-release }) // the first event stalls the dispatcher
		e.handle(ev)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	for i := 0; i < 200; i++ {
		if err := pub.Publish(context.Background(), []parley.DeviceID{9}, parley.Event{Kind: parley.EventEnvelope, Conversation: "cabcdefghij", Seq: parley.Seq(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	// Wait until the subscriber's node has dropped events, then unstall.
	deadline := time.Now().Add(10 * time.Second)
	for sub.Stats().SlowConsumers == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no slow consumer reported")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	evs := e.waitFor(t, "a resync after the drops", hasResync)
	n := 0
	for _, ev := range evs {
		if ev.Kind == parley.EventEnvelope {
			n++
		}
	}
	if n >= 200 {
		t.Fatalf("no event was dropped (%d delivered); the test did not exercise a slow consumer", n)
	}
}

// TestResyncAfterNodeDeath: a node that stops without its goodbye may have
// committed envelopes it never published, so the other nodes resync their
// subscribers; a node that closes normally does not cause one.
func TestResyncAfterNodeDeath(t *testing.T) {
	srv := natstest.Start(t)
	cfg := natsbroker.Config{HeartbeatInterval: 50 * time.Millisecond}
	survivor := mustDial(t, srv.URL(), cfg)
	e := newEvents()
	cancel, err := survivor.Subscribe(3, e.handle)
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()

	polite := mustDial(t, srv.URL(), cfg)
	waitPeers(t, survivor, 1)
	_ = polite.Close()
	waitPeers(t, survivor, 0)
	if hasResync(e.evs) {
		t.Fatal("a node's normal close caused a resync")
	}

	victim := mustDial(t, srv.URL(), cfg)
	waitPeers(t, survivor, 1)
	natsbroker.Crash(victim)
	e.waitFor(t, "a resync after a node died", hasResync)
	if got := survivor.Stats().DeadNodes; got != 1 {
		t.Fatalf("dead nodes %d, want 1", got)
	}
}

func waitPeers(t *testing.T, b *natsbroker.Broker, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for b.Peers() != n {
		if time.Now().After(deadline) {
			t.Fatalf("peers %d, want %d", b.Peers(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestEventRoundTrip(t *testing.T) {
	for name, ev := range map[string]parley.Event{
		"envelope": {Kind: parley.EventEnvelope, Conversation: "cabcdefghij", Seq: 1 << 40, Frame: []byte{1, 2, 3}},
		"signal":   {Kind: parley.EventSignal, Frame: []byte("typing")},
		"revoked":  {Kind: parley.EventRevoked},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := natsbroker.DecodeEvent(natsbroker.EncodeEvent(ev))
			if err != nil {
				t.Fatal(err)
			}
			if got.Kind != ev.Kind || got.Conversation != ev.Conversation || got.Seq != ev.Seq || !bytes.Equal(got.Frame, ev.Frame) {
				t.Fatalf("got %+v, want %+v", got, ev)
			}
		})
	}
}

func TestDecodeEventRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		data   []byte
		reason string
	}{
		"empty":         {nil, natsbroker.ReasonEventShort},
		"version":       {[]byte{2, 1, 0, 0}, natsbroker.ReasonEventVersion},
		"seq":           {[]byte{1, 1, 0x80}, natsbroker.ReasonEventSeq},
		"conv too long": {[]byte{1, 1, 1, 0x80, 0x02}, natsbroker.ReasonEventConv},
		"conv past end": {[]byte{1, 1, 1, 5, 'c'}, natsbroker.ReasonEventConv},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := natsbroker.DecodeEvent(tc.data)
			if !parley.IsCode(err, parley.CodeInvalid) || parley.ErrorReason(err) != tc.reason {
				t.Fatalf("got %v, want reason %s", err, tc.reason)
			}
		})
	}
}

func FuzzDecodeEvent(f *testing.F) {
	f.Add(natsbroker.EncodeEvent(parley.Event{Kind: parley.EventEnvelope, Conversation: "cabcdefghij", Seq: 12, Frame: []byte("frame")}))
	f.Add(natsbroker.EncodeEvent(parley.Event{Kind: parley.EventRevoked}))
	f.Add([]byte{1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := natsbroker.DecodeEvent(data)
		if err != nil {
			return
		}
		again, err := natsbroker.DecodeEvent(natsbroker.EncodeEvent(ev))
		if err != nil || again.Kind != ev.Kind || again.Seq != ev.Seq || again.Conversation != ev.Conversation || !bytes.Equal(again.Frame, ev.Frame) {
			t.Fatalf("re-encoding %+v gave %+v, %v", ev, again, err)
		}
	})
}

// TestAnnounceChanged: a change announced by one node reaches the others'
// callbacks, not its own.
func TestAnnounceChanged(t *testing.T) {
	srv := natstest.Start(t)
	a := mustDial(t, srv.URL(), natsbroker.Config{})
	b := mustDial(t, srv.URL(), natsbroker.Config{})
	got := make(chan []parley.ConversationID, 4)
	own := make(chan []parley.ConversationID, 4)
	b.OnChanged(func(ids []parley.ConversationID) { got <- ids })
	a.OnChanged(func(ids []parley.ConversationID) { own <- ids })
	a.AnnounceChanged([]parley.ConversationID{"cabcdefghij", "cklmnopqrst"})
	select {
	case ids := <-got:
		if len(ids) != 2 || ids[0] != "cabcdefghij" || ids[1] != "cklmnopqrst" {
			t.Fatalf("announced %v", ids)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the other node did not hear the change")
	}
	select {
	case ids := <-own:
		t.Fatalf("a node heard its own announcement %v", ids)
	default:
	}
}

// TestPresenceShared: users online on one node are seen online by the
// others, including a node that joins later, until they go offline or
// their node dies.
func TestPresenceShared(t *testing.T) {
	srv := natstest.Start(t)
	cfg := natsbroker.Config{HeartbeatInterval: 50 * time.Millisecond}
	a := mustDial(t, srv.URL(), cfg)
	b := mustDial(t, srv.URL(), cfg)
	eventually := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out: %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	a.SetLocalOnline(42, true)
	a.SetLocalOnline(43, true)
	eventually("b sees 42 online", func() bool { return b.OnlineElsewhere(42) && b.OnlineElsewhere(43) })
	if a.OnlineElsewhere(42) {
		t.Fatal("a counts its own user as online elsewhere")
	}
	a.SetLocalOnline(43, false)
	eventually("b sees 43 offline", func() bool { return !b.OnlineElsewhere(43) })

	c := mustDial(t, srv.URL(), cfg)
	eventually("a node joining later learns 42 is online", func() bool { return c.OnlineElsewhere(42) })
	if c.OnlineElsewhere(43) {
		t.Fatal("c sees 43, who went offline, online")
	}

	natsbroker.Crash(a)
	eventually("the dead node's users go offline", func() bool { return !b.OnlineElsewhere(42) && !c.OnlineElsewhere(42) })

	b.SetLocalOnline(7, true)
	eventually("c sees 7", func() bool { return c.OnlineElsewhere(7) })
	_ = b.Close()
	eventually("a node's goodbye takes its users offline", func() bool { return !c.OnlineElsewhere(7) })
}
