package server

import (
	"fmt"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/calls"
	"github.com/parleyhq/parley/sfu"
)

// CallsConfig enables calls. The media servers bind their own ports, so the
// caller starts them (cmd/parley) and hands them over; the server wires the
// call service between the gateway, the broker and the SFU.
type CallsConfig struct {
	Service calls.Config // ring timeout, participant cap, TURN URLs and secret
	SFU     CallSFU      // nil: 1:1 calls only (group calls get UNAVAILABLE "call_no_sfu")
	// Relay, with Service.IDPrefix set (a cluster node), routes the
	// requests about calls hosted on other nodes to them (calls.Router).
	Relay parley.Relay
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
	s.gatewayCalls = svc
	if cfg.Calls.Relay != nil && cfg.Calls.Service.IDPrefix != "" {
		r := calls.NewRouter(svc, cfg.Calls.Relay, cfg.Calls.Service.IDPrefix)
		stop, err := r.Serve()
		if err != nil {
			return fmt.Errorf("calls: serving routed requests: %w", err)
		}
		s.gatewayCalls, s.stopCallRouter = r, stop
	}
	return nil
}
