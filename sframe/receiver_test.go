package sframe_test

import (
	"bytes"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/mls"
	"github.com/parleyhq/parley/sframe"
)

func mustKey(t testing.TB, kid uint64, base string) *sframe.Key {
	t.Helper()
	k, err := sframe.DeriveKey(sframe.AES128GCMSHA256, kid, []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestReceiverRules(t *testing.T) {
	alice, bob := mustKey(t, 1, "alice base key 16"), mustKey(t, 300, "bob base key 16!")
	sa, sb := sframe.NewSealer(alice), sframe.NewSealer(bob)
	r := sframe.NewReceiver()
	r.Add(alice)
	r.Add(bob)

	var frames [][]byte
	for i := range 200 {
		f, err := sa.Seal(nil, []byte("rtp"), []byte{byte(i), 'x'})
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, f)
	}
	// Out of order within the window: accepted once each.
	for _, i := range []int{5, 3, 4, 199, 150, 100} {
		pt, h, err := r.Open(nil, frames[i], []byte("rtp"))
		if err != nil || pt[0] != byte(i) || h.KID != 1 || h.CTR != uint64(i) {
			t.Fatalf("frame %d: %x %+v %v", i, pt, h, err)
		}
	}
	wantReason := func(name string, err error, reason string) {
		t.Helper()
		if parley.ErrorCode(err) != parley.CodeInvalid || parley.ErrorReason(err) != reason {
			t.Fatalf("%s: err %v, want invalid/%s", name, err, reason)
		}
	}
	_, _, err := r.Open(nil, frames[150], []byte("rtp"))
	wantReason("replay", err, sframe.ReasonReplayed)
	_, _, err = r.Open(nil, frames[3], []byte("rtp"))
	wantReason("older than the window", err, sframe.ReasonReplayed)

	fb, _ := sb.Seal(nil, nil, []byte("from bob"))
	if pt, _, err := r.Open(nil, fb, nil); err != nil || string(pt) != "from bob" {
		t.Fatalf("bob: %q %v", pt, err)
	}
	fb2, _ := sb.Seal(nil, nil, []byte("again"))
	tampered := bytes.Clone(fb2)
	tampered[len(tampered)-1] ^= 1
	_, _, err = r.Open(nil, tampered, nil)
	wantReason("tampered", err, sframe.ReasonAuthFailed)
	_, _, err = r.Open(nil, fb2, []byte("other metadata"))
	wantReason("wrong metadata", err, sframe.ReasonAuthFailed)
	// The failed attempts did not burn the counter.
	if _, _, err := r.Open(nil, fb2, nil); err != nil {
		t.Fatalf("genuine frame after failures: %v", err)
	}
	_, _, err = r.Open(nil, fb2[:3], nil)
	wantReason("truncated", err, sframe.ReasonShortFrame)

	r.Remove(300)
	fb3, _ := sb.Seal(nil, nil, []byte("gone"))
	_, _, err = r.Open(nil, fb3, nil)
	wantReason("removed key", err, sframe.ReasonUnknownKey)
}

// A key claiming another sender's KID does not verify: KIDs are bound to
// keys through the derivation.
func TestForgedKID(t *testing.T) {
	real := mustKey(t, 7, "the real sender!")
	forger := mustKey(t, 7, "someone else....")
	r := sframe.NewReceiver()
	r.Add(real)
	f := forger.Seal(nil, 0, nil, []byte("forged"))
	if _, _, err := r.Open(nil, f, nil); parley.ErrorReason(err) != sframe.ReasonAuthFailed {
		t.Fatalf("forged frame: %v", err)
	}
}

func mustKeyPackage(t *testing.T, name string) *mls.KeyPackageBundle {
	t.Helper()
	cs := mls.MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519
	signer, err := mls.GenerateSigner(cs)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := mls.NewKeyPackage(cs, signer, mls.NewBasicCredential([]byte(name)), mls.KeyPackageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

func mustEpochKeys(t *testing.T, g *mls.Group) (*sframe.EpochSecret, *sframe.Key) {
	t.Helper()
	es, err := sframe.NewEpochSecret(sframe.AES128GCMSHA256, g)
	if err != nil {
		t.Fatal(err)
	}
	k, err := es.SenderKey(uint64(g.OwnLeafIndex()))
	if err != nil {
		t.Fatal(err)
	}
	return es, k
}

// Keys from a real MLS group: members agree on each other's frame keys, the
// KID carries leaf and epoch, and a member removed by a commit cannot
// decrypt what is sent in the next epoch.
func TestMLSKeysAndRemoval(t *testing.T) {
	akp, bkp, ckp := mustKeyPackage(t, "alice"), mustKeyPackage(t, "bob"), mustKeyPackage(t, "carol")
	alice, err := mls.CreateGroup([]byte("call-1"), akp, mls.Config{})
	if err != nil {
		t.Fatal(err)
	}
	pc, err := alice.Commit(mls.CommitParams{Adds: []*mls.KeyPackage{&bkp.KeyPackage, &ckp.KeyPackage}})
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.MergePendingCommit(); err != nil {
		t.Fatal(err)
	}
	bob, err := mls.JoinFromWelcome(pc.Welcome, bkp, nil, mls.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	carol, err := mls.JoinFromWelcome(pc.Welcome, ckp, nil, mls.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}

	_, aKey := mustEpochKeys(t, alice)
	bES, _ := mustEpochKeys(t, bob)
	cES, _ := mustEpochKeys(t, carol)
	if leaf, ep := sframe.SplitKID(aKey.KID()); leaf != uint64(alice.OwnLeafIndex()) || ep != alice.Epoch()%256 {
		t.Fatalf("KID %d splits into leaf %d epoch %d", aKey.KID(), leaf, ep)
	}
	for name, es := range map[string]*sframe.EpochSecret{"bob": bES, "carol": cES} {
		k, err := es.SenderKey(uint64(alice.OwnLeafIndex()))
		if err != nil {
			t.Fatal(err)
		}
		r := sframe.NewReceiver()
		r.Add(k)
		if pt, _, err := r.Open(nil, aKey.Seal(nil, 1, nil, []byte("epoch 1")), nil); err != nil || string(pt) != "epoch 1" {
			t.Fatalf("%s: %q %v", name, pt, err)
		}
	}

	// Alice removes Carol; Bob follows the commit; Carol keeps her old keys.
	pc, err = alice.Commit(mls.CommitParams{Removes: []mls.LeafIndex{carol.OwnLeafIndex()}})
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.MergePendingCommit(); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Process(pc.Commit); err != nil {
		t.Fatal(err)
	}
	_, aKey2 := mustEpochKeys(t, alice)
	bES2, _ := mustEpochKeys(t, bob)
	frame := aKey2.Seal(nil, 0, nil, []byte("after carol left"))

	bk, _ := bES2.SenderKey(uint64(alice.OwnLeafIndex()))
	rb := sframe.NewReceiver()
	rb.Add(bk)
	if pt, _, err := rb.Open(nil, frame, nil); err != nil || string(pt) != "after carol left" {
		t.Fatalf("bob after removal: %q %v", pt, err)
	}
	// Carol still holds the previous epoch's secret. Her key for Alice's leaf
	// does not match the new KID, and relabelling the frame with her key's
	// KID does not make it verify.
	ck, err := cES.SenderKey(uint64(alice.OwnLeafIndex()))
	if err != nil {
		t.Fatal(err)
	}
	rc := sframe.NewReceiver()
	rc.Add(ck)
	if _, _, err := rc.Open(nil, frame, nil); parley.ErrorReason(err) != sframe.ReasonUnknownKey {
		t.Fatalf("carol, new KID: %v", err)
	}
	h, n, err := sframe.ParseHeader(frame)
	if err != nil {
		t.Fatal(err)
	}
	relabelled := append(sframe.AppendHeader(nil, sframe.Header{KID: ck.KID(), CTR: h.CTR}), frame[n:]...)
	if _, _, err := rc.Open(nil, relabelled, nil); parley.ErrorReason(err) != sframe.ReasonAuthFailed {
		t.Fatalf("carol, relabelled frame: %v", err)
	}
}
