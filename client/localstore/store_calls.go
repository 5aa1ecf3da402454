package localstore

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/parleyhq/parley"
)

// CallLog is the device's call log (client/calls), part of Store.
type CallLog interface {
	// PutCall creates or replaces the record with r.ID.
	PutCall(ctx context.Context, r CallRecord) error
	// Call returns the record of call id (CodeNotFound if none).
	Call(ctx context.Context, id parley.CallID) (CallRecord, error)
	// Calls returns the newest limit records (all when limit <= 0), the
	// most recently started first (ties by id).
	Calls(ctx context.Context, limit int) ([]CallRecord, error)
}

// CallStatus is how a call in the log went, as this device saw it.
type CallStatus string

// The call statuses.
const (
	CallRinging           CallStatus = "ringing"            // still ringing (or the device stopped before it learned more)
	CallAnswered          CallStatus = "answered"           // answered here (incoming) or by the callee (outgoing): it has a duration
	CallMissed            CallStatus = "missed"             // incoming, never answered: timed out or cancelled by the caller
	CallDeclined          CallStatus = "declined"           // declined (by this user when incoming, by the callee when outgoing)
	CallBusy              CallStatus = "busy"               // the callee was in another call
	CallCancelled         CallStatus = "cancelled"          // outgoing, hung up before an answer
	CallNoAnswer          CallStatus = "no_answer"          // outgoing, nobody answered in time
	CallAnsweredElsewhere CallStatus = "answered_elsewhere" // incoming, answered on another of this user's devices
)

// CallRecord is one call in the log.
type CallRecord struct {
	ID           parley.CallID
	Conversation parley.ConversationID
	Outgoing     bool
	Video        bool
	// Peer is the other party: the caller of an incoming call, the callee
	// of an outgoing 1:1 call (0 for an outgoing group call).
	Peer       parley.UserID
	Status     CallStatus
	StartedAt  time.Time // when the call started (rang)
	AnsweredAt time.Time // zero if never answered
	EndedAt    time.Time // zero while going on
}

// Duration is how long the call lasted once answered (0 if it never was,
// or has not ended).
func (r CallRecord) Duration() time.Duration {
	if r.AnsweredAt.IsZero() || r.EndedAt.IsZero() || r.EndedAt.Before(r.AnsweredAt) {
		return 0
	}
	return r.EndedAt.Sub(r.AnsweredAt)
}

// msTime is t as stored (Unix ms, 0 for the zero time).
func msTime(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// timeMS is msTime's inverse.
func timeMS(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// sortCalls orders call records newest first, then by id.
func sortCalls(rs []CallRecord) {
	slices.SortFunc(rs, func(a, b CallRecord) int {
		if c := b.StartedAt.Compare(a.StartedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// normalCall is r with its times at the stored precision.
func normalCall(r CallRecord) CallRecord {
	r.StartedAt, r.AnsweredAt, r.EndedAt = timeMS(msTime(r.StartedAt)), timeMS(msTime(r.AnsweredAt)), timeMS(msTime(r.EndedAt))
	return r
}
