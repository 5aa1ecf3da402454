package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley"
)

// The Store also implements parley.WebhookStore (schema in
// migrations/00600_webhooks.sql).
var _ parley.WebhookStore = (*Store)(nil)

// PutWebhookConfig creates or replaces the business's webhook configuration.
func (s *Store) PutWebhookConfig(ctx context.Context, c parley.WebhookConfig) error {
	return s.bizWrite(ctx, "put webhook config", func(tx Querier) error {
		_, err := tx.Exec(ctx, `INSERT INTO webhook_configs (business_id, callback_url, verify_token, app_secret, verified_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (business_id) DO UPDATE SET callback_url = excluded.callback_url,
			verify_token = excluded.verify_token, app_secret = excluded.app_secret, verified_at = excluded.verified_at`,
			c.Business, c.CallbackURL, c.VerifyToken, c.AppSecret, ns(c.VerifiedAt))
		return err
	})
}

// WebhookConfig returns the business's configuration or CodeNotFound.
func (s *Store) WebhookConfig(ctx context.Context, business parley.UserID) (parley.WebhookConfig, error) {
	c := parley.WebhookConfig{Business: business}
	var verified int64
	err := s.r.QueryRow(ctx, `SELECT callback_url, verify_token, app_secret, verified_at FROM webhook_configs WHERE business_id = ?`,
		business).Scan(&c.CallbackURL, &c.VerifyToken, &c.AppSecret, &verified)
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound("no webhook configured for business %s", business)
	}
	c.VerifiedAt = fromNS(verified)
	return c, s.wrap2("webhook config", err)
}

// DeleteWebhookConfig removes the configuration (CodeNotFound if none).
func (s *Store) DeleteWebhookConfig(ctx context.Context, business parley.UserID) error {
	return s.bizWrite(ctx, "delete webhook config", func(tx Querier) error {
		res, err := tx.Exec(ctx, `DELETE FROM webhook_configs WHERE business_id = ?`, business)
		if err != nil {
			return err
		}
		if res == 0 {
			return notFound("no webhook configured for business %s", business)
		}
		return nil
	})
}

// blocked is the next_at of a pending delivery that is not the head of its
// key's queue: only heads are ever due, so claiming is an index range scan.
// Enqueue, delivery, dead-lettering and replay keep this invariant inside
// SQLite's single writer's transactions, and under a transaction-scoped
// advisory lock per (business, key) on PostgreSQL (Backend.LockKey).
const blocked = math.MaxInt64

// EnqueueWebhook appends ev to the outbox: due at once if it heads its
// key's queue, blocked behind the key's earlier pending events otherwise.
func (s *Store) EnqueueWebhook(ctx context.Context, ev parley.WebhookEvent, at time.Time) (int64, error) {
	var id int64
	err := s.bizWrite(ctx, "enqueue webhook", func(tx Querier) error {
		var err error
		id, err = s.enqueueWebhook(ctx, tx, ev, at, 0)
		return err
	})
	return id, err
}

// EnqueueWebhooks appends evs in one transaction.
func (s *Store) EnqueueWebhooks(ctx context.Context, evs []parley.WebhookEvent, at time.Time) error {
	return s.bizWrite(ctx, "enqueue webhooks", func(tx Querier) error {
		for _, ev := range evs {
			if _, err := s.enqueueWebhook(ctx, tx, ev, at, 0); err != nil {
				return err
			}
		}
		return nil
	})
}

const (
	sqlWebhookKeyBusy = `SELECT 1 FROM webhook_outbox WHERE business_id = ? AND order_key = ? AND dead = FALSE LIMIT 1`
	sqlWebhookInsert  = `INSERT INTO webhook_outbox (business_id, phone_number_id, order_key, field, value, next_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`
	sqlWebhookFinishHead = `SELECT business_id, order_key FROM webhook_outbox WHERE id = ? AND dead = FALSE`
	sqlWebhookDelete     = `DELETE FROM webhook_outbox WHERE id = ?`
	sqlWebhookUnblock    = `UPDATE webhook_outbox SET next_at = created_at WHERE id = (
		SELECT MIN(id) FROM webhook_outbox WHERE business_id = ? AND order_key = ? AND dead = FALSE) AND next_at = ?`
	sqlWebhookDue = `SELECT ` + webhookColumns + ` FROM webhook_outbox
			WHERE dead = FALSE AND next_at <= ? ORDER BY next_at, id LIMIT ? /*pg: FOR UPDATE SKIP LOCKED*/`
	sqlWebhookLease = `UPDATE webhook_outbox SET next_at = ? WHERE id = ?`
)

func (s *Store) enqueueWebhook(ctx context.Context, tx Querier, ev parley.WebhookEvent, at time.Time, next int64) (int64, error) {
	if err := s.b.LockKey(ctx, tx, ev.Business, ev.OrderKey); err != nil {
		return 0, err
	}
	var one int
	err := tx.QueryRow(ctx, sqlWebhookKeyBusy, ev.Business, ev.OrderKey).Scan(&one)
	switch {
	case err == nil:
		next = blocked
	case errors.Is(err, sql.ErrNoRows):
		if next == 0 {
			next = ns(at)
		}
	default:
		return 0, err
	}
	var id int64
	err = tx.QueryRow(ctx, sqlWebhookInsert, ev.Business, ev.PhoneNumberID, ev.OrderKey, ev.Field, []byte(ev.Value), next, ns(at)).Scan(&id)
	return id, err
}

// unblockNext makes the earliest pending delivery of id's key due (at its
// creation time, so at once), after id stopped being pending.
func (s *Store) unblockNext(ctx context.Context, tx Querier, business parley.UserID, key string) error {
	_, err := tx.Exec(ctx, sqlWebhookUnblock, business, key, int64(blocked))
	return err
}

// finish runs f on a pending delivery's row, then unblocks its key's next
// delivery. A delivery that is gone or dead is left alone.
func (s *Store) finish(ctx context.Context, op string, id int64, f func(tx Querier) error) error {
	return s.bizWrite(ctx, op, func(tx Querier) error { return s.finishTx(ctx, tx, id, f) })
}

func (s *Store) finishTx(ctx context.Context, tx Querier, id int64, f func(tx Querier) error) error {
	var business parley.UserID
	var key string
	err := tx.QueryRow(ctx, sqlWebhookFinishHead, id).Scan(&business, &key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := s.b.LockKey(ctx, tx, business, key); err != nil {
		return err
	}
	if err := f(tx); err != nil {
		return err
	}
	return s.unblockNext(ctx, tx, business, key)
}

// DeliveredWebhooks deletes delivered events in one transaction.
func (s *Store) DeliveredWebhooks(ctx context.Context, ids []int64) error {
	// Two batches locking the same keys in another order may deadlock
	// (PostgreSQL): sorted, they take the locks in one order.
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	return s.bizWrite(ctx, "delivered webhooks", func(tx Querier) error {
		for _, id := range sorted {
			if err := s.finishTx(ctx, tx, id, func(tx Querier) error {
				_, err := tx.Exec(ctx, sqlWebhookDelete, id)
				return err
			}); err != nil {
				return err
			}
		}
		return nil
	})
}

const webhookColumns = `id, business_id, phone_number_id, order_key, field, value, dead, attempts, next_at, created_at, last_error`

func scanWebhook(rows Row) (parley.WebhookDelivery, error) {
	var d parley.WebhookDelivery
	var value []byte
	var next, created int64
	err := rows.Scan(&d.ID, &d.Event.Business, &d.Event.PhoneNumberID, &d.Event.OrderKey, &d.Event.Field, &value, &d.Dead, &d.Attempts, &next, &created, &d.LastError)
	d.Event.Value, d.NextAt, d.CreatedAt = value, fromNS(next), fromNS(created)
	return d, err
}

// ClaimWebhooks leases the due heads of the per-key queues, earliest due first.
func (s *Store) ClaimWebhooks(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]parley.WebhookDelivery, error) {
	var out []parley.WebhookDelivery
	err := s.bizWrite(ctx, "claim webhooks", func(tx Querier) error {
		out = out[:0]
		rows, err := tx.Query(ctx, sqlWebhookDue, ns(now), limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			d, err := scanWebhook(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		next := ns(now.Add(lease))
		for i := range out {
			if _, err := tx.Exec(ctx, sqlWebhookLease, next, out[i].ID); err != nil {
				return err
			}
			out[i].NextAt = fromNS(next)
		}
		return nil
	})
	return out, err
}

// DeliveredWebhook deletes the delivered event and unblocks its key.
func (s *Store) DeliveredWebhook(ctx context.Context, id int64) error {
	return s.finish(ctx, "delivered webhook", id, func(tx Querier) error {
		_, err := tx.Exec(ctx, `DELETE FROM webhook_outbox WHERE id = ?`, id)
		return err
	})
}

// RetryWebhook records a failed attempt.
func (s *Store) RetryWebhook(ctx context.Context, id int64, attempts int, next time.Time, lastErr string) error {
	return s.bizWrite(ctx, "retry webhook", func(tx Querier) error {
		_, err := tx.Exec(ctx, `UPDATE webhook_outbox SET attempts = ?, next_at = ?, last_error = ? WHERE id = ? AND dead = FALSE AND next_at <> ?`,
			attempts, ns(next), lastErr, id, int64(blocked))
		return err
	})
}

// DeadWebhook moves the delivery to the dead letters and unblocks its key.
func (s *Store) DeadWebhook(ctx context.Context, id int64, attempts int, lastErr string) error {
	return s.finish(ctx, "dead webhook", id, func(tx Querier) error {
		_, err := tx.Exec(ctx, `UPDATE webhook_outbox SET dead = TRUE, attempts = ?, last_error = ? WHERE id = ?`, attempts, lastErr, id)
		return err
	})
}

// WebhookDeliveries lists pending or dead deliveries of a business, oldest first.
func (s *Store) WebhookDeliveries(ctx context.Context, business parley.UserID, dead bool, limit int) ([]parley.WebhookDelivery, error) {
	return selectAll(ctx, s, "webhook deliveries", scanWebhook, `SELECT `+webhookColumns+` FROM webhook_outbox WHERE business_id = ? AND dead = ? ORDER BY id LIMIT ?`,
		business, dead, limit)
}

// ReplayWebhooks queues the dead deliveries again, in ID order, behind
// their keys' pending deliveries, as if enqueued now (a fresh retry
// period), and deletes the dead copies.
func (s *Store) ReplayWebhooks(ctx context.Context, business parley.UserID, ids []int64, now time.Time) (int, error) {
	var n int
	err := s.bizWrite(ctx, "replay webhooks", func(tx Querier) error {
		n = 0
		q := `SELECT ` + webhookColumns + ` FROM webhook_outbox WHERE business_id = ? AND dead = TRUE`
		args := []any{business}
		if len(ids) > 0 {
			q += ` AND id IN (?` + strings.Repeat(", ?", len(ids)-1) + `)`
			for _, id := range ids {
				args = append(args, id)
			}
		}
		rows, err := tx.Query(ctx, q+` ORDER BY id`, args...)
		if err != nil {
			return err
		}
		var dead []parley.WebhookDelivery
		for rows.Next() {
			d, err := scanWebhook(rows)
			if err != nil {
				rows.Close()
				return err
			}
			dead = append(dead, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, d := range dead {
			if _, err := tx.Exec(ctx, `DELETE FROM webhook_outbox WHERE id = ?`, d.ID); err != nil {
				return err
			}
			if _, err := s.enqueueWebhook(ctx, tx, d.Event, now, 0); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// PruneDeadWebhooks deletes old dead letters.
func (s *Store) PruneDeadWebhooks(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.bizWrite(ctx, "prune dead webhooks", func(tx Querier) error {
		var err error
		n, err = tx.Exec(ctx, `DELETE FROM webhook_outbox WHERE dead = TRUE AND created_at < ?`, ns(before))
		return err
	})
	return int(n), err
}

// WebhookBacklog counts pending and dead deliveries.
func (s *Store) WebhookBacklog(ctx context.Context) (pending, dead int64, err error) {
	err = s.r.QueryRow(ctx, `SELECT COALESCE(SUM(CASE WHEN dead THEN 0 ELSE 1 END), 0), COALESCE(SUM(CASE WHEN dead THEN 1 ELSE 0 END), 0) FROM webhook_outbox`).Scan(&pending, &dead)
	return pending, dead, s.wrap2("webhook backlog", err)
}
