package wire

import (
	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/proto/parleypb"
)

// The call enums have the wire protocol's numbers (a test checks), so
// converting them is a cast.

// CallConnectionFromPB converts a connection from a frame.
func CallConnectionFromPB(c parleypb.CallConnection) parley.CallConnection {
	return parley.CallConnection(c)
}

// CallSignalKindFromPB converts a signal kind from a frame (unknown kinds
// stay unknown: the call service refuses them).
func CallSignalKindFromPB(k parleypb.CallSignalKind) parley.CallSignalKind {
	return parley.CallSignalKind(k)
}

// CallInfoToPB converts a call to its wire message.
func CallInfoToPB(c parley.CallInfo) *parleypb.CallInfo {
	ci := &parleypb.CallInfo{
		CallId: string(c.ID), ConversationId: string(c.Conversation), Group: c.Group, Video: c.Video,
		CallerUserId: int64(c.Caller.User), CallerDeviceId: int64(c.Caller.ID),
		StartedAtMs: MS(c.StartedAt), AnsweredAtMs: MS(c.AnsweredAt),
		MaxParticipants: uint32(c.MaxParticipants),
	}
	for _, p := range c.Participants {
		ci.Participants = append(ci.Participants, &parleypb.CallParticipant{
			UserId: int64(p.User), DeviceId: int64(p.Device), AudioMuted: p.AudioMuted, VideoOff: p.VideoOff, JoinedAtMs: MS(p.JoinedAt)})
	}
	for _, s := range c.ICEServers {
		ci.IceServers = append(ci.IceServers, &parleypb.IceServer{Urls: s.URLs, Username: s.Username, Credential: s.Credential, ExpiresAtMs: s.ExpiresAt.UnixMilli()})
	}
	return ci
}

// CallEventFrame is the push of a call event.
func CallEventFrame(ev parley.CallEvent) []byte {
	return Push(&parleypb.ServerFrame{Body: &parleypb.ServerFrame_CallEvent{CallEvent: &parleypb.CallEvent{
		Kind: parleypb.CallEventKind(ev.Kind), Call: CallInfoToPB(ev.Call), UserId: int64(ev.User), DeviceId: int64(ev.Device), AtMs: ev.At.UnixMilli()}}})
}

// CallSignalFrame is the push of a call signal.
func CallSignalFrame(s parley.CallSignal) []byte {
	return Push(&parleypb.ServerFrame{Body: &parleypb.ServerFrame_CallSignal{CallSignal: &parleypb.CallSignal{
		CallId: string(s.Call), FromUser: int64(s.FromUser), FromDevice: int64(s.FromDevice),
		Kind: parleypb.CallSignalKind(s.Kind), Payload: s.Payload, Connection: parleypb.CallConnection(s.Connection)}}})
}
