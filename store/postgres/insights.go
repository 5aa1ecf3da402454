package postgres

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
)

// The Store also implements parley.InsightsStore (schema in
// migrations/00600_webhooks.sql).
var _ parley.InsightsStore = (*Store)(nil)

// RecordMessageEvent stores ev once per (business, message, status).
func (s *Store) RecordMessageEvent(ctx context.Context, ev parley.MessageEvent) (bool, error) {
	var added bool
	err := s.tx(ctx, "record message event", func(tx pgx.Tx) error {
		var err error
		added, err = recordMessageEvent(ctx, tx, ev)
		return err
	})
	return added, err
}

// RecordMessageEvents stores evs in one transaction.
func (s *Store) RecordMessageEvents(ctx context.Context, evs []parley.MessageEvent) error {
	return s.tx(ctx, "record message events", func(tx pgx.Tx) error {
		for _, ev := range evs {
			if _, err := recordMessageEvent(ctx, tx, ev); err != nil {
				return err
			}
		}
		return nil
	})
}

func recordMessageEvent(ctx context.Context, tx pgx.Tx, e parley.MessageEvent) (bool, error) {
	if e.Template == "" && e.Category == "" && e.Campaign == "" || e.Customer == "" {
		var cust, tmpl, cat, camp string
		err := tx.QueryRow(ctx, `SELECT customer, template, category, campaign FROM insights_events
			WHERE business_id = $1 AND message_id = $2 LIMIT 1`, e.Business, e.MessageID).Scan(&cust, &tmpl, &cat, &camp)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return false, err
		}
		if e.Template == "" && e.Category == "" && e.Campaign == "" {
			e.Template, e.Category, e.Campaign = tmpl, cat, camp
		}
		if e.Customer == "" {
			e.Customer = cust
		}
	}
	tag, err := tx.Exec(ctx, `INSERT INTO insights_events (business_id, message_id, status, customer, template, category, campaign, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
		e.Business, e.MessageID, e.Status, e.Customer, e.Template, e.Category, e.Campaign, ns(e.At))
	if err != nil {
		return false, err
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO insights_status_totals (status, n) VALUES ($1, 1)
		ON CONFLICT (status) DO UPDATE SET n = insights_status_totals.n + 1`, e.Status); err != nil {
		return true, err
	}
	switch e.Status {
	case parley.StatusInbound:
		_, err = tx.Exec(ctx, `INSERT INTO insights_waiting (business_id, customer, inbound_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			e.Business, e.Customer, ns(e.At))
	case parley.StatusSent:
		var in int64
		err = tx.QueryRow(ctx, `DELETE FROM insights_waiting WHERE business_id = $1 AND customer = $2 AND inbound_at <= $3 RETURNING inbound_at`,
			e.Business, e.Customer, ns(e.At)).Scan(&in)
		if errors.Is(err, pgx.ErrNoRows) {
			return true, nil
		}
		if err != nil {
			return true, err
		}
		_, err = tx.Exec(ctx, `INSERT INTO insights_responses (business_id, customer, inbound_at, sent_at) VALUES ($1, $2, $3, $4)`,
			e.Business, e.Customer, in, ns(e.At))
	}
	return true, err
}

func insightsFilter(q parley.InsightsQuery) (string, []any) {
	where := `business_id = $1 AND at >= $2 AND at < $3`
	args := []any{q.Business, ns(q.From), ns(q.To)}
	if q.Template != "" {
		args = append(args, q.Template)
		where += ` AND template = $` + strconv.Itoa(len(args))
	}
	if q.Campaign != "" {
		args = append(args, q.Campaign)
		where += ` AND campaign = $` + strconv.Itoa(len(args))
	}
	return where, args
}

// InsightsTotals counts q's events in total, per day, template and campaign.
func (s *Store) InsightsTotals(ctx context.Context, q parley.InsightsQuery) (total parley.StatusCounts, days, templates, campaigns []parley.InsightsRow, err error) {
	where, args := insightsFilter(q)
	var sum parley.StatusCounts
	group := func(expr, extra string) ([]parley.InsightsRow, error) {
		rows, err := s.pool.Query(ctx, `SELECT `+expr+` AS k, status, COUNT(*) FROM insights_events WHERE `+where+extra+` GROUP BY k, status ORDER BY k`, args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []parley.InsightsRow
		for rows.Next() {
			var k, status string
			var n int64
			if err := rows.Scan(&k, &status, &n); err != nil {
				return nil, err
			}
			if len(out) == 0 || out[len(out)-1].Key != k {
				out = append(out, parley.InsightsRow{Key: k})
			}
			out[len(out)-1].Add(status, n)
			sum.Add(status, n)
		}
		return out, rows.Err()
	}
	if days, err = group(`to_char(to_timestamp(at / 1000000000) AT TIME ZONE 'UTC', 'YYYY-MM-DD')`, ``); err != nil {
		return total, nil, nil, nil, wrap("insights totals", err)
	}
	total = sum
	if templates, err = group(`template`, ` AND template <> ''`); err != nil {
		return total, nil, nil, nil, wrap("insights totals", err)
	}
	if campaigns, err = group(`campaign`, ` AND campaign <> ''`); err != nil {
		return total, nil, nil, nil, wrap("insights totals", err)
	}
	return total, days, templates, campaigns, nil
}

// ResponseTimes lists answers sent in [q.From, q.To), oldest first.
func (s *Store) ResponseTimes(ctx context.Context, q parley.InsightsQuery, limit int) ([]parley.ResponseTime, error) {
	rows, err := s.pool.Query(ctx, `SELECT customer, inbound_at, sent_at FROM insights_responses
		WHERE business_id = $1 AND sent_at >= $2 AND sent_at < $3 ORDER BY sent_at LIMIT $4`, q.Business, ns(q.From), ns(q.To), limit)
	if err != nil {
		return nil, wrap("response times", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (parley.ResponseTime, error) {
		var r parley.ResponseTime
		var in, sent int64
		err := row.Scan(&r.Customer, &in, &sent)
		r.InboundAt, r.SentAt = fromNS(in), fromNS(sent)
		return r, err
	})
	return out, wrap2("response times", err)
}

// MessageStatuses returns the statuses of one message.
func (s *Store) MessageStatuses(ctx context.Context, business parley.UserID, messageID string) (parley.MessageStatuses, error) {
	m := parley.MessageStatuses{MessageID: messageID, At: map[string]time.Time{}}
	rows, err := s.pool.Query(ctx, `SELECT status, customer, template, category, campaign, at FROM insights_events
		WHERE business_id = $1 AND message_id = $2 ORDER BY status`, business, messageID)
	if err != nil {
		return m, wrap("message statuses", err)
	}
	defer rows.Close()
	for rows.Next() {
		var status string
		var at int64
		if err := rows.Scan(&status, &m.Customer, &m.Template, &m.Category, &m.Campaign, &at); err != nil {
			return m, wrap("message statuses", err)
		}
		m.At[status] = fromNS(at)
	}
	if err := rows.Err(); err != nil {
		return m, wrap("message statuses", err)
	}
	if len(m.At) == 0 {
		return m, notFound("no events for message %s", messageID)
	}
	return m, nil
}

// InsightsStatusTotals counts all events per status.
func (s *Store) InsightsStatusTotals(ctx context.Context) (parley.StatusCounts, error) {
	var c parley.StatusCounts
	rows, err := s.pool.Query(ctx, `SELECT status, n FROM insights_status_totals`)
	if err != nil {
		return c, wrap("insights status totals", err)
	}
	defer rows.Close()
	for rows.Next() {
		var status string
		var n int64
		if err := rows.Scan(&status, &n); err != nil {
			return c, wrap("insights status totals", err)
		}
		c.Add(status, n)
	}
	return c, wrap2("insights status totals", rows.Err())
}
