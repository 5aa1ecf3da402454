package moderation

// Reasons of the errors this package returns, beside their codes; every
// one is listed in docs/protocol.md (the root package's reasons test checks).
const (
	ReasonBlockGroup   = "block_group"   // CodeInvalid: a group chat has no one person to block
	ReasonIncludeRange = "include_range" // CodeInvalid: a report includes 0 to 10 messages
)
