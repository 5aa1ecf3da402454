package groups_test

import (
	"testing"

	"github.com/parleyhq/parley/mls"
)

// TestRemovedLeafCannotDecrypt is the cryptographic half of "a member
// removed mid-conversation cannot decrypt anything sent after removal": a
// removed member that keeps every key it had (it processed the removing
// commit, or kept its state from before it) cannot open a message sent in
// the epoch the removal started, while the remaining members can.
func TestRemovedLeafCannotDecrypt(t *testing.T) {
	cs := mls.MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519
	kp := func(name string) *mls.KeyPackageBundle {
		s, err := mls.GenerateSigner(cs)
		if err != nil {
			t.Fatal(err)
		}
		b, err := mls.NewKeyPackage(cs, s, mls.NewBasicCredential([]byte(name)), mls.KeyPackageOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	aliceKP, bobKP, eveKP := kp("alice"), kp("bob"), kp("eve")
	alice, err := mls.CreateGroup([]byte("cgroup-removal-test"), aliceKP, mls.Config{})
	if err != nil {
		t.Fatal(err)
	}
	pc, err := alice.Commit(mls.CommitParams{Adds: []*mls.KeyPackage{&bobKP.KeyPackage, &eveKP.KeyPackage}})
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.MergePendingCommit(); err != nil {
		t.Fatal(err)
	}
	bob, err := mls.JoinFromWelcome(pc.Welcome, bobKP, nil, mls.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	eve, err := mls.JoinFromWelcome(pc.Welcome, eveKP, nil, mls.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ct, _ := alice.Encrypt([]byte("before"), nil)
	if m, err := eve.Process(ct); err != nil || string(m.ApplicationData) != "before" {
		t.Fatalf("eve before removal: %v", err)
	}
	// Eve keeps a copy of her state from before the removal.
	kept, err := eve.MarshalState()
	if err != nil {
		t.Fatal(err)
	}

	var eveLeaf mls.LeafIndex
	for _, m := range alice.Members() {
		if string(m.Credential.Identity) == "eve" {
			eveLeaf = m.LeafIndex
		}
	}
	pc, err = alice.Commit(mls.CommitParams{Removes: []mls.LeafIndex{eveLeaf}})
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.MergePendingCommit(); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Process(pc.Commit); err != nil {
		t.Fatal(err)
	}
	p, err := eve.Process(pc.Commit)
	if err != nil || !p.SelfRemoved {
		t.Fatalf("eve processing her removal: %+v, %v", p, err)
	}

	after, err := alice.Encrypt([]byte("after"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := bob.Process(after); err != nil || string(m.ApplicationData) != "after" {
		t.Fatalf("bob after removal: %v", err)
	}
	if m, err := eve.Process(after); err == nil {
		t.Fatalf("removed eve decrypted %q", m.ApplicationData)
	}
	old, err := mls.UnmarshalGroupState(kept, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := old.Process(after); err == nil {
		t.Fatalf("eve's pre-removal state decrypted %q", m.ApplicationData)
	}
}
