package client_test

import (
	"context"
	"fmt"
	"log"

	"github.com/parleyhq/parley/client"
)

// A bot: open a registered profile, answer every text it receives.
func Example() {
	ctx := context.Background()
	c, err := client.Open(ctx, client.Config{Dir: "/var/lib/echo-bot", Events: true})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	for ev := range c.Events() {
		if ev.Kind != client.EventMessage || ev.Message.Outgoing {
			continue
		}
		if _, err := c.Send(ctx, string(ev.Conversation), "you said: "+ev.Message.Text); err != nil {
			fmt.Println("send:", err)
		}
	}
}
