package calls_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	natsbroker "github.com/parleyhq/parley/broker/nats"
	"github.com/parleyhq/parley/broker/nats/natstest"
	"github.com/parleyhq/parley/calls"
)

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRouterAcrossNodes: two nodes' call services on one store, their
// routers joined by a real NATS relay. A call started through node A is
// pinned there (its id names A); the callee's accept, signalling and
// hang-up made through node B run on A, which pushes the events; B hosts
// nothing; B's status of the conversation finds A's call and B refuses a
// second call there. A device leaving B leaves A's call. Once A is gone, B
// refuses the call's requests with call_node_gone.
func TestRouterAcrossNodes(t *testing.T) {
	e := newEnv(t, calls.Config{IDPrefix: "na"})
	svcB := calls.New(e.st, e.br, e.clock, nil, calls.Config{IDPrefix: "nb"})
	srv := natstest.Start(t)
	dial := func() *natsbroker.Broker {
		b, err := natsbroker.Dial(context.Background(), srv.URL(), natsbroker.Config{Prefix: "callroute"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	}
	ra, rb := calls.NewRouter(e.svc, dial(), "na"), calls.NewRouter(svcB, dial(), "nb")
	stopA, err := ra.Serve()
	if err != nil {
		t.Fatal(err)
	}
	stopB, err := rb.Serve()
	if err != nil {
		t.Fatal(err)
	}
	defer stopB()
	alice := e.mustUser("+15550000001", 1)
	bob := e.mustUser("+15550000002", 1)
	conv := e.mustConversation(parley.KindDirect, alice[0], bob[0])
	ctx := t.Context()

	info, err := ra.Start(ctx, alice[0], conv, false)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(info.ID), "na-") {
		t.Fatalf("call id %s does not name node A", info.ID)
	}
	got, err := rb.Accept(ctx, bob[0], info.ID)
	if err != nil {
		t.Fatalf("accept through node B: %v", err)
	}
	if got.ID != info.ID || got.AnsweredAt.IsZero() || len(got.Participants) != 2 {
		t.Fatalf("accept through node B = %+v", got)
	}
	waitFor(t, "alice's accepted event", func() bool {
		k := e.box[alice[0].ID].kinds()
		return len(k) > 0 && k[len(k)-1] == accepted
	})
	if err := rb.Signal(ctx, bob[0], info.ID, alice[0].ID, parley.CallPublish, parley.CallSignalOffer, []byte("v=0 from b")); err != nil {
		t.Fatalf("signal through node B: %v", err)
	}
	waitFor(t, "the signal at alice", func() bool {
		s := e.box[alice[0].ID].signals()
		return len(s) == 1 && string(s[0].Payload) == "v=0 from b"
	})
	if err := rb.SetMediaState(ctx, bob[0], info.ID, true, false); err != nil {
		t.Fatalf("media state through node B: %v", err)
	}
	if a, b := e.svc.Stats().Active, svcB.Stats().Active; a != 1 || b != 0 {
		t.Fatalf("active calls: A %d, B %d; want 1 and 0", a, b)
	}
	// Node B finds the conversation's call on A, and refuses a second one.
	if st, err := rb.Status(ctx, bob[0], conv); err != nil || st.ID != info.ID {
		t.Fatalf("status through node B = %s, %v; want call %s", st.ID, err, info.ID)
	}
	if _, err := rb.Start(ctx, bob[0], conv, false); parley.ErrorReason(err) != calls.ReasonInProgress {
		t.Fatalf("a second call started through node B: %v, want %s", err, calls.ReasonInProgress)
	}
	// Refusals of the hosting node come back as they are.
	carol := e.mustUser("+15550000003", 1)
	if _, err := rb.Join(ctx, carol[0], info.ID); parley.ErrorCode(err) != parley.CodeForbidden {
		t.Fatalf("a non-member's join through node B: %v, want forbidden", err)
	}
	// Bob's device goes away from node B: node A drops it from the call.
	rb.DeviceGone(ctx, bob[0].ID)
	waitFor(t, "the call to end on node A", func() bool { return e.svc.Stats().Active == 0 })
	if _, err := rb.Status(ctx, bob[0], conv); parley.ErrorReason(err) != calls.ReasonNotFound {
		t.Fatalf("status after the call ended: %v, want %s", err, calls.ReasonNotFound)
	}

	// A second call; node A goes away (its calls with it).
	info, err = ra.Start(ctx, alice[0], conv, false)
	if err != nil {
		t.Fatal(err)
	}
	stopA()
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := rb.Accept(short, bob[0], info.ID); parley.ErrorReason(err) != calls.ReasonCallNodeGone {
		t.Fatalf("accept of a call whose node is gone: %v, want %s", err, calls.ReasonCallNodeGone)
	}
}

// FuzzDecodeRouted: a routed call request from another node decodes or is
// refused with call_bad_routed, never panics.
func FuzzDecodeRouted(f *testing.F) {
	f.Add([]byte(`{"op":"accept","device":{"ID":3,"User":2},"call":"na-00"}`))
	f.Add([]byte(`{"op":"gone","device":{"ID":3}}`))
	f.Add([]byte(`{"op":"signal","device":{"ID":3,"User":2},"payload":"AAAA"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := calls.DecodeRoutedForTest(data); err != nil && parley.ErrorReason(err) != calls.ReasonBadRouted {
			t.Fatalf("refusal %v, want %s", err, calls.ReasonBadRouted)
		}
	})
}
