package client_test

import (
	"fmt"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/delivery"
	"github.com/parleyhq/parley/mls"
	"github.com/parleyhq/parley/proto/parleypb"
)

// mustMLSGroup loads u's MLS state of conv, as a modified client holding
// its own keys would.
func mustMLSGroup(t *testing.T, u *user, conv parley.ConversationID) *mls.Group {
	t.Helper()
	state, err := client.GroupState(u.Client, conv)
	if err != nil {
		t.Fatal(err)
	}
	g, err := mls.UnmarshalGroupState(state, nil)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// leafOf returns the leaf of u's device in g.
func leafOf(t *testing.T, g *mls.Group, u *user) mls.LeafIndex {
	t.Helper()
	want := parley.DeviceCredential(u.Account().User, u.Account().Device)
	for _, m := range g.Members() {
		if string(m.Credential.Identity) == want {
			return m.LeafIndex
		}
	}
	t.Fatalf("no leaf of %s", want)
	return 0
}

// rogue is a commit crafted by a modified client.
type rogue struct {
	epoch                      parley.Epoch
	commit, welcome, groupInfo []byte
}

func mustRogue(t *testing.T, from *user, conv parley.ConversationID, format mls.WireFormat, p mls.CommitParams) rogue {
	t.Helper()
	g := mustMLSGroup(t, from, conv)
	if err := g.SetHandshakeFormat(format); err != nil {
		t.Fatal(err)
	}
	pc, err := g.Commit(p)
	if err != nil {
		t.Fatal(err)
	}
	return rogue{epoch: parley.Epoch(g.Epoch()), commit: pc.Commit, welcome: pc.Welcome, groupInfo: pc.GroupInfo}
}

func (r rogue) request(conv parley.ConversationID, add []*parleypb.AddedDevice, remove ...parley.DeviceID) *parleypb.CommitRequest {
	req := &parleypb.CommitRequest{ConversationId: string(conv), Epoch: uint64(r.epoch), Commit: r.commit, GroupInfo: r.groupInfo,
		Welcome: r.welcome, Add: add, ClientId: string(parley.NewClientMessageID())}
	for _, d := range remove {
		req.Remove = append(req.Remove, int64(d))
	}
	return req
}

func epochOf(t *testing.T, u *user, conv parley.ConversationID) parley.Epoch {
	t.Helper()
	return parley.Epoch(mustMLSGroup(t, u, conv).Epoch())
}

// TestRogueCommits: a modified member client crafts commits its role does
// not allow, or whose MLS proposals differ from the change it declares.
// The server refuses each; delivered anyway (as a server that failed to
// check would), every other member's client refuses it and stays in its
// epoch.
func TestRogueCommits(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	alice := mustRegister(t, ts, phone(301), "Alice")
	bob := mustRegister(t, ts, phone(302), "Bob")
	carol := mustRegister(t, ts, phone(303), "Carol")
	dave := mustRegister(t, ts, phone(304), "Dave")
	res, err := alice.CreateGroup(ctx, "Rules", []string{bob.phone, carol.phone}, client.GroupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	conv := res.Group.ID
	// Dave shares another group with everyone, so that their clients can
	// validate his credential: a refusal below is the rules', not the
	// directory's.
	if _, err := alice.CreateGroup(ctx, "Other", []string{bob.phone, carol.phone, dave.phone}, client.GroupOptions{}); err != nil {
		t.Fatal(err)
	}
	mustSynced(t, ctx, bob, carol, dave)
	epoch := epochOf(t, alice, conv)

	g := mustMLSGroup(t, bob, conv)
	aliceLeaf := leafOf(t, g, alice)
	aliceDev, bobDev := alice.Account().Device, bob.Account().Device
	removeAlice := mustRogue(t, bob, conv, mls.WireFormatPublicMessage, mls.CommitParams{Removes: []mls.LeafIndex{aliceLeaf}})
	kps, daveDevs, err := client.ClaimFor(bob.Client, dave.Account().User)
	if err != nil || len(kps) != 1 {
		t.Fatalf("claim dave's key package: %d, %v", len(kps), err)
	}
	kp, err := mls.UnmarshalKeyPackage(kps[0])
	if err != nil {
		t.Fatal(err)
	}
	addDave := mustRogue(t, bob, conv, mls.WireFormatPublicMessage, mls.CommitParams{Adds: []*mls.KeyPackage{kp}})
	private := mustRogue(t, bob, conv, mls.WireFormatPrivateMessage, mls.CommitParams{Update: true})
	update := mustRogue(t, bob, conv, mls.WireFormatPublicMessage, mls.CommitParams{Update: true})

	for _, tc := range []struct {
		name   string
		req    *parleypb.CommitRequest
		code   parley.Code
		reason string
	}{
		{"remove of the admin declared as no change", removeAlice.request(conv, nil), parley.CodeInvalid, delivery.ReasonCommitMismatch},
		{"remove of the admin declared as own device", removeAlice.request(conv, nil, bobDev), parley.CodeInvalid, delivery.ReasonCommitMismatch},
		{"remove of the admin declared", removeAlice.request(conv, nil, aliceDev), parley.CodeForbidden, "not_admin"},
		{"add by a non-admin declared as no change", func() *parleypb.CommitRequest {
			r := addDave.request(conv, nil)
			r.Welcome = nil
			return r
		}(), parley.CodeInvalid, delivery.ReasonCommitMismatch},
		{"add by a non-admin declared", addDave.request(conv, daveDevs), parley.CodeForbidden, "not_admin"},
		{"declared add without the proposal", func() *parleypb.CommitRequest {
			r := update.request(conv, daveDevs)
			r.Welcome = []byte("welcome")
			return r
		}(), parley.CodeInvalid, delivery.ReasonCommitMismatch},
		{"commit as a private message", private.request(conv, nil), parley.CodeInvalid, delivery.ReasonHandshakeFormat},
		{"welcome without adds", func() *parleypb.CommitRequest {
			r := update.request(conv, nil)
			r.Welcome = []byte("a post smuggled as a welcome")
			return r
		}(), parley.CodeInvalid, delivery.ReasonWelcomeWithoutAdds},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client.SendCommit(bob.Client, tc.req)
			wantCode(t, tc.name, err, tc.code, tc.reason)
		})
	}
	// Nothing moved: the group is where it was, with alice in it.
	grp, err := carol.Group(ctx, string(conv))
	if err != nil || !grp.IsAdmin(alice.Account().User) || grp.IsMember(dave.Account().User) {
		t.Fatalf("after the refusals: %+v, %v", grp, err)
	}

	// Delivered anyway, every other member refuses the rogue commits and
	// stays in its epoch.
	for _, r := range []struct {
		name string
		c    rogue
	}{{"remove of the admin", removeAlice}, {"add by a non-admin", addDave}} {
		for _, u := range []*user{alice, carol} {
			t.Run(fmt.Sprintf("%s refuses the %s", u.phone, r.name), func(t *testing.T) {
				env := &parleypb.Envelope{ConversationId: string(conv), Seq: 1 << 40, Kind: uint32(parley.EnvelopeCommit),
					Epoch: uint64(r.c.epoch), Payload: r.c.commit, SenderUser: int64(bob.Account().User), SenderDevice: int64(bobDev)}
				err := client.ApplyEnvelope(u.Client, env)
				if parley.ErrorReason(err) != client.ReasonCommitNotAllowed {
					t.Fatalf("processing the rogue commit: %v, want %s", err, client.ReasonCommitNotAllowed)
				}
				if got := epochOf(t, u, conv); got != epoch {
					t.Fatalf("epoch %d after the refusal, want %d", got, epoch)
				}
			})
		}
	}

	// The group goes on: the admin's own removal of bob is accepted by
	// the server and applied by carol; carol and alice still talk.
	if err := alice.RemoveGroupMember(ctx, string(conv), bob.phone); err != nil {
		t.Fatal(err)
	}
	mustGroupMessage(t, ctx, carol, conv, "still here", alice)
	if got := epochOf(t, carol, conv); got != epoch+1 {
		t.Fatalf("carol at epoch %d after alice's removal of bob, want %d", got, epoch+1)
	}
}

// TestAdminsOnlyEveryKind: in a group where only admins send, a member's
// post of any envelope kind is refused: every message kind (they are all
// application envelopes) and raw proposals.
func TestAdminsOnlyEveryKind(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	alice := mustRegister(t, ts, phone(311), "Alice")
	bob := mustRegister(t, ts, phone(312), "Bob")
	res, err := alice.CreateGroup(ctx, "News", []string{bob.phone}, client.GroupOptions{OnlyAdminsSend: true})
	if err != nil {
		t.Fatal(err)
	}
	conv := res.Group.ID
	mustSynced(t, ctx, bob)
	m, err := alice.Send(ctx, string(conv), "announcement")
	if err != nil {
		t.Fatal(err)
	}
	poll, err := alice.CreatePoll(ctx, string(conv), client.PollSpec{Question: "Q?", Options: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	mustSynced(t, ctx, bob)
	id := func(r client.MessageRecord) string { return fmt.Sprintf("%s:%d", conv, r.Seq) }
	epoch := epochOf(t, bob, conv)
	for name, send := range map[string]func() error{
		"text":     func() error { _, err := bob.Send(ctx, string(conv), "hi"); return err },
		"reply":    func() error { _, err := bob.Reply(ctx, id(m), "re"); return err },
		"reaction": func() error { return bob.React(ctx, id(m), "👍") },
		"poll": func() error {
			_, err := bob.CreatePoll(ctx, string(conv), client.PollSpec{Question: "?", Options: []string{"x", "y"}})
			return err
		},
		"vote": func() error { return bob.Vote(ctx, id(poll), []int{0}) },
		"application": func() error {
			return client.SendRaw(bob.Client, conv, parley.EnvelopeApplication, epoch, []byte("raw"))
		},
		"proposal": func() error { return client.SendRaw(bob.Client, conv, parley.EnvelopeProposal, epoch, []byte("raw")) },
	} {
		t.Run(name, func(t *testing.T) {
			wantCode(t, name, send(), parley.CodeForbidden, "admins_only_send")
		})
	}
}
