// Package sfu is Parley's built-in selective forwarding unit for group
// calls, on pion/webrtc. Each participant device has two peer connections
// to it: one it publishes on (the device offers) and one it receives
// everyone else's tracks on (the SFU offers, again whenever tracks come or
// go), so there is never offer glare (docs/protocol.md §13.2).
//
// The SFU forwards RTP whose payload is SFrame ciphertext: it reads RTP
// headers and RTCP, never media. It cannot decrypt what it forwards.
//
// Guarantees and policies:
//   - All ICE traffic uses one UDP port (Config.UDPAddr), with ICE over
//     TCP on one port as the fallback (Config.TCPAddr).
//   - Remote ICE candidates (trickled or in an SDP) whose address is not
//     public are dropped and counted, unless Config.AllowPeer allows them:
//     a participant cannot make the server send media into private
//     networks.
//   - Malformed SDP is refused with CodeInvalid "call_bad_sdp", a malformed
//     candidate with "call_bad_candidate"; neither touches other calls.
//   - At most Config.MaxParticipants devices per call (CodeTooLarge
//     "call_full").
//   - A publisher sending more than Config.MaxPacketsPerSecond packets on
//     a track has the excess dropped and counted; the others are not
//     slowed. A silent participant costs nothing but its connection.
//   - NACK retransmissions (pion's NACK responder and generator), RTCP
//     reports, transport-wide congestion control feedback (TWCC), and
//     keyframe requests (PLI) forwarded from subscribers to the publisher
//     and sent when a subscriber is added.
//   - The dominant speaker of each call, from the RFC 6464 audio levels
//     in the audio packets' RTP headers, with hysteresis (speaker.go);
//     each change goes to the participants as CALL_ACTIVE_SPEAKER.
package sfu

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/calls"
)

// Reasons of the errors this package returns.
const (
	ReasonBadSDP       = "call_bad_sdp"       // CodeInvalid: an SDP that does not parse or does not apply
	ReasonBadCandidate = "call_bad_candidate" // CodeInvalid: an ICE candidate that does not parse
	ReasonNoSession    = "call_no_session"    // CodeConflict: an answer or candidate before the offer
	ReasonFull         = calls.ReasonFull     // CodeTooLarge: the call has MaxParticipants devices
	ReasonClosed       = "sfu_closed"         // CodeUnavailable: the SFU is shutting down
)

// Signaller delivers the SFU's offers to participants (*calls.Service).
type Signaller interface {
	SignalFromSFU(ctx context.Context, id calls.CallID, to parley.DeviceID, conn parley.CallConnection, kind parley.CallSignalKind, payload []byte) error
}

// Config configures the SFU.
type Config struct {
	// UDPAddr is the one UDP address all media uses, e.g. "0.0.0.0:3479".
	// Port 0 picks a free port (tests).
	UDPAddr string
	// TCPAddr is the ICE-TCP fallback address; empty disables it.
	TCPAddr string
	// PublicIPs are the addresses advertised in candidates when the server
	// is behind a 1:1 NAT; empty advertises the bound addresses.
	PublicIPs []string
	// AllowPeer reports whether media may be sent to a remote candidate
	// address. nil is calls.PublicAddr: public unicast addresses only; tests
	// and private deployments allow loopback or their own ranges explicitly.
	AllowPeer func(netip.Addr) bool
	// MaxParticipants is the cap per call; default 32.
	MaxParticipants int
	// MaxPacketsPerSecond is the most RTP packets per second forwarded from
	// one published track; default 1500 (a 2.5 Mb/s video track needs ~250).
	MaxPacketsPerSecond int
	// SpeakerHold is how long a participant must be clearly the loudest
	// before it becomes the dominant speaker (default 400 ms).
	SpeakerHold time.Duration
	// Tap, when set, sees every RTP packet the SFU forwards (after the
	// flood check), with the publishing device. For tests and diagnostics;
	// it must not keep the slice.
	Tap func(call calls.CallID, from parley.DeviceID, kind webrtc.RTPCodecType, payload []byte)
}

// Stats counts what the SFU did.
type Stats struct {
	Calls             int
	Participants      int
	PacketsForwarded  uint64 // RTP packets written to subscriber tracks (once per track, fanned out by pion)
	PacketsFlooded    uint64 // RTP packets dropped by the per-track rate limit
	BadSDP            uint64
	BadCandidates     uint64
	DroppedCandidates uint64 // remote candidates refused by AllowPeer
	KeyframeRequests  uint64
	OffersResent      uint64 // subscribe offers sent again for want of an answer
	SpeakerChanges    uint64 // dominant-speaker changes (from the audio levels)
	LayerSwitches     uint64 // subscribers moved from one simulcast layer to another
}

// SFU is the forwarding unit. Create it with New; stop it with Close.
type SFU struct {
	cfg Config
	log *slog.Logger
	api *webrtc.API
	sig Signaller

	udp    net.PacketConn
	udpMux *ice.UDPMuxDefault
	tcp    net.Listener
	tcpMux *ice.TCPMuxDefault

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	rooms  map[calls.CallID]*room
	closed bool

	forwarded, flooded, badSDP, badCand, droppedCand, keyframes, offersResent, speakerChanges, layerSwitches atomic.Uint64
}

// New binds the media ports and returns an SFU that reports offers through
// sig (set later with SetSignaller when sig is nil).
func New(cfg Config, sig Signaller, log *slog.Logger) (*SFU, error) {
	if cfg.MaxParticipants <= 0 {
		cfg.MaxParticipants = 32
	}
	if cfg.MaxPacketsPerSecond <= 0 {
		cfg.MaxPacketsPerSecond = 1500
	}
	if cfg.AllowPeer == nil {
		cfg.AllowPeer = calls.PublicAddr
	}
	if cfg.SpeakerHold <= 0 {
		cfg.SpeakerHold = defaultSpeakerHold
	}
	if cfg.UDPAddr == "" {
		cfg.UDPAddr = "0.0.0.0:0"
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &SFU{cfg: cfg, log: log, sig: sig, rooms: make(map[calls.CallID]*room)}
	udp, err := net.ListenPacket("udp", cfg.UDPAddr)
	if err != nil {
		return nil, fmt.Errorf("sfu: listen udp %s: %w", cfg.UDPAddr, err)
	}
	s.udp = udp
	s.udpMux = ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: udp})
	se := webrtc.SettingEngine{}
	se.SetICEUDPMux(s.udpMux)
	types := []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6}
	if cfg.TCPAddr != "" {
		l, err := net.Listen("tcp", cfg.TCPAddr)
		if err != nil {
			udp.Close()
			return nil, fmt.Errorf("sfu: listen tcp %s: %w", cfg.TCPAddr, err)
		}
		s.tcp = l
		s.tcpMux = ice.NewTCPMuxDefault(ice.TCPMuxParams{Listener: l, ReadBufferSize: 32})
		se.SetICETCPMux(s.tcpMux)
		types = append(types, webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6)
	}
	se.SetNetworkTypes(types)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if ua, ok := udp.LocalAddr().(*net.UDPAddr); ok && ua.IP.IsLoopback() {
		se.SetIncludeLoopbackCandidate(true)
	}
	if len(cfg.PublicIPs) > 0 {
		if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{External: cfg.PublicIPs, AsCandidateType: webrtc.ICECandidateTypeHost}); err != nil {
			udp.Close()
			return nil, fmt.Errorf("sfu: public addresses %v: %w", cfg.PublicIPs, err)
		}
	}
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		s.closePorts()
		return nil, fmt.Errorf("sfu: codecs: %w", err)
	}
	if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: AudioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
		s.closePorts()
		return nil, fmt.Errorf("sfu: audio level extension: %w", err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		s.closePorts()
		return nil, fmt.Errorf("sfu: interceptors: %w", err)
	}
	s.api = webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// SetSignaller sets where the SFU's offers go. Call it before use.
func (s *SFU) SetSignaller(sig Signaller) { s.sig = sig }

// UDPAddr is the bound media address.
func (s *SFU) UDPAddr() net.Addr { return s.udp.LocalAddr() }

// TCPAddr is the bound ICE-TCP address, or nil.
func (s *SFU) TCPAddr() net.Addr {
	if s.tcp == nil {
		return nil
	}
	return s.tcp.Addr()
}

func (s *SFU) closePorts() {
	if s.udpMux != nil {
		s.udpMux.Close()
	}
	if s.udp != nil {
		s.udp.Close()
	}
	if s.tcpMux != nil {
		s.tcpMux.Close()
	}
	if s.tcp != nil {
		s.tcp.Close()
	}
}

// Close ends every call, waits for the forwarding goroutines and releases
// the ports.
func (s *SFU) Close() error {
	s.mu.Lock()
	s.closed = true
	rooms := make([]*room, 0, len(s.rooms))
	for _, r := range s.rooms {
		rooms = append(rooms, r)
	}
	s.rooms = map[calls.CallID]*room{}
	s.mu.Unlock()
	for _, r := range rooms {
		r.close()
	}
	s.cancel()
	s.wg.Wait()
	s.closePorts()
	return nil
}

// Stats returns the SFU's counters.
func (s *SFU) Stats() Stats {
	s.mu.Lock()
	st := Stats{Calls: len(s.rooms)}
	for _, r := range s.rooms {
		r.mu.Lock()
		st.Participants += len(r.peers)
		r.mu.Unlock()
	}
	s.mu.Unlock()
	st.PacketsForwarded = s.forwarded.Load()
	st.PacketsFlooded = s.flooded.Load()
	st.BadSDP = s.badSDP.Load()
	st.BadCandidates = s.badCand.Load()
	st.DroppedCandidates = s.droppedCand.Load()
	st.KeyframeRequests = s.keyframes.Load()
	st.OffersResent = s.offersResent.Load()
	st.SpeakerChanges = s.speakerChanges.Load()
	st.LayerSwitches = s.layerSwitches.Load()
	return st
}

func (s *SFU) room(id calls.CallID, create bool) (*room, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, parley.Errorf(parley.CodeUnavailable, ReasonClosed, "the media server is shutting down")
	}
	r := s.rooms[id]
	if r == nil && create {
		r = &room{s: s, id: id, peers: make(map[parley.DeviceID]*peer), speakers: newSpeakers(s.cfg.SpeakerHold)}
		s.rooms[id] = r
	}
	if r == nil {
		return nil, parley.Errorf(parley.CodeConflict, ReasonNoSession, "no media session for this call yet: send an offer first")
	}
	return r, nil
}

// Signal handles a payload from a participant (calls.SFU).
func (s *SFU) Signal(ctx context.Context, id calls.CallID, dev parley.Device, conn parley.CallConnection, kind parley.CallSignalKind, payload []byte) error {
	create := kind == parley.CallSignalOffer && conn == parley.CallPublish ||
		kind == parley.CallSignalCandidate
	r, err := s.room(id, create)
	if err != nil {
		return err
	}
	switch {
	case kind == parley.CallSignalOffer && conn == parley.CallPublish:
		return r.publishOffer(ctx, dev, payload)
	case kind == parley.CallSignalAnswer && conn == parley.CallSubscribe:
		return r.subscribeAnswer(dev.ID, payload)
	case kind == parley.CallSignalCandidate:
		return r.candidate(dev.ID, conn, payload)
	}
	return parley.Errorf(parley.CodeInvalid, ReasonBadSDP, "the SFU takes offers on the publish connection and answers on the subscribe connection")
}

// Leave drops a device's connections and tracks (calls.SFU).
func (s *SFU) Leave(id calls.CallID, dev parley.DeviceID) {
	s.mu.Lock()
	r := s.rooms[id]
	s.mu.Unlock()
	if r != nil {
		r.leave(dev)
	}
}

// End drops a call (calls.SFU).
func (s *SFU) End(id calls.CallID) {
	s.mu.Lock()
	r := s.rooms[id]
	delete(s.rooms, id)
	s.mu.Unlock()
	if r != nil {
		r.close()
	}
}

func (s *SFU) send(id calls.CallID, to parley.DeviceID, conn parley.CallConnection, kind parley.CallSignalKind, payload []byte) {
	if s.sig == nil {
		return
	}
	if err := s.sig.SignalFromSFU(s.ctx, id, to, conn, kind, payload); err != nil {
		s.log.Debug("sfu: signal", "call", id, "device", to, "err", err)
	}
}

// keyframeInterval bounds how often the SFU asks a publisher for a
// keyframe on behalf of its subscribers.
const keyframeInterval = 500 * time.Millisecond
