package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	sqlite3 "modernc.org/sqlite"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/store/sqlstore"
)

// shared is the dialect-independent part of the store (store/sqlstore),
// embedded in Store under an unexported name.
type shared = sqlstore.Store

// backend is SQLite's sqlstore.Backend: writes go through the one writer
// connection, reads through the read-only pool, and queries run as written
// (SQLite takes `?` placeholders).
type backend struct{ s *Store }

func (backend) Name() string { return "sqlite" }

func (b backend) Reader() sqlstore.Querier { return dbQuerier{b.s.r} }

func (b backend) Write(ctx context.Context, op string, log bool, f func(tx sqlstore.Querier) error) error {
	return b.s.writeTx(ctx, op, func(tx *sql.Tx) error { return f(txQuerier{tx, b.s.hot}) }, log)
}

func (b backend) AppendAll(ctx context.Context, tx sqlstore.Querier, id parley.ConversationID, envs, out []parley.Envelope) error {
	return b.s.appendAll(ctx, tx.(txQuerier).tx, id, envs, out)
}

func (backend) LockKey(context.Context, sqlstore.Querier, parley.UserID, string) error {
	return nil // the single writer serialises every write
}

// SQLite extended result codes.
const (
	constraintForeignKey = 787
	constraintPrimaryKey = 1555
	constraintUnique     = 2067
)

// Violation reads the "table.column" SQLite names in a UNIQUE or PRIMARY
// KEY failure ("UNIQUE constraint failed: users.phone (2067)").
func (backend) Violation(err error) sqlstore.Violation {
	var se *sqlite3.Error
	if !errors.As(err, &se) {
		return sqlstore.Violation{}
	}
	switch se.Code() {
	case constraintUnique, constraintPrimaryKey:
		msg := se.Error()
		if i := strings.LastIndex(msg, "constraint failed: "); i >= 0 {
			msg = msg[i+len("constraint failed: "):]
		}
		if i := strings.IndexAny(msg, " ,"); i >= 0 {
			msg = msg[:i]
		}
		return sqlstore.Violation{Unique: true, Column: msg}
	case constraintForeignKey:
		return sqlstore.Violation{FK: true}
	}
	return sqlstore.Violation{}
}

// dbQuerier runs queries on a pool.
type dbQuerier struct{ db *sql.DB }

func (q dbQuerier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	return rowsAffected(q.db.ExecContext(ctx, query, args...))
}

func (q dbQuerier) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	return q.db.QueryContext(ctx, query, args...)
}

func (q dbQuerier) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return q.db.QueryRowContext(ctx, query, args...)
}

// txQuerier runs queries in a write transaction, the statements of
// sqlstore.HotWriterSQL prepared (once, on the writer connection).
type txQuerier struct {
	tx  *sql.Tx
	hot map[string]*sql.Stmt
}

func (q txQuerier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	if st := q.hot[query]; st != nil {
		return rowsAffected(q.tx.StmtContext(ctx, st).ExecContext(ctx, args...))
	}
	return rowsAffected(q.tx.ExecContext(ctx, query, args...))
}

func (q txQuerier) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	if st := q.hot[query]; st != nil {
		return q.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return q.tx.QueryContext(ctx, query, args...)
}

func (q txQuerier) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	if st := q.hot[query]; st != nil {
		return q.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return q.tx.QueryRowContext(ctx, query, args...)
}

func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
