package webhook

// Reasons of the errors this package returns, beside their codes; every
// one is listed in docs/protocol.md (the root package's reasons test checks).
const (
	ReasonBadEnvelope          = "bad_envelope"            // CodeInvalid: a webhook body is not a valid envelope
	ReasonBadLimit             = "bad_limit"               // CodeInvalid: limit must be 1..1000
	ReasonBadWebhookEvent      = "bad_webhook_event"       // CodeInvalid: a webhook event needs a business and a field
	ReasonBadWebhookValue      = "bad_webhook_value"       // CodeInvalid: webhook value must be a JSON object
	ReasonBodyTooLarge         = "body_too_large"          // CodeTooLarge: the body is over 64 KiB
	ReasonEnvelopeTooLarge     = "envelope_too_large"      // CodeTooLarge: webhook body is … bytes, over …
	ReasonMissingSecret        = "missing_secret"          // CodeInvalid: a webhook needs a verify token and an app secret
	ReasonTooManyIDs           = "too_many_ids"            // CodeTooLarge: replay at most … ids at once (or none for all)
	ReasonWebhookValueTooLarge = "webhook_value_too_large" // CodeTooLarge: webhook value is … bytes, over …
)
