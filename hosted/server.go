package hosted

import "github.com/parleyhq/parley/server"

// ForServer builds the hosted endpoints for a server's business API:
// server.BusinessAPIConfig.Hosted. The server does not import this package
// (it would then depend on the client); the wiring hands ForServer over.
func ForServer(env server.HostedEnv) (server.HostedEndpoints, error) {
	return New(Config{Dir: env.Dir, Key: env.Key, Numbers: env.Store, API: env.API, Media: env.Store,
		Retention: env.Retention, Clock: env.Clock, Log: env.Log, Outbound: env.Outbound,
		Leases: env.Leases, NodeID: env.NodeID, NodeAddr: env.NodeAddr, State: env.State, Relay: env.Relay})
}
