package bridge

// Reasons of the errors this package returns, beside their codes; every
// one is listed in docs/protocol.md (the root package's reasons test
// checks).
const (
	ReasonBadArgument   = "bad_argument"   // CodeInvalid: an argument from JavaScript is not of the type the method takes
	ReasonBadVisibility = "bad_visibility" // CodeInvalid: privacy values are everyone, contacts or nobody
	ReasonNoSuchMethod  = "no_such_method" // CodeInvalid: the UI called a method the core does not have
)
