package sfu_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/calls"
	"github.com/parleyhq/parley/sfu"
)

// FuzzSignal feeds arbitrary signalling payloads (SDP offers and answers,
// ICE candidates) to the SFU. Nothing may panic, and every refusal is a
// *parley.Error with one of the SFU's reasons.
func FuzzSignal(f *testing.F) {
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		f.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		f.Fatal(err)
	}
	pc.Close()
	f.Add(uint8(0), []byte(offer.SDP))
	f.Add(uint8(1), []byte(offer.SDP))
	f.Add(uint8(2), []byte(`{"candidate":"candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host","sdpMid":"0"}`))
	f.Add(uint8(2), []byte(`{"candidate":"candidate:1 1 udp 2130706431 10.0.0.1 5000 typ host"}`))
	f.Add(uint8(0), []byte("v=0\r\n"))

	s, err := sfu.New(sfu.Config{UDPAddr: "127.0.0.1:0", AllowPeer: loopbackOnly}, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	dev := parley.Device{ID: 1, User: 1}
	allowed := map[string]bool{sfu.ReasonBadSDP: true, sfu.ReasonBadCandidate: true, sfu.ReasonNoSession: true, sfu.ReasonFull: true}
	n := 0
	f.Fuzz(func(t *testing.T, which uint8, payload []byte) {
		n++
		id := calls.CallID(fmt.Sprintf("fuzz-%d", n))
		defer s.End(id)
		conn, kind := parley.CallPublish, parley.CallSignalOffer
		switch which % 3 {
		case 1:
			conn, kind = parley.CallSubscribe, parley.CallSignalAnswer
		case 2:
			kind = parley.CallSignalCandidate
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := s.Signal(ctx, id, dev, conn, kind, payload)
		if err != nil && !allowed[parley.ErrorReason(err)] {
			t.Fatalf("Signal(%d, %q): %v", which%3, payload, err)
		}
	})
}
