// Package grouptest is the contract suite for parley.GroupStore: every
// implementation (store/sqlite, store/postgres) runs it from its tests.
//
// It checks atomic creation of a group with its conversation, roles and the
// never-without-an-admin rule (promotion of the longest-standing member when
// the last admin leaves or is removed; refusing to demote the last admin),
// the admin check inside ApplyGroupCommit's transaction, invitations used
// up by the commit that uses them, the member limit, exactly one winner
// among concurrent commits for an epoch, LeaveGroup, SharesGroup (including
// former members), the "who can add me" privacy, and invite links (expiry,
// revocation, use limit, approval and join requests), disappearing-
// messages timers with their log pruning, and communities (sub-groups, and
// the cascade removing who leaves a community from its sub-groups).
package grouptest

import (
	"cmp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/store/storetest"
)

// Store is a parley.Store that also implements parley.GroupStore.
type Store interface {
	parley.Store
	parley.GroupStore
}

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// Run runs the suite. open returns a Store over fresh, empty storage for the
// subtest t; the suite closes it.
func Run(t *testing.T, open func(t *testing.T) Store) {
	tests := []struct {
		name string
		f    func(t *testing.T, s Store)
	}{
		{"CreateGroup", testCreate},
		{"Roles", testRoles},
		{"CommitAdminCheck", testCommitAdmin},
		{"CommitRemovesUsersAndPromotes", testCommitRemoves},
		{"Invitations", testInvitations},
		{"MaxMembers", testMaxMembers},
		{"ConcurrentCommits", testConcurrent},
		{"Leave", testLeave},
		{"SharesGroup", testShares},
		{"AddPrivacy", testPrivacy},
		{"InviteLinks", testLinks},
		{"JoinRequests", testJoinRequests},
		{"ChatTimers", testTimers},
		{"CommunityCascade", testCommunity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			tt.f(t, s)
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, what string, err error, code parley.Code, reason string) {
	t.Helper()
	if parley.ErrorCode(err) != code || (reason != "" && parley.ErrorReason(err) != reason) {
		t.Fatalf("%s: err = %v, want %s/%s", what, err, code, reason)
	}
}

type fixture struct {
	id    parley.ConversationID
	users []parley.User
	devs  []parley.Device
}

// mustGroup creates a group of n users (one device each), users[0] admin.
func mustGroup(t *testing.T, s Store, n int) fixture {
	t.Helper()
	f := fixture{id: parley.NewConversationID()}
	var ms []parley.Member
	users := make([]parley.User, n)
	for i := range users {
		users[i] = storetest.MustUser(t, s)
	}
	// Members after the creator in ID order: members who joined together
	// are ordered by user ID (which ensureAdmin's tie-break follows), and
	// IDs are random.
	slices.SortFunc(users[1:], func(a, b parley.User) int { return cmp.Compare(a.ID, b.ID) })
	for _, u := range users {
		d := storetest.MustDevice(t, s, u.ID)
		f.users, f.devs = append(f.users, u), append(f.devs, d)
		ms = append(ms, parley.Member{Conversation: f.id, User: u.ID, Device: d.ID})
	}
	c := parley.Conversation{ID: f.id, Kind: parley.KindGroup, Epoch: 1, GroupInfo: []byte("gi1"), CreatedBy: f.users[0].ID, CreatedAt: t0}
	g := parley.Group{ID: f.id, Name: "g", Description: "d", Icon: "i", Settings: parley.GroupSettings{OnlyAdminsSend: true},
		CreatedBy: f.users[0].ID, CreatedAt: t0}
	welcome := parley.Envelope{Sender: f.users[0].ID, SenderDevice: f.devs[0].ID, ClientID: "w", Kind: parley.EnvelopeWelcome, Epoch: 1, Payload: []byte("w"), CreatedAt: t0}
	_, err := s.CreateGroup(t.Context(), g, c, ms, []parley.Envelope{welcome})
	must(t, err)
	return f
}

func roles(t *testing.T, s Store, id parley.ConversationID) map[parley.UserID]parley.GroupRole {
	t.Helper()
	ms, err := s.GroupMembers(t.Context(), id)
	must(t, err)
	out := map[parley.UserID]parley.GroupRole{}
	for _, m := range ms {
		out[m.User] = m.Role
	}
	return out
}

func commitEnv(f fixture, by int, epoch parley.Epoch, cid string) parley.Envelope {
	return parley.Envelope{Sender: f.users[by].ID, SenderDevice: f.devs[by].ID, ClientID: parley.ClientMessageID(cid),
		Kind: parley.EnvelopeCommit, Epoch: epoch, Payload: []byte(cid), CreatedAt: t0.Add(time.Minute)}
}

func testCreate(t *testing.T, s Store) {
	f := mustGroup(t, s, 3)
	g, err := s.Group(t.Context(), f.id)
	must(t, err)
	if g.Name != "g" || g.Description != "d" || g.Icon != "i" || !g.Settings.OnlyAdminsSend || g.Settings.OnlyAdminsEditInfo ||
		g.CreatedBy != f.users[0].ID || !g.CreatedAt.Equal(t0) {
		t.Fatalf("group = %+v", g)
	}
	r := roles(t, s, f.id)
	if len(r) != 3 || r[f.users[0].ID] != parley.RoleAdmin || r[f.users[1].ID] != parley.RoleMember {
		t.Fatalf("roles = %v", r)
	}
	ms, err := s.Members(t.Context(), f.id)
	must(t, err)
	if len(ms) != 3 {
		t.Fatalf("conversation members = %v", ms)
	}
	if c, err := s.Conversation(t.Context(), f.id); err != nil || c.Kind != parley.KindGroup || c.LastSeq != 1 {
		t.Fatalf("conversation = %+v, %v", c, err)
	}
	gs, err := s.GroupsOfUser(t.Context(), f.users[1].ID)
	must(t, err)
	if len(gs) != 1 || gs[0].ID != f.id {
		t.Fatalf("groups of user = %v", gs)
	}
	_, err = s.Group(t.Context(), parley.NewConversationID())
	wantErr(t, "missing group", err, parley.CodeNotFound, "")
	g.Name, g.Settings = "renamed", parley.GroupSettings{OnlyAdminsEditInfo: true, JoinApproval: true}
	env, err := s.UpdateGroup(t.Context(), g, sysEnv("info"))
	must(t, err)
	if g2, _ := s.Group(t.Context(), f.id); g2.Name != "renamed" || g2.Settings != g.Settings {
		t.Fatalf("after update: %+v", g2)
	}
	if c, _ := s.Conversation(t.Context(), f.id); env.Seq != 2 || c.LastSeq != 2 || env.Conversation != f.id {
		t.Fatalf("update appended %+v; conversation at %d", env, c.LastSeq)
	}
	g.ID = parley.NewConversationID()
	_, err = s.UpdateGroup(t.Context(), g, sysEnv("info2"))
	wantErr(t, "update a missing group", err, parley.CodeNotFound, "")
	// Creating the same id again changes nothing.
	c := parley.Conversation{ID: f.id, Kind: parley.KindGroup, Epoch: 1, CreatedBy: f.users[1].ID, CreatedAt: t0}
	_, err = s.CreateGroup(t.Context(), parley.Group{ID: f.id, Name: "x", CreatedBy: f.users[1].ID}, c, nil, nil)
	wantErr(t, "duplicate id", err, parley.CodeConflict, "conversation_exists")
	if r := roles(t, s, f.id); r[f.users[1].ID] != parley.RoleMember {
		t.Fatalf("a failed create changed roles: %v", r)
	}
}

func testRoles(t *testing.T, s Store) {
	f := mustGroup(t, s, 2)
	ctx := t.Context()
	_, err := s.SetGroupRole(ctx, f.id, f.users[0].ID, parley.RoleMember, sysEnv("r0"))
	wantErr(t, "demote last admin", err, parley.CodeForbidden, "last_admin")
	_, err = s.SetGroupRole(ctx, f.id, 99999, parley.RoleAdmin, sysEnv("r1"))
	wantErr(t, "role of a non-member", err, parley.CodeNotFound, "not_member")
	if c, _ := s.Conversation(ctx, f.id); c.LastSeq != 1 {
		t.Fatalf("refused role changes appended: last seq %d", c.LastSeq)
	}
	e1, err := s.SetGroupRole(ctx, f.id, f.users[1].ID, parley.RoleAdmin, sysEnv("r2"))
	must(t, err)
	e2, err := s.SetGroupRole(ctx, f.id, f.users[0].ID, parley.RoleMember, sysEnv("r3"))
	must(t, err)
	if r := roles(t, s, f.id); r[f.users[0].ID] != parley.RoleMember || r[f.users[1].ID] != parley.RoleAdmin {
		t.Fatalf("roles = %v", r)
	}
	if e1.Seq != 2 || e2.Seq != 3 {
		t.Fatalf("role changes appended at %d, %d", e1.Seq, e2.Seq)
	}
}

func testCommitAdmin(t *testing.T, s Store) {
	f := mustGroup(t, s, 2)
	ctx := t.Context()
	nu := storetest.MustUser(t, s)
	nd := storetest.MustDevice(t, s, nu.ID)
	add := parley.GroupCommit{
		Commit: parley.Commit{Conversation: f.id, Epoch: 1, Add: []parley.Member{{Conversation: f.id, User: nu.ID, Device: nd.ID}},
			GroupInfo: []byte("gi2"), Envelopes: []parley.Envelope{commitEnv(f, 1, 1, "c1")}},
		AddUsers: []parley.UserID{nu.ID}, RequireAdmin: f.users[1].ID,
	}
	_, err := s.ApplyGroupCommit(ctx, add)
	wantErr(t, "member's admin-only commit", err, parley.CodeForbidden, "not_admin")
	if c, _ := s.Conversation(ctx, f.id); c.Epoch != 1 || c.LastSeq != 1 {
		t.Fatalf("a refused commit changed the conversation: %+v", c)
	}
	add.RequireAdmin = f.users[0].ID
	add.Envelopes = []parley.Envelope{commitEnv(f, 0, 1, "c1")}
	out, err := s.ApplyGroupCommit(ctx, add)
	must(t, err)
	if len(out) != 1 || out[0].Seq != 2 {
		t.Fatalf("appended %v", out)
	}
	if r := roles(t, s, f.id); r[nu.ID] != parley.RoleMember || len(r) != 3 {
		t.Fatalf("roles after add = %v", r)
	}
	if m, err := s.Member(ctx, f.id, nd.ID); err != nil || m.FromSeq != 2 {
		t.Fatalf("added device = %+v, %v", m, err)
	}
	_, err = s.ApplyGroupCommit(ctx, add)
	wantErr(t, "stale epoch", err, parley.CodeConflict, "wrong_epoch")
}

func testCommitRemoves(t *testing.T, s Store) {
	f := mustGroup(t, s, 3)
	ctx := t.Context()
	// user 1 has a second device; removing only one keeps them a member.
	d2 := storetest.MustDevice(t, s, f.users[1].ID)
	_, err := s.ApplyGroupCommit(ctx, parley.GroupCommit{Commit: parley.Commit{Conversation: f.id, Epoch: 1,
		Add: []parley.Member{{Conversation: f.id, User: f.users[1].ID, Device: d2.ID}}, GroupInfo: []byte("g"),
		Envelopes: []parley.Envelope{commitEnv(f, 1, 1, "a")}}})
	must(t, err)
	_, err = s.ApplyGroupCommit(ctx, parley.GroupCommit{Commit: parley.Commit{Conversation: f.id, Epoch: 2,
		Remove: []parley.DeviceID{d2.ID}, GroupInfo: []byte("g"), Envelopes: []parley.Envelope{commitEnv(f, 1, 2, "b")}}})
	must(t, err)
	if r := roles(t, s, f.id); len(r) != 3 {
		t.Fatalf("removing one of two devices removed the user: %v", r)
	}
	// Removing the admin's only device removes the admin; the
	// longest-standing member (lowest id among equals) becomes admin.
	_, err = s.ApplyGroupCommit(ctx, parley.GroupCommit{Commit: parley.Commit{Conversation: f.id, Epoch: 3,
		Remove: []parley.DeviceID{f.devs[0].ID}, GroupInfo: []byte("g"), Envelopes: []parley.Envelope{commitEnv(f, 1, 3, "c")}},
		RequireAdmin: 0})
	must(t, err)
	r := roles(t, s, f.id)
	if _, ok := r[f.users[0].ID]; ok || len(r) != 2 || r[f.users[1].ID] != parley.RoleAdmin {
		t.Fatalf("after removing the admin: %v", r)
	}
}

func testInvitations(t *testing.T, s Store) {
	f := mustGroup(t, s, 1)
	ctx := t.Context()
	u := storetest.MustUser(t, s)
	d := storetest.MustDevice(t, s, u.ID)
	join := parley.GroupCommit{Commit: parley.Commit{Conversation: f.id, Epoch: 1, Add: []parley.Member{{Conversation: f.id, User: u.ID, Device: d.ID}},
		GroupInfo: []byte("g"), Envelopes: []parley.Envelope{{Sender: u.ID, SenderDevice: d.ID, ClientID: "j", Kind: parley.EnvelopeCommit, Epoch: 1, Payload: []byte("j"), CreatedAt: t0}}},
		AddUsers: []parley.UserID{u.ID}, ConsumeInvitation: u.ID}
	_, err := s.ApplyGroupCommit(ctx, join)
	wantErr(t, "join without invitation", err, parley.CodeNotFound, "no_invitation")
	_, err = s.GroupInvitation(ctx, f.id, u.ID)
	wantErr(t, "missing invitation", err, parley.CodeNotFound, "")
	must(t, s.PutGroupInvitation(ctx, parley.GroupInvitation{Group: f.id, User: u.ID, InvitedBy: f.users[0].ID, CreatedAt: t0}))
	must(t, s.PutGroupInvitation(ctx, parley.GroupInvitation{Group: f.id, User: u.ID, InvitedBy: f.users[0].ID, CreatedAt: t0.Add(time.Second)}))
	invs, err := s.GroupInvitations(ctx, u.ID)
	must(t, err)
	if len(invs) != 1 || !invs[0].CreatedAt.Equal(t0.Add(time.Second)) {
		t.Fatalf("invitations = %+v", invs)
	}
	_, err = s.ApplyGroupCommit(ctx, join)
	must(t, err)
	if invs, _ := s.GroupInvitations(ctx, u.ID); len(invs) != 0 {
		t.Fatalf("invitation not used up: %v", invs)
	}
	must(t, s.DeleteGroupInvitation(ctx, f.id, u.ID)) // a no-op now
	err = s.PutGroupInvitation(ctx, parley.GroupInvitation{Group: parley.NewConversationID(), User: u.ID, CreatedAt: t0})
	wantErr(t, "invitation to a missing group", err, parley.CodeNotFound, "")
}

func testMaxMembers(t *testing.T, s Store) {
	f := mustGroup(t, s, 2)
	u := storetest.MustUser(t, s)
	d := storetest.MustDevice(t, s, u.ID)
	_, err := s.ApplyGroupCommit(t.Context(), parley.GroupCommit{Commit: parley.Commit{Conversation: f.id, Epoch: 1,
		Add: []parley.Member{{Conversation: f.id, User: u.ID, Device: d.ID}}, GroupInfo: []byte("g"), Envelopes: []parley.Envelope{commitEnv(f, 0, 1, "x")}},
		AddUsers: []parley.UserID{u.ID}, MaxMembers: 2})
	wantErr(t, "over the limit", err, parley.CodeTooLarge, "group_full")
	if r := roles(t, s, f.id); len(r) != 2 {
		t.Fatalf("a refused commit added a member: %v", r)
	}
	if _, err := s.Member(t.Context(), f.id, d.ID); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("a refused commit added a device: %v", err)
	}
}

func testConcurrent(t *testing.T, s Store) {
	f := mustGroup(t, s, 4)
	_, err := s.SetGroupRole(t.Context(), f.id, f.users[1].ID, parley.RoleAdmin, sysEnv("promote"))
	must(t, err)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			by := i % 2
			_, errs[i] = s.ApplyGroupCommit(t.Context(), parley.GroupCommit{Commit: parley.Commit{Conversation: f.id, Epoch: 1,
				Remove: []parley.DeviceID{f.devs[2+by].ID}, GroupInfo: []byte("g"), Envelopes: []parley.Envelope{commitEnv(f, by, 1, string(rune('a'+i)))}},
				RequireAdmin: f.users[by].ID})
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case parley.ErrorReason(err) != "wrong_epoch":
			t.Fatalf("loser: %v, want wrong_epoch", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d commits won epoch 1, want exactly 1", won)
	}
	c, _ := s.Conversation(t.Context(), f.id)
	if r := roles(t, s, f.id); c.Epoch != 2 || len(r) != 3 {
		t.Fatalf("epoch %d, roles %v: want one applied removal", c.Epoch, r)
	}
}

func testLeave(t *testing.T, s Store) {
	f := mustGroup(t, s, 3)
	ctx := t.Context()
	d2 := storetest.MustDevice(t, s, f.users[0].ID)
	_, err := s.ApplyGroupCommit(ctx, parley.GroupCommit{Commit: parley.Commit{Conversation: f.id, Epoch: 1,
		Add: []parley.Member{{Conversation: f.id, User: f.users[0].ID, Device: d2.ID}}, GroupInfo: []byte("g"),
		Envelopes: []parley.Envelope{commitEnv(f, 0, 1, "a")}}})
	must(t, err)
	env := parley.Envelope{ClientID: "left", Kind: parley.EnvelopeSystem, Payload: []byte(`{}`), CreatedAt: t0}
	removed, out, err := s.LeaveGroup(ctx, f.id, f.users[0].ID, env)
	must(t, err)
	if !slices.Equal(removed, []parley.DeviceID{f.devs[0].ID, d2.ID}) || len(out) != 1 || out[0].Seq != 3 || out[0].Conversation != f.id {
		t.Fatalf("leave removed %v, appended %+v", removed, out)
	}
	r := roles(t, s, f.id)
	if len(r) != 2 || r[f.users[1].ID] != parley.RoleAdmin {
		t.Fatalf("after the only admin left: %v", r)
	}
	ms, _ := s.Members(ctx, f.id)
	if len(ms) != 2 {
		t.Fatalf("devices after leave: %v", ms)
	}
	_, _, err = s.LeaveGroup(ctx, f.id, f.users[0].ID, env)
	wantErr(t, "leave twice", err, parley.CodeNotFound, "not_member")
}

func testShares(t *testing.T, s Store) {
	f := mustGroup(t, s, 2)
	ctx := t.Context()
	stranger := storetest.MustUser(t, s)
	invitee := storetest.MustUser(t, s)
	check := func(viewer, user parley.UserID, want bool) {
		t.Helper()
		got, err := s.SharesGroup(ctx, viewer, user)
		must(t, err)
		if got != want {
			t.Fatalf("SharesGroup(%d, %d) = %v, want %v", viewer, user, got, want)
		}
	}
	check(f.users[0].ID, f.users[1].ID, true)
	check(f.users[0].ID, stranger.ID, false)
	check(stranger.ID, f.users[0].ID, false)
	must(t, s.PutGroupInvitation(ctx, parley.GroupInvitation{Group: f.id, User: invitee.ID, InvitedBy: f.users[0].ID, CreatedAt: t0}))
	check(invitee.ID, f.users[1].ID, true)
	check(f.users[1].ID, invitee.ID, true)
	_, _, err := s.LeaveGroup(ctx, f.id, f.users[1].ID, parley.Envelope{ClientID: "l", Kind: parley.EnvelopeSystem, CreatedAt: t0})
	must(t, err)
	check(f.users[0].ID, f.users[1].ID, true) // a former member stays verifiable
	check(f.users[1].ID, f.users[0].ID, false)
}

func testPrivacy(t *testing.T, s Store) {
	u := storetest.MustUser(t, s)
	ctx := t.Context()
	v, err := s.GroupAddPrivacy(ctx, u.ID)
	must(t, err)
	if v != parley.VisibleEveryone {
		t.Fatalf("default = %q", v)
	}
	must(t, s.SetGroupAddPrivacy(ctx, u.ID, parley.VisibleContacts))
	must(t, s.SetGroupAddPrivacy(ctx, u.ID, parley.VisibleNobody))
	if v, _ := s.GroupAddPrivacy(ctx, u.ID); v != parley.VisibleNobody {
		t.Fatalf("after set = %q", v)
	}
	wantErr(t, "bad value", s.SetGroupAddPrivacy(ctx, u.ID, "friends"), parley.CodeInvalid, "")
}

func mustLink(t *testing.T, s Store, f fixture, id string, expires time.Time, maxUses int, approve bool) []byte {
	t.Helper()
	hash := []byte("hash-" + id)
	must(t, s.PutInviteLink(t.Context(), parley.GroupInviteLink{ID: id, TokenHash: hash, Group: f.id, CreatedBy: f.users[0].ID,
		CreatedAt: t0, ExpiresAt: expires, MaxUses: maxUses, Approve: approve}))
	return hash
}

func testLinks(t *testing.T, s Store) {
	f := mustGroup(t, s, 1)
	ctx := t.Context()
	a, b, c := storetest.MustUser(t, s), storetest.MustUser(t, s), storetest.MustUser(t, s)
	limited := mustLink(t, s, f, "l1", t0.Add(time.Hour), 2, false)
	err := s.PutInviteLink(ctx, parley.GroupInviteLink{ID: "l1", TokenHash: []byte("other"), Group: f.id, CreatedAt: t0})
	wantErr(t, "duplicate link id", err, parley.CodeConflict, "invite_exists")

	l, err := s.RedeemInviteLink(ctx, limited, a.ID, t0)
	must(t, err)
	if l.Group != f.id || l.Uses != 1 {
		t.Fatalf("redeemed %+v", l)
	}
	if inv, err := s.GroupInvitation(ctx, f.id, a.ID); err != nil || inv.InvitedBy != f.users[0].ID {
		t.Fatalf("invitation from the link = %+v, %v", inv, err)
	}
	// Redeeming again while invited counts no use.
	if l, err := s.RedeemInviteLink(ctx, limited, a.ID, t0); err != nil || l.Uses != 1 {
		t.Fatalf("second redeem: %+v, %v", l, err)
	}
	_, err = s.RedeemInviteLink(ctx, limited, f.users[0].ID, t0)
	wantErr(t, "member redeems", err, parley.CodeConflict, "already_member")
	_, err = s.RedeemInviteLink(ctx, limited, b.ID, t0.Add(time.Hour))
	wantErr(t, "at expiry", err, parley.CodeExpired, "invite_expired")
	_, err = s.RedeemInviteLink(ctx, limited, b.ID, t0.Add(time.Minute))
	must(t, err)
	_, err = s.RedeemInviteLink(ctx, limited, c.ID, t0.Add(time.Minute))
	wantErr(t, "over the use limit", err, parley.CodeExpired, "invite_used_up")

	open := mustLink(t, s, f, "l2", time.Time{}, 0, false)
	must(t, s.RevokeInviteLink(ctx, f.id, "l2"))
	must(t, s.RevokeInviteLink(ctx, f.id, "l2"))
	_, err = s.RedeemInviteLink(ctx, open, c.ID, t0)
	wantErr(t, "revoked", err, parley.CodeExpired, "invite_revoked")
	wantErr(t, "revoke unknown", s.RevokeInviteLink(ctx, f.id, "nope"), parley.CodeNotFound, "invite_not_found")
	_, err = s.RedeemInviteLink(ctx, []byte("unknown"), c.ID, t0)
	wantErr(t, "unknown link", err, parley.CodeNotFound, "invite_not_found")
	links, err := s.InviteLinks(ctx, f.id)
	must(t, err)
	if len(links) != 2 || links[0].ID != "l1" || links[0].Uses != 2 || links[0].MaxUses != 2 || !links[0].ExpiresAt.Equal(t0.Add(time.Hour)) ||
		!links[1].Revoked || !links[1].ExpiresAt.IsZero() {
		t.Fatalf("links = %+v", links)
	}
}

func testJoinRequests(t *testing.T, s Store) {
	f := mustGroup(t, s, 1)
	ctx := t.Context()
	a, b := storetest.MustUser(t, s), storetest.MustUser(t, s)
	if b.ID < a.ID { // requests made together are listed in user ID order
		a, b = b, a
	}
	link := mustLink(t, s, f, "ap", time.Time{}, 0, true)
	for _, u := range []parley.User{a, b, a} {
		if _, err := s.RedeemInviteLink(ctx, link, u.ID, t0); err != nil {
			t.Fatal(err)
		}
	}
	reqs, err := s.JoinRequests(ctx, f.id)
	must(t, err)
	if len(reqs) != 2 || reqs[0].User != a.ID || reqs[1].User != b.ID {
		t.Fatalf("requests = %+v", reqs)
	}
	if _, err := s.GroupInvitation(ctx, f.id, a.ID); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("a link needing approval created an invitation: %v", err)
	}
	must(t, s.DecideJoinRequest(ctx, f.id, a.ID, true, f.users[0].ID, t0))
	must(t, s.DecideJoinRequest(ctx, f.id, b.ID, false, f.users[0].ID, t0))
	wantErr(t, "decide twice", s.DecideJoinRequest(ctx, f.id, b.ID, true, f.users[0].ID, t0), parley.CodeNotFound, "no_request")
	if _, err := s.GroupInvitation(ctx, f.id, a.ID); err != nil {
		t.Fatalf("approved request: %v", err)
	}
	if _, err := s.GroupInvitation(ctx, f.id, b.ID); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("rejected request became an invitation: %v", err)
	}
	if reqs, _ := s.JoinRequests(ctx, f.id); len(reqs) != 0 {
		t.Fatalf("requests left: %v", reqs)
	}

	// Asking without a link (a community member and a sub-group needing
	// approval): once, idempotent, refused to members and for unknown groups.
	c := storetest.MustUser(t, s)
	must(t, s.RequestToJoin(ctx, f.id, c.ID, t0))
	must(t, s.RequestToJoin(ctx, f.id, c.ID, t0.Add(time.Minute)))
	must(t, s.RequestToJoin(ctx, f.id, a.ID, t0)) // already invited: no request
	if reqs, _ := s.JoinRequests(ctx, f.id); len(reqs) != 1 || reqs[0].User != c.ID || !reqs[0].CreatedAt.Equal(t0) {
		t.Fatalf("requests = %+v", reqs)
	}
	wantErr(t, "member asks to join", s.RequestToJoin(ctx, f.id, f.users[0].ID, t0), parley.CodeConflict, "already_member")
	wantErr(t, "unknown group", s.RequestToJoin(ctx, parley.NewConversationID(), c.ID, t0), parley.CodeNotFound, "")
	must(t, s.DecideJoinRequest(ctx, f.id, c.ID, true, f.users[0].ID, t0))
	if _, err := s.GroupInvitation(ctx, f.id, c.ID); err != nil {
		t.Fatalf("approved request: %v", err)
	}
}

// sysEnv is a system envelope with a unique client id.
func sysEnv(id string) parley.Envelope {
	return parley.Envelope{ClientID: parley.ClientMessageID(id), Kind: parley.EnvelopeSystem, Payload: []byte(`{}`), CreatedAt: t0}
}

func testTimers(t *testing.T, s Store) {
	f := mustGroup(t, s, 2)
	ctx := t.Context()
	if d, err := s.ChatTimer(ctx, f.id); err != nil || d != 0 {
		t.Fatalf("default timer = %v, %v", d, err)
	}
	app := func(cid string, at time.Time) parley.Envelope {
		return parley.Envelope{Conversation: f.id, Sender: f.users[1].ID, SenderDevice: f.devs[1].ID, ClientID: parley.ClientMessageID(cid),
			Kind: parley.EnvelopeApplication, Epoch: 1, Payload: []byte(cid), CreatedAt: at}
	}
	storetest.MustAppend(t, s, app("old", t0), app("new", t0.Add(23*time.Hour)))
	env, err := s.SetChatTimer(ctx, f.id, 24*time.Hour, parley.Envelope{ClientID: "timer", Kind: parley.EnvelopeSystem, Payload: []byte(`{}`), CreatedAt: t0})
	must(t, err)
	if env.Seq != 4 || env.Conversation != f.id {
		t.Fatalf("timer envelope %+v", env)
	}
	if d, _ := s.ChatTimer(ctx, f.id); d != 24*time.Hour {
		t.Fatalf("timer = %v", d)
	}
	_, err = s.SetChatTimer(ctx, parley.NewConversationID(), time.Hour, parley.Envelope{ClientID: "x", Kind: parley.EnvelopeSystem, CreatedAt: t0})
	wantErr(t, "timer of a missing conversation", err, parley.CodeNotFound, "")
	n, err := s.PruneDisappearing(ctx, t0.Add(24*time.Hour+time.Second))
	must(t, err)
	if n != 1 {
		t.Fatalf("pruned %d, want the one expired application envelope", n)
	}
	envs, err := s.ReadLog(ctx, f.id, 0, 100)
	must(t, err)
	var kept []string
	for _, e := range envs {
		kept = append(kept, string(e.ClientID))
	}
	if !slices.Equal(kept, []string{"w", "new", "timer"}) {
		t.Fatalf("log after pruning: %v", kept)
	}
	_, err = s.SetChatTimer(ctx, f.id, 0, parley.Envelope{ClientID: "off", Kind: parley.EnvelopeSystem, CreatedAt: t0})
	must(t, err)
	if n, _ := s.PruneDisappearing(ctx, t0.Add(1000*time.Hour)); n != 0 {
		t.Fatalf("pruned %d with the timer off", n)
	}
}

func testCommunity(t *testing.T, s Store) {
	ctx := t.Context()
	comm := mustGroup(t, s, 3) // users 0 (admin), 1, 2
	g, err := s.Group(ctx, comm.id)
	must(t, err)
	g.Community = comm.id
	_, err = s.UpdateGroup(ctx, g, sysEnv("community"))
	must(t, err)
	if g, _ := s.Group(ctx, comm.id); !g.IsCommunity() {
		t.Fatalf("community = %+v", g)
	}
	// Two sub-groups with users 1 and 2, created in the community.
	var subs []parley.ConversationID
	for i := range 2 {
		id := parley.NewConversationID()
		var ms []parley.Member
		for j := range 3 {
			ms = append(ms, parley.Member{Conversation: id, User: comm.users[j].ID, Device: comm.devs[j].ID})
		}
		c := parley.Conversation{ID: id, Kind: parley.KindGroup, Epoch: 1, GroupInfo: []byte("g"), CreatedBy: comm.users[0].ID, CreatedAt: t0}
		_, err := s.CreateGroup(ctx, parley.Group{ID: id, Name: "sub", CreatedBy: comm.users[0].ID, CreatedAt: t0, Community: comm.id}, c, ms, nil)
		must(t, err)
		subs = append(subs, id)
		_ = i
	}
	list, err := s.CommunityGroups(ctx, comm.id)
	must(t, err)
	if len(list) != 2 || list[0].Community != comm.id {
		t.Fatalf("community groups = %+v", list)
	}
	// Removing user 1 from the community (a commit) removes them from both
	// sub-groups, in the same transaction, with a system envelope in each.
	out, err := s.ApplyGroupCommit(ctx, parley.GroupCommit{Commit: parley.Commit{Conversation: comm.id, Epoch: 1,
		Remove: []parley.DeviceID{comm.devs[1].ID}, GroupInfo: []byte("g"), Envelopes: []parley.Envelope{commitEnv(comm, 0, 1, "rm")}},
		RequireAdmin: comm.users[0].ID})
	must(t, err)
	if len(out) != 3 || out[0].Conversation != comm.id || out[1].Kind != parley.EnvelopeSystem {
		t.Fatalf("appended %+v", out)
	}
	for _, sub := range subs {
		if r := roles(t, s, sub); len(r) != 2 || r[comm.users[1].ID] != "" {
			t.Fatalf("sub-group %s roles after the community removal: %v", sub, r)
		}
		if _, err := s.Member(ctx, sub, comm.devs[1].ID); !parley.IsCode(err, parley.CodeNotFound) {
			t.Fatalf("device still in sub-group: %v", err)
		}
	}
	// Leaving the community cascades too; leaving a sub-group does not.
	_, envs, err := s.LeaveGroup(ctx, subs[0], comm.users[2].ID, parley.Envelope{ClientID: "l0", Kind: parley.EnvelopeSystem, CreatedAt: t0})
	must(t, err)
	if len(envs) != 1 {
		t.Fatalf("leaving a sub-group appended %v", envs)
	}
	if r := roles(t, s, comm.id); len(r) != 2 {
		t.Fatalf("leaving a sub-group changed the community: %v", r)
	}
	_, envs, err = s.LeaveGroup(ctx, comm.id, comm.users[2].ID, parley.Envelope{ClientID: "l1", Kind: parley.EnvelopeSystem, CreatedAt: t0})
	must(t, err)
	if len(envs) != 2 || envs[1].Conversation != subs[1] {
		t.Fatalf("leaving the community appended %+v", envs)
	}
	if r := roles(t, s, subs[1]); len(r) != 1 {
		t.Fatalf("sub-group after the community leave: %v", r)
	}
}
