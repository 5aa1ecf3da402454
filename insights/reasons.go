package insights

// Reasons of the errors this package returns, beside their codes; every
// one is listed in docs/protocol.md (the root package's reasons test checks).
const (
	ReasonBadMessageEvent = "bad_message_event" // CodeInvalid: a message event needs a business and a message id
	ReasonBadTime         = "bad_time"          // CodeInvalid: …: want RFC 3339 or YYYY-MM-DD, got …
	ReasonNoSuchChart     = "no_such_chart"     // CodeNotFound: charts: days.svg, templates.svg, campaigns.svg, responses.svg
)
