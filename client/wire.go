package client

import "github.com/parleyhq/parley/client/conn"

// The session to the server lives in package conn.
const (
	// WebSocketPath is the path of the server's WebSocket endpoint, used
	// when the server URL has no path.
	WebSocketPath = conn.WebSocketPath
	// ProtocolVersion is the wire protocol version this client speaks.
	ProtocolVersion = conn.ProtocolVersion
	// ReasonSessionReplaced is the reason of the error a Client ends with
	// when the server closed its session because the same device connected
	// again (close code 4010): another window or tab of the same browser
	// profile, or a copy of the profile. The Client does not reconnect by
	// itself then, so two copies of one device do not keep replacing each
	// other.
	ReasonSessionReplaced = conn.ReasonSessionReplaced
)
