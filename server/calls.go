package server

import (
	"github.com/parleyhq/parley/calls"
	"github.com/parleyhq/parley/sfu"
)

// CallsConfig enables calls. The media servers bind their own ports, so the
// caller starts them (cmd/parley) and hands them over; the server wires the
// call service between the gateway, the broker and the SFU.
type CallsConfig struct {
	Service calls.Config // ring timeout, participant cap, TURN URLs and secret
	SFU     CallSFU      // nil: 1:1 calls only (group calls get UNAVAILABLE "call_no_sfu")
}

// CallSFU is the media server group calls use (*sfu.SFU).
type CallSFU interface {
	calls.SFU
	SetSignaller(sfu.Signaller)
}

// newCalls creates the call service when cfg.Calls is set; the lifecycle
// runs its ring sweeper and Shutdown ends its calls.
func (s *Server) newCalls(cfg Config) error {
	if cfg.Calls == nil {
		return nil
	}
	svc := calls.New(cfg.Store, cfg.Broker, cfg.Clock, cfg.Log.With("component", "calls"), cfg.Calls.Service)
	if cfg.Calls.SFU != nil {
		cfg.Calls.SFU.SetSignaller(svc)
		svc.SetSFU(cfg.Calls.SFU)
	}
	s.Calls = svc
	return nil
}
