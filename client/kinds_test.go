package client_test

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
)

// testClock is a client clock the test moves.
type testClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.off) }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

func mustRegisterClock(t *testing.T, ts *testServer, phone, name string, clock parley.Clock) *user {
	t.Helper()
	ctx := ctxT(t)
	c, err := client.Open(ctx, withTestStore(t, client.Config{Dir: t.TempDir(), Events: true, DeviceName: name, Clock: clock,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Register(ctx, ts.URL, phone, name); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Verify(ctx, ts.Codes.MustCode(t, phone), ""); err != nil {
		t.Fatal(err)
	}
	return &user{Client: c, phone: phone}
}

func mustExtras(t *testing.T, ctx context.Context, u *user, conv parley.ConversationID, seq parley.Seq) client.Extras {
	t.Helper()
	mustSynced(t, ctx, u)
	ex, err := u.Extras(ctx, conv, seq)
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

func TestMessageKinds(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	clock := &testClock{}
	alice := mustRegisterClock(t, ts, phone(701), "Alice", clock)
	bob := mustRegister(t, ts, phone(702), "Bob")
	carol := mustRegister(t, ts, phone(703), "Carol")
	if err := alice.SetUsername(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	res, err := alice.CreateGroup(ctx, "Kinds", []string{bob.phone, carol.phone}, client.GroupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Group.ID
	mustSynced(t, ctx, bob, carol)
	hello, err := alice.SendText(ctx, string(id), "hello", 0)
	if err != nil {
		t.Fatal(err)
	}
	mustSynced(t, ctx, bob, carol)

	// Reply with a mention and a hashtag.
	reply, err := bob.Reply(ctx, hello.ID(), "@alice hi #weekend")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []*user{alice, carol} {
		ex := mustExtras(t, ctx, u, id, reply.Seq)
		if ex.ReplyTo != hello.Seq || !slices.Equal(ex.Mentions, []parley.UserID{alice.Account().User}) {
			t.Fatalf("%s sees reply extras %+v", u.phone, ex)
		}
	}
	if got := client.Hashtags(reply.Text); !slices.Equal(got, []string{"weekend"}) {
		t.Fatalf("hashtags = %v", got)
	}
	_, err = bob.SendText(ctx, string(id), "@everyone listen", 0)
	wantCode(t, "member mentions everyone", err, parley.CodeForbidden, "admins_only_everyone")
	all, err := alice.SendText(ctx, string(id), "@everyone meeting", 0)
	if err != nil {
		t.Fatal(err)
	}
	if ex := mustExtras(t, ctx, carol, id, all.Seq); !ex.Everyone {
		t.Fatalf("carol's extras of @everyone: %+v", ex)
	}

	// Reactions: one per person, changeable.
	if err := bob.React(ctx, hello.ID(), "👍"); err != nil {
		t.Fatal(err)
	}
	if err := bob.React(ctx, hello.ID(), "❤️"); err != nil {
		t.Fatal(err)
	}
	if err := carol.React(ctx, hello.ID(), "😂"); err != nil {
		t.Fatal(err)
	}
	mustSynced(t, ctx, bob)
	for _, u := range []*user{alice, bob, carol} {
		ex := mustExtras(t, ctx, u, id, hello.Seq)
		want := map[parley.UserID]string{bob.Account().User: "❤️", carol.Account().User: "😂"}
		if len(ex.Reactions) != 2 || ex.Reactions[bob.Account().User] != want[bob.Account().User] || ex.Reactions[carol.Account().User] != "😂" {
			t.Fatalf("%s sees reactions %v", u.phone, ex.Reactions)
		}
	}
	if err := carol.React(ctx, hello.ID(), ""); err != nil {
		t.Fatal(err)
	}
	if ex := mustExtras(t, ctx, alice, id, hello.Seq); len(ex.Reactions) != 1 {
		t.Fatalf("after removing a reaction: %v", ex.Reactions)
	}

	// Edits: the sender only, within the window; marked edited everywhere.
	wantCode(t, "edit another's message", bob.Edit(ctx, hello.ID(), "hacked"), parley.CodeForbidden, "not_sender")
	if err := alice.Edit(ctx, hello.ID(), "hello, all"); err != nil {
		t.Fatal(err)
	}
	for _, u := range []*user{alice, bob, carol} {
		mustSynced(t, ctx, u)
		m, err := u.Message(ctx, hello.ID())
		ex := mustExtras(t, ctx, u, id, hello.Seq)
		if err != nil || m.Text != "hello, all" || !ex.Edited {
			t.Fatalf("%s sees %q edited=%v (%v)", u.phone, m.Text, ex.Edited, err)
		}
	}
	clock.Add(client.EditWindow + time.Second)
	wantCode(t, "edit after the window", alice.Edit(ctx, hello.ID(), "too late"), parley.CodeExpired, "edit_window")

	// Deletes: one's own; an admin anyone's ("deleted by admin"); not others'.
	wantCode(t, "member deletes another's", carol.Delete(ctx, hello.ID()), parley.CodeForbidden, "not_sender")
	if err := bob.Delete(ctx, reply.ID()); err != nil {
		t.Fatal(err)
	}
	cm, err := carol.SendText(ctx, string(id), "regrettable", 0)
	if err != nil {
		t.Fatal(err)
	}
	mustSynced(t, ctx, alice)
	if err := alice.Delete(ctx, cm.ID()); err != nil {
		t.Fatal(err)
	}
	for _, u := range []*user{alice, bob, carol} {
		mustSynced(t, ctx, u)
		ex1 := mustExtras(t, ctx, u, id, reply.Seq)
		ex2 := mustExtras(t, ctx, u, id, cm.Seq)
		m, _ := u.Message(ctx, cm.ID())
		if !ex1.Deleted || ex1.DeletedByAdmin || !ex2.Deleted || !ex2.DeletedByAdmin || m.Kind != client.KindDeleted || m.Text != "" {
			t.Fatalf("%s: reply %+v, carol's %+v (%+v)", u.phone, ex1, ex2, m)
		}
	}
	clock.Add(client.DeleteWindow)
	wantCode(t, "delete after the window", alice.Delete(ctx, all.ID()), parley.CodeExpired, "delete_window")
}

func TestPollConcurrentVotes(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	owner := mustRegister(t, ts, phone(801), "Owner")
	var voters []*user
	var refs []string
	for i := range 4 {
		v := mustRegister(t, ts, phone(802+i), "Voter")
		voters = append(voters, v)
		refs = append(refs, v.phone)
	}
	res, err := owner.CreateGroup(ctx, "Poll", refs, client.GroupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Group.ID
	mustSynced(t, ctx, voters...)
	_, err = owner.CreatePoll(ctx, string(id), client.PollSpec{Question: "one option?", Options: []string{"only"}})
	wantCode(t, "poll with one option", err, parley.CodeInvalid, "poll")
	p, err := owner.CreatePoll(ctx, string(id), client.PollSpec{Question: "Lunch?", Options: []string{"pizza", "sushi", "salad"}})
	if err != nil {
		t.Fatal(err)
	}
	mustSynced(t, ctx, voters...)
	wantCode(t, "two choices in a single-choice poll", voters[0].Vote(ctx, p.ID(), []int{0, 1}), parley.CodeInvalid, "poll_single_choice")
	wantCode(t, "no such option", voters[0].Vote(ctx, p.ID(), []int{7}), parley.CodeInvalid, "poll_choice")

	// Every voter votes at once, then voter 0 changes their vote.
	var wg sync.WaitGroup
	errs := make([]error, len(voters))
	for i, v := range voters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = v.Vote(ctx, p.ID(), []int{i % 2})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := voters[0].Vote(ctx, p.ID(), []int{2}); err != nil {
		t.Fatal(err)
	}
	for _, u := range append([]*user{owner}, voters...) {
		ex := mustExtras(t, ctx, u, id, p.Seq)
		if ex.Poll == nil || !slices.Equal(ex.Poll.Tallies, []int{1, 2, 1}) || !slices.Equal(ex.Poll.Votes[voters[0].Account().User], []int{2}) {
			t.Fatalf("%s sees poll %+v", u.phone, ex.Poll)
		}
	}
}

func TestDisappearingMessages(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	aliceClock, bobClock := &testClock{}, &testClock{}
	alice := mustRegisterClock(t, ts, phone(901), "Alice", aliceClock)
	bob := mustRegisterClock(t, ts, phone(902), "Bob", bobClock)
	res, err := alice.CreateGroup(ctx, "Ephemeral", []string{bob.phone}, client.GroupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Group.ID
	mustSynced(t, ctx, bob)
	old, err := alice.SendText(ctx, string(id), "gone tomorrow", 0)
	if err != nil {
		t.Fatal(err)
	}
	mustSynced(t, ctx, bob)

	wantCode(t, "bad duration", bob.SetDisappearing(ctx, string(id), time.Hour), parley.CodeInvalid, "disappear_duration")
	if err := bob.SetDisappearing(ctx, string(id), 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	mustSynced(t, ctx, alice)
	if d, err := alice.Disappearing(ctx, string(id)); err != nil || d != 24*time.Hour {
		t.Fatalf("timer = %v, %v", d, err)
	}

	// Every device deletes what is older than the timer.
	aliceClock.Add(25 * time.Hour)
	if err := alice.ExpireMessages(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Message(ctx, old.ID()); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("alice still has the expired message: %v", err)
	}
	bobClock.Add(25 * time.Hour)
	fresh, err := alice.SendText(ctx, string(id), "still here", 0)
	if err != nil {
		t.Fatal(err)
	}
	mustSynced(t, ctx, bob)
	if _, err := bob.Message(ctx, old.ID()); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("bob still has the expired message: %v", err)
	}
	if m, err := bob.Message(ctx, fresh.ID()); err != nil || m.Text != "still here" {
		t.Fatalf("bob lost the fresh message: %+v, %v", m, err)
	}

	// And the server's log: application envelopes past the timer go,
	// handshake envelopes stay.
	n, err := ts.store.PruneDisappearing(ctx, time.Now().Add(25*time.Hour))
	if err != nil || n < 2 {
		t.Fatalf("server pruned %d, %v", n, err)
	}
	envs, err := ts.store.ReadLog(ctx, id, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range envs {
		if e.Kind == parley.EnvelopeApplication {
			t.Fatalf("application envelope %d left in the log", e.Seq)
		}
	}
	if len(envs) == 0 {
		t.Fatal("the handshake envelopes were pruned too")
	}

	// In a group whose info only admins edit, members cannot change it.
	yes := true
	if _, err := alice.UpdateGroup(ctx, string(id), client.GroupUpdate{OnlyAdminsEditInfo: &yes}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "member sets the timer", bob.SetDisappearing(ctx, string(id), 0), parley.CodeForbidden, "admins_only_edit_info")
	if err := alice.SetDisappearing(ctx, string(id), 0); err != nil {
		t.Fatal(err)
	}
}
