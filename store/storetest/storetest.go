// Package storetest is the one contract suite for parley.Store: every
// implementation (store/sqlite, store/postgres) runs it from its own tests,
// so they all give the guarantees documented in the parley package.
//
// It checks every method and every documented guarantee: not-found codes,
// conflicts (phone, username compared case-insensitively, wrong epoch),
// idempotent Append with the original Seq, consecutive Seqs per conversation
// across batches mixing conversations and under concurrent appends (no gaps,
// no duplicates), exactly one winner among concurrent commits for an epoch,
// FromSeq/Recipients/Cursor semantics, Pending, monotonic Ack and MarkRead,
// KeyPackage claim order and last-resort reuse, RevokeDevice, single-use link
// codes, Prune, and persistence across Close and reopen.
package storetest

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// Run runs the contract suite, one subtest per guarantee. open returns a
// Store over fresh, empty storage for the subtest t; the suite closes it.
// Calling open again with the same t (after the suite closed the first
// Store) must return a Store over the same storage: that is how the suite
// checks persistence across Close and reopen.
func Run(t *testing.T, open func(t *testing.T) parley.Store) {
	tests := []struct {
		name string
		f    func(t *testing.T, s parley.Store)
	}{
		{"Verification", testVerification},
		{"EventCounters", testEventCounters},
		{"EventCountersConcurrent", testEventCountersConcurrent},
		{"CreateUser", testCreateUser},
		{"UpdateUser", testUpdateUser},
		{"ProfilePhoto", testProfilePhoto},
		{"Devices", testDevices},
		{"RevokeDevice", testRevokeDevice},
		{"LinkCode", testLinkCode},
		{"LinkCodeConcurrentTake", testLinkCodeConcurrent},
		{"Contacts", testContacts},
		{"Blocks", testBlocks},
		{"KeyPackages", testKeyPackages},
		{"KeyPackagesConcurrentClaim", testKeyPackagesConcurrent},
		{"CreateConversation", testCreateConversation},
		{"DirectConversation", testDirectConversation},
		{"ConversationsOfUser", testConversationsOfUser},
		{"DirectUsersKept", testDirectUsersKept}, // backup.go
		{"ClientBackup", testClientBackup},       // backup.go
		{"StatusPosts", testStatusPosts},         // status.go
		{"ApplyCommit", testApplyCommit},
		{"ApplyCommitConcurrent", testApplyCommitConcurrent},
		{"AppendSeqs", testAppendSeqs},
		{"AppendIdempotent", testAppendIdempotent},
		{"AppendUnknownConversation", testAppendUnknown},
		{"AppendConcurrent", testAppendConcurrent},
		{"MixedWritesConcurrent", testMixedWritesConcurrent},
		{"ReadLog", testReadLog},
		{"PendingAndAck", testPendingAndAck},
		{"Cursors", testCursors},
		{"AppendEpoch", testAppendEpoch},
		{"MarkRead", testMarkRead},
		{"Prune", testPrune},
		{"PruneOlderThan", testPruneOlderThan},
		{"PruneOlderThanWithGaps", testPruneOlderThanWithGaps},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { _ = s.Close() })
			tc.f(t, s)
		})
	}
	t.Run("Reopen", func(t *testing.T) { testReopen(t, open) })
}

// t0 has nanoseconds: stores must keep full precision.
var t0 = time.Date(2026, 11, 22, 10, 30, 0, 123456789, time.UTC)

func wantCode(t *testing.T, err error, code parley.Code, reason string) {
	t.Helper()
	if got := parley.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
	if reason != "" {
		if got := parley.ErrorReason(err); got != reason {
			t.Fatalf("error %v: reason %q, want %q", err, got, reason)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

var phoneN atomic.Int64

// MustUser creates a user with a fresh phone number.
func MustUser(t *testing.T, s parley.Store) parley.User {
	t.Helper()
	u, err := s.CreateUser(t.Context(), parley.User{Phone: fmt.Sprintf("+4470%08d", phoneN.Add(1)), Name: "user", CreatedAt: t0})
	must(t, err)
	return u
}

// MustDevice creates a device of user.
func MustDevice(t *testing.T, s parley.Store, user parley.UserID) parley.Device {
	t.Helper()
	d, err := s.CreateDevice(t.Context(), parley.Device{User: user, Name: "phone", SecretHash: []byte("h"), IdentityKey: []byte("k"), CreatedAt: t0})
	must(t, err)
	return d
}

// MustGroup creates a group conversation at epoch 1 whose members are devs.
func MustGroup(t *testing.T, s parley.Store, creator parley.UserID, devs ...parley.Device) parley.ConversationID {
	t.Helper()
	id := parley.NewConversationID()
	var ms []parley.Member
	for _, d := range devs {
		ms = append(ms, parley.Member{User: d.User, Device: d.ID})
	}
	_, err := s.CreateConversation(t.Context(), parley.Conversation{ID: id, Kind: parley.KindGroup, Epoch: 1, CreatedBy: creator, CreatedAt: t0}, ms, nil)
	must(t, err)
	return id
}

func env(c parley.ConversationID, d parley.Device, cid string) parley.Envelope {
	return parley.Envelope{Conversation: c, Sender: d.User, SenderDevice: d.ID, ClientID: parley.ClientMessageID(cid),
		Kind: parley.EnvelopeApplication, Epoch: 1, Payload: []byte("ciphertext " + cid), CreatedAt: t0}
}

// MustAppend appends envs and fails on any error, including per-envelope ones.
func MustAppend(t *testing.T, s parley.Store, envs ...parley.Envelope) []parley.AppendResult {
	t.Helper()
	rs, err := s.Append(t.Context(), envs)
	must(t, err)
	if len(rs) != len(envs) {
		t.Fatalf("Append returned %d results for %d envelopes", len(rs), len(envs))
	}
	for i, r := range rs {
		if r.Err != nil {
			t.Fatalf("Append result %d: %v", i, r.Err)
		}
	}
	return rs
}

func seqs(rs []parley.AppendResult) []parley.Seq {
	var out []parley.Seq
	for _, r := range rs {
		out = append(out, r.Seq)
	}
	return out
}

func testVerification(t *testing.T, s parley.Store) {
	ctx := t.Context()
	_, err := s.Verification(ctx, "+15550001")
	wantCode(t, err, parley.CodeNotFound, "")
	v := parley.Verification{Phone: "+15550001", CodeHash: []byte("hash1"), Name: "Ann", Attempts: 1, Sent: 2, WindowAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}
	must(t, s.PutVerification(ctx, v))
	got, err := s.Verification(ctx, v.Phone)
	must(t, err)
	equal(t, "verification", got, v)
	v.CodeHash, v.Attempts, v.Sent = []byte("hash2"), 0, 3
	must(t, s.PutVerification(ctx, v))
	got, err = s.Verification(ctx, v.Phone)
	must(t, err)
	equal(t, "replaced verification", got, v)
	must(t, s.DeleteVerification(ctx, v.Phone))
	_, err = s.Verification(ctx, v.Phone)
	wantCode(t, err, parley.CodeNotFound, "")
}

func testCreateUser(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u := parley.User{Phone: "+15551234", Name: "Ann", Username: "AnnB", Privacy: parley.Privacy{FindByPhone: parley.VisibleContacts, LastSeen: parley.VisibleNobody},
		PINHash: []byte("pin"), CreatedAt: t0, LastSeenAt: t0.Add(time.Hour)}
	got, err := s.CreateUser(ctx, u)
	must(t, err)
	if got.ID < parley.MinRandomUserID || got.ID > parley.MaxUserID {
		t.Fatalf("CreateUser returned ID %d, want a random ID in [%d, %d]", got.ID, parley.MinRandomUserID, parley.MaxUserID)
	}
	u.ID = got.ID
	equal(t, "created user", got, u)
	for name, get := range map[string]func() (parley.User, error){
		"User":                      func() (parley.User, error) { return s.User(ctx, u.ID) },
		"UserByPhone":               func() (parley.User, error) { return s.UserByPhone(ctx, u.Phone) },
		"UserByUsername":            func() (parley.User, error) { return s.UserByUsername(ctx, "AnnB") },
		"UserByUsername/lower-case": func() (parley.User, error) { return s.UserByUsername(ctx, "annb") },
		"UserByUsername/upper-case": func() (parley.User, error) { return s.UserByUsername(ctx, "ANNB") },
	} {
		got, err := get()
		must(t, err)
		equal(t, name, got, u)
	}

	_, err = s.CreateUser(ctx, parley.User{Phone: u.Phone, Name: "Other", CreatedAt: t0})
	wantCode(t, err, parley.CodeConflict, "phone_taken")

	v, err := s.CreateUser(ctx, parley.User{Phone: "+15559999", Name: "Bob", CreatedAt: t0})
	must(t, err)
	if v.ID == u.ID || v.ID == 0 {
		t.Fatalf("second user ID %d (first %d)", v.ID, u.ID)
	}
	if v.Username != "" {
		t.Fatalf("username %q", v.Username)
	}
	_, err = s.CreateUser(ctx, parley.User{Phone: "+15558888", Name: "Eve", Username: "annb", CreatedAt: t0})
	wantCode(t, err, parley.CodeConflict, "username_taken")

	_, err = s.User(ctx, 999999)
	wantCode(t, err, parley.CodeNotFound, "")
	_, err = s.UserByPhone(ctx, "+10000000")
	wantCode(t, err, parley.CodeNotFound, "")
	_, err = s.UserByUsername(ctx, "nobody")
	wantCode(t, err, parley.CodeNotFound, "")
	_, err = s.UserByUsername(ctx, "")
	wantCode(t, err, parley.CodeNotFound, "")
}

func testUpdateUser(t *testing.T, s parley.Store) {
	ctx := t.Context()
	a, b := MustUser(t, s), MustUser(t, s)
	a.Name, a.Username, a.PINHash, a.LastSeenAt = "New name", "Alice", []byte("pinhash"), t0.Add(time.Minute)
	a.Privacy = parley.Privacy{FindByPhone: parley.VisibleNobody, LastSeen: parley.VisibleContacts, Photo: parley.VisibleNobody}
	a.About = "Out walking"
	must(t, s.UpdateUser(ctx, a))
	got, err := s.User(ctx, a.ID)
	must(t, err)
	equal(t, "updated user", got, a)

	b.Username = "ALICE"
	wantCode(t, s.UpdateUser(ctx, b), parley.CodeConflict, "username_taken")

	// A user may change the case of their own username.
	a.Username = "aLiCe"
	must(t, s.UpdateUser(ctx, a))
	got, err = s.UserByUsername(ctx, "alice")
	must(t, err)
	equal(t, "username case kept", got.Username, "aLiCe")

	// Clearing a username frees it.
	a.Username = ""
	must(t, s.UpdateUser(ctx, a))
	_, err = s.UserByUsername(ctx, "alice")
	wantCode(t, err, parley.CodeNotFound, "")
	must(t, s.UpdateUser(ctx, b))
	got, err = s.UserByUsername(ctx, "Alice")
	must(t, err)
	equal(t, "new owner", got.ID, b.ID)

	// Two users without a username do not conflict.
	c := MustUser(t, s)
	c.Name = "c"
	must(t, s.UpdateUser(ctx, c))

	wantCode(t, s.UpdateUser(ctx, parley.User{ID: 999999, Name: "ghost"}), parley.CodeNotFound, "")
}

func testProfilePhoto(t *testing.T, s parley.Store) {
	ctx := t.Context()
	a := MustUser(t, s)
	_, err := s.ProfilePhoto(ctx, a.ID)
	wantCode(t, err, parley.CodeNotFound, "")
	must(t, s.SetProfilePhoto(ctx, a.ID, []byte("jpeg one"), "tag1"))
	must(t, s.SetProfilePhoto(ctx, a.ID, []byte("jpeg two"), "tag2"))
	got, err := s.ProfilePhoto(ctx, a.ID)
	must(t, err)
	equal(t, "photo", string(got), "jpeg two")
	u, err := s.User(ctx, a.ID)
	must(t, err)
	equal(t, "tag", u.PhotoTag, "tag2")

	// UpdateUser leaves the photo alone.
	u.Name = "Renamed"
	must(t, s.UpdateUser(ctx, u))
	u, err = s.User(ctx, a.ID)
	must(t, err)
	equal(t, "tag after update", u.PhotoTag, "tag2")

	must(t, s.SetProfilePhoto(ctx, a.ID, nil, ""))
	_, err = s.ProfilePhoto(ctx, a.ID)
	wantCode(t, err, parley.CodeNotFound, "")
	u, err = s.User(ctx, a.ID)
	must(t, err)
	equal(t, "tag removed", u.PhotoTag, "")
	wantCode(t, s.SetProfilePhoto(ctx, 999999, []byte("x"), "t"), parley.CodeNotFound, "")
}

func testDevices(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u := MustUser(t, s)
	d1 := parley.Device{User: u.ID, Name: "phone", Primary: true, SecretHash: []byte("secret"), IdentityKey: []byte("ik1"), CreatedAt: t0}
	got, err := s.CreateDevice(ctx, d1)
	must(t, err)
	if got.ID == 0 {
		t.Fatal("device ID 0")
	}
	d1.ID = got.ID
	equal(t, "created device", got, d1)
	got, err = s.Device(ctx, d1.ID)
	must(t, err)
	equal(t, "device", got, d1)
	if !got.Active() {
		t.Fatal("new device not active")
	}
	d2 := MustDevice(t, s, u.ID)
	other := MustDevice(t, s, MustUser(t, s).ID)
	if d2.ID == d1.ID || other.ID == d1.ID || other.ID == d2.ID {
		t.Fatalf("device IDs not unique: %d %d %d", d1.ID, d2.ID, other.ID)
	}
	ds, err := s.Devices(ctx, u.ID)
	must(t, err)
	equal(t, "devices", ds, []parley.Device{d1, d2})

	_, err = s.Device(ctx, 999999)
	wantCode(t, err, parley.CodeNotFound, "")
	_, err = s.CreateDevice(ctx, parley.Device{User: 999999, Name: "orphan", SecretHash: []byte("s"), IdentityKey: []byte("k")})
	wantCode(t, err, parley.CodeNotFound, "")
	ds, err = s.Devices(ctx, 999999)
	must(t, err)
	if len(ds) != 0 {
		t.Fatalf("devices of unknown user: %v", ds)
	}
}

func testRevokeDevice(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u, v := MustUser(t, s), MustUser(t, s)
	d, d2, dv := MustDevice(t, s, u.ID), MustDevice(t, s, u.ID), MustDevice(t, s, v.ID)
	c1 := MustGroup(t, s, u.ID, d, d2, dv)
	c2 := MustGroup(t, s, u.ID, d, dv)
	c3 := MustGroup(t, s, v.ID, dv)
	must(t, s.AddKeyPackages(ctx, d.ID, []parley.KeyPackage{{Ref: []byte("r"), Data: []byte("kp")}}))

	at := t0.Add(time.Hour)
	convs, err := s.RevokeDevice(ctx, d.ID, at)
	must(t, err)
	want := []parley.ConversationID{c1, c2}
	slices.Sort(want)
	slices.Sort(convs)
	equal(t, "conversations left", convs, want)
	for _, c := range want {
		_, err := s.Member(ctx, c, d.ID)
		wantCode(t, err, parley.CodeNotFound, "")
	}
	ms, err := s.Members(ctx, c1)
	must(t, err)
	if len(ms) != 2 {
		t.Fatalf("members of c1 after revoke: %+v", ms)
	}
	got, err := s.Device(ctx, d.ID)
	must(t, err)
	if got.Active() || !got.RevokedAt.Equal(at) {
		t.Fatalf("revoked device: RevokedAt %v, want %v", got.RevokedAt, at)
	}
	ds, err := s.Devices(ctx, u.ID)
	must(t, err)
	if len(ds) != 2 {
		t.Fatalf("Devices must include revoked ones: %+v", ds)
	}
	if _, err := s.Member(ctx, c3, dv.ID); err != nil {
		t.Fatalf("other device lost membership: %v", err)
	}

	// Revoking twice is a no-op.
	convs, err = s.RevokeDevice(ctx, d.ID, at.Add(time.Hour))
	must(t, err)
	if len(convs) != 0 {
		t.Fatalf("second revoke returned %v", convs)
	}
	got, err = s.Device(ctx, d.ID)
	must(t, err)
	if !got.RevokedAt.Equal(at) {
		t.Fatalf("second revoke changed RevokedAt to %v", got.RevokedAt)
	}
	_, err = s.RevokeDevice(ctx, 999999, at)
	wantCode(t, err, parley.CodeNotFound, "")
}

func testLinkCode(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u := MustUser(t, s)
	c := parley.LinkCode{CodeHash: []byte("codehash"), User: u.ID, ExpiresAt: t0.Add(5 * time.Minute)}
	must(t, s.PutLinkCode(ctx, c))
	got, err := s.TakeLinkCode(ctx, c.CodeHash)
	must(t, err)
	equal(t, "link code", got, c)
	_, err = s.TakeLinkCode(ctx, c.CodeHash)
	wantCode(t, err, parley.CodeNotFound, "")
	_, err = s.TakeLinkCode(ctx, []byte("unknown"))
	wantCode(t, err, parley.CodeNotFound, "")
}

func testLinkCodeConcurrent(t *testing.T, s parley.Store) {
	u := MustUser(t, s)
	code := []byte("race")
	must(t, s.PutLinkCode(t.Context(), parley.LinkCode{CodeHash: code, User: u.ID, ExpiresAt: t0}))
	errs := concurrently(8, func(int) error {
		_, err := s.TakeLinkCode(t.Context(), code)
		return err
	})
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
		} else {
			wantCode(t, err, parley.CodeNotFound, "")
		}
	}
	if wins != 1 {
		t.Fatalf("%d concurrent takes succeeded, want 1", wins)
	}
}

// concurrently runs f(0..n-1) in n goroutines released together and returns
// their errors.
func concurrently(n int, f func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = f(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// sortedIDs returns ids in ascending order, the order of the stores' lists
// of users (IDs are random, so creation order is not ID order).
func sortedIDs(ids ...parley.UserID) []parley.UserID {
	slices.Sort(ids)
	return ids
}

func testContacts(t *testing.T, s parley.Store) {
	ctx := t.Context()
	a, b, c := MustUser(t, s).ID, MustUser(t, s).ID, MustUser(t, s).ID
	must(t, s.AddContact(ctx, a, c))
	must(t, s.AddContact(ctx, a, b))
	must(t, s.AddContact(ctx, a, b)) // idempotent
	got, err := s.Contacts(ctx, a)
	must(t, err)
	equal(t, "contacts", got, sortedIDs(b, c))
	if ok, err := s.IsContact(ctx, a, b); err != nil || !ok {
		t.Fatalf("IsContact(a, b) = %v, %v", ok, err)
	}
	if ok, err := s.IsContact(ctx, b, a); err != nil || ok {
		t.Fatalf("IsContact(b, a) = %v, %v: contacts are one-way", ok, err)
	}
	must(t, s.RemoveContact(ctx, a, b))
	must(t, s.RemoveContact(ctx, a, b))
	got, err = s.Contacts(ctx, a)
	must(t, err)
	equal(t, "contacts after remove", got, []parley.UserID{c})
	got, err = s.Contacts(ctx, b)
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("contacts of b: %v", got)
	}
}

func testBlocks(t *testing.T, s parley.Store) {
	ctx := t.Context()
	a, b, c := MustUser(t, s).ID, MustUser(t, s).ID, MustUser(t, s).ID
	must(t, s.Block(ctx, a, c))
	must(t, s.Block(ctx, a, b))
	must(t, s.Block(ctx, a, b)) // idempotent
	got, err := s.Blocked(ctx, a)
	must(t, err)
	equal(t, "blocked", got, sortedIDs(b, c))
	if ok, err := s.IsBlocked(ctx, a, b); err != nil || !ok {
		t.Fatalf("IsBlocked(a, b) = %v, %v", ok, err)
	}
	if ok, err := s.IsBlocked(ctx, b, a); err != nil || ok {
		t.Fatalf("IsBlocked(b, a) = %v, %v", ok, err)
	}
	must(t, s.Unblock(ctx, a, b))
	must(t, s.Unblock(ctx, a, b))
	if ok, err := s.IsBlocked(ctx, a, b); err != nil || ok {
		t.Fatalf("IsBlocked after unblock = %v, %v", ok, err)
	}
	got, err = s.Blocked(ctx, a)
	must(t, err)
	equal(t, "blocked after unblock", got, []parley.UserID{c})
}

func kp(d parley.DeviceID, name string, last bool) parley.KeyPackage {
	return parley.KeyPackage{Device: d, Ref: []byte("ref-" + name), Data: []byte("kp-" + name), LastResort: last}
}

func testKeyPackages(t *testing.T, s parley.Store) {
	ctx := t.Context()
	d := MustDevice(t, s, MustUser(t, s).ID).ID
	other := MustDevice(t, s, MustUser(t, s).ID).ID
	_, err := s.ClaimKeyPackage(ctx, d)
	wantCode(t, err, parley.CodeNotFound, "")
	must(t, s.AddKeyPackages(ctx, d, []parley.KeyPackage{kp(d, "1", false), kp(d, "2", false), kp(d, "last1", true)}))
	must(t, s.AddKeyPackages(ctx, d, []parley.KeyPackage{kp(d, "3", false)}))
	must(t, s.AddKeyPackages(ctx, other, []parley.KeyPackage{kp(other, "x", false)}))
	n, err := s.CountKeyPackages(ctx, d)
	must(t, err)
	equal(t, "count", n, 3)
	for _, name := range []string{"1", "2", "3"} {
		got, err := s.ClaimKeyPackage(ctx, d)
		must(t, err)
		equal(t, "claim "+name, got, kp(d, name, false))
	}
	n, err = s.CountKeyPackages(ctx, d)
	must(t, err)
	equal(t, "count after claims", n, 0)
	for range 2 {
		got, err := s.ClaimKeyPackage(ctx, d)
		must(t, err)
		equal(t, "last resort", got, kp(d, "last1", true))
	}
	// A new last-resort KeyPackage replaces the old one.
	must(t, s.AddKeyPackages(ctx, d, []parley.KeyPackage{kp(d, "last2", true)}))
	got, err := s.ClaimKeyPackage(ctx, d)
	must(t, err)
	equal(t, "new last resort", got, kp(d, "last2", true))
	n, err = s.CountKeyPackages(ctx, d)
	must(t, err)
	equal(t, "last resort not counted", n, 0)
	// New one-time KeyPackages are claimed before the last-resort one.
	must(t, s.AddKeyPackages(ctx, d, []parley.KeyPackage{kp(d, "4", false)}))
	got, err = s.ClaimKeyPackage(ctx, d)
	must(t, err)
	equal(t, "one-time before last resort", got, kp(d, "4", false))

	got, err = s.ClaimKeyPackage(ctx, other)
	must(t, err)
	equal(t, "other device", got, kp(other, "x", false))
	_, err = s.ClaimKeyPackage(ctx, other)
	wantCode(t, err, parley.CodeNotFound, "")
	n, err = s.CountKeyPackages(ctx, 999999)
	must(t, err)
	equal(t, "count unknown device", n, 0)
}

func testKeyPackagesConcurrent(t *testing.T, s parley.Store) {
	d := MustDevice(t, s, MustUser(t, s).ID).ID
	const n = 10
	var kps []parley.KeyPackage
	for i := range n {
		kps = append(kps, kp(d, fmt.Sprint(i), false))
	}
	must(t, s.AddKeyPackages(t.Context(), d, kps))
	got := make([]parley.KeyPackage, n)
	errs := concurrently(n, func(i int) error {
		var err error
		got[i], err = s.ClaimKeyPackage(t.Context(), d)
		return err
	})
	seen := map[string]bool{}
	for i, err := range errs {
		must(t, err)
		if seen[string(got[i].Ref)] {
			t.Fatalf("KeyPackage %s claimed twice", got[i].Ref)
		}
		seen[string(got[i].Ref)] = true
	}
}

func testCreateConversation(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u, v := MustUser(t, s), MustUser(t, s)
	du, dv := MustDevice(t, s, u.ID), MustDevice(t, s, v.ID)
	c := parley.Conversation{ID: parley.NewConversationID(), Kind: parley.KindGroup, Epoch: 1, GroupInfo: []byte("gi1"), CreatedBy: u.ID, CreatedAt: t0}
	members := []parley.Member{{User: u.ID, Device: du.ID}, {User: v.ID, Device: dv.ID}}
	commit := env(c.ID, du, "commit")
	commit.Kind = parley.EnvelopeCommit
	welcome := env(c.ID, du, "welcome")
	welcome.Kind, welcome.Recipients = parley.EnvelopeWelcome, []parley.DeviceID{dv.ID}
	got, err := s.CreateConversation(ctx, c, members, []parley.Envelope{commit, welcome})
	must(t, err)
	commit.Seq, welcome.Seq = 1, 2
	equal(t, "first envelopes", got, []parley.Envelope{commit, welcome})

	c.LastSeq = 2
	gotc, err := s.Conversation(ctx, c.ID)
	must(t, err)
	equal(t, "conversation", gotc, c)
	log, err := s.ReadLog(ctx, c.ID, 0, 10)
	must(t, err)
	equal(t, "log", log, []parley.Envelope{commit, welcome})

	ms, err := s.Members(ctx, c.ID)
	must(t, err)
	slices.SortFunc(ms, func(a, b parley.Member) int { return int(a.Device - b.Device) })
	want := []parley.Member{{Conversation: c.ID, User: u.ID, Device: du.ID}, {Conversation: c.ID, User: v.ID, Device: dv.ID}}
	equal(t, "members", ms, want)
	m, err := s.Member(ctx, c.ID, dv.ID)
	must(t, err)
	equal(t, "member", m, want[1])

	_, err = s.CreateConversation(ctx, c, members, nil)
	wantCode(t, err, parley.CodeConflict, "conversation_exists")
	// The failed create changed nothing.
	gotc, err = s.Conversation(ctx, c.ID)
	must(t, err)
	equal(t, "conversation after conflict", gotc, c)

	stranger := MustDevice(t, s, MustUser(t, s).ID)
	_, err = s.Member(ctx, c.ID, stranger.ID)
	wantCode(t, err, parley.CodeNotFound, "")
	_, err = s.Conversation(ctx, "cnosuchconversation")
	wantCode(t, err, parley.CodeNotFound, "")
	_, err = s.Member(ctx, "cnosuchconversation", du.ID)
	wantCode(t, err, parley.CodeNotFound, "")
}

func direct(t *testing.T, s parley.Store, a, b parley.Device) (parley.ConversationID, error) {
	t.Helper()
	id := parley.NewConversationID()
	ms := []parley.Member{{User: a.User, Device: a.ID}}
	if b.ID != a.ID {
		ms = append(ms, parley.Member{User: b.User, Device: b.ID})
	}
	_, err := s.CreateConversation(t.Context(), parley.Conversation{ID: id, Kind: parley.KindDirect, Epoch: 1, CreatedBy: a.User, CreatedAt: t0}, ms, nil)
	return id, err
}

func testDirectConversation(t *testing.T, s parley.Store) {
	ctx := t.Context()
	a, b, c := MustDevice(t, s, MustUser(t, s).ID), MustDevice(t, s, MustUser(t, s).ID), MustDevice(t, s, MustUser(t, s).ID)
	ab, err := direct(t, s, a, b)
	must(t, err)
	self, err := direct(t, s, a, a)
	must(t, err)
	MustGroup(t, s, a.User, a, c) // a group is not a direct conversation
	for _, tc := range []struct {
		x, y parley.UserID
		want parley.ConversationID
	}{{a.User, b.User, ab}, {b.User, a.User, ab}, {a.User, a.User, self}} {
		got, err := s.DirectConversation(ctx, tc.x, tc.y)
		must(t, err)
		equal(t, fmt.Sprintf("DirectConversation(%d, %d)", tc.x, tc.y), got, tc.want)
	}
	for _, pair := range [][2]parley.UserID{{a.User, c.User}, {b.User, b.User}, {b.User, c.User}} {
		_, err := s.DirectConversation(ctx, pair[0], pair[1])
		wantCode(t, err, parley.CodeNotFound, "")
	}
	// One direct conversation per pair of users: a second is a conflict, so
	// two users starting a chat at once cannot fork it.
	_, err = direct(t, s, b, a)
	wantCode(t, err, parley.CodeConflict, "direct_exists")
	_, err = direct(t, s, a, a)
	wantCode(t, err, parley.CodeConflict, "direct_exists")
}

func testConversationsOfUser(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u, v := MustUser(t, s).ID, MustUser(t, s).ID
	u1, u2, v1 := MustDevice(t, s, u), MustDevice(t, s, u), MustDevice(t, s, v)
	c1 := MustGroup(t, s, u, u1, v1)
	c2 := MustGroup(t, s, u, u1, u2) // two devices of u: listed once
	c3 := MustGroup(t, s, v, u2)
	MustGroup(t, s, v, v1)
	cs, err := s.ConversationsOfUser(ctx, u)
	must(t, err)
	var ids []parley.ConversationID
	for _, c := range cs {
		ids = append(ids, c.ID)
		if c.Kind != parley.KindGroup || c.Epoch != 1 {
			t.Fatalf("conversation %+v", c)
		}
	}
	slices.Sort(ids)
	want := []parley.ConversationID{c1, c2, c3}
	slices.Sort(want)
	equal(t, "conversations of user", ids, want)
	cs, err = s.ConversationsOfUser(ctx, 999999)
	must(t, err)
	if len(cs) != 0 {
		t.Fatalf("conversations of unknown user: %v", cs)
	}
}

func testApplyCommit(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u, v := MustUser(t, s).ID, MustUser(t, s).ID
	a, b, nu := MustDevice(t, s, u), MustDevice(t, s, v), MustDevice(t, s, v)
	id := MustGroup(t, s, u, a, b)
	MustAppend(t, s, env(id, a, "m1"), env(id, b, "m2")) // seqs 1, 2

	commit := env(id, a, "c1")
	commit.Kind = parley.EnvelopeCommit
	welcome := env(id, a, "w1")
	welcome.Kind, welcome.Recipients = parley.EnvelopeWelcome, []parley.DeviceID{nu.ID}

	_, err := s.ApplyCommit(ctx, parley.Commit{Conversation: id, Epoch: 2, Envelopes: []parley.Envelope{commit}})
	wantCode(t, err, parley.CodeConflict, "wrong_epoch")
	_, err = s.ApplyCommit(ctx, parley.Commit{Conversation: id, Epoch: 0, Envelopes: []parley.Envelope{commit}})
	wantCode(t, err, parley.CodeConflict, "wrong_epoch")
	_, err = s.ApplyCommit(ctx, parley.Commit{Conversation: "cnosuchconversation", Epoch: 1})
	wantCode(t, err, parley.CodeNotFound, "")

	got, err := s.ApplyCommit(ctx, parley.Commit{
		Conversation: id, Epoch: 1,
		Add:       []parley.Member{{User: v, Device: nu.ID}},
		Remove:    []parley.DeviceID{b.ID},
		GroupInfo: []byte("gi2"),
		Envelopes: []parley.Envelope{commit, welcome},
	})
	must(t, err)
	commit.Seq, welcome.Seq = 3, 4
	equal(t, "commit envelopes", got, []parley.Envelope{commit, welcome})

	c, err := s.Conversation(ctx, id)
	must(t, err)
	if c.Epoch != 2 || c.LastSeq != 4 || !bytes.Equal(c.GroupInfo, []byte("gi2")) {
		t.Fatalf("after commit: epoch %d last seq %d group info %q", c.Epoch, c.LastSeq, c.GroupInfo)
	}
	_, err = s.Member(ctx, id, b.ID)
	wantCode(t, err, parley.CodeNotFound, "")
	m, err := s.Member(ctx, id, nu.ID)
	must(t, err)
	// The added device gets what follows the commit: the Welcome, not the commit.
	if m.FromSeq != 3 || m.Cursor != m.FromSeq {
		t.Fatalf("added member %+v: want FromSeq 3 (the commit's Seq) and Cursor = FromSeq", m)
	}
	log, err := s.ReadLog(ctx, id, 0, 100)
	must(t, err)
	if len(log) != 4 {
		t.Fatalf("log has %d envelopes", len(log))
	}

	// The same epoch again: conflict, and nothing changes.
	_, err = s.ApplyCommit(ctx, parley.Commit{Conversation: id, Epoch: 1, Remove: []parley.DeviceID{a.ID}, Envelopes: []parley.Envelope{env(id, a, "c1b")}})
	wantCode(t, err, parley.CodeConflict, "wrong_epoch")
	if _, err := s.Member(ctx, id, a.ID); err != nil {
		t.Fatalf("failed commit removed a member: %v", err)
	}
	c2, err := s.Conversation(ctx, id)
	must(t, err)
	equal(t, "conversation after failed commit", c2, c)

	// A commit whose envelope reuses a logged client id is refused whole:
	// applying it without logging the commit would fork the group.
	_, err = s.ApplyCommit(ctx, parley.Commit{Conversation: id, Epoch: 2, Remove: []parley.DeviceID{a.ID}, Envelopes: []parley.Envelope{env(id, a, "m1")}})
	wantCode(t, err, parley.CodeConflict, "duplicate_client_id")
	c2, err = s.Conversation(ctx, id)
	must(t, err)
	equal(t, "conversation after duplicate commit", c2, c)
	if _, err := s.Member(ctx, id, a.ID); err != nil {
		t.Fatalf("refused commit removed a member: %v", err)
	}

	// A commit without envelopes: added devices start at the last Seq.
	other := MustDevice(t, s, u)
	_, err = s.ApplyCommit(ctx, parley.Commit{Conversation: id, Epoch: 2, Add: []parley.Member{{User: u, Device: other.ID}}, GroupInfo: []byte("gi3")})
	must(t, err)
	m, err = s.Member(ctx, id, other.ID)
	must(t, err)
	if m.FromSeq != 4 {
		t.Fatalf("member added without envelopes: FromSeq %d, want 4", m.FromSeq)
	}
	c, err = s.Conversation(ctx, id)
	must(t, err)
	if c.Epoch != 3 {
		t.Fatalf("epoch %d, want 3", c.Epoch)
	}
}

func testApplyCommitConcurrent(t *testing.T, s parley.Store) {
	u := MustUser(t, s).ID
	var devs []parley.Device
	for range 8 {
		devs = append(devs, MustDevice(t, s, u))
	}
	id := MustGroup(t, s, u, devs...)
	errs := concurrently(len(devs), func(i int) error {
		e := env(id, devs[i], "commit")
		e.Kind = parley.EnvelopeCommit
		_, err := s.ApplyCommit(t.Context(), parley.Commit{Conversation: id, Epoch: 1, GroupInfo: []byte{byte(i)},
			Remove: []parley.DeviceID{devs[(i+1)%len(devs)].ID}, Envelopes: []parley.Envelope{e}})
		return err
	})
	winner := -1
	for i, err := range errs {
		if err == nil {
			if winner >= 0 {
				t.Fatalf("commits %d and %d both succeeded", winner, i)
			}
			winner = i
			continue
		}
		wantCode(t, err, parley.CodeConflict, "wrong_epoch")
	}
	if winner < 0 {
		t.Fatal("no commit succeeded")
	}
	c, err := s.Conversation(t.Context(), id)
	must(t, err)
	if c.Epoch != 2 || c.LastSeq != 1 || !bytes.Equal(c.GroupInfo, []byte{byte(winner)}) {
		t.Fatalf("conversation %+v after winner %d", c, winner)
	}
	ms, err := s.Members(t.Context(), id)
	must(t, err)
	if len(ms) != len(devs)-1 {
		t.Fatalf("%d members, want %d", len(ms), len(devs)-1)
	}
	log, err := s.ReadLog(t.Context(), id, 0, 100)
	must(t, err)
	if len(log) != 1 || log[0].SenderDevice != devs[winner].ID {
		t.Fatalf("log %+v: want only the winner's commit", log)
	}
}

func testAppendSeqs(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u := MustUser(t, s).ID
	d := MustDevice(t, s, u)
	a, b := MustGroup(t, s, u, d), MustGroup(t, s, u, d)
	rs := MustAppend(t, s, env(a, d, "a1"), env(b, d, "b1"), env(a, d, "a2"), env(a, d, "a3"), env(b, d, "b2"))
	equal(t, "first batch", seqs(rs), []parley.Seq{1, 1, 2, 3, 2})
	rs = MustAppend(t, s, env(b, d, "b3"), env(a, d, "a4"))
	equal(t, "second batch", seqs(rs), []parley.Seq{3, 4})
	for _, r := range rs {
		if r.Duplicate {
			t.Fatal("fresh envelope marked duplicate")
		}
	}
	for id, want := range map[parley.ConversationID][]string{a: {"a1", "a2", "a3", "a4"}, b: {"b1", "b2", "b3"}} {
		log, err := s.ReadLog(ctx, id, 0, 100)
		must(t, err)
		var got []string
		for i, e := range log {
			if e.Seq != parley.Seq(i+1) || e.Conversation != id {
				t.Fatalf("envelope %d: %+v", i, e)
			}
			got = append(got, string(e.ClientID))
		}
		equal(t, "log order", got, want)
		c, err := s.Conversation(ctx, id)
		must(t, err)
		equal(t, "LastSeq", c.LastSeq, parley.Seq(len(want)))
	}
	rs, err := s.Append(ctx, nil)
	must(t, err)
	if len(rs) != 0 {
		t.Fatalf("empty append: %v", rs)
	}
}

func testAppendIdempotent(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u := MustUser(t, s).ID
	d, d2 := MustDevice(t, s, u), MustDevice(t, s, u)
	a, b := MustGroup(t, s, u, d, d2), MustGroup(t, s, u, d)
	MustAppend(t, s, env(a, d, "x"), env(a, d, "y"))
	retry := env(a, d, "x")
	retry.Payload = []byte("different payload: the original wins")
	rs := MustAppend(t, s,
		env(a, d, "z"),  // new: 3
		retry,           // duplicate of 1
		env(a, d2, "x"), // another device's "x": new, 4
		env(b, d, "x"),  // another conversation's "x": new, 1
		env(a, d, "z"),  // duplicate within the batch: 3
		env(a, d, "w"),  // new: 5, no gap left by the duplicates
	)
	want := []parley.AppendResult{{Seq: 3}, {Seq: 1, Duplicate: true}, {Seq: 4}, {Seq: 1}, {Seq: 3, Duplicate: true}, {Seq: 5}}
	equal(t, "results", rs, want)
	log, err := s.ReadLog(ctx, a, 0, 100)
	must(t, err)
	if len(log) != 5 || string(log[0].Payload) != "ciphertext x" {
		t.Fatalf("log %+v", log)
	}
	// Envelopes without a client id are never duplicates.
	sys := parley.Envelope{Conversation: a, Kind: parley.EnvelopeSystem, Payload: []byte("device removed"), CreatedAt: t0}
	rs = MustAppend(t, s, sys, sys)
	equal(t, "system envelopes", rs, []parley.AppendResult{{Seq: 6}, {Seq: 7}})
	c, err := s.Conversation(ctx, a)
	must(t, err)
	equal(t, "LastSeq", c.LastSeq, parley.Seq(7))
}

func testAppendUnknown(t *testing.T, s parley.Store) {
	u := MustUser(t, s).ID
	d := MustDevice(t, s, u)
	a := MustGroup(t, s, u, d)
	rs, err := s.Append(t.Context(), []parley.Envelope{env(a, d, "1"), env("cnosuchconversation", d, "2"), env(a, d, "3")})
	must(t, err)
	if len(rs) != 3 || rs[0].Err != nil || rs[0].Seq != 1 || rs[2].Err != nil || rs[2].Seq != 2 {
		t.Fatalf("results %+v", rs)
	}
	wantCode(t, rs[1].Err, parley.CodeNotFound, "")
}

func testAppendConcurrent(t *testing.T, s parley.Store) {
	u := MustUser(t, s).ID
	const writers, batches, batchSize = 16, 8, 5
	var devs []parley.Device
	for range writers {
		devs = append(devs, MustDevice(t, s, u))
	}
	id, other := MustGroup(t, s, u, devs...), MustGroup(t, s, u, devs...)
	got := make([][]parley.Seq, writers)
	errs := concurrently(writers, func(w int) error {
		for b := range batches {
			var envs []parley.Envelope
			for i := range batchSize {
				envs = append(envs, env(id, devs[w], fmt.Sprintf("%d-%d", b, i)))
				if i == 2 {
					envs = append(envs, env(other, devs[w], fmt.Sprintf("o%d-%d", b, i)))
				}
			}
			rs, err := s.Append(t.Context(), envs)
			if err != nil {
				return err
			}
			var prev parley.Seq
			for i, r := range rs {
				if r.Err != nil || r.Duplicate {
					return fmt.Errorf("result %+v", r)
				}
				if envs[i].Conversation != id {
					continue
				}
				if prev != 0 && r.Seq != prev+1 {
					return fmt.Errorf("batch seqs not consecutive: %d after %d", r.Seq, prev)
				}
				prev = r.Seq
				got[w] = append(got[w], r.Seq)
			}
		}
		return nil
	})
	for _, err := range errs {
		must(t, err)
	}
	var all []parley.Seq
	for _, g := range got {
		all = append(all, g...)
	}
	slices.Sort(all)
	const n = writers * batches * batchSize
	for i, seq := range all {
		if seq != parley.Seq(i+1) {
			t.Fatalf("seqs have a gap or duplicate at %d: %d", i+1, seq)
		}
	}
	if len(all) != n {
		t.Fatalf("%d seqs, want %d", len(all), n)
	}
	log, err := s.ReadLog(t.Context(), id, 0, 2*n)
	must(t, err)
	if len(log) != n || log[n-1].Seq != n {
		t.Fatalf("log has %d envelopes, last %d", len(log), log[len(log)-1].Seq)
	}
	c, err := s.Conversation(t.Context(), other)
	must(t, err)
	equal(t, "other LastSeq", c.LastSeq, parley.Seq(writers*batches))
}

// testMixedWritesConcurrent runs Appends, Acks and MarkReads at once, some
// of them failing (unknown member or conversation): each call's outcome is
// its own.
func testMixedWritesConcurrent(t *testing.T, s parley.Store) {
	const n = 16
	var devs []parley.Device
	var users []parley.UserID
	for range n {
		u := MustUser(t, s).ID
		users = append(users, u)
		devs = append(devs, MustDevice(t, s, u))
	}
	id := MustGroup(t, s, users[0], devs...)
	stranger := MustDevice(t, s, MustUser(t, s).ID)
	acked := make([]parley.Seq, n)
	errs := concurrently(n, func(i int) error {
		for j := range 5 {
			rs, err := s.Append(t.Context(), []parley.Envelope{env(id, devs[i], fmt.Sprint(j))})
			if err != nil {
				return err
			}
			if err := s.Ack(t.Context(), id, devs[i].ID, rs[0].Seq); err != nil {
				return err
			}
			acked[i] = rs[0].Seq
			if err := s.MarkRead(t.Context(), id, users[i], rs[0].Seq); err != nil {
				return err
			}
			if err := s.Ack(t.Context(), id, stranger.ID, rs[0].Seq); !parley.IsCode(err, parley.CodeNotFound) {
				return fmt.Errorf("ack by a non-member: %v", err)
			}
			if err := s.MarkRead(t.Context(), "cnosuchconversation", users[i], 1); !parley.IsCode(err, parley.CodeNotFound) {
				return fmt.Errorf("mark read of an unknown conversation: %v", err)
			}
		}
		return nil
	})
	for _, err := range errs {
		must(t, err)
	}
	marks, err := s.ReadMarks(t.Context(), id)
	must(t, err)
	for i, d := range devs {
		m, err := s.Member(t.Context(), id, d.ID)
		must(t, err)
		if m.Cursor < acked[i] {
			t.Fatalf("device %d: cursor %d, acked %d", i, m.Cursor, acked[i])
		}
		if marks[users[i]] != acked[i] {
			t.Fatalf("user %d: read mark %d, want %d", i, marks[users[i]], acked[i])
		}
	}
	c, err := s.Conversation(t.Context(), id)
	must(t, err)
	equal(t, "LastSeq", c.LastSeq, parley.Seq(5*n))
}

func testReadLog(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u := MustUser(t, s).ID
	d, d2 := MustDevice(t, s, u), MustDevice(t, s, u)
	id := MustGroup(t, s, u, d, d2)
	var want []parley.Envelope
	for i := range 10 {
		e := env(id, d, fmt.Sprint(i))
		if i%3 == 2 {
			// System envelopes carry any epoch; application ones must be
			// of the current epoch (testAppendEpoch).
			e.Kind, e.Epoch = parley.EnvelopeSystem, parley.Epoch(i/3)
		}
		e.CreatedAt = t0.Add(time.Duration(i) * time.Second)
		if i == 4 {
			e.Recipients = []parley.DeviceID{d2.ID, 1 << 40}
			e.Kind = parley.EnvelopeWelcome
		}
		want = append(want, e)
	}
	MustAppend(t, s, want...)
	for i := range want {
		want[i].Seq = parley.Seq(i + 1)
	}
	for _, tc := range []struct {
		after parley.Seq
		limit int
		want  []parley.Envelope
	}{
		{0, 100, want},
		{0, 3, want[:3]},
		{3, 4, want[3:7]},
		{9, 10, want[9:]},
		{10, 10, nil},
		{20, 10, nil},
	} {
		got, err := s.ReadLog(ctx, id, tc.after, tc.limit)
		must(t, err)
		if len(got) == 0 && len(tc.want) == 0 {
			continue
		}
		equal(t, fmt.Sprintf("ReadLog(after %d, limit %d)", tc.after, tc.limit), got, tc.want)
	}
	_, err := s.ReadLog(ctx, "cnosuchconversation", 0, 10)
	wantCode(t, err, parley.CodeNotFound, "")
}

func testPendingAndAck(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u, v := MustUser(t, s).ID, MustUser(t, s).ID
	a, b := MustDevice(t, s, u), MustDevice(t, s, v)
	c1, c2, c3 := MustGroup(t, s, u, a, b), MustGroup(t, s, u, a, b), MustGroup(t, s, u, a)
	_ = c3 // a is a member, nothing is pending there
	pending := func(d parley.Device) []parley.Cursor {
		t.Helper()
		cs, err := s.Pending(ctx, d.ID)
		must(t, err)
		slices.SortFunc(cs, func(x, y parley.Cursor) int {
			if x.Conversation < y.Conversation {
				return -1
			}
			return 1
		})
		return cs
	}
	if cs := pending(a); len(cs) != 0 {
		t.Fatalf("pending before any envelope: %+v", cs)
	}
	MustAppend(t, s, env(c1, a, "1"), env(c1, a, "2"), env(c2, b, "3"))
	want := []parley.Cursor{{Conversation: c1, Device: b.ID, Acked: 0, LastSeq: 2}, {Conversation: c2, Device: b.ID, Acked: 0, LastSeq: 1}}
	slices.SortFunc(want, func(x, y parley.Cursor) int {
		if x.Conversation < y.Conversation {
			return -1
		}
		return 1
	})
	equal(t, "pending b", pending(b), want)

	must(t, s.Ack(ctx, c1, b.ID, 1))
	m, err := s.Member(ctx, c1, b.ID)
	must(t, err)
	equal(t, "cursor", m.Cursor, parley.Seq(1))
	must(t, s.Ack(ctx, c1, b.ID, 0)) // backwards: no-op
	m, err = s.Member(ctx, c1, b.ID)
	must(t, err)
	equal(t, "cursor after backwards ack", m.Cursor, parley.Seq(1))
	must(t, s.Ack(ctx, c1, b.ID, 2))
	must(t, s.Ack(ctx, c2, b.ID, 1))
	if cs := pending(b); len(cs) != 0 {
		t.Fatalf("pending after acking everything: %+v", cs)
	}
	MustAppend(t, s, env(c1, a, "4"))
	equal(t, "pending after new envelope", pending(b), []parley.Cursor{{Conversation: c1, Device: b.ID, Acked: 2, LastSeq: 3}})

	stranger := MustDevice(t, s, MustUser(t, s).ID)
	wantCode(t, s.Ack(ctx, c1, stranger.ID, 1), parley.CodeNotFound, "")
	wantCode(t, s.Ack(ctx, "cnosuchconversation", b.ID, 1), parley.CodeNotFound, "")
	if cs := pending(stranger); len(cs) != 0 {
		t.Fatalf("pending of a device in no conversation: %+v", cs)
	}

	// A device added by a commit has nothing pending from before it joined.
	late := MustDevice(t, s, v)
	commit := env(c1, a, "commit")
	commit.Kind = parley.EnvelopeCommit
	_, err = s.ApplyCommit(ctx, parley.Commit{Conversation: c1, Epoch: 1, Add: []parley.Member{{User: v, Device: late.ID}}, Envelopes: []parley.Envelope{commit}})
	must(t, err)
	if cs := pending(late); len(cs) != 0 {
		t.Fatalf("pending of a device that just joined: %+v", cs)
	}
	afterJoin := env(c1, a, "after join")
	afterJoin.Epoch = 2
	MustAppend(t, s, afterJoin)
	equal(t, "pending of joined device", pending(late), []parley.Cursor{{Conversation: c1, Device: late.ID, Acked: 4, LastSeq: 5}})
}

func testMarkRead(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u, v, w := MustUser(t, s).ID, MustUser(t, s).ID, MustUser(t, s).ID
	u1, u2, v1, w1 := MustDevice(t, s, u), MustDevice(t, s, u), MustDevice(t, s, v), MustDevice(t, s, w)
	id := MustGroup(t, s, u, u1, u2, v1, w1)
	MustAppend(t, s, env(id, u1, "1"), env(id, u1, "2"), env(id, u1, "3"))
	marks, err := s.ReadMarks(ctx, id)
	must(t, err)
	equal(t, "initial marks", marks, map[parley.UserID]parley.Seq{u: 0, v: 0, w: 0})
	must(t, s.MarkRead(ctx, id, v, 2))
	must(t, s.MarkRead(ctx, id, v, 1)) // backwards: no-op
	must(t, s.MarkRead(ctx, id, u, 3))
	marks, err = s.ReadMarks(ctx, id)
	must(t, err)
	equal(t, "marks", marks, map[parley.UserID]parley.Seq{u: 3, v: 2, w: 0})
	must(t, s.MarkRead(ctx, id, v, 3))
	marks, err = s.ReadMarks(ctx, id)
	must(t, err)
	equal(t, "marks after forward", marks[v], parley.Seq(3))
	wantCode(t, s.MarkRead(ctx, "cnosuchconversation", u, 1), parley.CodeNotFound, "")
}

func testPrune(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u := MustUser(t, s).ID
	a, b := MustDevice(t, s, u), MustDevice(t, s, u)
	c1, c2 := MustGroup(t, s, u, a, b), MustGroup(t, s, u, a)
	for i := range 5 {
		MustAppend(t, s, env(c1, a, fmt.Sprint(i)), env(c2, a, fmt.Sprint(i)))
	}
	n, err := s.Prune(ctx, time.Time{})
	must(t, err)
	equal(t, "pruned with nothing acked", n, 0)

	must(t, s.Ack(ctx, c1, a.ID, 5))
	must(t, s.Ack(ctx, c1, b.ID, 3))
	must(t, s.Ack(ctx, c2, a.ID, 2))
	n, err = s.Prune(ctx, time.Time{})
	must(t, err)
	equal(t, "pruned", n, 3+2)
	log, err := s.ReadLog(ctx, c1, 0, 100)
	must(t, err)
	if len(log) != 2 || log[0].Seq != 4 {
		t.Fatalf("c1 log after prune: %+v", log)
	}
	log, err = s.ReadLog(ctx, c2, 0, 100)
	must(t, err)
	if len(log) != 3 || log[0].Seq != 3 {
		t.Fatalf("c2 log after prune: %+v", log)
	}
	n, err = s.Prune(ctx, time.Time{})
	must(t, err)
	equal(t, "second prune", n, 0)

	// Seqs continue after pruning; a removed member no longer holds envelopes back.
	rs := MustAppend(t, s, env(c1, a, "new"))
	equal(t, "seq after prune", rs[0].Seq, parley.Seq(6))
	must(t, s.Ack(ctx, c1, a.ID, 6))
	_, err = s.ApplyCommit(ctx, parley.Commit{Conversation: c1, Epoch: 1, Remove: []parley.DeviceID{b.ID}})
	must(t, err)
	n, err = s.Prune(ctx, time.Time{})
	must(t, err)
	equal(t, "pruned after removal", n, 3)
	c, err := s.Conversation(ctx, c1)
	must(t, err)
	equal(t, "LastSeq after prune", c.LastSeq, parley.Seq(6))
}

func testPruneOlderThan(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u := MustUser(t, s).ID
	a, b := MustDevice(t, s, u), MustDevice(t, s, u)
	id := MustGroup(t, s, u, a, b)
	for i := range 6 {
		e := env(id, a, fmt.Sprint(i))
		e.CreatedAt = t0.Add(time.Duration(i) * time.Hour)
		MustAppend(t, s, e)
	}
	// Nobody acked: only envelopes created before the cut-off go.
	n, err := s.Prune(ctx, t0.Add(3*time.Hour))
	must(t, err)
	equal(t, "pruned by age", n, 3)
	log, err := s.ReadLog(ctx, id, 0, 100)
	must(t, err)
	if len(log) != 3 || log[0].Seq != 4 {
		t.Fatalf("log after prune: %+v", log)
	}
	// Acked by one device only: kept.
	must(t, s.Ack(ctx, id, a.ID, 6))
	n, err = s.Prune(ctx, t0)
	must(t, err)
	equal(t, "pruned with one device behind", n, 0)
}

// testPruneOlderThanWithGaps prunes by age a log interleaving three
// conversations, one of which was already pruned by acknowledgement (holes
// in the log's storage order).
func testPruneOlderThanWithGaps(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u := MustUser(t, s).ID
	d1, d2 := MustDevice(t, s, u), MustDevice(t, s, u)
	convs := []parley.ConversationID{MustGroup(t, s, u, d1), MustGroup(t, s, u, d1), MustGroup(t, s, u, d1, d2)}
	const n = 300
	for i := range n {
		e := env(convs[i%3], d1, fmt.Sprint(i))
		e.CreatedAt = t0.Add(time.Duration(i) * time.Minute)
		MustAppend(t, s, e)
	}
	must(t, s.Ack(ctx, convs[0], d1.ID, n/3))
	pruned, err := s.Prune(ctx, time.Time{})
	must(t, err)
	equal(t, "pruned by acknowledgement", pruned, n/3)

	// Envelopes 0..149 are older than the cut; those of convs[0] are gone.
	pruned, err = s.Prune(ctx, t0.Add(150*time.Minute))
	must(t, err)
	equal(t, "pruned by age", pruned, 100)
	for k, id := range convs[1:] {
		log, err := s.ReadLog(ctx, id, 0, n)
		must(t, err)
		// The first left is envelope 150+k+1 (i%3 == k+1), the 51st of its conversation.
		if len(log) != 50 || log[0].Seq != 51 || !log[0].CreatedAt.Equal(t0.Add(time.Duration(150+k+1)*time.Minute)) {
			t.Fatalf("conversation %d after prune: %d envelopes, first %+v", k+1, len(log), log[0])
		}
	}
	pruned, err = s.Prune(ctx, t0.Add(n*time.Minute))
	must(t, err)
	equal(t, "pruned the rest", pruned, 100)
	pruned, err = s.Prune(ctx, t0.Add(n*time.Minute))
	must(t, err)
	equal(t, "pruned an empty log", pruned, 0)
}

func testReopen(t *testing.T, open func(t *testing.T) parley.Store) {
	ctx := t.Context()
	s := open(t)
	u := MustUser(t, s)
	d := MustDevice(t, s, u.ID)
	id := MustGroup(t, s, u.ID, d)
	MustAppend(t, s, env(id, d, "1"), env(id, d, "2"))
	must(t, s.Ack(ctx, id, d.ID, 1))
	must(t, s.AddKeyPackages(ctx, d.ID, []parley.KeyPackage{kp(d.ID, "1", false)}))
	must(t, s.Close())

	s = open(t)
	t.Cleanup(func() { _ = s.Close() })
	got, err := s.User(ctx, u.ID)
	must(t, err)
	equal(t, "user after reopen", got, u)
	log, err := s.ReadLog(ctx, id, 0, 10)
	must(t, err)
	if len(log) != 2 {
		t.Fatalf("log after reopen: %+v", log)
	}
	m, err := s.Member(ctx, id, d.ID)
	must(t, err)
	equal(t, "cursor after reopen", m.Cursor, parley.Seq(1))
	// Seqs and IDs continue where they were.
	rs := MustAppend(t, s, env(id, d, "3"), env(id, d, "1"))
	equal(t, "append after reopen", rs, []parley.AppendResult{{Seq: 3}, {Seq: 1, Duplicate: true}})
	u2 := MustUser(t, s)
	if u2.ID == u.ID {
		t.Fatal("user ID reused after reopen")
	}
	n, err := s.CountKeyPackages(ctx, d.ID)
	must(t, err)
	equal(t, "key packages after reopen", n, 1)
}

func testCursors(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u, v := MustUser(t, s).ID, MustUser(t, s).ID
	a, b := MustDevice(t, s, u), MustDevice(t, s, v)
	c1, c2 := MustGroup(t, s, u, a, b), MustGroup(t, s, u, a, b)
	if c2 < c1 {
		c1, c2 = c2, c1
	}
	MustAppend(t, s, env(c1, a, "1"), env(c1, a, "2"), env(c2, a, "3"))
	must(t, s.Ack(ctx, c1, b.ID, 1))
	cs, err := s.Cursors(ctx, b.ID)
	must(t, err)
	equal(t, "cursors", cs, []parley.Cursor{
		{Conversation: c1, Device: b.ID, Acked: 1, LastSeq: 2},
		{Conversation: c2, Device: b.ID, Acked: 0, LastSeq: 1},
	})
	// Nothing pending is still listed.
	must(t, s.Ack(ctx, c1, b.ID, 2))
	must(t, s.Ack(ctx, c2, b.ID, 1))
	cs, err = s.Cursors(ctx, b.ID)
	must(t, err)
	equal(t, "cursors after acking", cs, []parley.Cursor{
		{Conversation: c1, Device: b.ID, Acked: 2, LastSeq: 2},
		{Conversation: c2, Device: b.ID, Acked: 1, LastSeq: 1},
	})
	// A device that joins later starts where it joined.
	late := MustDevice(t, s, v)
	commit := env(c1, a, "commit")
	commit.Kind = parley.EnvelopeCommit
	_, err = s.ApplyCommit(ctx, parley.Commit{Conversation: c1, Epoch: 1, Add: []parley.Member{{User: v, Device: late.ID}}, Envelopes: []parley.Envelope{commit}})
	must(t, err)
	cs, err = s.Cursors(ctx, late.ID)
	must(t, err)
	equal(t, "cursors of a joined device", cs, []parley.Cursor{{Conversation: c1, Device: late.ID, Acked: 3, LastSeq: 3}})
	stranger := MustDevice(t, s, MustUser(t, s).ID)
	cs, err = s.Cursors(ctx, stranger.ID)
	must(t, err)
	if len(cs) != 0 {
		t.Fatalf("cursors of a device in no conversation: %+v", cs)
	}
}

// testAppendEpoch: an application or proposal envelope of another epoch than
// the conversation's is refused in the append itself, so nothing encrypted
// in an old epoch lands after the commit that ended it; a retry of one
// appended before the commit is still a duplicate.
func testAppendEpoch(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u := MustUser(t, s).ID
	a, b := MustDevice(t, s, u), MustDevice(t, s, u)
	c := MustGroup(t, s, u, a, b)
	MustAppend(t, s, env(c, a, "before"))
	commit := env(c, a, "commit")
	commit.Kind = parley.EnvelopeCommit
	_, err := s.ApplyCommit(ctx, parley.Commit{Conversation: c, Epoch: 1, Envelopes: []parley.Envelope{commit}})
	must(t, err)

	stale := env(c, b, "stale")
	proposal := env(c, b, "stale proposal")
	proposal.Kind = parley.EnvelopeProposal
	retry := env(c, a, "before")
	current := env(c, b, "current")
	current.Epoch = 2
	system := env(c, b, "")
	system.Kind = parley.EnvelopeSystem
	rs, err := s.Append(ctx, []parley.Envelope{stale, proposal, retry, current, system})
	must(t, err)
	wantCode(t, rs[0].Err, parley.CodeConflict, "wrong_epoch")
	wantCode(t, rs[1].Err, parley.CodeConflict, "wrong_epoch")
	if rs[2].Err != nil || !rs[2].Duplicate || rs[2].Seq != 1 {
		t.Fatalf("retry of an envelope appended before the commit: %+v", rs[2])
	}
	if rs[3].Err != nil || rs[3].Seq != 3 || rs[4].Err != nil || rs[4].Seq != 4 {
		t.Fatalf("current-epoch and system envelopes: %+v %+v", rs[3], rs[4])
	}
	logged, err := s.ReadLog(ctx, c, 0, 10)
	must(t, err)
	if len(logged) != 4 {
		t.Fatalf("log has %d envelopes, want 4 (before, commit, current, system)", len(logged))
	}
}
