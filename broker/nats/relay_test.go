package nats_test

import (
	"context"
	"testing"
	"time"

	natsbroker "github.com/parleyhq/parley/broker/nats"
	"github.com/parleyhq/parley/broker/nats/natstest"
)

// TestRelay: a request reaches the named node's handler of the service and
// only it; a node that does not serve (or stopped serving) gives an error.
func TestRelay(t *testing.T) {
	srv := natstest.Start(t)
	cfg := natsbroker.Config{Prefix: "t" + uniq()}
	a, b := mustDial(t, srv.URL(), cfg), mustDial(t, srv.URL(), cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stopB, err := b.ServeRequests("svc", "node/b:1", func(_ context.Context, data []byte) []byte { return append([]byte("b got "), data...) })
	if err != nil {
		t.Fatal(err)
	}
	stopA, err := a.ServeRequests("svc", "node/a:1", func(_ context.Context, data []byte) []byte { return append([]byte("a got "), data...) })
	if err != nil {
		t.Fatal(err)
	}
	defer stopA()
	for _, c := range []struct{ from *natsbroker.Broker }{{a}, {b}} {
		got, err := c.from.Request(ctx, "svc", "node/b:1", []byte("hi"))
		if err != nil || string(got) != "b got hi" {
			t.Fatalf("request to b = %q, %v", got, err)
		}
	}
	if got, err := b.Request(ctx, "svc", "node/a:1", []byte("yo")); err != nil || string(got) != "a got yo" {
		t.Fatalf("request to a = %q, %v", got, err)
	}
	if _, err := a.Request(ctx, "other", "node/b:1", []byte("x")); err == nil {
		t.Fatal("a request to a service b does not serve was answered")
	}
	all, err := a.RequestAll(ctx, "svc", []byte("all"))
	if err != nil || len(all) != 2 {
		t.Fatalf("RequestAll = %q, %v; want the answers of a and b", all, err)
	}
	stopB()
	short, cancelShort := context.WithTimeout(ctx, 2*time.Second)
	defer cancelShort()
	if got, err := a.Request(short, "svc", "node/b:1", []byte("x")); err == nil {
		t.Fatalf("a request after b stopped serving was answered: %q", got)
	}
}
