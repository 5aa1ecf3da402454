package cluster

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/broker/nats/natstest"
	"github.com/parleyhq/parley/proto/parleypb"
)

// callEvents collects the CallEvents pushed to one connection.
type callEvents struct {
	mu  sync.Mutex
	evs []*parleypb.CallEvent
}

func (c *callEvents) push(_ *client, f *parleypb.ServerFrame) {
	if e := f.GetCallEvent(); e != nil {
		c.mu.Lock()
		c.evs = append(c.evs, e)
		c.mu.Unlock()
	}
}

// wait returns the first event of kind, waiting up to 15 s.
func (c *callEvents) wait(t *testing.T, kind parleypb.CallEventKind) *parleypb.CallEvent {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		for _, e := range c.evs {
			if e.GetKind() == kind {
				c.mu.Unlock()
				return e
			}
		}
		c.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %v call event", kind)
	return nil
}

// TestCallAcrossNodes: a group call started by a device on node A is
// hosted there (its id carries A's tag); a member's device on node B hears
// of it through NATS, another finds it with CallStatus through B and cannot
// start a second one; the member joins through B (routed to A: A's call
// service counts it in and tells the caller), mutes, and hangs up, all
// through B.
func TestCallAcrossNodes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dsn := freshDSN(t)
	natsURL := envNATS()
	if natsURL == "" {
		natsURL = natstest.Start(t).URL()
	}
	conv := parley.ConversationID("cclustercall")
	accts := seed(t, dsn, 3, 1, conv)
	a := startNode(t, "a", dsn, natsURL, "--calls=true", "--call-tcp", "off", "--turn-udp", "off")
	b := startNode(t, "b", dsn, natsURL, "--calls=true", "--call-tcp", "off", "--turn-udp", "off")
	var onA, onB callEvents
	caller, err := dialClient(ctx, a.addr, accts[0].Devices[0], accts[0].Secrets[0], onA.push)
	if err != nil {
		t.Fatal(err)
	}
	defer caller.close()
	member, err := dialClient(ctx, b.addr, accts[1].Devices[0], accts[1].Secrets[0], onB.push)
	if err != nil {
		t.Fatal(err)
	}
	defer member.close()

	r, err := caller.call(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_CallStart{CallStart: &parleypb.CallStartRequest{ConversationId: string(conv)}}})
	if err != nil {
		t.Fatalf("start on node A: %v", err)
	}
	id := r.GetCall().GetCallId()
	if !strings.Contains(id, "-") {
		t.Fatalf("call id %q carries no node tag", id)
	}
	// The member's device on node B hears of the call (through NATS).
	deadline := time.Now().Add(15 * time.Second)
	for heard := false; !heard; {
		onB.mu.Lock()
		for _, e := range onB.evs {
			heard = heard || e.GetCall().GetCallId() == id
		}
		onB.mu.Unlock()
		if !heard && time.Now().After(deadline) {
			t.Fatalf("the member on node B never heard of call %s", id)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A third member on node B finds the call with CallStatus and cannot
	// start a second one.
	third, err := dialClient(ctx, b.addr, accts[2].Devices[0], accts[2].Secrets[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	defer third.close()
	st, err := third.call(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_CallStatus{CallStatus: &parleypb.CallStatusRequest{ConversationId: string(conv)}}})
	if err != nil || st.GetCall().GetCallId() != id {
		t.Fatalf("call status through node B: %v, %v; want call %s", st, err, id)
	}
	if _, err := third.call(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_CallStart{CallStart: &parleypb.CallStartRequest{ConversationId: string(conv)}}}); err == nil || !strings.Contains(err.Error(), "call_in_progress") {
		t.Fatalf("a second call started through node B: %v, want call_in_progress", err)
	}
	joined, err := member.call(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_CallJoin{CallJoin: &parleypb.CallJoinRequest{CallId: id}}})
	if err != nil {
		t.Fatalf("join through node B: %v", err)
	}
	if n := len(joined.GetCall().GetParticipants()); n != 2 {
		t.Fatalf("after the join through B the call has %d participants, want 2", n)
	}
	if e := onA.wait(t, parleypb.CallEventKind_CALL_JOINED); e.GetDeviceId() != int64(accts[1].Devices[0]) {
		t.Fatalf("the caller was told of device %d joining, want %d", e.GetDeviceId(), accts[1].Devices[0])
	}
	if _, err := member.call(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_CallMediaState{CallMediaState: &parleypb.CallMediaStateRequest{CallId: id, AudioMuted: true}}}); err != nil {
		t.Fatalf("media state through node B: %v", err)
	}
	onA.wait(t, parleypb.CallEventKind_CALL_MEDIA_STATE)
	if _, err := member.call(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_CallHangup{CallHangup: &parleypb.CallHangupRequest{CallId: id}}}); err != nil {
		t.Fatalf("hang up through node B: %v", err)
	}
	onA.wait(t, parleypb.CallEventKind_CALL_LEFT)
}
