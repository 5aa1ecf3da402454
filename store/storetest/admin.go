package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// RunAdmin tests parley.AdminStore against the stores open returns.
func RunAdmin(t *testing.T, open func(t *testing.T) parley.Store) {
	tests := []struct {
		name string
		f    func(t *testing.T, s parley.Store)
	}{
		{"Users", testAdminUsers},
		{"Suspend", testAdminSuspend},
		{"Groups", testAdminGroups},
		{"Stats", testAdminStats},
		{"Audit", testAdminAudit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { _ = s.Close() })
			tc.f(t, s)
		})
	}
}

func userIDs(us []parley.User) []parley.UserID {
	out := make([]parley.UserID, 0, len(us))
	for _, u := range us {
		out = append(out, u.ID)
	}
	return out
}

func testAdminUsers(t *testing.T, s parley.Store) {
	ctx := t.Context()
	mk := func(phone, name, username string) parley.User {
		u, err := s.CreateUser(ctx, parley.User{Phone: phone, Name: name, Username: username, CreatedAt: t0})
		must(t, err)
		return u
	}
	a := mk("+15550001", "Alice Smith", "Alice_1")
	b := mk("+15550002", "Bob", "")
	c := mk("+4420000003", "Carol 100%", "carol")
	all, err := s.AdminUsers(ctx, parley.AdminUserQuery{})
	must(t, err)
	equal(t, "all", userIDs(all), sortedIDs(a.ID, b.ID, c.ID))
	for _, tc := range []struct {
		find string
		want []parley.UserID
	}{
		{"+1555", sortedIDs(a.ID, b.ID)},
		{"1555000", sortedIDs(a.ID, b.ID)},
		{"@alice_", []parley.UserID{a.ID}},
		{"ALICE", []parley.UserID{a.ID}},
		{"smi", []parley.UserID{a.ID}},
		{"100%", []parley.UserID{c.ID}},
		{"alic_", []parley.UserID{}}, // a literal underscore, not LIKE's wildcard
		{"nobody", []parley.UserID{}},
	} {
		got, err := s.AdminUsers(ctx, parley.AdminUserQuery{Find: tc.find})
		must(t, err)
		equal(t, "find "+tc.find, userIDs(got), tc.want)
	}
	first, err := s.AdminUsers(ctx, parley.AdminUserQuery{Limit: 2})
	must(t, err)
	rest, err := s.AdminUsers(ctx, parley.AdminUserQuery{After: first[1].ID})
	must(t, err)
	equal(t, "pages", append(userIDs(first), userIDs(rest)...), userIDs(all))
}

func testAdminSuspend(t *testing.T, s parley.Store) {
	ctx := t.Context()
	u := MustUser(t, s)
	at := t0.Add(time.Hour)
	must(t, s.SetSuspended(ctx, u.ID, at))
	got, err := s.User(ctx, u.ID)
	must(t, err)
	equal(t, "suspended at", got.SuspendedAt, at)
	// Other updates keep the suspension.
	got.Name = "renamed"
	must(t, s.UpdateUser(ctx, got))
	got, err = s.UserByPhone(ctx, u.Phone)
	must(t, err)
	equal(t, "suspended after update", got.SuspendedAt, at)
	must(t, s.SetSuspended(ctx, u.ID, time.Time{}))
	got, err = s.User(ctx, u.ID)
	must(t, err)
	equal(t, "unsuspended", got.SuspendedAt.IsZero(), true)
	wantCode(t, s.SetSuspended(ctx, u.ID+1_000_000, at), parley.CodeNotFound, parley.ReasonNotFound)
}

func testAdminGroups(t *testing.T, s parley.Store) {
	ctx := t.Context()
	a, b, c := MustUser(t, s), MustUser(t, s), MustUser(t, s)
	da, db, dc := MustDevice(t, s, a.ID), MustDevice(t, s, b.ID), MustDevice(t, s, c.ID)
	group := func(name string, devs ...parley.Device) parley.ConversationID {
		id := parley.NewConversationID()
		var ms []parley.Member
		for _, d := range devs {
			ms = append(ms, parley.Member{User: d.User, Device: d.ID})
		}
		_, err := s.CreateGroup(ctx, parley.Group{ID: id, Name: name, CreatedBy: a.ID, CreatedAt: t0},
			parley.Conversation{ID: id, Kind: parley.KindGroup, Epoch: 1, CreatedBy: a.ID, CreatedAt: t0}, ms, nil)
		must(t, err)
		return id
	}
	small := group("small", da)
	big := group("big", da, db, dc)
	gs, err := s.AdminGroups(ctx, 0, 0)
	must(t, err)
	if len(gs) != 2 || gs[0].ID != big || gs[0].Members != 3 || gs[0].Name != "big" || gs[1].ID != small || gs[1].Members != 1 {
		t.Fatalf("groups = %+v, want big (3) then small (1)", gs)
	}
	gs, err = s.AdminGroups(ctx, 2, 0)
	must(t, err)
	if len(gs) != 1 || gs[0].ID != big {
		t.Fatalf("groups of 2 or more = %+v, want big", gs)
	}

	must(t, s.PutGroupInvitation(ctx, parley.GroupInvitation{Group: small, User: b.ID, InvitedBy: a.ID, CreatedAt: t0}))
	must(t, s.PutInviteLink(ctx, parley.GroupInviteLink{ID: "l1", TokenHash: []byte("token"), Group: small, CreatedBy: a.ID,
		CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	must(t, s.CloseGroupEntry(ctx, small))
	must(t, s.CloseGroupEntry(ctx, small)) // idempotent
	invs, err := s.GroupInvitations(ctx, b.ID)
	must(t, err)
	links, err := s.InviteLinks(ctx, small)
	must(t, err)
	if len(invs) != 0 || len(links) != 0 {
		t.Fatalf("after CloseGroupEntry: %d invitations, %d links", len(invs), len(links))
	}
}

func testAdminStats(t *testing.T, s parley.Store) {
	ctx := t.Context()
	a, b := MustUser(t, s), MustUser(t, s)
	da, db := MustDevice(t, s, a.ID), MustDevice(t, s, b.ID)
	old := MustDevice(t, s, b.ID)
	_, err := s.RevokeDevice(ctx, old.ID, t0)
	must(t, err)
	conv, err := direct(t, s, da, db)
	must(t, err)
	MustAppend(t, s, env(conv, da, "1"), env(conv, da, "2"))
	MustGroup(t, s, a.ID, da)
	must(t, s.SetSuspended(ctx, b.ID, t0))
	st, err := s.AdminStats(ctx)
	must(t, err)
	equal(t, "users", st.Users, 2)
	equal(t, "suspended", st.Suspended, 1)
	equal(t, "devices", st.Devices, 2)
	equal(t, "direct", st.Conversations[parley.KindDirect], 1)
	equal(t, "groups", st.Conversations[parley.KindGroup], 1)
	if st.Envelopes < 2 {
		t.Fatalf("envelopes = %d, want at least the 2 appended", st.Envelopes)
	}
}

func testAdminAudit(t *testing.T, s parley.Store) {
	ctx := t.Context()
	var ids []int64
	for i, action := range []string{"suspend", "unsuspend", "verify"} {
		e, err := s.AppendAudit(ctx, parley.AuditEntry{At: t0.Add(time.Duration(i) * time.Second), Actor: "operator",
			Action: action, Target: "user:1", Detail: json.RawMessage(`{"reason":"spam"}`)})
		must(t, err)
		if len(ids) > 0 && e.ID <= ids[len(ids)-1] {
			t.Fatalf("audit IDs not increasing: %d after %d", e.ID, ids[len(ids)-1])
		}
		ids = append(ids, e.ID)
	}
	_, err := s.AppendAudit(ctx, parley.AuditEntry{At: t0, Actor: "operator", Action: "stats", Target: ""})
	must(t, err)
	log, err := s.AuditLog(ctx, 0, 0)
	must(t, err)
	if len(log) != 4 || log[0].Action != "stats" || log[0].Detail != nil || log[3].Action != "suspend" {
		t.Fatalf("audit log = %+v", log)
	}
	equal(t, "at", log[3].At, t0)
	equal(t, "detail", string(log[3].Detail), `{"reason":"spam"}`)
	page, err := s.AuditLog(ctx, ids[2], 1)
	must(t, err)
	if len(page) != 1 || page[0].ID != ids[1] || page[0].Action != "unsuspend" {
		t.Fatalf("page before %d = %+v", ids[2], page)
	}
}
