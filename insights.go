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

// The MessageEvent statuses.
const (
	StatusSent      = "sent"
	StatusDelivered = "delivered"
	StatusRead      = "read"
	StatusFailed    = "failed"
	StatusReplied   = "replied"
	StatusInbound   = "inbound"
)

// InsightsQuery selects the events of one business in [From, To).
type InsightsQuery struct {
	Business UserID
	From, To time.Time
	Template string // only this template when not ""
	Campaign string // only this campaign when not ""
}

// StatusCounts counts distinct messages per status.
type StatusCounts struct {
	Sent      int64 `json:"sent"`
	Delivered int64 `json:"delivered"`
	Read      int64 `json:"read"`
	Failed    int64 `json:"failed"`
	Replied   int64 `json:"replied"`
	Inbound   int64 `json:"inbound"`
}

// Add counts n events of status.
func (c *StatusCounts) Add(status string, n int64) {
	switch status {
	case StatusSent:
		c.Sent += n
	case StatusDelivered:
		c.Delivered += n
	case StatusRead:
		c.Read += n
	case StatusFailed:
		c.Failed += n
	case StatusReplied:
		c.Replied += n
	case StatusInbound:
		c.Inbound += n
	}
}

// InsightsRow is the counts of one group (a UTC day, a template or a campaign).
type InsightsRow struct {
	Key string `json:"key"`
	StatusCounts
}

// ResponseTime is one answered customer message: the first unanswered
// inbound message of a customer and the business's next sent message.
type ResponseTime struct {
	Customer  string
	InboundAt time.Time
	SentAt    time.Time
}

// MessageStatuses is the life of one business message.
type MessageStatuses struct {
	MessageID string               `json:"id"`
	Customer  string               `json:"customer"`
	Template  string               `json:"template,omitempty"`
	Category  string               `json:"category,omitempty"`
	Campaign  string               `json:"campaign,omitempty"`
	At        map[string]time.Time `json:"at"` // status → first time recorded
}

// InsightsStore keeps MessageEvents (guarantees checked by
// store/storetest.RunInsights).
type InsightsStore interface {
	// RecordMessageEvent stores ev once per (Business, MessageID, Status):
	// it returns false for a repeat. Events with no Template, Category or
	// Campaign take those of the message's earlier events. A "sent" event
	// answers the customer's waiting inbound message, if any (a
	// ResponseTime); an "inbound" event starts waiting if none is.
	RecordMessageEvent(ctx context.Context, ev MessageEvent) (bool, error)
	// RecordMessageEvents records several events in one transaction, in
	// slice order, with RecordMessageEvent's rules.
	RecordMessageEvents(ctx context.Context, evs []MessageEvent) error
	// InsightsTotals counts q's events in total, per UTC day ("2006-01-02"),
	// per template and per campaign (rows sorted by key; free-form messages
	// and untagged ones are left out of the template and campaign rows).
	InsightsTotals(ctx context.Context, q InsightsQuery) (total StatusCounts, days, templates, campaigns []InsightsRow, err error)
	// ResponseTimes lists the answers sent in [q.From, q.To), oldest first, at most limit.
	ResponseTimes(ctx context.Context, q InsightsQuery, limit int) ([]ResponseTime, error)
	// MessageStatuses returns one message's statuses (CodeNotFound if none).
	MessageStatuses(ctx context.Context, business UserID, messageID string) (MessageStatuses, error)
	// InsightsStatusTotals counts all events of all businesses per status
	// (for Prometheus).
	InsightsStatusTotals(ctx context.Context) (StatusCounts, error)
}
