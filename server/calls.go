package server

import (
	"context"
	"sync"

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

// startCalls creates the call service when cfg.Calls is set.
func (s *Server) startCalls(cfg Config) {
	s.callsStop = func() {}
	if cfg.Calls == nil {
		return
	}
	svc := calls.New(cfg.Store, cfg.Broker, cfg.Clock, cfg.Log.With("component", "calls"), cfg.Calls.Service)
	if cfg.Calls.SFU != nil {
		cfg.Calls.SFU.SetSignaller(svc)
		svc.SetSFU(cfg.Calls.SFU)
	}
	s.Gateway.SetCalls(svc)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); svc.Run(ctx) }()
	s.Calls = svc
	s.callsStop = sync.OnceFunc(func() { cancel(); <-done })
}

// stopCalls ends every call and stops the sweeper; after the gateway, so
// no new call starts meanwhile.
func (s *Server) stopCalls(ctx context.Context) {
	if s.Calls != nil {
		_ = s.Calls.Shutdown(ctx)
	}
	s.callsStop()
}
