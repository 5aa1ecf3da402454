// Package postgres implements parley.Store on PostgreSQL (pgx, pgxpool): the
// store of a cluster of Parley servers sharing one database.
//
// Guarantees, beyond those of parley.Store:
//   - Durability: every method commits one transaction and returns after the
//     commit is acknowledged; with PostgreSQL's default synchronous_commit=on
//     the effect is in the WAL on disk (and on synchronous replicas, if
//     configured) before the method returns.
//   - Seq assignment is serialised per conversation by locking the
//     conversation's row (SELECT … FOR UPDATE, in conversation ID order so
//     batches that mix conversations never deadlock): concurrent Appends,
//     from any number of servers, never produce gaps or duplicates.
//   - ApplyCommit locks the conversation's row (SELECT … FOR UPDATE) before
//     it checks the epoch: of concurrent commits for one epoch exactly one
//     wins; the others get CodeConflict "wrong_epoch".
//   - Concurrent KeyPackage claims never return the same one-time
//     KeyPackage (FOR UPDATE SKIP LOCKED); a link code is taken once.
//   - Transactions that fail with a serialisation failure or a deadlock are
//     retried a few times before the error is returned.
//   - Times are stored as Unix nanoseconds (bigint) so they round-trip
//     exactly, in UTC; the zero time round-trips.
//
// Everything but the message log's hot paths is store/sqlstore's SQL, shared with
// store/sqlite (see docs/storage.md).
//
// The schema is embedded (migrations/*.sql) and migrated with goose when the
// store is opened; concurrent Opens take a PostgreSQL advisory lock, so
// several servers may start at once.
//
// Its tests run the store/storetest contract suite against a real server,
// each test in a fresh schema:
//
//	eval "$(scripts/postgres-start.sh)"
//	go test ./store/postgres/
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a parley.Store on a PostgreSQL database. It is safe for
// concurrent use.
type Store struct {
	*shared
	pool   *pgxpool.Pool
	rebind sqlstore.Rebinder
}

var _ parley.Store = (*Store)(nil)

// Open connects to the database at dsn (a PostgreSQL URL or key=value
// string) and migrates its schema to the latest version. Pool settings go in
// the DSN: pool_max_conns (default max(4, CPUs)) bounds the transactions in
// flight, so raise it when many callers append at once — PostgreSQL then
// flushes their commits to the WAL together.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	s := &Store{pool: pool}
	s.shared = sqlstore.New(backend{s})
	return s, nil
}

func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool) // closing db leaves the pool open
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithDisableGlobalRegistry(true), goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Close closes the connection pool, waiting for connections in use.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// maxAttempts bounds retries of transactions failing with a serialisation
// failure or a deadlock.
const maxAttempts = 5

// tx runs f in a transaction and commits it, retrying on serialisation
// failures and deadlocks; f must be safe to run again. *parley.Error results
// pass through unwrapped; others get op context.
func (s *Store) tx(ctx context.Context, op string, f func(tx pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := pgx.BeginFunc(ctx, s.pool, f)
		if err == nil {
			return nil
		}
		var pe *pgconn.PgError
		if attempt < maxAttempts && errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01") {
			continue
		}
		return wrap(op, err)
	}
}

// wrap adds the operation to err unless it is a *parley.Error meant for the
// caller.
func wrap(op string, err error) error { return sqlstore.Wrap("postgres", op, err) }

var (
	ns, fromNS = sqlstore.NS, sqlstore.FromNS
	notFound   = sqlstore.NotFound
	nonNil     = sqlstore.NonNil
)
