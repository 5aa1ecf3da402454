package mls_test

import (
	"bytes"
	"fmt"

	"github.com/parleyhq/parley/mls"
)

// Example shows the life of a two-member group: key packages, creation,
// adding a member who joins by Welcome, an encrypted message, a
// post-compromise-security update, and a shared exported key.
func Example() {
	cs := mls.MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519
	newClient := func(name string) (*mls.KeyPackageBundle, error) {
		signer, err := mls.GenerateSigner(cs)
		if err != nil {
			return nil, err
		}
		return mls.NewKeyPackage(cs, signer, mls.NewBasicCredential([]byte(name)), mls.KeyPackageOptions{})
	}
	aliceKP, _ := newClient("alice")
	bobKP, _ := newClient("bob")

	// Alice creates the group and adds Bob (whose KeyPackage she fetched
	// from the directory).
	alice, err := mls.CreateGroup([]byte("chat-1"), aliceKP, mls.Config{})
	if err != nil {
		panic(err)
	}
	pc, err := alice.Commit(mls.CommitParams{Adds: []*mls.KeyPackage{&bobKP.KeyPackage}})
	if err != nil {
		panic(err)
	}
	// ... the delivery service accepts pc.Commit ...
	if err := alice.MergePendingCommit(); err != nil {
		panic(err)
	}
	bob, err := mls.JoinFromWelcome(pc.Welcome, bobKP, nil, mls.Config{}, nil)
	if err != nil {
		panic(err)
	}

	ct, _ := alice.Encrypt([]byte("hi bob"), nil)
	msg, err := bob.Process(ct)
	if err != nil {
		panic(err)
	}
	fmt.Printf("bob got %q from %s\n", msg.ApplicationData, msg.Credential.Identity)

	// Bob refreshes his keys; Alice follows.
	pc, _ = bob.Commit(mls.CommitParams{Update: true})
	if _, err := alice.Process(pc.Commit); err != nil {
		panic(err)
	}
	_ = bob.MergePendingCommit()

	ka, _ := alice.Export("call key", nil, 32)
	kb, _ := bob.Export("call key", nil, 32)
	fmt.Println("epoch", alice.Epoch(), "members", len(alice.Members()), "same call key:", bytes.Equal(ka, kb))
	// Output:
	// bob got "hi bob" from alice
	// epoch 2 members 2 same call key: true
}
