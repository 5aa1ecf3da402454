package bot_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/parleyhq/parley/bot"
	"github.com/parleyhq/parley/bot/bottest"
	"github.com/parleyhq/parley/client"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"))
}

// TestRouting sends real messages from a customer to a bot on a real
// server and checks which route answered each.
func TestRouting(t *testing.T) {
	e := bottest.Start(t)
	shop := e.MustUser("Shop")
	cust := e.MustUser("Customer")
	b := bot.New(shop.C, bot.Options{})
	say := func(prefix string) bot.Handler {
		return func(m *bot.Message) error {
			return m.Reply(prefix + " " + strings.Join(m.Args, ",") + m.Choice)
		}
	}
	b.Command("track", say("command"))
	b.Command("/fail", func(*bot.Message) error { return errors.New("handler failed on purpose") })
	b.Keyword([]string{"open"}, say("keyword"))
	b.Choice("size:*", say("prefix"))
	b.Choice("size:xl", say("exact"))
	b.Choice("menu", func(m *bot.Message) error {
		return m.ReplyList("Pick a size", "Sizes", bot.Button{ID: "size:s", Title: "Small"}, bot.Button{ID: "size:xl", Title: "Extra large"})
	})
	b.Default(func(m *bot.Message) error {
		return m.ReplyButtons("default", bot.Button{ID: "menu", Title: "Menu"})
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	defer func() { cancel(); <-done }()

	text := func(m client.MessageRecord) bool { return m.Text != "" && m.Business == nil }
	interactive := func(m client.MessageRecord) bool { return m.Business != nil && m.Business.Interactive != nil }
	ask := func(msg string, want string) {
		t.Helper()
		if _, err := cust.C.Send(e.Ctx(), shop.Phone, msg); err != nil {
			t.Fatal(err)
		}
		if got := bottest.MustMessage(t, cust, text).Text; got != want {
			t.Fatalf("%q answered %q, want %q", msg, got, want)
		}
	}
	ask("TRACK o1 o2", "command o1,o2")
	ask("/track o3", "command o3")
	// A failing handler answers nothing and the bot goes on.
	if _, err := cust.C.Send(e.Ctx(), shop.Phone, "fail now"); err != nil {
		t.Fatal(err)
	}
	ask("Are you OPEN today?", "keyword ")
	// Whole words only: "reopen" is not "open"; the default offers a menu.
	if _, err := cust.C.Send(e.Ctx(), shop.Phone, "when do you reopen"); err != nil {
		t.Fatal(err)
	}
	def := bottest.MustMessage(t, cust, interactive)
	if def.Business.Interactive.Body != "default" {
		t.Fatalf("default: %+v", def.Business.Interactive)
	}
	if _, err := cust.C.ReplyInteractive(e.Ctx(), client.FormatMessageID(def.Conversation, def.Seq), "menu"); err != nil {
		t.Fatal(err)
	}
	list := bottest.MustMessage(t, cust, interactive)
	if list.Business.Interactive.Type != "list" || len(list.Business.Interactive.Sections[0].Rows) != 2 {
		t.Fatalf("list: %+v", list.Business.Interactive)
	}
	listID := client.FormatMessageID(list.Conversation, list.Seq)
	for choice, want := range map[string]string{"size:xl": "exact size:xl", "size:s": "prefix size:s"} {
		if _, err := cust.C.ReplyInteractive(e.Ctx(), listID, choice); err != nil {
			t.Fatal(err)
		}
		if got := bottest.MustMessage(t, cust, text).Text; got != want {
			t.Fatalf("choice %s answered %q, want %q", choice, got, want)
		}
	}
	if err := (&bot.Message{}).ReplyButtons("none"); err == nil {
		t.Fatal("zero buttons accepted")
	}
}
