package mls

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

// A Welcome joiner with DeferLeafSignatures checks the GroupInfo signer's
// leaf at once and every other leaf at first use; a member processing a
// commit that adds members defers the added leaves likewise. The set
// survives MarshalState, and a commit of the member's own checks the rest.
func TestDeferredLeafSignatures(t *testing.T) {
	cs := testSuite
	tg := newTestGroup(t, cs, Config{}, "a", "b", "c", "d")
	jb, _ := newTestBundle(t, cs, "joiner")
	pc := tg.commit(0, CommitParams{Adds: []*KeyPackage{&jb.KeyPackage}})
	j, err := JoinFromWelcome(pc.Welcome, jb, nil, Config{DeferLeafSignatures: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// a (the signer) and the joiner itself are checked; b, c, d are not.
	if got := j.tree.deferredLeaves(); !slices.Equal(got, []LeafIndex{1, 2, 3}) {
		t.Fatalf("deferred after join = %v, want [1 2 3]", got)
	}
	tg.members = append(tg.members, &testMember{name: "joiner", g: j})
	ct, err := tg.members[2].g.Encrypt([]byte("from c"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := j.Process(ct); err != nil || string(p.ApplicationData) != "from c" {
		t.Fatalf("message from c: %v", err)
	}
	if got := j.tree.deferredLeaves(); !slices.Equal(got, []LeafIndex{1, 3}) {
		t.Fatalf("deferred after c's message = %v, want [1 3]", got)
	}

	// b adds two members: the joiner defers their leaves.
	e, _ := newTestBundle(t, cs, "e")
	f, _ := newTestBundle(t, cs, "f")
	pc = tg.commit(1, CommitParams{Adds: []*KeyPackage{&e.KeyPackage, &f.KeyPackage}})
	_ = pc
	if got := j.tree.deferredLeaves(); !slices.Equal(got, []LeafIndex{3, 5, 6}) {
		t.Fatalf("deferred after b's adds = %v, want [3 5 6] (b checked as the committer)", got)
	}

	// The state keeps the set.
	st, err := j.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	r, err := UnmarshalGroupState(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.tree.deferredLeaves(); !slices.Equal(got, []LeafIndex{3, 5, 6}) || !r.cfg.DeferLeafSignatures {
		t.Fatalf("restored deferred = %v (flag %v), want [3 5 6]", got, r.cfg.DeferLeafSignatures)
	}

	// Committing checks every remaining leaf first.
	if _, err := r.Commit(CommitParams{Update: true}); err != nil {
		t.Fatal(err)
	}
	if got := r.tree.deferredLeaves(); len(got) != 0 {
		t.Fatalf("deferred after own commit = %v", got)
	}
}

// A leaf whose signature is invalid, in a tree a (malicious) committer
// signed, is refused by a strict joiner at once, and by a deferring joiner
// as soon as it matters: a message signed by that leaf, or a commit.
func TestDeferredLeafSignatureForged(t *testing.T) {
	cs := testSuite
	tg := newTestGroup(t, cs, Config{}, "a", "b", "c")
	// c's leaf gets a broken signature (same keys) in every member's tree,
	// as if a committer had forged it and the others had not checked.
	forged := *tg.members[0].g.tree.leaf(2)
	forged.Signature = append([]byte{}, forged.Signature...)
	forged.Signature[0] ^= 1
	for _, m := range tg.members {
		m.g.tree.setLeaf(2, &forged)
		m.g.tree.adoptIndex()
	}
	jb, _ := newTestBundle(t, cs, "joiner")
	pc := tg.commit(0, CommitParams{Adds: []*KeyPackage{&jb.KeyPackage}})
	if _, err := JoinFromWelcome(pc.Welcome, jb, nil, Config{}, nil); !errors.Is(err, ErrInvalidTree) {
		t.Fatalf("strict join of a forged tree: %v, want ErrInvalidTree", err)
	}
	j, err := JoinFromWelcome(pc.Welcome, jb, nil, Config{DeferLeafSignatures: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// b's message is fine; c's (signed with the forged leaf's key) is not.
	ct, err := tg.members[1].g.Encrypt([]byte("from b"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Process(ct); err != nil {
		t.Fatalf("message from b: %v", err)
	}
	ct, err = tg.members[2].g.Encrypt([]byte("from c"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Process(ct); !errors.Is(err, ErrInvalidLeafNode) {
		t.Fatalf("message signed by the forged leaf: %v, want ErrInvalidLeafNode", err)
	}
	if _, err := j.Commit(CommitParams{Update: true}); !errors.Is(err, ErrInvalidLeafNode) {
		t.Fatalf("commit over the forged leaf: %v, want ErrInvalidLeafNode", err)
	}
	if _, err := j.GroupInfo(false); !errors.Is(err, ErrInvalidLeafNode) {
		t.Fatalf("GroupInfo over the forged leaf: %v, want ErrInvalidLeafNode", err)
	}
}

// FuzzGroupState feeds UnmarshalGroupState (seeded in testdata with the
// state of a member that deferred leaf signatures): it must never panic,
// and a state it accepts must marshal back to one it accepts identically.
func FuzzGroupState(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := UnmarshalGroupState(data, nil)
		if err != nil {
			return
		}
		b1, err := g.MarshalState()
		if err != nil {
			t.Fatalf("marshal an accepted state: %v", err)
		}
		g2, err := UnmarshalGroupState(b1, nil)
		if err != nil {
			t.Fatalf("re-read a marshalled state: %v", err)
		}
		b2, err := g2.MarshalState()
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("state not stable through marshal: %v", err)
		}
		if !slices.Equal(g.tree.deferredLeaves(), g2.tree.deferredLeaves()) {
			t.Fatal("deferred leaves changed through marshal")
		}
	})
}
