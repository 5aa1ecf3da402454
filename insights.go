package parley

import (
	"context"
	"time"
)

// MessageEvent is one step in the life of a business message, for insights.
type MessageEvent struct {
	Business  UserID
	MessageID string // the Cloud API message id (wamid…)
	Customer  string // wa_id
	Template  string // template name, "" for free-form
	Category  string // MARKETING / UTILITY / AUTHENTICATION / ""
	Campaign  string // optional campaign tag given by the API caller ("biz_opaque_callback_data")
	Status    string // "sent", "delivered", "read", "failed", "replied" (the customer answered), "inbound"
	At        time.Time
}

// InsightsRecorder takes MessageEvents. Record returns once the event is
// counted; recording the same (MessageID, Status) twice counts it once.
type InsightsRecorder interface {
	Record(ctx context.Context, ev MessageEvent) error
}
