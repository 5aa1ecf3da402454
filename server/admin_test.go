package server_test

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/admin"
	"github.com/parleyhq/parley/apiclient"
	"github.com/parleyhq/parley/gateway"
	"github.com/parleyhq/parley/proto/parleypb"
	"github.com/parleyhq/parley/server"
)

const testOperatorToken = "operator-secret-token"

// withOperatorToken enables the business API's operator token, which
// authorises the admin API.
func withOperatorToken(t *testing.T) option {
	dir := t.TempDir()
	return func(c *server.Config) {
		c.BusinessAPI = &server.BusinessAPIConfig{HostedDir: dir, OperatorKey: bytes.Repeat([]byte{7}, 32), OperatorToken: testOperatorToken}
	}
}

func adminClient(t *testing.T, e *env, token string) *apiclient.Client {
	t.Helper()
	c, err := apiclient.New("http://"+e.addr, apiclient.Bearer(token))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func uid(a account) string { return "u" + strconv.FormatInt(a.user, 10) }

func wantAPIError(t *testing.T, err error, code parley.Code, reason string) {
	t.Helper()
	if parley.ErrorCode(err) != code || parley.ErrorReason(err) != reason {
		t.Fatalf("got %v (%s %s), want %s %s", err, parley.ErrorCode(err), parley.ErrorReason(err), code, reason)
	}
}

// TestAdminRefusesWithoutToken: every admin route needs the operator token,
// and a server without one has the admin API disabled.
func TestAdminRefusesWithoutToken(t *testing.T) {
	e := newEnv(t, withOperatorToken(t))
	routes := []string{"GET /users", "GET /users/u1", "POST /users/u1/suspend", "POST /users/u1/unsuspend",
		"GET /groups", "DELETE /groups/x", "GET /businesses", "POST /businesses/u1/verified", "GET /stats", "GET /audit",
		"POST /users/u1/devices/1/revoke", "GET /nothing"}
	for _, tc := range []struct {
		name, auth, reason string
		routes             []string
	}{
		{"none", "", admin.ReasonAdminTokenRequired, routes},
		{"basic", "Basic " + testOperatorToken, admin.ReasonAdminTokenRequired, routes},
		// Wrong tokens count against the address's budget (10).
		{"wrong", apiclient.Bearer("not-the-token"), admin.ReasonAdminTokenWrong, routes[:6]},
		{"prefix", apiclient.Bearer(testOperatorToken[:5]), admin.ReasonAdminTokenWrong, routes[6:10]},
	} {
		for _, route := range tc.routes {
			method, path, _ := strings.Cut(route, " ")
			c := &apiclient.Client{Base: "http://" + e.addr, Auth: tc.auth}
			err := c.Call(t.Context(), method, apiclient.AdminPath+path, nil, nil)
			if parley.ErrorCode(err) != parley.CodeUnauthenticated || parley.ErrorReason(err) != tc.reason {
				t.Errorf("%s %s: got %v, want 401 %s", tc.name, route, err, tc.reason)
			}
		}
	}
	if log, err := e.ps.Store.AuditLog(t.Context(), 0, 0); err != nil || len(log) != 0 {
		t.Fatalf("audit after refused requests: %v %v, want empty", log, err)
	}

	// The budget of wrong tokens is spent: the address is refused, even
	// with the right token, until it refills.
	_, err := adminClient(t, e, "guess").AdminStats(t.Context())
	wantAPIError(t, err, parley.CodeRateLimited, admin.ReasonAdminTokenFailures)
	_, err = adminClient(t, e, testOperatorToken).AdminStats(t.Context())
	wantAPIError(t, err, parley.CodeRateLimited, admin.ReasonAdminTokenFailures)

	off := newEnv(t)
	_, err = adminClient(t, off, "").AdminStats(t.Context())
	wantAPIError(t, err, parley.CodeUnauthenticated, admin.ReasonAdminDisabled)
	resp, err := http.Get("http://" + off.addr + "/admin/v1/stats")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", resp.StatusCode)
	}
}

// TestAdminSuspend: suspending closes the account's live session, it cannot
// sign in again, and messages to it are refused; unsuspending restores
// both. Each action is in the audit log.
func TestAdminSuspend(t *testing.T) {
	e := newEnv(t, withOperatorToken(t))
	ctx := t.Context()
	api := adminClient(t, e, testOperatorToken)
	alice, bob := e.register("alice"), e.register("bob")
	ca, cb := e.connect(alice), e.connect(bob)
	conv := e.direct(ca, bob)
	welcomeFor(t, cb, conv)
	ca.mustOK(sendFrame(conv, "m1", "hello"))
	if got := cb.nextEnvelope(); string(got.Payload) != "hello" {
		t.Fatalf("bob got %q", got.Payload)
	}

	u, err := api.AdminSuspend(ctx, bob.phone, "spam")
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != parley.UserID(bob.user) || u.SuspendedAt.IsZero() {
		t.Fatalf("suspend answered %+v", u)
	}
	if code, _ := cb.waitClosed(); code != gateway.CloseDeviceRevoked {
		t.Fatalf("bob's session closed with %d, want %d", code, gateway.CloseDeviceRevoked)
	}
	again := dial(t, e.addr)
	again.mustErr(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Auth{Auth: &parleypb.AuthRequest{DeviceId: bob.device, Secret: bob.secret}}},
		parleypb.ErrorCode_FORBIDDEN, "account_suspended")
	if code, _ := again.waitClosed(); code != gateway.CloseAuthFailed || again.reason() != "account_suspended" {
		t.Fatalf("sign-in closed with %d %q, want %d account_suspended", code, again.reason(), gateway.CloseAuthFailed)
	}
	ca.mustErr(sendFrame(conv, "m2", "are you there?"), parleypb.ErrorCode_FORBIDDEN, "recipient_suspended")
	// The device is not revoked: it is all still there.
	ds, err := api.AdminDevices(ctx, uid(bob))
	if err != nil || len(ds) != 1 || !ds[0].RevokedAt.IsZero() || ds[0].Online {
		t.Fatalf("bob's devices while suspended: %+v %v", ds, err)
	}

	if u, err = api.AdminUnsuspend(ctx, "@"+"nobody-"+uid(bob)); parley.ErrorReason(err) != parley.ReasonUserNotFound {
		t.Fatalf("unsuspend an unknown user: %+v %v", u, err)
	}
	if u, err = api.AdminUnsuspend(ctx, uid(bob)); err != nil || !u.SuspendedAt.IsZero() {
		t.Fatalf("unsuspend: %+v %v", u, err)
	}
	cb = e.connect(bob)
	ca.mustOK(sendFrame(conv, "m3", "welcome back"))
	// Bob catches up from the log ("hello" was never acknowledged), then
	// gets the new message.
	for got := cb.nextEnvelope(); string(got.Payload) != "welcome back"; got = cb.nextEnvelope() {
		if string(got.Payload) != "hello" {
			t.Fatalf("bob got %q after unsuspension", got.Payload)
		}
	}

	log, err := api.AdminAudit(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, a := range log {
		actions = append(actions, a.Action+" "+a.Target)
		if a.Actor != admin.Actor || a.At.IsZero() {
			t.Fatalf("audit entry %+v", a)
		}
	}
	want := []string{"unsuspend user:" + strconv.FormatInt(bob.user, 10), "list_devices user:" + strconv.FormatInt(bob.user, 10),
		"suspend user:" + strconv.FormatInt(bob.user, 10)}
	if strings.Join(actions, ",") != strings.Join(want, ",") {
		t.Fatalf("audit log %q, want %q", actions, want)
	}
	if !strings.Contains(string(log[2].Detail), `"reason":"spam"`) {
		t.Fatalf("suspend detail %s", log[2].Detail)
	}
}

// TestAdminRevokeDevice: the operator revokes a device; its session closes
// and it cannot sign in.
func TestAdminRevokeDevice(t *testing.T) {
	e := newEnv(t, withOperatorToken(t))
	ctx := t.Context()
	api := adminClient(t, e, testOperatorToken)
	alice, bob := e.register("alice"), e.register("bob")
	cb := e.connect(bob)
	cb.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Ping{Ping: &parleypb.Ping{}}}) // the stream is attached after Auth's reply
	if _, err := api.AdminRevokeDevice(ctx, uid(alice), parley.DeviceID(bob.device)); parley.ErrorReason(err) != admin.ReasonWrongUser {
		t.Fatalf("revoke another user's device: %v", err)
	}
	u, err := api.AdminUser(ctx, bob.phone)
	if err != nil || len(u.Devices) != 1 || !u.Devices[0].Online {
		t.Fatalf("bob: %+v %v", u, err)
	}
	d, err := api.AdminRevokeDevice(ctx, uid(bob), parley.DeviceID(bob.device))
	if err != nil || d.RevokedAt.IsZero() {
		t.Fatalf("revoke: %+v %v", d, err)
	}
	if code, _ := cb.waitClosed(); code != gateway.CloseDeviceRevoked {
		t.Fatalf("closed with %d", code)
	}
	c := dial(t, e.addr)
	c.mustErr(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Auth{Auth: &parleypb.AuthRequest{DeviceId: bob.device, Secret: bob.secret}}},
		parleypb.ErrorCode_UNAUTHENTICATED, parley.ReasonDeviceRevoked)
	log, err := api.AdminAudit(ctx, 0, 1)
	if err != nil || len(log) != 1 || log[0].Action != admin.ActionRevokeDevice || log[0].Target != "device:"+strconv.FormatInt(bob.device, 10) {
		t.Fatalf("audit: %+v %v", log, err)
	}
}

// TestAdminListsAndStats: users found by number, username and name;
// groups by size; stats count what the server holds.
func TestAdminListsAndStats(t *testing.T) {
	e := newEnv(t, withOperatorToken(t))
	ctx := t.Context()
	api := adminClient(t, e, testOperatorToken)
	alice, bob := e.register("alice"), e.register("bob")
	ca := e.connect(alice)
	e.direct(ca, bob)
	us, err := api.AdminUsers(ctx, "", 0, 0)
	if err != nil || len(us) != 2 {
		t.Fatalf("users: %+v %v", us, err)
	}
	us, err = api.AdminUsers(ctx, "bo", 0, 0)
	if err != nil || len(us) != 1 || us[0].ID != parley.UserID(bob.user) || us[0].Phone != bob.phone {
		t.Fatalf("find bo: %+v %v", us, err)
	}
	if _, err := api.AdminUser(ctx, "not a user"); parley.ErrorReason(err) != admin.ReasonBadUser {
		t.Fatalf("bad user spec: %v", err)
	}
	st, err := api.AdminStats(ctx)
	if err != nil || st.Users != 2 || st.Devices != 2 || st.OnlineDevices != 1 || st.Conversations["direct"] != 1 || st.Envelopes < 1 {
		t.Fatalf("stats: %+v %v", st, err)
	}
	gs, err := api.AdminGroups(ctx, 0, 0)
	if err != nil || len(gs) != 0 {
		t.Fatalf("groups: %+v %v", gs, err)
	}
	if _, err := api.AdminDeleteGroup(ctx, parley.NewConversationID()); parley.ErrorReason(err) != admin.ReasonNotGroup {
		t.Fatalf("delete unknown group: %v", err)
	}
	// Bodies are bounded and strict.
	err = api.Call(ctx, "POST", apiclient.AdminPath+"/users/"+uid(bob)+"/suspend", map[string]string{"why": "x"}, nil)
	wantAPIError(t, err, parley.CodeInvalid, parley.ReasonBadBody)
	err = api.Call(ctx, "POST", apiclient.AdminPath+"/users/"+uid(bob)+"/suspend", map[string]string{"reason": strings.Repeat("x", 5000)}, nil)
	wantAPIError(t, err, parley.CodeTooLarge, admin.ReasonBodyTooLarge)
	if u, err := api.AdminUser(ctx, uid(bob)); err != nil || !u.SuspendedAt.IsZero() {
		t.Fatalf("refused suspensions suspended: %+v %v", u, err)
	}
}

// TestAdminVerifyAndDeleteGroup: the verified mark of a business; a group
// deleted loses every member (their sessions get the removal) and every
// invite link.
func TestAdminVerifyAndDeleteGroup(t *testing.T) {
	e := newEnv(t, withOperatorToken(t))
	ctx := t.Context()
	api := adminClient(t, e, testOperatorToken)
	alice, bob := e.register("alice"), e.register("bob")
	if _, err := api.AdminSetVerified(ctx, uid(bob), true); parley.ErrorReason(err) != parley.ReasonNotBusiness {
		t.Fatalf("verify a personal account: %v", err)
	}
	if _, err := e.srv.Business.SetProfile(ctx, parley.UserID(bob.user), parley.BusinessProfile{Name: "Bob's Bikes"}); err != nil {
		t.Fatal(err)
	}
	b, err := api.AdminSetVerified(ctx, bob.phone, true)
	if err != nil || !b.Verified || b.Name != "Bob's Bikes" {
		t.Fatalf("verify: %+v %v", b, err)
	}
	bs, err := api.AdminBusinesses(ctx, 0, 0)
	if err != nil || len(bs) != 1 || !bs[0].Verified {
		t.Fatalf("businesses: %+v %v", bs, err)
	}
	if b, err = api.AdminSetVerified(ctx, bob.phone, false); err != nil || b.Verified {
		t.Fatalf("unverify: %+v %v", b, err)
	}

	// A group of alice and bob, made in the store (the server is
	// crypto-blind; the group service's MLS checks are tested elsewhere).
	id := parley.NewConversationID()
	ms := []parley.Member{{User: parley.UserID(alice.user), Device: parley.DeviceID(alice.device)}, {User: parley.UserID(bob.user), Device: parley.DeviceID(bob.device)}}
	if _, err := e.ps.Store.CreateGroup(ctx, parley.Group{ID: id, Name: "riders", CreatedBy: parley.UserID(alice.user)},
		parley.Conversation{ID: id, Kind: parley.KindGroup, Epoch: 1, CreatedBy: parley.UserID(alice.user)}, ms, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.ps.Store.PutInviteLink(ctx, parley.GroupInviteLink{ID: "l1", TokenHash: []byte("t"), Group: id, CreatedBy: parley.UserID(alice.user)}); err != nil {
		t.Fatal(err)
	}
	gs, err := api.AdminGroups(ctx, 2, 0)
	if err != nil || len(gs) != 1 || gs[0].ID != id || gs[0].Members != 2 || gs[0].Name != "riders" {
		t.Fatalf("groups: %+v %v", gs, err)
	}
	cb := e.connect(bob)
	d, err := api.AdminDeleteGroup(ctx, id)
	if err != nil || d.Removed != 2 {
		t.Fatalf("delete: %+v %v", d, err)
	}
	if env := cb.nextEnvelope(); env.ConversationId != string(id) || env.Kind != uint32(parley.EnvelopeSystem) {
		t.Fatalf("bob got %v, want the group's removal", env)
	}
	if ms, _ := e.ps.Store.Members(ctx, id); len(ms) != 0 {
		t.Fatalf("members after delete: %v", ms)
	}
	if links, _ := e.ps.Store.InviteLinks(ctx, id); len(links) != 0 {
		t.Fatalf("links after delete: %v", links)
	}
	if gs, _ := api.AdminGroups(ctx, 1, 0); len(gs) != 0 {
		t.Fatalf("groups after delete: %+v", gs)
	}
	log, err := api.AdminAudit(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, a := range log {
		actions = append(actions, a.Action)
	}
	if strings.Join(actions, ",") != "delete_group,unverify,verify" {
		t.Fatalf("audit %v", actions)
	}
}
