//go:build !js

package call

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/proto/parleypb"
	"github.com/parleyhq/parley/sframe"
)

// FuzzPeerSignal feeds arbitrary payloads from the peer device of a direct
// (1:1) call to the answering participant: offers, answers and trickled
// candidates. Nothing may panic, and every refusal is CodeInvalid
// "call_bad_peer_signal".
func FuzzPeerSignal(f *testing.F) {
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio); err != nil {
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
	f.Add(uint8(2), []byte(``))
	f.Add(uint8(0), []byte("v=0\r\n"))

	key, err := sframe.DeriveKey(Suite, 1, make([]byte, 16))
	if err != nil {
		f.Fatal(err)
	}
	kinds := []parleypb.CallSignalKind{parleypb.CallSignalKind_CALL_SIGNAL_OFFER, parleypb.CallSignalKind_CALL_SIGNAL_ANSWER, parleypb.CallSignalKind_CALL_SIGNAL_CANDIDATE}
	f.Fuzz(func(t *testing.T, which uint8, payload []byte) {
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				panic(fmt.Sprintf("hang on %d %q", which, payload))
			}
		}()
		p, err := New(Config{Device: 2, Peer: 1, Loopback: true, Sealer: sframe.NewSealer(key), Receiver: sframe.NewReceiver()},
			func(context.Context, parleypb.CallConnection, parleypb.CallSignalKind, []byte) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if err := p.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		err = p.applyDirect(&parleypb.CallSignal{FromDevice: 1, Kind: kinds[int(which)%len(kinds)], Payload: payload})
		if err != nil && parley.ErrorReason(err) != ReasonBadPeerSignal {
			t.Fatalf("applyDirect(%d, %q): %v", which%3, payload, err)
		}
		// Another device's payloads are ignored.
		if err := p.applyDirect(&parleypb.CallSignal{FromDevice: 3, Kind: kinds[int(which)%len(kinds)], Payload: payload}); err != nil {
			t.Fatalf("a payload from another device: %v", err)
		}
	})
}
