package conn

// Reasons of the errors this package returns, beside their codes; every
// one is listed in docs/protocol.md (the root package's reasons test
// checks).
const (
	ReasonConnectFailed  = "connect_failed"  // CodeUnavailable: cannot reach the server
	ReasonConnectionLost = "connection_lost" // CodeUnavailable: connection to the server lost
	ReasonGoAway         = "go_away"         // CodeUnavailable: the server closed the session
	ReasonProtocol       = "protocol"        // CodeInternal: the server answered with an unexpected message
	ReasonTimeout        = "timeout"         // CodeUnavailable: the server did not answer in time
)
