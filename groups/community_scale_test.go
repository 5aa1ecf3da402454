package groups_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/broker/inproc"
	"github.com/parleyhq/parley/delivery"
	"github.com/parleyhq/parley/groups"
	"github.com/parleyhq/parley/store/sqlite"
)

// TestCommunity5000Announcement: a community of 5,000 members, created in
// one step (one batched membership change), where one admin announcement is
// one append to the log that reaches every member's device (lightweight
// in-process subscribers on the broker, as gateway sessions are), a
// member's post is refused, and a 5,001st member does not fit.
func TestCommunity5000Announcement(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 5,000 accounts")
	}
	const n = 5000
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "p.db"), sqlite.WithSynchronousNormal())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	broker := inproc.New()
	var svc *groups.Service
	del := delivery.New(st, broker, nil, nil, nil, delivery.Config{PruneInterval: -1, Groups: func(pub *delivery.Service) delivery.GroupPolicy {
		svc = groups.New(st, pub, nil, nil, groups.Config{})
		return svc
	}})
	defer del.Shutdown(context.Background())

	devs := make([]parley.Device, n+1)
	for i := range devs {
		u, err := st.CreateUser(ctx, parley.User{Phone: fmt.Sprintf("+4477%08d", i), Name: "m", CreatedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if devs[i], err = st.CreateDevice(ctx, parley.Device{User: u.ID, Name: "d", SecretHash: []byte("h"), IdentityKey: []byte("k"), CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	admin := devs[0]
	id := parley.NewConversationID()
	members := make([]delivery.MemberRef, 0, n-1)
	for _, d := range devs[1:n] {
		members = append(members, delivery.MemberRef{User: d.User, Device: d.ID})
	}
	if _, err := del.CreateConversation(ctx, admin, delivery.CreateParams{ID: id, Kind: parley.KindGroup, Members: members,
		Welcome: []byte("welcome"), GroupInfo: []byte("gi"), Group: &parley.Group{Name: "Town", Community: id}}); err != nil {
		t.Fatal(err)
	}
	info, err := svc.Get(ctx, admin.User, id)
	if err != nil || len(info.Members) != n || !info.Group.IsCommunity() || !info.Group.Settings.OnlyAdminsSend {
		t.Fatalf("community: %d members, %+v, %v", len(info.Members), info.Group, err)
	}

	// Every member device online: a subscriber each.
	var got atomic.Int64
	all := make(chan struct{})
	var once sync.Once
	var want atomic.Int64
	for _, d := range devs[1:n] {
		cancel, err := broker.Subscribe(d.ID, func(ev parley.Event) {
			if ev.Kind == parley.EventEnvelope && ev.Conversation == id && int64(ev.Seq) == want.Load() {
				if got.Add(1) == n-1 {
					once.Do(func() { close(all) })
				}
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		defer cancel()
	}
	c, err := st.Conversation(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want.Store(int64(c.LastSeq) + 1)
	before := del.Stats().Appended
	sent := make(chan error, 1)
	if err := del.Send(ctx, admin, delivery.SendParams{Conversation: id, ClientID: "announce-1", Kind: parley.EnvelopeApplication, Epoch: 1,
		Payload: []byte("ciphertext")}, func(r delivery.SendResult, err error) { sent <- err }); err != nil {
		t.Fatal(err)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	select {
	case <-all:
	case <-time.After(30 * time.Second):
		t.Fatalf("%d of %d members got the announcement", got.Load(), n-1)
	}
	if appended := del.Stats().Appended - before; appended != 1 {
		t.Fatalf("one announcement appended %d envelopes", appended)
	}

	// Members do not post to the announcements.
	err = del.Send(ctx, devs[1], delivery.SendParams{Conversation: id, ClientID: "m", Kind: parley.EnvelopeApplication, Epoch: 1, Payload: []byte("x")},
		func(delivery.SendResult, error) {})
	wantErr(t, "member posts", err, parley.CodeForbidden, "admins_only_send")

	// A 5,001st member does not fit.
	_, err = del.Commit(ctx, admin, delivery.CommitParams{Conversation: id, Epoch: 1, Commit: []byte("c"), Welcome: []byte("w"), GroupInfo: []byte("g"),
		Add: []delivery.MemberRef{{User: devs[n].User, Device: devs[n].ID}}})
	wantErr(t, "5,001st member", err, parley.CodeTooLarge, "group_full")
}
