package gateway

// Reasons of the errors this package returns, beside their codes; every
// one is listed in docs/protocol.md (the root package's reasons test checks).
const (
	ReasonAlreadyAuthenticated = "already_authenticated" // PROTOCOL: the session is already authenticated
	ReasonAttachFailed         = "attach_failed"         // close: the server failed to attach an authenticated session (close 4011)
	ReasonAuthRequired         = "auth_required"         // CodeUnauthenticated: authenticate first
	ReasonBadWebSocketFrame    = "bad_websocket_frame"   // PROTOCOL: malformed WebSocket frame
	ReasonCallsDisabled        = "calls_disabled"        // CodeUnavailable: this server does not host calls
	ReasonEmptyFrame           = "empty_frame"           // PROTOCOL: the frame has no body
	ReasonFrameTooLarge        = "frame_too_large"       // CodeTooLarge, close: frame larger than max_frame_bytes
	ReasonGroupsDisabled       = "groups_disabled"       // CodeUnavailable: this server does not host groups
	ReasonHelloRepeated        = "hello_repeated"        // PROTOCOL: hello was already sent
	ReasonHelloRequired        = "hello_required"        // PROTOCOL: the first frame must be hello
	ReasonIdleTimeout          = "idle_timeout"          // close: no frame within the heartbeat timeout (close 4008)
	ReasonRateLimited          = "rate_limited"          // close: too many failed authentications (close 4003)
	ReasonTextFrame            = "text_frame"            // PROTOCOL: frames are binary WebSocket messages
	ReasonUndecodableFrame     = "undecodable_frame"     // PROTOCOL: the frame is not a valid ClientFrame
	ReasonUnknownRequest       = "unknown_request"       // CodeInvalid: unknown request
	ReasonUnsupportedVersion   = "unsupported_version"   // UNSUPPORTED_VERSION, close: this server speaks protocol version 1
)
