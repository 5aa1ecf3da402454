package mls_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/parleyhq/parley/mls"
)

const publicSuite = mls.MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519

func mustBundle(t testing.TB, name string) *mls.KeyPackageBundle {
	t.Helper()
	s, err := mls.GenerateSigner(publicSuite)
	if err != nil {
		t.Fatal(err)
	}
	b, err := mls.NewKeyPackage(publicSuite, s, mls.NewBasicCredential([]byte(name)), mls.KeyPackageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// publicTrio is alice (leaf 0), bob (1) and carol (2) in one group whose
// handshakes are PublicMessages, with the commit and GroupInfo that added
// bob and carol.
type publicTrio struct {
	alice, bob, carol *mls.Group
	addCommit         []byte
	groupInfo         []byte
}

func mustPublicTrio(t testing.TB) *publicTrio {
	t.Helper()
	cfg := mls.Config{HandshakeFormat: mls.WireFormatPublicMessage}
	alice, err := mls.CreateGroup([]byte("public-commit-test"), mustBundle(t, "alice"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	bobKP, carolKP := mustBundle(t, "bob"), mustBundle(t, "carol")
	pc, err := alice.Commit(mls.CommitParams{Adds: []*mls.KeyPackage{&bobKP.KeyPackage, &carolKP.KeyPackage}})
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.MergePendingCommit(); err != nil {
		t.Fatal(err)
	}
	bob, err := mls.JoinFromWelcome(pc.Welcome, bobKP, nil, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	carol, err := mls.JoinFromWelcome(pc.Welcome, carolKP, nil, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &publicTrio{alice: alice, bob: bob, carol: carol, addCommit: pc.Commit, groupInfo: pc.GroupInfo}
}

func TestParsePublicCommit(t *testing.T) {
	g := mustPublicTrio(t)
	s, err := mls.ParsePublicCommit(g.addCommit)
	if err != nil {
		t.Fatal(err)
	}
	if s.Sender.SenderType != mls.SenderTypeMember || s.Sender.LeafIndex != 0 || s.Epoch != 0 {
		t.Errorf("sender %+v epoch %d, want member 0 in epoch 0", s.Sender, s.Epoch)
	}
	if len(s.Adds) != 2 || string(s.Adds[0].Identity) != "bob" || string(s.Adds[1].Identity) != "carol" {
		t.Errorf("adds %v, want bob and carol", s.Adds)
	}
	if len(s.Removes) != 0 || s.References != 0 || len(s.Other) != 0 || s.ExternalInit {
		t.Errorf("unexpected proposals: %+v", s)
	}

	// Carol removes alice.
	pc, err := g.carol.Commit(mls.CommitParams{Removes: []mls.LeafIndex{0}})
	if err != nil {
		t.Fatal(err)
	}
	s, err = mls.ParsePublicCommit(pc.Commit)
	if err != nil {
		t.Fatal(err)
	}
	if s.Sender.LeafIndex != 2 || len(s.Removes) != 1 || s.Removes[0] != 0 || len(s.Adds) != 0 {
		t.Errorf("summary %+v, want carol (2) removing leaf 0", s)
	}
	if s.PathCredential == nil || string(s.PathCredential.Identity) != "carol" {
		t.Errorf("path credential %v, want carol's", s.PathCredential)
	}

	// A PrivateMessage commit shows nothing.
	priv, err := mls.CreateGroup([]byte("private"), mustBundle(t, "dave"), mls.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ppc, err := priv.Commit(mls.CommitParams{Adds: []*mls.KeyPackage{&mustBundle(t, "erin").KeyPackage}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mls.ParsePublicCommit(ppc.Commit); !errors.Is(err, mls.ErrNotPublicCommit) {
		t.Errorf("private commit: %v, want ErrNotPublicCommit", err)
	}
	if _, err := mls.ParsePublicCommit([]byte("junk")); !errors.Is(err, mls.ErrMalformed) {
		t.Errorf("junk: %v, want ErrMalformed", err)
	}
}

func TestParsePublicTree(t *testing.T) {
	g := mustPublicTrio(t)
	tree, err := mls.ParsePublicTree(g.groupInfo, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tree.Epoch() != 1 || !bytes.Equal(tree.GroupID(), []byte("public-commit-test")) {
		t.Errorf("epoch %d group %q", tree.Epoch(), tree.GroupID())
	}
	for i, want := range []string{"alice", "bob", "carol"} {
		m, ok := tree.Leaf(mls.LeafIndex(i))
		if !ok || string(m.Credential.Identity) != want {
			t.Errorf("leaf %d: %q %v, want %q", i, m.Credential.Identity, ok, want)
		}
	}
	if _, ok := tree.Leaf(3); ok {
		t.Error("leaf 3 is blank but was found")
	}

	// Without the tree inline, the out-of-band tree is needed.
	g.alice.SetOmitRatchetTree(true)
	gi, err := g.alice.GroupInfo(false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mls.ParsePublicTree(gi, nil); !errors.Is(err, mls.ErrMissingRatchetTree) {
		t.Fatalf("no tree: %v, want ErrMissingRatchetTree", err)
	}
	tree, err = mls.ParsePublicTree(gi, g.alice.RatchetTree())
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := tree.Leaf(1); !ok || string(m.Credential.Identity) != "bob" {
		t.Errorf("out-of-band leaf 1: %q %v", m.Credential.Identity, ok)
	}
}

// TestCommitPolicy: a member's policy refuses a commit (carol removing
// alice) after the protocol's checks; the member stays in its epoch with
// its state unchanged, so it then applies the commit that is allowed.
func TestCommitPolicy(t *testing.T) {
	g := mustPublicTrio(t)
	var seen []*mls.CommitView
	g.bob.SetCommitPolicy(func(v *mls.CommitView) error {
		seen = append(seen, v)
		for _, r := range v.Removed {
			if r.LeafIndex != v.Committer.LeafIndex && string(v.Committer.Credential.Identity) != "alice" {
				return fmt.Errorf("%s may not remove %s", v.Committer.Credential.Identity, r.Credential.Identity)
			}
		}
		return nil
	})
	rogue, err := g.carol.Commit(mls.CommitParams{Removes: []mls.LeafIndex{0}})
	if err != nil {
		t.Fatal(err)
	}
	before := g.bob.Epoch()
	if _, err := g.bob.Process(rogue.Commit); !errors.Is(err, mls.ErrCommitRefused) {
		t.Fatalf("rogue commit: %v, want ErrCommitRefused", err)
	}
	if g.bob.Epoch() != before || len(g.bob.Members()) != 3 {
		t.Fatalf("after the refusal: epoch %d (want %d), %d members (want 3)", g.bob.Epoch(), before, len(g.bob.Members()))
	}
	if len(seen) != 1 || string(seen[0].Committer.Credential.Identity) != "carol" || len(seen[0].Removed) != 1 ||
		string(seen[0].Removed[0].Credential.Identity) != "alice" || seen[0].External {
		t.Fatalf("policy saw %+v", seen)
	}

	// Alice's commit removing carol is allowed: bob applies it.
	ok, err := g.alice.Commit(mls.CommitParams{Removes: []mls.LeafIndex{2}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.bob.Process(ok.Commit); err != nil {
		t.Fatalf("allowed commit: %v", err)
	}
	if g.bob.Epoch() != before+1 || len(g.bob.Members()) != 2 {
		t.Fatalf("after the allowed commit: epoch %d, %d members", g.bob.Epoch(), len(g.bob.Members()))
	}

	// An external commit shows the joiner as committer.
	if err := g.alice.MergePendingCommit(); err != nil {
		t.Fatal(err)
	}
	s, err := mls.GenerateSigner(publicSuite)
	if err != nil {
		t.Fatal(err)
	}
	gi, err := g.alice.GroupInfo(true)
	if err != nil {
		t.Fatal(err)
	}
	_, ext, err := mls.JoinExternal(gi, s, mls.NewBasicCredential([]byte("dave")), mls.Config{}, mls.ExternalJoinOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seen = nil
	if _, err := g.bob.Process(ext); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || !seen[0].External || string(seen[0].Committer.Credential.Identity) != "dave" {
		t.Fatalf("external commit seen as %+v", seen)
	}
}

func publicSeeds(f *testing.F) (commits, groupInfos [][]byte) {
	g := mustPublicTrio(f)
	rm, err := g.carol.Commit(mls.CommitParams{Removes: []mls.LeafIndex{0}})
	if err != nil {
		f.Fatal(err)
	}
	return [][]byte{g.addCommit, rm.Commit}, [][]byte{g.groupInfo, rm.GroupInfo}
}

// FuzzParsePublicCommit: the delivery service parses every commit a client
// sends; no input may panic it, and whatever parses names only leaves and
// credentials that came from the input.
func FuzzParsePublicCommit(f *testing.F) {
	commits, _ := publicSeeds(f)
	for _, c := range commits {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := mls.ParsePublicCommit(data)
		if err != nil {
			if s != nil {
				t.Fatal("summary with an error")
			}
			return
		}
		if len(s.Adds)+len(s.Removes)+s.Updates+len(s.Other)+s.References > len(data) {
			t.Fatalf("more proposals than bytes: %+v", s)
		}
	})
}

// FuzzParsePublicTree: the delivery service reads the published tree of
// every epoch a commit with removals is made in.
func FuzzParsePublicTree(f *testing.F) {
	_, gis := publicSeeds(f)
	for _, gi := range gis {
		f.Add(gi, []byte(nil))
	}
	f.Fuzz(func(t *testing.T, gi, tree []byte) {
		p, err := mls.ParsePublicTree(gi, tree)
		if err != nil {
			return
		}
		for l := mls.LeafIndex(0); l < 8; l++ {
			p.Leaf(l)
		}
	})
}
