package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/parleyhq/parley"
)

// The Store also implements parley.InsightsStore (schema in
// migrations/00600_webhooks.sql).
var _ parley.InsightsStore = (*Store)(nil)

// bizWrite runs a write transaction of the business tables (webhooks,
// insights): they hold no envelopes, so unlike write it keeps the log's
// cache of last Seqs (clearing it on every insights batch made each
// append read its conversation's last Seq from the database).
func (s *Store) bizWrite(ctx context.Context, op string, f func(tx *sql.Tx) error) error {
	return s.writeTx(ctx, op, f, false)
}

// RecordMessageEvent stores ev once per (business, message, status).
func (s *Store) RecordMessageEvent(ctx context.Context, ev parley.MessageEvent) (bool, error) {
	var added bool
	err := s.bizWrite(ctx, "record message event", func(tx *sql.Tx) error {
		var err error
		st := &evStmts{tx: tx}
		if added, err = recordMessageEvent(ctx, st, ev); err != nil || !added {
			return err
		}
		return st.addTotals(ctx, map[string]int64{ev.Status: 1})
	})
	return added, err
}

// RecordMessageEvents stores evs in one transaction.
func (s *Store) RecordMessageEvents(ctx context.Context, evs []parley.MessageEvent) error {
	return s.bizWrite(ctx, "record message events", func(tx *sql.Tx) error {
		st := &evStmts{tx: tx} // statements parsed once per batch
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
		return st.addTotals(ctx, totals) // one update per status, not per event
	})
}

// evStmts are recordMessageEvent's statements, prepared in tx on first use
// (and closed with it).
type evStmts struct {
	tx                                          *sql.Tx
	lookup, insert, total, waitAdd, waitDel, rs *sql.Stmt
}

func (e *evStmts) get(ctx context.Context, p **sql.Stmt, q string) (*sql.Stmt, error) {
	if *p == nil {
		st, err := e.tx.PrepareContext(ctx, q)
		if err != nil {
			return nil, err
		}
		*p = st
	}
	return *p, nil
}

func (e *evStmts) queryRow(ctx context.Context, p **sql.Stmt, q string, args ...any) *sql.Row {
	st, err := e.get(ctx, p, q)
	if err != nil {
		return e.tx.QueryRowContext(ctx, q, args...) // reports the same error
	}
	return st.QueryRowContext(ctx, args...)
}

func (e *evStmts) exec(ctx context.Context, p **sql.Stmt, q string, args ...any) (sql.Result, error) {
	st, err := e.get(ctx, p, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// addTotals adds counts per status to insights_status_totals.
func (e *evStmts) addTotals(ctx context.Context, totals map[string]int64) error {
	for status, n := range totals {
		if _, err := e.exec(ctx, &e.total, `INSERT INTO insights_status_totals (status, n) VALUES (?, ?)
			ON CONFLICT (status) DO UPDATE SET n = n + excluded.n`, status, n); err != nil {
			return err
		}
	}
	return nil
}

// recordMessageEvent stores ev once per (business, message, status) and
// reports whether it was new; the caller adds it to the status totals.
func recordMessageEvent(ctx context.Context, tx *evStmts, ev parley.MessageEvent) (bool, error) {
	if ev.Template == "" && ev.Category == "" && ev.Campaign == "" || ev.Customer == "" {
		var cust, tmpl, cat, camp string
		err := tx.queryRow(ctx, &tx.lookup, `SELECT customer, template, category, campaign FROM insights_events
			WHERE business_id = ? AND message_id = ? LIMIT 1`, ev.Business, ev.MessageID).Scan(&cust, &tmpl, &cat, &camp)
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
	res, err := tx.exec(ctx, &tx.insert, `INSERT INTO insights_events (business_id, message_id, status, customer, template, category, campaign, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		ev.Business, ev.MessageID, ev.Status, ev.Customer, ev.Template, ev.Category, ev.Campaign, ns(ev.At))
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	switch ev.Status {
	case parley.StatusInbound:
		_, err = tx.exec(ctx, &tx.waitAdd, `INSERT INTO insights_waiting (business_id, customer, inbound_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			ev.Business, ev.Customer, ns(ev.At))
	case parley.StatusSent:
		var in int64
		err = tx.queryRow(ctx, &tx.waitDel, `DELETE FROM insights_waiting WHERE business_id = ? AND customer = ? AND inbound_at <= ? RETURNING inbound_at`,
			ev.Business, ev.Customer, ns(ev.At)).Scan(&in)
		if errors.Is(err, sql.ErrNoRows) {
			return true, nil
		}
		if err != nil {
			return true, err
		}
		_, err = tx.exec(ctx, &tx.rs, `INSERT INTO insights_responses (business_id, customer, inbound_at, sent_at) VALUES (?, ?, ?, ?)`,
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
		rows, err := s.r.QueryContext(ctx, `SELECT `+expr+` AS k, status, COUNT(*) FROM insights_events WHERE `+where+extra+` GROUP BY k, status ORDER BY k`, args...)
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
			total.Add(status, n)
		}
		return out, rows.Err()
	}
	// at is Unix nanoseconds; strftime wants seconds.
	if days, err = group(`strftime('%Y-%m-%d', at / 1000000000, 'unixepoch')`, ``); err != nil {
		return total, nil, nil, nil, wrap("insights totals", err)
	}
	keep := total
	if templates, err = group(`template`, ` AND template <> ''`); err != nil {
		return total, nil, nil, nil, wrap("insights totals", err)
	}
	if campaigns, err = group(`campaign`, ` AND campaign <> ''`); err != nil {
		return total, nil, nil, nil, wrap("insights totals", err)
	}
	return keep, days, templates, campaigns, nil
}

// ResponseTimes lists answers sent in [q.From, q.To), oldest first.
func (s *Store) ResponseTimes(ctx context.Context, q parley.InsightsQuery, limit int) ([]parley.ResponseTime, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT customer, inbound_at, sent_at FROM insights_responses
		WHERE business_id = ? AND sent_at >= ? AND sent_at < ? ORDER BY sent_at LIMIT ?`, q.Business, ns(q.From), ns(q.To), limit)
	if err != nil {
		return nil, wrap("response times", err)
	}
	defer rows.Close()
	var out []parley.ResponseTime
	for rows.Next() {
		var r parley.ResponseTime
		var in, sent int64
		if err := rows.Scan(&r.Customer, &in, &sent); err != nil {
			return nil, wrap("response times", err)
		}
		r.InboundAt, r.SentAt = fromNS(in), fromNS(sent)
		out = append(out, r)
	}
	return out, wrap2("response times", rows.Err())
}

// MessageStatuses returns the statuses of one message.
func (s *Store) MessageStatuses(ctx context.Context, business parley.UserID, messageID string) (parley.MessageStatuses, error) {
	m := parley.MessageStatuses{MessageID: messageID, At: map[string]time.Time{}}
	rows, err := s.r.QueryContext(ctx, `SELECT status, customer, template, category, campaign, at FROM insights_events
		WHERE business_id = ? AND message_id = ? ORDER BY status`, business, messageID)
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
	rows, err := s.r.QueryContext(ctx, `SELECT status, n FROM insights_status_totals`)
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
