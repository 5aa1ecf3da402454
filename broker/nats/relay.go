package nats

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"github.com/parleyhq/parley"
)

// The broker is also a parley.Relay: a request to node's service is
// published on Prefix.req.<service>.<first 16 bytes of SHA-256(node), hex>
// (a node id may hold characters a subject cannot) and answered by the one
// subscriber of that subject, on the node.

var _ parley.Relay = (*Broker)(nil)

// relayTimeout bounds a handler's work on a request.
const relayTimeout = 30 * time.Second

func (b *Broker) relaySubject(service, node string) string {
	h := sha256.Sum256([]byte(node))
	return b.cfg.Prefix + ".req." + service + "." + hex.EncodeToString(h[:16])
}

// Request sends data to node's handler of service; see parley.Relay.
func (b *Broker) Request(ctx context.Context, service, node string, data []byte) ([]byte, error) {
	m, err := b.nc.RequestWithContext(ctx, b.relaySubject(service, node), data)
	if err != nil {
		return nil, err
	}
	return m.Data, nil
}

// allWait bounds how long RequestAll waits for the nodes it knows of.
const allWait = 500 * time.Millisecond

// RequestAll sends data to every node's handler of service; see
// parley.Relay. It waits for as many answers as nodes it hears (Peers, and
// itself; at least two, since a node that just started may not have heard
// the others yet), at most allWait.
func (b *Broker) RequestAll(ctx context.Context, service string, data []byte) ([][]byte, error) {
	want := max(b.Peers()+1, 2)
	inbox := b.nc.NewRespInbox()
	sub, err := b.nc.SubscribeSync(inbox)
	if err != nil {
		return nil, err
	}
	defer sub.Unsubscribe()
	if err := b.nc.PublishRequest(b.cfg.Prefix+".req."+service+".all", inbox, data); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, allWait)
	defer cancel()
	var out [][]byte
	for len(out) < want {
		m, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			break // the wait is over: what arrived is the answer
		}
		out = append(out, m.Data)
	}
	return out, nil
}

// ServeRequests answers node's requests of service, and every node's
// RequestAll of it; see parley.Relay. It returns once the NATS server has
// the subscriptions.
func (b *Broker) ServeRequests(service, node string, handler func(ctx context.Context, data []byte) []byte) (func(), error) {
	ctx, cancel := context.WithCancel(context.Background())
	serve := func(m *natsgo.Msg) {
		go func() {
			hctx, hcancel := context.WithTimeout(ctx, relayTimeout)
			defer hcancel()
			_ = m.Respond(handler(hctx, m.Data))
		}()
	}
	var subs []*natsgo.Subscription
	stop := func() {
		for _, s := range subs {
			_ = s.Unsubscribe()
		}
		cancel()
	}
	for _, subject := range []string{b.relaySubject(service, node), b.cfg.Prefix + ".req." + service + ".all"} {
		sub, err := b.nc.Subscribe(subject, serve)
		if err != nil {
			stop()
			return nil, err
		}
		subs = append(subs, sub)
	}
	// The subscriptions are registered at the server when this returns, so
	// a request another node sends right after is answered.
	if err := b.nc.FlushTimeout(5 * time.Second); err != nil {
		stop()
		return nil, err
	}
	return stop, nil
}
