package cloudapi

// Reasons of the errors this package returns, beside their codes; every
// one is listed in docs/protocol.md (the root package's reasons test
// checks).
const (
	ReasonAPIEnabled        = "api_enabled"         // CodeConflict: the business API is already enabled for this account
	ReasonAPINotEnabled     = "api_not_enabled"     // CodeNotFound: the business API is not enabled for this account
	ReasonBadName           = "bad_name"            // CodeInvalid: a token name has at most 100 bytes
	ReasonBadNumber         = "bad_number"          // CodeInvalid: unknown phone number id
	ReasonBadScope          = "bad_scope"           // CodeInvalid: unknown token scope
	ReasonBadStatus         = "bad_status"          // CodeInvalid: a template status is APPROVED, REJECTED or PAUSED
	ReasonBadThroughput     = "bad_throughput"      // CodeInvalid: throughput is 1 to 1000000 messages per second
	ReasonBadTier           = "bad_tier"            // CodeInvalid: a messaging tier is 250, 2000, 10000, 100000 or -1 (unlimited)
	ReasonBroadcastNoOptIn  = "broadcast_no_optin"  // CodeForbidden: a business's broadcast goes only to customers who opted in
	ReasonBroadcastOptedOut = "broadcast_opted_out" // CodeForbidden: the customer opted out of the business's marketing messages
	ReasonBroadcastTier     = "broadcast_tier"      // CodeRateLimited: the number's tier of customers in 24 hours is used up
	ReasonNoAuth            = "no_auth"             // CodeUnavailable: device authentication is not configured
	ReasonNotOperator       = "not_operator"        // CodeForbidden: an operator token is required (serve --operator-token)
	ReasonOptInIncomplete   = "optin_incomplete"    // CodeInvalid: an opt-in records its source and the text the customer was shown
	ReasonOptInTooLong      = "optin_too_long"      // CodeInvalid: an opt-in's source has at most 200 bytes and its text at most 2000
	ReasonReasonTooLong     = "reason_too_long"     // CodeInvalid: a reason has at most 500 bytes
)
