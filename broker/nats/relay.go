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

// ServeRequests answers node's requests of service; see parley.Relay. It
// returns once the NATS server has the subscription.
func (b *Broker) ServeRequests(service, node string, handler func(ctx context.Context, data []byte) []byte) (func(), error) {
	ctx, cancel := context.WithCancel(context.Background())
	sub, err := b.nc.Subscribe(b.relaySubject(service, node), func(m *natsgo.Msg) {
		go func() {
			hctx, hcancel := context.WithTimeout(ctx, relayTimeout)
			defer hcancel()
			_ = m.Respond(handler(hctx, m.Data))
		}()
	})
	if err != nil {
		cancel()
		return nil, err
	}
	// The subscription is registered at the server when this returns, so a
	// request another node sends right after is answered.
	if err := b.nc.FlushTimeout(5 * time.Second); err != nil {
		_ = sub.Unsubscribe()
		cancel()
		return nil, err
	}
	return func() {
		_ = sub.Unsubscribe()
		cancel()
	}, nil
}
