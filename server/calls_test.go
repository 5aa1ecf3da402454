package server_test

import (
	"testing"

	"github.com/parleyhq/parley/calls"
	"github.com/parleyhq/parley/proto/parleypb"
	"github.com/parleyhq/parley/server"
)

// A 1:1 call through the real gateway: start, the callee's device rings,
// an offer is relayed, accept, hang up; a non-member and a blocked caller
// are refused with their codes.
func TestCallSignallingOverTheGateway(t *testing.T) {
	e := newEnv(t, func(c *server.Config) {
		c.Calls = &server.CallsConfig{Service: calls.Config{TURN: calls.TURN{URLs: []string{"turn:127.0.0.1:3478?transport=udp"}, Secret: []byte("k")}}}
	})
	a, b, m := e.register("alice"), e.register("bob"), e.register("mallory")
	ca, cb, cm := e.connect(a), e.connect(b), e.connect(m)
	conv := e.direct(ca, b)
	welcomeFor(t, cb, conv)

	start := ca.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_CallStart{CallStart: &parleypb.CallStartRequest{ConversationId: conv, Video: true}}}).GetCall()
	if start.GetCallId() == "" || len(start.GetIceServers()) != 1 || start.GetIceServers()[0].GetCredential() == "" {
		t.Fatalf("start %v", start)
	}
	ring := cb.next(func(f *parleypb.ServerFrame) bool { return f.GetCallEvent() != nil }).GetCallEvent()
	if ring.Kind != parleypb.CallEventKind_CALL_RINGING || ring.Call.CallId != start.CallId || !ring.Call.Video || ring.UserId != a.user {
		t.Fatalf("ring %v", ring)
	}
	ca.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_CallSignal{CallSignal: &parleypb.CallSignalRequest{
		CallId: start.CallId, ToDevice: b.device, Kind: parleypb.CallSignalKind_CALL_SIGNAL_OFFER, Payload: []byte("v=0 offer")}}})
	sig := cb.next(func(f *parleypb.ServerFrame) bool { return f.GetCallSignal() != nil }).GetCallSignal()
	if string(sig.Payload) != "v=0 offer" || sig.FromDevice != a.device {
		t.Fatalf("signal %v", sig)
	}
	cb.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_CallAccept{CallAccept: &parleypb.CallAcceptRequest{CallId: start.CallId}}})
	acc := ca.next(func(f *parleypb.ServerFrame) bool { return f.GetCallEvent() != nil }).GetCallEvent()
	if acc.Kind != parleypb.CallEventKind_CALL_ACCEPTED || acc.DeviceId != b.device {
		t.Fatalf("accepted %v", acc)
	}
	cm.mustErr(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_CallStatus{CallStatus: &parleypb.CallStatusRequest{ConversationId: conv}}},
		parleypb.ErrorCode_FORBIDDEN, calls.ReasonNotMember)
	ca.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_CallHangup{CallHangup: &parleypb.CallHangupRequest{CallId: start.CallId}}})
	for {
		ev := cb.next(func(f *parleypb.ServerFrame) bool { return f.GetCallEvent() != nil }).GetCallEvent()
		if ev.Kind == parleypb.CallEventKind_CALL_ENDED {
			break
		}
	}
	cb.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Block{Block: &parleypb.BlockRequest{UserId: a.user}}})
	ca.mustErr(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_CallStart{CallStart: &parleypb.CallStartRequest{ConversationId: conv}}},
		parleypb.ErrorCode_BLOCKED, calls.ReasonBlockedSentinel)
	// Group calls need the SFU, which this server was not given.
	ca.mustErr(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_CallJoin{CallJoin: &parleypb.CallJoinRequest{CallId: start.CallId}}},
		parleypb.ErrorCode_NOT_FOUND, calls.ReasonNotFound)
}

func TestCallsDisabled(t *testing.T) {
	e := newEnv(t)
	a := e.register("alice")
	ca := e.connect(a)
	ca.mustErr(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_CallStatus{CallStatus: &parleypb.CallStatusRequest{ConversationId: "c12345678"}}},
		parleypb.ErrorCode_UNAVAILABLE, "calls_disabled")
}
