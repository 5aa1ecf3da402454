package gateway_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/parleyhq/parley/gateway"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/proto/parleypb"
	"github.com/parleyhq/parley/server"
)

// TestShutdownDrains: a cluster node's Shutdown answers the request a
// session is handling before closing it with 4012 "node_draining", drops
// the frames that arrive after the drain began (the client sends them
// again to another node), and closes idle sessions without waiting for
// busy ones.
func TestShutdownDrains(t *testing.T) {
	const held = 1000
	entered, release := make(chan struct{}), make(chan struct{})
	var releaseOnce sync.Once
	releaseHeld := func() { releaseOnce.Do(func() { close(release) }) }
	defer releaseHeld() // a failing test must not leave the handler held
	defer gateway.SetFrameHook(func(f *parleypb.ClientFrame) {
		if f.GetPing().GetClientTimeMs() == held {
			close(entered)
			<-release
		}
	})()
	ps := parleytest.Start(t, func(c *server.Config) { c.Gateway.Cluster = true })
	busy := dialHello(t, ps.Addr)
	idle := dialHello(t, ps.Addr)
	busy.write(ping(held))
	<-entered

	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- ps.Server.Shutdown(ctx)
	}()
	for !ps.Server.Gateway.Draining() {
		time.Sleep(time.Millisecond)
	}
	busy.write(&parleypb.ClientFrame{Id: 3, Body: &parleypb.ClientFrame_Ping{Ping: &parleypb.Ping{ClientTimeMs: 7}}})

	// The idle session is closed while the busy one is still held.
	goAway, code := readToClose(t, idle)
	if code != gateway.CloseNodeDraining || goAway.GetReason() != gateway.ReasonNodeDraining || goAway.GetCloseCode() != uint32(gateway.CloseNodeDraining) {
		t.Fatalf("idle session: GoAway %v, close %d; want %d %q", goAway, code, gateway.CloseNodeDraining, gateway.ReasonNodeDraining)
	}

	releaseHeld()
	var frames []*parleypb.ServerFrame
	for {
		f, code := busy.read()
		if f == nil {
			if code != gateway.CloseNodeDraining {
				t.Fatalf("busy session closed with %d, want %d", code, gateway.CloseNodeDraining)
			}
			break
		}
		frames = append(frames, f)
	}
	if len(frames) != 2 || frames[0].GetPong().GetClientTimeMs() != held || frames[0].GetId() != 2 ||
		frames[1].GetGoAway().GetReason() != gateway.ReasonNodeDraining {
		t.Fatalf("busy session got %v; want the held request's pong, then GoAway node_draining (and no answer to the frame sent after the drain began)", frames)
	}
	if err := <-shut; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

// TestShutdownAloneSaysServerShutdown: a server that is not a cluster node
// closes its sessions with 1001 "server_shutdown".
func TestShutdownAloneSaysServerShutdown(t *testing.T) {
	ps := parleytest.Start(t)
	c := dialHello(t, ps.Addr)
	shut := make(chan error, 1)
	go func() { shut <- ps.Server.Shutdown(context.Background()) }()
	goAway, code := readToClose(t, c)
	if err := <-shut; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if code != gateway.CloseGoingAway || goAway.GetReason() != "server_shutdown" {
		t.Fatalf("GoAway %v, close %d; want 1001 server_shutdown", goAway, code)
	}
}

// readToClose reads until the close frame and returns the GoAway before it.
func readToClose(t *testing.T, c *wsConn) (*parleypb.GoAway, ws.StatusCode) {
	t.Helper()
	var goAway *parleypb.GoAway
	for {
		f, code := c.read()
		if f == nil {
			return goAway, code
		}
		if ga := f.GetGoAway(); ga != nil {
			goAway = ga
		}
	}
}

// TestShutdownDrainTimeout: a session whose request is still being handled
// after Config.DrainTimeout is closed anyway (the answer is lost; the
// client retries it elsewhere).
func TestShutdownDrainTimeout(t *testing.T) {
	const held = 1001
	entered, release := make(chan struct{}), make(chan struct{})
	var releaseOnce sync.Once
	releaseHeld := func() { releaseOnce.Do(func() { close(release) }) }
	defer releaseHeld() // a failing test must not leave the handler held
	defer gateway.SetFrameHook(func(f *parleypb.ClientFrame) {
		if f.GetPing().GetClientTimeMs() == held {
			close(entered)
			<-release
		}
	})()
	ps := parleytest.Start(t, func(c *server.Config) {
		c.Gateway.Cluster = true
		c.Gateway.DrainTimeout = 100 * time.Millisecond
	})
	busy := dialHello(t, ps.Addr)
	busy.write(ping(held))
	<-entered
	shut := make(chan error, 1)
	go func() { shut <- ps.Server.Shutdown(context.Background()) }()
	goAway, code := readToClose(t, busy) // while the request is still held
	releaseHeld()
	if code != gateway.CloseNodeDraining || goAway.GetReason() != gateway.ReasonNodeDraining {
		t.Fatalf("GoAway %v, close %d; want %d %q", goAway, code, gateway.CloseNodeDraining, gateway.ReasonNodeDraining)
	}
	if err := <-shut; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}
