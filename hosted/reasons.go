package hosted

// Reasons of the errors this package returns, beside their codes; every
// one is listed in docs/protocol.md (the root package's reasons test checks).
const (
	ReasonEndpointElsewhere = "endpoint_elsewhere" // CodeUnavailable: the hosted endpoint of this number runs on another node
	ReasonHostedExists      = "hosted_exists"      // CodeConflict: this business already has a hosted endpoint
	ReasonHostedNotStarted  = "hosted_not_started" // CodeUnavailable: the hosted endpoints are not started
	ReasonHostedRemoved     = "hosted_removed"     // CodeUnavailable: the hosted endpoint's device was removed: enable the business API again
	ReasonNoEndpoint        = "no_endpoint"        // CodeUnavailable: the hosted endpoint of this number is not running
	ReasonNoLinkCode        = "no_link_code"       // CodeInvalid: a link code is required (parley device link)
	ReasonOtherAccount      = "other_account"      // CodeForbidden: the link code is of another account
	ReasonOtherChat         = "other_chat"         // CodeInvalid: context.message_id is a message of another chat
)
