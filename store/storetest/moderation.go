package storetest

import (
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// RunModeration tests parley.ModerationStore against the stores open
// returns.
func RunModeration(t *testing.T, open func(t *testing.T) parley.Store) {
	tests := []struct {
		name string
		f    func(t *testing.T, s parley.Store)
	}{
		{"Reports", testReports},
		{"HandleReport", testHandleReport},
		{"GroupBans", testGroupBans},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { _ = s.Close() })
			tc.f(t, s)
		})
	}
}

func reportIDs(rs []parley.Report) []int64 {
	out := []int64{}
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

// testReports: a report round-trips whole (evidence included, exactly),
// one without evidence has none; listing filters by status and
// conversation and pages by ID, oldest first.
func testReports(t *testing.T, s parley.Store) {
	ctx := t.Context()
	a, b := MustUser(t, s).ID, MustUser(t, s).ID
	g := parley.NewConversationID()
	ev := []parley.ReportEvidence{
		{Seq: 3, Sender: b, SentAt: t0.Add(-time.Minute), Kind: "text", Text: "buy now ✨"},
		{Seq: 4, Sender: b, SentAt: t0, Kind: "image", Text: "caption"},
	}
	r1, err := s.FileReport(ctx, parley.Report{Reporter: a, Target: parley.ReportMessage, User: b, Conversation: g, Seq: 4,
		Category: parley.ReportSpam, Text: "spam in the group", Evidence: ev, CreatedAt: t0, Status: parley.ReportDismissed})
	must(t, err)
	r2, err := s.FileReport(ctx, parley.Report{Reporter: a, Target: parley.ReportUser, User: b, Category: parley.ReportAbuse, CreatedAt: t0})
	must(t, err)
	if r1.ID <= 0 || r2.ID <= r1.ID || r1.Status != parley.ReportOpen {
		t.Fatalf("filed %d then %d, status %q", r1.ID, r2.ID, r1.Status)
	}
	got, err := s.Report(ctx, r1.ID)
	must(t, err)
	equal(t, "report with evidence", got, r1)
	equal(t, "evidence", got.Evidence, ev)
	got, err = s.Report(ctx, r2.ID)
	must(t, err)
	if got.Evidence != nil || got.Text != "" || got.Conversation != "" || got.Target != parley.ReportUser {
		t.Fatalf("report without evidence: %+v", got)
	}
	if _, err := s.Report(ctx, r2.ID+100); parley.ErrorReason(err) != parley.ReasonReportNotFound || !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("missing report: %v", err)
	}
	all, err := s.Reports(ctx, parley.ReportQuery{})
	must(t, err)
	equal(t, "all", reportIDs(all), []int64{r1.ID, r2.ID})
	in, err := s.Reports(ctx, parley.ReportQuery{Conversation: g})
	must(t, err)
	equal(t, "about the group", reportIDs(in), []int64{r1.ID})
	page, err := s.Reports(ctx, parley.ReportQuery{After: r1.ID, Limit: 1})
	must(t, err)
	equal(t, "page after the first", reportIDs(page), []int64{r2.ID})
	page, err = s.Reports(ctx, parley.ReportQuery{Limit: 1})
	must(t, err)
	equal(t, "page of one", reportIDs(page), []int64{r1.ID})
	open, err := s.Reports(ctx, parley.ReportQuery{Status: parley.ReportOpen})
	must(t, err)
	equal(t, "open", reportIDs(open), []int64{r1.ID, r2.ID})
}

// testHandleReport: an open report is resolved or dismissed once;
// handling it again is CodeConflict "report_handled"; a missing one
// CodeNotFound "report_not_found"; the status filter follows.
func testHandleReport(t *testing.T, s parley.Store) {
	ctx := t.Context()
	a := MustUser(t, s).ID
	r1, err := s.FileReport(ctx, parley.Report{Reporter: a, Target: parley.ReportUser, User: a + 1, Category: parley.ReportSpam, CreatedAt: t0})
	must(t, err)
	r2, err := s.FileReport(ctx, parley.Report{Reporter: a, Target: parley.ReportUser, User: a + 1, Category: parley.ReportOther, CreatedAt: t0})
	must(t, err)
	at := t0.Add(time.Hour)
	h, err := s.HandleReport(ctx, r1.ID, parley.ReportResolved, "operator", "suspended", at)
	must(t, err)
	if h.Status != parley.ReportResolved || h.HandledBy != "operator" || h.Note != "suspended" || !h.HandledAt.Equal(at) {
		t.Fatalf("resolved: %+v", h)
	}
	if _, err := s.HandleReport(ctx, r1.ID, parley.ReportDismissed, "operator", "", at); parley.ErrorReason(err) != parley.ReasonReportHandled ||
		!parley.IsCode(err, parley.CodeConflict) {
		t.Fatalf("handling twice: %v", err)
	}
	if _, err := s.HandleReport(ctx, r2.ID+100, parley.ReportDismissed, "operator", "", at); parley.ErrorReason(err) != parley.ReasonReportNotFound {
		t.Fatalf("handling a missing report: %v", err)
	}
	_, err = s.HandleReport(ctx, r2.ID, parley.ReportDismissed, "operator", "", at)
	must(t, err)
	for status, want := range map[parley.ReportStatus][]int64{
		parley.ReportOpen: {}, parley.ReportResolved: {r1.ID}, parley.ReportDismissed: {r2.ID},
	} {
		rs, err := s.Reports(ctx, parley.ReportQuery{Status: status})
		must(t, err)
		equal(t, string(status), reportIDs(rs), want)
	}
}

// testGroupBans: a ban drops the user's pending invitation and join
// request, makes the group's invite links refuse them
// ("banned_from_group", no use counted), is listed, and is lifted by
// UnbanFromGroup; banning twice keeps the first ban.
func testGroupBans(t *testing.T, s parley.Store) {
	ctx := t.Context()
	a, b, c := MustUser(t, s), MustUser(t, s), MustUser(t, s)
	da := MustDevice(t, s, a.ID)
	g := parley.NewConversationID()
	_, err := s.CreateGroup(ctx, parley.Group{ID: g, Name: "g", CreatedBy: a.ID, CreatedAt: t0},
		parley.Conversation{ID: g, Kind: parley.KindGroup, Epoch: 1, CreatedBy: a.ID, CreatedAt: t0}, []parley.Member{{User: a.ID, Device: da.ID}}, nil)
	must(t, err)
	must(t, s.PutGroupInvitation(ctx, parley.GroupInvitation{Group: g, User: b.ID, InvitedBy: a.ID, CreatedAt: t0}))
	must(t, s.PutInviteLink(ctx, parley.GroupInviteLink{ID: "ban1", TokenHash: []byte("ban-token"), Group: g, CreatedBy: a.ID, CreatedAt: t0}))
	must(t, s.RequestToJoin(ctx, g, c.ID, t0))

	if banned, err := s.BannedFromGroup(ctx, g, b.ID); err != nil || banned {
		t.Fatalf("before the ban: %v %v", banned, err)
	}
	must(t, s.BanFromGroup(ctx, parley.GroupBan{Group: g, User: b.ID, By: a.ID, At: t0}))
	must(t, s.BanFromGroup(ctx, parley.GroupBan{Group: g, User: b.ID, By: c.ID, At: t0.Add(time.Hour)}))
	must(t, s.BanFromGroup(ctx, parley.GroupBan{Group: g, User: c.ID, By: a.ID, At: t0}))
	if _, err := s.GroupInvitation(ctx, g, b.ID); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("the banned user's invitation: %v", err)
	}
	reqs, err := s.JoinRequests(ctx, g)
	must(t, err)
	if len(reqs) != 0 {
		t.Fatalf("the banned user's join request: %+v", reqs)
	}
	bans, err := s.GroupBans(ctx, g)
	must(t, err)
	want := []parley.GroupBan{{Group: g, User: b.ID, By: a.ID, At: t0}, {Group: g, User: c.ID, By: a.ID, At: t0}}
	if c.ID < b.ID {
		want[0], want[1] = want[1], want[0]
	}
	equal(t, "bans by user", bans, want)
	if banned, err := s.BannedFromGroup(ctx, g, b.ID); err != nil || !banned {
		t.Fatalf("after the ban: %v %v", banned, err)
	}
	if _, err := s.RedeemInviteLink(ctx, []byte("ban-token"), b.ID, t0); parley.ErrorReason(err) != parley.ReasonBannedFromGroup ||
		!parley.IsCode(err, parley.CodeForbidden) {
		t.Fatalf("a banned user redeems a link: %v", err)
	}
	links, err := s.InviteLinks(ctx, g)
	must(t, err)
	if len(links) != 1 || links[0].Uses != 0 {
		t.Fatalf("the refused redemption counted a use: %+v", links)
	}
	must(t, s.UnbanFromGroup(ctx, g, b.ID))
	must(t, s.UnbanFromGroup(ctx, g, b.ID))
	if _, err := s.RedeemInviteLink(ctx, []byte("ban-token"), b.ID, t0); err != nil {
		t.Fatalf("redeem after the unban: %v", err)
	}
	bans, err = s.GroupBans(ctx, g)
	must(t, err)
	equal(t, "bans after the unban", bans, []parley.GroupBan{{Group: g, User: c.ID, By: a.ID, At: t0}})
}
