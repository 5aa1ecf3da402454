package server_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/admin"
	"github.com/parleyhq/parley/apiclient"
	"github.com/parleyhq/parley/groups"
	"github.com/parleyhq/parley/moderation"
	"github.com/parleyhq/parley/proto/parleypb"
	"github.com/parleyhq/parley/server"
)

func deviceClient(t *testing.T, e *env, a account) *apiclient.Client {
	t.Helper()
	c, err := apiclient.ForDevice("http://"+e.addr, parley.DeviceID(a.device), a.secret)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// storeGroup makes a group in the store (the server is crypto-blind; the
// MLS side is the e2e tests'): by is its admin, members its members.
func storeGroup(t *testing.T, e *env, name string, community parley.ConversationID, by account, members ...account) parley.ConversationID {
	t.Helper()
	id := parley.NewConversationID()
	if community == "self" {
		community = id
	}
	var ms []parley.Member
	for _, a := range append([]account{by}, members...) {
		ms = append(ms, parley.Member{User: parley.UserID(a.user), Device: parley.DeviceID(a.device)})
	}
	if _, err := e.ps.Store.CreateGroup(t.Context(), parley.Group{ID: id, Name: name, CreatedBy: parley.UserID(by.user), Community: community},
		parley.Conversation{ID: id, Kind: parley.KindGroup, Epoch: 1, CreatedBy: parley.UserID(by.user)}, ms, nil); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestReportLimits: every refusal of a report has its reason; a user
// reports only chats they are in and users who exist; the per-account
// budget refuses the next report with Retry-After; refused reports are not
// stored and do not count.
func TestReportLimits(t *testing.T) {
	e := newEnv(t, withOperatorToken(t), func(c *server.Config) { c.ReportLimit = parley.Limit{Events: 2, Window: time.Hour} })
	ctx := t.Context()
	alice, bob, carol := e.register("alice"), e.register("bob"), e.register("carol")
	theirs := storeGroup(t, e, "theirs", "", bob, carol)
	ours := storeGroup(t, e, "ours", "", alice, bob)
	api := deviceClient(t, e, alice)
	ev := func(n, size int) []parley.ReportEvidence {
		var out []parley.ReportEvidence
		for i := range n {
			out = append(out, parley.ReportEvidence{Seq: parley.Seq(i + 1), Sender: parley.UserID(bob.user), Kind: "text", Text: strings.Repeat("x", size)})
		}
		return out
	}
	for name, tc := range map[string]struct {
		req    apiclient.ReportRequest
		code   parley.Code
		reason string
	}{
		"too much evidence": {apiclient.ReportRequest{Target: parley.ReportChat, Conversation: ours, Category: parley.ReportSpam, Evidence: ev(11, 1)},
			parley.CodeTooLarge, moderation.ReasonTooMuchEvidence},
		"long evidence": {apiclient.ReportRequest{Target: parley.ReportChat, Conversation: ours, Category: parley.ReportSpam, Evidence: ev(1, 4097)},
			parley.CodeTooLarge, moderation.ReasonEvidenceTooLong},
		"long text": {apiclient.ReportRequest{Target: parley.ReportUser, User: parley.UserID(bob.user), Category: parley.ReportSpam, Text: strings.Repeat("x", 1001)},
			parley.CodeTooLarge, moderation.ReasonReportTextTooLong},
		"a chat one is not in": {apiclient.ReportRequest{Target: parley.ReportChat, Conversation: theirs, Category: parley.ReportAbuse},
			parley.CodeNotFound, moderation.ReasonNotReportable},
		"a user who does not exist": {apiclient.ReportRequest{Target: parley.ReportUser, User: 12345, Category: parley.ReportAbuse},
			parley.CodeNotFound, moderation.ReasonNotReportable},
		"no category": {apiclient.ReportRequest{Target: parley.ReportUser, User: parley.UserID(bob.user)},
			parley.CodeInvalid, moderation.ReasonReportCategory},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := api.FileReport(ctx, tc.req)
			wantAPIError(t, err, tc.code, tc.reason)
		})
	}
	// Without a device credential: 401.
	anon := &apiclient.Client{Base: "http://" + e.addr}
	_, err := anon.FileReport(ctx, apiclient.ReportRequest{Target: parley.ReportUser, User: parley.UserID(bob.user), Category: parley.ReportSpam})
	if parley.ErrorCode(err) != parley.CodeUnauthenticated {
		t.Fatalf("a report without a credential: %v", err)
	}

	ok := apiclient.ReportRequest{Target: parley.ReportMessage, Conversation: ours, Seq: 2, User: parley.UserID(bob.user), Category: parley.ReportSpam,
		Evidence: ev(2, 10)}
	for range 2 {
		if _, err := api.FileReport(ctx, ok); err != nil {
			t.Fatal(err)
		}
	}
	_, err = api.FileReport(ctx, ok)
	wantAPIError(t, err, parley.CodeRateLimited, moderation.ReasonTooManyReports)
	req, err := api.NewRequest(ctx, http.MethodPost, apiclient.ReportsPath, strings.NewReader(`{"target":"user","user":`+strconv.FormatInt(bob.user, 10)+`,"category":"spam"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := api.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("over the budget: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	rs, err := e.ps.Store.Reports(ctx, parley.ReportQuery{})
	if err != nil || len(rs) != 2 {
		t.Fatalf("stored reports: %d %v, want the 2 accepted", len(rs), err)
	}
	if rs[0].Reporter != parley.UserID(alice.user) || len(rs[0].Evidence) != 2 || rs[0].Status != parley.ReportOpen {
		t.Fatalf("stored report: %+v", rs[0])
	}

	// The operator's queue: filtered by status, paged; a bad status or id
	// has its reason.
	op := adminClient(t, e, testOperatorToken)
	page, err := op.AdminReports(ctx, parley.ReportOpen, rs[0].ID, 1)
	if err != nil || len(page) != 1 || page[0].ID != rs[1].ID || len(page[0].Evidence) != 2 {
		t.Fatalf("the second page of one: %+v %v", page, err)
	}
	_, err = op.AdminReports(ctx, "pending", 0, 0)
	wantAPIError(t, err, parley.CodeInvalid, admin.ReasonBadQuery)
	_, err = op.AdminReport(ctx, rs[1].ID+10)
	wantAPIError(t, err, parley.CodeNotFound, parley.ReasonReportNotFound)
	if r, err := op.AdminHandleReport(ctx, rs[0].ID, false, ""); err != nil || r.Status != parley.ReportDismissed {
		t.Fatalf("dismiss: %+v %v", r, err)
	}
	if open, err := op.AdminReports(ctx, parley.ReportOpen, 0, 0); err != nil || len(open) != 1 || open[0].ID != rs[1].ID {
		t.Fatalf("open after the dismissal: %+v %v", open, err)
	}
}

// TestGroupModerators: a community's admin moderates its sub-groups as
// the sub-group's own admin does; a member or an outsider does not; a
// moderator sees the group's reports without reporter or evidence; a ban
// removes the member (the remaining devices get the removal) and refuses
// every way back in; an admin cannot be banned.
func TestGroupModerators(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	alice, bob, carol, dave := e.register("alice"), e.register("bob"), e.register("carol"), e.register("dave")
	comm := storeGroup(t, e, "town", "self", alice, bob, carol, dave)
	sub := storeGroup(t, e, "market", comm, dave, bob, carol)
	other := storeGroup(t, e, "elsewhere", "", bob, carol)

	_, err := deviceClient(t, e, carol).FileReport(ctx, apiclient.ReportRequest{Target: parley.ReportChat, Conversation: sub, Category: parley.ReportSpam,
		Text: "bob spams", Evidence: []parley.ReportEvidence{{Seq: 1, Sender: parley.UserID(bob.user), Kind: "text", Text: "EVIDENCE-TEXT"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := deviceClient(t, e, carol).FileReport(ctx, apiclient.ReportRequest{Target: parley.ReportChat, Conversation: other, Category: parley.ReportSpam}); err != nil {
		t.Fatal(err)
	}
	for name, a := range map[string]account{"the sub-group's admin": dave, "the community's admin": alice} {
		rs, err := deviceClient(t, e, a).GroupReports(ctx, sub, "", 0, 0)
		if err != nil || len(rs) != 1 || rs[0].Text != "bob spams" || rs[0].Reporter != 0 || rs[0].Evidence != nil {
			t.Fatalf("%s reads the reports: %+v %v", name, rs, err)
		}
	}
	_, err = deviceClient(t, e, bob).GroupReports(ctx, sub, "", 0, 0)
	wantAPIError(t, err, parley.CodeForbidden, parley.ReasonNotAdmin)
	_, err = deviceClient(t, e, alice).GroupReports(ctx, other, "", 0, 0)
	wantAPIError(t, err, parley.CodeNotFound, parley.ReasonGroupNotFound)

	// The community's admin bans bob from the sub-group: bob's removal
	// reaches carol's device; bob is refused every way back in.
	cc := e.connect(carol)
	if err := deviceClient(t, e, alice).BanFromGroup(ctx, sub, parley.UserID(bob.user)); err != nil {
		t.Fatal(err)
	}
	cc.next(func(f *parleypb.ServerFrame) bool {
		env := f.GetEnvelope()
		return env != nil && env.ConversationId == string(sub) && env.Kind == uint32(parley.EnvelopeSystem) &&
			strings.Contains(string(env.Payload), "left_user")
	})
	ms, err := e.ps.Store.GroupMembers(ctx, sub)
	if err != nil || len(ms) != 2 {
		t.Fatalf("members after the ban: %+v %v", ms, err)
	}
	svc := e.srv.Groups
	bobDev := parley.Device{ID: parley.DeviceID(bob.device), User: parley.UserID(bob.user)}
	wantAPIError(t, svc.RequestJoin(ctx, bobDev, sub), parley.CodeForbidden, parley.ReasonBannedFromGroup)
	wantAPIError(t, svc.CanJoin(ctx, bobDev, sub), parley.CodeForbidden, parley.ReasonBannedFromGroup)
	daveDev := parley.Device{ID: parley.DeviceID(dave.device), User: parley.UserID(dave.user)}
	wantAPIError(t, svc.Invite(ctx, daveDev, sub, parley.UserID(bob.user)), parley.CodeForbidden, parley.ReasonBannedFromGroup)
	bans, err := deviceClient(t, e, dave).GroupBans(ctx, sub)
	if err != nil || len(bans) != 1 || bans[0].User != parley.UserID(bob.user) || bans[0].By != parley.UserID(alice.user) {
		t.Fatalf("bans: %+v %v", bans, err)
	}
	err = deviceClient(t, e, alice).BanFromGroup(ctx, sub, parley.UserID(dave.user))
	wantAPIError(t, err, parley.CodeForbidden, groups.ReasonBanAdmin)
	err = deviceClient(t, e, carol).BanFromGroup(ctx, sub, parley.UserID(dave.user))
	wantAPIError(t, err, parley.CodeForbidden, parley.ReasonNotAdmin)

	if err := deviceClient(t, e, dave).UnbanFromGroup(ctx, sub, parley.UserID(bob.user)); err != nil {
		t.Fatal(err)
	}
	if err := svc.Invite(ctx, daveDev, sub, parley.UserID(bob.user)); err != nil {
		t.Fatalf("invite after the unban: %v", err)
	}
	// A route's user must be an id.
	c := deviceClient(t, e, dave)
	err = c.Call(ctx, http.MethodPut, "/v1/groups/"+string(sub)+"/bans/bob", nil, nil)
	wantAPIError(t, err, parley.CodeInvalid, moderation.ReasonBadUser)
}
