package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/parleyhq/parley"
)

var _ parley.CounterStore = (*Store)(nil)

// AddEvent counts one event for key; see parley.CounterStore.
func (s *Store) AddEvent(ctx context.Context, key string, window time.Duration, now time.Time) (int, time.Time, error) {
	var count int
	var reset int64
	err := s.bizWrite(ctx, "add event", func(tx Querier) error {
		return tx.QueryRow(ctx, `INSERT INTO event_counters (key, count, reset_at) VALUES (?1, 1, ?2)
			ON CONFLICT (key) DO UPDATE SET
				count = CASE WHEN event_counters.reset_at <= ?3 THEN 1 ELSE event_counters.count + 1 END,
				reset_at = CASE WHEN event_counters.reset_at <= ?3 THEN ?2 ELSE event_counters.reset_at END
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
	err := s.r.QueryRow(ctx, `SELECT count, reset_at FROM event_counters WHERE key = ? AND reset_at > ?`, key, ns(now)).Scan(&count, &reset)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, s.wrap("events", err)
	}
	return count, fromNS(reset), nil
}

// PruneEvents deletes counters whose window ended; see parley.CounterStore.
func (s *Store) PruneEvents(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.bizWrite(ctx, "prune events", func(tx Querier) error {
		var err error
		n, err = tx.Exec(ctx, `DELETE FROM event_counters WHERE reset_at <= ?`, ns(now))
		return err
	})
	return int(n), err
}
