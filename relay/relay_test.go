package relay_test

import (
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/turn/v5"
	"github.com/pion/webrtc/v4"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/calls"
	"github.com/parleyhq/parley/relay"
)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

func mustRelay(t *testing.T, allow func(netip.Addr) bool, clock parley.Clock) *relay.Relay {
	t.Helper()
	r, err := relay.New(relay.Config{
		UDPAddr: "127.0.0.1:0", RelayIP: net.IPv4(127, 0, 0, 1), RelayBind: "127.0.0.1",
		Secret: []byte("turn secret"), AllowPeer: allow, Clock: clock,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func mustClient(t *testing.T, r *relay.Relay, user, pass string) *turn.Client {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := turn.NewClient(&turn.ClientConfig{TURNServerAddr: r.Addr().String(), Username: user, Password: pass, Realm: "parley", Conn: conn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); conn.Close() })
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	return c
}

func loopback(a netip.Addr) bool { return a.IsLoopback() }

// Credentials from the call service allocate; expired or forged ones do not.
func TestCredentials(t *testing.T) {
	now := time.Now()
	r := mustRelay(t, loopback, fixedClock{now})
	tc := calls.TURN{Secret: []byte("turn secret"), TTL: time.Minute}
	user, pass, _ := tc.Credentials(42, now)
	relayed, err := mustClient(t, r, user, pass).Allocate()
	if err != nil {
		t.Fatalf("valid credential: %v", err)
	}
	relayed.Close()

	old, oldPass, _ := tc.Credentials(42, now.Add(-2*time.Minute))
	if _, err := mustClient(t, r, old, oldPass).Allocate(); err == nil {
		t.Fatal("an expired credential allocated")
	}
	if _, err := mustClient(t, r, user, "forged").Allocate(); err == nil {
		t.Fatal("a forged password allocated")
	}
	if r.Stats().AuthFailed == 0 {
		t.Fatalf("stats %+v", r.Stats())
	}
}

// By default the relay refuses to send to private and loopback peers.
func TestPrivatePeersDenied(t *testing.T) {
	now := time.Now()
	r := mustRelay(t, nil, fixedClock{now})
	user, pass, _ := calls.TURN{Secret: []byte("turn secret")}.Credentials(7, now)
	relayed, err := mustClient(t, r, user, pass).Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer relayed.Close()
	for _, peer := range []string{"127.0.0.1:9", "10.1.2.3:9", "192.168.1.1:9", "169.254.1.1:9"} {
		addr, _ := net.ResolveUDPAddr("udp4", peer)
		if _, err := relayed.WriteTo([]byte("x"), addr); err == nil {
			t.Errorf("relay to %s allowed", peer)
		}
	}
	if r.Stats().PeersDenied < 4 {
		t.Fatalf("stats %+v", r.Stats())
	}
}

// A 1:1 call forced through the relay (ICE transport policy "relay"): two
// real pion peers reach each other only through TURN allocations.
func TestCallThroughRelay(t *testing.T) {
	now := time.Now()
	r := mustRelay(t, loopback, fixedClock{now})
	tc := calls.TURN{URLs: []string{"turn:" + r.Addr().String() + "?transport=udp"}, Secret: []byte("turn secret")}
	newPC := func(user parley.UserID) *webrtc.PeerConnection {
		u, p, _ := tc.Credentials(user, now)
		se := webrtc.SettingEngine{}
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
		se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
		se.SetIncludeLoopbackCandidate(true)
		pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{
			ICEServers:         []webrtc.ICEServer{{URLs: tc.URLs, Username: u, Credential: p}},
			ICETransportPolicy: webrtc.ICETransportPolicyRelay,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pc.Close() })
		return pc
	}
	a, b := newPC(1), newPC(2)
	got := make(chan string, 1)
	b.OnDataChannel(func(dc *webrtc.DataChannel) {
		dc.OnMessage(func(m webrtc.DataChannelMessage) {
			select {
			case got <- string(m.Data):
			default:
			}
		})
	})
	dc, err := a.CreateDataChannel("media", nil)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	dc.OnOpen(func() { once.Do(func() { _ = dc.SendText("through the relay") }) })
	mustNegotiate(t, a, b)
	select {
	case m := <-got:
		if m != "through the relay" {
			t.Fatalf("got %q", m)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no message through the relay within 20 s")
	}
	pair, err := a.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil || pair.Local.Typ != webrtc.ICECandidateTypeRelay {
		t.Fatalf("selected pair %v %v: not relayed", pair, err)
	}
}

// mustNegotiate runs one offer/answer between a (offering) and b, each
// waiting for its ICE candidates to be gathered (no trickle).
func mustNegotiate(t *testing.T, a, b *webrtc.PeerConnection) {
	t.Helper()
	offer, err := a.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	ga := webrtc.GatheringCompletePromise(a)
	if err := a.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-ga
	if err := b.SetRemoteDescription(*a.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	ans, err := b.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gb := webrtc.GatheringCompletePromise(b)
	if err := b.SetLocalDescription(ans); err != nil {
		t.Fatal(err)
	}
	<-gb
	if err := a.SetRemoteDescription(*b.LocalDescription()); err != nil {
		t.Fatal(err)
	}
}
