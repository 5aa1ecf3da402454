//go:build !js

package call

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/proto/parleypb"
	"github.com/parleyhq/parley/sframe"
)

// Pattern is the known plaintext every synthetic frame carries, so a tap on
// the network can prove it never appears in the clear.
const Pattern = "PARLEY-CALL-PLAINTEXT"

// Frame sizes: an Opus 20 ms frame at 32 kb/s is 80 bytes; video frames
// stay in one RTP packet (SFrame encrypts whole frames, and one frame per
// packet keeps the synthetic receiver simple).
const (
	AudioFrameBytes = 80
	VideoFrameBytes = 1000
	AudioInterval   = 20 * time.Millisecond
	VideoInterval   = time.Second / 15
)

// Signal sends a signalling payload to the SFU (through the server's call
// service).
type Signal func(ctx context.Context, conn parleypb.CallConnection, kind parleypb.CallSignalKind, payload []byte) error

// Config configures a participant.
type Config struct {
	Device parley.DeviceID
	Video  bool
	// Loopback lets ICE use loopback addresses (tests and benchmarks on one
	// machine); a participant otherwise gathers on its real interfaces.
	Loopback bool
	// ICEServers are the STUN/TURN servers from CallInfo.
	ICEServers []webrtc.ICEServer
	// Keys returns the sealer for this device's frames and the receiver
	// holding every member's keys (see Keys).
	Sealer   *sframe.Sealer
	Receiver *sframe.Receiver
	// Peer, when set, makes the participant connect directly to that
	// device (a 1:1 call peer to peer) instead of to the SFU: one peer
	// connection that sends and receives, negotiated over the call's
	// signalling with the peer device (Signal then carries the payloads
	// to Peer). Signals from any other device, or from the SFU, are
	// ignored. SFrame applies end to end as with the SFU.
	Peer parley.DeviceID
	// Offerer: this side offers the direct connection (the caller, once
	// the callee's device answered); the other waits for the offer.
	Offerer bool
	// Simulcast sends video (with the SFU) as three layers of growing
	// size, rids "q", "h" and "f" (SimulcastFrameBytes), from which the SFU
	// picks one per subscriber.
	Simulcast bool
	// RelayOnly uses only relayed ICE candidates (the TURN servers of
	// ICEServers): the other party never learns this device's addresses.
	RelayOnly bool
}

// SenderStats is what a participant received from one other device.
type SenderStats struct {
	Frames    uint64 // frames received
	Decrypted uint64 // frames that decrypted and carried the expected pattern
	Failed    uint64 // frames that did not decrypt or verify
	Video     uint64 // of Decrypted, video frames
	// LastVideoBytes is the size of the last video frame that decrypted
	// (with simulcast: which layer arrives).
	LastVideoBytes int
	First          time.Time // when the first frame decrypted
}

// Stats is a participant's view of the call.
type Stats struct {
	AudioSent, VideoSent uint64
	From                 map[parley.DeviceID]SenderStats
	Connected            time.Duration // from Start to the publish connection being connected
	// Path is the type of this side's selected ICE candidate on the
	// sending connection once connected: "host", "srflx", "prflx" or
	// "relay" (through TURN).
	Path string
}

// Participant is one device in a call. Create it with New; Close it.
type Participant struct {
	cfg    Config
	signal Signal
	api    *webrtc.API

	pub, sub    *webrtc.PeerConnection
	audio       *webrtc.TrackLocalStaticRTP
	video       []*webrtc.TrackLocalStaticRTP // one, or the simulcast layers q, h, f
	audioSender *webrtc.RTPSender
	videoSender *webrtc.RTPSender
	keyframeReq [3]atomic.Bool // a keyframe was asked for on a video layer
	recvBitrate atomic.Uint64  // SetReceiveBitrate
	videoSSRCs  sync.Map       // SSRCs of the video tracks received (for REMB)
	level       atomic.Uint32  // the synthetic audio level (SetAudioLevel)

	inbox chan *parleypb.CallSignal

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	started   time.Time
	connected chan struct{}
	connOnce  sync.Once
	connAfter atomic.Int64

	audioSent, videoSent atomic.Uint64
	path                 atomic.Value // string: Stats.Path
	mu                   sync.Mutex
	from                 map[parley.DeviceID]*SenderStats
}

func newAPI(loopback bool) (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: AudioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		return nil, err
	}
	se := webrtc.SettingEngine{}
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeTCP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if loopback {
		se.SetIncludeLoopbackCandidate(true)
		se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// New prepares a participant that signals through signal.
func New(cfg Config, signal Signal) (*Participant, error) {
	if cfg.Sealer == nil || cfg.Receiver == nil {
		return nil, errors.New("call: new participant: Sealer and Receiver are required")
	}
	api, err := newAPI(cfg.Loopback)
	if err != nil {
		return nil, fmt.Errorf("call: new participant: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Participant{cfg: cfg, signal: signal, api: api, inbox: make(chan *parleypb.CallSignal, 64),
		ctx: ctx, cancel: cancel, connected: make(chan struct{}), from: make(map[parley.DeviceID]*SenderStats)}
	p.level.Store(DefaultAudioLevel)
	return p, nil
}

// Start opens the connections (publish and subscribe with the SFU; one
// with a Peer), offers the publish connection (to the SFU, or to the peer
// when Offerer) and starts sending frames once connected. It returns when
// the offer is sent (at once on the answering side of a direct call, which
// answers the peer's offer from HandleSignal).
func (p *Participant) Start(ctx context.Context) error {
	p.started = time.Now()
	pcfg := webrtc.Configuration{ICEServers: p.cfg.ICEServers}
	if p.cfg.RelayOnly {
		pcfg.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
	pub, err := p.api.NewPeerConnection(pcfg)
	if err != nil {
		return fmt.Errorf("call: publish connection: %w", err)
	}
	sub := pub // direct: one connection sends and receives
	if !p.direct() {
		if sub, err = p.api.NewPeerConnection(pcfg); err != nil {
			pub.Close()
			return fmt.Errorf("call: subscribe connection: %w", err)
		}
	}
	p.mu.Lock() // Stats reads them
	p.pub, p.sub = pub, sub
	p.mu.Unlock()
	stream := strconv.FormatInt(int64(p.cfg.Device), 10)
	p.audio, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", stream)
	if err != nil {
		return err
	}
	if p.audioSender, err = p.addSendTrack(p.audio); err != nil {
		return err
	}
	if p.cfg.Video {
		if err := p.addVideo(stream); err != nil {
			return err
		}
	}
	p.watchPath()
	p.pub.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			p.connOnce.Do(func() {
				p.connAfter.Store(int64(time.Since(p.started)))
				close(p.connected)
			})
		}
	})
	p.sub.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if p.direct() && t.StreamID() != strconv.FormatInt(int64(p.cfg.Peer), 10) {
			return // only the peer's own tracks
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.receive(t)
		}()
	})
	p.wg.Add(3)
	go func() { defer p.wg.Done(); p.handleSignals() }()
	go func() { defer p.wg.Done(); p.send() }()
	go func() { defer p.wg.Done(); p.sendEstimates() }()
	if p.direct() && !p.cfg.Offerer {
		return nil // the peer's offer comes through HandleSignal
	}
	offer, err := p.pub.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("call: offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(p.pub)
	if err := p.pub.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("call: offer: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return ctx.Err()
	}
	return p.signal(ctx, parleypb.CallConnection_CALL_CONNECTION_PUBLISH, parleypb.CallSignalKind_CALL_SIGNAL_OFFER, []byte(p.pub.LocalDescription().SDP))
}

// direct reports whether the participant connects to a peer device
// rather than to the SFU.
func (p *Participant) direct() bool { return p.cfg.Peer != 0 }

func (p *Participant) addSendTrack(t *webrtc.TrackLocalStaticRTP) (*webrtc.RTPSender, error) {
	s, err := p.pub.AddTrack(t)
	if err != nil {
		return nil, fmt.Errorf("call: add track: %w", err)
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			if _, _, err := s.ReadRTCP(); err != nil {
				return
			}
		}
	}()
	return s, nil
}

// HandleSignal queues a CallSignal pushed by the server. It never blocks:
// when the queue is full the signal is dropped (the SFU offers again).
func (p *Participant) HandleSignal(s *parleypb.CallSignal) {
	select {
	case p.inbox <- s:
	default:
	}
}

func (p *Participant) handleSignals() {
	for {
		select {
		case <-p.ctx.Done():
			return
		case s := <-p.inbox:
			if err := p.apply(s); err != nil && p.ctx.Err() == nil {
				// The next offer from the SFU repairs a failed negotiation.
				continue
			}
		}
	}
}

func (p *Participant) apply(s *parleypb.CallSignal) error {
	if p.direct() {
		return p.applyDirect(s)
	}
	switch {
	case s.Connection == parleypb.CallConnection_CALL_CONNECTION_PUBLISH && s.Kind == parleypb.CallSignalKind_CALL_SIGNAL_ANSWER:
		return p.pub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(s.Payload)})
	case s.Connection == parleypb.CallConnection_CALL_CONNECTION_SUBSCRIBE && s.Kind == parleypb.CallSignalKind_CALL_SIGNAL_OFFER:
		if err := p.sub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(s.Payload)}); err != nil {
			return err
		}
		ans, err := p.sub.CreateAnswer(nil)
		if err != nil {
			return err
		}
		gathered := webrtc.GatheringCompletePromise(p.sub)
		if err := p.sub.SetLocalDescription(ans); err != nil {
			return err
		}
		select {
		case <-gathered:
		case <-p.ctx.Done():
			return p.ctx.Err()
		}
		return p.signal(p.ctx, parleypb.CallConnection_CALL_CONNECTION_SUBSCRIBE, parleypb.CallSignalKind_CALL_SIGNAL_ANSWER, []byte(p.sub.LocalDescription().SDP))
	}
	return nil
}

// Frame builds the plaintext of synthetic frame seq from device dev: a
// codec-shaped first byte, the pattern, the sender, the sequence number,
// then filler up to size.
func Frame(kind webrtc.RTPCodecType, dev parley.DeviceID, seq uint32, size int) []byte {
	b := make([]byte, size)
	if kind == webrtc.RTPCodecTypeAudio {
		b[0] = 0xF8 // Opus TOC: CELT fullband 20 ms
	} else {
		b[0] = 0x10 // VP8 payload descriptor: start of partition
	}
	n := 1 + copy(b[1:], Pattern)
	binary.BigEndian.PutUint64(b[n:], uint64(dev))
	binary.BigEndian.PutUint32(b[n+8:], seq)
	for i := n + 12; i < size; i++ {
		b[i] = byte(i) ^ byte(seq)
	}
	return b
}

func checkFrame(pt []byte, from parley.DeviceID) bool {
	n := 1 + len(Pattern)
	return len(pt) >= n+12 && bytes.Equal(pt[1:n], []byte(Pattern)) && parley.DeviceID(binary.BigEndian.Uint64(pt[n:])) == from
}

func (p *Participant) send() {
	select {
	case <-p.connected:
	case <-p.ctx.Done():
		return
	}
	at := time.NewTicker(AudioInterval)
	defer at.Stop()
	var vt <-chan time.Time
	if len(p.video) > 0 {
		t := time.NewTicker(VideoInterval)
		defer t.Stop()
		vt = t.C
	}
	levelID := p.audioLevelID()
	var aseq, vseq uint32
	var aPkt rtp.Packet
	vPkts := make([]rtp.Packet, len(p.video))
	aPkt.Version, aPkt.PayloadType, aPkt.SSRC = 2, 111, 1 // SSRC and PT rewritten by pion per binding
	for i := range vPkts {
		vPkts[i].Version, vPkts[i].PayloadType, vPkts[i].SSRC = 2, 96, uint32(2+i)
	}
	sizes := []int{VideoFrameBytes}
	if len(p.video) > 1 {
		sizes = SimulcastFrameBytes[:]
		midID, ridID, mid := p.simulcastExtensions()
		for i := range vPkts {
			if midID != 0 && ridID != 0 {
				_ = vPkts[i].SetExtension(midID, []byte(mid))
				_ = vPkts[i].SetExtension(ridID, []byte(SimulcastRIDs[i]))
			}
		}
	}
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-at.C:
			if levelID != 0 {
				level := uint8(p.level.Load())
				b, _ := rtp.AudioLevelExtension{Level: level, Voice: level < SilenceLevel}.Marshal()
				_ = aPkt.SetExtension(levelID, b)
			}
			p.sendFrame(p.audio, &aPkt, webrtc.RTPCodecTypeAudio, aseq, AudioFrameBytes, 960)
			aseq++
			p.audioSent.Add(1)
		case <-vt:
			for i, t := range p.video {
				key := vseq%KeyframeEvery == 0 || p.keyframeReq[i].Swap(false)
				p.sendVideoFrame(t, &vPkts[i], vseq, sizes[i], key)
			}
			vseq++
			p.videoSent.Add(1)
		}
	}
}

func (p *Participant) sendFrame(t *webrtc.TrackLocalStaticRTP, pkt *rtp.Packet, kind webrtc.RTPCodecType, seq uint32, size int, tsStep uint32) {
	ct, err := p.cfg.Sealer.Seal(nil, nil, Frame(kind, p.cfg.Device, seq, size))
	if err != nil {
		return
	}
	pkt.SequenceNumber++
	pkt.Timestamp += tsStep
	pkt.Marker = true
	pkt.Payload = ct
	_ = t.WriteRTP(pkt)
}

func (p *Participant) receive(t *webrtc.TrackRemote) {
	id, err := strconv.ParseInt(t.StreamID(), 10, 64)
	if err != nil {
		return
	}
	from := parley.DeviceID(id)
	video := t.Kind() == webrtc.RTPCodecTypeVideo
	out := make([]byte, 0, 1500)
	for {
		pkt, _, err := t.ReadRTP()
		if err != nil {
			return
		}
		var pt []byte
		if video {
			p.videoSSRCs.Store(uint32(t.SSRC()), true)
			// One clear byte (keyframe or not), then the SFrame frame
			// that authenticates it.
			if len(pkt.Payload) > 0 {
				pt, _, err = p.cfg.Receiver.Open(out[:0], pkt.Payload[1:], pkt.Payload[:1])
			} else {
				err = errEmptyFrame
			}
		} else {
			pt, _, err = p.cfg.Receiver.Open(out[:0], pkt.Payload, nil)
		}
		ok := err == nil && checkFrame(pt, from)
		p.mu.Lock()
		st := p.from[from]
		if st == nil {
			st = &SenderStats{}
			p.from[from] = st
		}
		st.Frames++
		if ok {
			if st.Decrypted == 0 {
				st.First = time.Now()
			}
			st.Decrypted++
			if video {
				st.Video++
				st.LastVideoBytes = len(pt)
			}
		} else {
			st.Failed++
		}
		p.mu.Unlock()
	}
}

// Connected is closed once the publish connection is up.
func (p *Participant) Connected() <-chan struct{} { return p.connected }

// Stats returns what the participant sent and received so far.
func (p *Participant) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := Stats{AudioSent: p.audioSent.Load(), VideoSent: p.videoSent.Load(), From: make(map[parley.DeviceID]SenderStats, len(p.from)),
		Connected: time.Duration(p.connAfter.Load())}
	st.Path, _ = p.path.Load().(string)
	for d, s := range p.from {
		st.From[d] = *s
	}
	return st
}

// Close hangs up the connections and waits for the participant's
// goroutines.
func (p *Participant) Close() error {
	p.cancel()
	var err error
	if p.pub != nil {
		err = p.pub.Close()
	}
	if p.sub != nil && p.sub != p.pub {
		err = errors.Join(err, p.sub.Close())
	}
	p.wg.Wait()
	return err
}
