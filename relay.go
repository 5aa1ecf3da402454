package parley

import "context"

// Relay carries requests between the nodes of a cluster (the NATS broker
// implements it with request/reply): a request names a service and the
// node that should answer it, and only that node's handler for the
// service answers.
type Relay interface {
	// Request sends data to node's handler of service and returns its
	// answer. It fails when no such handler answers before ctx ends (the
	// node is gone, or does not serve the service).
	Request(ctx context.Context, service, node string, data []byte) ([]byte, error)
	// RequestAll sends data to every node's handler of service (this
	// node's included) and returns the answers that arrived before every
	// node it knows of answered or a short wait (at most ctx) passed: for
	// questions any node may hold the answer to.
	RequestAll(ctx context.Context, service string, data []byte) ([][]byte, error)
	// ServeRequests answers this node's requests of service with handler
	// (each in a goroutine of its own), and the RequestAll of service,
	// until stop is called.
	ServeRequests(service, node string, handler func(ctx context.Context, data []byte) []byte) (stop func(), err error)
}
