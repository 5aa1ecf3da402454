package storetest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// RunTrees runs the parley.TreeStore contract against stores made by open,
// which must also implement parley.TreeStore.
func RunTrees(t *testing.T, open func(t *testing.T) parley.Store) {
	tests := []struct {
		name string
		f    func(t *testing.T, s parley.Store, ts parley.TreeStore)
	}{
		{"PutAndBind", testTreePutAndBind},
		{"BindRefused", testTreeBindRefused},
		{"Prune", testTreePrune},
		{"LargeCommit", testLargeCommit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { _ = s.Close() })
			ts, ok := s.(parley.TreeStore)
			if !ok {
				t.Fatalf("%T does not implement parley.TreeStore", s)
			}
			tc.f(t, s, ts)
		})
	}
}

// MustTree uploads a tree with these bytes for conv by dev.
func MustTree(t *testing.T, ts parley.TreeStore, conv parley.ConversationID, dev parley.DeviceID, data string, at time.Time) parley.RatchetTree {
	t.Helper()
	tr := parley.RatchetTree{Ref: parley.TreeRefOf([]byte(data)), Conversation: conv, Device: dev, Data: []byte(data), CreatedAt: at}
	must(t, ts.PutRatchetTree(t.Context(), tr))
	return tr
}

// commitWithTree applies an empty commit by dev at epoch carrying ref.
func commitWithTree(t *testing.T, s parley.Store, conv parley.ConversationID, dev parley.Device, epoch parley.Epoch, ref parley.TreeRef) error {
	t.Helper()
	c := env(conv, dev, fmt.Sprintf("commit-%d-%s", epoch, ref))
	c.Kind, c.Epoch = parley.EnvelopeCommit, epoch
	_, err := s.ApplyCommit(t.Context(), parley.Commit{Conversation: conv, Epoch: epoch, GroupInfo: []byte("gi"), Envelopes: []parley.Envelope{c}, TreeRef: ref})
	return err
}

func testTreePutAndBind(t *testing.T, s parley.Store, ts parley.TreeStore) {
	ctx := t.Context()
	u := MustUser(t, s).ID
	a, b := MustDevice(t, s, u), MustDevice(t, s, u)
	id := MustGroup(t, s, u, a, b)
	tr := MustTree(t, ts, id, a.ID, "tree of epoch 2", t0)
	// Idempotent for the uploader; a conflict for anyone else.
	must(t, ts.PutRatchetTree(ctx, tr))
	other := tr
	other.Device = b.ID
	wantCode(t, ts.PutRatchetTree(ctx, other), parley.CodeConflict, "tree_exists")
	_, err := ts.RatchetTreeAt(ctx, id, 2)
	wantCode(t, err, parley.CodeNotFound, "tree_not_found")
	// An upload is readable by its ref, bound or not.
	up, err := ts.UploadedTree(ctx, tr.Ref)
	must(t, err)
	if up.Ref != tr.Ref || up.Device != a.ID || up.Conversation != id || !bytes.Equal(up.Data, tr.Data) || !up.CreatedAt.Equal(t0) {
		t.Fatalf("upload %s: %+v, want %+v", tr.Ref, up, tr)
	}
	_, err = ts.UploadedTree(ctx, parley.TreeRefOf([]byte("never uploaded")))
	wantCode(t, err, parley.CodeNotFound, "tree_not_found")

	must(t, commitWithTree(t, s, id, a, 1, tr.Ref))
	got, err := ts.RatchetTreeAt(ctx, id, 2)
	must(t, err)
	if got.Ref != tr.Ref || got.Device != a.ID || got.Conversation != id || !bytes.Equal(got.Data, tr.Data) || !got.CreatedAt.Equal(t0) {
		t.Fatalf("tree of epoch 2: %+v, want %+v", got, tr)
	}
	_, err = ts.RatchetTreeAt(ctx, id, 1)
	wantCode(t, err, parley.CodeNotFound, "tree_not_found")
	// A commit without a tree leaves its epoch without one.
	must(t, commitWithTree(t, s, id, b, 2, ""))
	_, err = ts.RatchetTreeAt(ctx, id, 3)
	wantCode(t, err, parley.CodeNotFound, "tree_not_found")
}

func testTreeBindRefused(t *testing.T, s parley.Store, ts parley.TreeStore) {
	ctx := t.Context()
	u := MustUser(t, s).ID
	a, b := MustDevice(t, s, u), MustDevice(t, s, u)
	id := MustGroup(t, s, u, a, b)
	id2 := MustGroup(t, s, u, a, b)
	byB := MustTree(t, ts, id, b.ID, "b's tree", t0)
	forOther := MustTree(t, ts, id2, a.ID, "tree of another conversation", t0)
	cases := map[string]parley.TreeRef{
		"uploaded by another device": byB.Ref,
		"of another conversation":    forOther.Ref,
		"never uploaded":             parley.TreeRefOf([]byte("nothing")),
	}
	for name, ref := range cases {
		err := commitWithTree(t, s, id, a, 1, ref)
		if parley.ErrorReason(err) != "tree_ref" || parley.ErrorCode(err) != parley.CodeInvalid {
			t.Fatalf("commit with a tree %s: %v, want invalid tree_ref", name, err)
		}
	}
	c, err := s.Conversation(ctx, id)
	must(t, err)
	if c.Epoch != 1 || c.LastSeq != 0 {
		t.Fatalf("refused commits changed the conversation: epoch %d last seq %d", c.Epoch, c.LastSeq)
	}
	// A losing commit (wrong epoch) binds nothing either.
	mine := MustTree(t, ts, id, a.ID, "a's tree", t0)
	wantCode(t, commitWithTree(t, s, id, a, 5, mine.Ref), parley.CodeConflict, "wrong_epoch")
	_, err = ts.RatchetTreeAt(ctx, id, 6)
	wantCode(t, err, parley.CodeNotFound, "tree_not_found")
}

func testTreePrune(t *testing.T, s parley.Store, ts parley.TreeStore) {
	ctx := t.Context()
	u := MustUser(t, s).ID
	a := MustDevice(t, s, u)
	id := MustGroup(t, s, u, a)
	// Epochs 2..6 bound to trees made a day apart; two unbound uploads.
	for e := parley.Epoch(1); e <= 5; e++ {
		tr := MustTree(t, ts, id, a.ID, fmt.Sprintf("tree %d", e+1), t0.Add(time.Duration(e)*24*time.Hour))
		must(t, commitWithTree(t, s, id, a, e, tr.Ref))
	}
	MustTree(t, ts, id, a.ID, "old unbound", t0)
	fresh := MustTree(t, ts, id, a.ID, "fresh unbound", t0.Add(10*24*time.Hour))

	// Unbound before day 5, bound before day 10, keep the 2 latest epochs.
	n, err := ts.PruneRatchetTrees(ctx, t0.Add(5*24*time.Hour), t0.Add(10*24*time.Hour), 2)
	must(t, err)
	if n != 4 { // epochs 2, 3, 4 and the old unbound upload
		t.Fatalf("pruned %d trees, want 4", n)
	}
	for e := parley.Epoch(2); e <= 6; e++ {
		_, err := ts.RatchetTreeAt(ctx, id, e)
		if e <= 4 {
			wantCode(t, err, parley.CodeNotFound, "tree_not_found")
		} else {
			must(t, err)
		}
	}
	// The fresh upload is still there: re-putting it is a no-op, and it
	// can still be bound.
	must(t, ts.PutRatchetTree(ctx, fresh))
	must(t, commitWithTree(t, s, id, a, 6, fresh.Ref))
	// Trees newer than boundBefore stay bound whatever keepEpochs says.
	n, err = ts.PruneRatchetTrees(ctx, t0, t0.Add(4*24*time.Hour), 0)
	must(t, err)
	if n != 0 {
		t.Fatalf("pruned %d trees, want 0", n)
	}
	for e := parley.Epoch(5); e <= 7; e++ {
		if _, err := ts.RatchetTreeAt(ctx, id, e); err != nil {
			t.Fatalf("tree of epoch %d after pruning with keepEpochs 0: %v", e, err)
		}
	}
}

func testLargeCommit(t *testing.T, s parley.Store, ts parley.TreeStore) {
	ctx := t.Context()
	u := MustUser(t, s).ID
	a, b := MustDevice(t, s, u), MustDevice(t, s, u)
	id := MustGroup(t, s, u, a, b)
	big := MustTree(t, ts, id, a.ID, "a commit too large for a frame", t0)
	tree := MustTree(t, ts, id, a.ID, "the tree it leads to", t0)
	byB := MustTree(t, ts, id, b.ID, "b's commit", t0)
	apply := func(dev parley.Device, epoch parley.Epoch, commitRef, treeRef parley.TreeRef) error {
		c := env(id, dev, fmt.Sprintf("big-commit-%d-%s", epoch, commitRef))
		c.Kind, c.Epoch, c.Payload = parley.EnvelopeCommit, epoch, []byte("ref")
		_, err := s.ApplyCommit(ctx, parley.Commit{Conversation: id, Epoch: epoch, GroupInfo: []byte("gi"), Envelopes: []parley.Envelope{c},
			TreeRef: treeRef, CommitRef: commitRef})
		return err
	}
	// Another device's upload is refused, and binds nothing.
	if err := apply(a, 1, byB.Ref, tree.Ref); parley.ErrorReason(err) != "commit_ref" {
		t.Fatalf("commit naming another device's upload: %v, want invalid commit_ref", err)
	}
	_, err := ts.RatchetTreeAt(ctx, id, 2)
	wantCode(t, err, parley.CodeNotFound, "tree_not_found")
	must(t, apply(a, 1, big.Ref, tree.Ref))
	got, err := ts.LargeCommitAt(ctx, id, 1)
	must(t, err)
	if got.Ref != big.Ref || !bytes.Equal(got.Data, big.Data) {
		t.Fatalf("commit of epoch 1: %+v", got)
	}
	if got, err := ts.RatchetTreeAt(ctx, id, 2); err != nil || got.Ref != tree.Ref {
		t.Fatalf("tree of epoch 2: %+v, %v", got, err)
	}
	_, err = ts.LargeCommitAt(ctx, id, 2)
	wantCode(t, err, parley.CodeNotFound, "commit_not_found")
	// Bound commits survive pruning of unbound uploads.
	if _, err := ts.PruneRatchetTrees(ctx, t0.Add(time.Hour), t0, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.LargeCommitAt(ctx, id, 1); err != nil {
		t.Fatalf("bound commit pruned: %v", err)
	}
}
