package bot

// Reasons of the errors this package returns, beside their codes; every
// one is listed in docs/protocol.md (the root package's reasons test
// checks).
const (
	ReasonBadButtons = "bad_buttons" // CodeInvalid: a reply offers 1 to 3 buttons
)
