package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/parleyhq/parley"
)

// AddContact records contact as owner's contact; adding twice is a no-op.
func (s *Store) AddContact(ctx context.Context, owner, contact parley.UserID) error {
	return s.exec(ctx, "add contact", `INSERT INTO contacts (owner_id, contact_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, owner, contact)
}

// RemoveContact removes contact from owner's contacts, if there.
func (s *Store) RemoveContact(ctx context.Context, owner, contact parley.UserID) error {
	return s.exec(ctx, "remove contact", `DELETE FROM contacts WHERE owner_id = ? AND contact_id = ?`, owner, contact)
}

// Contacts lists owner's contacts by ID.
func (s *Store) Contacts(ctx context.Context, owner parley.UserID) ([]parley.UserID, error) {
	return s.userIDs(ctx, "contacts", `SELECT contact_id FROM contacts WHERE owner_id = ? ORDER BY contact_id`, owner)
}

// IsContact reports whether other is one of owner's contacts.
func (s *Store) IsContact(ctx context.Context, owner, other parley.UserID) (bool, error) {
	return s.exists(ctx, "is contact", `SELECT 1 FROM contacts WHERE owner_id = ? AND contact_id = ?`, owner, other)
}

// Block records that blocker blocks blocked; blocking twice is a no-op.
func (s *Store) Block(ctx context.Context, blocker, blocked parley.UserID) error {
	return s.exec(ctx, "block", `INSERT INTO blocks (blocker_id, blocked_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, blocker, blocked)
}

// Unblock removes a block, if any.
func (s *Store) Unblock(ctx context.Context, blocker, blocked parley.UserID) error {
	return s.exec(ctx, "unblock", `DELETE FROM blocks WHERE blocker_id = ? AND blocked_id = ?`, blocker, blocked)
}

// IsBlocked reports whether blocker blocks blocked.
func (s *Store) IsBlocked(ctx context.Context, blocker, blocked parley.UserID) (bool, error) {
	return s.exists(ctx, "is blocked", `SELECT 1 FROM blocks WHERE blocker_id = ? AND blocked_id = ?`, blocker, blocked)
}

// Blocked lists the users blocker blocks, by ID.
func (s *Store) Blocked(ctx context.Context, blocker parley.UserID) ([]parley.UserID, error) {
	return s.userIDs(ctx, "blocked", `SELECT blocked_id FROM blocks WHERE blocker_id = ? ORDER BY blocked_id`, blocker)
}

func (s *Store) exists(ctx context.Context, op, query string, args ...any) (bool, error) {
	var one int
	err := s.r.QueryRow(ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, s.wrap(op, err)
	}
	return true, nil
}

func (s *Store) userIDs(ctx context.Context, op, query string, args ...any) ([]parley.UserID, error) {
	return selectAll(ctx, s, op, scanOne[parley.UserID], query, args...)
}
