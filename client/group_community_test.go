package client_test

import (
	"slices"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
)

func TestCommunity(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	admin := mustRegister(t, ts, phone(1001), "Admin")
	m1 := mustRegister(t, ts, phone(1002), "M1")
	m2 := mustRegister(t, ts, phone(1003), "M2")
	outsider := mustRegister(t, ts, phone(1004), "Outsider")

	res, err := admin.CreateCommunity(ctx, "Neighbours", []string{m1.phone, m2.phone}, client.GroupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	comm := res.Group
	if !comm.IsCommunity() || !comm.OnlyAdminsSend || len(comm.Members) != 3 {
		t.Fatalf("community = %+v", comm)
	}
	mustSynced(t, ctx, m1, m2)
	if _, err := admin.Announce(ctx, "Neighbours", "street party saturday"); err != nil {
		t.Fatal(err)
	}
	for _, u := range []*user{m1, m2} {
		mustEvent(t, u.Client, "announcement", isMessage("street party saturday"))
	}
	_, err = m1.Announce(ctx, "Neighbours", "me too")
	wantCode(t, "member announces", err, parley.CodeForbidden, "admins_only_send")
	no := false
	_, err = admin.UpdateGroup(ctx, string(comm.ID), client.GroupUpdate{OnlyAdminsSend: &no})
	wantCode(t, "open the announcements", err, parley.CodeInvalid, "announcement_only")

	// Sub-groups: admins create them; members see them and join.
	_, err = m1.CreateCommunityGroup(ctx, "Neighbours", "Rogue", nil, client.GroupOptions{})
	wantCode(t, "member creates a sub-group", err, parley.CodeForbidden, "not_admin")
	sub, err := admin.CreateCommunityGroup(ctx, "Neighbours", "Gardening", []string{m1.phone}, client.GroupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	list, err := m2.CommunityGroups(ctx, string(comm.ID))
	if err != nil || len(list) != 1 || list[0].Name != "Gardening" || list[0].Member || list[0].Members != 2 {
		t.Fatalf("m2 sees sub-groups %+v, %v", list, err)
	}
	_, err = outsider.CommunityGroups(ctx, string(comm.ID))
	wantCode(t, "outsider lists sub-groups", err, parley.CodeNotFound, "group_not_found")
	if _, err := outsider.JoinCommunityGroup(ctx, string(comm.ID), string(sub.Group.ID)); err == nil {
		t.Fatal("an outsider joined a community's sub-group")
	}
	jr, err := m2.JoinCommunityGroup(ctx, "Neighbours", "Gardening")
	g := jr.Group
	if err != nil || jr.Pending || !g.IsMember(m2.Account().User) || g.Community != comm.ID {
		t.Fatalf("m2 joins: %+v, %v", jr, err)
	}
	mustSynced(t, ctx, admin, m1)
	mustGroupMessage(t, ctx, m2, g.ID, "tomatoes!", admin, m1)

	// An existing group can be put under the community and taken out.
	book, err := admin.CreateGroup(ctx, "Book club", nil, client.GroupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.AddCommunityGroup(ctx, "Neighbours", "Book club"); err != nil {
		t.Fatal(err)
	}
	if list, _ := m1.CommunityGroups(ctx, string(comm.ID)); len(list) != 2 {
		t.Fatalf("after add-group: %+v", list)
	}
	wantCode(t, "member removes a sub-group", m1.RemoveCommunityGroup(ctx, "Neighbours", string(book.Group.ID)), parley.CodeForbidden, "not_admin")
	if err := admin.RemoveCommunityGroup(ctx, "Neighbours", string(book.Group.ID)); err != nil {
		t.Fatal(err)
	}
	if list, _ := m1.CommunityGroups(ctx, string(comm.ID)); len(list) != 1 {
		t.Fatalf("after remove-group: %+v", list)
	}

	// Removing m2 from the community removes them from its groups.
	if err := admin.RemoveGroupMember(ctx, string(comm.ID), m2.phone); err != nil {
		t.Fatal(err)
	}
	gg, err := admin.Group(ctx, string(g.ID))
	if err != nil || gg.IsMember(m2.Account().User) {
		t.Fatalf("m2 still in the sub-group: %+v, %v", gg, err)
	}
	mustSynced(t, ctx, admin, m1)
	mustGroupMessage(t, ctx, admin, g.ID, "after m2 left", m1)
	mustSynced(t, ctx, admin, m1)
	ms, err := m1.Members(ctx, string(g.ID))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.User == m2.Account().User {
			t.Fatalf("m2's device still in the sub-group's MLS group: %+v", ms)
		}
	}
	if _, err := m2.Group(ctx, string(g.ID)); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("m2 still sees the sub-group: %v", err)
	}
}

// TestCommunityJoinApproval: a sub-group whose admins approve new members.
// A community member's join becomes a request (a direct external commit is
// refused), the admin sees and approves it, and the member then joins; the
// setting and the role change are lines in every member's history, also on
// a device that was offline when they happened.
func TestCommunityJoinApproval(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	admin := mustRegister(t, ts, phone(1101), "Admin")
	m1 := mustRegister(t, ts, phone(1102), "M1")
	m2 := mustRegister(t, ts, phone(1103), "M2")
	if _, err := admin.CreateCommunity(ctx, "Parents", []string{m1.phone, m2.phone}, client.GroupOptions{}); err != nil {
		t.Fatal(err)
	}
	sub, err := admin.CreateCommunityGroup(ctx, "Parents", "Class 3B", []string{m1.phone}, client.GroupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	_, err = m1.UpdateGroup(ctx, string(sub.Group.ID), client.GroupUpdate{JoinApproval: &yes})
	wantCode(t, "member sets join approval", err, parley.CodeForbidden, "not_admin")
	g, err := admin.UpdateGroup(ctx, string(sub.Group.ID), client.GroupUpdate{JoinApproval: &yes})
	if err != nil || !g.JoinApproval {
		t.Fatalf("set join approval: %+v, %v", g, err)
	}
	plain, err := admin.CreateGroup(ctx, "Plain", nil, client.GroupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = admin.UpdateGroup(ctx, string(plain.Group.ID), client.GroupUpdate{JoinApproval: &yes})
	wantCode(t, "join approval on a plain group", err, parley.CodeInvalid, "not_sub_group")

	list, err := m2.CommunityGroups(ctx, "Parents")
	if err != nil || len(list) != 1 || !list[0].JoinApproval || list[0].Pending {
		t.Fatalf("m2 sees %+v, %v", list, err)
	}
	jr, err := m2.JoinCommunityGroup(ctx, "Parents", "Class 3B")
	if err != nil || !jr.Pending || jr.Group.ID != sub.Group.ID {
		t.Fatalf("m2 asks to join: %+v, %v", jr, err)
	}
	if list, _ := m2.CommunityGroups(ctx, "Parents"); len(list) != 1 || !list[0].Pending {
		t.Fatalf("after asking: %+v", list)
	}
	// Asking twice is one request.
	if jr, err := m2.JoinCommunityGroup(ctx, "Parents", "Class 3B"); err != nil || !jr.Pending {
		t.Fatalf("m2 asks again: %+v, %v", jr, err)
	}
	reqs, err := admin.JoinRequests(ctx, string(sub.Group.ID))
	if err != nil || len(reqs) != 1 || reqs[0].User != m2.Account().User {
		t.Fatalf("requests = %+v, %v", reqs, err)
	}
	wantCode(t, "member decides", m1.DecideJoinRequest(ctx, string(sub.Group.ID), m2.Account().User, true), parley.CodeForbidden, "not_admin")
	if err := admin.DecideJoinRequest(ctx, string(sub.Group.ID), m2.Account().User, true); err != nil {
		t.Fatal(err)
	}
	jr, err = m2.JoinCommunityGroup(ctx, "Parents", "Class 3B")
	if err != nil || jr.Pending || !jr.Group.IsMember(m2.Account().User) {
		t.Fatalf("m2 joins after approval: %+v, %v", jr, err)
	}
	mustSynced(t, ctx, admin, m1)
	mustGroupMessage(t, ctx, m2, sub.Group.ID, "hello class", admin, m1)

	// m1 is offline while the admin promotes them and renames the group.
	m1dir := m1.Dir()
	if err := m1.Close(); err != nil {
		t.Fatal(err)
	}
	if err := admin.SetGroupAdmin(ctx, string(sub.Group.ID), m1.phone, true); err != nil {
		t.Fatal(err)
	}
	name := "Class 3B parents"
	if _, err := admin.UpdateGroup(ctx, string(sub.Group.ID), client.GroupUpdate{Name: &name}); err != nil {
		t.Fatal(err)
	}
	back := mustOpen(t, m1dir)
	if err := back.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	chat, msgs, err := back.History(ctx, string(sub.Group.ID), 50)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, m := range msgs {
		if m.Kind == client.KindSystem {
			lines = append(lines, m.Text)
		}
	}
	want := []string{
		"Admin created the group and added you", // the Welcome of the sub-group's creation
		"Admin asked community members to request to join",
		"M2 joined", // m2's external commit
		"Admin made you an admin",
		`Admin changed the group name to "Class 3B parents"`,
	}
	if !slices.Equal(lines, want) {
		t.Fatalf("m1's system lines = %q, want %q", lines, want)
	}
	if chat.Title != name || chat.Unread != 1 { // "hello class" only: system lines are never unread
		t.Fatalf("m1's chat = %+v", chat)
	}
}
