//go:build !js

package localstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parleyhq/parley"
)

func (s *sqliteStore) PutStatusKey(ctx context.Context, k StatusKey) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO status_keys (poster, key_id, key, received_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (poster, key_id) DO UPDATE SET key = excluded.key, received_at = excluded.received_at`,
		int64(k.Poster), k.ID, k.Key, unixMs(k.At))
	if err != nil {
		return fmt.Errorf("put status key: %w", err)
	}
	return nil
}

func (s *sqliteStore) StatusKey(ctx context.Context, poster parley.UserID, id string) (StatusKey, error) {
	k := StatusKey{Poster: poster, ID: id}
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT key, received_at FROM status_keys WHERE poster = ? AND key_id = ?`, int64(poster), id).Scan(&k.Key, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return k, notFound("status key")
	}
	if err != nil {
		return k, fmt.Errorf("status key: %w", err)
	}
	k.At = time.UnixMilli(at)
	return k, nil
}

func (s *sqliteStore) PutStatusState(ctx context.Context, name string, value []byte) error {
	var err error
	if value == nil {
		_, err = s.db.ExecContext(ctx, `DELETE FROM status_state WHERE name = ?`, name)
	} else {
		_, err = s.db.ExecContext(ctx, `INSERT INTO status_state (name, value) VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	}
	if err != nil {
		return fmt.Errorf("put status state %s: %w", name, err)
	}
	return nil
}

func (s *sqliteStore) StatusState(ctx context.Context, name string) ([]byte, error) {
	var v []byte
	err := s.db.QueryRowContext(ctx, `SELECT value FROM status_state WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("status state %s: %w", name, err)
	}
	return v, nil
}

func (s *sqliteStore) SetStatusMuted(ctx context.Context, user parley.UserID, muted bool) error {
	q := `DELETE FROM status_mutes WHERE user_id = ?`
	if muted {
		q = `INSERT INTO status_mutes (user_id) VALUES (?) ON CONFLICT DO NOTHING`
	}
	if _, err := s.db.ExecContext(ctx, q, int64(user)); err != nil {
		return fmt.Errorf("mute status: %w", err)
	}
	return nil
}

func (s *sqliteStore) StatusMuted(ctx context.Context) ([]parley.UserID, error) {
	var out []parley.UserID
	err := s.statusRows(ctx, `SELECT user_id FROM status_mutes ORDER BY user_id`, nil, func(r *sql.Rows) error {
		var u int64
		err := r.Scan(&u)
		out = append(out, parley.UserID(u))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("muted statuses: %w", err)
	}
	return out, nil
}

func (s *sqliteStore) MarkStatusSeen(ctx context.Context, id string, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO status_seen (post_id, seen_at) VALUES (?, ?) ON CONFLICT DO NOTHING`, id, unixMs(at)); err != nil {
		return fmt.Errorf("mark status seen: %w", err)
	}
	return nil
}

func (s *sqliteStore) StatusSeen(ctx context.Context) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	err := s.statusRows(ctx, `SELECT post_id, seen_at FROM status_seen`, nil, func(r *sql.Rows) error {
		var (
			id string
			at int64
		)
		err := r.Scan(&id, &at)
		out[id] = time.UnixMilli(at)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("seen statuses: %w", err)
	}
	return out, nil
}

func (s *sqliteStore) ForgetStatusSeen(ctx context.Context, before time.Time) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM status_seen WHERE seen_at < ?`, unixMs(before)); err != nil {
		return fmt.Errorf("forget seen statuses: %w", err)
	}
	return nil
}

// statusRows runs query outside a transaction and calls f for each row.
func (s *sqliteStore) statusRows(ctx context.Context, query string, args []any, f func(*sql.Rows) error) error {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := f(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
