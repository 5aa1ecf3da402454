package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/bot"
	"github.com/parleyhq/parley/bot/bottest"
	"github.com/parleyhq/parley/client"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"))
}

func text(m client.MessageRecord) bool { return m.Text != "" && m.Business == nil }

// TestOrderStatusBot: a customer orders from the catalog; the bot (one
// device of the business) confirms with a Track button; the owner marks the
// order shipped from another device; the customer's "status" shows it; the
// order book survives a restart of the bot.
func TestOrderStatusBot(t *testing.T) {
	e := bottest.Start(t)
	shop := e.MustUser("Shop")
	cust := e.MustUser("Customer")
	other := e.MustUser("Someone else")
	if _, err := shop.C.SetBusinessProfile(e.Ctx(), parley.BusinessProfile{Name: "Tiffin Shop"}); err != nil {
		t.Fatal(err)
	}
	if _, err := shop.C.PutProduct(e.Ctx(), parley.Product{ID: "thali", Name: "Thali", Available: true,
		Price: parley.Money{Amount1000: 120_000, Currency: "INR"}}); err != nil {
		t.Fatal(err)
	}
	// The owner's second device.
	owner, err := client.Open(e.Ctx(), client.Config{Dir: t.TempDir(), ServerURL: e.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	code, _, err := shop.C.LinkCode(e.Ctx())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := owner.LinkDevice(e.Ctx(), e.URL, code); err != nil {
		t.Fatal(err)
	}

	bookPath := filepath.Join(t.TempDir(), "orders.json")
	run := func() (stop func()) {
		bk, err := openBook(bookPath)
		if err != nil {
			t.Fatal(err)
		}
		b := bot.New(shop.C, bot.Options{})
		setup(b, bk)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- b.Run(ctx) }()
		return func() { cancel(); <-done }
	}
	stop := run()

	// The order is the customer's first contact with the business.
	om, err := cust.C.SendOrder(e.Ctx(), shop.Phone, []client.CartItem{{Product: "thali", Quantity: 2}}, "no onions")
	if err != nil {
		t.Fatal(err)
	}
	id := om.Business.Order.OrderID
	conf := bottest.MustMessage(t, cust, func(m client.MessageRecord) bool { return m.Business != nil && m.Business.Interactive != nil })
	if _, err := cust.C.Send(e.Ctx(), shop.Phone, "hi"); err != nil {
		t.Fatal(err)
	}
	if r := bottest.MustMessage(t, cust, text).Text; !strings.Contains(r, "status") {
		t.Fatalf("default answer %q", r)
	}
	if !strings.Contains(conf.Business.Interactive.Body, id) || !strings.Contains(conf.Business.Interactive.Body, "240.00 INR") ||
		conf.Business.Interactive.Buttons[0].ID != "track:"+id {
		t.Fatalf("confirmation %+v", conf.Business.Interactive)
	}

	if _, err := owner.SetOrderStatus(e.Ctx(), string(om.Conversation), id, client.OrderShipped, "on its way"); err != nil {
		t.Fatal(err)
	}
	bottest.MustMessage(t, cust, func(m client.MessageRecord) bool { return m.Business != nil && m.Business.OrderStatus != nil })
	// The bot saw the owner's update: ask until it shows (the bot and the
	// customer get the status message independently).
	var got string
	for range 50 {
		if _, err := cust.C.ReplyInteractive(e.Ctx(), client.FormatMessageID(conf.Conversation, conf.Seq), "track:"+id); err != nil {
			t.Fatal(err)
		}
		got = bottest.MustMessage(t, cust, text).Text
		if strings.HasSuffix(got, ": shipped") {
			break
		}
	}
	if !strings.HasSuffix(got, ": shipped") || !strings.Contains(got, "2× Thali") {
		t.Fatalf("tracked: %q", got)
	}

	// Another customer cannot see it.
	if _, err := other.C.Send(e.Ctx(), shop.Phone, "status "+id); err != nil {
		t.Fatal(err)
	}
	if r := bottest.MustMessage(t, other, text).Text; !strings.HasPrefix(r, "I found no order") {
		t.Fatalf("other customer got %q", r)
	}

	// A restarted bot still knows the order.
	stop()
	stop = run()
	defer stop()
	if _, err := cust.C.Send(e.Ctx(), shop.Phone, "/status"); err != nil {
		t.Fatal(err)
	}
	if r := bottest.MustMessage(t, cust, text).Text; !strings.Contains(r, id) || !strings.HasSuffix(r, ": shipped") {
		t.Fatalf("status after restart: %q", r)
	}
}
