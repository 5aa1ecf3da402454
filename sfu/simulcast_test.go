package sfu_test

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/client/call"
)

// Simulcast: member 0 publishes three video layers; member 1 (no estimate)
// gets the largest, member 2, whose estimate (REMB) fits only the
// smallest, gets that one; when member 2's estimate grows it is switched
// to the largest at a keyframe the SFU asked for. Every frame decrypts
// and the SFU sees only ciphertext.
func TestSimulcastLayerPerSubscriber(t *testing.T) {
	h := newHarness(t, 3)
	h.simulcast = true
	h.join(0, true)
	h.join(1, false)
	h.join(2, false)
	h.ms[2].p.SetReceiveBitrate(50_000) // the smallest layer is ~35 kb/s, the next ~65 kb/s
	h.waitDecrypted([]int{0, 1, 2}, nil, 5, 60*time.Second)
	from := h.ms[0].dev.ID

	// waitVideo waits until member i's last video frame from member 0 has
	// size bytes.
	waitVideo := func(i, size int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			st := h.ms[i].p.Stats().From[from]
			if st.LastVideoBytes == size && st.Failed == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("member %d: last video frame %d bytes, want %d; %+v; sfu %+v", i, st.LastVideoBytes, size, st, h.sfu.Stats())
			}
			time.Sleep(20 * time.Millisecond) // polling interval, not synchronisation
		}
	}
	waitVideo(1, call.SimulcastFrameBytes[2])
	waitVideo(2, call.SimulcastFrameBytes[0])
	before := h.sfu.Stats()
	h.ms[2].p.SetReceiveBitrate(10_000_000)
	waitVideo(2, call.SimulcastFrameBytes[2])
	waitVideo(1, call.SimulcastFrameBytes[2])
	after := h.sfu.Stats()
	if after.LayerSwitches <= before.LayerSwitches || after.KeyframeRequests <= before.KeyframeRequests {
		t.Fatalf("no layer switch with a keyframe request: before %+v, after %+v", before, after)
	}
	h.tap.mu.Lock()
	defer h.tap.mu.Unlock()
	if h.tap.plain != 0 {
		t.Fatalf("the SFU forwarded %d payloads containing the plaintext pattern", h.tap.plain)
	}
}
