package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// BusinessStore is what RunBusiness needs.
type BusinessStore interface {
	parley.BusinessStore
	Close() error
}

// RunBusiness runs the contract suite of parley.BusinessStore. open works
// as for Run: a second call with the same t reopens the same storage.
func RunBusiness(t *testing.T, open func(t *testing.T) BusinessStore) {
	tests := []struct {
		name string
		f    func(t *testing.T, s BusinessStore)
	}{
		{"Profile", testBusinessProfile},
		{"Catalog", testBusinessCatalog},
		{"QuickReplies", testBusinessQuickReplies},
		{"Labels", testBusinessLabels},
		{"AutoReply", testBusinessAutoReply},
		{"DeleteProfile", testBusinessDelete},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			tc.f(t, s)
		})
	}
	t.Run("Reopen", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		at := time.Unix(1700000000, 123456789).UTC()
		must(t, s.PutBusinessProfile(ctx, parley.BusinessProfile{User: 7, Name: "Bakery", UpdatedAt: at}))
		must(t, s.PutProduct(ctx, parley.Product{Business: 7, ID: "bread", Name: "Bread", Price: parley.Money{Amount1000: 2500, Currency: "EUR"}, UpdatedAt: at}))
		must(t, s.Close())
		s = open(t)
		defer s.Close()
		p, err := s.BusinessProfile(ctx, 7)
		must(t, err)
		equal(t, "profile after reopen", p.Name, "Bakery")
		equal(t, "updated_at after reopen", p.UpdatedAt, at)
		pr, err := s.Product(ctx, 7, "bread")
		must(t, err)
		equal(t, "product after reopen", pr.Price, parley.Money{Amount1000: 2500, Currency: "EUR"})
	})
}

func testBusinessProfile(t *testing.T, s BusinessStore) {
	ctx := t.Context()
	_, err := s.BusinessProfile(ctx, 1)
	wantCode(t, err, parley.CodeNotFound, "not_business")
	at := time.Unix(1700000000, 5).UTC()
	p := parley.BusinessProfile{User: 1, Name: "Asha's Kitchen", Category: "Food", Description: "Home-made tiffin",
		Address: "12 MG Road", Website: "https://asha.example", Email: "asha@example.com", UpdatedAt: at,
		Hours:    parley.BusinessHours{Zone: "Asia/Kolkata", Days: map[time.Weekday][]parley.Span{time.Monday: {{From: 540, To: 1080}}}},
		Verified: true, Hosted: true} // both ignored by Put
	must(t, s.PutBusinessProfile(ctx, p))
	got, err := s.BusinessProfile(ctx, 1)
	must(t, err)
	p.Verified, p.Hosted = false, false
	equal(t, "profile", got, p)

	vat := time.Unix(1700000100, 0).UTC()
	must(t, s.SetBusinessVerified(ctx, 1, true, vat))
	must(t, s.SetBusinessHosted(ctx, 1, true))
	p.Name = "Asha's Kitchen & Bakery"
	must(t, s.PutBusinessProfile(ctx, p)) // keeps the operator's mark and the hosted flag
	got, err = s.BusinessProfile(ctx, 1)
	must(t, err)
	equal(t, "verified kept", got.Verified && got.Hosted && got.VerifiedAt.Equal(vat) && got.Name == p.Name, true)
	must(t, s.SetBusinessVerified(ctx, 1, false, vat))
	got, _ = s.BusinessProfile(ctx, 1)
	equal(t, "unverified", got.Verified || !got.VerifiedAt.IsZero(), false)

	// The operator may verify, and the API host, an account with no profile yet.
	must(t, s.SetBusinessHosted(ctx, 2, true))
	got, err = s.BusinessProfile(ctx, 2)
	must(t, err)
	equal(t, "hosted without a profile", got.Hosted && got.Name == "", true)
	list, err := s.BusinessProfiles(ctx, 0, 10)
	must(t, err)
	equal(t, "profiles", len(list), 2)
	list, err = s.BusinessProfiles(ctx, 1, 10)
	must(t, err)
	equal(t, "profiles after 1", len(list) == 1 && list[0].User == 2, true)
}

func testBusinessCatalog(t *testing.T, s BusinessStore) {
	ctx := t.Context()
	img := parley.ProductImage{Blob: "b1", Capability: "cap", Key: []byte{1, 2, 3}, Size: 10, Type: "image/jpeg"}
	a := parley.Product{Business: 1, ID: "a", Name: "Apple", Price: parley.Money{Amount1000: 1000, Currency: "USD"}, Available: true,
		Images: []parley.ProductImage{img}, Collections: []parley.CollectionID{"fruit"}, UpdatedAt: time.Unix(1, 0).UTC()}
	b := parley.Product{Business: 1, ID: "b", Name: "Bread", Price: parley.Money{Amount1000: 2500, Currency: "USD"}, URL: "https://x"}
	other := parley.Product{Business: 2, ID: "a", Name: "Other", Price: parley.Money{Currency: "USD"}}
	for _, p := range []parley.Product{b, a, other} {
		must(t, s.PutProduct(ctx, p))
	}
	got, err := s.Product(ctx, 1, "a")
	must(t, err)
	equal(t, "product", got, a)
	_, err = s.Product(ctx, 1, "zz")
	wantCode(t, err, parley.CodeNotFound, "no_product")
	all, err := s.Products(ctx, 1, "")
	must(t, err)
	equal(t, "catalog order", len(all) == 2 && all[0].ID == "a" && all[1].ID == "b", true)
	fruit, err := s.Products(ctx, 1, "fruit")
	must(t, err)
	equal(t, "collection", len(fruit) == 1 && fruit[0].ID == "a", true)
	a.Price.Amount1000 = 1200
	must(t, s.PutProduct(ctx, a))
	got, _ = s.Product(ctx, 1, "a")
	equal(t, "replaced price", got.Price.Amount1000, int64(1200))
	must(t, s.DeleteProduct(ctx, 1, "b"))
	wantCode(t, s.DeleteProduct(ctx, 1, "b"), parley.CodeNotFound, "no_product")
	all, _ = s.Products(ctx, 1, "")
	equal(t, "after delete", len(all), 1)

	must(t, s.PutCollection(ctx, parley.Collection{Business: 1, ID: "fruit", Name: "Fruit"}))
	must(t, s.PutCollection(ctx, parley.Collection{Business: 1, ID: "bakery", Name: "Bakery"}))
	must(t, s.PutCollection(ctx, parley.Collection{Business: 1, ID: "fruit", Name: "Fresh fruit"}))
	cs, err := s.Collections(ctx, 1)
	must(t, err)
	equal(t, "collections", cs, []parley.Collection{{Business: 1, ID: "bakery", Name: "Bakery"}, {Business: 1, ID: "fruit", Name: "Fresh fruit"}})
	must(t, s.DeleteCollection(ctx, 1, "bakery"))
	wantCode(t, s.DeleteCollection(ctx, 1, "bakery"), parley.CodeNotFound, "no_collection")
	for i := 1; i < parley.MaxCollections; i++ {
		must(t, s.PutCollection(ctx, parley.Collection{Business: 1, ID: parley.CollectionID(fmt.Sprintf("c%03d", i)), Name: "C"}))
	}
	wantCode(t, s.PutCollection(ctx, parley.Collection{Business: 1, ID: "one-more", Name: "C"}), parley.CodeTooLarge, "too_many_collections")
	must(t, s.PutCollection(ctx, parley.Collection{Business: 1, ID: "fruit", Name: "Renaming is fine at the limit"}))
}

func testBusinessQuickReplies(t *testing.T, s BusinessStore) {
	ctx := t.Context()
	q := parley.QuickReply{Business: 1, Shortcut: "thanks", Text: "Thank you for your order!", UpdatedAt: time.Unix(5, 0).UTC()}
	must(t, s.PutQuickReply(ctx, q))
	must(t, s.PutQuickReply(ctx, parley.QuickReply{Business: 1, Shortcut: "menu", Media: []byte(`{"kind":"image"}`)}))
	got, err := s.QuickReply(ctx, 1, "thanks")
	must(t, err)
	equal(t, "quick reply", got, q)
	_, err = s.QuickReply(ctx, 2, "thanks")
	wantCode(t, err, parley.CodeNotFound, "no_quick_reply")
	list, err := s.QuickReplies(ctx, 1)
	must(t, err)
	equal(t, "quick replies", len(list) == 2 && list[0].Shortcut == "menu" && string(list[0].Media) == `{"kind":"image"}`, true)
	must(t, s.DeleteQuickReply(ctx, 1, "menu"))
	wantCode(t, s.DeleteQuickReply(ctx, 1, "menu"), parley.CodeNotFound, "no_quick_reply")
	for i := 1; i < parley.MaxQuickReplies; i++ {
		must(t, s.PutQuickReply(ctx, parley.QuickReply{Business: 1, Shortcut: fmt.Sprintf("q%03d", i), Text: "x"}))
	}
	wantCode(t, s.PutQuickReply(ctx, parley.QuickReply{Business: 1, Shortcut: "extra", Text: "x"}), parley.CodeTooLarge, "too_many_quick_replies")
}

func testBusinessLabels(t *testing.T, s BusinessStore) {
	ctx := t.Context()
	vip := parley.Label{Business: 1, ID: "vip", Name: "VIP", Color: "#ff0000"}
	must(t, s.PutLabel(ctx, vip))
	ls, err := s.Labels(ctx, 1)
	must(t, err)
	equal(t, "labels", ls, []parley.Label{vip})
	at := time.Unix(10, 0).UTC()
	c1, c2 := parley.ConversationID("caaaaaaaaaa"), parley.ConversationID("cbbbbbbbbbb")
	must(t, s.LabelChat(ctx, parley.ChatLabel{Business: 1, Conversation: c1, Label: "vip", At: at}))
	must(t, s.LabelChat(ctx, parley.ChatLabel{Business: 1, Conversation: c1, Label: "vip", At: at.Add(time.Hour)})) // idempotent
	must(t, s.LabelChat(ctx, parley.ChatLabel{Business: 1, Conversation: c1, Label: parley.LabelPaid, At: at}))
	must(t, s.LabelChat(ctx, parley.ChatLabel{Business: 1, Conversation: c2, Label: parley.LabelPaid, At: at}))
	all, err := s.ChatLabels(ctx, 1, "", "")
	must(t, err)
	equal(t, "all chat labels", len(all), 3)
	one, err := s.ChatLabels(ctx, 1, c1, "")
	must(t, err)
	equal(t, "labels of c1", len(one) == 2 && one[0].Label == parley.LabelPaid && one[1].Label == "vip" && one[1].At.Equal(at), true)
	paid, err := s.ChatLabels(ctx, 1, "", parley.LabelPaid)
	must(t, err)
	equal(t, "chats labelled paid", len(paid) == 2 && paid[0].Conversation == c1 && paid[1].Conversation == c2, true)
	must(t, s.UnlabelChat(ctx, 1, c2, parley.LabelPaid))
	must(t, s.UnlabelChat(ctx, 1, c2, parley.LabelPaid))
	must(t, s.DeleteLabel(ctx, 1, "vip")) // also off every chat
	wantCode(t, s.DeleteLabel(ctx, 1, "vip"), parley.CodeNotFound, "no_label")
	all, _ = s.ChatLabels(ctx, 1, "", "")
	equal(t, "after delete", len(all) == 1 && all[0].Label == parley.LabelPaid, true)
	for i := 0; i < parley.MaxLabels; i++ {
		must(t, s.PutLabel(ctx, parley.Label{Business: 1, ID: parley.LabelID(fmt.Sprintf("l%02d", i)), Name: "L"}))
	}
	wantCode(t, s.PutLabel(ctx, parley.Label{Business: 1, ID: "extra", Name: "L"}), parley.CodeTooLarge, "too_many_labels")
	for i := 1; i < parley.MaxLabelsPerChat; i++ {
		must(t, s.LabelChat(ctx, parley.ChatLabel{Business: 1, Conversation: c1, Label: parley.LabelID(fmt.Sprintf("l%02d", i)), At: at}))
	}
	wantCode(t, s.LabelChat(ctx, parley.ChatLabel{Business: 1, Conversation: c1, Label: "l00", At: at}), parley.CodeTooLarge, "too_many_chat_labels")
}

func testBusinessAutoReply(t *testing.T, s BusinessStore) {
	ctx := t.Context()
	a, err := s.AutoReply(ctx, 1)
	must(t, err)
	equal(t, "no settings", a, parley.AutoReplySettings{Business: 1})
	want := parley.AutoReplySettings{Business: 1, GreetingEnabled: true, Greeting: "Hello! How can we help?", GreetingAfter: 14 * 24 * time.Hour,
		AwayEnabled: true, Away: "We are closed; back at 9.", AwayEvery: time.Hour, UpdatedAt: time.Unix(3, 4).UTC()}
	must(t, s.PutAutoReply(ctx, want))
	a, err = s.AutoReply(ctx, 1)
	must(t, err)
	equal(t, "settings", a, want)
	want.AwayEnabled = false
	must(t, s.PutAutoReply(ctx, want))
	a, _ = s.AutoReply(ctx, 1)
	equal(t, "replaced settings", a, want)

	// One claim per key and chat, whoever asks first.
	c1 := parley.ConversationID("caaaaaaaaaa")
	ok, err := s.ClaimAutoReply(ctx, 1, c1, "greeting:7", 5, time.Unix(9, 0))
	must(t, err)
	equal(t, "first claim", ok, true)
	ok, err = s.ClaimAutoReply(ctx, 1, c1, "greeting:7", 5, time.Unix(10, 0))
	must(t, err)
	equal(t, "the same device's retried claim", ok, true)
	ok, err = s.ClaimAutoReply(ctx, 1, c1, "greeting:7", 6, time.Unix(10, 0))
	must(t, err)
	equal(t, "another device's claim", ok, false)
	ok, _ = s.ClaimAutoReply(ctx, 1, c1, "away:7", 5, time.Unix(10, 0))
	equal(t, "other key", ok, true)
	ok, _ = s.ClaimAutoReply(ctx, 1, "cbbbbbbbbbb", "greeting:7", 5, time.Unix(10, 0))
	equal(t, "other chat", ok, true)
	ok, _ = s.ClaimAutoReply(ctx, 2, c1, "greeting:7", 5, time.Unix(10, 0))
	equal(t, "other business", ok, true)
	wins := 0
	var mu sync.Mutex
	errs := concurrently(8, func(i int) error {
		ok, err := s.ClaimAutoReply(ctx, 1, c1, "greeting:8", parley.DeviceID(10+i), time.Unix(11, 0))
		if ok {
			mu.Lock()
			wins++
			mu.Unlock()
		}
		return err
	})
	for _, err := range errs {
		must(t, err)
	}
	equal(t, "concurrent claims won", wins, 1)
}

func testBusinessDelete(t *testing.T, s BusinessStore) {
	ctx := t.Context()
	wantCode(t, s.DeleteBusinessProfile(ctx, 1), parley.CodeNotFound, "not_business")
	must(t, s.PutBusinessProfile(ctx, parley.BusinessProfile{User: 1, Name: "Shop"}))
	must(t, s.PutProduct(ctx, parley.Product{Business: 1, ID: "a", Name: "A", Price: parley.Money{Currency: "EUR"}}))
	must(t, s.PutQuickReply(ctx, parley.QuickReply{Business: 1, Shortcut: "hi", Text: "hi"}))
	must(t, s.PutLabel(ctx, parley.Label{Business: 1, ID: "x", Name: "X"}))
	must(t, s.LabelChat(ctx, parley.ChatLabel{Business: 1, Conversation: "caaaaaaaaaa", Label: "x"}))
	must(t, s.PutAutoReply(ctx, parley.AutoReplySettings{Business: 1, GreetingEnabled: true, Greeting: "hi"}))
	must(t, s.PutProduct(ctx, parley.Product{Business: 2, ID: "a", Name: "A", Price: parley.Money{Currency: "EUR"}}))
	must(t, s.DeleteBusinessProfile(ctx, 1))
	_, err := s.BusinessProfile(ctx, 1)
	wantCode(t, err, parley.CodeNotFound, "not_business")
	ps, _ := s.Products(ctx, 1, "")
	qs, _ := s.QuickReplies(ctx, 1)
	ls, _ := s.Labels(ctx, 1)
	cls, _ := s.ChatLabels(ctx, 1, "", "")
	a, _ := s.AutoReply(ctx, 1)
	equal(t, "all gone", len(ps)+len(qs)+len(ls)+len(cls) == 0 && !a.GreetingEnabled, true)
	ps, _ = s.Products(ctx, 2, "")
	equal(t, "other business kept", len(ps), 1)
}
