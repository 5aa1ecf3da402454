package client_test

import (
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
	g, err := m2.JoinCommunityGroup(ctx, "Neighbours", "Gardening")
	if err != nil || !g.IsMember(m2.Account().User) || g.Community != comm.ID {
		t.Fatalf("m2 joins: %+v, %v", g, err)
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
