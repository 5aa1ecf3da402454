package server_test

import (
	"testing"

	"github.com/parleyhq/parley/delivery"
	"github.com/parleyhq/parley/mls"
	"github.com/parleyhq/parley/proto/parleypb"
)

// TestRogueDirectCommit: in a direct conversation, a modified client
// commits the MLS removal of the other user's device. Declared as no
// change, or as the removal it is, the server refuses it; a commit that is
// not a PublicMessage, or sent from another leaf, is refused too.
func TestRogueDirectCommit(t *testing.T) {
	e := newEnv(t)
	a, b := e.register("alice"), e.register("bob")
	ca, cb := e.connect(a), e.connect(b)
	conv, ga, gb := mlsDirect(t, ca, a, b)
	welcomeFor(t, cb, conv)

	remove, err := gb.Commit(mls.CommitParams{Removes: []mls.LeafIndex{ga.OwnLeafIndex()}})
	if err != nil {
		t.Fatal(err)
	}
	gb.DiscardPendingCommit()
	frame := func(pc *mls.PendingCommit, removeDevices ...int64) *parleypb.ClientFrame {
		return &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Commit{Commit: &parleypb.CommitRequest{
			ConversationId: conv, Epoch: 1, Commit: pc.Commit, GroupInfo: pc.GroupInfo, Remove: removeDevices, ClientId: "rogue"}}}
	}
	cb.mustErr(frame(remove), parleypb.ErrorCode_INVALID, delivery.ReasonCommitMismatch)
	cb.mustErr(frame(remove, a.device), parleypb.ErrorCode_FORBIDDEN, "remove_not_allowed")
	// Alice's own key update sent by bob's connection: another leaf.
	update, err := ga.Commit(mls.CommitParams{Update: true})
	if err != nil {
		t.Fatal(err)
	}
	ga.DiscardPendingCommit()
	cb.mustErr(frame(update), parleypb.ErrorCode_FORBIDDEN, delivery.ReasonCommitSender)
	if err := gb.SetHandshakeFormat(mls.WireFormatPrivateMessage); err != nil {
		t.Fatal(err)
	}
	private, err := gb.Commit(mls.CommitParams{Update: true})
	if err != nil {
		t.Fatal(err)
	}
	gb.DiscardPendingCommit()
	cb.mustErr(frame(private), parleypb.ErrorCode_INVALID, delivery.ReasonHandshakeFormat)
	cb.mustErr(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Commit{Commit: &parleypb.CommitRequest{
		ConversationId: conv, Epoch: 1, Commit: []byte("not mls"), GroupInfo: []byte("gi"), ClientId: "junk"}}},
		parleypb.ErrorCode_INVALID, delivery.ReasonHandshakeFormat)
	// Nothing moved: alice's own key update is still accepted at epoch 1.
	ok, err := ga.Commit(mls.CommitParams{Update: true})
	if err != nil {
		t.Fatal(err)
	}
	if r := ca.mustOK(frame(ok)); r.GetAppended().GetEpoch() != 2 {
		t.Fatalf("alice's update: %v", r)
	}
}
