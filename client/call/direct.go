//go:build !js

package call

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/proto/parleypb"
)

// Reasons of the errors this package returns.
const (
	ReasonBadPeerSignal = "call_bad_peer_signal" // CodeInvalid: a peer's SDP or ICE candidate that does not parse or apply
)

// gatherTimeout bounds the gathering of this side's candidates for an
// answer (an offer can be such that it never completes).
const gatherTimeout = 10 * time.Second

// MaxCandidateBytes bounds a trickled ICE candidate from a peer.
const MaxCandidateBytes = 4096

// applyDirect applies a payload from the peer device of a direct call: its
// offer (answered at once), its answer, or a trickled candidate (a JSON
// RTCIceCandidateInit; empty: the end of candidates). Payloads from
// another device or from the SFU are ignored; a malformed one is refused
// with CodeInvalid "call_bad_peer_signal" and changes nothing.
func (p *Participant) applyDirect(s *parleypb.CallSignal) error {
	if parley.DeviceID(s.GetFromDevice()) != p.cfg.Peer {
		return nil
	}
	switch s.GetKind() {
	case parleypb.CallSignalKind_CALL_SIGNAL_OFFER:
		if p.cfg.Offerer {
			return badPeerSignal("an offer to the offering side")
		}
		if err := p.pub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(s.GetPayload())}); err != nil {
			return badPeerSignal("offer: %v", err)
		}
		ans, err := p.pub.CreateAnswer(nil)
		if err != nil {
			return badPeerSignal("answer to the offer: %v", err)
		}
		gathered := webrtc.GatheringCompletePromise(p.pub)
		if err := p.pub.SetLocalDescription(ans); err != nil {
			return badPeerSignal("answer to the offer: %v", err)
		}
		select {
		case <-gathered:
		case <-p.ctx.Done():
			return p.ctx.Err()
		case <-time.After(gatherTimeout):
			return badPeerSignal("offer: no ICE candidates gathered for it within %v", gatherTimeout)
		}
		return p.signal(p.ctx, parleypb.CallConnection_CALL_CONNECTION_PUBLISH, parleypb.CallSignalKind_CALL_SIGNAL_ANSWER, []byte(p.pub.LocalDescription().SDP))
	case parleypb.CallSignalKind_CALL_SIGNAL_ANSWER:
		if !p.cfg.Offerer {
			return badPeerSignal("an answer to the answering side")
		}
		if err := p.pub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(s.GetPayload())}); err != nil {
			return badPeerSignal("answer: %v", err)
		}
	case parleypb.CallSignalKind_CALL_SIGNAL_CANDIDATE:
		c, err := ParseCandidate(s.GetPayload())
		if err != nil {
			return err
		}
		if err := p.pub.AddICECandidate(c); err != nil {
			return badPeerSignal("candidate: %v", err)
		}
	}
	return nil
}

// ParseCandidate decodes a trickled ICE candidate (a JSON
// RTCIceCandidateInit; an empty payload is the end of candidates, the
// zero value).
func ParseCandidate(b []byte) (webrtc.ICECandidateInit, error) {
	var c webrtc.ICECandidateInit
	if len(b) == 0 {
		return c, nil
	}
	if len(b) > MaxCandidateBytes {
		return c, badPeerSignal("a candidate of %d bytes", len(b))
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, badPeerSignal("candidate: %v", err)
	}
	return c, nil
}

func badPeerSignal(format string, args ...any) error {
	return parley.Errorf(parley.CodeInvalid, ReasonBadPeerSignal, "call: the peer's %s", fmt.Sprintf(format, args...))
}

// watchPath records the type of the selected candidate of the sending
// connection as ICE selects it (for Stats.Path). Call it once the tracks
// are added, before negotiating.
func (p *Participant) watchPath() {
	for _, s := range p.pub.GetSenders() {
		if t := s.Transport(); t != nil {
			t.ICETransport().OnSelectedCandidatePairChange(func(pair *webrtc.ICECandidatePair) {
				if pair != nil && pair.Local != nil {
					p.path.Store(pair.Local.Typ.String())
				}
			})
			return
		}
	}
}
