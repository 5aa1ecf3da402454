package e2e

import (
	"slices"
	"strings"
	"testing"
)

// TestMovePrimaryDeviceKeepsHistory moves an account from one primary
// device to a new one, through the real CLI and server, with the key of
// the old phone's scheduled daily backups: the old phone makes its
// backup while `listen` runs, the new phone registers the same number
// (which revokes the old one), restores, and has the history of a group
// and of a direct chat; it writes in both, and the others read it and
// answer; the old phone is cut off.
func TestMovePrimaryDeviceKeepsHistory(t *testing.T) {
	s := mustServe(t)
	old := newDevice(t, "alice-old", "+14155550611")
	bob := newDevice(t, "bob", "+14155550612")
	carol := newDevice(t, "carol", "+14155550613")
	old.mustRegister(s, "Alice")
	bob.mustRegister(s, "Bob")
	carol.mustRegister(s, "Carol")

	group, _ := old.must("group", "create", "Trip", "--member", bob.phone, "--member", carol.phone).lines()[0]["group"].(string)
	old.must("send", "--to", group, "group plan: leave at 6")
	bob.must("send", "--to", group, "bring boots")
	direct := old.must("send", "--to", bob.phone, "direct: I am moving phones").lines()[0]["chat"].(string)
	bob.must("send", "--to", direct, "ok, see you there")
	for chat, want := range map[string][]string{group: {"You created the group", "group plan: leave at 6", "bring boots"}, direct: {"direct: I am moving phones", "ok, see you there"}} {
		if got := texts(old.must("history", chat).lines()); !slices.Equal(got, want) {
			t.Fatalf("the old phone's history of %s: %v", chat, got)
		}
	}

	// Daily backups on the old phone: the key is printed once, the
	// running client makes the first backup at once.
	sched := old.must("backup", "schedule", "daily").lines()
	key, _ := sched[0]["recovery_key"].(string)
	if len(strings.ReplaceAll(key, " ", "")) != 64 {
		t.Fatalf("backup schedule daily printed %v", sched)
	}
	old.must("listen", "--for", "5s")
	if st := old.must("backup", "schedule").lines(); st[0]["last"] == nil || st[0]["last_bytes"].(float64) <= 0 || st[0]["last_error"] != nil {
		t.Fatalf("the scheduled backup was not made: %v", st)
	}

	// The new phone: the same number, registered again, restored.
	phone := newDevice(t, "alice-new", old.phone)
	phone.mustRegister(s, "Alice")
	r := phone.must("backup", "restore", "--recovery-key", key).lines()
	if r[0]["chats"].(float64) != 2 || r[0]["messages"].(float64) != 5 || r[0]["skipped_chats"].(float64) != 0 {
		t.Fatalf("restore printed %v", r)
	}
	for chat, want := range map[string][]string{group: {"You created the group", "group plan: leave at 6", "bring boots"}, direct: {"direct: I am moving phones", "ok, see you there"}} {
		if got := texts(phone.must("history", chat).lines()); !slices.Equal(got, want) {
			t.Fatalf("the new phone's history of %s: %v", chat, got)
		}
	}

	phone.must("send", "--to", group, "new phone, same group")
	phone.must("send", "--to", direct, "new phone, same chat")
	for _, d := range []*device{bob, carol} {
		if got := texts(d.must("history", group).lines()); !slices.Contains(got, "new phone, same group") {
			t.Fatalf("%s's group history: %v", d.name, got)
		}
	}
	if got := texts(bob.must("history", direct).lines()); !slices.Contains(got, "new phone, same chat") {
		t.Fatalf("bob's direct history: %v", got)
	}
	carol.must("send", "--to", group, "welcome back")
	bob.must("send", "--to", direct, "got it")
	if got := texts(phone.must("history", group).lines()); !slices.Contains(got, "welcome back") {
		t.Fatalf("the new phone's group history: %v", got)
	}
	if got := texts(phone.must("history", direct).lines()); !slices.Contains(got, "got it") {
		t.Fatalf("the new phone's direct history: %v", got)
	}

	// The old phone was revoked by the registration: it cannot send.
	if r := old.mustFail(exitUnauthenticated, "send", "--to", group, "from the old phone"); !strings.Contains(r.stderr, "revoked") {
		t.Fatalf("the old phone's send: %s", r.stderr)
	}
}
