package cloudapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// TestTierRolling24Hours: the tier counts unique template recipients over
// a rolling 24 hours, across UTC midnight: customers messaged late
// yesterday still count this morning, and each one stops counting 24 hours
// after their last template.
func TestTierRolling24Hours(t *testing.T) {
	e := mustEnv(t)
	biz := e.mustBusiness("Night Pharmacy")
	custs := []*user{e.mustUser("A"), e.mustUser("B"), e.mustUser("C")}
	e.review(biz.template(e, "reminder", "UTILITY", "Your prescription {{1}} is ready"), "APPROVED")
	var bid parley.UserID
	fmt.Sscan(biz.pnid, &bid)
	wa := func(i int) string { return strings.TrimPrefix(custs[i].phone, "+") }
	setTier := func() {
		var n map[string]any
		if st := e.do("POST", "/business/v1/admin/numbers/"+biz.pnid, "Bearer "+operatorToken, map[string]any{"tier": 250}, &n); st != 200 {
			t.Fatalf("set tier: %d %v", st, n)
		}
	}

	// Now is 00:30 UTC; 248 customers got templates between 23:00 and
	// midnight (in the store, from another node or before a restart).
	now := e.clock.Now().UTC()
	midnight := now.Truncate(24 * time.Hour).Add(24 * time.Hour)
	e.clock.advance(midnight.Add(30 * time.Minute).Sub(now))
	t0 := e.clock.Now()
	lastHour := t0.Add(-time.Hour).UTC().Format("2006-01-02T15")
	for i := 0; i < 248; i++ {
		if _, err := e.st.AddRecipient(context.Background(), bid, parley.UserID(100000+i), lastHour); err != nil {
			t.Fatal(err)
		}
	}
	setTier()
	if st, r := biz.send(e, tmpl(wa(0), "reminder", "A")); st != 200 {
		t.Fatalf("249th recipient: %d %+v", st, r.Error)
	}
	e.clock.advance(time.Hour) // 01:30
	if st, r := biz.send(e, tmpl(wa(1), "reminder", "B")); st != 200 {
		t.Fatalf("250th recipient: %d %+v", st, r.Error)
	}
	e.clock.advance(time.Hour) // 02:30: a day-based count would have 2 today
	if st, r := biz.send(e, tmpl(wa(2), "reminder", "C")); st != 400 || r.Error.Code != 131048 || !strings.Contains(r.Error.ErrorData.Details, "24 hours") {
		t.Fatalf("251st recipient in 24 hours: %d %+v", st, r.Error)
	}
	if st, r := biz.send(e, tmpl(wa(0), "reminder", "A again")); st != 200 {
		t.Fatalf("a counted recipient again: %d %+v", st, r.Error)
	}

	// 23:59 the same day: yesterday's 248 still count (their hour ends at
	// midnight), so C is still refused.
	e.clock.advance(21*time.Hour + 29*time.Minute)
	if st, r := biz.send(e, tmpl(wa(2), "reminder", "C")); st != 400 || r.Error.Code != 131048 {
		t.Fatalf("before the 248 expire: %d %+v", st, r.Error)
	}
	// 00:01 the next day: the 248 have expired; A (last at 02:30) and B
	// (01:30) count: C is the third of 250.
	e.clock.advance(2 * time.Minute)
	setTier() // (a fresh tier is not promoted at the new day's evaluation)
	if st, r := biz.send(e, tmpl(wa(2), "reminder", "C")); st != 200 {
		t.Fatalf("after yesterday's recipients expired: %d %+v", st, r.Error)
	}
}
