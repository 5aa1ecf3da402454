package sfu

import (
	"errors"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/parleyhq/parley"
)

// Simulcast: a publisher may send its video as three layers (rids "q",
// "h", "f", smallest first). Each subscriber gets one of them on a track of
// its own, the largest whose measured bitrate fits the subscriber's
// estimate (RTCP REMB from the subscriber; without one, the largest). On a
// change the SFU asks the publisher for a keyframe on the new layer (PLI)
// and switches at the first keyframe, rewriting sequence numbers and
// timestamps so the subscriber sees one continuous stream. A keyframe is
// told by the video payload's first byte, which the sender leaves in the
// clear ahead of the SFrame frame (and authenticates as its metadata):
// 0x11 for a keyframe, 0x10 otherwise (docs/protocol.md §13.4).

// simulcastRIDs are the layers, smallest first.
var simulcastRIDs = [3]string{"q", "h", "f"}

// keyframeByte is the clear first byte of a keyframe's payload.
const keyframeByte = 0x11

// frameTicks is the timestamp step used across a layer switch (one frame
// at 15 fps, 90 kHz clock).
const frameTicks = 6000

func layerIndex(rid string) int {
	for i, r := range simulcastRIDs {
		if r == rid {
			return i
		}
	}
	return -1
}

// simTrack is a publisher's simulcast video.
type simTrack struct {
	mu      sync.Mutex
	layers  [3]*webrtc.TrackRemote
	subs    map[parley.DeviceID]*simSub
	rate    [3]atomic.Uint64 // bits per second of each layer over the last full second
	lastPLI [3]atomic.Int64
}

// simSub is one subscriber's view of a simulcast video.
type simSub struct {
	local *webrtc.TrackLocalStaticRTP

	mu              sync.Mutex
	current, target int // layers; current -1 until the first keyframe
	switched        bool
	started         bool
	seq             uint16
	ts, srcTS       uint32
}

// addLayer takes one simulcast layer of p's video.
func (r *room) addLayer(p *peer, remote *webrtc.TrackRemote) {
	idx := layerIndex(remote.RID())
	if idx < 0 {
		r.s.log.Debug("sfu: unknown simulcast layer", "call", r.id, "rid", remote.RID())
		return
	}
	r.mu.Lock()
	if r.closed || r.peers[p.dev.ID] != p {
		r.mu.Unlock()
		return
	}
	t := p.simVideo
	created := t == nil
	if created {
		t = &pubTrack{owner: p.dev.ID, remote: remote, pc: p.pub, sim: &simTrack{subs: map[parley.DeviceID]*simSub{}}}
		p.simVideo = t
		p.tracks = append(p.tracks, t)
	}
	t.sim.mu.Lock()
	t.sim.layers[idx] = remote
	t.sim.mu.Unlock()
	var renegotiate []*peer
	if created {
		for _, q := range r.peers {
			if q != p {
				r.attachLocked(q, t)
				renegotiate = append(renegotiate, q)
			}
		}
	}
	r.mu.Unlock()
	for _, q := range renegotiate {
		r.negotiate(q)
	}
	r.layerKeyframe(t, idx)
	r.s.wg.Add(1)
	go func() {
		defer r.s.wg.Done()
		r.forwardLayer(t, idx, remote)
	}()
}

// attachSimLocked gives subscriber p a track of its own for t's simulcast
// video. r.mu is held.
func (r *room) attachSimLocked(p *peer, t *pubTrack) {
	local, err := webrtc.NewTrackLocalStaticRTP(t.remote.Codec().RTPCodecCapability, "video", strconv.FormatInt(int64(t.owner), 10))
	if err != nil {
		r.s.log.Warn("sfu: local track", "call", r.id, "err", err)
		return
	}
	sender, err := p.sub.AddTrack(local)
	if err != nil {
		r.s.log.Warn("sfu: add track", "call", r.id, "device", p.dev.ID, "err", err)
		return
	}
	p.sends[t] = sender
	sub := &simSub{local: local, current: -1, target: len(simulcastRIDs) - 1}
	t.sim.mu.Lock()
	t.sim.subs[p.dev.ID] = sub
	t.sim.mu.Unlock()
	r.s.wg.Add(1)
	go func() {
		defer r.s.wg.Done()
		r.readSimRTCP(t, sub, sender)
	}()
}

// readSimRTCP takes a subscriber's keyframe requests and bandwidth
// estimates for a simulcast video.
func (r *room) readSimRTCP(t *pubTrack, sub *simSub, sender *webrtc.RTPSender) {
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, pkt := range pkts {
			switch pkt := pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				sub.mu.Lock()
				l := sub.target
				sub.mu.Unlock()
				r.layerKeyframe(t, l)
			case *rtcp.ReceiverEstimatedMaximumBitrate:
				r.retarget(t, sub, uint64(pkt.Bitrate))
			}
		}
	}
}

// chooseLayer is the largest layer whose measured bitrate fits estimate
// (the smallest when none does or none is measured yet).
func chooseLayer(t *simTrack, estimate uint64) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	for l := len(simulcastRIDs) - 1; l > 0; l-- {
		if rate := t.rate[l].Load(); t.layers[l] != nil && rate > 0 && rate <= estimate {
			return l
		}
	}
	return 0
}

// retarget sets the layer a subscriber should get for its estimate; on a
// change it asks the publisher for a keyframe on the new layer.
func (r *room) retarget(t *pubTrack, sub *simSub, estimate uint64) {
	target := chooseLayer(t.sim, estimate)
	sub.mu.Lock()
	changed := sub.target != target
	sub.target = target
	sub.mu.Unlock()
	if changed {
		r.layerKeyframe(t, target)
	}
}

// layerKeyframe asks the publisher for a keyframe on layer l (at most one
// per keyframeInterval and layer).
func (r *room) layerKeyframe(t *pubTrack, l int) {
	t.sim.mu.Lock()
	remote := t.sim.layers[l]
	t.sim.mu.Unlock()
	if remote == nil {
		return
	}
	now := time.Now().UnixNano()
	last := t.sim.lastPLI[l].Load()
	if now-last < int64(keyframeInterval) || !t.sim.lastPLI[l].CompareAndSwap(last, now) {
		return
	}
	r.s.keyframes.Add(1)
	_ = t.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(remote.SSRC())}})
}

// forwardLayer forwards layer l of a simulcast video to the subscribers
// that get it, switching those whose target it is at its keyframes.
func (r *room) forwardLayer(t *pubTrack, l int, remote *webrtc.TrackRemote) {
	buf := make([]byte, 1500)
	var (
		pkt                    rtp.Packet
		windowStart, rateStart time.Time
		windowCount, rateBytes int
	)
	max := r.s.cfg.MaxPacketsPerSecond
	for {
		n, _, err := remote.Read(buf)
		if err != nil {
			return
		}
		now := time.Now()
		if now.Sub(windowStart) >= time.Second {
			windowStart, windowCount = now, 0
		}
		windowCount++
		if windowCount > max {
			r.s.flooded.Add(1)
			continue
		}
		if now.Sub(rateStart) >= time.Second {
			if !rateStart.IsZero() {
				t.sim.rate[l].Store(uint64(float64(rateBytes*8) / now.Sub(rateStart).Seconds()))
			}
			rateStart, rateBytes = now, 0
		}
		rateBytes += n
		if err := pkt.Unmarshal(buf[:n]); err != nil {
			continue
		}
		if tap := r.s.cfg.Tap; tap != nil {
			tap(r.id, t.owner, webrtc.RTPCodecTypeVideo, pkt.Payload)
		}
		key := len(pkt.Payload) > 0 && pkt.Payload[0] == keyframeByte
		t.sim.mu.Lock()
		subs := make([]*simSub, 0, len(t.sim.subs))
		for _, s := range t.sim.subs {
			subs = append(subs, s)
		}
		t.sim.mu.Unlock()
		for _, s := range subs {
			out, ok := r.rewrite(s, &pkt, l, key)
			if !ok {
				continue
			}
			if err := s.local.WriteRTP(&out); err != nil && !errors.Is(err, io.ErrClosedPipe) {
				r.s.log.Debug("sfu: forward", "call", r.id, "err", err)
			}
			r.s.forwarded.Add(1)
		}
	}
}

// rewrite decides whether subscriber s gets pkt of layer l (switching to l
// at a keyframe when l is its target) and returns it renumbered into s's
// one continuous stream.
func (r *room) rewrite(s *simSub, pkt *rtp.Packet, l int, key bool) (rtp.Packet, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current != l {
		if s.target != l || !key {
			return rtp.Packet{}, false
		}
		if s.current >= 0 {
			r.s.layerSwitches.Add(1)
		}
		s.current, s.switched = l, true
	}
	if !s.started {
		s.seq, s.ts, s.started = pkt.SequenceNumber, pkt.Timestamp, true
	} else {
		s.seq++
		if s.switched {
			s.ts += frameTicks
		} else {
			s.ts += pkt.Timestamp - s.srcTS
		}
	}
	s.switched, s.srcTS = false, pkt.Timestamp
	out := *pkt
	out.SequenceNumber, out.Timestamp = s.seq, s.ts
	return out, true
}
