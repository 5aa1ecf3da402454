package storetest

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// RunCloudAPI runs the contract suite of parley.CloudAPIStore. open is as
// for Run; the Store it returns must also implement parley.CloudAPIStore.
func RunCloudAPI(t *testing.T, open func(t *testing.T) parley.Store) {
	tests := []struct {
		name string
		f    func(t *testing.T, s parley.CloudAPIStore)
	}{
		{"Numbers", testAPINumbers},
		{"Tokens", testAPITokens},
		{"Templates", testTemplates},
		{"OptIns", testOptIns},
		{"Window", testWindow},
		{"Recipients", testRecipients},
		{"RecipientsConcurrent", testRecipientsConcurrent},
		{"QualitySignals", testQualitySignals},
		{"Media", testAPIMedia},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			cs, ok := s.(parley.CloudAPIStore)
			if !ok {
				t.Fatalf("%T does not implement parley.CloudAPIStore", s)
			}
			tc.f(t, cs)
		})
	}
	t.Run("Persistence", func(t *testing.T) {
		s := open(t)
		cs := s.(parley.CloudAPIStore)
		must(t, cs.PutOptIn(t.Context(), parley.OptIn{Business: 7, Customer: 8, Source: "web", Text: "yes", At: t0}))
		must(t, s.Close())
		s = open(t)
		defer s.Close()
		o, err := s.(parley.CloudAPIStore).OptIn(t.Context(), 7, 8)
		must(t, err)
		equal(t, "opt-in after reopen", o, parley.OptIn{Business: 7, Customer: 8, Source: "web", Text: "yes", At: t0})
	})
}

func testAPINumbers(t *testing.T, s parley.CloudAPIStore) {
	ctx := t.Context()
	if _, err := s.APINumber(ctx, 1); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("missing number: %v", err)
	}
	n := parley.APINumber{Business: 1, Phone: "+14155550100", Tier: parley.Tier250, Quality: parley.QualityGreen, Throughput: 80,
		AutoApprove: true, HostedDevice: 9, TierChangedAt: t0, CreatedAt: t0, UpdatedAt: t0}
	must(t, s.PutAPINumber(ctx, n))
	got, err := s.APINumber(ctx, 1)
	must(t, err)
	equal(t, "number", got, n)
	n.Tier, n.Quality, n.AutoApprove, n.UpdatedAt = parley.TierUnlimited, parley.QualityRed, false, t0.Add(time.Hour)
	must(t, s.PutAPINumber(ctx, n))
	must(t, s.PutAPINumber(ctx, parley.APINumber{Business: 2, Phone: "+2", Tier: parley.Tier2K, Quality: parley.QualityGreen, CreatedAt: t0}))
	all, err := s.APINumbers(ctx)
	must(t, err)
	if len(all) != 2 || all[0] != n || all[1].Business != 2 {
		t.Fatalf("numbers: %+v", all)
	}
}

func testAPITokens(t *testing.T, s parley.CloudAPIStore) {
	ctx := t.Context()
	a := parley.APIToken{ID: "tok_a", Business: 1, Name: "crm", Scopes: []parley.APIScope{parley.ScopeMessages, parley.ScopeMedia}, Hash: []byte("ha"), CreatedAt: t0}
	b := parley.APIToken{ID: "tok_b", Business: 1, Name: "bot", Scopes: parley.AllAPIScopes, Hash: []byte("hb"), CreatedAt: t0.Add(time.Second)}
	must(t, s.CreateAPIToken(ctx, a))
	must(t, s.CreateAPIToken(ctx, b))
	if err := s.CreateAPIToken(ctx, parley.APIToken{ID: "tok_c", Business: 2, Hash: []byte("ha"), CreatedAt: t0}); !parley.IsCode(err, parley.CodeConflict) {
		t.Fatalf("duplicate hash: %v", err)
	}
	got, err := s.APITokenByHash(ctx, []byte("ha"))
	must(t, err)
	equal(t, "token by hash", got, a)
	if _, err := s.APITokenByHash(ctx, []byte("nope")); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("unknown hash: %v", err)
	}
	must(t, s.RevokeAPIToken(ctx, 1, "tok_a", t0.Add(time.Minute)))
	must(t, s.RevokeAPIToken(ctx, 1, "tok_a", t0.Add(time.Hour)))
	if err := s.RevokeAPIToken(ctx, 2, "tok_b", t0); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("revoking another business's token: %v", err)
	}
	list, err := s.APITokens(ctx, 1)
	must(t, err)
	a.RevokedAt = t0.Add(time.Minute)
	equal(t, "tokens", list, []parley.APIToken{a, b})
}

func testTemplates(t *testing.T, s parley.CloudAPIStore) {
	ctx := t.Context()
	comps := json.RawMessage(`[{"type":"BODY","text":"Hi {{1}}"}]`)
	en := parley.Template{ID: "tpl_1", Business: 1, Name: "hello", Language: "en_US", Category: parley.CategoryMarketing,
		Status: parley.TemplatePending, Components: comps, CreatedAt: t0, UpdatedAt: t0}
	pt := en
	pt.ID, pt.Language = "tpl_2", "pt_BR"
	must(t, s.CreateTemplate(ctx, en))
	must(t, s.CreateTemplate(ctx, pt))
	dup := en
	dup.ID = "tpl_3"
	if err := s.CreateTemplate(ctx, dup); parley.ErrorReason(err) != "template_exists" {
		t.Fatalf("duplicate template: %v", err)
	}
	en.Status, en.Reason, en.UpdatedAt = parley.TemplatePaused, "quality", t0.Add(time.Hour)
	must(t, s.UpdateTemplate(ctx, en))
	got, err := s.Template(ctx, "tpl_1")
	must(t, err)
	equal(t, "template", got, en)
	if err := s.UpdateTemplate(ctx, parley.Template{ID: "tpl_x"}); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("update missing: %v", err)
	}
	list, err := s.Templates(ctx, 1)
	must(t, err)
	equal(t, "templates", list, []parley.Template{en, pt})
	n, err := s.DeleteTemplates(ctx, 1, "hello", "pt_BR")
	must(t, err)
	if n != 1 {
		t.Fatalf("deleted %d, want 1", n)
	}
	n, err = s.DeleteTemplates(ctx, 1, "hello", "")
	must(t, err)
	if n != 1 {
		t.Fatalf("deleted %d, want 1", n)
	}
	if _, err := s.Template(ctx, "tpl_1"); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("deleted template: %v", err)
	}
}

func testOptIns(t *testing.T, s parley.CloudAPIStore) {
	ctx := t.Context()
	if _, err := s.OptIn(ctx, 1, 2); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("missing opt-in: %v", err)
	}
	o := parley.OptIn{Business: 1, Customer: 2, Source: "checkout", Text: "Send me offers", At: t0}
	must(t, s.PutOptIn(ctx, o))
	o.OptedOutAt, o.OptOutText = t0.Add(time.Hour), "STOP"
	must(t, s.PutOptIn(ctx, o))
	must(t, s.PutOptIn(ctx, parley.OptIn{Business: 1, Customer: 3, Source: "chat", Text: "ok", At: t0}))
	got, err := s.OptIn(ctx, 1, 2)
	must(t, err)
	equal(t, "opt-in", got, o)
	if got.Active() {
		t.Fatal("an opted-out record is active")
	}
	list, err := s.OptIns(ctx, 1)
	must(t, err)
	if len(list) != 2 || list[0].Customer != 2 || list[1].Customer != 3 || !list[1].Active() {
		t.Fatalf("opt-ins: %+v", list)
	}
}

func testWindow(t *testing.T, s parley.CloudAPIStore) {
	ctx := t.Context()
	at, err := s.LastInbound(ctx, 1, 2)
	must(t, err)
	if !at.IsZero() {
		t.Fatalf("no inbound yet: %v", at)
	}
	must(t, s.TouchInbound(ctx, 1, 2, t0.Add(time.Hour)))
	must(t, s.TouchInbound(ctx, 1, 2, t0)) // earlier: ignored
	at, err = s.LastInbound(ctx, 1, 2)
	must(t, err)
	equal(t, "last inbound", at, t0.Add(time.Hour))
}

func testRecipients(t *testing.T, s parley.CloudAPIStore) {
	ctx := t.Context()
	for _, c := range []struct {
		cust parley.UserID
		day  string
		new  bool
	}{{2, "2026-11-21", true}, {2, "2026-11-21", false}, {3, "2026-11-21", true}, {2, "2026-11-22", true}, {4, "2026-11-22", true}} {
		added, err := s.AddRecipient(ctx, 1, c.cust, c.day)
		must(t, err)
		if added != c.new {
			t.Fatalf("AddRecipient(%d, %s) = %v, want %v", c.cust, c.day, added, c.new)
		}
	}
	for day, want := range map[string]int{"2026-11-21": 3, "2026-11-22": 2, "2026-11-23": 0} {
		n, err := s.CountRecipients(ctx, 1, day)
		must(t, err)
		if n != want {
			t.Fatalf("CountRecipients from %s = %d, want %d", day, n, want)
		}
	}
	// Hour periods (the rolling tiers) sort with the days; each customer
	// comes back with its latest period.
	for _, c := range []struct {
		cust parley.UserID
		hour string
	}{{3, "2026-11-22T05"}, {3, "2026-11-22T07"}, {5, "2026-11-21T23"}} {
		_, err := s.AddRecipient(ctx, 1, c.cust, c.hour)
		must(t, err)
	}
	got, err := s.RecentRecipients(ctx, 1, "2026-11-21T12")
	must(t, err)
	want := map[parley.UserID]string{2: "2026-11-22", 3: "2026-11-22T07", 4: "2026-11-22", 5: "2026-11-21T23"}
	if len(got) != len(want) {
		t.Fatalf("RecentRecipients = %v, want %v", got, want)
	}
	for c, p := range want {
		if got[c] != p {
			t.Fatalf("RecentRecipients = %v, want %v", got, want)
		}
	}
	if got, err := s.RecentRecipients(ctx, 2, "2026-11-01"); err != nil || len(got) != 0 {
		t.Fatalf("RecentRecipients of another business = %v, %v", got, err)
	}
}

func testRecipientsConcurrent(t *testing.T, s parley.CloudAPIStore) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	added := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.AddRecipient(t.Context(), 1, 5, "2026-11-22")
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				added++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if added != 1 {
		t.Fatalf("%d concurrent adds reported new, want 1", added)
	}
}

func testQualitySignals(t *testing.T, s parley.CloudAPIStore) {
	ctx := t.Context()
	long := t0.Add(-60 * 24 * time.Hour) // before every contact
	must(t, s.AddQualitySignal(ctx, parley.QualitySignal{Business: 1, Customer: 2, Kind: "block", At: t0}))
	must(t, s.AddQualitySignal(ctx, parley.QualitySignal{Business: 1, Customer: 2, Kind: "report", Reason: "spam", At: t0.Add(time.Hour)}))
	must(t, s.AddQualitySignal(ctx, parley.QualitySignal{Business: 1, Customer: 3, Kind: "report", At: t0.Add(2 * time.Hour)}))
	must(t, s.AddQualitySignal(ctx, parley.QualitySignal{Business: 9, Customer: 3, Kind: "report", At: t0.Add(2 * time.Hour)}))
	// Strangers: customer 4 was never messaged by 1; customer 5 only by 9.
	must(t, s.AddQualitySignal(ctx, parley.QualitySignal{Business: 1, Customer: 4, Kind: "report", At: t0.Add(2 * time.Hour)}))
	must(t, s.AddQualitySignal(ctx, parley.QualitySignal{Business: 1, Customer: 5, Kind: "report", At: t0.Add(2 * time.Hour)}))
	must(t, s.NoteContact(ctx, 9, 5, t0))
	if at, err := s.LastContact(ctx, 1, 2); err != nil || !at.IsZero() {
		t.Fatalf("LastContact before any = %v, %v", at, err)
	}
	for since, want := range map[time.Time]int{t0: 0, t0.Add(3 * time.Hour): 0} {
		n, err := s.CountQualitySignals(ctx, 1, since, long)
		must(t, err)
		if n != want {
			t.Fatalf("without contacts: CountQualitySignals since %v = %d, want %d", since, n, want)
		}
	}
	must(t, s.NoteContact(ctx, 1, 2, t0.Add(-time.Hour)))
	must(t, s.NoteContact(ctx, 1, 3, t0.Add(-48*time.Hour)))
	must(t, s.NoteContact(ctx, 1, 3, t0.Add(-24*time.Hour)))
	must(t, s.NoteContact(ctx, 1, 3, t0.Add(-72*time.Hour))) // older: changes nothing
	if at, err := s.LastContact(ctx, 1, 3); err != nil || !at.Equal(t0.Add(-24*time.Hour)) {
		t.Fatalf("LastContact = %v, %v, want the latest", at, err)
	}
	for since, want := range map[time.Time]int{t0: 2, t0.Add(90 * time.Minute): 1, t0.Add(3 * time.Hour): 0} {
		n, err := s.CountQualitySignals(ctx, 1, since, long)
		must(t, err)
		if n != want {
			t.Fatalf("CountQualitySignals since %v = %d, want %d", since, n, want)
		}
	}
	// Only customers messaged at or after contactSince count.
	if n, err := s.CountQualitySignals(ctx, 1, t0, t0.Add(-2*time.Hour)); err != nil || n != 1 {
		t.Fatalf("CountQualitySignals with recent contacts = %d, %v, want 1", n, err)
	}
	// Current blocks count too, once per customer, if the business
	// messaged the blocker.
	st := s.(parley.Store)
	b := MustUser(t, st)
	c1, c3, c4 := MustUser(t, st), MustUser(t, st), MustUser(t, st)
	must(t, s.AddQualitySignal(ctx, parley.QualitySignal{Business: b.ID, Customer: c1.ID, Kind: "report", At: t0}))
	must(t, st.Block(ctx, c1.ID, b.ID))
	must(t, st.Block(ctx, c3.ID, b.ID))
	must(t, st.Block(ctx, c4.ID, b.ID)) // a stranger's block
	must(t, s.NoteContact(ctx, b.ID, c1.ID, t0))
	must(t, s.NoteContact(ctx, b.ID, c3.ID, t0))
	for since, want := range map[time.Time]int{t0: 2, t0.Add(time.Hour): 2} {
		n, err := s.CountQualitySignals(ctx, b.ID, since, long)
		must(t, err)
		if n != want {
			t.Fatalf("with blocks: CountQualitySignals since %v = %d, want %d", since, n, want)
		}
	}
}

func testAPIMedia(t *testing.T, s parley.CloudAPIStore) {
	ctx := t.Context()
	m := parley.APIMedia{ID: "med_1", Business: 1, MimeType: "image/png", FileName: "a.png", SHA256: "ab", Size: 10, CreatedAt: t0}
	must(t, s.PutAPIMedia(ctx, m))
	if err := s.PutAPIMedia(ctx, m); !parley.IsCode(err, parley.CodeConflict) {
		t.Fatalf("duplicate media: %v", err)
	}
	got, err := s.APIMedia(ctx, "med_1")
	must(t, err)
	equal(t, "media", got, m)
	must(t, s.DeleteAPIMedia(ctx, "med_1"))
	if err := s.DeleteAPIMedia(ctx, "med_1"); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := s.APIMedia(ctx, "med_1"); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("deleted media: %v", err)
	}
}
