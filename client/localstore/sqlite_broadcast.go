//go:build !js

package localstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

func (s *sqliteStore) PutBroadcastList(ctx context.Context, l BroadcastList) error {
	rs, err := json.Marshal(l.Recipients)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO broadcast_lists (id, name, recipients, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, recipients = excluded.recipients`,
		l.ID, l.Name, string(rs), l.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("put broadcast list %s: %w", l.ID, err)
	}
	return nil
}

func (s *sqliteStore) BroadcastLists(ctx context.Context) ([]BroadcastList, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, recipients, created_at FROM broadcast_lists`)
	if err != nil {
		return nil, fmt.Errorf("read broadcast lists: %w", err)
	}
	defer rows.Close()
	var out []BroadcastList
	for rows.Next() {
		var (
			l  BroadcastList
			rs string
			at int64
		)
		if err := rows.Scan(&l.ID, &l.Name, &rs, &at); err != nil {
			return nil, fmt.Errorf("read broadcast lists: %w", err)
		}
		if err := json.Unmarshal([]byte(rs), &l.Recipients); err != nil {
			return nil, fmt.Errorf("read broadcast list %s: %w", l.ID, err)
		}
		l.CreatedAt = time.UnixMilli(at)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read broadcast lists: %w", err)
	}
	sortLists(out)
	return out, nil
}

func (s *sqliteStore) DeleteBroadcastList(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM broadcast_lists WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete broadcast list %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("broadcast list " + id)
	}
	return nil
}
