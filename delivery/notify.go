package delivery

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/parleyhq/parley"
)

// Notifier learns of every newly appended application message or Welcome
// and of which of its recipient devices have no stream open on this node
// (package push sends those a Web Push notification). Appended runs on the
// publisher goroutine after the append is durable: it must return at once
// (queue the work, never block on it).
//
// "No stream on this node" is what this node knows: in a cluster a device
// connected to another node is counted as offline here, so it may get a
// notification it did not need.
type Notifier interface {
	Appended(env parley.Envelope, offline []parley.DeviceID)
}

// notifyState is the delivery service's side of the Notifier.
type notifyState struct {
	n       atomic.Pointer[Notifier]
	mu      sync.Mutex
	streams map[parley.DeviceID]int // local streams per device
}

// DeviceOnline reports whether the device has a stream open on this node.
func (s *Service) DeviceOnline(d parley.DeviceID) bool {
	s.notify.mu.Lock()
	defer s.notify.mu.Unlock()
	return s.notify.streams[d] > 0
}

// OnlineDevices counts the devices with a stream open on this node.
func (s *Service) OnlineDevices() int {
	s.notify.mu.Lock()
	defer s.notify.mu.Unlock()
	n := 0
	for _, c := range s.notify.streams {
		if c > 0 {
			n++
		}
	}
	return n
}

// deviceStream counts a device's local streams.
func (ns *notifyState) deviceStream(d parley.DeviceID, open bool) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ns.streams == nil {
		ns.streams = map[parley.DeviceID]int{}
	}
	if open {
		ns.streams[d]++
		return
	}
	if ns.streams[d]--; ns.streams[d] <= 0 {
		delete(ns.streams, d)
	}
}

// appended tells the notifier about env, just appended and published to
// fanout.
func (ns *notifyState) appended(env *parley.Envelope, fanout []parley.DeviceID) {
	n := ns.n.Load()
	if n == nil || (env.Kind != parley.EnvelopeApplication && env.Kind != parley.EnvelopeWelcome) {
		return
	}
	ns.mu.Lock()
	var offline []parley.DeviceID
	for _, d := range fanout {
		if ns.streams[d] > 0 || d == env.SenderDevice {
			continue
		}
		if len(env.Recipients) > 0 && !slices.Contains(env.Recipients, d) {
			continue
		}
		offline = append(offline, d)
	}
	ns.mu.Unlock()
	if len(offline) > 0 {
		(*n).Appended(*env, offline)
	}
}
