package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
)

var _ parley.CounterStore = (*Store)(nil)

// AddEvent counts one event for key; see parley.CounterStore.
func (s *Store) AddEvent(ctx context.Context, key string, window time.Duration, now time.Time) (int, time.Time, error) {
	var count int
	var reset int64
	err := s.tx(ctx, "add event", func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO event_counters (key, count, reset_at) VALUES ($1, 1, $2)
			ON CONFLICT (key) DO UPDATE SET
				count = CASE WHEN event_counters.reset_at <= $3 THEN 1 ELSE event_counters.count + 1 END,
				reset_at = CASE WHEN event_counters.reset_at <= $3 THEN $2 ELSE event_counters.reset_at END
			RETURNING count, reset_at`, key, ns(now.Add(window)), ns(now)).Scan(&count, &reset)
	})
	if err != nil {
		return 0, time.Time{}, err
	}
	return count, fromNS(reset), nil
}

// Events returns key's count in its open window; see parley.CounterStore.
func (s *Store) Events(ctx context.Context, key string, now time.Time) (int, time.Time, error) {
	var count int
	var reset int64
	err := s.pool.QueryRow(ctx, `SELECT count, reset_at FROM event_counters WHERE key = $1 AND reset_at > $2`, key, ns(now)).Scan(&count, &reset)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, wrap("events", err)
	}
	return count, fromNS(reset), nil
}

// PruneEvents deletes counters whose window ended; see parley.CounterStore.
func (s *Store) PruneEvents(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.tx(ctx, "prune events", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM event_counters WHERE reset_at <= $1`, ns(now))
		n = tag.RowsAffected()
		return err
	})
	return int(n), err
}
