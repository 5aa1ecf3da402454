package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
)

// The Store also implements parley.WebhookStore (schema in
// migrations/00600_webhooks.sql).
var _ parley.WebhookStore = (*Store)(nil)

// PutWebhookConfig creates or replaces the business's webhook configuration.
func (s *Store) PutWebhookConfig(ctx context.Context, c parley.WebhookConfig) error {
	return s.tx(ctx, "put webhook config", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO webhook_configs (business_id, callback_url, verify_token, app_secret, verified_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (business_id) DO UPDATE SET callback_url = excluded.callback_url,
			verify_token = excluded.verify_token, app_secret = excluded.app_secret, verified_at = excluded.verified_at`,
			c.Business, c.CallbackURL, c.VerifyToken, c.AppSecret, ns(c.VerifiedAt))
		return err
	})
}

// WebhookConfig returns the business's configuration or CodeNotFound.
func (s *Store) WebhookConfig(ctx context.Context, business parley.UserID) (parley.WebhookConfig, error) {
	c := parley.WebhookConfig{Business: business}
	var verified int64
	err := s.pool.QueryRow(ctx, `SELECT callback_url, verify_token, app_secret, verified_at FROM webhook_configs WHERE business_id = $1`,
		business).Scan(&c.CallbackURL, &c.VerifyToken, &c.AppSecret, &verified)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, notFound("no webhook configured for business %s", business)
	}
	if err != nil {
		return c, wrap("webhook config", err)
	}
	c.VerifiedAt = fromNS(verified)
	return c, nil
}

// DeleteWebhookConfig removes the configuration (CodeNotFound if none).
func (s *Store) DeleteWebhookConfig(ctx context.Context, business parley.UserID) error {
	return s.tx(ctx, "delete webhook config", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM webhook_configs WHERE business_id = $1`, business)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound("no webhook configured for business %s", business)
		}
		return nil
	})
}

// EnqueueWebhook appends ev to the outbox, due at once.
func (s *Store) EnqueueWebhook(ctx context.Context, ev parley.WebhookEvent, at time.Time) (int64, error) {
	var id int64
	err := s.tx(ctx, "enqueue webhook", func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO webhook_outbox (business_id, phone_number_id, order_key, field, value, next_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`, ev.Business, ev.PhoneNumberID, ev.OrderKey, ev.Field, []byte(ev.Value), ns(at)).Scan(&id)
	})
	return id, err
}

const webhookColumns = `id, business_id, phone_number_id, order_key, field, value, dead, attempts, next_at, created_at, last_error`

func collectWebhooks(rows pgx.Rows) ([]parley.WebhookDelivery, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (parley.WebhookDelivery, error) {
		var d parley.WebhookDelivery
		var value []byte
		var next, created int64
		err := row.Scan(&d.ID, &d.Event.Business, &d.Event.PhoneNumberID, &d.Event.OrderKey, &d.Event.Field, &value, &d.Dead, &d.Attempts, &next, &created, &d.LastError)
		d.Event.Value, d.NextAt, d.CreatedAt = value, fromNS(next), fromNS(created)
		return d, err
	})
}

// ClaimWebhooks leases the due heads of the per-key queues, earliest due
// first. Rows another transaction is claiming are skipped, and their
// successors are not heads, so concurrent claimers never share a key.
func (s *Store) ClaimWebhooks(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]parley.WebhookDelivery, error) {
	var out []parley.WebhookDelivery
	err := s.tx(ctx, "claim webhooks", func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+webhookColumns+` FROM webhook_outbox o
			WHERE o.dead = false AND o.next_at <= $1 AND NOT EXISTS (
				SELECT 1 FROM webhook_outbox p WHERE p.business_id = o.business_id AND p.order_key = o.order_key AND p.dead = false AND p.id < o.id)
			ORDER BY o.next_at, o.id LIMIT $2 FOR UPDATE OF o SKIP LOCKED`, ns(now), limit)
		if err != nil {
			return err
		}
		if out, err = collectWebhooks(rows); err != nil {
			return err
		}
		next := ns(now.Add(lease))
		ids := make([]int64, len(out))
		for i := range out {
			ids[i] = out[i].ID
			out[i].NextAt = fromNS(next)
		}
		_, err = tx.Exec(ctx, `UPDATE webhook_outbox SET next_at = $1 WHERE id = ANY($2)`, next, ids)
		return err
	})
	return out, err
}

// DeliveredWebhook deletes the delivered event.
func (s *Store) DeliveredWebhook(ctx context.Context, id int64) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM webhook_outbox WHERE id = $1`, id)
	return wrap2("delivered webhook", err)
}

// RetryWebhook records a failed attempt.
func (s *Store) RetryWebhook(ctx context.Context, id int64, attempts int, next time.Time, lastErr string) error {
	_, err := s.pool.Exec(ctx, `UPDATE webhook_outbox SET attempts = $1, next_at = $2, last_error = $3 WHERE id = $4`, attempts, ns(next), lastErr, id)
	return wrap2("retry webhook", err)
}

// DeadWebhook moves the delivery to the dead letters.
func (s *Store) DeadWebhook(ctx context.Context, id int64, attempts int, lastErr string) error {
	_, err := s.pool.Exec(ctx, `UPDATE webhook_outbox SET dead = true, attempts = $1, last_error = $2 WHERE id = $3`, attempts, lastErr, id)
	return wrap2("dead webhook", err)
}

// WebhookDeliveries lists pending or dead deliveries of a business, oldest first.
func (s *Store) WebhookDeliveries(ctx context.Context, business parley.UserID, dead bool, limit int) ([]parley.WebhookDelivery, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+webhookColumns+` FROM webhook_outbox WHERE business_id = $1 AND dead = $2 ORDER BY id LIMIT $3`,
		business, dead, limit)
	if err != nil {
		return nil, wrap("webhook deliveries", err)
	}
	out, err := collectWebhooks(rows)
	return out, wrap2("webhook deliveries", err)
}

// ReplayWebhooks makes dead deliveries pending again.
func (s *Store) ReplayWebhooks(ctx context.Context, business parley.UserID, ids []int64, now time.Time) (int, error) {
	q := `UPDATE webhook_outbox SET dead = false, attempts = 0, next_at = $1, last_error = '' WHERE business_id = $2 AND dead = true`
	args := []any{ns(now), business}
	if len(ids) > 0 {
		q += ` AND id = ANY($3)`
		args = append(args, ids)
	}
	tag, err := s.pool.Exec(ctx, q, args...)
	if err != nil {
		return 0, wrap("replay webhooks", err)
	}
	return int(tag.RowsAffected()), nil
}

// WebhookBacklog counts pending and dead deliveries.
func (s *Store) WebhookBacklog(ctx context.Context) (pending, dead int64, err error) {
	err = s.pool.QueryRow(ctx, `SELECT COUNT(*) FILTER (WHERE NOT dead), COUNT(*) FILTER (WHERE dead) FROM webhook_outbox`).Scan(&pending, &dead)
	return pending, dead, wrap2("webhook backlog", err)
}

func wrap2(op string, err error) error {
	if err == nil {
		return nil
	}
	return wrap(op, err)
}
