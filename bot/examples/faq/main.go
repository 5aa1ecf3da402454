// Command faq is an FAQ bot for a business, run on one of the business's
// own devices: any question gets a menu of reply buttons, a button gets its
// answer, and a few keywords are answered directly.
//
//	parley --profile ~/.parley-bot device add --server URL --code CODE   # link the bot as a device
//	go run ./bot/examples/faq --profile ~/.parley-bot
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/parleyhq/parley/bot"
	"github.com/parleyhq/parley/client"
)

// answers are the FAQ: button id → answer.
var answers = map[string]string{
	"faq:hours":    "We are open Monday to Saturday, 9:00 to 18:00.",
	"faq:delivery": "We deliver within 5 km for free; further away it is 3 EUR.",
	"faq:pay":      "We take cash on delivery, cards and bank transfers.",
}

// setup installs the FAQ routes on b.
func setup(b *bot.Bot) {
	menu := func(m *bot.Message) error {
		return m.ReplyButtons("Hi! What would you like to know?",
			bot.Button{ID: "faq:hours", Title: "Opening hours"},
			bot.Button{ID: "faq:delivery", Title: "Delivery"},
			bot.Button{ID: "faq:pay", Title: "Payment"})
	}
	b.Choice("faq:*", func(m *bot.Message) error {
		a, ok := answers[m.Choice]
		if !ok {
			return menu(m)
		}
		return m.Reply(a)
	})
	b.Keyword([]string{"hours", "open", "opening"}, func(m *bot.Message) error { return m.Reply(answers["faq:hours"]) })
	b.Keyword([]string{"deliver", "delivery", "shipping"}, func(m *bot.Message) error { return m.Reply(answers["faq:delivery"]) })
	b.Command("menu", menu)
	b.Default(menu)
}

func main() {
	profile := flag.String("profile", os.Getenv("PARLEY_PROFILE"), "the bot device's profile directory")
	autoReply := flag.Bool("auto-reply", true, "send the profile's greeting and away messages")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c, err := client.Open(ctx, client.Config{Dir: *profile, ClientName: "parley-faq-bot/0.1", Events: true, Logger: log})
	if err != nil {
		fmt.Fprintln(os.Stderr, "faq:", err)
		os.Exit(1)
	}
	defer c.Close()
	b := bot.New(c, bot.Options{Log: log, AutoReply: *autoReply})
	setup(b)
	log.Info("faq bot running", "user", c.Account().User)
	if err := b.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "faq:", err)
		os.Exit(1)
	}
}
