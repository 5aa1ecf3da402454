package client_test

import (
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
)

// TestResyncBrokenState: bob's device falls back to an older MLS state of a
// group (as after a broken or restored store). The next message is
// unreadable on it, and the device rejoins by itself in place of its old
// leaf; from then on it reads and sends again, the other members follow,
// and the group's membership is unchanged.
func TestResyncBrokenState(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	alice := mustRegister(t, ts, phone(1201), "Alice")
	bob := mustRegister(t, ts, phone(1202), "Bob")
	carol := mustRegister(t, ts, phone(1203), "Carol")
	dave := mustRegister(t, ts, phone(1204), "Dave")
	res, err := alice.CreateGroup(ctx, "Trio", []string{bob.phone, carol.phone}, client.GroupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Group.ID
	mustSynced(t, ctx, bob, carol)
	mustGroupMessage(t, ctx, alice, id, "one", bob, carol)

	old, err := client.GroupState(bob.Client, id)
	if err != nil {
		t.Fatal(err)
	}
	chat, err := bob.Chat(ctx, string(id))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.AddGroupMembers(ctx, string(id), []string{dave.phone}); err != nil {
		t.Fatal(err)
	}
	mustSynced(t, ctx, bob, carol, dave)
	if err := client.BreakGroup(bob.Client, id, old, chat.Epoch); err != nil {
		t.Fatal(err)
	}

	if _, err := alice.Send(ctx, string(id), "two"); err != nil {
		t.Fatal(err)
	}
	mustEvent(t, bob.Client, "bob's unreadable copy of two", func(ev client.Event) bool {
		return ev.Kind == client.EventMessage && ev.Message.Kind == client.KindUndecryptable
	})
	// The rejoin is one more epoch after dave's add.
	deadline := time.Now().Add(15 * time.Second)
	for {
		b, _ := bob.Chat(ctx, string(id))
		if b.Epoch >= chat.Epoch+2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("bob did not rejoin: bob at epoch %d", b.Epoch)
		}
		time.Sleep(20 * time.Millisecond)
	}
	mustSynced(t, ctx, alice, carol, dave)
	mustGroupMessage(t, ctx, alice, id, "three", bob, carol, dave)
	mustGroupMessage(t, ctx, bob, id, "four", alice, carol, dave)

	ms, err := alice.Members(ctx, string(id))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range ms {
		if m.User == bob.Account().User {
			n++
		}
	}
	if len(ms) != 4 || n != 1 {
		t.Fatalf("members after the rejoin: %+v", ms)
	}
	g, err := alice.Group(ctx, string(id))
	if err != nil || len(g.Members) != 4 {
		t.Fatalf("group after the rejoin: %+v, %v", g, err)
	}

	// The manual form, on a healthy device, also works.
	if err := dave.Resync(ctx, string(id)); err != nil {
		t.Fatalf("a member's manual resync: %v", err)
	}
	mustSynced(t, ctx, alice, bob, carol)
	mustGroupMessage(t, ctx, alice, id, "five", bob, carol, dave)

	// The server refuses a resync from a device that is not a member.
	_, err = client.RawCommit(carol.Client, id, true)
	wantCode(t, "resync without external", err, parley.CodeInvalid, "resync_not_member")
	outsider := mustRegister(t, ts, phone(1205), "Outsider")
	_, err = client.RawCommit(outsider.Client, id, false)
	wantCode(t, "outsider's resync", err, parley.CodeInvalid, "resync_not_member")
}

// TestJoinPassesRace: when linking, the device's own join pass and one
// started by a conversations-changed signal can both see a chat as not yet
// joined. The later one must notice the device joined meanwhile instead of
// committing it into the tree a second time (which MLS refuses as a
// duplicate signature key).
func TestJoinPassesRace(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	alice := mustRegister(t, ts, phone(1301), "Alice")
	bob := mustRegister(t, ts, phone(1302), "Bob")
	m, err := alice.Send(ctx, bob.phone, "hi bob")
	if err != nil {
		t.Fatal(err)
	}
	trip, err := alice.CreateGroup(ctx, "Weekend trip", []string{bob.phone}, client.GroupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	laptop := mustLink(t, ts, alice)
	// A group joined by the linked device is titled with its name.
	if ch, err := laptop.Chat(ctx, string(trip.Group.ID)); err != nil || ch.Title != "Weekend trip" || ch.Kind != parley.KindGroup {
		t.Fatalf("the linked device's group chat: %+v, %v", ch, err)
	}
	if err := client.JoinAsIfMissing(laptop.Client, m.Conversation, parley.KindDirect); err != nil {
		t.Fatalf("a second join pass over a stale list: %v", err)
	}
	mustSynced(t, ctx, bob, alice)
	if _, err := bob.Send(ctx, string(m.Conversation), "to all your devices"); err != nil {
		t.Fatal(err)
	}
	mustEvent(t, laptop.Client, "the laptop reads", isMessage("to all your devices"))
	ms, err := bob.Members(ctx, string(m.Conversation))
	if err != nil || len(ms) != 3 {
		t.Fatalf("members: %+v, %v", ms, err)
	}
}
