package parley

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Limit is a rate: a token bucket that holds at most Events tokens and
// refills Events tokens per Window, so a key may spend Events at once and
// then Events per Window. The zero Limit (or a negative one) allows
// everything.
type Limit struct {
	Events int
	Window time.Duration
}

// Unlimited reports whether l allows everything.
func (l Limit) Unlimited() bool { return l.Events <= 0 || l.Window <= 0 }

func (l Limit) String() string {
	if l.Unlimited() {
		return "unlimited"
	}
	return fmt.Sprintf("%d per %s", l.Events, l.Window)
}

// Limiter counts events per key against a Limit. Keys are opaque strings
// that name what is limited and by whom ("auth.addr:203.0.113.9",
// "lookup.user:42"); one Limiter serves every limit of a service, and the
// same key must always be used with the same Limit.
//
// Package ratelimit has the in-process implementation, which is what a
// single server needs. The interface is small on purpose so that a cluster
// can keep the counters in its shared store (PostgreSQL) and every node sees
// the same budgets; the callers do not change.
//
// Guarantees: Allow is atomic per key (two concurrent calls never both take
// the last token); a key whose Limit is Unlimited always passes. A Limiter
// may forget a key whose bucket has refilled completely (that changes
// nothing). An error means the counter could not be consulted; callers fail
// closed (they refuse with CodeUnavailable) rather than allow.
type Limiter interface {
	// Allow takes one token for key. When none is left it takes nothing
	// and returns false and how long until a token is back.
	Allow(ctx context.Context, key string, l Limit) (ok bool, retryAfter time.Duration, err error)
	// Check reports whether key has a token left, without taking it. Limits
	// that count failures only call Check before the attempt and Allow
	// after a failure.
	Check(ctx context.Context, key string, l Limit) (ok bool, retryAfter time.Duration, err error)
}

// CounterStore keeps durable event counts in fixed windows, for the limits
// that a restart must not reset (the two-step PIN's guess budget). Both
// store implementations provide it and pass the storetest contract.
type CounterStore interface {
	// AddEvent counts one event for key at now and returns the count in
	// key's current window, this event included, and when the window ends.
	// A window starts at the first event after the previous window ended
	// and lasts window. Concurrent calls never lose an event.
	AddEvent(ctx context.Context, key string, window time.Duration, now time.Time) (count int, resetAt time.Time, err error)
	// Events returns key's count in its window open at now and when that
	// window ends; 0 and the zero time when no window is open.
	Events(ctx context.Context, key string, now time.Time) (count int, resetAt time.Time, err error)
	// PruneEvents deletes the counters whose window ended before now and
	// returns how many it deleted.
	PruneEvents(ctx context.Context, now time.Time) (int, error)
}

// RetryAfterError is the cause carried by a CodeRateLimited error that knows
// when to retry; RetryAfter finds it.
type RetryAfterError struct{ After time.Duration }

func (r *RetryAfterError) Error() string { return "retry after " + r.After.String() }

// RateLimited returns a CodeRateLimited error with the given reason whose
// message tells when to retry; RetryAfter(err) returns after, rounded up to
// at least a second.
func RateLimited(reason string, after time.Duration, msg string) *Error {
	if after < time.Second {
		after = time.Second
	}
	after = after.Round(time.Second)
	return &Error{
		Code:    CodeRateLimited,
		Reason:  reason,
		Message: fmt.Sprintf("%s; try again in %s", msg, after),
		Err:     &RetryAfterError{After: after},
	}
}

// RetryAfter returns how long the caller should wait before retrying when
// err carries a RetryAfterError (errors from RateLimited do), and 0
// otherwise.
func RetryAfter(err error) time.Duration {
	var r *RetryAfterError
	if errors.As(err, &r) {
		return r.After
	}
	return 0
}
