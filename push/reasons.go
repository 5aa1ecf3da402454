package push

// Reasons of the errors this package returns, beside their codes; every
// one is listed in docs/protocol.md (the root package's reasons test checks).
const (
	ReasonBadPushAuth          = "bad_push_auth"          // CodeInvalid: the subscription's auth secret must be … bytes
	ReasonBadPushBody          = "bad_push_body"          // CodeInvalid: a push subscription body is not valid JSON
	ReasonBadPushEndpoint      = "bad_push_endpoint"      // CodeInvalid: push endpoint … is not an http(s) URL
	ReasonBadPushKey           = "bad_push_key"           // CodeInvalid: the subscription's p256dh is not a P-256 point
	ReasonBadSubscription      = "bad_subscription"       // CodeInvalid: push subscription:
	ReasonBadVAPID             = "bad_vapid"              // CodeUnauthenticated: the push service refused the server's VAPID credentials
	ReasonMethodNotAllowed     = "method_not_allowed"     // CodeInvalid: … is not allowed on …
	ReasonPushPayloadTooLarge  = "push_payload_too_large" // CodeTooLarge: a push payload has at most … bytes
	ReasonSubscriptionTooLarge = "subscription_too_large" // CodeTooLarge: a subscription request has at most … bytes
	ReasonTooManySubscriptions = "too_many_subscriptions" // CodeTooLarge: a device has at most … push subscriptions
)
