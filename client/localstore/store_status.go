package localstore

import (
	"context"
	"time"

	"github.com/parleyhq/parley"
)

// Status (client/status) on this device: the status keys it holds, its
// status state, muted posters and the posts seen here. None of it is sent
// to the server; keys arrive over the 1:1 chats.

// StatusKey is a status key this device holds: one of its own user's, or
// one a contact sent over their 1:1 chat (Poster is who it belongs to).
type StatusKey struct {
	Poster parley.UserID
	ID     string
	Key    []byte
	At     time.Time // when it was made or received
}

// StatusStore is the status part of Store.
type StatusStore interface {
	// PutStatusKey stores k, replacing a key with the same Poster and ID.
	PutStatusKey(ctx context.Context, k StatusKey) error
	// StatusKey returns poster's key id; CodeNotFound if this device has
	// not received it.
	StatusKey(ctx context.Context, poster parley.UserID, id string) (StatusKey, error)
	// PutStatusState sets the state value name (nil deletes it).
	PutStatusState(ctx context.Context, name string, value []byte) error
	// StatusState returns the state value name, nil if unset.
	StatusState(ctx context.Context, name string) ([]byte, error)
	// SetStatusMuted mutes or unmutes user's status on this device.
	SetStatusMuted(ctx context.Context, user parley.UserID, muted bool) error
	// StatusMuted returns the muted users, by id.
	StatusMuted(ctx context.Context) ([]parley.UserID, error)
	// MarkStatusSeen records that post id was seen here at at (the first
	// time is kept).
	MarkStatusSeen(ctx context.Context, id string, at time.Time) error
	// StatusSeen returns when each post seen here was first seen.
	StatusSeen(ctx context.Context) (map[string]time.Time, error)
	// ForgetStatusSeen forgets posts first seen before before (they have
	// expired).
	ForgetStatusSeen(ctx context.Context, before time.Time) error
}
