package relay_test

import (
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/logging"
	"github.com/pion/transport/v4/vnet"
	"github.com/pion/webrtc/v4"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/calls"
	"github.com/parleyhq/parley/relay"
)

// Two peers behind symmetric NATs (no direct path), 5 % packet loss on the
// simulated internet: the 1:1 call still connects, through the relay with
// the call service's credentials and its default peer policy (public
// addresses only).
func TestCallThroughRelayBehindNATsWithLoss(t *testing.T) {
	lf := logging.NewDefaultLoggerFactory()
	wan, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "1.2.3.0/24", LoggerFactory: lf})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(1, 2))
	wan.AddChunkFilter(func(vnet.Chunk) bool {
		mu.Lock()
		defer mu.Unlock()
		return rng.Float64() >= 0.05
	})
	serverNet, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{"1.2.3.4"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := wan.AddNet(serverNet); err != nil {
		t.Fatal(err)
	}
	symmetric := &vnet.NATType{Mode: vnet.NATModeNormal, MappingBehavior: vnet.EndpointAddrPortDependent, FilteringBehavior: vnet.EndpointAddrPortDependent}
	lan := func(public, cidr string) *vnet.Net {
		r, err := vnet.NewRouter(&vnet.RouterConfig{StaticIPs: []string{public}, CIDR: cidr, NATType: symmetric, LoggerFactory: lf})
		if err != nil {
			t.Fatal(err)
		}
		n, err := vnet.NewNet(&vnet.NetConfig{})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.AddNet(n); err != nil {
			t.Fatal(err)
		}
		if err := wan.AddRouter(r); err != nil {
			t.Fatal(err)
		}
		return n
	}
	netA, netB := lan("1.2.3.5", "10.0.1.0/24"), lan("1.2.3.6", "10.0.2.0/24")
	if err := wan.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = wan.Stop() })

	secret := []byte("turn secret")
	r, err := relay.New(relay.Config{UDPAddr: "1.2.3.4:3478", RelayIP: net.IPv4(1, 2, 3, 4), RelayBind: "1.2.3.4",
		Secret: secret, Net: serverNet}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	tc := calls.TURN{URLs: []string{"turn:1.2.3.4:3478?transport=udp"}, Secret: secret}
	now := time.Now()
	newPC := func(n *vnet.Net, user int64) *webrtc.PeerConnection {
		se := webrtc.SettingEngine{}
		se.SetNet(n)
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
		u, p, _ := tc.Credentials(parley.UserID(user), now)
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
	a, b := newPC(netA, 1), newPC(netB, 2)
	const msgs = 20
	got := make(chan string, msgs)
	b.OnDataChannel(func(dc *webrtc.DataChannel) {
		dc.OnMessage(func(m webrtc.DataChannelMessage) { got <- string(m.Data) })
	})
	dc, err := a.CreateDataChannel("media", nil) // reliable: SCTP repairs the loss
	if err != nil {
		t.Fatal(err)
	}
	dc.OnOpen(func() {
		for i := range msgs {
			_ = dc.SendText(string(rune('a' + i)))
		}
	})
	mustNegotiate(t, a, b)
	deadline := time.After(30 * time.Second)
	for i := range msgs {
		select {
		case m := <-got:
			if m != string(rune('a'+i)) {
				t.Fatalf("message %d is %q", i, m)
			}
		case <-deadline:
			t.Fatalf("%d of %d messages through the NATs and the relay within 30 s", i, msgs)
		}
	}
	pair, err := a.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil || pair.Local.Typ != webrtc.ICECandidateTypeRelay || pair.Local.Address != "1.2.3.4" {
		t.Fatalf("selected pair %v %v: not through the relay", pair, err)
	}
}
