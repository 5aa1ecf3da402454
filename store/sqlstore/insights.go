package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parleyhq/parley"
)

// The Store also implements parley.InsightsStore (schema in
// migrations/00600_webhooks.sql).
var _ parley.InsightsStore = (*Store)(nil)

// RecordMessageEvent stores ev once per (business, message, status).
func (s *Store) RecordMessageEvent(ctx context.Context, ev parley.MessageEvent) (bool, error) {
	var added bool
	err := s.bizWrite(ctx, "record message event", func(tx Querier) error {
		var err error
		st := tx
		if added, err = recordMessageEvent(ctx, st, ev); err != nil || !added {
			return err
		}
		return addTotals(ctx, st, map[string]int64{ev.Status: 1})
	})
	return added, err
}

// RecordMessageEvents stores evs in one transaction.
func (s *Store) RecordMessageEvents(ctx context.Context, evs []parley.MessageEvent) error {
	return s.bizWrite(ctx, "record message events", func(tx Querier) error {
		st := tx // statements prepared once (HotWriterSQL) on SQLite
		totals := map[string]int64{}
		for _, ev := range evs {
			added, err := recordMessageEvent(ctx, st, ev)
			if err != nil {
				return err
			}
			if added {
				totals[ev.Status]++
			}
		}
		return addTotals(ctx, st, totals) // one update per status, not per event
	})
}

// addTotals adds counts per status to insights_status_totals.
func addTotals(ctx context.Context, tx Querier, totals map[string]int64) error {
	for status, n := range totals {
		if _, err := tx.Exec(ctx, sqlInsightsTotal, status, n); err != nil {
			return err
		}
	}
	return nil
}

// recordMessageEvent stores ev once per (business, message, status) and
// reports whether it was new; the caller adds it to the status totals.
func recordMessageEvent(ctx context.Context, tx Querier, ev parley.MessageEvent) (bool, error) {
	if ev.Template == "" && ev.Category == "" && ev.Campaign == "" || ev.Customer == "" {
		var cust, tmpl, cat, camp string
		err := tx.QueryRow(ctx, sqlInsightsLookup, ev.Business, ev.MessageID).Scan(&cust, &tmpl, &cat, &camp)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return false, err
		}
		if ev.Template == "" && ev.Category == "" && ev.Campaign == "" {
			ev.Template, ev.Category, ev.Campaign = tmpl, cat, camp
		}
		if ev.Customer == "" {
			ev.Customer = cust
		}
	}
	res, err := tx.Exec(ctx, sqlInsightsInsert,
		ev.Business, ev.MessageID, ev.Status, ev.Customer, ev.Template, ev.Category, ev.Campaign, ns(ev.At))
	if err != nil {
		return false, err
	}
	if res == 0 {
		return false, nil
	}
	switch ev.Status {
	case parley.StatusInbound:
		_, err = tx.Exec(ctx, sqlInsightsWaitAdd,
			ev.Business, ev.Customer, ns(ev.At))
	case parley.StatusSent:
		var in int64
		err = tx.QueryRow(ctx, sqlInsightsWaitDel,
			ev.Business, ev.Customer, ns(ev.At)).Scan(&in)
		if errors.Is(err, sql.ErrNoRows) {
			return true, nil
		}
		if err != nil {
			return true, err
		}
		_, err = tx.Exec(ctx, sqlInsightsResponse,
			ev.Business, ev.Customer, in, ns(ev.At))
	}
	return true, err
}

func insightsFilter(q parley.InsightsQuery) (string, []any) {
	where := `business_id = ? AND at >= ? AND at < ?`
	args := []any{q.Business, ns(q.From), ns(q.To)}
	if q.Template != "" {
		where += ` AND template = ?`
		args = append(args, q.Template)
	}
	if q.Campaign != "" {
		where += ` AND campaign = ?`
		args = append(args, q.Campaign)
	}
	return where, args
}

// InsightsTotals counts q's events in total, per day, template and campaign.
func (s *Store) InsightsTotals(ctx context.Context, q parley.InsightsQuery) (total parley.StatusCounts, days, templates, campaigns []parley.InsightsRow, err error) {
	where, args := insightsFilter(q)
	group := func(expr, extra string) ([]parley.InsightsRow, error) {
		rows, err := s.r.Query(ctx, `SELECT `+expr+` AS k, status, COUNT(*) FROM insights_events WHERE `+where+extra+` GROUP BY k, status ORDER BY k`, args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []parley.InsightsRow
		for rows.Next() {
			var key any
			var status string
			var n int64
			if err := rows.Scan(&key, &status, &n); err != nil {
				return nil, err
			}
			k := fmt.Sprint(key)
			if day, ok := key.(int64); ok {
				k = time.Unix(day*86400, 0).UTC().Format(time.DateOnly)
			}
			if len(out) == 0 || out[len(out)-1].Key != k {
				out = append(out, parley.InsightsRow{Key: k})
			}
			out[len(out)-1].Add(status, n)
			total.Add(status, n)
		}
		return out, rows.Err()
	}
	// at is Unix nanoseconds: the day number, in both dialects.
	if days, err = group(`at / 86400000000000`, ``); err != nil {
		return total, nil, nil, nil, s.wrap("insights totals", err)
	}
	keep := total
	if templates, err = group(`template`, ` AND template <> ''`); err != nil {
		return total, nil, nil, nil, s.wrap("insights totals", err)
	}
	if campaigns, err = group(`campaign`, ` AND campaign <> ''`); err != nil {
		return total, nil, nil, nil, s.wrap("insights totals", err)
	}
	return keep, days, templates, campaigns, nil
}

// ResponseTimes lists answers sent in [q.From, q.To), oldest first.
func (s *Store) ResponseTimes(ctx context.Context, q parley.InsightsQuery, limit int) ([]parley.ResponseTime, error) {
	rows, err := s.r.Query(ctx, `SELECT customer, inbound_at, sent_at FROM insights_responses
		WHERE business_id = ? AND sent_at >= ? AND sent_at < ? ORDER BY sent_at LIMIT ?`, q.Business, ns(q.From), ns(q.To), limit)
	if err != nil {
		return nil, s.wrap("response times", err)
	}
	defer rows.Close()
	var out []parley.ResponseTime
	for rows.Next() {
		var r parley.ResponseTime
		var in, sent int64
		if err := rows.Scan(&r.Customer, &in, &sent); err != nil {
			return nil, s.wrap("response times", err)
		}
		r.InboundAt, r.SentAt = fromNS(in), fromNS(sent)
		out = append(out, r)
	}
	return out, s.wrap2("response times", rows.Err())
}

// MessageStatuses returns the statuses of one message.
func (s *Store) MessageStatuses(ctx context.Context, business parley.UserID, messageID string) (parley.MessageStatuses, error) {
	m := parley.MessageStatuses{MessageID: messageID, At: map[string]time.Time{}}
	rows, err := s.r.Query(ctx, `SELECT status, customer, template, category, campaign, at FROM insights_events
		WHERE business_id = ? AND message_id = ? ORDER BY status`, business, messageID)
	if err != nil {
		return m, s.wrap("message statuses", err)
	}
	defer rows.Close()
	for rows.Next() {
		var status string
		var at int64
		if err := rows.Scan(&status, &m.Customer, &m.Template, &m.Category, &m.Campaign, &at); err != nil {
			return m, s.wrap("message statuses", err)
		}
		m.At[status] = fromNS(at)
	}
	if err := rows.Err(); err != nil {
		return m, s.wrap("message statuses", err)
	}
	if len(m.At) == 0 {
		return m, notFound("no events for message %s", messageID)
	}
	return m, nil
}

// InsightsStatusTotals counts all events per status.
func (s *Store) InsightsStatusTotals(ctx context.Context) (parley.StatusCounts, error) {
	var c parley.StatusCounts
	rows, err := s.r.Query(ctx, `SELECT status, n FROM insights_status_totals`)
	if err != nil {
		return c, s.wrap("insights status totals", err)
	}
	defer rows.Close()
	for rows.Next() {
		var status string
		var n int64
		if err := rows.Scan(&status, &n); err != nil {
			return c, s.wrap("insights status totals", err)
		}
		c.Add(status, n)
	}
	return c, s.wrap2("insights status totals", rows.Err())
}

// recordMessageEvent's statements (HotWriterSQL).
const (
	sqlInsightsTotal = `INSERT INTO insights_status_totals (status, n) VALUES (?, ?)
			ON CONFLICT (status) DO UPDATE SET n = insights_status_totals.n + excluded.n`
	sqlInsightsLookup = `SELECT customer, template, category, campaign FROM insights_events
			WHERE business_id = ? AND message_id = ? LIMIT 1`
	sqlInsightsInsert = `INSERT INTO insights_events (business_id, message_id, status, customer, template, category, campaign, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
	sqlInsightsWaitAdd  = `INSERT INTO insights_waiting (business_id, customer, inbound_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`
	sqlInsightsWaitDel  = `DELETE FROM insights_waiting WHERE business_id = ? AND customer = ? AND inbound_at <= ? RETURNING inbound_at`
	sqlInsightsResponse = `INSERT INTO insights_responses (business_id, customer, inbound_at, sent_at) VALUES (?, ?, ?, ?)`
)
