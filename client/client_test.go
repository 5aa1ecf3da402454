package client_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
)

func TestDirectMessageWithReceipts(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	alice := mustRegister(t, ts, phone(1), "Alice")
	bob := mustRegister(t, ts, phone(2), "Bob")
	if err := bob.SetUsername(ctx, "bob"); err != nil {
		t.Fatal(err)
	}

	m, err := alice.Send(ctx, bob.phone, "hello bob")
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	if m.Status != client.StatusSent || m.Seq == 0 {
		t.Fatalf("sent message = %+v, want status sent with a seq", m)
	}
	got := mustEvent(t, bob.Client, "bob receives", isMessage("hello bob"))
	if got.Message.Sender != alice.Account().User || got.Message.Seq != m.Seq || got.Message.Conversation != m.Conversation {
		t.Fatalf("bob got %+v, want from alice at seq %d", got.Message, m.Seq)
	}
	mustEvent(t, alice.Client, "delivered receipt", isReceipt(parley.ReceiptDelivered, m.Seq))

	if _, err := bob.MarkRead(ctx, "@nobody_here"); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("mark read of unknown user: err = %v, want not_found", err)
	}
	if _, err := bob.MarkRead(ctx, string(m.Conversation)); err != nil {
		t.Fatal(err)
	}
	mustEvent(t, alice.Client, "read receipt", isReceipt(parley.ReceiptRead, m.Seq))
	_, hist, err := alice.History(ctx, bob.phone, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 1 || hist[0].Status != client.StatusRead {
		t.Fatalf("alice's history = %+v, want one read message", hist)
	}

	// Bob replies by username lookup of the same chat; one conversation.
	r, err := bob.Send(ctx, phone(1), "hi alice")
	if err != nil {
		t.Fatal(err)
	}
	if r.Conversation != m.Conversation {
		t.Fatalf("reply went to %s, want the existing chat %s", r.Conversation, m.Conversation)
	}
	mustEvent(t, alice.Client, "alice receives", isMessage("hi alice"))
	r2, err := alice.Send(ctx, "@bob", "by username")
	if err != nil || r2.Conversation != m.Conversation {
		t.Fatalf("send by username: %v (chat %s, want %s)", err, r2.Conversation, m.Conversation)
	}
	mustEvent(t, bob.Client, "bob receives by username", isMessage("by username"))

	// Typing is pushed to the other member, never stored.
	if err := alice.Typing(ctx, "@bob", true); err != nil {
		t.Fatal(err)
	}
	mustEvent(t, bob.Client, "typing", func(ev client.Event) bool {
		return ev.Kind == client.EventTyping && ev.Typing.User == alice.Account().User && ev.Typing.Typing
	})

	// Safety numbers agree.
	sa, _, err := alice.SafetyNumber(ctx, "@bob")
	if err != nil {
		t.Fatal(err)
	}
	sb, _, err := bob.SafetyNumber(ctx, phone(1))
	if err != nil {
		t.Fatal(err)
	}
	if sa != sb || len(sa) != 71 {
		t.Fatalf("safety numbers differ or malformed:\n%s\n%s", sa, sb)
	}
}

func TestMultiDevice(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	alice := mustRegister(t, ts, phone(11), "Alice")
	bob := mustRegister(t, ts, phone(12), "Bob")
	alice2 := mustLink(t, ts, alice)

	// A chat created after the link includes every device.
	m, err := alice.Send(ctx, bob.phone, "to all devices")
	if err != nil {
		t.Fatal(err)
	}
	mustEvent(t, bob.Client, "bob", isMessage("to all devices"))
	ev := mustEvent(t, alice2.Client, "alice's other device", isMessage("to all devices"))
	if !ev.Message.Outgoing {
		t.Fatalf("alice2 sees alice's message as incoming: %+v", ev.Message)
	}

	// Bob links a device later: it joins the existing chat by external commit.
	bob2 := mustLink(t, ts, bob)
	if _, err := bob.Send(ctx, alice.phone, "after bob linked"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*user{alice, alice2, bob2} {
		mustEvent(t, c.Client, "after bob linked", isMessage("after bob linked"))
	}
	r, err := bob2.Send(ctx, string(m.Conversation), "from bob2")
	if err != nil {
		t.Fatal(err)
	}
	if r.Conversation != m.Conversation {
		t.Fatalf("bob2 used chat %s, want %s", r.Conversation, m.Conversation)
	}
	for _, c := range []*user{alice, alice2, bob} {
		mustEvent(t, c.Client, "from bob2", isMessage("from bob2"))
	}

	// Revoking bob2: it is refused, and the rest still talk.
	if err := bob.RemoveDevice(ctx, bob2.Account().Device); err != nil {
		t.Fatal(err)
	}
	if err := bob.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := bob2.Send(ctx, string(m.Conversation), "from a revoked device"); !parley.IsCode(err, parley.CodeUnauthenticated) && !parley.IsCode(err, parley.CodeForbidden) {
		t.Fatalf("revoked device send: err = %v, want unauthenticated", err)
	}
	if _, err := alice.Send(ctx, bob.phone, "after revoke"); err != nil {
		t.Fatal(err)
	}
	mustEvent(t, bob.Client, "after revoke", isMessage("after revoke"))
	members, err := alice.Members(ctx, string(m.Conversation))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range members {
		if d.Device == bob2.Account().Device {
			t.Errorf("revoked device %d still in alice's MLS group", d.Device)
		}
	}
}

func TestOfflineAndRestart(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	alice := mustRegister(t, ts, phone(21), "Alice")
	bob := mustRegister(t, ts, phone(22), "Bob")
	if _, err := alice.Send(ctx, bob.phone, "first"); err != nil {
		t.Fatal(err)
	}
	mustEvent(t, bob.Client, "first", isMessage("first"))
	bobDir := bob.Dir()
	bob.Close()

	const n = 30
	for i := range n {
		if _, err := alice.Send(ctx, bob.phone, fmt.Sprintf("offline %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	ts.mustRestart(t)

	bob2 := mustOpen(t, bobDir)
	for i := range n {
		mustEvent(t, bob2, "offline message", isMessage(fmt.Sprintf("offline %d", i)))
	}
	_, hist, err := bob2.History(ctx, alice.phone, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != n+1 {
		t.Fatalf("bob has %d messages, want %d (nothing lost, nothing doubled)", len(hist), n+1)
	}
	// Alice reconnected to the restarted server by herself.
	if _, err := alice.Send(ctx, bob.phone, "after restart"); err != nil {
		t.Fatal(err)
	}
	mustEvent(t, bob2, "after restart", isMessage("after restart"))
}

// TestBurstAcrossRestart: the server restarts in the middle of a burst of
// sends; the sender retries under the same client ids and the receiver
// gets every message exactly once, in order.
func TestBurstAcrossRestart(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	alice := mustRegister(t, ts, phone(31), "Alice")
	bob := mustRegister(t, ts, phone(32), "Bob")
	const n = 40
	errc := make(chan error, 1)
	sent := make(chan int)
	go func() {
		for i := range n {
			if _, err := alice.Send(ctx, bob.phone, fmt.Sprintf("burst %d", i)); err != nil {
				errc <- fmt.Errorf("send %d: %w", i, err)
				return
			}
			sent <- i
		}
		errc <- nil
	}()
	for i := range n / 2 {
		if got := <-sent; got != i {
			t.Fatalf("sent %d, want %d", got, i)
		}
	}
	restarted := make(chan struct{})
	go func() {
		defer close(restarted)
		ts.mustRestart(t)
	}()
	for range n - n/2 {
		select {
		case <-sent:
		case err := <-errc:
			t.Fatal(err)
		}
	}
	<-restarted
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	for i := range n {
		mustEvent(t, bob.Client, "burst message", isMessage(fmt.Sprintf("burst %d", i)))
	}
	_, hist, err := bob.History(ctx, alice.phone, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != n {
		t.Fatalf("bob has %d messages, want %d", len(hist), n)
	}
	for i, m := range hist {
		if m.Text != fmt.Sprintf("burst %d", i) {
			t.Fatalf("message %d is %q (history out of order or doubled)", i, m.Text)
		}
	}
}

func TestNoteToSelf(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	alice := mustRegister(t, ts, phone(41), "Alice")
	m, err := alice.Send(ctx, alice.phone, "remember the milk")
	if err != nil {
		t.Fatal(err)
	}
	alice2 := mustLink(t, ts, alice)
	if _, err := alice.Send(ctx, string(m.Conversation), "and eggs"); err != nil {
		t.Fatal(err)
	}
	mustEvent(t, alice2.Client, "note on the other device", isMessage("and eggs"))
	chats, err := alice2.Chats(ctx)
	if err != nil || len(chats) != 1 || chats[0].ID != m.Conversation || chats[0].Peer != alice.Account().User {
		t.Fatalf("alice2 chats = %+v, %v", chats, err)
	}
}

// TestEchoFromEventLoop: a bot may call Send from the goroutine that reads
// Events (the client never waits for the event reader).
func TestEchoFromEventLoop(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	alice := mustRegister(t, ts, phone(51), "Alice")
	bot := mustRegister(t, ts, phone(52), "Bot")
	done := make(chan error, 1)
	go func() {
		for ev := range bot.Events() {
			if ev.Kind == client.EventMessage {
				_, err := bot.Send(ctx, string(ev.Conversation), "echo: "+ev.Message.Text)
				done <- err
				return
			}
		}
	}()
	for i := range 5 {
		if _, err := alice.Send(ctx, bot.phone, fmt.Sprintf("ping %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mustEvent(t, alice.Client, "echo", isMessage("echo: ping 0"))
}

// TestKnownChatsSpendNoLookups: reading a chat addressed by phone, @username
// or user id again and again never spends the account's directory-lookup
// budget (120 an hour by default): a person this device already has a chat
// with is found in its own contact book.
func TestKnownChatsSpendNoLookups(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	alice := mustRegister(t, ts, phone(1), "Alice")
	bob := mustRegister(t, ts, phone(2), "Bob")
	if err := bob.SetUsername(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	m, err := alice.Send(ctx, bob.phone, "hello bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Resolve(ctx, "@bob"); err != nil { // learns the username
		t.Fatal(err)
	}
	refs := []string{bob.phone, "@BOB", bob.Account().User.String()}
	for i := range 200 {
		ch, _, err := alice.History(ctx, refs[i%len(refs)], 1)
		if err != nil {
			t.Fatalf("read %d (%s): %v", i, refs[i%len(refs)], err)
		}
		if ch.ID != m.Conversation {
			t.Fatalf("read %d (%s) found chat %s, want %s", i, refs[i%len(refs)], ch.ID, m.Conversation)
		}
	}
	// A stranger still costs a lookup and is still not found.
	if _, _, err := alice.History(ctx, "@nobody_here", 1); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("history of an unknown user: err = %v, want not_found", err)
	}
}

// TestOpenChatBeforeFirstMessage: a chat with a person can be opened before
// anyone writes; the first message then goes to that same chat, and opening
// it again finds it.
func TestOpenChatBeforeFirstMessage(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	alice := mustRegister(t, ts, phone(1), "Alice")
	bob := mustRegister(t, ts, phone(2), "Bob")
	ch, err := alice.OpenChat(ctx, bob.phone)
	if err != nil {
		t.Fatal(err)
	}
	if ch.Kind != parley.KindDirect || ch.Peer != bob.Account().User {
		t.Fatalf("opened %+v, want a direct chat with %d", ch, bob.Account().User)
	}
	_, hist, err := alice.History(ctx, string(ch.ID), 0)
	if err != nil || len(hist) != 0 {
		t.Fatalf("a new chat's history: %v, %d messages", err, len(hist))
	}
	again, err := alice.OpenChat(ctx, bob.Account().User.String())
	if err != nil || again.ID != ch.ID {
		t.Fatalf("opened again: %v (chat %s, want %s)", err, again.ID, ch.ID)
	}
	// Bob, who has not saved alice, sees no empty chat from her.
	listed := func(c *client.Client) bool {
		if err := c.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		chats, err := c.Chats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(chats, func(x client.Chat) bool { return x.ID == ch.ID })
	}
	if listed(bob.Client) {
		t.Fatal("bob lists the empty chat a stranger opened")
	}
	m, err := alice.Send(ctx, bob.phone, "first words")
	if err != nil {
		t.Fatal(err)
	}
	if m.Conversation != ch.ID {
		t.Fatalf("the first message went to %s, want the opened chat %s", m.Conversation, ch.ID)
	}
	got := mustEvent(t, bob.Client, "bob receives", isMessage("first words"))
	if got.Message.Conversation != ch.ID {
		t.Fatalf("bob got it in %s, want %s", got.Message.Conversation, ch.ID)
	}
	if !listed(bob.Client) {
		t.Fatal("bob does not list the chat once its first message came")
	}
	if _, err := alice.OpenChat(ctx, "@nobody_here"); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("opening a chat with nobody: err = %v, want not_found", err)
	}
}
