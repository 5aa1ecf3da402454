package sfu

import (
	"testing"
	"time"

	"github.com/pion/rtp"
)

// FuzzPublishedPacket feeds arbitrary bytes, as a publisher's RTP packet,
// to what the SFU reads of it: the audio-level extension (the dominant
// speaker) and, for a simulcast layer, the clear keyframe byte and the
// renumbering for a subscriber. Nothing may panic, and a subscriber's
// sequence numbers stay consecutive.
func FuzzPublishedPacket(f *testing.F) {
	var p rtp.Packet
	p.Version, p.SequenceNumber, p.Timestamp, p.Payload = 2, 7, 9000, []byte{keyframeByte, 1, 2, 3}
	b, _ := (rtp.AudioLevelExtension{Level: 30, Voice: true}).Marshal()
	_ = p.SetExtension(1, b)
	raw, _ := p.Marshal()
	f.Add(raw, uint8(1), uint8(2))
	f.Add([]byte{0x90, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xbe, 0xde, 0, 1, 0x10, 0x7f, 0, 0}, uint8(1), uint8(0))
	f.Add([]byte{}, uint8(0), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, id, layer uint8) {
		var h rtp.Header
		sp := newSpeakers(defaultSpeakerHold)
		now := time.Unix(1_700_000_000, 0)
		if _, err := h.Unmarshal(data); err == nil {
			if level, ok := audioLevel(&h, id%15); ok {
				sp.observe(1, level, now)
				sp.observe(1, level, now.Add(time.Second))
			}
		}
		var pkt rtp.Packet
		if pkt.Unmarshal(data) != nil {
			return
		}
		r := &room{s: &SFU{}}
		l := int(layer % 3)
		s := &simSub{current: -1, target: l}
		key := len(pkt.Payload) > 0 && pkt.Payload[0] == keyframeByte
		out, ok := r.rewrite(s, &pkt, l, key)
		if ok != key {
			t.Fatalf("first packet forwarded %v, keyframe %v", ok, key)
		}
		if !ok {
			return
		}
		again, ok := r.rewrite(s, &pkt, l, false)
		if !ok || again.SequenceNumber != out.SequenceNumber+1 {
			t.Fatalf("next packet: forwarded %v, seq %d after %d", ok, again.SequenceNumber, out.SequenceNumber)
		}
	})
}
