package hosted

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/parleyhq/parley"
)

// Leases in a cluster (Config.Leases): each business's endpoint runs on the
// one node holding the lease "hosted/<business>". The lease loop acquires
// or renews the lease of every hosted number every third of the TTL; it
// starts the endpoints whose lease it got and stops at once those whose
// lease it lost (held by another node, or a renewal failed). A node that
// dies stops renewing: its leases expire and another node takes over
// within a TTL plus a third of it. Shutdown releases the leases.
//
// The endpoint's state is in the store (Config.State), so any node can take
// over; its commits are fenced by the lease (statekv.go). An endpoint still
// running from files (attached before the state moved to the store) can
// only run on the node that has them: a node without them releases the
// lease so that the one with them can take the business. Requests reaching
// a node that does not run the endpoint are forwarded (forward.go).

func leaseName(business parley.UserID) string {
	return "hosted/" + strconv.FormatInt(int64(business), 10)
}

// startLeased runs the lease loop: one round at once, then every third of
// the TTL until Shutdown.
func (m *Manager) startLeased(ctx context.Context) error {
	m.log.Info("hosted endpoints run under leases", "node", m.cfg.NodeID, "ttl", m.cfg.LeaseTTL)
	if m.cfg.Relay != nil {
		stop, err := m.cfg.Relay.ServeRequests(relayService, m.cfg.NodeID, m.serveForward)
		if err != nil {
			return fmt.Errorf("hosted: serving forwarded requests: %w", err)
		}
		m.mu.Lock()
		m.stopRelay = stop
		m.mu.Unlock()
	}
	m.leaseRound(ctx)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		t := time.NewTicker(m.cfg.LeaseTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-m.ctx.Done():
				return
			case <-t.C:
				m.leaseRound(m.ctx)
			}
		}
	}()
	return nil
}

// leaseRound acquires or renews the lease of every hosted number and
// starts or stops its endpoint to match.
func (m *Manager) leaseRound(ctx context.Context) {
	nums, err := m.cfg.Numbers.APINumbers(ctx)
	if err != nil {
		if ctx.Err() == nil {
			m.log.Warn("hosted leases: listing the numbers", "err", err)
		}
		// Renewals cannot be made: stop everything rather than risk two
		// nodes running one endpoint.
		m.mu.Lock()
		var all []parley.UserID
		for b := range m.endpoints {
			all = append(all, b)
		}
		m.mu.Unlock()
		for _, b := range all {
			m.stopEndpoint(b, "the numbers could not be listed")
		}
		return
	}
	for _, n := range nums {
		if n.HostedDevice == 0 || ctx.Err() != nil {
			continue
		}
		m.leaseOne(ctx, n.Business)
	}
}

// leasedEndpoint is endpoint, except that in a cluster a business whose
// lease this node has not seen yet (the API was just enabled on another
// node, or its holder died) has its lease acquired or read first: this
// node then runs the endpoint, or knows who does.
func (m *Manager) leasedEndpoint(business parley.UserID) (*endpoint, error) {
	ep, err := m.endpoint(business)
	if err == nil || m.cfg.Leases == nil || parley.ErrorReason(err) != ReasonNoEndpoint {
		return ep, err
	}
	// The manager's context, not the request's: an endpoint opened here
	// runs on after the request.
	m.leaseOne(m.ctx, business)
	return m.endpoint(business)
}

func (m *Manager) leaseOne(ctx context.Context, business parley.UserID) {
	// One at a time: the lease loop and requests for a business not seen
	// yet never open one endpoint twice.
	m.leaseMu.Lock()
	defer m.leaseMu.Unlock()
	// A renewal that takes over a third of the TTL counts as failed: the
	// endpoint stops while the lease still has a third of it left, before
	// another node can take it.
	actx, cancel := context.WithTimeout(ctx, m.cfg.LeaseTTL/3)
	l, err := m.cfg.Leases.AcquireLease(actx, leaseName(business), m.cfg.NodeID, m.cfg.NodeAddr, m.cfg.LeaseTTL, m.cfg.Clock.Now())
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			m.log.Warn("hosted lease: acquiring or renewing", "business", business, "err", err)
		}
		m.stopEndpoint(business, "the lease could not be renewed")
		return
	}
	m.mu.Lock()
	_, running := m.endpoints[business]
	if l.Holder == m.cfg.NodeID {
		delete(m.others, business)
	} else {
		m.others[business] = l
	}
	m.mu.Unlock()
	switch {
	case l.Holder != m.cfg.NodeID:
		if running {
			m.stopEndpoint(business, "another node holds the lease")
		}
	case !running:
		ep, err := m.open(ctx, business, false)
		if err == nil {
			err = ep.index(ctx)
			if err != nil {
				m.mu.Lock()
				delete(m.endpoints, business)
				m.mu.Unlock()
				_ = ep.c.Close()
			}
		}
		if err != nil {
			m.log.Warn("hosted lease held but the endpoint cannot run here: releasing it", "business", business, "node", m.cfg.NodeID, "err", err)
			if rerr := m.cfg.Leases.ReleaseLease(ctx, leaseName(business), m.cfg.NodeID); rerr != nil {
				m.log.Warn("hosted lease: releasing", "business", business, "err", rerr)
			}
			return
		}
		m.log.Info("hosted endpoint started: this node holds its lease", "business", business, "node", m.cfg.NodeID)
		m.run(ep)
	}
}

// stopEndpoint stops business's endpoint, keeping its state.
func (m *Manager) stopEndpoint(business parley.UserID, why string) {
	m.mu.Lock()
	ep, ok := m.endpoints[business]
	delete(m.endpoints, business)
	m.mu.Unlock()
	if !ok {
		return
	}
	m.log.Warn("hosted endpoint stopped", "business", business, "node", m.cfg.NodeID, "why", why)
	ep.mu.Lock()
	stop := ep.stop
	ep.mu.Unlock()
	if stop != nil {
		stop()
	}
	_ = ep.c.Close()
}

// Running reports whether business's endpoint runs on this node.
func (m *Manager) Running(business parley.UserID) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.endpoints[business]
	return ok
}

// NodeID returns a fresh node id for the leases: the host name and listen
// address, to be read in logs, and random bytes, so that a restarted
// process is a new holder and two processes never share an id.
func NodeID(listen string) string {
	host, _ := os.Hostname()
	var r [6]byte
	_, _ = rand.Read(r[:])
	return host + "/" + listen + "/" + hex.EncodeToString(r[:])
}
