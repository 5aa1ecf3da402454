package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
)

// AddContact records contact as owner's contact; adding twice is a no-op.
func (s *Store) AddContact(ctx context.Context, owner, contact parley.UserID) error {
	return s.exec(ctx, "add contact", `INSERT INTO contacts (owner_id, contact_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, owner, contact)
}

// RemoveContact removes contact from owner's contacts, if there.
func (s *Store) RemoveContact(ctx context.Context, owner, contact parley.UserID) error {
	return s.exec(ctx, "remove contact", `DELETE FROM contacts WHERE owner_id = $1 AND contact_id = $2`, owner, contact)
}

// Contacts lists owner's contacts by ID.
func (s *Store) Contacts(ctx context.Context, owner parley.UserID) ([]parley.UserID, error) {
	return s.userIDs(ctx, "contacts", `SELECT contact_id FROM contacts WHERE owner_id = $1 ORDER BY contact_id`, owner)
}

// IsContact reports whether other is one of owner's contacts.
func (s *Store) IsContact(ctx context.Context, owner, other parley.UserID) (bool, error) {
	return s.exists(ctx, "is contact", `SELECT 1 FROM contacts WHERE owner_id = $1 AND contact_id = $2`, owner, other)
}

// Block records that blocker blocks blocked; blocking twice is a no-op.
func (s *Store) Block(ctx context.Context, blocker, blocked parley.UserID) error {
	return s.exec(ctx, "block", `INSERT INTO blocks (blocker_id, blocked_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, blocker, blocked)
}

// Unblock removes a block, if any.
func (s *Store) Unblock(ctx context.Context, blocker, blocked parley.UserID) error {
	return s.exec(ctx, "unblock", `DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2`, blocker, blocked)
}

// IsBlocked reports whether blocker blocks blocked.
func (s *Store) IsBlocked(ctx context.Context, blocker, blocked parley.UserID) (bool, error) {
	return s.exists(ctx, "is blocked", `SELECT 1 FROM blocks WHERE blocker_id = $1 AND blocked_id = $2`, blocker, blocked)
}

// Blocked lists the users blocker blocks, by ID.
func (s *Store) Blocked(ctx context.Context, blocker parley.UserID) ([]parley.UserID, error) {
	return s.userIDs(ctx, "blocked", `SELECT blocked_id FROM blocks WHERE blocker_id = $1 ORDER BY blocked_id`, blocker)
}

// exec runs one statement as its own transaction (autocommit).
func (s *Store) exec(ctx context.Context, op, query string, args ...any) error {
	if _, err := s.pool.Exec(ctx, query, args...); err != nil {
		return wrap(op, err)
	}
	return nil
}

func (s *Store) exists(ctx context.Context, op, query string, args ...any) (bool, error) {
	var one int
	err := s.pool.QueryRow(ctx, query, args...).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, wrap(op, err)
	}
	return true, nil
}

func (s *Store) userIDs(ctx context.Context, op, query string, args ...any) ([]parley.UserID, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[parley.UserID])
	if err != nil {
		return nil, wrap(op, err)
	}
	return ids, nil
}
