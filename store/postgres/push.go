package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
)

// The Store also implements parley.PushStore (schema in
// migrations/00300_push.sql).
var _ parley.PushStore = (*Store)(nil)

// EnsureVAPIDKey returns the stored key pair, storing k first if none.
func (s *Store) EnsureVAPIDKey(ctx context.Context, k parley.VAPIDKey) (parley.VAPIDKey, error) {
	var out parley.VAPIDKey
	err := s.tx(ctx, "vapid key", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO push_vapid (id, private, public, created_at) VALUES (1, $1, $2, $3) ON CONFLICT DO NOTHING`,
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
	return s.tx(ctx, "put push subscription", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO push_subscriptions (endpoint, device_id, user_id, p256dh, auth, created_at) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (endpoint) DO UPDATE SET device_id = excluded.device_id, user_id = excluded.user_id,
				p256dh = excluded.p256dh, auth = excluded.auth, created_at = excluded.created_at`,
			sub.Endpoint, int64(sub.Device), int64(sub.User), sub.P256DH, sub.Auth, ns(sub.CreatedAt))
		return err
	})
}

// DeletePushSubscription deletes the endpoint's subscription (of device,
// unless device is 0).
func (s *Store) DeletePushSubscription(ctx context.Context, device parley.DeviceID, endpoint string) error {
	return s.tx(ctx, "delete push subscription", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM push_subscriptions WHERE endpoint = $1 AND ($2 = 0 OR device_id = $2)`, endpoint, int64(device))
		return err
	})
}

// PushSubscriptions lists the subscriptions of devices.
func (s *Store) PushSubscriptions(ctx context.Context, devices []parley.DeviceID) ([]parley.PushSubscription, error) {
	if len(devices) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(devices))
	for i, d := range devices {
		ids[i] = int64(d)
	}
	rows, err := s.pool.Query(ctx, `SELECT endpoint, device_id, user_id, p256dh, auth, created_at FROM push_subscriptions
		WHERE device_id = ANY($1) ORDER BY device_id, endpoint`, ids)
	if err != nil {
		return nil, wrap("push subscriptions", err)
	}
	defer rows.Close()
	var out []parley.PushSubscription
	for rows.Next() {
		var p parley.PushSubscription
		var dev, user, created int64
		if err := rows.Scan(&p.Endpoint, &dev, &user, &p.P256DH, &p.Auth, &created); err != nil {
			return nil, wrap("push subscriptions", err)
		}
		p.Device, p.User, p.CreatedAt = parley.DeviceID(dev), parley.UserID(user), fromNS(created)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("push subscriptions", err)
	}
	return out, nil
}
