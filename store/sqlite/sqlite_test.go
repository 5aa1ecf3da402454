package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/delivery"
	"github.com/parleyhq/parley/store/sqlite"
	"github.com/parleyhq/parley/store/storetest"
)

var (
	dirsMu sync.Mutex
	dirs   = map[*testing.T]string{}
)

// open opens a store on a file of its own per test; a second call with the
// same t reopens the same file.
func open(t *testing.T) parley.Store {
	dirsMu.Lock()
	dir, ok := dirs[t]
	if !ok {
		dir = t.TempDir()
		dirs[t] = dir
		t.Cleanup(func() {
			dirsMu.Lock()
			delete(dirs, t)
			dirsMu.Unlock()
		})
	}
	dirsMu.Unlock()
	s, err := sqlite.Open(t.Context(), filepath.Join(dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestStore(t *testing.T) {
	storetest.RunAll(t, open)
}

func TestOpenBadPath(t *testing.T) {
	_, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "missing", "dir", "parley.db"))
	if err == nil || !strings.Contains(err.Error(), "sqlite: open") {
		t.Fatalf("Open in a missing directory: %v", err)
	}
}

func TestAppendCancelledAndClosed(t *testing.T) {
	ctx := t.Context()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "parley.db"), sqlite.WithSynchronousNormal(), sqlite.WithReadConns(2))
	if err != nil {
		t.Fatal(err)
	}
	u := storetest.MustUser(t, s)
	d := storetest.MustDevice(t, s, u.ID)
	id := storetest.MustGroup(t, s, u.ID, d)
	e := parley.Envelope{Conversation: id, SenderDevice: d.ID, ClientID: "x", Kind: parley.EnvelopeApplication, Payload: []byte("p")}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Append(cancelled, []parley.Envelope{e}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Append with a cancelled context: %v", err)
	}
	if err := s.Ack(cancelled, id, d.ID, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("Ack with a cancelled context: %v", err)
	}
	c, err := s.Conversation(ctx, id)
	if err != nil || c.LastSeq != 0 {
		t.Fatalf("after cancelled Append: %+v, %v", c, err)
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, []parley.Envelope{e}); err == nil {
		t.Fatal("Append after Close succeeded")
	}
}

// AckBatch moves several cursors as Ack does; a cursor of a device that is
// not a member is skipped and reported as CodeNotFound, the others applied.
func TestAckBatch(t *testing.T) {
	ctx := t.Context()
	st := open(t).(*sqlite.Store)
	defer st.Close()
	var _ delivery.AckBatcher = st
	u := storetest.MustUser(t, st)
	d1 := storetest.MustDevice(t, st, u.ID)
	d2 := storetest.MustDevice(t, st, u.ID)
	a := storetest.MustGroup(t, st, u.ID, d1, d2)
	b := storetest.MustGroup(t, st, u.ID, d1)
	var envs []parley.Envelope
	for i := range 5 {
		envs = append(envs, parley.Envelope{Conversation: a, SenderDevice: d1.ID, ClientID: parley.ClientMessageID(strconv.Itoa(i)), Kind: parley.EnvelopeApplication, Epoch: 1, Payload: []byte("p")})
	}
	envs = append(envs, parley.Envelope{Conversation: b, SenderDevice: d1.ID, ClientID: "b", Kind: parley.EnvelopeApplication, Epoch: 1, Payload: []byte("p")})
	if _, err := st.Append(ctx, envs); err != nil {
		t.Fatal(err)
	}
	cursor := func(id parley.ConversationID, d parley.DeviceID) parley.Seq {
		t.Helper()
		m, err := st.Member(ctx, id, d)
		if err != nil {
			t.Fatal(err)
		}
		return m.Cursor
	}
	if err := st.AckBatch(ctx, []parley.Cursor{{Conversation: a, Device: d1.ID, Acked: 3}, {Conversation: a, Device: d2.ID, Acked: 99}, {Conversation: b, Device: d1.ID, Acked: 1}}); err != nil {
		t.Fatal(err)
	}
	if c1, c2, cb := cursor(a, d1.ID), cursor(a, d2.ID), cursor(b, d1.ID); c1 != 3 || c2 != 5 || cb != 1 {
		t.Fatalf("cursors after AckBatch: %d %d %d, want 3 5 (capped) 1", c1, c2, cb)
	}
	// Never backwards; a non-member is skipped and reported.
	err := st.AckBatch(ctx, []parley.Cursor{{Conversation: a, Device: d1.ID, Acked: 2}, {Conversation: b, Device: d2.ID, Acked: 1}, {Conversation: a, Device: d1.ID, Acked: 4}})
	if !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("AckBatch with a non-member: %v, want CodeNotFound", err)
	}
	if c := cursor(a, d1.ID); c != 4 {
		t.Fatalf("cursor after AckBatch with a non-member: %d, want 4", c)
	}
}

// Group commits cache conversations' last Seqs; a write outside them (here
// ApplyCommit, which appends too) must not leave the cache stale.
func TestSeqCacheAcrossWrites(t *testing.T) {
	ctx := t.Context()
	st := open(t)
	defer func() { st.Close() }()
	u := storetest.MustUser(t, st)
	d := storetest.MustDevice(t, st, u.ID)
	id := storetest.MustGroup(t, st, u.ID, d)
	env := func(cid string, kind parley.EnvelopeKind) parley.Envelope {
		return parley.Envelope{Conversation: id, SenderDevice: d.ID, ClientID: parley.ClientMessageID(cid), Kind: kind, Epoch: 1, Payload: []byte("p")}
	}
	seqs := func(rs []parley.AppendResult) []parley.Seq {
		var out []parley.Seq
		for _, r := range rs {
			out = append(out, r.Seq)
		}
		return out
	}
	rs, err := st.Append(ctx, []parley.Envelope{env("a", parley.EnvelopeApplication), env("b", parley.EnvelopeApplication)})
	if err != nil || len(rs) != 2 || rs[1].Seq != 2 {
		t.Fatalf("Append: %v %v", seqs(rs), err)
	}
	c, err := st.Conversation(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	out, err := st.ApplyCommit(ctx, parley.Commit{Conversation: id, Epoch: c.Epoch, Envelopes: []parley.Envelope{env("c", parley.EnvelopeCommit)}})
	if err != nil || len(out) != 1 || out[0].Seq != 3 {
		t.Fatalf("ApplyCommit: %+v %v", out, err)
	}
	next := env("d", parley.EnvelopeApplication)
	next.Epoch = 2 // the commit moved the conversation to epoch 2
	rs, err = st.Append(ctx, []parley.Envelope{next, env("a", parley.EnvelopeApplication)})
	if err != nil || len(rs) != 2 || rs[0].Seq != 4 || rs[1].Seq != 1 || !rs[1].Duplicate {
		t.Fatalf("Append after ApplyCommit: %+v %v, want seq 4 then duplicate of 1", rs, err)
	}
	// Reopened (no cache), the log continues where it was.
	st.Close()
	st = open(t)
	after := env("e", parley.EnvelopeApplication)
	after.Epoch = 2
	rs, err = st.Append(ctx, []parley.Envelope{after})
	if err != nil || rs[0].Seq != 5 {
		t.Fatalf("Append after reopen: %+v %v", rs, err)
	}
}

// TestAckBatchRidesAlong: a batch of acknowledgements does not commit on its
// own while the delay runs; the next append takes it into its commit.
func TestAckBatchRidesAlong(t *testing.T) {
	defer sqlite.SetLazyDelay(sqlite.SetLazyDelay(time.Hour))
	st := open(t)
	defer st.Close()
	ctx := t.Context()
	u := storetest.MustUser(t, st)
	d := storetest.MustDevice(t, st, u.ID)
	id := storetest.MustGroup(t, st, u.ID, d)
	storetest.MustAppend(t, st, parley.Envelope{Conversation: id, Sender: u.ID, SenderDevice: d.ID, ClientID: "1", Kind: parley.EnvelopeApplication, Epoch: 1, Payload: []byte("x")})

	acked := make(chan error, 1)
	go func() {
		acked <- st.(*sqlite.Store).AckBatch(ctx, []parley.Cursor{{Conversation: id, Device: d.ID, Acked: 1}})
	}()
	select {
	case err := <-acked:
		t.Fatalf("the ack batch committed alone (err %v)", err)
	case <-time.After(200 * time.Millisecond):
	}
	storetest.MustAppend(t, st, parley.Envelope{Conversation: id, Sender: u.ID, SenderDevice: d.ID, ClientID: "2", Kind: parley.EnvelopeApplication, Epoch: 1, Payload: []byte("y")})
	select {
	case err := <-acked:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the ack batch did not commit with the append")
	}
	cs, err := st.Cursors(ctx, d.ID)
	if err != nil || len(cs) != 1 || cs[0].Acked != 1 || cs[0].LastSeq != 2 {
		t.Fatalf("cursors %+v, %v", cs, err)
	}
}

// TestAckBatchAloneCommits: with no other write, an ack batch commits when
// the delay ends; one still held when the store closes commits at Close.
func TestAckBatchAloneCommits(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "parley.db")
	openWith := func(delay time.Duration) *sqlite.Store {
		defer sqlite.SetLazyDelay(sqlite.SetLazyDelay(delay))
		st, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	st := openWith(20 * time.Millisecond)
	u := storetest.MustUser(t, st)
	d := storetest.MustDevice(t, st, u.ID)
	id := storetest.MustGroup(t, st, u.ID, d)
	storetest.MustAppend(t, st,
		parley.Envelope{Conversation: id, Sender: u.ID, SenderDevice: d.ID, ClientID: "1", Kind: parley.EnvelopeApplication, Epoch: 1, Payload: []byte("x")},
		parley.Envelope{Conversation: id, Sender: u.ID, SenderDevice: d.ID, ClientID: "2", Kind: parley.EnvelopeApplication, Epoch: 1, Payload: []byte("y")})
	if err := st.AckBatch(ctx, []parley.Cursor{{Conversation: id, Device: d.ID, Acked: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st = openWith(time.Hour)
	acked := make(chan error, 1)
	go func() { acked <- st.AckBatch(ctx, []parley.Cursor{{Conversation: id, Device: d.ID, Acked: 2}}) }()
	time.Sleep(200 * time.Millisecond) // held by the committer (or not yet sent: Close then refuses it)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	err := <-acked
	st = openWith(time.Hour)
	defer st.Close()
	cs, cerr := st.Cursors(ctx, d.ID)
	if cerr != nil || len(cs) != 1 {
		t.Fatalf("cursors after reopen %+v, %v", cs, cerr)
	}
	switch {
	case err == nil && cs[0].Acked != 2:
		t.Fatalf("AckBatch returned nil but the cursor is %d after reopen", cs[0].Acked)
	case err != nil && cs[0].Acked != 1:
		t.Fatalf("AckBatch failed (%v) but the cursor moved to %d", err, cs[0].Acked)
	}
	if err != nil {
		t.Fatalf("the held ack batch was refused at Close: %v", err)
	}
}
