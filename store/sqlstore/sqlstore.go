// Package sqlstore is the part of Parley's SQL stores that SQLite and
// PostgreSQL share: the queries and the row scanning of every table but the
// message log's hot paths, written once over a small Backend (the dialect).
//
// store/sqlite and store/postgres each embed a *Store and add what really
// differs (see docs/storage.md): how a write transaction runs (SQLite's one
// writer connection and group commit; PostgreSQL's pool with retries of
// serialisation failures), how envelopes are appended, and the message log.
//
// Queries are written once, with `?` placeholders; a dialect that wants
// `$n` rewrites each query text once and caches it (Rebinder). Text inside
// `/*pg: ...*/` is SQL for PostgreSQL only (row locks SQLite does not need,
// as its writes are serialised): PostgreSQL's rewrite keeps it, SQLite
// reads it as a comment.
package sqlstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley"
)

// Row is one result row (*sql.Row, pgx.Row); Scan returns sql.ErrNoRows
// when there is none.
type Row interface{ Scan(dest ...any) error }

// Rows is a result set (*sql.Rows satisfies it).
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// Querier runs queries written with `?` placeholders: a transaction or a
// connection pool.
type Querier interface {
	// Exec runs a statement and returns how many rows it changed.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Violation is a constraint violation, in terms both dialects share.
type Violation struct {
	Unique bool   // a UNIQUE or PRIMARY KEY constraint
	FK     bool   // a FOREIGN KEY constraint
	Column string // "table.column": the first column of the violated unique key
}

// Backend is what a dialect package provides.
type Backend interface {
	// Name prefixes errors: "sqlite", "postgres".
	Name() string
	// Reader runs reads outside transactions.
	Reader() Querier
	// Write runs f in one write transaction and commits it. log says that f
	// may change conversations' last Seqs outside an append (SQLite then
	// drops its cache of them). f may run more than once (PostgreSQL
	// retries serialisation failures): it must not keep state between
	// runs. Errors other than *parley.Error come back with op as context.
	Write(ctx context.Context, op string, log bool, f func(tx Querier) error) error
	// AppendAll appends envs to conversation id in tx (overriding their
	// Conversation) and stores them, with their Seq, in out.
	AppendAll(ctx context.Context, tx Querier, id parley.ConversationID, envs, out []parley.Envelope) error
	// Violation reports which constraint err violates, if any.
	Violation(err error) Violation
	// LockKey serialises the webhook deliveries of (business, key) until tx
	// ends; a no-op where writes are serialised anyway.
	LockKey(ctx context.Context, tx Querier, business parley.UserID, key string) error
}

// Store implements the shared part of parley.Store and its optional
// capabilities over a Backend.
type Store struct {
	b    Backend
	r    Querier
	name string
}

// New returns the shared store over b.
func New(b Backend) *Store { return &Store{b: b, r: b.Reader(), name: b.Name()} }

// write runs f in a write transaction that may change conversations' last
// Seqs.
func (s *Store) write(ctx context.Context, op string, f func(tx Querier) error) error {
	return s.b.Write(ctx, op, true, f)
}

// bizWrite runs f in a write transaction of tables that hold no envelopes
// (business, webhooks, insights, counters): SQLite keeps its cache of last
// Seqs across it.
func (s *Store) bizWrite(ctx context.Context, op string, f func(tx Querier) error) error {
	return s.b.Write(ctx, op, false, f)
}

// exec runs one statement in its own write transaction.
func (s *Store) exec(ctx context.Context, op, query string, args ...any) error {
	return s.write(ctx, op, func(tx Querier) error {
		_, err := tx.Exec(ctx, query, args...)
		return err
	})
}

// collect scans every row of rows with scan and closes rows.
func collect[T any](rows Rows, scan func(Row) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// scanOne scans a row of one column.
func scanOne[T any](r Row) (T, error) {
	var v T
	err := r.Scan(&v)
	return v, err
}

// selectAll runs q on the reader and collects its rows with scan.
func selectAll[T any](ctx context.Context, s *Store, op string, scan func(Row) (T, error), q string, args ...any) ([]T, error) {
	rows, err := s.r.Query(ctx, q, args...)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	out, err := collect(rows, scan)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	return out, nil
}

// Wrap adds the store's name and op to err unless it is a *parley.Error
// meant for the caller.
func Wrap(name, op string, err error) error {
	var pe *parley.Error
	if errors.As(err, &pe) {
		return err
	}
	return fmt.Errorf("%s: %s: %w", name, op, err)
}

func (s *Store) wrap(op string, err error) error { return Wrap(s.name, op, err) }

// wrap2 is wrap that keeps a nil error nil.
func (s *Store) wrap2(op string, err error) error {
	if err == nil {
		return nil
	}
	return s.wrap(op, err)
}

// NotFound is a CodeNotFound error with reason "not_found".
func NotFound(format string, args ...any) *parley.Error {
	return &parley.Error{Code: parley.CodeNotFound, Reason: parley.ReasonNotFound, Message: fmt.Sprintf(format, args...)}
}

// NS stores a time as Unix nanoseconds; 0 is the zero time.
func NS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// FromNS is the inverse of NS, in UTC.
func FromNS(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

var ns, fromNS, notFound = NS, FromNS, NotFound

// nullable is NULL for the empty string.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// NonNil is b, or an empty slice: BLOB/bytea columns are NOT NULL.
func NonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

var nonNil = NonNil

// Rebinder rewrites `?` and `?N` placeholders as `$N` and keeps the text of
// `/*pg: ...*/` comments, once per distinct query text (cached): calls after
// the first cost one map lookup.
type Rebinder struct{ m sync.Map }

// Rebind returns query for PostgreSQL.
func (r *Rebinder) Rebind(query string) string {
	if v, ok := r.m.Load(query); ok {
		return v.(string)
	}
	out := rebind(query)
	r.m.Store(query, out)
	return out
}

func rebind(q string) string {
	var b strings.Builder
	n := 0
	inStr, inPg := false, false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			inStr = !inStr
			b.WriteByte(c)
		case !inStr && strings.HasPrefix(q[i:], pgOnly):
			inPg = true
			i += len(pgOnly) - 1
		case inPg && strings.HasPrefix(q[i:], "*/"):
			inPg = false
			i++
		case c == '?' && !inStr:
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			b.WriteByte('$')
			if j > i+1 {
				b.WriteString(q[i+1 : j])
			} else {
				n++
				b.WriteString(strconv.Itoa(n))
			}
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// pgOnly opens a comment whose text is SQL for PostgreSQL only.
const pgOnly = "/*pg: "

// HotWriterSQL lists statements run often inside write transactions (the
// webhook outbox's, the insights', members' and KeyPackages' inserts).
// SQLite prepares each once on its writer connection: parsing and planning
// costs it more than the work of such a small statement. (PostgreSQL's
// driver caches prepared statements by itself.)
var HotWriterSQL = []string{
	sqlWebhookKeyBusy, sqlWebhookInsert, sqlWebhookFinishHead, sqlWebhookDelete,
	sqlWebhookUnblock, sqlWebhookDue, sqlWebhookLease,
	sqlInsightsTotal, sqlInsightsLookup, sqlInsightsInsert, sqlInsightsWaitAdd, sqlInsightsWaitDel, sqlInsightsResponse,
	sqlMemberInsert, sqlKeyPackageInsert,
}

// EncodeRecipients encodes an envelope's recipients, the same in both dialects: device IDs as consecutive uvarints; nil for none.
func EncodeRecipients(ds []parley.DeviceID) []byte {
	if len(ds) == 0 {
		return nil
	}
	b := make([]byte, 0, len(ds)*3)
	for _, d := range ds {
		b = binary.AppendUvarint(b, uint64(d))
	}
	return b
}

// DecodeRecipients is the inverse of EncodeRecipients.
func DecodeRecipients(b []byte) ([]parley.DeviceID, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var ds []parley.DeviceID
	for len(b) > 0 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, errors.New("corrupt recipients")
		}
		ds = append(ds, parley.DeviceID(v))
		b = b[n:]
	}
	return ds, nil
}
