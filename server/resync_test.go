package server_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/broker/inproc"
	natsbroker "github.com/parleyhq/parley/broker/nats"
	"github.com/parleyhq/parley/proto/parleypb"
	"github.com/parleyhq/parley/server"
)

// lossyBroker is the in-process broker losing envelope events on demand, as
// a cluster broker does when its connection drops.
type lossyBroker struct {
	*inproc.Broker
	drop atomic.Bool
}

func (b *lossyBroker) Publish(ctx context.Context, ds []parley.DeviceID, ev parley.Event) error {
	if ev.Kind == parley.EventEnvelope && b.drop.Load() {
		return nil
	}
	return b.Broker.Publish(ctx, ds, ev)
}

// lossyNATS is the NATS broker losing envelope events on demand.
type lossyNATS struct {
	*natsbroker.Broker
	drop atomic.Bool
}

func (b *lossyNATS) Publish(ctx context.Context, ds []parley.DeviceID, ev parley.Event) error {
	if ev.Kind == parley.EventEnvelope && b.drop.Load() {
		return nil
	}
	return b.Broker.Publish(ctx, ds, ev)
}

// TestResyncRecoversLostEvents: an envelope whose live event was lost reaches
// the connected device when the broker tells it to resync, without a
// reconnect and without a later envelope revealing the gap.
func TestResyncRecoversLostEvents(t *testing.T) {
	br := &lossyBroker{Broker: inproc.New()}
	e := newEnv(t, func(c *server.Config) { c.Broker = br })
	a, b := e.register("alice"), e.register("bob")
	ca, cb := e.connect(a), e.connect(b)
	conv := e.direct(ca, b)
	welcomeFor(t, cb, conv)

	br.drop.Store(true)
	sent := ca.mustOK(sendFrame(conv, "lost-1", "one")).GetSent()
	cb.noEnvelope()
	br.drop.Store(false)

	if err := br.Publish(context.Background(), []parley.DeviceID{parley.DeviceID(b.device)}, parley.Event{Kind: parley.EventResync}); err != nil {
		t.Fatal(err)
	}
	env := cb.nextEnvelope()
	if env.Seq != sent.Seq || string(env.Payload) != "one" {
		t.Fatalf("after resync got %v, want seq %d", env, sent.Seq)
	}
	// The next live envelope follows, with no duplicate.
	sent2 := ca.mustOK(sendFrame(conv, "live-2", "two")).GetSent()
	if env := cb.nextEnvelope(); env.Seq != sent2.Seq {
		t.Fatalf("next envelope seq %d, want %d", env.Seq, sent2.Seq)
	}
	cb.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Ping{Ping: &parleypb.Ping{}}})
}

// TestResyncCutsOffRevokedDevice: a device revoked while its EventRevoked
// was lost is cut off at the next resync.
func TestResyncCutsOffRevokedDevice(t *testing.T) {
	br := &lossyBroker{Broker: inproc.New()}
	e := newEnv(t, func(c *server.Config) { c.Broker = br })
	a := e.register("alice")
	cb := e.connect(a)
	if _, err := e.ps.Store.RevokeDevice(context.Background(), parley.DeviceID(a.device), time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := br.Publish(context.Background(), []parley.DeviceID{parley.DeviceID(a.device)}, parley.Event{Kind: parley.EventResync}); err != nil {
		t.Fatal(err)
	}
	if code, _ := cb.waitClosed(); code != 4003 {
		t.Fatalf("close code %d, want 4003", code)
	}
}
