package files

// Reasons of the errors this package returns, beside their codes; every
// one is listed in docs/protocol.md (the root package's reasons test
// checks).
const (
	ReasonBadMediaKind   = "bad_media_kind"  // CodeInvalid: a file cannot be sent as that kind
	ReasonBadSize        = "bad_size"        // CodeInvalid: a file size is negative
	ReasonNoFile         = "no_file"         // CodeInvalid: the file cannot be opened, or the message has no file
	ReasonNotForwardable = "not_forwardable" // CodeInvalid: the message cannot be forwarded
)
