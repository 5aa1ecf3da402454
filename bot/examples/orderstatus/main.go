// Command orderstatus is an order-status bot for a business, run on one of
// the business's own devices. It records every order customers send (a
// cart from the catalog), confirms it with a "Track order" button, answers
// "status" (all of the customer's orders) and "status ORDER_ID", and
// follows the statuses the owner sets from another device
// (`parley business order status CHAT ORDER_ID paid|shipped|completed|cancelled`).
// The order book is a JSON file, so a restarted bot still knows the orders.
//
//	go run ./bot/examples/orderstatus --profile ~/.parley-bot --book orders.json
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/bot"
	"github.com/parleyhq/parley/client"
)

// order is one order as the bot knows it.
type order struct {
	ID       string        `json:"id"`
	Customer parley.UserID `json:"customer"`
	Chat     string        `json:"chat"`
	Total    string        `json:"total"`
	Items    string        `json:"items"`
	Status   string        `json:"status"` // "received", then the owner's statuses
	Updated  time.Time     `json:"updated"`
}

// book is the order book, saved to a JSON file after every change.
type book struct {
	path   string
	mu     sync.Mutex
	Orders map[string]*order `json:"orders"`
}

func openBook(path string) (*book, error) {
	b := &book{path: path, Orders: map[string]*order{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return b, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, b); err != nil {
		return nil, fmt.Errorf("order book %s: %w", path, err)
	}
	if b.Orders == nil {
		b.Orders = map[string]*order{}
	}
	return b, nil
}

// update changes the book under its lock and saves it (write, then rename).
func (b *book) update(f func()) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	f()
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	tmp := b.path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, b.path)
}

func (b *book) get(id string) (order, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	o, ok := b.Orders[id]
	if !ok {
		return order{}, false
	}
	return *o, true
}

func (b *book) of(customer parley.UserID) []order {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []order
	for _, o := range b.Orders {
		if o.Customer == customer {
			out = append(out, *o)
		}
	}
	slices.SortFunc(out, func(a, b order) int { return a.Updated.Compare(b.Updated) })
	return out
}

func money(m parley.Money) string {
	return fmt.Sprintf("%d.%02d %s", m.Amount1000/1000, m.Amount1000%1000/10, m.Currency)
}

func describe(o order) string {
	return fmt.Sprintf("Order %s (%s, %s): %s", o.ID, o.Items, o.Total, o.Status)
}

// setup installs the order routes on b.
func setup(b *bot.Bot, bk *book) {
	b.Order(func(m *bot.Message) error {
		om := m.Order()
		var items []string
		for _, it := range om.Items {
			items = append(items, fmt.Sprintf("%d× %s", it.Quantity, it.Name))
		}
		o := order{ID: om.OrderID, Customer: m.Customer(), Chat: string(m.Record.Conversation), Total: money(om.Total),
			Items: strings.Join(items, ", "), Status: "received", Updated: time.Now().UTC()}
		if err := bk.update(func() { bk.Orders[o.ID] = &o }); err != nil {
			return err
		}
		return m.ReplyButtons(fmt.Sprintf("Thank you! %s. We will tell you here when it changes.", describe(o)),
			bot.Button{ID: "track:" + o.ID, Title: "Track order"})
	})
	status := func(m *bot.Message, id string) error {
		if id == "" {
			os := bk.of(m.Customer())
			if len(os) == 0 {
				return m.Reply("You have no orders with us yet.")
			}
			var lines []string
			for _, o := range os {
				lines = append(lines, describe(o))
			}
			return m.Reply(strings.Join(lines, "\n"))
		}
		o, ok := bk.get(id)
		if !ok || o.Customer != m.Customer() {
			return m.Reply("I found no order " + id + " of yours. Send \"status\" to see your orders.")
		}
		return m.Reply(describe(o))
	}
	b.Choice("track:*", func(m *bot.Message) error { return status(m, strings.TrimPrefix(m.Choice, "track:")) })
	b.Command("status", func(m *bot.Message) error {
		id := ""
		if len(m.Args) > 0 {
			id = m.Args[0]
		}
		return status(m, id)
	})
	// The owner's status updates, sent from another device of the business.
	b.Outgoing(func(m *bot.Message) error {
		bc := m.Record.Business
		if bc == nil || bc.OrderStatus == nil {
			return nil
		}
		st := bc.OrderStatus
		return bk.update(func() {
			if o, ok := bk.Orders[st.OrderID]; ok {
				o.Status, o.Updated = st.Status, time.Now().UTC()
			}
		})
	})
	b.Default(func(m *bot.Message) error {
		return m.Reply("Send \"status\" to see your orders, or \"status ORDER_ID\" for one.")
	})
}

func main() {
	profile := flag.String("profile", os.Getenv("PARLEY_PROFILE"), "the bot device's profile directory")
	bookPath := flag.String("book", "", "order book file (default PROFILE/orders.json)")
	flag.Parse()
	if *bookPath == "" {
		*bookPath = filepath.Join(*profile, "orders.json")
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	bk, err := openBook(*bookPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "orderstatus:", err)
		os.Exit(1)
	}
	c, err := client.Open(ctx, client.Config{Dir: *profile, ClientName: "parley-orderstatus-bot/0.1", Events: true, Logger: log})
	if err != nil {
		fmt.Fprintln(os.Stderr, "orderstatus:", err)
		os.Exit(1)
	}
	defer c.Close()
	b := bot.New(c, bot.Options{Log: log, AutoReply: true})
	setup(b, bk)
	log.Info("order-status bot running", "user", c.Account().User, "book", *bookPath)
	if err := b.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "orderstatus:", err)
		os.Exit(1)
	}
}
