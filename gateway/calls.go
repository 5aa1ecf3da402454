package gateway

import (
	"context"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/calls"
	"github.com/parleyhq/parley/proto/parleypb"
	"github.com/parleyhq/parley/wire"
)

// Calls is what the gateway needs of the call signalling service
// (*calls.Service implements it).
type Calls interface {
	Start(ctx context.Context, dev parley.Device, id parley.ConversationID, video bool) (parley.CallInfo, error)
	Accept(ctx context.Context, dev parley.Device, id calls.CallID) (parley.CallInfo, error)
	Decline(ctx context.Context, dev parley.Device, id calls.CallID, busy bool) error
	Hangup(ctx context.Context, dev parley.Device, id calls.CallID) error
	Join(ctx context.Context, dev parley.Device, id calls.CallID) (parley.CallInfo, error)
	SetMediaState(ctx context.Context, dev parley.Device, id calls.CallID, muted, videoOff bool) error
	Signal(ctx context.Context, dev parley.Device, id calls.CallID, to parley.DeviceID, conn parley.CallConnection, kind parley.CallSignalKind, payload []byte) error
	Status(ctx context.Context, dev parley.Device, id parley.ConversationID) (parley.CallInfo, error)
	DeviceGone(ctx context.Context, dev parley.DeviceID)
}

// callRequest handles the call frames; handled is false for any other
// frame.
func (s *session) callRequest(ctx context.Context, f *parleypb.ClientFrame) (out *parleypb.ServerFrame, handled bool, err error) {
	switch f.Body.(type) {
	case *parleypb.ClientFrame_CallStart, *parleypb.ClientFrame_CallAccept, *parleypb.ClientFrame_CallDecline,
		*parleypb.ClientFrame_CallHangup, *parleypb.ClientFrame_CallJoin, *parleypb.ClientFrame_CallMediaState,
		*parleypb.ClientFrame_CallSignal, *parleypb.ClientFrame_CallStatus:
	default:
		return nil, false, nil
	}
	svc := s.g.calls
	if svc == nil {
		return nil, true, parley.Errorf(parley.CodeUnavailable, ReasonCallsDisabled, "this server does not host calls")
	}
	dev := s.dev
	info := func(ci parley.CallInfo, err error) (*parleypb.ServerFrame, bool, error) {
		if err != nil {
			return nil, true, err
		}
		return &parleypb.ServerFrame{Body: &parleypb.ServerFrame_Call{Call: wire.CallInfoToPB(ci)}}, true, nil
	}
	done := func(err error) (*parleypb.ServerFrame, bool, error) {
		if err != nil {
			return nil, true, err
		}
		return okFrame(), true, nil
	}
	switch b := f.Body.(type) {
	case *parleypb.ClientFrame_CallStart:
		return info(svc.Start(ctx, dev, parley.ConversationID(b.CallStart.GetConversationId()), b.CallStart.GetVideo()))
	case *parleypb.ClientFrame_CallAccept:
		return info(svc.Accept(ctx, dev, calls.CallID(b.CallAccept.GetCallId())))
	case *parleypb.ClientFrame_CallDecline:
		return done(svc.Decline(ctx, dev, calls.CallID(b.CallDecline.GetCallId()), b.CallDecline.GetBusy()))
	case *parleypb.ClientFrame_CallHangup:
		return done(svc.Hangup(ctx, dev, calls.CallID(b.CallHangup.GetCallId())))
	case *parleypb.ClientFrame_CallJoin:
		return info(svc.Join(ctx, dev, calls.CallID(b.CallJoin.GetCallId())))
	case *parleypb.ClientFrame_CallMediaState:
		r := b.CallMediaState
		return done(svc.SetMediaState(ctx, dev, calls.CallID(r.GetCallId()), r.GetAudioMuted(), r.GetVideoOff()))
	case *parleypb.ClientFrame_CallSignal:
		r := b.CallSignal
		return done(svc.Signal(ctx, dev, calls.CallID(r.GetCallId()), parley.DeviceID(r.GetToDevice()), wire.CallConnectionFromPB(r.GetConnection()), wire.CallSignalKindFromPB(r.GetKind()), r.GetPayload()))
	case *parleypb.ClientFrame_CallStatus:
		return info(svc.Status(ctx, dev, parley.ConversationID(b.CallStatus.GetConversationId())))
	}
	return nil, false, nil
}

// leaveCalls takes the session's device out of any call when the session
// ends: media cannot outlive the signalling channel.
func (s *session) leaveCalls() {
	if s.g.calls != nil && s.dev.ID != 0 {
		s.g.calls.DeviceGone(s.g.ctx, s.dev.ID)
	}
}
