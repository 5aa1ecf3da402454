package client_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/client"
)

// systemLines returns u's system lines in the group, waiting up to a few
// seconds for want to be among them.
func systemLines(t *testing.T, ctx context.Context, u *user, group, want string) []string {
	t.Helper()
	var lines []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		_, hist, err := u.History(ctx, group, 0)
		if err != nil {
			t.Fatal(err)
		}
		lines = lines[:0]
		for _, m := range hist {
			if m.Kind == client.KindSystem {
				lines = append(lines, m.Text)
			}
		}
		if slices.Contains(lines, want) {
			return lines
		}
	}
	t.Fatalf("%s's system lines = %q; want %q among them", u.phone, lines, want)
	return nil
}

// TestMemberSystemLines: the membership changes a device processes
// (Welcomes, commits, leaves) become lines in the group's history.
func TestMemberSystemLines(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	alice := mustRegister(t, ts, phone(7321), "Alice")
	bob := mustRegister(t, ts, phone(7322), "Bob")
	carol := mustRegister(t, ts, phone(7323), "Carol")
	dave := mustRegister(t, ts, phone(7324), "Dave")
	// Lines name people as Name does: by the names they registered with.
	name := func(u *user) string { return bob.Profiles.Name(ctx, u.Account().User) }
	res, err := alice.CreateGroup(ctx, "Choir", []string{bob.phone}, client.GroupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g := string(res.Group.ID)
	mustSynced(t, ctx, bob)
	// The Welcome that came with the group's creation says so; the
	// creator's own device wrote its line when it created the group.
	systemLines(t, ctx, bob, g, name(alice)+" created the group and added you")
	if lines := systemLines(t, ctx, alice, g, "You created the group"); lines[0] != "You created the group" {
		t.Fatalf("alice's first line is %q, want the creation", lines[0])
	}

	if _, err := alice.AddGroupMembers(ctx, g, []string{carol.phone, dave.phone}); err != nil {
		t.Fatal(err)
	}
	mustSynced(t, ctx, carol, dave)
	systemLines(t, ctx, carol, g, carol.Profiles.Name(ctx, alice.Account().User)+" added you") // a later Welcome: not the creation
	systemLines(t, ctx, bob, g, name(alice)+" added "+name(carol)+" and "+name(dave))
	// Alice's own device writes the line of its own commit.
	aname := func(u *user) string { return alice.Profiles.Name(ctx, u.Account().User) }
	systemLines(t, ctx, alice, g, "You added "+aname(carol)+" and "+aname(dave))

	if err := carol.LeaveGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	systemLines(t, ctx, bob, g, name(carol)+" left")
	if err := alice.RemoveGroupMember(ctx, g, dave.phone); err != nil {
		t.Fatal(err)
	}
	systemLines(t, ctx, alice, g, "You removed "+aname(dave))
	lines := systemLines(t, ctx, bob, g, name(alice)+" removed "+name(dave))
	for _, l := range lines {
		if strings.Contains(l, "removed "+name(carol)) {
			t.Fatalf("bob's lines %q: carol left, nobody removed her", lines)
		}
	}
}
