package main

import (
	"crypto/rand"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/calls"
	"github.com/parleyhq/parley/relay"
	"github.com/parleyhq/parley/server"
	"github.com/parleyhq/parley/sfu"
)

// callFlags are the `parley serve` flags of the media servers.
type callFlags struct {
	enabled         *bool
	udp, tcp, turn  *string
	publicIPs       *string
	turnPorts       *string
	allowPeers      *string
	maxParticipants *int
}

func addCallFlags(fs *flag.FlagSet, env func(name, def string) string) *callFlags {
	return &callFlags{
		enabled:         fs.Bool("calls", env("PARLEY_CALLS", "true") == "true", "host voice and video calls: the SFU and the TURN relay [PARLEY_CALLS]"),
		udp:             fs.String("call-udp", env("PARLEY_CALL_UDP", ""), "UDP address of the SFU's media (one port for all calls); default: --listen's host, a free port [PARLEY_CALL_UDP]"),
		tcp:             fs.String("call-tcp", env("PARLEY_CALL_TCP", ""), "TCP address of the SFU's ICE-TCP fallback; default: --listen's host, a free port; off disables [PARLEY_CALL_TCP]"),
		turn:            fs.String("turn-udp", env("PARLEY_TURN_UDP", ""), "UDP address of the TURN relay; default: --listen's host, a free port; off disables [PARLEY_TURN_UDP]"),
		publicIPs:       fs.String("call-public-ip", env("PARLEY_CALL_PUBLIC_IP", ""), "public address(es), comma-separated, that the SFU and TURN relay advertise when behind a 1:1 NAT [PARLEY_CALL_PUBLIC_IP]"),
		turnPorts:       fs.String("turn-ports", env("PARLEY_TURN_PORTS", "49152-65535"), "UDP port range of TURN relay allocations [PARLEY_TURN_PORTS]"),
		allowPeers:      fs.String("call-allow-peers", env("PARLEY_CALL_ALLOW_PEERS", ""), "extra peer ranges (CIDRs, comma-separated) the SFU and relay may send to, e.g. 127.0.0.0/8 on one machine; public addresses are always allowed [PARLEY_CALL_ALLOW_PEERS]"),
		maxParticipants: fs.Int("call-max-participants", 32, "devices in one call"),
	}
}

// start binds the SFU and the relay; stop releases them.
func (f *callFlags) start(listen string, log *slog.Logger) (cfg *server.CallsConfig, stop func(), err error) {
	stop = func() {}
	if !*f.enabled {
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
	if *f.allowPeers != "" {
		var extra []netip.Prefix
		for _, c := range strings.Split(*f.allowPeers, ",") {
			p, err := netip.ParsePrefix(strings.TrimSpace(c))
			if err != nil {
				return nil, stop, fmt.Errorf("serve: --call-allow-peers %q: %w", c, err)
			}
			extra = append(extra, p)
		}
		allow = func(a netip.Addr) bool {
			for _, p := range extra {
				if p.Contains(a) {
					return true
				}
			}
			return calls.PublicAddr(a)
		}
	}
	var public []string
	if *f.publicIPs != "" {
		public = strings.Split(*f.publicIPs, ",")
	}
	tcp := orDefault(*f.tcp)
	if *f.tcp == "off" {
		tcp = ""
	}
	s, err := sfu.New(sfu.Config{UDPAddr: orDefault(*f.udp), TCPAddr: tcp, PublicIPs: public, AllowPeer: allow, MaxParticipants: *f.maxParticipants}, nil, log.With("component", "sfu"))
	if err != nil {
		return nil, stop, fmt.Errorf("serve: %w", err)
	}
	log.Info("call media (SFU) on udp " + s.UDPAddr().String())
	cfg = &server.CallsConfig{SFU: s, Service: calls.Config{MaxParticipants: *f.maxParticipants}}
	stop = func() { s.Close() }
	if *f.turn == "off" {
		return cfg, stop, nil
	}
	lo, hi, ok := strings.Cut(*f.turnPorts, "-")
	minPort, err1 := strconv.ParseUint(lo, 10, 16)
	maxPort, err2 := strconv.ParseUint(hi, 10, 16)
	if !ok || err1 != nil || err2 != nil || minPort == 0 || minPort > maxPort {
		s.Close()
		return nil, func() {}, fmt.Errorf("serve: --turn-ports %q: want MIN-MAX", *f.turnPorts)
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
	r, err := relay.New(relay.Config{UDPAddr: orDefault(*f.turn), RelayIP: relayIP, RelayBind: host,
		MinPort: uint16(minPort), MaxPort: uint16(maxPort), Secret: secret, AllowPeer: allow}, log.With("component", "relay"))
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
