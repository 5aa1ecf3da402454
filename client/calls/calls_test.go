//go:build !js

package calls_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/calls"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/client/call"
	clientcalls "github.com/parleyhq/parley/client/calls"
	"github.com/parleyhq/parley/client/localstore"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/relay"
	"github.com/parleyhq/parley/server"
	"github.com/parleyhq/parley/sfu"
)

// harness is a real server on loopback with calls (the SFU on loopback,
// and the TURN relay when asked for) and registered clients.
type harness struct {
	t     *testing.T
	ps    *parleytest.Server
	relay *relay.Relay
	sfu   *sfu.SFU
	// tapped counts the payloads the SFU forwarded, and plain those
	// holding the synthetic frames' plaintext pattern.
	tapped, plain atomic.Int64
}

type setup struct {
	tune  func(*server.CallsConfig)
	relay bool // start the TURN relay (as the relay tests do) and hand out its credentials
}

func loopback(a netip.Addr) bool { return a.IsLoopback() }

func newHarness(t *testing.T, su setup) *harness {
	t.Helper()
	h := &harness{t: t}
	s, err := sfu.New(sfu.Config{UDPAddr: "127.0.0.1:0", AllowPeer: loopback,
		Tap: func(_ calls.CallID, _ parley.DeviceID, _ webrtc.RTPCodecType, payload []byte) {
			h.tapped.Add(1)
			if bytes.Contains(payload, []byte(call.Pattern)) {
				h.plain.Add(1)
			}
		}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	h.sfu = s
	cc := &server.CallsConfig{SFU: s}
	if su.relay {
		secret := []byte("turn secret")
		r, err := relay.New(relay.Config{UDPAddr: "127.0.0.1:0", RelayIP: net.IPv4(127, 0, 0, 1), RelayBind: "127.0.0.1",
			Secret: secret, AllowPeer: loopback}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		h.relay = r
		cc.Service.TURN = calls.TURN{URLs: []string{"turn:" + r.Addr().String() + "?transport=udp"}, Secret: secret}
	}
	if su.tune != nil {
		su.tune(cc)
	}
	h.ps = parleytest.Start(t, func(c *server.Config) { c.Calls = cc })
	return h
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (h *harness) register(phone, name string) *client.Client {
	t := h.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := client.Open(ctx, client.Config{Dir: t.TempDir(), Events: true, DeviceName: name,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Register(ctx, h.ps.URL, phone, name); err != nil {
		t.Fatalf("register %s: %v", phone, err)
	}
	if _, err := c.Verify(ctx, h.ps.Codes.Code(phone), ""); err != nil {
		t.Fatalf("verify %s: %v", phone, err)
	}
	return c
}

// directChat makes the chat between a and b (a says hello, b receives it).
func directChat(t *testing.T, a, b *client.Client, bPhone string) parley.ConversationID {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	m, err := a.SendText(ctx, bPhone, "hello before the call", 0)
	if err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case ev := <-b.Events():
			if ev.Kind == client.EventMessage && ev.Message.Text == "hello before the call" {
				return m.Conversation
			}
		case <-ctx.Done():
			t.Fatal("b never received the hello")
		}
	}
}

// waitFrames waits until cl has decrypted at least n frames.
func waitFrames(t *testing.T, who string, cl *clientcalls.Call, n uint64) clientcalls.Stats {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := cl.Stats()
		if st.FramesDecrypted >= n {
			return st
		}
		if err := cl.MediaErr(); err != nil {
			t.Fatalf("%s: media: %v", who, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d frames decrypted after 30 s: %+v", who, st.FramesDecrypted, st)
		}
		time.Sleep(20 * time.Millisecond) // polling interval, not synchronisation
	}
}

func waitEnded(t *testing.T, who string, cl *clientcalls.Call) {
	t.Helper()
	select {
	case <-cl.Ended():
	case <-time.After(15 * time.Second):
		t.Fatalf("%s: the call did not end", who)
	}
}

// logOf waits until c's log has call id in a status other than ringing
// (events are processed asynchronously) and returns the record.
func logOf(t *testing.T, who string, c *client.Client, id parley.CallID, want localstore.CallStatus) localstore.CallRecord {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		rs, err := c.CallLog(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if r.ID == id && r.Status == want && (want != localstore.CallAnswered || !r.EndedAt.IsZero()) {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no %s record of call %s in the log: %+v", who, want, id, rs)
		}
		time.Sleep(20 * time.Millisecond) // polling interval, not synchronisation
	}
}

// TestCallAnswerHangupAndLog: Alice calls Bob in their chat, Bob answers
// on his device, both decrypt each other's frames, Alice hangs up; both
// logs have the call, answered, with its duration. Then a call Bob lets
// ring and Alice cancels is "missed" for Bob and "cancelled" for Alice, and
// one Bob declines ends Alice's with call_declined.
func TestCallAnswerHangupAndLog(t *testing.T) {
	h := newHarness(t, setup{})
	alice := h.register("+14155550901", "alice")
	bob := h.register("+14155550902", "bob")
	conv := directChat(t, alice, bob, "+14155550902")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	answered := make(chan *clientcalls.Call, 1)
	go func() {
		in, err := bob.WaitForCall(ctx)
		if err != nil {
			t.Error(err)
			close(answered)
			return
		}
		cl, err := bob.AnswerCall(ctx, in.ID, clientcalls.Options{})
		if err != nil {
			t.Error(err)
			close(answered)
			return
		}
		answered <- cl
	}()
	call, err := alice.StartCall(ctx, conv, clientcalls.Options{Video: true})
	if err != nil {
		t.Fatal(err)
	}
	bobCall := <-answered
	if bobCall == nil {
		t.FailNow()
	}
	select {
	case <-call.Answered():
	case <-time.After(15 * time.Second):
		t.Fatal("alice never learned the answer")
	}
	if _, err := alice.StartCall(ctx, conv, clientcalls.Options{}); parley.ErrorReason(err) != clientcalls.ReasonCallActive {
		t.Fatalf("a second call while in one: %v", err)
	}
	as := waitFrames(t, "alice", call, 10)
	bs := waitFrames(t, "bob", bobCall, 10)
	if as.Senders != 1 || bs.Senders != 1 || as.FramesFailed != 0 || bs.FramesFailed != 0 || !as.Direct || !bs.Direct ||
		as.Path != "host" || bs.Path != "host" {
		t.Fatalf("stats: alice %+v, bob %+v", as, bs)
	}
	time.Sleep(50 * time.Millisecond) // a measurable duration, not synchronisation
	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	waitEnded(t, "bob", bobCall)
	if err := bobCall.Close(); err != nil {
		t.Fatal(err)
	}
	if st := call.Stats(); st.PacketsSent == 0 || st.DecryptedShare() < 0.9 || !st.Video || st.Duration <= 0 {
		t.Fatalf("alice's final stats: %+v", st)
	}
	ra := logOf(t, "alice", alice, call.ID(), localstore.CallAnswered)
	rb := logOf(t, "bob", bob, call.ID(), localstore.CallAnswered)
	if !ra.Outgoing || rb.Outgoing || !ra.Video || ra.Duration() <= 0 || rb.Duration() <= 0 ||
		ra.Peer != bob.Account().User || rb.Peer != alice.Account().User || ra.Conversation != conv {
		t.Fatalf("logs: alice %+v (%v), bob %+v (%v)", ra, ra.Duration(), rb, rb.Duration())
	}

	// Not answered: Bob's device rings, Alice gives up.
	call2, err := alice.StartCall(ctx, conv, clientcalls.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in, err := bob.WaitForCall(ctx)
	if err != nil || in.ID != call2.ID() || in.Caller != alice.Account().User {
		t.Fatalf("bob rang for %+v, %v", in, err)
	}
	if err := call2.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	if r := logOf(t, "bob", bob, call2.ID(), localstore.CallMissed); r.Duration() != 0 || !r.AnsweredAt.IsZero() {
		t.Fatalf("bob's missed call: %+v", r)
	}
	logOf(t, "alice", alice, call2.ID(), localstore.CallCancelled)
	if _, err := bob.AnswerCall(ctx, call2.ID(), clientcalls.Options{}); parley.ErrorReason(err) != clientcalls.ReasonCallCancelled {
		t.Fatalf("answering a cancelled call: %v", err)
	}

	// Declined.
	call3, err := alice.StartCall(ctx, conv, clientcalls.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if in, err = bob.WaitForCall(ctx); err != nil || in.ID != call3.ID() {
		t.Fatalf("bob rang for %+v, %v", in, err)
	}
	if err := bob.DeclineCall(ctx, in.ID, false); err != nil {
		t.Fatal(err)
	}
	waitEnded(t, "alice", call3)
	if parley.ErrorReason(call3.Err()) != clientcalls.ReasonCallDeclined {
		t.Fatalf("alice's declined call ended with %v", call3.Err())
	}
	logOf(t, "alice", alice, call3.ID(), localstore.CallDeclined)
	logOf(t, "bob", bob, call3.ID(), localstore.CallDeclined)
	if alice.ActiveCall() != nil {
		t.Fatal("alice is still in a call")
	}
}

// TestCallNotAnsweredInTime: the ringing times out; the caller's call ends
// with call_no_answer and the callee's log has it missed.
func TestCallNotAnsweredInTime(t *testing.T) {
	h := newHarness(t, setup{tune: func(c *server.CallsConfig) {
		c.Service = calls.Config{RingTimeout: 500 * time.Millisecond, SweepInterval: 50 * time.Millisecond}
	}})
	alice := h.register("+14155550911", "alice")
	bob := h.register("+14155550912", "bob")
	conv := directChat(t, alice, bob, "+14155550912")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	call, err := alice.StartCall(ctx, conv, clientcalls.Options{})
	if err != nil {
		t.Fatal(err)
	}
	waitEnded(t, "alice", call)
	if parley.ErrorReason(call.Err()) != clientcalls.ReasonCallNoAnswer || !parley.IsCode(call.Err(), parley.CodeExpired) {
		t.Fatalf("alice's call ended with %v", call.Err())
	}
	logOf(t, "alice", alice, call.ID(), localstore.CallNoAnswer)
	logOf(t, "bob", bob, call.ID(), localstore.CallMissed)
}

// answeredCall has bob answer alice's call in conv with opt on both sides
// and waits until each decrypted 10 frames of the other's.
func answeredCall(t *testing.T, alice, bob *client.Client, conv parley.ConversationID, opt clientcalls.Options) (a, b *clientcalls.Call) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	answered := make(chan *clientcalls.Call, 1)
	go func() {
		defer close(answered)
		in, err := bob.WaitForCall(ctx)
		if err != nil {
			t.Error(err)
			return
		}
		cl, err := bob.AnswerCall(ctx, in.ID, opt)
		if err != nil {
			t.Error(err)
			return
		}
		answered <- cl
	}()
	a, err := alice.StartCall(ctx, conv, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if b = <-answered; b == nil {
		t.FailNow()
	}
	t.Cleanup(func() { b.Close() })
	waitFrames(t, "alice", a, 10)
	waitFrames(t, "bob", b, 10)
	return a, b
}

// TestCallThroughTURN: a 1:1 call with both devices on ICE policy
// "relay" connects through the server's TURN relay with the short-lived
// credentials the call service hands out, and SFrame still applies end to
// end (every frame decrypts; none failed).
func TestCallThroughTURN(t *testing.T) {
	h := newHarness(t, setup{relay: true})
	alice := h.register("+14155550921", "alice")
	bob := h.register("+14155550922", "bob")
	conv := directChat(t, alice, bob, "+14155550922")
	a, b := answeredCall(t, alice, bob, conv, clientcalls.Options{RelayOnly: true, Video: true})
	as, bs := a.Stats(), b.Stats()
	if !as.Direct || as.Path != "relay" || bs.Path != "relay" || as.FramesFailed != 0 || bs.FramesFailed != 0 {
		t.Fatalf("stats: alice %+v, bob %+v", as, bs)
	}
	if h.tapped.Load() != 0 {
		t.Fatalf("the SFU forwarded %d packets of a peer-to-peer call", h.tapped.Load())
	}
}

// TestCallViaSFU: a 1:1 call both sides make through the SFU; the SFU
// forwards the frames and never sees the plaintext.
func TestCallViaSFU(t *testing.T) {
	h := newHarness(t, setup{})
	alice := h.register("+14155550931", "alice")
	bob := h.register("+14155550932", "bob")
	conv := directChat(t, alice, bob, "+14155550932")
	a, b := answeredCall(t, alice, bob, conv, clientcalls.Options{ViaSFU: true, Video: true})
	if as := a.Stats(); as.Direct || b.Stats().Direct {
		t.Fatalf("stats: alice %+v, bob %+v", as, b.Stats())
	}
	if h.tapped.Load() == 0 || h.plain.Load() != 0 {
		t.Fatalf("the SFU forwarded %d packets, %d with the plaintext pattern", h.tapped.Load(), h.plain.Load())
	}
	// Both speak at the synthetic level: the SFU names one of them the
	// dominant speaker, and both clients learn which.
	deadline := time.Now().Add(15 * time.Second)
	for a.ActiveSpeaker() == 0 || a.ActiveSpeaker() != b.ActiveSpeaker() {
		if time.Now().After(deadline) {
			t.Fatalf("active speaker: alice sees %d, bob %d; sfu %+v", a.ActiveSpeaker(), b.ActiveSpeaker(), h.sfu.Stats())
		}
		time.Sleep(20 * time.Millisecond) // polling interval, not synchronisation
	}
	if s := a.ActiveSpeaker(); s != alice.Account().Device && s != bob.Account().Device {
		t.Fatalf("active speaker %d is neither device", s)
	}
}

// TestGroupCallJoin: a group call of three through the SFU: Alice calls
// the group, Bob answers, Carol joins the call going on; each decrypts the
// other two, and the SFU names a dominant speaker to all.
func TestGroupCallJoin(t *testing.T) {
	h := newHarness(t, setup{})
	alice := h.register("+14155550941", "alice")
	bob := h.register("+14155550942", "bob")
	carol := h.register("+14155550943", "carol")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	g, err := alice.CreateGroup(ctx, "climbers", []string{"+14155550942", "+14155550943"}, client.GroupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Added) != 2 {
		t.Fatalf("group: %+v", g)
	}
	conv := g.Group.ID
	answered := make(chan *clientcalls.Call, 1)
	go func() {
		defer close(answered)
		in, err := bob.WaitForCall(ctx)
		if err != nil {
			t.Error(err)
			return
		}
		if !in.Group || in.Conversation != conv {
			t.Errorf("bob rang for %+v", in)
		}
		cl, err := bob.AnswerCall(ctx, in.ID, clientcalls.Options{})
		if err != nil {
			t.Error(err)
			return
		}
		answered <- cl
	}()
	a, err := alice.StartCall(ctx, conv, clientcalls.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	b := <-answered
	if b == nil {
		t.FailNow()
	}
	t.Cleanup(func() { b.Close() })
	if _, err := carol.WaitForCall(ctx); err != nil { // it rings on Carol's device too
		t.Fatal(err)
	}
	c, err := carol.JoinCall(ctx, conv, clientcalls.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	deadline := time.Now().Add(45 * time.Second)
	for _, x := range []struct {
		who string
		cl  *clientcalls.Call
	}{{"alice", a}, {"bob", b}, {"carol", c}} {
		for {
			st := x.cl.Stats()
			if st.Senders == 2 && st.FramesFailed == 0 && x.cl.ActiveSpeaker() != 0 {
				break
			}
			if err := x.cl.MediaErr(); err != nil {
				t.Fatalf("%s: media: %v", x.who, err)
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %+v, speaker %d", x.who, st, x.cl.ActiveSpeaker())
			}
			time.Sleep(20 * time.Millisecond) // polling interval, not synchronisation
		}
	}
	if h.plain.Load() != 0 {
		t.Fatalf("the SFU forwarded %d payloads with the plaintext pattern", h.plain.Load())
	}
	if err := c.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	logOf(t, "carol", carol, c.ID(), localstore.CallAnswered)
}
