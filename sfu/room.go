package sfu

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/calls"
)

// room is one call's media.
type room struct {
	s  *SFU
	id calls.CallID

	mu     sync.Mutex
	peers  map[parley.DeviceID]*peer
	closed bool

	speakers *speakers
}

// peer is one participant device.
type peer struct {
	dev    parley.Device
	pub    *webrtc.PeerConnection // the device publishes here
	sub    *webrtc.PeerConnection // the device receives here
	tracks []*pubTrack
	sends  map[*pubTrack]*webrtc.RTPSender // others' tracks on sub
	// simVideo is the device's simulcast video (simulcast.go), also in tracks.
	simVideo *pubTrack

	neg         sync.Mutex
	negotiating bool        // an offer on sub awaits its answer
	pending     bool        // tracks changed meanwhile: offer again after the answer
	offers      int         // offers made on sub, to tell a late timer from a current one
	retry       *time.Timer // resends an unanswered offer
	closed      bool
}

// pubTrack is one published track and the local track it is forwarded on.
type pubTrack struct {
	owner   parley.DeviceID
	remote  *webrtc.TrackRemote
	local   *webrtc.TrackLocalStaticRTP
	pc      *webrtc.PeerConnection
	lastPLI atomic.Int64
	levelID uint8     // the audio-level extension's id on this track, 0 if none
	sim     *simTrack // a simulcast video (simulcast.go): layers, and a local track per subscriber
	// flood limit: packets in the current one-second window
	windowStart time.Time
	windowCount int
}

func badSDP(s *SFU, format string, args ...any) error {
	s.badSDP.Add(1)
	return parley.Errorf(parley.CodeInvalid, ReasonBadSDP, format, args...)
}

// filterSDP removes remote candidates the SFU must not send to. It refuses
// SDP that does not parse.
func (r *room) filterSDP(t webrtc.SDPType, sdp string) (webrtc.SessionDescription, error) {
	if len(sdp) == 0 {
		return webrtc.SessionDescription{}, badSDP(r.s, "empty SDP")
	}
	var kept []string
	for _, line := range strings.SplitAfter(sdp, "\n") {
		if c, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), "a=candidate:"); ok {
			if !r.allowCandidate("candidate:" + c) {
				continue
			}
		}
		kept = append(kept, line)
	}
	desc := webrtc.SessionDescription{Type: t, SDP: strings.Join(kept, "")}
	if _, err := desc.Unmarshal(); err != nil {
		return desc, badSDP(r.s, "SDP does not parse: %v", err)
	}
	return desc, nil
}

// allowCandidate parses an ICE candidate attribute and reports whether the
// SFU may send to its address; refusals are counted.
func (r *room) allowCandidate(attr string) bool {
	c, err := ice.UnmarshalCandidate(attr)
	if err != nil {
		r.s.badCand.Add(1)
		return false
	}
	a, err := netip.ParseAddr(c.Address())
	if err != nil || !r.s.cfg.AllowPeer(a) {
		r.s.droppedCand.Add(1)
		r.s.log.Debug("sfu: remote candidate refused", "call", r.id, "address", c.Address())
		return false
	}
	return true
}

func (r *room) newPC(dev parley.DeviceID) (*webrtc.PeerConnection, error) {
	pc, err := r.s.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateFailed {
			r.s.log.Info("sfu: connection failed", "call", r.id, "device", dev)
		}
	})
	return pc, nil
}

// answerOf applies an offer to pc and returns the complete answer (the UDP
// mux makes host candidates known at once, so the SFU does not trickle).
func answerOf(ctx context.Context, pc *webrtc.PeerConnection, offer webrtc.SessionDescription) (string, error) {
	if err := pc.SetRemoteDescription(offer); err != nil {
		return "", err
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		return "", err
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	return pc.LocalDescription().SDP, nil
}

func (r *room) publishOffer(ctx context.Context, dev parley.Device, sdp []byte) error {
	offer, err := r.filterSDP(webrtc.SDPTypeOffer, string(sdp))
	if err != nil {
		return err
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return parley.Errorf(parley.CodeUnavailable, ReasonClosed, "the call ended")
	}
	p := r.peers[dev.ID]
	created := p == nil
	if created {
		if len(r.peers) >= r.s.cfg.MaxParticipants {
			r.mu.Unlock()
			return parley.Errorf(parley.CodeTooLarge, ReasonFull, "the call has the most participants it may have (%d)", r.s.cfg.MaxParticipants)
		}
		p = &peer{dev: dev, sends: make(map[*pubTrack]*webrtc.RTPSender)}
		if p.pub, err = r.newPC(dev.ID); err == nil {
			p.sub, err = r.newPC(dev.ID)
		}
		if err != nil {
			r.mu.Unlock()
			p.closePCs()
			return err
		}
		pub := p.pub
		pub.OnTrack(func(t *webrtc.TrackRemote, rcv *webrtc.RTPReceiver) {
			if t.RID() != "" {
				r.addLayer(p, t)
				return
			}
			r.addTrack(p, t, rcv)
		})
		r.peers[dev.ID] = p
		// Everyone else's tracks so far go on the new subscribe connection.
		for _, q := range r.peers {
			for _, t := range q.tracks {
				if q != p {
					r.attachLocked(p, t)
				}
			}
		}
	}
	r.mu.Unlock()
	answer, err := answerOf(ctx, p.pub, offer)
	if err != nil && created {
		r.leave(dev.ID) // a refused first offer leaves nothing behind
	}
	if err != nil {
		var pe *parley.Error
		if errors.As(err, &pe) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return badSDP(r.s, "offer refused: %v", err)
	}
	r.s.send(r.id, dev.ID, parley.CallPublish, parley.CallSignalAnswer, []byte(answer))
	r.negotiate(p)
	return nil
}

// attachLocked adds t to p's subscribe connection. r.mu is held.
func (r *room) attachLocked(p *peer, t *pubTrack) {
	if t.sim != nil {
		r.attachSimLocked(p, t)
		return
	}
	sender, err := p.sub.AddTrack(t.local)
	if err != nil {
		r.s.log.Warn("sfu: add track", "call", r.id, "device", p.dev.ID, "err", err)
		return
	}
	p.sends[t] = sender
	r.s.wg.Add(1)
	go func() {
		defer r.s.wg.Done()
		r.readSenderRTCP(t, sender)
	}()
}

// readSenderRTCP drains a subscriber's RTCP for one track (the NACK
// responder and reports need it) and turns keyframe requests into a
// PLI to the publisher.
func (r *room) readSenderRTCP(t *pubTrack, sender *webrtc.RTPSender) {
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, pkt := range pkts {
			switch pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				r.requestKeyframe(t)
			}
		}
	}
}

func (r *room) requestKeyframe(t *pubTrack) {
	if t.remote.Kind() != webrtc.RTPCodecTypeVideo {
		return
	}
	now := time.Now().UnixNano()
	last := t.lastPLI.Load()
	if now-last < int64(keyframeInterval) || !t.lastPLI.CompareAndSwap(last, now) {
		return
	}
	r.s.keyframes.Add(1)
	_ = t.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(t.remote.SSRC())}})
}

func (r *room) addTrack(p *peer, remote *webrtc.TrackRemote, rcv *webrtc.RTPReceiver) {
	local, err := webrtc.NewTrackLocalStaticRTP(remote.Codec().RTPCodecCapability, remote.ID(), strconv.FormatInt(int64(p.dev.ID), 10))
	if err != nil {
		r.s.log.Warn("sfu: local track", "call", r.id, "err", err)
		return
	}
	t := &pubTrack{owner: p.dev.ID, remote: remote, local: local, pc: p.pub}
	if remote.Kind() == webrtc.RTPCodecTypeAudio {
		for _, e := range rcv.GetParameters().HeaderExtensions {
			if e.URI == AudioLevelURI && e.ID > 0 && e.ID < 256 {
				t.levelID = uint8(e.ID)
			}
		}
	}
	r.mu.Lock()
	if r.closed || r.peers[p.dev.ID] != p {
		r.mu.Unlock()
		return
	}
	p.tracks = append(p.tracks, t)
	var renegotiate []*peer
	for _, q := range r.peers {
		if q != p {
			r.attachLocked(q, t)
			renegotiate = append(renegotiate, q)
		}
	}
	r.mu.Unlock()
	for _, q := range renegotiate {
		r.negotiate(q)
	}
	r.requestKeyframe(t)
	r.s.wg.Add(1)
	go func() {
		defer r.s.wg.Done()
		r.forward(t)
	}()
}

// forward copies a published track's packets to its local track, which
// pion fans out to every subscriber with their own SSRC and payload type.
func (r *room) forward(t *pubTrack) {
	buf := make([]byte, 1500)
	var h rtp.Header
	max := r.s.cfg.MaxPacketsPerSecond
	for {
		n, _, err := t.remote.Read(buf)
		if err != nil {
			return
		}
		now := time.Now()
		if now.Sub(t.windowStart) >= time.Second {
			t.windowStart, t.windowCount = now, 0
		}
		t.windowCount++
		if t.windowCount > max {
			r.s.flooded.Add(1)
			continue
		}
		tap := r.s.cfg.Tap
		if tap != nil || t.levelID != 0 {
			if hl, err := h.Unmarshal(buf[:n]); err == nil {
				if level, ok := audioLevel(&h, t.levelID); ok && t.levelID != 0 {
					if dev, changed := r.speakers.observe(t.owner, level, now); changed {
						r.s.speakerChanged(r.id, dev)
					}
				}
				end := n
				if h.Padding && n > hl {
					end -= int(buf[n-1])
				}
				if tap != nil && end >= hl {
					tap(r.id, t.owner, t.remote.Kind(), buf[hl:end])
				}
			}
		}
		if _, err := t.local.Write(buf[:n]); err != nil && !errors.Is(err, io.ErrClosedPipe) {
			r.s.log.Debug("sfu: forward", "call", r.id, "err", err)
		}
		r.s.forwarded.Add(1)
	}
}

// negotiate (re)offers p's subscribe connection, unless an offer is out,
// in which case it offers again once the answer arrives.
func (r *room) negotiate(p *peer) {
	r.mu.Lock()
	tracks := len(p.sends)
	r.mu.Unlock()
	p.neg.Lock()
	if p.negotiating {
		p.pending = true
		p.neg.Unlock()
		return
	}
	if tracks == 0 && p.sub.CurrentRemoteDescription() == nil {
		p.neg.Unlock()
		return // nothing to receive yet
	}
	p.negotiating = true
	p.neg.Unlock()
	r.s.wg.Add(1)
	go func() {
		defer r.s.wg.Done()
		offer, err := p.sub.CreateOffer(nil)
		if err == nil {
			gathered := webrtc.GatheringCompletePromise(p.sub)
			if err = p.sub.SetLocalDescription(offer); err == nil {
				select {
				case <-gathered:
				case <-r.s.ctx.Done():
					return
				}
				sdp := []byte(p.sub.LocalDescription().SDP)
				r.s.send(r.id, p.dev.ID, parley.CallSubscribe, parley.CallSignalOffer, sdp)
				r.resendUnanswered(p, sdp)
				return
			}
		}
		p.neg.Lock()
		p.negotiating = false
		p.neg.Unlock()
		if !errors.Is(err, webrtc.ErrConnectionClosed) {
			r.s.log.Warn("sfu: subscribe offer", "call", r.id, "device", p.dev.ID, "err", err)
		}
	}()
}

// answerTimeout is how long the SFU waits for the answer to a subscribe
// offer before sending it again (a push can be lost with a connection);
// it gives up after maxOfferResends.
const (
	answerTimeout   = 8 * time.Second
	maxOfferResends = 5
)

// resendUnanswered re-sends sdp while it stays unanswered.
func (r *room) resendUnanswered(p *peer, sdp []byte) {
	p.neg.Lock()
	defer p.neg.Unlock()
	p.offers++
	gen, tries := p.offers, 0
	var fire func()
	fire = func() {
		p.neg.Lock()
		if p.closed || !p.negotiating || p.offers != gen || r.s.ctx.Err() != nil || tries >= maxOfferResends {
			p.neg.Unlock()
			return
		}
		tries++
		p.neg.Unlock()
		r.s.offersResent.Add(1)
		r.s.send(r.id, p.dev.ID, parley.CallSubscribe, parley.CallSignalOffer, sdp)
		p.neg.Lock()
		if !p.closed && p.offers == gen {
			p.retry = time.AfterFunc(answerTimeout, fire)
		}
		p.neg.Unlock()
	}
	if p.retry != nil {
		p.retry.Stop()
	}
	p.retry = time.AfterFunc(answerTimeout, fire)
}

func (r *room) peer(dev parley.DeviceID) (*peer, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.peers[dev]
	if p == nil {
		return nil, parley.Errorf(parley.CodeConflict, ReasonNoSession, "no media session for this device: send an offer first")
	}
	return p, nil
}

func (r *room) subscribeAnswer(dev parley.DeviceID, sdp []byte) error {
	p, err := r.peer(dev)
	if err != nil {
		return err
	}
	answer, err := r.filterSDP(webrtc.SDPTypeAnswer, string(sdp))
	if err != nil {
		return err
	}
	p.neg.Lock()
	stale := !p.negotiating
	p.neg.Unlock()
	if stale {
		return nil // an answer to an offer sent twice, already applied
	}
	if err := p.sub.SetRemoteDescription(answer); err != nil {
		// Most often a late answer to an offer sent again and since
		// replaced; the current offer's answer is still awaited.
		return badSDP(r.s, "answer refused: %v", err)
	}
	p.neg.Lock()
	p.negotiating = false
	again := p.pending
	p.pending = false
	p.neg.Unlock()
	if again {
		r.negotiate(p)
	}
	return nil
}

func (r *room) candidate(dev parley.DeviceID, conn parley.CallConnection, payload []byte) error {
	if len(payload) == 0 {
		return nil // end of candidates
	}
	var c webrtc.ICECandidateInit
	if err := json.Unmarshal(payload, &c); err != nil || c.Candidate == "" {
		r.s.badCand.Add(1)
		return parley.Errorf(parley.CodeInvalid, ReasonBadCandidate, "an ICE candidate is a JSON RTCIceCandidateInit")
	}
	if _, err := ice.UnmarshalCandidate(c.Candidate); err != nil {
		r.s.badCand.Add(1)
		return parley.Errorf(parley.CodeInvalid, ReasonBadCandidate, "ICE candidate does not parse: %v", err)
	}
	if !r.allowCandidate(c.Candidate) {
		return nil // dropped and counted, like a candidate that never arrived
	}
	p, err := r.peer(dev)
	if err != nil {
		return err
	}
	pc := p.pub
	if conn == parley.CallSubscribe {
		pc = p.sub
	}
	if err := pc.AddICECandidate(c); err != nil {
		r.s.badCand.Add(1)
		return parley.Errorf(parley.CodeInvalid, ReasonBadCandidate, "ICE candidate refused: %v", err)
	}
	return nil
}

func (p *peer) closePCs() {
	p.neg.Lock()
	p.closed = true
	if p.retry != nil {
		p.retry.Stop()
	}
	p.neg.Unlock()
	if p.pub != nil {
		_ = p.pub.Close()
	}
	if p.sub != nil {
		_ = p.sub.Close()
	}
}

func (r *room) leave(dev parley.DeviceID) {
	r.mu.Lock()
	p := r.peers[dev]
	if p == nil {
		r.mu.Unlock()
		return
	}
	delete(r.peers, dev)
	r.speakers.forget(dev)
	var renegotiate []*peer
	for _, q := range r.peers {
		for _, t := range q.tracks {
			if t.sim != nil {
				t.sim.mu.Lock()
				delete(t.sim.subs, dev)
				t.sim.mu.Unlock()
			}
		}
		changed := false
		for _, t := range p.tracks {
			if s := q.sends[t]; s != nil {
				_ = q.sub.RemoveTrack(s)
				delete(q.sends, t)
				changed = true
			}
		}
		if changed {
			renegotiate = append(renegotiate, q)
		}
	}
	r.mu.Unlock()
	p.closePCs()
	for _, q := range renegotiate {
		r.negotiate(q)
	}
}

func (r *room) close() {
	r.mu.Lock()
	r.closed = true
	peers := r.peers
	r.peers = map[parley.DeviceID]*peer{}
	r.mu.Unlock()
	for _, p := range peers {
		p.closePCs()
	}
}
