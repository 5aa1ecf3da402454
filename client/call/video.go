//go:build !js

package call

import (
	"errors"
	"fmt"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Video frames: the synthetic frame's first byte stays in the clear ahead
// of the SFrame frame, which authenticates it as metadata, so that the SFU
// can tell keyframes (where it may switch a subscriber between simulcast
// layers) without reading the media; the rest is ciphertext.
const (
	videoDelta    = 0x10 // VP8-descriptor-shaped: start of a partition
	videoKeyframe = 0x11 // the same, marked as a keyframe
)

// IsKeyframe reports whether a forwarded video payload starts a keyframe
// (what the SFU reads of it).
func IsKeyframe(payload []byte) bool { return len(payload) > 0 && payload[0] == videoKeyframe }

// SimulcastRIDs are the simulcast layers, smallest first, and
// SimulcastFrameBytes their frame sizes (15 fps each).
var (
	SimulcastRIDs       = [3]string{"q", "h", "f"}
	SimulcastFrameBytes = [3]int{250, 500, VideoFrameBytes}
)

// KeyframeEvery is how many video frames apart keyframes are sent (besides
// those asked for with PLI).
const KeyframeEvery = 30

// estimateInterval is how often a receiver with a set bitrate sends it
// (REMB) to the SFU.
const estimateInterval = 250 * time.Millisecond

var errEmptyFrame = errors.New("call: empty video payload")

// addVideo adds the video track, or its three simulcast layers (with the
// SFU only), and turns keyframe requests on them into keyframes.
func (p *Participant) addVideo(stream string) error {
	codec := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
	if !p.cfg.Simulcast || p.direct() {
		t, err := webrtc.NewTrackLocalStaticRTP(codec, "video", stream)
		if err != nil {
			return err
		}
		p.video = []*webrtc.TrackLocalStaticRTP{t}
	} else {
		for _, rid := range SimulcastRIDs {
			t, err := webrtc.NewTrackLocalStaticRTP(codec, "video", stream, webrtc.WithRTPStreamID(rid))
			if err != nil {
				return err
			}
			p.video = append(p.video, t)
		}
	}
	s, err := p.pub.AddTrack(p.video[0])
	if err != nil {
		return fmt.Errorf("call: add video: %w", err)
	}
	for _, t := range p.video[1:] {
		if err := s.AddEncoding(t); err != nil {
			return fmt.Errorf("call: add simulcast layer: %w", err)
		}
	}
	p.videoSender = s
	if len(p.video) == 1 {
		p.drainVideoRTCP(0, func() ([]rtcp.Packet, error) { pkts, _, err := s.ReadRTCP(); return pkts, err })
		return nil
	}
	for i, rid := range SimulcastRIDs {
		p.drainVideoRTCP(i, func() ([]rtcp.Packet, error) { pkts, _, err := s.ReadSimulcastRTCP(rid); return pkts, err })
	}
	return nil
}

// drainVideoRTCP reads a video layer's RTCP (the NACK responder and
// reports need it) and turns keyframe requests into a keyframe.
func (p *Participant) drainVideoRTCP(layer int, read func() ([]rtcp.Packet, error)) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			pkts, err := read()
			if err != nil {
				return
			}
			for _, pkt := range pkts {
				switch pkt.(type) {
				case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
					p.keyframeReq[layer].Store(true)
				}
			}
		}
	}()
}

// simulcastExtensions returns the negotiated ids of the mid and rid
// header extensions on the video sender, and its mid: a simulcast layer's
// packets carry both, so that the receiver tells the layers apart.
func (p *Participant) simulcastExtensions() (midID, ridID uint8, mid string) {
	for _, e := range p.videoSender.GetParameters().HeaderExtensions {
		switch e.URI {
		case midURI:
			midID = uint8(e.ID)
		case ridURI:
			ridID = uint8(e.ID)
		}
	}
	for _, tr := range p.pub.GetTransceivers() {
		if tr.Sender() == p.videoSender {
			mid = tr.Mid()
		}
	}
	return midID, ridID, mid
}

const (
	midURI = "urn:ietf:params:rtp-hdrext:sdes:mid"
	ridURI = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
)

func (p *Participant) sendVideoFrame(t *webrtc.TrackLocalStaticRTP, pkt *rtp.Packet, seq uint32, size int, key bool) {
	desc := byte(videoDelta)
	if key {
		desc = videoKeyframe
	}
	ct, err := p.cfg.Sealer.Seal([]byte{desc}, []byte{desc}, Frame(webrtc.RTPCodecTypeVideo, p.cfg.Device, seq, size))
	if err != nil {
		return
	}
	pkt.SequenceNumber++
	pkt.Timestamp += 6000 // 90 kHz at 15 fps
	pkt.Marker = true
	pkt.Payload = ct
	_ = t.WriteRTP(pkt)
}

// SetReceiveBitrate makes the participant tell the SFU, every 250 ms,
// that it can receive at most bps bits per second of video (RTCP REMB), as
// a receiver's bandwidth estimate does: the SFU then forwards it the
// simulcast layers that fit. 0 stops.
func (p *Participant) SetReceiveBitrate(bps uint64) { p.recvBitrate.Store(bps) }

func (p *Participant) sendEstimates() {
	t := time.NewTicker(estimateInterval)
	defer t.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
		}
		bps := p.recvBitrate.Load()
		if bps == 0 || p.direct() {
			continue
		}
		var ssrcs []uint32
		p.videoSSRCs.Range(func(k, _ any) bool {
			ssrcs = append(ssrcs, k.(uint32))
			return true
		})
		if len(ssrcs) > 0 {
			_ = p.sub.WriteRTCP([]rtcp.Packet{&rtcp.ReceiverEstimatedMaximumBitrate{Bitrate: float32(bps), SSRCs: ssrcs}})
		}
	}
}
