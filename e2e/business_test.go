package e2e

import (
	"slices"
	"strings"
	"testing"
)

// TestBusinessCLI drives a home business and a customer through the real
// binary: profile, the operator's verified mark, catalog, greeting and
// away messages sent by the business's own device, a shared product, an
// order and its status, labels and quick replies.
func TestBusinessCLI(t *testing.T) {
	s := mustServe(t)
	biz := newDevice(t, "asha", "+14155550801")
	cust := newDevice(t, "ravi", "+14155550802")
	biz.mustRegister(s, "Asha")
	cust.mustRegister(s, "Ravi")

	// Not a business yet.
	r := cust.mustFail(exitNotFound, "business", "profile", "show", biz.phone)
	if !strings.Contains(r.stderr, "not_business") {
		t.Fatalf("profile of a personal account: %s", r.stderr)
	}
	biz.mustFail(exitForbidden, "business", "catalog", "add", "thali", "--name", "Thali", "--price", "120", "--currency", "INR")

	// Open one minute a week: closed for the test (but on Sundays at 00:00 UTC).
	p := biz.must("business", "profile", "set", "--name", "Asha's Kitchen", "--category", "Food", "--description", "Home-made tiffin",
		"--zone", "UTC", "--hours", "sun 00:00-00:01").lines()
	if len(p) != 1 || p[0]["name"] != "Asha's Kitchen" || p[0]["verified"] != false || p[0]["hours"] != "sun 00:00-00:01 (UTC)" {
		t.Fatalf("profile set printed %v", p)
	}
	biz.mustFail(2, "business", "profile", "set", "--hours", "someday 9-5")

	// Only the operator sets the verified mark, on the server's data.
	v := biz.must("business", "verify", "--data", s.data, biz.phone).lines()
	if len(v) != 1 || v[0]["verified"] != true {
		t.Fatalf("verify printed %v", v)
	}
	seen := cust.must("business", "profile", "show", biz.phone).lines()
	if len(seen) != 1 || seen[0]["verified"] != true || seen[0]["hosted"] != false || seen[0]["category"] != "Food" {
		t.Fatalf("customer sees %v", seen)
	}

	// Catalog.
	biz.must("business", "catalog", "collection", "add", "meals", "Meals")
	biz.must("business", "catalog", "add", "thali", "--name", "Veg thali", "--price", "120", "--currency", "INR", "--collection", "meals")
	biz.must("business", "catalog", "add", "lassi", "--name", "Lassi", "--price", "40.50", "--currency", "INR")
	biz.mustFail(exitInvalid, "business", "catalog", "add", "x", "--name", "X", "--price", "1.2345", "--currency", "INR")
	cat := cust.must("business", "catalog", "list", biz.phone, "--collection", "meals").lines()
	var products []string
	for _, l := range cat {
		if l["event"] == "product" {
			products = append(products, l["id"].(string)+"="+l["price"].(string))
		}
	}
	if !slices.Equal(products, []string{"thali=120.00 INR"}) {
		t.Fatalf("catalog of meals: %v", cat)
	}

	// Greeting and away, sent by the business's device as it receives.
	biz.must("business", "greeting", "set", "Namaste! How can we help?")
	biz.must("business", "away", "set", "We are closed now.", "--every", "1h")
	biz.must("business", "quick-reply", "add", "thanks", "Thank you for your order!")
	sent := cust.must("send", "--to", biz.phone, "hi").lines()
	chat := sent[0]["chat"].(string)
	out := biz.must("business", "listen", "--count", "1", "--for", "30s").lines()
	var autos []string
	for _, l := range out {
		if l["event"] == "auto_reply" {
			autos = append(autos, l["kind"].(string))
		}
	}
	if !slices.Equal(autos, []string{"greeting", "away"}) {
		t.Fatalf("business listen printed %v", out)
	}
	if l := biz.must("business", "label", "chats", "--chat", chat).lines(); len(l) != 1 || l[0]["label"] != "new_customer" {
		t.Fatalf("labels after first contact: %v", l)
	}

	// A product message, an order and its status.
	biz.must("business", "catalog", "share", "thali", "--to", chat)
	order := cust.must("business", "order", "--to", biz.phone, "thali:2", "lassi", "--note", "no onions").lines()
	if len(order) != 1 || order[0]["total"] != "280.50 INR" {
		t.Fatalf("order printed %v", order)
	}
	orderID := order[0]["order_id"].(string)
	hist := biz.must("history", chat).lines()
	var gotOrder map[string]any
	for _, m := range hist {
		if m["kind"] == "order" {
			gotOrder, _ = m["business"].(map[string]any)
		}
	}
	if gotOrder == nil || gotOrder["order"].(map[string]any)["order_id"] != orderID {
		t.Fatalf("business history lacks the order: %v", hist)
	}
	biz.must("business", "order", "status", chat, orderID, "paid", "--note", "UPI received")
	biz.mustFail(exitInvalid, "business", "order", "status", chat, orderID, "lost")
	biz.must("business", "quick-reply", "send", "--to", chat, "/thanks")

	hist = cust.must("history", chat).lines()
	want := []string{"hi", "Namaste! How can we help?", "We are closed now.", "Veg thali — 120.00 INR", "order " + orderID + " is paid: UPI received", "Thank you for your order!"}
	got := texts(hist)
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Fatalf("customer history %v lacks %q", got, w)
		}
	}
	if l := biz.must("business", "label", "chats", "--label", "paid").lines(); len(l) != 1 || l[0]["chat"] != chat {
		t.Fatalf("chats labelled paid: %v", l)
	}
	// Reply buttons and the customer's choice.
	biz.mustFail(exitInvalid, "business", "ask", "--to", chat, "--body", "Pick", "--button", "a:A", "--button", "b:B", "--button", "c:C", "--button", "d:D")
	asked := biz.must("business", "ask", "--to", chat, "--body", "Deliver today?", "--button", "yes:Yes", "--button", "no:No").lines()
	askID := asked[0]["id"].(string)
	cust.must("history", chat) // catch up
	cust.mustFail(exitNotFound, "business", "choose", askID, "maybe")
	cust.must("business", "choose", askID, "yes")
	var answer map[string]any
	for _, m := range biz.must("history", chat).lines() {
		if m["kind"] == "interactive_reply" {
			answer = m
		}
	}
	if answer == nil || answer["text"] != "Yes" || answer["reply_to"] != askID {
		t.Fatalf("business did not get the choice: %v", answer)
	}

	labels := biz.must("business", "label", "list").lines()
	if len(labels) != 4 {
		t.Fatalf("predefined labels: %v", labels)
	}
}
