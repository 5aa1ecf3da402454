package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/parleyhq/parley"
)

// The Store also implements parley.PushStore (schema in
// migrations/00300_push.sql).
var _ parley.PushStore = (*Store)(nil)

// EnsureVAPIDKey returns the stored key pair, storing k first if none.
func (s *Store) EnsureVAPIDKey(ctx context.Context, k parley.VAPIDKey) (parley.VAPIDKey, error) {
	var out parley.VAPIDKey
	err := s.write(ctx, "vapid key", func(tx Querier) error {
		if _, err := tx.Exec(ctx, `INSERT INTO push_vapid (id, private, public, created_at) VALUES (1, ?, ?, ?) ON CONFLICT DO NOTHING`,
			k.Private, k.Public, ns(k.CreatedAt)); err != nil {
			return err
		}
		var created int64
		if err := tx.QueryRow(ctx, `SELECT private, public, created_at FROM push_vapid WHERE id = 1`).Scan(&out.Private, &out.Public, &created); err != nil {
			return err
		}
		out.CreatedAt = fromNS(created)
		return nil
	})
	return out, err
}

// PutPushSubscription stores sub, replacing one with the same endpoint.
func (s *Store) PutPushSubscription(ctx context.Context, sub parley.PushSubscription) error {
	return s.write(ctx, "put push subscription", func(tx Querier) error {
		_, err := tx.Exec(ctx, `INSERT INTO push_subscriptions (endpoint, device_id, user_id, p256dh, auth, created_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (endpoint) DO UPDATE SET device_id = excluded.device_id, user_id = excluded.user_id,
				p256dh = excluded.p256dh, auth = excluded.auth, created_at = excluded.created_at`,
			sub.Endpoint, sub.Device, sub.User, sub.P256DH, sub.Auth, ns(sub.CreatedAt))
		return err
	})
}

// DeletePushSubscription deletes the endpoint's subscription (of device,
// unless device is 0).
func (s *Store) DeletePushSubscription(ctx context.Context, device parley.DeviceID, endpoint string) error {
	return s.write(ctx, "delete push subscription", func(tx Querier) error {
		_, err := tx.Exec(ctx, `DELETE FROM push_subscriptions WHERE endpoint = ?1 AND (device_id = ?2 OR ?2 = 0)`, endpoint, device)
		return err
	})
}

// PushSubscriptions lists the subscriptions of devices.
func (s *Store) PushSubscriptions(ctx context.Context, devices []parley.DeviceID) ([]parley.PushSubscription, error) {
	if len(devices) == 0 {
		return nil, nil
	}
	args := make([]any, len(devices))
	for i, d := range devices {
		args[i] = d
	}
	rows, err := s.r.Query(ctx, `SELECT endpoint, device_id, user_id, p256dh, auth, created_at FROM push_subscriptions
		WHERE device_id IN (?`+strings.Repeat(", ?", len(devices)-1)+`) ORDER BY device_id, endpoint`, args...)
	if err != nil {
		return nil, s.wrap("push subscriptions", err)
	}
	defer rows.Close()
	var out []parley.PushSubscription
	for rows.Next() {
		var p parley.PushSubscription
		var created int64
		if err := rows.Scan(&p.Endpoint, &p.Device, &p.User, &p.P256DH, &p.Auth, &created); err != nil {
			return nil, s.wrap("push subscriptions", err)
		}
		p.CreatedAt = fromNS(created)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, s.wrap("push subscriptions", err)
	}
	return out, nil
}
