package parley

import (
	"context"
	"time"
)

// HostedStateStore keeps the state of the hosted business endpoints (package
// hosted): per business, keyed values the endpoint seals under the
// operator's key before they reach the store, so the store holds only
// ciphertext and names. Keeping it in the store, not in a node's files,
// lets another node of a cluster continue an endpoint when the node that
// ran it dies.
type HostedStateStore interface {
	// HostedState returns every key and value of business's state (an
	// empty map when it has none).
	HostedState(ctx context.Context, business UserID) (map[string][]byte, error)
	// CommitHostedState applies c's puts and deletes atomically. With
	// c.Lease set it takes effect only while c.Holder holds that lease
	// unexpired at c.Now (LeaseStore), checked in the same transaction:
	// otherwise nothing changes and it fails with CodeConflict,
	// ReasonLeaseLost, so a node that lost an endpoint's lease can no
	// longer write its state.
	CommitHostedState(ctx context.Context, c HostedStateCommit) error
	// DeleteHostedState deletes all of business's state.
	DeleteHostedState(ctx context.Context, business UserID) error
}

// HostedStateCommit is one atomic change of a hosted endpoint's state.
type HostedStateCommit struct {
	Business UserID
	Puts     map[string][]byte
	Deletes  []string
	// Lease and Holder fence the commit (see CommitHostedState); "" for
	// none (one node).
	Lease, Holder string
	Now           time.Time
}

// ReasonLeaseLost refuses a hosted endpoint's state commit (CodeConflict)
// from a node that no longer holds the endpoint's lease.
const ReasonLeaseLost = "lease_lost"
