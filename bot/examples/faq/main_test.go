package main

import (
	"context"
	"testing"

	"go.uber.org/goleak"

	"github.com/parleyhq/parley/bot"
	"github.com/parleyhq/parley/bot/bottest"
	"github.com/parleyhq/parley/client"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"))
}

// TestFAQBot: a customer on a real client asks the bot (the business's
// device) on a real server, gets the buttons, picks one and gets its answer;
// a keyword is answered directly.
func TestFAQBot(t *testing.T) {
	e := bottest.Start(t)
	shop := e.MustUser("Shop")
	cust := e.MustUser("Customer")
	b := bot.New(shop.C, bot.Options{})
	setup(b)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	defer func() { cancel(); <-done }()

	if _, err := cust.C.Send(e.Ctx(), shop.Phone, "hello"); err != nil {
		t.Fatal(err)
	}
	menu := bottest.MustMessage(t, cust, func(m client.MessageRecord) bool { return m.Business != nil && m.Business.Interactive != nil })
	if len(menu.Business.Interactive.Buttons) != 3 || menu.Business.Interactive.Buttons[1].ID != "faq:delivery" {
		t.Fatalf("menu: %+v", menu.Business.Interactive)
	}
	if _, err := cust.C.ReplyInteractive(e.Ctx(), client.FormatMessageID(menu.Conversation, menu.Seq), "faq:delivery"); err != nil {
		t.Fatal(err)
	}
	ans := bottest.MustMessage(t, cust, func(m client.MessageRecord) bool { return m.Text != "" && m.Business == nil })
	if ans.Text != answers["faq:delivery"] {
		t.Fatalf("answer %q", ans.Text)
	}
	if _, err := cust.C.Send(e.Ctx(), shop.Phone, "When are you OPEN?"); err != nil {
		t.Fatal(err)
	}
	ans = bottest.MustMessage(t, cust, func(m client.MessageRecord) bool { return m.Text != "" && m.Business == nil })
	if ans.Text != answers["faq:hours"] {
		t.Fatalf("keyword answer %q", ans.Text)
	}
}
