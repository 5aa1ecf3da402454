package business

// Reasons of the errors this package returns, beside their codes; every
// one is listed in docs/protocol.md (the root package's reasons test checks).
const (
	ReasonAutoReplyClaimed = "auto_reply_claimed" // CodeConflict: another device of this business sent it
	ReasonClaimKey         = "claim_key"          // CodeInvalid: a claim key is 1 to 128 bytes
	ReasonCollectionName   = "collection_name"    // CodeInvalid: a collection has a name of at most … bytes
	ReasonDefaultLabel     = "default_label"      // CodeForbidden: label … is predefined
)
