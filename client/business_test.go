package client_test

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
)

// mustBizMessage waits for u's next message event of kind from another user.
func mustBizMessage(t *testing.T, u *user, kind string) client.MessageRecord {
	t.Helper()
	ev := mustEvent(t, u.Client, "a "+kind+" message", func(ev client.Event) bool {
		return ev.Kind == client.EventMessage && ev.Message.Kind == kind && !ev.Message.Outgoing
	})
	return *ev.Message
}

func TestBusinessEndToEnd(t *testing.T) {
	ts := mustServer(t)
	ctx := ctxT(t)
	bizClock, custClock := &testClock{}, &testClock{}
	biz := mustRegisterClock(t, ts, phone(901), "Asha", bizClock)
	cust := mustRegisterClock(t, ts, phone(902), "Ravi", custClock)
	biz2 := mustLink(t, ts, biz) // a second device of the business, also running auto replies

	// A personal account is not a business.
	_, err := cust.BusinessProfile(ctx, biz.phone)
	wantCode(t, "profile of a personal account", err, parley.CodeNotFound, "not_business")
	_, err = biz.PutProduct(ctx, parley.Product{ID: "thali", Name: "Thali", Price: parley.Money{Amount1000: 120000, Currency: "INR"}})
	wantCode(t, "product before a profile", err, parley.CodeForbidden, "not_business")

	// The profile, closed at all hours (a zone and no opening spans), and
	// the operator's verified mark, which the business cannot change.
	p, err := biz.SetBusinessProfile(ctx, parley.BusinessProfile{Name: "Asha's Kitchen", Category: "Food",
		Description: "Home-made tiffin", Address: "12 MG Road", Website: "https://asha.example", Email: "asha@example.com",
		Hours: parley.BusinessHours{Zone: "UTC"}, Verified: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.Verified || p.User != biz.Account().User {
		t.Fatalf("profile as set: %+v", p)
	}
	if err := ts.srv.Business.SetVerified(ctx, biz.Account().User, true); err != nil {
		t.Fatal(err)
	}
	if _, err := biz.SetBusinessProfile(ctx, parley.BusinessProfile{Name: "Asha's Kitchen", Category: "Food", Hours: parley.BusinessHours{Zone: "UTC"}}); err != nil {
		t.Fatal(err)
	}
	seen, err := cust.BusinessProfile(ctx, biz.phone)
	if err != nil {
		t.Fatal(err)
	}
	if !seen.Verified || seen.Name != "Asha's Kitchen" || seen.Hours.Zone != "UTC" || seen.Hosted {
		t.Fatalf("customer sees profile %+v", seen)
	}
	// The hosted endpoint's flag reaches customers; the business cannot clear it.
	if err := ts.srv.Business.SetHosted(ctx, biz.Account().User, true); err != nil {
		t.Fatal(err)
	}
	if _, err := biz.SetBusinessProfile(ctx, parley.BusinessProfile{Name: "Asha's Kitchen", Category: "Food", Hours: parley.BusinessHours{Zone: "UTC"}}); err != nil {
		t.Fatal(err)
	}
	if seen, err = cust.BusinessProfile(ctx, biz.phone); err != nil || !seen.Hosted || !seen.Verified {
		t.Fatalf("customer sees hosted=%v verified=%v (%v)", seen.Hosted, seen.Verified, err)
	}
	if err := ts.srv.Business.SetHosted(ctx, biz.Account().User, false); err != nil {
		t.Fatal(err)
	}
	_, err = biz.SetBusinessProfile(ctx, parley.BusinessProfile{Name: "X", Website: "ftp://x"})
	wantCode(t, "bad website", err, parley.CodeInvalid, "business_website")

	// Catalog with a collection; the customer reads it.
	if err := biz.PutCollection(ctx, "meals", "Meals"); err != nil {
		t.Fatal(err)
	}
	for _, pr := range []parley.Product{
		{ID: "thali", Name: "Veg thali", Price: parley.Money{Amount1000: 120000, Currency: "INR"}, Available: true, Collections: []parley.CollectionID{"meals"}},
		{ID: "lassi", Name: "Lassi", Price: parley.Money{Amount1000: 40000, Currency: "INR"}, Available: true},
		{ID: "special", Name: "Sunday special", Price: parley.Money{Amount1000: 200000, Currency: "INR"}},
	} {
		if _, err := biz.PutProduct(ctx, pr); err != nil {
			t.Fatal(err)
		}
	}
	_, err = biz.PutProduct(ctx, parley.Product{ID: "bad id", Name: "x", Price: parley.Money{Currency: "INR"}})
	wantCode(t, "bad product id", err, parley.CodeInvalid, "product_id")
	meals, err := cust.Catalog(ctx, biz.phone, "meals")
	if err != nil {
		t.Fatal(err)
	}
	if len(meals.Products) != 1 || meals.Products[0].ID != "thali" || len(meals.Collections) != 1 {
		t.Fatalf("meals: %+v", meals)
	}

	// Quick replies.
	if _, err := biz.PutQuickReply(ctx, parley.QuickReply{Shortcut: "/thanks", Text: "Thank you for ordering!"}); err != nil {
		t.Fatal(err)
	}
	q, ok, err := biz.ExpandQuickReply(ctx, "/thanks")
	if err != nil || !ok || q.Text != "Thank you for ordering!" {
		t.Fatalf("expand /thanks: %+v %v %v", q, ok, err)
	}
	_, _, err = biz.ExpandQuickReply(ctx, "/nope")
	wantCode(t, "unknown shortcut", err, parley.CodeNotFound, "no_quick_reply")

	// Greeting and away: sent by the business's device on first contact
	// and outside hours, the away message at most once an hour.
	if _, err := biz.SetAutoReply(ctx, parley.AutoReplySettings{GreetingEnabled: true, Greeting: "Namaste! How can we help?",
		AwayEnabled: true, Away: "We are closed now; we answer from 9:00.", AwayEvery: time.Hour}); err != nil {
		t.Fatal(err)
	}
	hi, err := cust.SendText(ctx, biz.phone, "hi", 0)
	if err != nil {
		t.Fatal(err)
	}
	in := mustBizMessage(t, biz, client.KindText)
	ar, err := biz.AutoReplyTo(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if !ar.FirstContact || ar.Greeting == nil || ar.Away == nil {
		t.Fatalf("first contact outside hours: %+v", ar)
	}
	// The other device sees the same message and would answer it too, but
	// the server gave the replies to the first device.
	ar2, err := biz2.AutoReplyTo(ctx, mustBizMessage(t, biz2, client.KindText))
	if err != nil || !ar2.FirstContact || ar2.Greeting != nil || ar2.Away != nil {
		t.Fatalf("second device: %+v %v", ar2, err)
	}
	chat := string(hi.Conversation)
	mustEvent(t, cust.Client, "greeting", isMessage("Namaste! How can we help?"))
	mustEvent(t, cust.Client, "away message", isMessage("We are closed now; we answer from 9:00."))
	labels, err := biz.ChatLabels(ctx, chat, "")
	if err != nil || len(labels) != 1 || labels[0].Label != parley.LabelNewCustomer {
		t.Fatalf("labels after first contact: %+v %v", labels, err)
	}
	if _, err := cust.SendText(ctx, chat, "menu?", 0); err != nil {
		t.Fatal(err)
	}
	ar, err = biz.AutoReplyTo(ctx, mustBizMessage(t, biz, client.KindText))
	if err != nil || ar.FirstContact || ar.Greeting != nil || ar.Away != nil {
		t.Fatalf("second message: %+v %v", ar, err)
	}
	bizClock.Add(time.Hour)
	if _, err := cust.SendText(ctx, chat, "anyone?", 0); err != nil {
		t.Fatal(err)
	}
	ar, err = biz.AutoReplyTo(ctx, mustBizMessage(t, biz, client.KindText))
	if err != nil || ar.Greeting != nil || ar.Away == nil {
		t.Fatalf("an hour later: %+v %v", ar, err)
	}
	// Open all week: no away message.
	open := map[time.Weekday][]parley.Span{}
	for d := time.Sunday; d <= time.Saturday; d++ {
		open[d] = []parley.Span{{From: 0, To: 24 * 60}}
	}
	if _, err := biz.SetBusinessProfile(ctx, parley.BusinessProfile{Name: "Asha's Kitchen", Hours: parley.BusinessHours{Zone: "Asia/Kolkata", Days: open}}); err != nil {
		t.Fatal(err)
	}
	bizClock.Add(2 * time.Hour)
	if _, err := cust.SendText(ctx, chat, "open now?", 0); err != nil {
		t.Fatal(err)
	}
	ar, err = biz.AutoReplyTo(ctx, mustBizMessage(t, biz, client.KindText))
	if err != nil || ar.Away != nil {
		t.Fatalf("while open: %+v %v", ar, err)
	}

	// A shared product, an order and its status, all end-to-end encrypted.
	if _, err := biz.ShareProduct(ctx, chat, "", "thali"); err != nil {
		t.Fatal(err)
	}
	pm := mustBizMessage(t, cust, client.KindProduct)
	if pm.Business == nil || pm.Business.Product == nil || pm.Business.Product.Name != "Veg thali" || pm.Business.Product.Price.String() != "120.00 INR" {
		t.Fatalf("product message: %+v", pm.Business)
	}
	_, err = cust.SendOrder(ctx, biz.phone, []client.CartItem{{Product: "special", Quantity: 1}}, "")
	wantCode(t, "order an unavailable product", err, parley.CodeInvalid, "unavailable")
	order, err := cust.SendOrder(ctx, biz.phone, []client.CartItem{{Product: "thali", Quantity: 2}, {Product: "lassi", Quantity: 1}}, "no onions")
	if err != nil {
		t.Fatal(err)
	}
	got := mustBizMessage(t, biz, client.KindOrder)
	o := got.Business.Order
	if o.Total != (parley.Money{Amount1000: 280000, Currency: "INR"}) || len(o.Items) != 2 || o.Note != "no onions" || o.OrderID != order.Business.Order.OrderID {
		t.Fatalf("order as received: %+v", o)
	}
	if _, err := biz.AutoReplyTo(ctx, got); err != nil {
		t.Fatal(err)
	}
	if ls, _ := biz.ChatLabels(ctx, chat, parley.LabelPendingPayment); len(ls) != 1 {
		t.Fatalf("order not labelled pending payment: %+v", ls)
	}
	if _, err := biz.SetOrderStatus(ctx, chat, o.OrderID, client.OrderPaid, "UPI received"); err != nil {
		t.Fatal(err)
	}
	st := mustBizMessage(t, cust, client.KindOrderStatus)
	if st.Business.OrderStatus.Status != client.OrderPaid || st.Text != "order "+o.OrderID+" is paid: UPI received" {
		t.Fatalf("status message: %+v %q", st.Business, st.Text)
	}
	ls, _ := biz.ChatLabels(ctx, chat, "")
	var ids []parley.LabelID
	for _, l := range ls {
		ids = append(ids, l.Label)
	}
	if !slices.Equal(ids, []parley.LabelID{parley.LabelNewCustomer, parley.LabelPaid}) {
		t.Fatalf("labels after payment: %v", ids)
	}
	_, err = biz.SetOrderStatus(ctx, chat, o.OrderID, "lost", "")
	wantCode(t, "bad status", err, parley.CodeInvalid, "business_status")

	// A product photo: an image the business sent, its preview kept with
	// the catalog, the photo itself fetched through a product message.
	img := image.NewGray(image.Rect(0, 0, 400, 300))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "thali.png")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	// Sent in another chat: sharing the product must let this chat's members fetch it.
	supplier := mustRegister(t, ts, phone(903), "Supplier")
	photo, err := biz.SendFile(ctx, supplier.phone, path, client.SendFileOptions{Caption: "today's thali"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := biz.MediaOf(ctx, photo.ID(), "image")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := biz.PutProduct(ctx, parley.Product{ID: "thali", Name: "Veg thali", Price: parley.Money{Amount1000: 120000, Currency: "INR"},
		Available: true, Collections: []parley.CollectionID{"meals"}, Images: []parley.ProductImage{client.ProductImageOf(d)}}); err != nil {
		t.Fatal(err)
	}
	pr, err := cust.Product(ctx, biz.phone, "thali")
	if err != nil || len(pr.Images) != 1 || len(pr.Images[0].Thumbnail) == 0 {
		t.Fatalf("catalog image: %+v %v", pr.Images, err)
	}
	if _, err := biz.ShareProduct(ctx, chat, "", "thali"); err != nil {
		t.Fatal(err)
	}
	withPhoto := mustBizMessage(t, cust, client.KindProduct)
	var fetched bytes.Buffer
	if _, err := cust.DownloadBusinessMedia(ctx, withPhoto.ID(), &fetched); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fetched.Bytes(), buf.Bytes()) {
		t.Fatalf("product photo: %d bytes, want the %d sent", fetched.Len(), buf.Len())
	}

	// Interactive buttons and the customer's choice, replying to them.
	_, err = biz.SendBusiness(ctx, chat, client.BusinessContent{Interactive: &client.InteractiveMessage{Type: "button", Body: "x",
		Buttons: []client.ReplyButton{{ID: "1", Title: "a"}, {ID: "2", Title: "b"}, {ID: "3", Title: "c"}, {ID: "4", Title: "d"}}}}, 0)
	wantCode(t, "four buttons", err, parley.CodeInvalid, "business_buttons")
	if _, err := biz.SendBusiness(ctx, chat, client.BusinessContent{Interactive: &client.InteractiveMessage{Type: "button",
		Body: "Delivery today?", Buttons: []client.ReplyButton{{ID: "yes", Title: "Yes"}, {ID: "no", Title: "No"}}}}, 0); err != nil {
		t.Fatal(err)
	}
	im := mustBizMessage(t, cust, client.KindInteractive)
	if !strings.Contains(im.Text, "[yes] Yes") {
		t.Fatalf("interactive text %q", im.Text)
	}
	_, err = cust.ReplyInteractive(ctx, im.ID(), "maybe")
	wantCode(t, "unknown choice", err, parley.CodeNotFound, "no_choice")
	if _, err := cust.ReplyInteractive(ctx, im.ID(), "yes"); err != nil {
		t.Fatal(err)
	}
	rep := mustBizMessage(t, biz, client.KindInteractiveReply)
	if rep.Business.Reply.ID != "yes" || rep.Text != "Yes" {
		t.Fatalf("reply: %+v", rep.Business.Reply)
	}
	if ex := mustExtras(t, ctx, biz, rep.Conversation, rep.Seq); ex.ReplyTo != im.Seq {
		t.Fatalf("interactive reply quotes %d, want %d", ex.ReplyTo, im.Seq)
	}

	// Both sides keep the structured content in their history.
	_, hist, err := cust.History(ctx, chat, 0)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, m := range hist {
		if client.IsBusinessKind(m.Kind) {
			if m.Business == nil || m.Business.Kind() != m.Kind {
				t.Fatalf("history message %s of kind %s without content", m.ID(), m.Kind)
			}
			kinds[m.Kind] = true
		}
	}
	if len(kinds) != 5 {
		t.Fatalf("business kinds in history: %v", kinds)
	}
}
