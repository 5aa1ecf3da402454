package wire_test

import (
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/proto/parleypb"
)

// TestCallEnumsMatchTheProtocol: the domain's call enums have the wire
// protocol's numbers, so wire converts them by a cast.
func TestCallEnumsMatchTheProtocol(t *testing.T) {
	for got, want := range map[int32]int32{
		int32(parley.CallPublish):   int32(parleypb.CallConnection_CALL_CONNECTION_PUBLISH),
		int32(parley.CallSubscribe): int32(parleypb.CallConnection_CALL_CONNECTION_SUBSCRIBE),
	} {
		if got != want {
			t.Errorf("connection %d, want %d", got, want)
		}
	}
	signals := map[parley.CallSignalKind]parleypb.CallSignalKind{
		parley.CallSignalOffer: parleypb.CallSignalKind_CALL_SIGNAL_OFFER, parley.CallSignalAnswer: parleypb.CallSignalKind_CALL_SIGNAL_ANSWER,
		parley.CallSignalCandidate: parleypb.CallSignalKind_CALL_SIGNAL_CANDIDATE, parley.CallSignalSealed: parleypb.CallSignalKind_CALL_SIGNAL_SEALED,
	}
	for d, p := range signals {
		if int32(d) != int32(p) {
			t.Errorf("signal %d, want %s=%d", d, p, p)
		}
	}
	events := map[parley.CallEventKind]parleypb.CallEventKind{
		parley.CallRinging: parleypb.CallEventKind_CALL_RINGING, parley.CallAccepted: parleypb.CallEventKind_CALL_ACCEPTED,
		parley.CallAnsweredElsewhere: parleypb.CallEventKind_CALL_ANSWERED_ELSEWHERE, parley.CallDeclined: parleypb.CallEventKind_CALL_DECLINED,
		parley.CallBusy: parleypb.CallEventKind_CALL_BUSY, parley.CallCancelled: parleypb.CallEventKind_CALL_CANCELLED,
		parley.CallMissed: parleypb.CallEventKind_CALL_MISSED, parley.CallJoined: parleypb.CallEventKind_CALL_JOINED,
		parley.CallLeft: parleypb.CallEventKind_CALL_LEFT, parley.CallEnded: parleypb.CallEventKind_CALL_ENDED,
		parley.CallMediaState: parleypb.CallEventKind_CALL_MEDIA_STATE, parley.CallInProgress: parleypb.CallEventKind_CALL_IN_PROGRESS,
		parley.CallActiveSpeaker: parleypb.CallEventKind_CALL_ACTIVE_SPEAKER,
	}
	if len(events) != len(parleypb.CallEventKind_name)-1 {
		t.Errorf("%d domain events for %d wire events (besides UNSPECIFIED)", len(events), len(parleypb.CallEventKind_name)-1)
	}
	for d, p := range events {
		if int32(d) != int32(p) {
			t.Errorf("event %d, want %s=%d", d, p, p)
		}
	}
}
