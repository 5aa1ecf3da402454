package parley

import (
	"context"
	"encoding/json"
	"time"
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

// WebhookConfig is where a business's webhook deliveries go.
type WebhookConfig struct {
	Business    UserID
	CallbackURL string // absolute http(s) URL
	VerifyToken string // echoed to the callback in the GET handshake (hub.verify_token)
	AppSecret   string // the HMAC-SHA256 key of X-Hub-Signature-256
	VerifiedAt  time.Time
}

// WebhookDelivery is one queued event in a business's webhook outbox.
type WebhookDelivery struct {
	ID        int64 // assigned by the store, increasing in enqueue order
	Event     WebhookEvent
	Dead      bool      // retries ran out: kept for the dead-letter view and replay
	Attempts  int       // failed attempts so far
	NextAt    time.Time // not delivered before this time
	CreatedAt time.Time
	LastError string
}

// WebhookStore keeps webhook configuration and the durable outbox.
//
// Guarantees (checked by store/storetest.RunWebhooks):
//   - EnqueueWebhook is durable when it returns, and IDs increase in enqueue
//     order.
//   - ClaimWebhooks returns only the head of each (Business, OrderKey)
//     queue: a pending delivery with no earlier pending delivery of the same
//     key. Dead deliveries do not block their key. A claimed delivery is
//     leased: not returned again before now+lease unless retried earlier.
//     Concurrent claimers (processes) never get the same delivery or two
//     deliveries of one key at once.
//   - Replayed dead deliveries are queued again (with new IDs, in their
//     original order) after the pending deliveries of their key.
type WebhookStore interface {
	PutWebhookConfig(ctx context.Context, c WebhookConfig) error
	// WebhookConfig returns CodeNotFound when the business has none.
	WebhookConfig(ctx context.Context, business UserID) (WebhookConfig, error)
	DeleteWebhookConfig(ctx context.Context, business UserID) error
	EnqueueWebhook(ctx context.Context, ev WebhookEvent, at time.Time) (int64, error)
	// EnqueueWebhooks is EnqueueWebhook for several events in one
	// transaction (all or none), in slice order.
	EnqueueWebhooks(ctx context.Context, evs []WebhookEvent, at time.Time) error
	ClaimWebhooks(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]WebhookDelivery, error)
	// DeliveredWebhook removes a delivered event from the outbox.
	DeliveredWebhook(ctx context.Context, id int64) error
	// DeliveredWebhooks is DeliveredWebhook for several in one transaction.
	DeliveredWebhooks(ctx context.Context, ids []int64) error
	// RetryWebhook records a failed attempt: the delivery is pending again
	// from next with the given attempt count and error.
	RetryWebhook(ctx context.Context, id int64, attempts int, next time.Time, lastErr string) error
	// DeadWebhook moves a delivery to the dead letters.
	DeadWebhook(ctx context.Context, id int64, attempts int, lastErr string) error
	// WebhookDeliveries lists a business's pending (dead=false) or dead
	// deliveries, oldest first, at most limit.
	WebhookDeliveries(ctx context.Context, business UserID, dead bool, limit int) ([]WebhookDelivery, error)
	// ReplayWebhooks makes the business's dead deliveries with the given IDs
	// (all of them when ids is empty) pending from now with no attempts,
	// and returns how many it changed.
	ReplayWebhooks(ctx context.Context, business UserID, ids []int64, now time.Time) (int, error)
	// PruneDeadWebhooks deletes dead deliveries created before before and
	// returns how many.
	PruneDeadWebhooks(ctx context.Context, before time.Time) (int, error)
	// WebhookBacklog counts pending and dead deliveries of all businesses.
	WebhookBacklog(ctx context.Context) (pending, dead int64, err error)
}
