package parley

import "time"

// CallID names a call. It is random, 16 bytes in hex.
type CallID string

// CallConnection is which of a participant's two peer connections with the
// SFU a call signal is about (1:1 calls use CallPublish only).
type CallConnection int32

// The connections; their numbers are the wire protocol's.
const (
	CallPublish   CallConnection = 0 // the participant sends its media
	CallSubscribe CallConnection = 1 // the SFU sends the others' media
)

// CallSignalKind is what a call signal carries.
type CallSignalKind int32

// The signal kinds; their numbers are the wire protocol's.
const (
	CallSignalOffer     CallSignalKind = 1 // an SDP offer
	CallSignalAnswer    CallSignalKind = 2 // an SDP answer
	CallSignalCandidate CallSignalKind = 3 // one trickled ICE candidate; empty: end of candidates
	CallSignalSealed    CallSignalKind = 4 // an MLS application message for the peer device
)

// CallEventKind is what happened to a call.
type CallEventKind int32

// The call events; their numbers are the wire protocol's (docs/calls.md
// says who gets each).
const (
	CallRinging           CallEventKind = 1
	CallAccepted          CallEventKind = 2
	CallAnsweredElsewhere CallEventKind = 3
	CallDeclined          CallEventKind = 4
	CallBusy              CallEventKind = 5
	CallCancelled         CallEventKind = 6
	CallMissed            CallEventKind = 7
	CallJoined            CallEventKind = 8
	CallLeft              CallEventKind = 9
	CallEnded             CallEventKind = 10
	CallMediaState        CallEventKind = 11
	CallInProgress        CallEventKind = 12
	CallActiveSpeaker     CallEventKind = 13 // the SFU's dominant speaker changed (sfu: audio levels)
)

// CallParticipant is one device in a call.
type CallParticipant struct {
	User       UserID
	Device     DeviceID
	AudioMuted bool
	VideoOff   bool
	JoinedAt   time.Time
}

// ICEServer is a STUN or TURN server a participant may use for a call, with
// short-lived credentials.
type ICEServer struct {
	URLs       []string
	Username   string
	Credential string
	ExpiresAt  time.Time
}

// CallInfo is a call as its participants see it.
type CallInfo struct {
	ID              CallID
	Conversation    ConversationID
	Group           bool // media goes through the SFU
	Video           bool
	Caller          Device
	StartedAt       time.Time
	AnsweredAt      time.Time // zero while nobody has accepted
	Participants    []CallParticipant
	ICEServers      []ICEServer // for the device the info is for; none in events
	MaxParticipants int
}

// CallEvent tells a device what happened to a call.
type CallEvent struct {
	Kind   CallEventKind
	Call   CallInfo
	User   UserID   // who the event is about (the accepter, the leaver…)
	Device DeviceID // and which of their devices
	At     time.Time
}

// CallSignal is a signalling payload for one participant device: from
// another device (FromDevice set) or from the SFU (FromDevice 0).
type CallSignal struct {
	Call       CallID
	FromUser   UserID
	FromDevice DeviceID
	Kind       CallSignalKind
	Payload    []byte
	Connection CallConnection
}
