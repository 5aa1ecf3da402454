package groups_test

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/groups"
	"github.com/parleyhq/parley/store/sqlite"
	"github.com/parleyhq/parley/store/storetest"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type env struct {
	svc   *groups.Service
	store *sqlite.Store
	clock *fakeClock
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
	clock := &fakeClock{now: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
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
	e.clock.Add(time.Hour - time.Nanosecond)
	if r, err := e.svc.Redeem(ctx, parley.Device{User: u1.ID}, token); err != nil || r.Pending || r.Group != e.id {
		t.Fatalf("redeem before expiry: %+v, %v", r, err)
	}
	// The invitation lets u1 see the group and fetch its GroupInfo.
	if err := e.svc.CanJoin(ctx, parley.Device{User: u1.ID}, e.id); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Nanosecond)
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
