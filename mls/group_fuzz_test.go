package mls

import (
	"bytes"
	"sync"
	"testing"
)

var fuzzGroupOnce struct {
	sync.Once
	state []byte
	seeds [][]byte
	err   error
}

// fuzzGroupSetup builds a three-member group and a set of valid messages
// for bob's state at a fixed epoch: application messages, proposals and
// commits in both wire formats.
func fuzzGroupSetup(t testing.TB) ([]byte, [][]byte) {
	fuzzGroupOnce.Do(func() {
		tg := newTestGroup(t, testSuite, Config{}, "alice", "bob", "carol")
		alice, bob, carol := tg.members[0].g, tg.members[1].g, tg.members[2].g
		var seeds [][]byte
		add := func(b []byte, err error) {
			if err == nil {
				seeds = append(seeds, b)
			}
		}
		add(alice.Encrypt([]byte("hello"), []byte("ad")))
		add(carol.Encrypt([]byte("world"), nil))
		add(carol.ProposeUpdate(nil))
		add(alice.ProposeRemove(2, nil))
		pc, err := alice.Commit(CommitParams{Update: true})
		if err == nil {
			seeds = append(seeds, pc.Commit)
		}
		alice.DiscardPendingCommit()
		alice.cfg.HandshakeFormat = WireFormatPublicMessage
		nb, _ := newTestBundle(t, testSuite, "dave")
		pc, err = alice.Commit(CommitParams{Adds: []*KeyPackage{&nb.KeyPackage}})
		if err == nil {
			seeds = append(seeds, pc.Commit, pc.Welcome, pc.GroupInfo)
		}
		alice.DiscardPendingCommit()
		add(alice.GroupInfo(true))
		fuzzGroupOnce.state, fuzzGroupOnce.err = bob.MarshalState()
		fuzzGroupOnce.seeds = seeds
	})
	if fuzzGroupOnce.err != nil {
		t.Fatal(fuzzGroupOnce.err)
	}
	return fuzzGroupOnce.state, fuzzGroupOnce.seeds
}

// FuzzGroupProcess feeds hostile MLSMessages to a live group member. It
// must never panic, and a rejected message must leave the epoch and tree
// unchanged.
func FuzzGroupProcess(f *testing.F) {
	state, seeds := fuzzGroupSetup(f)
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		g, err := UnmarshalGroupState(state, nil)
		if err != nil {
			t.Fatal(err)
		}
		epoch, th := g.Epoch(), bytes.Clone(g.tree.treeHash())
		if _, err := g.Process(msg); err != nil {
			if g.Epoch() != epoch || !bytes.Equal(g.tree.treeHash(), th) {
				t.Fatalf("failed Process changed the state: %v", err)
			}
		}
	})
}
