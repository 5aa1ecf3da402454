package sqlstore

import (
	"context"
	"time"

	"github.com/parleyhq/parley"
)

var _ parley.LeaseStore = (*Store)(nil)

// AcquireLease takes, renews or reads the lease name; see parley.LeaseStore.
// The upsert changes the row only when it is holder's or expired, so of
// concurrent contenders exactly one wins (the row lock serializes them).
func (s *Store) AcquireLease(ctx context.Context, name, holder, addr string, ttl time.Duration, now time.Time) (parley.Lease, error) {
	l := parley.Lease{Name: name}
	var exp int64
	err := s.bizWrite(ctx, "acquire lease", func(tx Querier) error {
		if _, err := tx.Exec(ctx, `INSERT INTO leases (name, holder, addr, expires_at) VALUES (?1, ?2, ?3, ?4)
			ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, addr = excluded.addr, expires_at = excluded.expires_at
			WHERE leases.holder = excluded.holder OR leases.expires_at <= ?5`, name, holder, addr, ns(now.Add(ttl)), ns(now)); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT holder, addr, expires_at FROM leases WHERE name = ?`, name).Scan(&l.Holder, &l.Addr, &exp)
	})
	if err != nil {
		return parley.Lease{}, err
	}
	l.Expires = fromNS(exp)
	return l, nil
}

// ReleaseLease frees the lease name if holder holds it; see parley.LeaseStore.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	return s.bizWrite(ctx, "release lease", func(tx Querier) error {
		_, err := tx.Exec(ctx, `DELETE FROM leases WHERE name = ? AND holder = ?`, name, holder)
		return err
	})
}
