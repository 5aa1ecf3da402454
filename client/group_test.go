package client_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
)

// mustSynced waits until u has processed everything the server has for it.
func mustSynced(t *testing.T, ctx context.Context, us ...*user) {
	t.Helper()
	for _, u := range us {
		if err := u.Sync(ctx); err != nil {
			t.Fatalf("sync %s: %v", u.phone, err)
		}
	}
}

// mustGroupMessage sends text from u to the group and waits for every one of
// to to receive it.
func mustGroupMessage(t *testing.T, ctx context.Context, from *user, id parley.ConversationID, text string, to ...*user) {
	t.Helper()
	if _, err := from.Send(ctx, string(id), text); err != nil {
		t.Fatalf("%s sends %q: %v", from.phone, text, err)
	}
	for _, u := range to {
		mustEvent(t, u.Client, u.phone+" receives "+text, isMessage(text))
	}
}

func wantCode(t *testing.T, what string, err error, code parley.Code, reason string) {
	t.Helper()
	if parley.ErrorCode(err) != code || (reason != "" && parley.ErrorReason(err) != reason) {
		t.Fatalf("%s: err = %v, want %s/%s", what, err, code, reason)
	}
}

func TestGroupLifecycle(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	alice := mustRegister(t, ts, phone(101), "Alice")
	bob := mustRegister(t, ts, phone(102), "Bob")
	carol := mustRegister(t, ts, phone(103), "Carol")

	res, err := alice.CreateGroup(ctx, "Hikers", []string{bob.phone, carol.phone}, client.GroupOptions{Description: "weekend walks"})
	if err != nil {
		t.Fatal(err)
	}
	g := res.Group
	if len(res.Added) != 2 || len(res.Invited) != 0 || len(g.Members) != 3 || !g.IsAdmin(alice.Account().User) || g.IsAdmin(bob.Account().User) {
		t.Fatalf("created %+v", res)
	}
	mustSynced(t, ctx, bob, carol)
	ch, err := bob.Chat(ctx, string(g.ID))
	if err != nil || ch.Kind != parley.KindGroup || ch.Title != "Hikers" {
		t.Fatalf("bob's chat = %+v, %v; want a group chat titled Hikers", ch, err)
	}
	mustGroupMessage(t, ctx, alice, g.ID, "hello hikers", bob, carol)
	mustGroupMessage(t, ctx, carol, g.ID, "hi all", alice, bob)

	// Addressed by name where unambiguous.
	if got, err := bob.Group(ctx, "hikers"); err != nil || got.ID != g.ID {
		t.Fatalf("group by name: %v %v", got.ID, err)
	}

	// The last admin leaving promotes the longest-standing member.
	if err := alice.LeaveGroup(ctx, string(g.ID)); err != nil {
		t.Fatal(err)
	}
	g2, err := bob.Group(ctx, string(g.ID))
	if err != nil {
		t.Fatal(err)
	}
	if g2.IsMember(alice.Account().User) || len(g2.Members) != 2 || !(g2.IsAdmin(bob.Account().User) || g2.IsAdmin(carol.Account().User)) {
		t.Fatalf("after the admin left: %+v", g2)
	}
	mustSynced(t, ctx, bob, carol)
	mustGroupMessage(t, ctx, bob, g.ID, "after alice left", carol)
	mustSynced(t, ctx, bob, carol)
	members, err := carol.Members(ctx, string(g.ID))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		if m.User == alice.Account().User {
			t.Fatalf("alice's device is still in carol's MLS group after leaving: %+v", members)
		}
	}
	if _, err := alice.Send(ctx, string(g.ID), "still here?"); err == nil {
		t.Fatal("alice could send after leaving")
	}
}

func TestGroupPermissionMatrix(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	admin := mustRegister(t, ts, phone(201), "Admin")
	member := mustRegister(t, ts, phone(202), "Member")
	other := mustRegister(t, ts, phone(203), "Other")
	extra := mustRegister(t, ts, phone(204), "Extra")
	victim := mustRegister(t, ts, phone(205), "Victim")

	res, err := admin.CreateGroup(ctx, "Matrix", []string{member.phone, victim.phone}, client.GroupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id := string(res.Group.ID)
	mustSynced(t, ctx, member, victim)
	yes, no := true, false
	name := "Renamed"

	type op struct {
		name string
		run  func(u *user) error
	}
	ops := []op{
		{"add", func(u *user) error { _, err := u.AddGroupMembers(ctx, id, []string{extra.phone}); return err }},
		{"remove", func(u *user) error { return u.RemoveGroupMember(ctx, id, victim.phone) }},
		{"promote", func(u *user) error { return u.SetGroupAdmin(ctx, id, member.phone, true) }},
		{"demote", func(u *user) error { return u.SetGroupAdmin(ctx, id, admin.phone, false) }},
		{"settings", func(u *user) error {
			_, err := u.UpdateGroup(ctx, id, client.GroupUpdate{OnlyAdminsSend: &no})
			return err
		}},
		{"invite", func(u *user) error { return u.InviteToGroup(ctx, id, other.phone) }},
	}
	// Every role × every operation: allowed, or a specific error.
	type want struct {
		code   parley.Code
		reason string
	}
	allowed := want{}
	forbidden := want{parley.CodeForbidden, "not_admin"}
	hidden := want{parley.CodeNotFound, "group_not_found"}
	matrix := map[string]map[string]want{
		"member":     {"add": forbidden, "remove": forbidden, "promote": forbidden, "demote": forbidden, "settings": forbidden, "invite": forbidden},
		"non-member": {"add": hidden, "remove": hidden, "promote": hidden, "demote": hidden, "settings": hidden, "invite": hidden},
	}
	roles := map[string]*user{"member": member, "non-member": other}
	for _, role := range []string{"member", "non-member"} {
		for _, o := range ops {
			w := matrix[role][o.name]
			err := o.run(roles[role])
			if parley.ErrorCode(err) != w.code || parley.ErrorReason(err) != w.reason {
				t.Errorf("%s %s: err = %v, want %s/%s", role, o.name, err, w.code, w.reason)
			}
		}
	}
	// The server enforces what the client checks: a member's raw commit
	// removing another user is refused.
	wantCode(t, "member removes by raw commit", member.RemoveGroupMember(ctx, id, admin.phone), parley.CodeForbidden, "not_admin")

	// Admin: every operation is allowed.
	for _, o := range ops {
		if o.name == "demote" {
			continue // tested below: demoting the only admin
		}
		if err := o.run(admin); err != nil {
			t.Errorf("admin %s: %v", o.name, err)
		}
	}
	_ = allowed
	g, err := admin.Group(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if g.IsMember(victim.Account().User) || !g.IsMember(extra.Account().User) || !g.IsAdmin(member.Account().User) {
		t.Fatalf("after the admin's operations: %+v", g)
	}
	// Admin demotes another admin; demoting the last admin is refused.
	if err := admin.SetGroupAdmin(ctx, id, member.phone, false); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "demote the only admin", admin.SetGroupAdmin(ctx, id, admin.phone, false), parley.CodeForbidden, "last_admin")
	if err := admin.SetGroupAdmin(ctx, id, member.phone, true); err != nil {
		t.Fatal(err)
	}
	if err := member.SetGroupAdmin(ctx, id, admin.phone, false); err != nil {
		t.Fatalf("admin demotes another admin: %v", err)
	}
	if err := member.SetGroupAdmin(ctx, id, admin.phone, true); err != nil {
		t.Fatal(err)
	}
	if err := admin.SetGroupAdmin(ctx, id, member.phone, false); err != nil {
		t.Fatal(err)
	}

	// Only admins can send.
	mustSynced(t, ctx, admin, member, extra)
	if _, err := admin.UpdateGroup(ctx, id, client.GroupUpdate{OnlyAdminsSend: &yes}); err != nil {
		t.Fatal(err)
	}
	_, err = member.Send(ctx, id, "may I?")
	wantCode(t, "member sends with only-admins-send", err, parley.CodeForbidden, "admins_only_send")
	mustGroupMessage(t, ctx, admin, parley.ConversationID(id), "admins speak", member, extra)

	// Only admins can edit info.
	if _, err := member.UpdateGroup(ctx, id, client.GroupUpdate{Name: &name}); err != nil {
		t.Fatalf("member renames while anyone may edit info: %v", err)
	}
	if _, err := admin.UpdateGroup(ctx, id, client.GroupUpdate{OnlyAdminsEditInfo: &yes}); err != nil {
		t.Fatal(err)
	}
	_, err = member.UpdateGroup(ctx, id, client.GroupUpdate{Name: &name})
	wantCode(t, "member edits info with only-admins-edit", err, parley.CodeForbidden, "admins_only_edit_info")
	if _, err := admin.UpdateGroup(ctx, id, client.GroupUpdate{Name: &name}); err != nil {
		t.Fatal(err)
	}
	empty := " "
	_, err = admin.UpdateGroup(ctx, id, client.GroupUpdate{Name: &empty})
	wantCode(t, "empty name", err, parley.CodeInvalid, "group_name")

	// Leave: members may; non-members get not found.
	wantCode(t, "non-member leaves", other.LeaveGroup(ctx, id), parley.CodeNotFound, "group_not_found")
	if err := extra.LeaveGroup(ctx, id); err != nil {
		t.Fatalf("member leaves: %v", err)
	}
}

func TestGroupConcurrentAdminCommits(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	a := mustRegister(t, ts, phone(301), "A")
	b := mustRegister(t, ts, phone(302), "B")
	c := mustRegister(t, ts, phone(303), "C")
	d := mustRegister(t, ts, phone(304), "D")
	res, err := a.CreateGroup(ctx, "Race", []string{b.phone}, client.GroupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Group.ID
	mustSynced(t, ctx, b)
	if err := a.SetGroupAdmin(ctx, string(id), b.phone, true); err != nil {
		t.Fatal(err)
	}
	before, err := ts.store.Conversation(ctx, id)
	if err != nil {
		t.Fatal(err)
	}

	// Both admins commit on the same epoch at once: one wins, the other gets
	// wrong_epoch, processes the winner's commit and retries on the next.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, pair := range [][2]*user{{a, c}, {b, d}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = pair[0].AddGroupMembers(ctx, string(id), []string{pair[1].phone})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("admin %d add: %v", i, err)
		}
	}
	after, err := ts.store.Conversation(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if after.Epoch != before.Epoch+2 {
		t.Fatalf("epoch %d → %d, want exactly two applied commits", before.Epoch, after.Epoch)
	}
	mustSynced(t, ctx, a, b, c, d)
	// Everyone converged on one group: same epoch, same members, and every
	// member reads every other.
	var want []parley.DeviceID
	for i, u := range []*user{a, b, c, d} {
		ms, err := u.Members(ctx, string(id))
		if err != nil {
			t.Fatalf("user %d: %v", i, err)
		}
		var got []parley.DeviceID
		for _, m := range ms {
			got = append(got, m.Device)
		}
		slices.Sort(got)
		if i == 0 {
			want = got
		} else if !slices.Equal(got, want) {
			t.Fatalf("user %d sees members %v, user 0 sees %v", i, got, want)
		}
	}
	if len(want) != 4 {
		t.Fatalf("members %v, want 4 devices", want)
	}
	mustGroupMessage(t, ctx, c, id, "from c", a, b, d)
	mustGroupMessage(t, ctx, d, id, "from d", a, b, c)
}

func TestGroupRemovedMemberCannotDecrypt(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	alice := mustRegister(t, ts, phone(401), "Alice")
	bob := mustRegister(t, ts, phone(402), "Bob")
	eve := mustRegister(t, ts, phone(403), "Eve")
	res, err := alice.CreateGroup(ctx, "Secrets", []string{bob.phone, eve.phone}, client.GroupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Group.ID
	mustSynced(t, ctx, bob, eve)
	mustGroupMessage(t, ctx, bob, id, "before removal", alice, eve)

	if err := alice.RemoveGroupMember(ctx, string(id), eve.phone); err != nil {
		t.Fatal(err)
	}
	mustSynced(t, ctx, bob, eve)
	mustGroupMessage(t, ctx, bob, id, "after removal", alice)

	// Eve's device processed the commit that removed it and dropped the
	// group's keys; the server no longer delivers to it nor accepts from it.
	if _, err := eve.Members(ctx, string(id)); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("eve still has the group's MLS state: %v", err)
	}
	_, hist, err := eve.History(ctx, string(id), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range hist {
		if m.Text == "after removal" {
			t.Fatalf("eve read a message sent after her removal: %+v", m)
		}
	}
	if _, err := eve.Send(ctx, string(id), "let me back"); err == nil {
		t.Fatal("a removed member could send")
	}
	if _, err := eve.Group(ctx, string(id)); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("removed member sees the group: %v", err)
	}
	// Even with the ciphertext (read straight from the server's log), the
	// epoch keys eve had are not those of the new epoch: see
	// TestRemovedLeafCannotDecrypt in package groups for the MLS-level check.
}

func TestGroupPrivacyInvitation(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	alice := mustRegister(t, ts, phone(501), "Alice")
	bob := mustRegister(t, ts, phone(502), "Bob")
	carol := mustRegister(t, ts, phone(503), "Carol")
	if err := carol.SetGroupAddPrivacy(ctx, "nobody"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "bad privacy", carol.SetGroupAddPrivacy(ctx, "friends"), parley.CodeInvalid, "visibility")

	res, err := alice.CreateGroup(ctx, "Book club", []string{bob.phone, carol.phone}, client.GroupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Invited, []parley.UserID{carol.Account().User}) || res.Group.IsMember(carol.Account().User) {
		t.Fatalf("create: %+v; want carol invited, not added", res)
	}
	id := res.Group.ID
	// Without an invitation nobody can join by external commit.
	wantCode(t, "uninvited accept", func() error { _, err := bob.AcceptGroupInvitation(ctx, string(id)); return err }(), parley.CodeNotFound, "no_invitation")

	invs, err := carol.GroupInvitations(ctx)
	if err != nil || len(invs) != 1 || invs[0].Group != id || invs[0].Name != "Book club" {
		t.Fatalf("carol's invitations = %+v, %v", invs, err)
	}
	g, err := carol.AcceptGroupInvitation(ctx, "Book club")
	if err != nil {
		t.Fatal(err)
	}
	if !g.IsMember(carol.Account().User) {
		t.Fatalf("carol not a member after accepting: %+v", g)
	}
	if invs, _ := carol.GroupInvitations(ctx); len(invs) != 0 {
		t.Fatalf("invitation not used up: %+v", invs)
	}
	mustSynced(t, ctx, alice, bob)
	mustGroupMessage(t, ctx, carol, id, "thanks for the invite", alice, bob)
	mustGroupMessage(t, ctx, alice, id, "welcome carol", bob, carol)

	// "contacts": a contact of the invitee may add them directly.
	dave := mustRegister(t, ts, phone(504), "Dave")
	if err := dave.SetGroupAddPrivacy(ctx, "contacts"); err != nil {
		t.Fatal(err)
	}
	r2, err := alice.AddGroupMembers(ctx, string(id), []string{dave.phone})
	if err != nil || len(r2.Invited) != 1 {
		t.Fatalf("add a non-contact with contacts-only privacy: %+v, %v; want an invitation", r2, err)
	}
	if err := dave.DeclineGroupInvitation(ctx, string(id)); err != nil {
		t.Fatal(err)
	}
	if _, err := dave.AddContact(ctx, alice.phone); err != nil {
		t.Fatal(err)
	}
	r3, err := alice.AddGroupMembers(ctx, string(id), []string{dave.phone})
	if err != nil || len(r3.Added) != 1 {
		t.Fatalf("add a contact: %+v, %v", r3, err)
	}
	mustSynced(t, ctx, dave)
	mustGroupMessage(t, ctx, dave, id, "hello from dave", alice, bob, carol)
}

func TestGroupInviteLinks(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	alice := mustRegister(t, ts, phone(601), "Alice")
	bob := mustRegister(t, ts, phone(602), "Bob")
	carol := mustRegister(t, ts, phone(603), "Carol")
	dave := mustRegister(t, ts, phone(604), "Dave")
	eve := mustRegister(t, ts, phone(605), "Eve")
	res, err := alice.CreateGroup(ctx, "Open house", nil, client.GroupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id := string(res.Group.ID)

	// A one-use link: bob joins by external commit (no admin action
	// needed); carol, second, is refused.
	once, err := alice.CreateInviteLink(ctx, id, client.LinkOptions{MaxUses: 1, ExpiresIn: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(once.Link, client.LinkPrefix) || once.ExpiresAt.IsZero() || once.MaxUses != 1 {
		t.Fatalf("link = %+v", once)
	}
	j, err := bob.JoinByLink(ctx, once.Link)
	if err != nil || j.Pending || !j.Group.IsMember(bob.Account().User) {
		t.Fatalf("bob joins by link: %+v, %v", j, err)
	}
	_, err = carol.JoinByLink(ctx, once.Link)
	wantCode(t, "used-up link", err, parley.CodeExpired, "invite_used_up")
	mustSynced(t, ctx, alice)
	mustGroupMessage(t, ctx, bob, parley.ConversationID(id), "joined by link", alice)
	mustGroupMessage(t, ctx, alice, parley.ConversationID(id), "welcome bob", bob)

	// Only admins make, list and revoke links.
	_, err = bob.CreateInviteLink(ctx, id, client.LinkOptions{})
	wantCode(t, "member creates a link", err, parley.CodeForbidden, "not_admin")
	_, err = eve.CreateInviteLink(ctx, id, client.LinkOptions{})
	wantCode(t, "outsider creates a link", err, parley.CodeNotFound, "group_not_found")

	// Revocation.
	open, err := alice.CreateInviteLink(ctx, id, client.LinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, "member revokes", bob.RevokeInviteLink(ctx, id, open.Link), parley.CodeForbidden, "not_admin")
	if err := alice.RevokeInviteLink(ctx, id, open.Link); err != nil {
		t.Fatal(err)
	}
	_, err = carol.JoinByLink(ctx, open.Link)
	wantCode(t, "revoked link", err, parley.CodeExpired, "invite_revoked")
	_, err = carol.JoinByLink(ctx, client.LinkPrefix+"nosuchtoken")
	wantCode(t, "unknown link", err, parley.CodeNotFound, "invite_not_found")
	links, err := alice.InviteLinks(ctx, id)
	if err != nil || len(links) != 2 || links[0].Uses != 1 || !links[1].Revoked || links[0].Link != "" {
		t.Fatalf("links = %+v, %v", links, err)
	}

	// Approval: requests are listed for admins, approved or rejected.
	ap, err := alice.CreateInviteLink(ctx, id, client.LinkOptions{Approve: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []*user{dave, eve} {
		j, err := u.JoinByLink(ctx, ap.Link)
		if err != nil || !j.Pending || j.Group.Name != "Open house" {
			t.Fatalf("%s asks to join: %+v, %v", u.phone, j, err)
		}
	}
	_, err = bob.JoinRequests(ctx, id)
	wantCode(t, "member lists requests", err, parley.CodeForbidden, "not_admin")
	reqs, err := alice.JoinRequests(ctx, id)
	if err != nil || len(reqs) != 2 {
		t.Fatalf("requests = %+v, %v", reqs, err)
	}
	if _, err := dave.Group(ctx, id); err == nil {
		t.Fatal("a pending requester sees the group")
	}
	if err := alice.DecideJoinRequest(ctx, id, dave.Account().User, true); err != nil {
		t.Fatal(err)
	}
	if err := alice.DecideJoinRequest(ctx, id, eve.Account().User, false); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "decide twice", alice.DecideJoinRequest(ctx, id, eve.Account().User, true), parley.CodeNotFound, "no_request")
	j, err = dave.JoinByLink(ctx, ap.Link)
	if err != nil || j.Pending || !j.Group.IsMember(dave.Account().User) {
		t.Fatalf("approved dave joins: %+v, %v", j, err)
	}
	if _, err := eve.AcceptGroupInvitation(ctx, id); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("rejected eve accepts: %v", err)
	}
	mustSynced(t, ctx, alice, bob)
	mustGroupMessage(t, ctx, dave, parley.ConversationID(id), "approved and in", alice, bob)
}
