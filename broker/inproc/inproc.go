// Package inproc is the in-process parley.Broker: it routes events to the
// connections of devices connected to this process. It is the broker of a
// single-node deployment; a cluster uses broker/nats.
//
// Guarantees: Publish calls every current subscriber of each named device
// synchronously, in the publishing goroutine, so events published by one
// goroutine reach a subscriber in publication order. A subscriber added or
// cancelled concurrently with a Publish may or may not see that event. Events
// to devices with no subscriber are dropped (counted in Stats). Handlers must
// not block: they run while the publisher waits.
package inproc

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/parleyhq/parley"
)

// Broker is an in-process parley.Broker. The zero value is not usable; call New.
type Broker struct {
	mu   sync.RWMutex
	subs map[parley.DeviceID][]*subscription

	published atomic.Uint64 // events handed to at least one handler, per device
	dropped   atomic.Uint64 // per-device events with no subscriber
}

type subscription struct {
	handler func(parley.Event)
}

// New returns an empty broker.
func New() *Broker {
	return &Broker{subs: make(map[parley.DeviceID][]*subscription)}
}

var _ parley.Broker = (*Broker)(nil)

// Publish hands ev to every subscriber of each device in devices. It never
// fails; a device without subscribers is skipped.
func (b *Broker) Publish(ctx context.Context, devices []parley.DeviceID, ev parley.Event) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, d := range devices {
		subs := b.subs[d]
		if len(subs) == 0 {
			b.dropped.Add(1)
			continue
		}
		b.published.Add(1)
		for _, s := range subs {
			s.handler(ev)
		}
	}
	return nil
}

// Subscribe registers handler for events to device. The returned cancel
// function is idempotent; after it returns, handler is not called again.
func (b *Broker) Subscribe(device parley.DeviceID, handler func(parley.Event)) (func(), error) {
	s := &subscription{handler: handler}
	b.mu.Lock()
	b.subs[device] = append(b.subs[device], s)
	b.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			subs := b.subs[device]
			for i, x := range subs {
				if x == s {
					n := len(subs) - 1
					subs[i] = subs[n]
					subs[n] = nil
					subs = subs[:n]
					break
				}
			}
			if len(subs) == 0 {
				delete(b.subs, device)
			} else {
				b.subs[device] = subs
			}
		})
	}, nil
}

// Stats reports delivery counters: per-device events handed to subscribers,
// and per-device events dropped because the device had no subscriber.
func (b *Broker) Stats() (published, dropped uint64) {
	return b.published.Load(), b.dropped.Load()
}
