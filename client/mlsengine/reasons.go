package mlsengine

// Reasons of the errors this package returns, beside their codes; every
// one is listed in docs/protocol.md (the root package's reasons test
// checks).
const (
	ReasonWelcomeNotForMe = "welcome_not_for_me" // CodeNotFound: the Welcome is for another device
)
