package groups

// Reasons of the errors this package returns, beside their codes; every
// one is listed in docs/protocol.md (the root package's reasons test
// checks).
const (
	ReasonInviteLink = "invite_link" // CodeInvalid: not an invite link
)
