package client_test

import (
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/client/chattools"
)

// TestToolsMessageInfo: the members' receipts of a group message are
// stored as they arrive and shown per member by Message info; stars and
// delete for me stay on the device that made them.
func TestToolsMessageInfo(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	alice := mustRegister(t, ts, phone(7301), "Alice")
	bob := mustRegister(t, ts, phone(7302), "Bob")
	carol := mustRegister(t, ts, phone(7303), "Carol")
	res, err := alice.CreateGroup(ctx, "Walkers", []string{bob.phone, carol.phone}, client.GroupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g := res.Group
	mustSynced(t, ctx, bob, carol)

	m, err := alice.Send(ctx, string(g.ID), "route for sunday")
	if err != nil {
		t.Fatal(err)
	}
	mustEvent(t, bob.Client, "bob receives", isMessage("route for sunday"))
	mustEvent(t, carol.Client, "carol receives", isMessage("route for sunday"))
	if _, err := bob.MarkRead(ctx, string(g.ID)); err != nil {
		t.Fatal(err)
	}
	bobID, carolID := bob.Account().User, carol.Account().User
	mustEvent(t, alice.Client, "bob's read receipt", func(ev client.Event) bool {
		return ev.Kind == client.EventReceipt && ev.Receipt.Kind == parley.ReceiptRead && ev.Receipt.User == bobID && ev.Receipt.Seq >= m.Seq
	})
	id := client.FormatMessageID(m.Conversation, m.Seq)
	var info chattools.Info
	deadline := time.Now().Add(10 * time.Second)
	for {
		if info, err = alice.Tools().Info(ctx, id); err != nil {
			t.Fatal(err)
		}
		allDelivered := len(info.Members) == 2
		for _, r := range info.Members {
			allDelivered = allDelivered && !r.Delivered.IsZero()
		}
		if allDelivered || time.Now().After(deadline) {
			break // carol's delivered receipt may follow bob's read one (members come in user id order)
		}
		time.Sleep(20 * time.Millisecond)
	}
	members := map[parley.UserID]int{}
	for i, r := range info.Members {
		members[r.User] = i
	}
	b, c := info.Members[members[bobID]], info.Members[members[carolID]]
	if len(info.Members) != 2 || info.Message.Text != "route for sunday" ||
		b.Delivered.IsZero() || b.Read.IsZero() || c.Delivered.IsZero() || !c.Read.IsZero() {
		t.Fatalf("info = %+v; want bob delivered and read, carol delivered", info)
	}
	_, err = bob.Tools().Info(ctx, id)
	wantCode(t, "info of another's message", err, parley.CodeInvalid, chattools.ReasonNotOwnMessage)

	// Bob stars alice's message, then deletes it for himself; alice and
	// carol keep it.
	if err := bob.Tools().Star(ctx, id, true); err != nil {
		t.Fatal(err)
	}
	if st, err := bob.Tools().Starred(ctx, ""); err != nil || len(st) != 1 || st[0].Text != "route for sunday" {
		t.Fatalf("bob's starred = %+v, %v", st, err)
	}
	if st, _ := alice.Tools().Starred(ctx, string(g.ID)); len(st) != 0 {
		t.Fatalf("alice's starred = %+v; stars are bob's own", st)
	}
	if err := bob.Tools().DeleteForMe(ctx, id); err != nil {
		t.Fatal(err)
	}
	texts := func(u *user) []string {
		_, hist, err := u.History(ctx, string(g.ID), 0)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range hist {
			if m.Kind != client.KindSystem {
				out = append(out, m.Text)
			}
		}
		return out
	}
	if got := texts(bob); len(got) != 0 {
		t.Fatalf("bob's history after delete for me = %q", got)
	}
	if got := texts(carol); !slices.Equal(got, []string{"route for sunday"}) {
		t.Fatalf("carol's history = %q", got)
	}
	if st, _ := bob.Tools().Starred(ctx, ""); len(st) != 0 {
		t.Fatalf("starred after delete for me = %+v", st)
	}
	if err := bob.Tools().Star(ctx, id, true); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("star of a message deleted for me: %v", err)
	}
}

// TestToolsMuteAndMarkUnread: muting for a while sets a time the marks
// report until it passes; muting always uses the chat's Muted flag; a
// chat marked unread stays so until the mark is cleared.
func TestToolsMuteAndMarkUnread(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	alice := mustRegister(t, ts, phone(7311), "Alice")
	bob := mustRegister(t, ts, phone(7312), "Bob")
	if _, err := alice.Send(ctx, bob.phone, "hi"); err != nil {
		t.Fatal(err)
	}
	tools := alice.Tools()
	now := time.UnixMilli(1_800_000_000_000)
	tools.Now = func() time.Time { return now }

	ch, marks, err := tools.Mute(ctx, bob.phone, 8*time.Hour)
	if err != nil || ch.Muted || !marks.MutedUntil.Equal(now.Add(8*time.Hour)) || !chattools.Muted(ch, marks, now) {
		t.Fatalf("mute 8h: %+v %+v %v", ch, marks, err)
	}
	all, err := tools.Marks(ctx)
	if err != nil || !all[ch.ID].MutedUntil.Equal(now.Add(8*time.Hour)) {
		t.Fatalf("marks = %+v, %v", all, err)
	}
	now = now.Add(9 * time.Hour)
	if all, _ := tools.Marks(ctx); len(all) != 0 || chattools.Muted(ch, all[ch.ID], now) {
		t.Fatalf("marks after the mute ran out = %+v", all)
	}
	ch, marks, err = tools.Mute(ctx, bob.phone, chattools.Always)
	if err != nil || !ch.Muted || !marks.MutedUntil.IsZero() {
		t.Fatalf("mute always: %+v %+v %v", ch, marks, err)
	}
	ch, _, err = tools.Mute(ctx, bob.phone, 0)
	if err != nil || ch.Muted {
		t.Fatalf("unmute: %+v %v", ch, err)
	}
	_, _, err = tools.Mute(ctx, bob.phone, -5*time.Second)
	wantCode(t, "negative mute", err, parley.CodeInvalid, chattools.ReasonBadMute)

	if _, marks, err := tools.MarkUnread(ctx, bob.phone, true); err != nil || !marks.Unread {
		t.Fatalf("mark unread: %+v %v", marks, err)
	}
	if all, _ := tools.Marks(ctx); !all[ch.ID].Unread {
		t.Fatalf("marks = %+v, want unread", all)
	}
	if _, marks, err := tools.MarkUnread(ctx, bob.phone, false); err != nil || marks.Unread {
		t.Fatalf("clear unread: %+v %v", marks, err)
	}
	if all, _ := tools.Marks(ctx); len(all) != 0 {
		t.Fatalf("marks after clearing = %+v", all)
	}
}
