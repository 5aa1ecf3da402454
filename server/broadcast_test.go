package server_test

import (
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/proto/parleypb"
)

func broadcastFrame(conv, clientID, payload string) *parleypb.ClientFrame {
	f := sendFrame(conv, clientID, payload)
	f.GetSend().Broadcast = true
	return f
}

// TestBroadcastConsent: a broadcast copy reaches a recipient who has the
// sender in their contacts; for one who does not, the server answers the
// same "sent" receipt with seq 0, stores and delivers nothing (the log has
// no gap), while an ordinary message to the same chat still goes through.
// A broadcast copy to a group is refused.
func TestBroadcastConsent(t *testing.T) {
	e := newEnv(t)
	alice, bob, carol := e.register("alice"), e.register("bob"), e.register("carol")
	ca, cb, cc := e.connect(alice), e.connect(bob), e.connect(carol)
	addContact(cb, alice.user) // bob consents; carol does not
	withBob, withCarol := e.direct(ca, bob), e.direct(ca, carol)
	welcomeFor(t, cb, withBob)
	welcomeFor(t, cc, withCarol)

	sent := ca.mustOK(broadcastFrame(withBob, "b1.b", "to bob")).GetSent()
	if sent.GetSeq() <= 0 || sent.GetConversationId() != withBob || sent.GetClientId() != "b1.b" {
		t.Fatalf("copy to a consenting recipient: %v", sent)
	}
	if env := cb.nextEnvelope(); string(env.GetPayload()) != "to bob" || env.GetSeq() != sent.GetSeq() {
		t.Fatalf("bob got %v", env)
	}

	withheld := ca.mustOK(broadcastFrame(withCarol, "b2.b", "to carol")).GetSent()
	if withheld.GetSeq() != 0 || withheld.GetConversationId() != withCarol || withheld.GetClientId() != "b2.b" ||
		withheld.GetDuplicate() || withheld.GetServerTimeMs() <= 0 {
		t.Fatalf("withheld copy's receipt: %v", withheld)
	}
	cc.noEnvelope()
	if got := e.srv.Delivery.Stats().Withheld; got != 1 {
		t.Fatalf("withheld copies counted: %d, want 1", got)
	}

	// An ordinary message is not subject to the broadcast rule, and comes
	// right after the Welcome: nothing was appended for the withheld copy.
	plain := ca.mustOK(sendFrame(withCarol, "p1", "hello carol")).GetSent()
	if env := cc.nextEnvelope(); string(env.GetPayload()) != "hello carol" || env.GetSeq() != plain.GetSeq() || plain.GetSeq() != 2 {
		t.Fatalf("carol got %v (sent %v)", env, plain)
	}

	// Once carol adds alice, the next copy arrives.
	addContact(cc, alice.user)
	if s := ca.mustOK(broadcastFrame(withCarol, "b3.b", "now you")).GetSent(); s.GetSeq() != 3 {
		t.Fatalf("copy after consent: %v", s)
	}
	if env := cc.nextEnvelope(); string(env.GetPayload()) != "now you" {
		t.Fatalf("carol got %v", env)
	}

	id := string(parley.NewConversationID())
	ca.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_GroupCreate{GroupCreate: &parleypb.GroupCreateRequest{
		Name: "Crag", Conversation: &parleypb.CreateConversationRequest{ConversationId: id, Kind: "group",
			Commit: []byte("commit"), GroupInfo: []byte("groupinfo"), ClientId: "create-" + id}}}})
	ca.mustErr(broadcastFrame(id, "b4.b", "to a group"), parleypb.ErrorCode_INVALID, "broadcast_not_direct")
}
