package sqlstore

import (
	"context"

	"github.com/parleyhq/parley"
)

// The Store also implements parley.HostedStateStore (schema in
// migrations/02200_hosted_state.sql).
var _ parley.HostedStateStore = (*Store)(nil)

// HostedState returns business's state; see parley.HostedStateStore.
func (s *Store) HostedState(ctx context.Context, business parley.UserID) (map[string][]byte, error) {
	rows, err := s.r.Query(ctx, `SELECT key, value FROM hosted_state WHERE business = ?`, business)
	if err != nil {
		return nil, s.wrap("hosted state", err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var k string
		var v []byte
		if err := rows.Scan(&k, &v); err != nil {
			return nil, s.wrap("hosted state", err)
		}
		if v == nil {
			v = []byte{} // SQLite reads an empty BLOB as NULL
		}
		out[k] = v
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("hosted state", err)
	}
	return out, nil
}

// CommitHostedState applies c in one transaction; see
// parley.HostedStateStore. The fence is an UPDATE of the lease row that
// changes nothing but locks it (PostgreSQL), so a takeover by another node
// waits for this commit or makes it fail.
func (s *Store) CommitHostedState(ctx context.Context, c parley.HostedStateCommit) error {
	return s.bizWrite(ctx, "commit hosted state", func(tx Querier) error {
		if c.Lease != "" {
			n, err := tx.Exec(ctx, `UPDATE leases SET expires_at = expires_at WHERE name = ? AND holder = ? AND expires_at > ?`, c.Lease, c.Holder, ns(c.Now))
			if err != nil {
				return err
			}
			if n != 1 {
				return parley.Errorf(parley.CodeConflict, parley.ReasonLeaseLost, "this node no longer holds the lease %s", c.Lease)
			}
		}
		for _, k := range c.Deletes {
			if _, err := tx.Exec(ctx, `DELETE FROM hosted_state WHERE business = ? AND key = ?`, c.Business, k); err != nil {
				return err
			}
		}
		for k, v := range c.Puts {
			if _, err := tx.Exec(ctx, `INSERT INTO hosted_state (business, key, value) VALUES (?, ?, ?)
				ON CONFLICT (business, key) DO UPDATE SET value = excluded.value`, c.Business, k, nonNil(v)); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteHostedState deletes business's state; see parley.HostedStateStore.
func (s *Store) DeleteHostedState(ctx context.Context, business parley.UserID) error {
	return s.bizWrite(ctx, "delete hosted state", func(tx Querier) error {
		_, err := tx.Exec(ctx, `DELETE FROM hosted_state WHERE business = ?`, business)
		return err
	})
}
