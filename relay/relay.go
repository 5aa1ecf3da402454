// Package relay is Parley's built-in TURN server (RFC 8656, on pion/turn),
// so that 1:1 calls connect when the two devices cannot reach each other
// directly.
//
// Guarantees:
//   - Only holders of a current credential from the call service allocate:
//     usernames are "EXPIRY:USERID" and passwords base64(HMAC-SHA1(secret,
//     username)) (calls.TURN); an expired or forged one is refused and
//     counted.
//   - Relays go only to peers Config.AllowPeer allows (default
//     calls.PublicAddr): a client cannot use the relay to reach the
//     server's private networks or loopback. Refusals are counted.
package relay

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/pion/transport/v4"
	"github.com/pion/transport/v4/stdnet"
	"github.com/pion/turn/v5"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/calls"
)

// Config configures the relay.
type Config struct {
	// UDPAddr is where TURN listens, e.g. "0.0.0.0:3478".
	UDPAddr string
	// RelayIP is the address relayed candidates carry (the server's public
	// address); RelayBind is the local address relay sockets bind to.
	RelayIP   net.IP
	RelayBind string
	// MinPort and MaxPort bound the relay ports; zero: 49152–65535.
	MinPort, MaxPort uint16
	Realm            string // default "parley"
	Secret           []byte // shared with calls.TURN
	// AllowPeer reports whether the relay may send to a peer; nil is
	// calls.PublicAddr.
	AllowPeer func(netip.Addr) bool
	Clock     parley.Clock
	// Net is the network (pion's vnet in tests); nil: the real one.
	Net transport.Net
}

// Relay is a running TURN server.
type Relay struct {
	srv  *turn.Server
	conn net.PacketConn
	log  *slog.Logger

	authFailed, peersDenied atomic.Uint64
}

// Stats counts the relay's refusals.
type Stats struct {
	AuthFailed  uint64 // requests with an expired or wrong credential
	PeersDenied uint64 // permissions refused by AllowPeer
}

// New starts a relay.
func New(cfg Config, log *slog.Logger) (*Relay, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = parley.SystemClock{}
	}
	if cfg.AllowPeer == nil {
		cfg.AllowPeer = calls.PublicAddr
	}
	if cfg.Realm == "" {
		cfg.Realm = "parley"
	}
	if cfg.MinPort == 0 && cfg.MaxPort == 0 {
		cfg.MinPort, cfg.MaxPort = 49152, 65535
	}
	if len(cfg.Secret) == 0 {
		return nil, fmt.Errorf("relay: a shared secret is required")
	}
	if cfg.Net == nil {
		n, err := stdnet.NewNet()
		if err != nil {
			return nil, fmt.Errorf("relay: %w", err)
		}
		cfg.Net = n
	}
	if cfg.RelayBind == "" {
		cfg.RelayBind = "0.0.0.0"
	}
	conn, err := cfg.Net.ListenPacket("udp4", cfg.UDPAddr)
	if err != nil {
		return nil, fmt.Errorf("relay: listen %s: %w", cfg.UDPAddr, err)
	}
	r := &Relay{conn: conn, log: log}
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm: cfg.Realm,
		AuthHandler: func(ra *turn.RequestAttributes) (string, []byte, bool) {
			exp, user, ok := strings.Cut(ra.Username, ":")
			t, err := strconv.ParseInt(exp, 10, 64)
			if !ok || err != nil || t < cfg.Clock.Now().Unix() {
				r.authFailed.Add(1)
				return "", nil, false
			}
			return user, turn.GenerateAuthKey(ra.Username, ra.Realm, calls.TURNPassword(cfg.Secret, ra.Username)), true
		},
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn: conn,
			RelayAddressGenerator: &turn.RelayAddressGeneratorPortRange{
				RelayAddress: cfg.RelayIP, Address: cfg.RelayBind, MinPort: cfg.MinPort, MaxPort: cfg.MaxPort, Net: cfg.Net,
			},
			PermissionHandler: func(client net.Addr, peer net.IP) bool {
				a, ok := netip.AddrFromSlice(peer)
				if !ok || !cfg.AllowPeer(a.Unmap()) {
					r.peersDenied.Add(1)
					log.Info("relay: peer refused", "client", client.String(), "peer", peer.String())
					return false
				}
				return true
			},
		}},
	})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("relay: %w", err)
	}
	r.srv = srv
	return r, nil
}

// Addr is the TURN listening address.
func (r *Relay) Addr() net.Addr { return r.conn.LocalAddr() }

// Stats returns the relay's counters.
func (r *Relay) Stats() Stats {
	return Stats{AuthFailed: r.authFailed.Load(), PeersDenied: r.peersDenied.Load()}
}

// Close stops the relay and its allocations.
func (r *Relay) Close() error { return r.srv.Close() }
