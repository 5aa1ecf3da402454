package admin

// Reasons of the errors this package returns, beside their codes; every
// one is listed in docs/protocol.md (the root package's reasons test checks).
const (
	ReasonAdminDisabled      = "admin_disabled"       // CodeUnauthenticated: the admin API is disabled: start the server with --operator-token
	ReasonAdminTokenRequired = "admin_token_required" // CodeUnauthenticated: the admin API needs the operator token (Authorization: Bearer TOKEN)
	ReasonAdminTokenWrong    = "admin_token_wrong"    // CodeUnauthenticated: wrong operator token
	ReasonAuditFailed        = "audit_failed"         // CodeInternal: the action took effect but could not be written to the audit log
	ReasonBodyTooLarge       = "body_too_large"       // CodeTooLarge: a request body is at most 4 KiB
	ReasonAdminTokenFailures = "admin_token_failures" // CodeRateLimited: too many wrong operator tokens from this address
	ReasonBadUser            = "bad_user"             // CodeInvalid: a user is +PHONE, @username or uID
	ReasonBadQuery           = "bad_query"            // CodeInvalid: a query parameter is not a number in range
	ReasonNotGroup           = "not_group"            // CodeNotFound: no group or community with this id
	ReasonWrongUser          = "wrong_user"           // CodeNotFound: the device is not a device of this user
)
