package client_test

import (
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/accounts"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/client/conn"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/server"
)

// TestNodeDrainingReconnects: a cluster node that stops closes its
// sessions with 4012 node_draining; the client reconnects by itself (here
// to the same address, where the node comes back, as a load balancer would
// send it to another node) and goes on sending and receiving.
func TestNodeDrainingReconnects(t *testing.T) {
	ps := parleytest.Start(t, func(c *server.Config) {
		c.Accounts.Limits = accounts.Limits{}
		c.Gateway.Cluster = true
	})
	ts := &testServer{Server: ps, Codes: &codeBook{ps.Codes}}
	ts.sync()
	ctx := ctxT(t)
	alice := mustRegister(t, ts, phone(9501), "Alice")
	bob := mustRegister(t, ts, phone(9502), "Bob")
	if _, err := alice.Send(ctx, bob.phone, "before the drain"); err != nil {
		t.Fatal(err)
	}
	mustEvent(t, bob.Client, "Bob to receive the first message", isMessage("before the drain"))

	ts.mustRestart(t)
	ev := mustEvent(t, alice.Client, "Alice's session to end with node_draining", func(ev client.Event) bool {
		return ev.Kind == client.EventConnection && parley.ErrorReason(ev.Err) == conn.ReasonGoAway
	})
	if !strings.Contains(ev.Err.Error(), "node_draining") {
		t.Fatalf("disconnect: %v, want a go_away naming node_draining", ev.Err)
	}
	mustEvent(t, alice.Client, "Alice to reconnect", func(ev client.Event) bool {
		return ev.Kind == client.EventConnection && ev.Connected
	})
	if _, err := alice.Send(ctx, bob.phone, "after the drain"); err != nil {
		t.Fatalf("send after the drain: %v", err)
	}
	mustEvent(t, bob.Client, "Bob to receive the message sent after the drain", isMessage("after the drain"))
}
