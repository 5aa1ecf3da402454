package mls

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// TestOutOfBandTree: a group switched to an out-of-band tree sends
// Welcomes and GroupInfos without it; joiners need the pending commit's
// tree, and a tree altered in any byte is refused.
func TestOutOfBandTree(t *testing.T) {
	cs := testSuite
	creator, _ := newTestBundle(t, cs, "creator")
	g, err := CreateGroup([]byte("oob"), creator, Config{})
	if err != nil {
		t.Fatal(err)
	}
	g.SetOmitRatchetTree(true)
	if !g.OmitsRatchetTree() {
		t.Fatal("OmitsRatchetTree = false after SetOmitRatchetTree(true)")
	}
	var bundles []*KeyPackageBundle
	var kps []*KeyPackage
	for i := range 3 {
		b, _ := newTestBundle(t, cs, fmt.Sprintf("m%d", i))
		bundles = append(bundles, b)
		kps = append(kps, &b.KeyPackage)
	}
	pc, err := g.Commit(CommitParams{Adds: kps})
	if err != nil {
		t.Fatal(err)
	}
	tree := pc.RatchetTree()
	if _, err := JoinFromWelcome(pc.Welcome, bundles[0], nil, Config{}, nil); !errors.Is(err, ErrMissingRatchetTree) {
		t.Fatalf("join without the tree: %v, want ErrMissingRatchetTree", err)
	}
	for _, i := range []int{0, len(tree) / 2, len(tree) - 1} {
		bad := bytes.Clone(tree)
		bad[i] ^= 1
		if _, err := JoinFromWelcome(pc.Welcome, bundles[0], bad, Config{}, nil); err == nil {
			t.Fatalf("tree altered at byte %d accepted", i)
		}
	}
	if _, _, err := JoinExternal(pc.GroupInfo, &Signer{}, NewBasicCredential([]byte("x")), Config{}, ExternalJoinOptions{}); !errors.Is(err, ErrMissingRatchetTree) {
		t.Fatalf("external join without the tree: %v, want ErrMissingRatchetTree", err)
	}
	if err := g.MergePendingCommit(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(g.RatchetTree(), tree) {
		t.Fatal("PendingCommit.RatchetTree differs from the merged group's tree")
	}
	m, err := JoinFromWelcome(pc.Welcome, bundles[1], tree, Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Epoch() != g.Epoch() || len(m.Members()) != 4 {
		t.Fatalf("joined at epoch %d with %d members", m.Epoch(), len(m.Members()))
	}
	// The setting survives a save and restore.
	st, err := g.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	g2, err := UnmarshalGroupState(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !g2.OmitsRatchetTree() {
		t.Fatal("OmitRatchetTree lost by MarshalState")
	}
}

// FuzzJoinWithTree feeds arbitrary out-of-band trees to a joiner: nothing
// panics, and a tree other than the committer's is never accepted (the
// delivery service that hands trees out is not trusted).
func FuzzJoinWithTree(f *testing.F) {
	cs := testSuite
	creator, _ := newTestBundle(f, cs, "creator")
	g, err := CreateGroup([]byte("fuzz oob"), creator, Config{OmitRatchetTree: true})
	if err != nil {
		f.Fatal(err)
	}
	joiner, _ := newTestBundle(f, cs, "joiner")
	other, _ := newTestBundle(f, cs, "other")
	pc, err := g.Commit(CommitParams{Adds: []*KeyPackage{&joiner.KeyPackage, &other.KeyPackage}})
	if err != nil {
		f.Fatal(err)
	}
	tree := pc.RatchetTree()
	f.Add(tree)
	f.Add(tree[:len(tree)/2])
	f.Add(append(bytes.Clone(tree), 0))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		// Strict, and with leaf signatures deferred to first use: either
		// way only the committer's tree may be accepted.
		for _, cfg := range []Config{{}, {DeferLeafSignatures: true}} {
			m, err := JoinFromWelcome(pc.Welcome, joiner, data, cfg, nil)
			if err != nil {
				continue
			}
			if !bytes.Equal(m.RatchetTree(), tree) {
				t.Fatalf("accepted a tree that is not the committer's (defer %v)", cfg.DeferLeafSignatures)
			}
		}
	})
}
