package server_test

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	natsbroker "github.com/parleyhq/parley/broker/nats"
	"github.com/parleyhq/parley/broker/nats/natstest"
	"github.com/parleyhq/parley/proto/parleypb"
	"github.com/parleyhq/parley/server"
)

// cuttableProxy forwards TCP connections to target until cut, after which
// it closes them all and refuses new ones: a node's network failing.
type cuttableProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	cut    bool
	wg     sync.WaitGroup
}

func startProxy(t *testing.T, target string) *cuttableProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cuttableProxy{ln: ln, target: target}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.cut {
				p.mu.Unlock()
				c.Close()
				continue
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				p.mu.Unlock()
				c.Close()
				continue
			}
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			p.wg.Add(2)
			go func() { defer p.wg.Done(); _, _ = io.Copy(u, c); u.Close() }()
			go func() { defer p.wg.Done(); _, _ = io.Copy(c, u); c.Close() }()
		}
	}()
	t.Cleanup(func() { p.cutAll(); ln.Close(); p.wg.Wait() })
	return p
}

func (p *cuttableProxy) url() string { return "nats://" + p.ln.Addr().String() }

func (p *cuttableProxy) cutAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for _, c := range p.conns {
		c.Close()
	}
}

func mustDialNATS(t *testing.T, url string) *natsbroker.Broker {
	t.Helper()
	b, err := natsbroker.Dial(context.Background(), url, natsbroker.Config{HeartbeatInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// TestNodeLossResyncsOtherNodes: node A commits an envelope whose live event
// never leaves it (A drops the publish, then loses its network, as a node
// killed between commit and publish); node B, where the recipient is
// connected, notices A's silence and delivers the envelope from the log,
// with no reconnect and no later envelope to reveal the gap.
func TestNodeLossResyncsOtherNodes(t *testing.T) {
	ns := natstest.Start(t)
	proxy := startProxy(t, ns.URL()[len("nats://"):])
	brokerA := &lossyNATS{Broker: mustDialNATS(t, proxy.url())}
	brokerB := mustDialNATS(t, ns.URL())

	e := newEnv(t, func(c *server.Config) { c.Broker = brokerA })
	cfgB := e.ps.Config()
	cfgB.Store, cfgB.Broker = e.ps.Store, brokerB
	srvB, err := server.New(cfgB)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srvB.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		sctx, c2 := context.WithTimeout(context.Background(), 10*time.Second)
		defer c2()
		_ = srvB.Shutdown(sctx)
		<-served
	})

	a, b := e.register("alice"), e.register("bob")
	ca := e.connect(a)
	cb := dial(t, ln.Addr().String())
	if r := cb.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Auth{Auth: &parleypb.AuthRequest{DeviceId: b.device, Secret: b.secret}}}); r.GetAuth() == nil {
		t.Fatalf("auth on node B: %v", r)
	}
	conv := e.direct(ca, b)
	welcomeFor(t, cb, conv) // crossed from A to B through NATS

	brokerA.drop.Store(true)
	sent := ca.mustOK(sendFrame(conv, "lost-on-a", "hello")).GetSent()
	cb.noEnvelope()
	proxy.cutAll() // A falls silent
	env := cb.nextEnvelope()
	if env.Seq != sent.Seq || string(env.Payload) != "hello" {
		t.Fatalf("after node A's loss got %v, want seq %d", env, sent.Seq)
	}
	if brokerB.Stats().DeadNodes == 0 {
		t.Fatal("node B did not notice node A's silence")
	}
}
