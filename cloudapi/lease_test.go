package cloudapi_test

import (
	"bytes"
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/cloudapi"
	"github.com/parleyhq/parley/hosted"
)

// dyingLeases is the real store's leases until the node "dies": then every
// call fails, as a node cut off from the database or stopped.
type dyingLeases struct {
	parley.LeaseStore
	dead atomic.Bool
}

func (d *dyingLeases) AcquireLease(ctx context.Context, name, holder, addr string, ttl time.Duration, now time.Time) (parley.Lease, error) {
	if d.dead.Load() {
		return parley.Lease{}, context.Canceled
	}
	return d.LeaseStore.AcquireLease(ctx, name, holder, addr, ttl, now)
}

func (d *dyingLeases) ReleaseLease(ctx context.Context, name, holder string) error {
	if d.dead.Load() {
		return context.Canceled
	}
	return d.LeaseStore.ReleaseLease(ctx, name, holder)
}

// Two nodes' managers on one store, each with a data directory of its own
// (the endpoint's state is in the store): exactly one runs the business's
// endpoint, the other refuses its requests with
// endpoint_elsewhere; when the holder stops renewing, it stops its endpoint
// at once and the other takes over once the lease expires, and sends.
func TestHostedLeaseOneNodeAndTakeover(t *testing.T) {
	e := mustEnv(t)
	b := e.mustBusiness("acme")
	cust := e.mustUser("customer")
	biz := b.user.acct.User
	ctx := e.ctx()
	// The server's own manager (no leases) gives way to the two nodes'.
	if err := e.srv.Hosted.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	const ttl = 600 * time.Millisecond
	newNode := func(id string) (*hosted.Manager, *dyingLeases) {
		leases := &dyingLeases{LeaseStore: e.st}
		m, err := hosted.New(hosted.Config{Dir: filepath.Join(e.dir, "hosted-"+id), Key: bytes.Repeat([]byte{7}, 32), Numbers: e.st,
			API: e.srv.CloudAPI, Media: e.st, Leases: leases, NodeID: id, NodeAddr: "http://" + id, LeaseTTL: ttl, State: e.st})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = m.Shutdown(sctx)
		})
		if err := m.Start(ctx, e.url); err != nil {
			t.Fatal(err)
		}
		return m, leases
	}
	m1, l1 := newNode("n1")
	m2, _ := newNode("n2")
	if !m1.Running(biz) || m2.Running(biz) {
		t.Fatalf("running on n1 %v, on n2 %v: want n1 only (it started first)", m1.Running(biz), m2.Running(biz))
	}
	out := cloudapi.Outgoing{Customer: cust.acct.User, To: cust.phone, Text: "from n2"}
	if _, err := m2.Send(ctx, biz, out); parley.ErrorReason(err) != hosted.ReasonEndpointElsewhere {
		t.Fatalf("send on the node without the lease: %v, want %s", err, hosted.ReasonEndpointElsewhere)
	}
	// n1 dies (renewals fail): it stops at once, n2 takes over.
	l1.dead.Store(true)
	deadline := time.Now().Add(20 * time.Second)
	for m1.Running(biz) || !m2.Running(biz) {
		if time.Now().After(deadline) {
			t.Fatalf("after n1's death: running on n1 %v, on n2 %v", m1.Running(biz), m2.Running(biz))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := m2.Send(ctx, biz, out); err != nil {
		t.Fatalf("send after the takeover: %v", err)
	}
	mustMessage(t, cust.c, func(r client.MessageRecord) bool { return r.Text == "from n2" })
}
