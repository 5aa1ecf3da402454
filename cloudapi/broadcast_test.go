package cloudapi_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/client/broadcast"
	"github.com/parleyhq/parley/cloudapi"
)

// TestBroadcastCountsLikeMarketing: a business with an API number that
// broadcasts from its own device is held to the rules of a MARKETING
// template: a customer without an opt-in is refused (broadcast_no_optin),
// every admitted copy is counted against the number's tier — one the
// consent rule withholds too — and once the tier is used up the next new
// customer is refused (broadcast_tier).
func TestBroadcastCountsLikeMarketing(t *testing.T) {
	e := mustEnv(t)
	biz := e.mustBusiness("Shop")
	fan, stranger, later := e.mustUser("Fan"), e.mustUser("Stranger"), e.mustUser("Later")
	for _, u := range []*user{fan, later} {
		if _, err := u.c.AddContact(e.ctx(), biz.phone); err != nil { // stranger does not
			t.Fatal(err)
		}
	}
	optIn := func(u *user) {
		t.Helper()
		var ok map[string]any
		if st := e.do("POST", "/v23.0/"+biz.pnid+"/optins", "Bearer "+biz.token,
			map[string]string{"wa_id": strings.TrimPrefix(u.phone, "+"), "source": "shop counter", "text": "Send me offers"}, &ok); st != 200 {
			t.Fatalf("opt-in: %d %v", st, ok)
		}
	}
	optIn(fan)
	optIn(stranger)
	var to []string
	for _, u := range []*user{fan, stranger, later} {
		if _, err := biz.c.AddContact(e.ctx(), u.phone); err != nil {
			t.Fatal(err)
		}
		to = append(to, u.phone)
	}
	if _, err := biz.c.CreateBroadcast(e.ctx(), "offers", to); err != nil {
		t.Fatal(err)
	}

	sent, err := biz.c.SendBroadcast(e.ctx(), "offers", "spring sale")
	if err != nil {
		t.Fatal(err)
	}
	if len(sent.Copies) != 2 || len(sent.Failed) != 1 || sent.Failed[0].User != later.acct.User ||
		!strings.Contains(sent.Failed[0].Error, cloudapi.ReasonBroadcastNoOptIn) {
		t.Fatalf("sent: %+v", sent)
	}
	mustMessage(t, fan.c, func(m client.MessageRecord) bool { return m.Text == "spring sale" })
	counted, err := e.st.RecentRecipients(context.Background(), biz.acct.User, e.clock.Now().UTC().Add(-24*time.Hour).Format("2006-01-02"))
	if err != nil {
		t.Fatal(err)
	}
	_, fanCounted := counted[fan.acct.User]
	_, strangerCounted := counted[stranger.acct.User] // withheld by the consent rule, counted all the same
	if !fanCounted || !strangerCounted || len(counted) != 2 {
		t.Fatalf("counted recipients: %v (fan %d, stranger %d)", counted, fan.acct.User, stranger.acct.User)
	}

	// The tier used up two days later: 250 others in the last 24 hours,
	// tier 250; the fan, no longer counted, is refused now.
	e.clock.advance(48 * time.Hour)
	today := e.clock.Now().UTC().Format("2006-01-02")
	for i := range 250 {
		if _, err := e.st.AddRecipient(context.Background(), biz.acct.User, parley.UserID(100000+i), today); err != nil {
			t.Fatal(err)
		}
	}
	var n map[string]any
	if st := e.do("POST", "/business/v1/admin/numbers/"+biz.pnid, "Bearer "+operatorToken, map[string]any{"tier": 250}, &n); st != 200 {
		t.Fatalf("set tier: %d %v", st, n)
	}
	if _, err := biz.c.EditBroadcast(e.ctx(), "offers", broadcast.EditOptions{Remove: []string{later.phone, stranger.phone}}); err != nil {
		t.Fatal(err)
	}
	sent, err = biz.c.SendBroadcast(e.ctx(), "offers", "last day")
	if err != nil {
		t.Fatal(err)
	}
	if len(sent.Copies) != 0 || len(sent.Failed) != 1 || !strings.Contains(sent.Failed[0].Error, cloudapi.ReasonBroadcastTier) {
		t.Fatalf("over the tier: %+v", sent)
	}
	if ms, _ := fan.c.Search(e.ctx(), "last day", "", 0); slices.ContainsFunc(ms, func(m client.MessageRecord) bool { return !m.Outgoing }) {
		t.Fatal("the fan received a copy over the tier")
	}
}
