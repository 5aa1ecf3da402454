package postgres

import (
	"cmp"
	"context"
	"errors"
	"math"
	"slices"
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

// blocked is the next_at of a pending delivery that is not the head of its
// key's queue: only heads are ever due, so claiming is an index range scan.
// Enqueue, delivery, dead-lettering and replay keep this invariant under a
// transaction-scoped advisory lock per (business, key).
const blocked = math.MaxInt64

func lockKey(ctx context.Context, tx pgx.Tx, business parley.UserID, key string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, $2))`, key, int64(business))
	return err
}

// EnqueueWebhook appends ev to the outbox: due at once if it heads its
// key's queue, blocked behind the key's earlier pending events otherwise.
func (s *Store) EnqueueWebhook(ctx context.Context, ev parley.WebhookEvent, at time.Time) (int64, error) {
	var id int64
	err := s.tx(ctx, "enqueue webhook", func(tx pgx.Tx) error {
		var err error
		id, err = enqueueWebhook(ctx, tx, ev, at)
		return err
	})
	return id, err
}

// EnqueueWebhooks appends evs in one transaction.
func (s *Store) EnqueueWebhooks(ctx context.Context, evs []parley.WebhookEvent, at time.Time) error {
	return s.tx(ctx, "enqueue webhooks", func(tx pgx.Tx) error {
		for _, ev := range evs {
			if _, err := enqueueWebhook(ctx, tx, ev, at); err != nil {
				return err
			}
		}
		return nil
	})
}

func enqueueWebhook(ctx context.Context, tx pgx.Tx, ev parley.WebhookEvent, at time.Time) (int64, error) {
	if err := lockKey(ctx, tx, ev.Business, ev.OrderKey); err != nil {
		return 0, err
	}
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO webhook_outbox (business_id, phone_number_id, order_key, field, value, next_at, created_at)
		VALUES ($1, $2, $3, $4, $5,
			CASE WHEN EXISTS (SELECT 1 FROM webhook_outbox WHERE business_id = $1 AND order_key = $3 AND NOT dead) THEN $7::bigint ELSE $6::bigint END, $6)
		RETURNING id`, ev.Business, ev.PhoneNumberID, ev.OrderKey, ev.Field, []byte(ev.Value), ns(at), int64(blocked)).Scan(&id)
	return id, err
}

// finish runs f on a pending delivery's row, then unblocks its key's next
// delivery. A delivery that is gone or dead is left alone.
func (s *Store) finish(ctx context.Context, op string, id int64, f func(tx pgx.Tx) error) error {
	return s.tx(ctx, op, func(tx pgx.Tx) error { return finishTx(ctx, tx, id, f) })
}

func finishTx(ctx context.Context, tx pgx.Tx, id int64, f func(tx pgx.Tx) error) error {
	var business parley.UserID
	var key string
	err := tx.QueryRow(ctx, `SELECT business_id, order_key FROM webhook_outbox WHERE id = $1 AND NOT dead`, id).Scan(&business, &key)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := lockKey(ctx, tx, business, key); err != nil {
		return err
	}
	if err := f(tx); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE webhook_outbox SET next_at = created_at WHERE id = (
		SELECT MIN(id) FROM webhook_outbox WHERE business_id = $1 AND order_key = $2 AND NOT dead) AND next_at = $3`, business, key, int64(blocked))
	return err
}

// DeliveredWebhooks deletes delivered events in one transaction.
func (s *Store) DeliveredWebhooks(ctx context.Context, ids []int64) error {
	// Two batches locking the same keys in another order may deadlock:
	// s.tx retries the loser.
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	return s.tx(ctx, "delivered webhooks", func(tx pgx.Tx) error {
		for _, id := range sorted {
			if err := finishTx(ctx, tx, id, func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, `DELETE FROM webhook_outbox WHERE id = $1`, id)
				return err
			}); err != nil {
				return err
			}
		}
		return nil
	})
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
		rows, err := tx.Query(ctx, `SELECT `+webhookColumns+` FROM webhook_outbox
			WHERE NOT dead AND next_at <= $1 ORDER BY next_at, id LIMIT $2 FOR UPDATE SKIP LOCKED`, ns(now), limit)
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

// DeliveredWebhook deletes the delivered event and unblocks its key.
func (s *Store) DeliveredWebhook(ctx context.Context, id int64) error {
	return s.finish(ctx, "delivered webhook", id, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM webhook_outbox WHERE id = $1`, id)
		return err
	})
}

// RetryWebhook records a failed attempt.
func (s *Store) RetryWebhook(ctx context.Context, id int64, attempts int, next time.Time, lastErr string) error {
	_, err := s.pool.Exec(ctx, `UPDATE webhook_outbox SET attempts = $1, next_at = $2, last_error = $3 WHERE id = $4 AND NOT dead AND next_at <> $5`,
		attempts, ns(next), lastErr, id, int64(blocked))
	return wrap2("retry webhook", err)
}

// DeadWebhook moves the delivery to the dead letters and unblocks its key.
func (s *Store) DeadWebhook(ctx context.Context, id int64, attempts int, lastErr string) error {
	return s.finish(ctx, "dead webhook", id, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE webhook_outbox SET dead = true, attempts = $1, last_error = $2 WHERE id = $3`, attempts, lastErr, id)
		return err
	})
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

// ReplayWebhooks queues the dead deliveries again, in ID order, behind
// their keys' pending deliveries, as if enqueued now (a fresh retry
// period), and deletes the dead copies.
func (s *Store) ReplayWebhooks(ctx context.Context, business parley.UserID, ids []int64, now time.Time) (int, error) {
	var n int
	err := s.tx(ctx, "replay webhooks", func(tx pgx.Tx) error {
		q := `DELETE FROM webhook_outbox WHERE business_id = $1 AND dead`
		args := []any{business}
		if len(ids) > 0 {
			q += ` AND id = ANY($2)`
			args = append(args, ids)
		}
		rows, err := tx.Query(ctx, q+` RETURNING `+webhookColumns, args...)
		if err != nil {
			return err
		}
		dead, err := collectWebhooks(rows)
		if err != nil {
			return err
		}
		slices.SortFunc(dead, func(a, b parley.WebhookDelivery) int { return cmp.Compare(a.ID, b.ID) })
		for _, d := range dead {
			if _, err := enqueueWebhook(ctx, tx, d.Event, now); err != nil {
				return err
			}
		}
		n = len(dead)
		return nil
	})
	return n, err
}

// PruneDeadWebhooks deletes old dead letters.
func (s *Store) PruneDeadWebhooks(ctx context.Context, before time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM webhook_outbox WHERE dead AND created_at < $1`, ns(before))
	if err != nil {
		return 0, wrap("prune dead webhooks", err)
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
