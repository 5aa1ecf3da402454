package sfu_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/calls"
	"github.com/parleyhq/parley/client/call"
	"github.com/parleyhq/parley/proto/parleypb"
	"github.com/parleyhq/parley/sfu"
	"github.com/parleyhq/parley/wire"
)

func wantReason(t *testing.T, err error, code parley.Code, reason string) {
	t.Helper()
	if parley.ErrorCode(err) != code || parley.ErrorReason(err) != reason {
		t.Fatalf("err %v, want %s/%s", err, code, reason)
	}
}

// Malformed SDP and candidates get specific errors; candidates pointing
// at private ranges are dropped and counted; none of it disturbs a call
// that is going on.
func TestBadInput(t *testing.T) {
	h := newHarness(t, 3, func(c *sfu.Config) {
		c.AllowPeer = nil // the production default: public addresses only
	})
	h.join(0, false)
	ctx := t.Context()
	bad := h.ms[1].dev
	if _, err := h.svc.Join(ctx, bad, h.callID); err != nil {
		t.Fatal(err)
	}
	sig := func(conn parley.CallConnection, kind parley.CallSignalKind, payload string) error {
		return h.svc.Signal(ctx, bad, h.callID, 0, conn, kind, []byte(payload))
	}
	pub, sub := parley.CallPublish, parley.CallSubscribe
	offer, answer, cand := parley.CallSignalOffer, parley.CallSignalAnswer, parley.CallSignalCandidate
	wantReason(t, sig(pub, offer, "not sdp at all"), parley.CodeInvalid, sfu.ReasonBadSDP)
	wantReason(t, sig(pub, offer, "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"), parley.CodeInvalid, sfu.ReasonBadSDP)
	wantReason(t, sig(sub, answer, "v=0"), parley.CodeConflict, sfu.ReasonNoSession)
	wantReason(t, sig(pub, cand, "{not json"), parley.CodeInvalid, sfu.ReasonBadCandidate)
	wantReason(t, sig(pub, cand, `{"candidate":"candidate:garbage"}`), parley.CodeInvalid, sfu.ReasonBadCandidate)
	before := h.sfu.Stats().DroppedCandidates
	for _, addr := range []string{"10.0.0.5", "192.168.1.20", "127.0.0.1", "169.254.3.3", "100.64.0.1"} {
		c := `{"candidate":"candidate:1 1 udp 2130706431 ` + addr + ` 5000 typ host","sdpMid":"0"}`
		if err := sig(pub, cand, c); err != nil {
			t.Fatalf("private candidate %s: %v (want dropped silently)", addr, err)
		}
	}
	if got := h.sfu.Stats().DroppedCandidates - before; got != 5 {
		t.Fatalf("dropped %d private candidates, want 5", got)
	}
	if st := h.sfu.Stats(); st.BadSDP < 2 || st.BadCandidates < 2 {
		t.Fatalf("stats %+v", st)
	}
}

// The participant cap is a clear error to the one over it.
func TestParticipantCap(t *testing.T) {
	h := newHarness(t, 3, func(c *sfu.Config) { c.MaxParticipants = 2 })
	h.join(0, false)
	h.join(1, false)
	m := h.ms[2]
	ctx := t.Context()
	if _, err := h.svc.Join(ctx, m.dev, h.callID); err != nil {
		t.Fatal(err)
	}
	p, err := call.New(call.Config{Device: m.dev.ID, Loopback: true, Sealer: m.sealer, Receiver: m.recv},
		func(ctx context.Context, conn parleypb.CallConnection, kind parleypb.CallSignalKind, payload []byte) error {
			return h.svc.Signal(ctx, m.dev, h.callID, 0, wire.CallConnectionFromPB(conn), wire.CallSignalKindFromPB(kind), payload)
		})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	wantReason(t, p.Start(ctx), parley.CodeTooLarge, calls.ReasonFull)
	h.waitDecrypted([]int{0, 1}, nil, 5, 30*time.Second)
}

// A publisher over the packet rate has the excess dropped and counted; the
// other participant's media still flows.
func TestFloodingPublisher(t *testing.T) {
	h := newHarness(t, 2, func(c *sfu.Config) { c.MaxPacketsPerSecond = 20 }) // audio is 50 packets/s
	h.join(0, false)
	h.join(1, false)
	h.waitDecrypted([]int{0, 1}, nil, 15, 30*time.Second)
	deadline := time.Now().Add(20 * time.Second)
	for h.sfu.Stats().PacketsFlooded == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("nothing dropped: %+v", h.sfu.Stats())
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
}

// Video and audio from every participant reach every other.
func TestGroupVideo(t *testing.T) {
	h := newHarness(t, 4)
	for i := range 4 {
		h.join(i, true)
	}
	h.waitDecrypted([]int{0, 1, 2, 3}, nil, 60, 60*time.Second)
	for i := range 4 {
		st := h.ms[i].p.Stats()
		for j := range 4 {
			if i != j && st.From[h.ms[j].dev.ID].Video == 0 {
				t.Fatalf("%d decrypted no video from %d: %+v", i, j, st.From[h.ms[j].dev.ID])
			}
		}
	}
}
