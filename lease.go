package parley

import (
	"context"
	"time"
)

// Lease is a named, time-limited ownership of a task by one node of a
// cluster (e.g. running the hosted endpoint of a business).
type Lease struct {
	Name    string
	Holder  string    // the holding node's id
	Addr    string    // the holder's address, as it gave it (may be empty)
	Expires time.Time // the lease is free from this instant on
}

// LeaseStore keeps leases, shared by every node using the store.
type LeaseStore interface {
	// AcquireLease gives the lease name to holder until now+ttl if it is
	// free, expired (Expires <= now) or already holder's (a renewal), in
	// one atomic statement: of contenders at once, exactly one gets it. It
	// returns the lease as it stands afterwards: it is held by holder iff
	// the returned Holder is holder.
	AcquireLease(ctx context.Context, name, holder, addr string, ttl time.Duration, now time.Time) (Lease, error)
	// ReleaseLease frees the lease name if holder holds it (otherwise it
	// does nothing).
	ReleaseLease(ctx context.Context, name, holder string) error
}
