package postgres

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/store/sqlstore"
)

// shared is the dialect-independent part of the store (store/sqlstore),
// embedded in Store under an unexported name.
type shared = sqlstore.Store

// backend is PostgreSQL's sqlstore.Backend: transactions on the pool,
// retried on serialisation failures, queries rebound to `$n` placeholders.
type backend struct{ s *Store }

func (backend) Name() string { return "postgres" }

func (b backend) Reader() sqlstore.Querier { return pgxQuerier{b.s.pool, &b.s.rebind} }

func (b backend) Write(ctx context.Context, op string, _ bool, f func(tx sqlstore.Querier) error) error {
	return b.s.tx(ctx, op, func(tx pgx.Tx) error { return f(pgxQuerier{tx, &b.s.rebind}) })
}

// AppendAll appends with appendTx, the batch's four statements.
func (backend) AppendAll(ctx context.Context, tx sqlstore.Querier, id parley.ConversationID, envs, out []parley.Envelope) error {
	if len(envs) == 0 {
		return nil
	}
	copy(out, envs)
	for i := range out {
		out[i].Conversation = id
	}
	rs, err := appendTx(ctx, tx.(pgxQuerier).q.(pgx.Tx), out)
	if err != nil {
		return err
	}
	for i, r := range rs {
		if r.Err != nil {
			return r.Err
		}
		if r.Duplicate {
			return sqlstore.ErrDuplicateInCommit(out[i])
		}
		out[i].Seq = r.Seq
	}
	return nil
}

// AddMembers inserts every member in one statement.
func (backend) AddMembers(ctx context.Context, tx sqlstore.Querier, id parley.ConversationID, members []parley.Member, from parley.Seq) error {
	if len(members) == 0 {
		return nil
	}
	devs, users := make([]int64, len(members)), make([]int64, len(members))
	for i, m := range members {
		devs[i], users[i] = int64(m.Device), int64(m.User)
	}
	_, err := tx.Exec(ctx, `INSERT INTO members (conversation_id, device_id, user_id, from_seq, cursor)
		SELECT ?1, d, u, ?2, ?2 FROM unnest(?3::bigint[], ?4::bigint[]) AS a(d, u) ON CONFLICT DO NOTHING`, id, int64(from), devs, users)
	return err
}

// LockKey takes a transaction-scoped advisory lock on (business, key).
func (backend) LockKey(ctx context.Context, tx sqlstore.Querier, business parley.UserID, key string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(?, ?))`, key, int64(business))
	return err
}

// Violation maps SQLSTATE 23505 (unique) and 23503 (foreign key); the
// column comes from the error's detail, "Key (phone)=(...) already exists.".
func (backend) Violation(err error) sqlstore.Violation {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return sqlstore.Violation{}
	}
	switch pe.Code {
	case "23505":
		col := ""
		if d, ok := strings.CutPrefix(pe.Detail, "Key ("); ok {
			if i := strings.IndexAny(d, ",)"); i >= 0 {
				col = pe.TableName + "." + d[:i]
			}
		}
		return sqlstore.Violation{Unique: true, Column: col}
	case "23503":
		return sqlstore.Violation{FK: true}
	}
	return sqlstore.Violation{}
}

// pgxQuerier runs queries written with `?` on a pool or a transaction.
type pgxQuerier struct {
	q interface {
		Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
		Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
		QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	}
	rb *sqlstore.Rebinder
}

func (q pgxQuerier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := q.q.Exec(ctx, q.rb.Rebind(query), args...)
	return tag.RowsAffected(), err
}

func (q pgxQuerier) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	rows, err := q.q.Query(ctx, q.rb.Rebind(query), args...)
	if err != nil {
		return nil, err
	}
	return pgxRows{rows}, nil
}

func (q pgxQuerier) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return q.q.QueryRow(ctx, q.rb.Rebind(query), args...)
}

// pgxRows is pgx.Rows with database/sql's Close.
type pgxRows struct{ pgx.Rows }

func (r pgxRows) Close() error {
	r.Rows.Close()
	return r.Rows.Err()
}
