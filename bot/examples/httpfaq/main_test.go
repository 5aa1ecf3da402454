package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.uber.org/goleak"

	"github.com/parleyhq/parley/bot/bottest"
	"github.com/parleyhq/parley/client"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"))
}

// TestHTTPFAQBot: the FAQ bot as a webhook receiver + API caller, on a real
// server with the business's number behind the hosted endpoint. A customer
// on a real client writes; the bot gets the signed webhook, answers with
// buttons through the API; the customer's choice comes back by webhook and
// gets its answer.
func TestHTTPFAQBot(t *testing.T) {
	e := bottest.Start(t)
	shop := e.MustUser("Shop")
	cust := e.MustUser("Customer")
	pnid, token := e.MustEnableAPI(shop)
	b := &faqBot{api: e.URL, pnid: pnid, token: token, appSecret: "faq-secret", verifyToken: "faq-verify",
		http: &http.Client{}, log: slog.New(slog.DiscardHandler)}
	hook := httptest.NewServer(b)
	defer hook.Close()
	var cfg map[string]any
	if st := e.Do("PUT", "/business/v1/webhook", shop.Auth(), map[string]string{"callback_url": hook.URL,
		"verify_token": "faq-verify", "app_secret": "faq-secret"}, &cfg); st != 200 {
		t.Fatalf("webhook set: %d %v", st, cfg)
	}
	if st := e.Do("PUT", "/business/v1/webhook", shop.Auth(), map[string]string{"callback_url": hook.URL,
		"verify_token": "wrong", "app_secret": "faq-secret"}, &cfg); st != 400 {
		t.Fatalf("webhook set with a wrong verify token: %d %v", st, cfg)
	}

	if _, err := cust.C.Send(e.Ctx(), shop.Phone, "hi there"); err != nil {
		t.Fatal(err)
	}
	menu := bottest.MustMessage(t, cust, func(m client.MessageRecord) bool { return m.Business != nil && m.Business.Interactive != nil })
	if len(menu.Business.Interactive.Buttons) != 3 {
		t.Fatalf("menu: %+v", menu.Business.Interactive)
	}
	if _, err := cust.C.ReplyInteractive(e.Ctx(), client.FormatMessageID(menu.Conversation, menu.Seq), "faq:pay"); err != nil {
		t.Fatal(err)
	}
	ans := bottest.MustMessage(t, cust, func(m client.MessageRecord) bool { return m.Text != "" && m.Business == nil })
	if ans.Text != answers["faq:pay"] {
		t.Fatalf("answer %q", ans.Text)
	}
	// A forged webhook is refused.
	resp, err := http.Post(hook.URL, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unsigned POST: %s", resp.Status)
	}
}
