package node

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/netip"

	"github.com/parleyhq/parley/calls"
	"github.com/parleyhq/parley/relay"
	"github.com/parleyhq/parley/server"
	"github.com/parleyhq/parley/sfu"
)

// CallOptions are the media servers of calls (docs/calls.md): the SFU and
// the TURN relay.
type CallOptions struct {
	// Enabled hosts calls; false starts neither server.
	Enabled bool
	// UDP, TCP and TURN are the addresses of the SFU's media, its ICE-TCP
	// fallback and the TURN relay; "" is Listen's host on a free port, and
	// "off" (TCP and TURN only) disables that one.
	UDP, TCP, TURN string
	// PublicIPs are advertised instead of the bound addresses (1:1 NAT).
	PublicIPs []string
	// TURNMinPort and TURNMaxPort bound the relay's allocations.
	TURNMinPort, TURNMaxPort uint16
	// AllowPeers are peer ranges allowed beside public addresses.
	AllowPeers []netip.Prefix
	// MaxParticipants is the number of devices in one call.
	MaxParticipants int
}

// callNodeTag is the tag of this node in its calls' ids (calls.Router):
// 12 hex digits of the SHA-256 of its node id (a fresh one per process).
func callNodeTag(nodeID string) string {
	h := sha256.Sum256([]byte(nodeID))
	return hex.EncodeToString(h[:6])
}

// startCalls binds the SFU and the relay; stop releases them.
func startCalls(f CallOptions, listen string, log *slog.Logger) (cfg *server.CallsConfig, stop func(), err error) {
	stop = func() {}
	if !f.Enabled {
		return nil, stop, nil
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, stop, fmt.Errorf("serve: --listen %s: %w", listen, err)
	}
	orDefault := func(v string) string {
		if v == "" {
			return net.JoinHostPort(host, "0")
		}
		return v
	}
	allow := calls.PublicAddr
	if len(f.AllowPeers) > 0 {
		allow = func(a netip.Addr) bool {
			for _, p := range f.AllowPeers {
				if p.Contains(a) {
					return true
				}
			}
			return calls.PublicAddr(a)
		}
	}
	public := f.PublicIPs
	tcp := orDefault(f.TCP)
	if f.TCP == "off" {
		tcp = ""
	}
	s, err := sfu.New(sfu.Config{UDPAddr: orDefault(f.UDP), TCPAddr: tcp, PublicIPs: public, AllowPeer: allow, MaxParticipants: f.MaxParticipants}, nil, log.With("component", "sfu"))
	if err != nil {
		return nil, stop, fmt.Errorf("serve: %w", err)
	}
	log.Info("call media (SFU) on udp " + s.UDPAddr().String())
	cfg = &server.CallsConfig{SFU: s, Service: calls.Config{MaxParticipants: f.MaxParticipants}}
	stop = func() { s.Close() }
	if f.TURN == "off" {
		return cfg, stop, nil
	}
	relayIP := net.ParseIP(host)
	if len(public) > 0 {
		relayIP = net.ParseIP(public[0])
	}
	if relayIP == nil || relayIP.IsUnspecified() {
		log.Warn("TURN relay: no --call-public-ip; relayed candidates carry " + host)
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	r, err := relay.New(relay.Config{UDPAddr: orDefault(f.TURN), RelayIP: relayIP, RelayBind: host,
		MinPort: f.TURNMinPort, MaxPort: f.TURNMaxPort, Secret: secret, AllowPeer: allow}, log.With("component", "relay"))
	if err != nil {
		s.Close()
		return nil, func() {}, fmt.Errorf("serve: %w", err)
	}
	turnHost := host
	if len(public) > 0 {
		turnHost = public[0]
	}
	_, port, _ := net.SplitHostPort(r.Addr().String())
	cfg.Service.TURN = calls.TURN{URLs: []string{"turn:" + net.JoinHostPort(turnHost, port) + "?transport=udp"}, Secret: secret}
	log.Info("TURN relay on udp " + r.Addr().String())
	stop = func() { r.Close(); s.Close() }
	return cfg, stop, nil
}
