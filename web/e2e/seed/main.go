// Command seed sends many text messages from an existing CLI profile to one
// chat, as fast as the client core allows. web/e2e/bench.mjs uses it to give
// the browser a chat of 10,000 messages to scroll.
//
//	go run ./web/e2e/seed --profile DIR --to +14155550100 --n 10000
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/parleyhq/parley/client"
)

func main() {
	profile := flag.String("profile", "", "a registered CLI profile directory")
	to := flag.String("to", "", "recipient: +E164, @username or a chat id")
	n := flag.Int("n", 10000, "messages to send")
	flag.Parse()
	if err := run(*profile, *to, *n); err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		os.Exit(1)
	}
}

// words gives the messages varied lengths, so rows have varied heights.
var words = strings.Fields("the quick brown fox jumps over the lazy dog while parley keeps every word encrypted end to end on the device")

func text(i int) string {
	k := 1 + (i*7)%len(words)
	if i%13 == 0 {
		k = len(words)*2 - 1
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Message %d:", i+1)
	for j := 0; j < k; j++ {
		b.WriteByte(' ')
		b.WriteString(words[(i+j)%len(words)])
	}
	return b.String()
}

func run(profile, to string, n int) error {
	if profile == "" || to == "" {
		return fmt.Errorf("--profile and --to are required")
	}
	ctx := context.Background()
	c, err := client.Open(ctx, client.Config{Dir: profile, ClientName: "parley-seed/0.1", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	defer c.Close()
	start := time.Now()
	first, err := c.Send(ctx, to, text(0))
	if err != nil {
		return err
	}
	chat := string(first.Conversation)
	for i := 1; i < n; i++ {
		if _, err := c.SendText(ctx, chat, text(i), 0); err != nil {
			return fmt.Errorf("message %d: %w", i+1, err)
		}
	}
	el := time.Since(start)
	fmt.Printf("{\"event\":\"seeded\",\"chat\":%q,\"messages\":%d,\"seconds\":%.1f,\"per_second\":%.0f}\n", chat, n, el.Seconds(), float64(n)/el.Seconds())
	return nil
}
