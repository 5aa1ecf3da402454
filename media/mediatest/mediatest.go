// Package mediatest is the contract suite every parley.MediaStore passes,
// run by store/sqlite and store/postgres on the same store that implements
// parley.Store (the sweep reads conversation logs and cursors).
package mediatest

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// Store is what the suite tests: a parley.Store that is also a MediaStore.
type Store interface {
	parley.Store
	parley.MediaStore
}

// Run runs the suite; open returns a fresh, empty store per subtest.
func Run(t *testing.T, open func(t *testing.T) Store) {
	for _, tc := range []struct {
		name string
		f    func(t *testing.T, s Store)
	}{
		{"CreateGet", testCreateGet},
		{"Complete", testComplete},
		{"LinkReference", testLinkReference},
		{"Usage", testUsage},
		{"Sweep", testSweep},
		{"Delete", testDelete},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.f(t, open(t)) })
	}
}

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// MustConversation creates a group conversation whose members are the given
// devices (device d belongs to user d).
func MustConversation(t testing.TB, s parley.Store, devices ...parley.DeviceID) parley.ConversationID {
	t.Helper()
	id := parley.NewConversationID()
	var ms []parley.Member
	for _, d := range devices {
		ms = append(ms, parley.Member{Conversation: id, User: parley.UserID(d), Device: d})
	}
	if _, err := s.CreateConversation(t.Context(), parley.Conversation{ID: id, Kind: parley.KindGroup, Epoch: 1, CreatedBy: parley.UserID(devices[0]), CreatedAt: t0}, ms, nil); err != nil {
		t.Fatal(err)
	}
	return id
}

// MustAppend appends one application envelope from device and returns its Seq.
func MustAppend(t testing.TB, s parley.Store, conv parley.ConversationID, device parley.DeviceID, at time.Time) parley.Seq {
	t.Helper()
	res, err := s.Append(t.Context(), []parley.Envelope{{
		Conversation: conv, Sender: parley.UserID(device), SenderDevice: device,
		ClientID: parley.ClientMessageID(parley.NewBlobID()), Kind: parley.EnvelopeApplication,
		Epoch: 1, Payload: []byte("ciphertext"), CreatedAt: at,
	}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("Append: %v %v", err, res)
	}
	return res[0].Seq
}

func blob(owner parley.DeviceID, size int64, created time.Time, complete bool, convs ...parley.ConversationID) parley.Blob {
	b := parley.Blob{ID: parley.NewBlobID(), Owner: parley.UserID(owner), OwnerDevice: owner, Size: size,
		CapabilityHash: bytes.Repeat([]byte{7}, 32), Conversations: convs, CreatedAt: created}
	if complete {
		b.CompletedAt = created.Add(time.Second)
	}
	return b
}

// MustCreate stores b.
func MustCreate(t testing.TB, s parley.MediaStore, b parley.Blob) parley.Blob {
	t.Helper()
	if err := s.CreateBlob(t.Context(), b); err != nil {
		t.Fatalf("CreateBlob: %v", err)
	}
	return b
}

func testCreateGet(t *testing.T, s Store) {
	c1, c2 := parley.ConversationID("caaaaaaaaaa"), parley.ConversationID("cbbbbbbbbbb")
	b := MustCreate(t, s, blob(1, 1234, t0, false, c2, c1))
	got, err := s.Blob(t.Context(), b.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := b
	want.Conversations = []parley.ConversationID{c1, c2}
	if !got.CreatedAt.Equal(want.CreatedAt) || got.Owner != want.Owner || got.OwnerDevice != want.OwnerDevice ||
		got.Size != want.Size || !bytes.Equal(got.CapabilityHash, want.CapabilityHash) ||
		!slices.Equal(got.Conversations, want.Conversations) || got.Complete() {
		t.Fatalf("Blob = %+v, want %+v", got, want)
	}
	if err := s.CreateBlob(t.Context(), b); !parley.IsCode(err, parley.CodeConflict) {
		t.Fatalf("CreateBlob of an existing ID: %v, want CodeConflict", err)
	}
	if _, err := s.Blob(t.Context(), parley.NewBlobID()); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("Blob of a missing ID: %v, want CodeNotFound", err)
	}
}

func testComplete(t *testing.T, s Store) {
	b := MustCreate(t, s, blob(1, 10, t0, false, "caaaaaaaaaa"))
	at := t0.Add(time.Minute)
	for range 2 {
		if err := s.CompleteBlob(t.Context(), b.ID, at); err != nil {
			t.Fatal(err)
		}
		at = at.Add(time.Hour) // a second completion keeps the first time
	}
	got, err := s.Blob(t.Context(), b.ID)
	if err != nil || !got.CompletedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("after CompleteBlob: %+v, %v", got, err)
	}
	if err := s.CompleteBlob(t.Context(), parley.NewBlobID(), at); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("CompleteBlob of a missing blob: %v", err)
	}
}

func testLinkReference(t *testing.T, s Store) {
	c1, c2, c3 := parley.ConversationID("caaaaaaaaaa"), parley.ConversationID("cbbbbbbbbbb"), parley.ConversationID("ccccccccccc")
	b := MustCreate(t, s, blob(1, 10, t0, true, c1))
	for range 2 { // idempotent
		if err := s.LinkBlob(t.Context(), b.ID, c2); err != nil {
			t.Fatal(err)
		}
		if err := s.ReferenceBlob(t.Context(), b.ID, c3, 5); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Blob(t.Context(), b.ID)
	if err != nil || !slices.Equal(got.Conversations, []parley.ConversationID{c1, c2, c3}) {
		t.Fatalf("links = %v, %v", got.Conversations, err)
	}
	if err := s.LinkBlob(t.Context(), parley.NewBlobID(), c1); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("LinkBlob of a missing blob: %v", err)
	}
	if err := s.ReferenceBlob(t.Context(), parley.NewBlobID(), c1, 1); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("ReferenceBlob of a missing blob: %v", err)
	}
}

func testUsage(t *testing.T, s Store) {
	MustCreate(t, s, blob(1, 100, t0, true))
	MustCreate(t, s, blob(1, 50, t0, false))
	MustCreate(t, s, blob(2, 7, t0, true))
	for user, want := range map[parley.UserID]int64{1: 150, 2: 7, 3: 0} {
		if got, err := s.MediaUsage(t.Context(), user); err != nil || got != want {
			t.Errorf("MediaUsage(%d) = %d, %v; want %d", user, got, err, want)
		}
	}
}

func testSweep(t *testing.T, s Store) {
	ctx := t.Context()
	conv := MustConversation(t, s, 1, 2)
	old, recent := t0, t0.Add(48*time.Hour)
	seq := MustAppend(t, s, conv, 1, old)

	unreferenced := MustCreate(t, s, blob(1, 10, old, true, conv))
	undelivered := MustCreate(t, s, blob(1, 10, old, true, conv))
	if err := s.ReferenceBlob(ctx, undelivered.ID, conv, seq); err != nil {
		t.Fatal(err)
	}
	expired := MustCreate(t, s, blob(1, 10, old.Add(-31*24*time.Hour), true, conv)) // past the log's retention
	if err := s.ReferenceBlob(ctx, expired.ID, conv, seq); err != nil {
		t.Fatal(err)
	}
	young := MustCreate(t, s, blob(1, 10, recent, true, conv))
	abandoned := MustCreate(t, s, blob(1, 10, old, false, conv))
	uploading := MustCreate(t, s, blob(1, 10, recent, false, conv))
	_ = young
	_ = uploading

	sweep := parley.BlobSweep{Before: t0.Add(24 * time.Hour), Expired: t0.Add(-30 * 24 * time.Hour), Abandoned: t0.Add(24 * time.Hour)}
	want := []parley.BlobID{unreferenced.ID, expired.ID, abandoned.ID}
	check := func(want []parley.BlobID) {
		t.Helper()
		got, err := s.SweepableBlobs(ctx, sweep)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		want = slices.Sorted(slices.Values(want))
		if !slices.Equal(got, want) {
			t.Fatalf("SweepableBlobs = %v, want %v", got, want)
		}
	}
	check(want)

	// Delivered to device 2 only: still held for device 1.
	if err := s.Ack(ctx, conv, 2, seq); err != nil {
		t.Fatal(err)
	}
	check(want)
	if err := s.Ack(ctx, conv, 1, seq); err != nil {
		t.Fatal(err)
	}
	check(append(want, undelivered.ID))

	sweep.Limit = 2
	if got, err := s.SweepableBlobs(ctx, sweep); err != nil || len(got) != 2 {
		t.Fatalf("SweepableBlobs with Limit 2 = %v, %v", got, err)
	}
}

func testDelete(t *testing.T, s Store) {
	conv := MustConversation(t, s, 1)
	b := MustCreate(t, s, blob(1, 10, t0, true, conv))
	if err := s.ReferenceBlob(t.Context(), b.ID, conv, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteBlob(t.Context(), b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Blob(t.Context(), b.ID); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("Blob after DeleteBlob: %v", err)
	}
	if err := s.DeleteBlob(t.Context(), b.ID); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("second DeleteBlob: %v", err)
	}
	// The ID can be used again (links and references went with the record).
	if err := s.CreateBlob(t.Context(), b); err != nil {
		t.Fatal(err)
	}
}
