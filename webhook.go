package parley

import (
	"context"
	"encoding/json"
)

// WebhookEvent is one change a business's webhook receives.
type WebhookEvent struct {
	Business      UserID
	PhoneNumberID string          // the Cloud API phone-number id of the business number
	OrderKey      string          // events with the same key are delivered in enqueue order (the customer's wa_id)
	Field         string          // "messages", "message_template_status_update", "phone_number_quality_update", …
	Value         json.RawMessage // the Cloud API `value` object for that field
}

// WebhookSink takes events for delivery. Enqueue returns once the event is durable:
// it is then delivered at least once, in order per (Business, OrderKey).
type WebhookSink interface {
	Enqueue(ctx context.Context, ev WebhookEvent) error
}
