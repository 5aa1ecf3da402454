package biz

// Reasons of the errors this package returns, beside their codes; every
// one is listed in docs/protocol.md (the root package's reasons test
// checks).
const (
	// ReasonAutoReplyClaimed is the server's (business.ReasonAutoReplyClaimed,
	// CodeConflict): another device of this business sent the auto-reply.
	ReasonAutoReplyClaimed = "auto_reply_claimed"

	ReasonMixedCurrencies = "mixed_currencies" // CodeInvalid: an order is in one currency
	ReasonNoChoice        = "no_choice"        // CodeNotFound: the message has no such button or list row
	ReasonNotInteractive  = "not_interactive"  // CodeInvalid: the message has no buttons or list
	ReasonNotMedia        = "not_media"        // CodeInvalid: the message is not of the media kind asked for
	ReasonUnavailable     = "unavailable"      // CodeInvalid: a product is not available
)
