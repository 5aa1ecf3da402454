package groups_test

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/groups"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/store/sqlite"
	"github.com/parleyhq/parley/store/storetest"
)

type env struct {
	svc   *groups.Service
	store *sqlite.Store
	clock *parleytest.Clock
	id    parley.ConversationID
	admin parley.Device
}

// mustEnv is a service on a real SQLite store with a controlled clock and
// one group whose only member is admin.
func mustEnv(t *testing.T, cfg groups.Config) env {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clock := parleytest.NewClock(time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC))
	svc := groups.New(st, nil, clock, nil, cfg)
	u := storetest.MustUser(t, st)
	d := storetest.MustDevice(t, st, u.ID)
	id := parley.NewConversationID()
	c := parley.Conversation{ID: id, Kind: parley.KindGroup, Epoch: 1, GroupInfo: []byte("gi"), CreatedBy: u.ID, CreatedAt: clock.Now()}
	if _, err := svc.CreateGroup(t.Context(), d, parley.Group{Name: "g"}, c, []parley.Member{{Conversation: id, User: u.ID, Device: d.ID}}, nil); err != nil {
		t.Fatal(err)
	}
	return env{svc: svc, store: st, clock: clock, id: id, admin: d}
}

func wantErr(t *testing.T, what string, err error, code parley.Code, reason string) {
	t.Helper()
	if parley.ErrorCode(err) != code || parley.ErrorReason(err) != reason {
		t.Fatalf("%s: err = %v, want %s/%s", what, err, code, reason)
	}
}

func TestInviteLinkExpiry(t *testing.T) {
	e := mustEnv(t, groups.Config{})
	ctx := t.Context()
	token, l, err := e.svc.CreateLink(ctx, e.admin, e.id, groups.LinkOptions{ExpiresIn: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if l.ID != groups.LinkID(groups.TokenHash(token)) || !l.ExpiresAt.Equal(e.clock.Now().Add(time.Hour)) {
		t.Fatalf("link %+v for token %q", l, token)
	}
	u1 := storetest.MustUser(t, e.store)
	u2 := storetest.MustUser(t, e.store)
	e.clock.Advance(time.Hour - time.Nanosecond)
	if r, err := e.svc.Redeem(ctx, parley.Device{User: u1.ID}, token); err != nil || r.Pending || r.Group != e.id {
		t.Fatalf("redeem before expiry: %+v, %v", r, err)
	}
	// The invitation lets u1 see the group and fetch its GroupInfo.
	if err := e.svc.CanJoin(ctx, parley.Device{User: u1.ID}, e.id); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Nanosecond)
	_, err = e.svc.Redeem(ctx, parley.Device{User: u2.ID}, token)
	wantErr(t, "redeem at expiry", err, parley.CodeExpired, "invite_expired")
	wantErr(t, "no invitation", e.svc.CanJoin(ctx, parley.Device{User: u2.ID}, e.id), parley.CodeNotFound, "group_not_found")
	_, _, err = e.svc.CreateLink(ctx, e.admin, e.id, groups.LinkOptions{MaxUses: -1})
	wantErr(t, "negative limit", err, parley.CodeInvalid, "invite_limits")
}

func TestGroupLimits(t *testing.T) {
	e := mustEnv(t, groups.Config{MaxMembers: 2, MaxNameLen: 5})
	ctx := t.Context()
	long := "too long"
	wantErr(t, "long name", e.svc.Update(ctx, e.admin, e.id, groups.Update{Name: &long}), parley.CodeTooLarge, "group_name_too_long")
	// A commit adding two users to a group of one exceeds 2 members.
	var add []parley.Member
	for range 2 {
		u := storetest.MustUser(t, e.store)
		d := storetest.MustDevice(t, e.store, u.ID)
		add = append(add, parley.Member{Conversation: e.id, User: u.ID, Device: d.ID})
	}
	members, err := e.store.Members(ctx, e.id)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.AuthorizeCommit(ctx, e.admin, members, parley.Commit{Conversation: e.id, Epoch: 1, Add: add, GroupInfo: []byte("g"),
		Envelopes: []parley.Envelope{{SenderDevice: e.admin.ID, Sender: e.admin.User, ClientID: "c", Kind: parley.EnvelopeCommit, Epoch: 1, Payload: []byte("c"), CreatedAt: e.clock.Now()}}}, false)
	wantErr(t, "over the member limit", err, parley.CodeTooLarge, "group_full")
	// One more is fine.
	_, err = e.svc.AuthorizeCommit(ctx, e.admin, members, parley.Commit{Conversation: e.id, Epoch: 1, Add: add[:1], GroupInfo: []byte("g"),
		Envelopes: []parley.Envelope{{SenderDevice: e.admin.ID, Sender: e.admin.User, ClientID: "c", Kind: parley.EnvelopeCommit, Epoch: 1, Payload: []byte("c"), CreatedAt: e.clock.Now()}}}, false)
	if err != nil {
		t.Fatal(err)
	}
	// The send check follows the settings at once (cache invalidated).
	yes := true
	if err := e.svc.Update(ctx, e.admin, e.id, groups.Update{OnlyAdminsSend: &yes}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "member sends", e.svc.AuthorizeSend(ctx, e.id, add[0].User), parley.CodeForbidden, "admins_only_send")
	if err := e.svc.AuthorizeSend(ctx, e.id, e.admin.User); err != nil {
		t.Fatal(err)
	}
}

// TestSubGroupJoinApproval: with JoinApproval a community member can no
// longer fetch the sub-group's GroupInfo or join by external commit; they
// ask, and an admin's approval lets them in. Without it asking is refused.
func TestSubGroupJoinApproval(t *testing.T) {
	e := mustEnv(t, groups.Config{})
	ctx := t.Context()
	member := storetest.MustUser(t, e.store)
	md := storetest.MustDevice(t, e.store, member.ID)
	outsider := storetest.MustUser(t, e.store)
	od := storetest.MustDevice(t, e.store, outsider.ID)
	create := func(g parley.Group, members []parley.Member) parley.ConversationID {
		t.Helper()
		id := parley.NewConversationID()
		g.ID = id
		if g.Community == "self" {
			g.Community = id
		}
		for i := range members {
			members[i].Conversation = id
		}
		c := parley.Conversation{ID: id, Kind: parley.KindGroup, Epoch: 1, GroupInfo: []byte("gi"), CreatedBy: e.admin.User, CreatedAt: e.clock.Now()}
		if _, err := e.svc.CreateGroup(ctx, e.admin, g, c, members, nil); err != nil {
			t.Fatal(err)
		}
		return id
	}
	comm := create(parley.Group{Name: "c", Community: "self"}, []parley.Member{{User: e.admin.User, Device: e.admin.ID}, {User: member.ID, Device: md.ID}})
	sub := create(parley.Group{Name: "s", Community: comm}, []parley.Member{{User: e.admin.User, Device: e.admin.ID}})

	wantErr(t, "ask without approval", e.svc.RequestJoin(ctx, md, sub), parley.CodeInvalid, "approval_not_required")
	if err := e.svc.CanJoin(ctx, md, sub); err != nil {
		t.Fatalf("community member may join an open sub-group: %v", err)
	}
	yes := true
	wantErr(t, "member sets approval", e.svc.Update(ctx, md, comm, groups.Update{JoinApproval: &yes}), parley.CodeForbidden, "not_admin")
	wantErr(t, "approval on the community", e.svc.Update(ctx, e.admin, comm, groups.Update{JoinApproval: &yes}), parley.CodeInvalid, "not_sub_group")
	if err := e.svc.Update(ctx, e.admin, sub, groups.Update{JoinApproval: &yes}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "GroupInfo without approval", e.svc.CanJoin(ctx, md, sub), parley.CodeNotFound, "group_not_found")
	join := parley.Commit{Conversation: sub, Epoch: 1, Add: []parley.Member{{Conversation: sub, User: member.ID, Device: md.ID}}, GroupInfo: []byte("g"),
		Envelopes: []parley.Envelope{{SenderDevice: md.ID, Sender: member.ID, ClientID: "j", Kind: parley.EnvelopeCommit, Epoch: 1, Payload: []byte("c"), CreatedAt: e.clock.Now()}}}
	members, err := e.store.Members(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.AuthorizeCommit(ctx, md, members, join, true)
	wantErr(t, "external join without approval", err, parley.CodeForbidden, "approval_required")
	wantErr(t, "outsider asks", e.svc.RequestJoin(ctx, od, sub), parley.CodeNotFound, "group_not_found")
	wantErr(t, "member asks to join the community", e.svc.RequestJoin(ctx, md, comm), parley.CodeConflict, "already_member")
	if err := e.svc.RequestJoin(ctx, md, sub); err != nil {
		t.Fatal(err)
	}
	list, err := e.svc.CommunityGroups(ctx, member.ID, comm)
	if err != nil || len(list) != 1 || !list[0].Pending || !list[0].Group.Settings.JoinApproval {
		t.Fatalf("member's view: %+v, %v", list, err)
	}
	if err := e.svc.DecideJoinRequest(ctx, e.admin, sub, member.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.CanJoin(ctx, md, sub); err != nil {
		t.Fatalf("approved member may fetch the GroupInfo: %v", err)
	}
	if _, err := e.svc.AuthorizeCommit(ctx, md, members, join, true); err != nil {
		t.Fatalf("approved member joins: %v", err)
	}
	// The setting change was logged: the sub-group's log has its system envelope.
	envs, err := e.store.ReadLog(ctx, sub, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, env := range envs {
		var p parley.GroupChange
		if env.Kind == parley.EnvelopeSystem && json.Unmarshal(env.Payload, &p) == nil && p.Change == "info" && p.JoinApproval != nil && *p.JoinApproval {
			found = true
		}
	}
	if !found {
		t.Fatalf("no join-approval change in the log: %+v", envs)
	}
}
