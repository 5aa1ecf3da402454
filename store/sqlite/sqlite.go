// Package sqlite implements parley.Store on a single SQLite file (pure Go
// driver, no cgo). It is Parley's default single-machine store.
//
// Guarantees, beyond those of parley.Store:
//   - Durability: the database runs in WAL mode with synchronous=FULL by
//     default, so a method that returned nil has its transaction fsynced to
//     the write-ahead log: it survives a process crash and a power cut.
//     WithSynchronousNormal trades that for speed: a power cut (not a
//     process crash) may then lose the last transactions.
//   - Writers never see SQLITE_BUSY from each other: all writes go through
//     one dedicated connection (SQLite allows one writer at a time) and wait
//     for it, honouring their context. Reads use a
//     separate pool of read-only connections and never wait for writers.
//   - Read-your-writes: a read started after a write returned sees it.
//   - Seq assignment, epoch checks and KeyPackage claims are serialised by
//     the single writer, so concurrent calls never produce gaps, duplicates
//     or forked epochs.
//   - Group commit: Append, Ack and MarkRead calls that queue while the
//     writer is busy are committed together in one transaction (one fsync),
//     each call still all-or-nothing, so many callers writing one envelope
//     or one ack each reach batch throughput. Close lets the committer finish
//     the calls it has taken; later ones fail.
//   - Prune deletes in bounded transactions so it never stalls writers.
//   - Times are stored as Unix nanoseconds and come back in UTC with full
//     precision; the zero time round-trips.
//
// Everything but the message log's write path is store/sqlstore's SQL, shared with
// store/postgres (see docs/storage.md).
//
// The schema is embedded (migrations/*.sql) and migrated with goose when the
// store is opened.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"sync"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a parley.Store on one SQLite database file. It is safe for
// concurrent use.
type Store struct {
	*shared
	w *sql.DB // the one writer connection
	r *sql.DB // read-only connections

	insertEnv  *sql.Stmt
	insertMany map[int]*sql.Stmt // multi-row envelope INSERTs by row count (insertChunks)
	dupEnv     *sql.Stmt
	lastSeq    *sql.Stmt
	setLastSeq *sql.Stmt
	ackCursor  *sql.Stmt
	readLog    *sql.Stmt
	hot        map[string]*sql.Stmt // sqlstore.HotWriterSQL, prepared once on the writer
	closeFuncs []func() error

	seqs seqCache // conversations' last Seqs, as committed

	writes        chan *writeReq // to the group committer
	closing       chan struct{}  // closed by Close
	committerDone chan struct{}  // closed when the committer has stopped

	checkpointerDone chan struct{} // closed when the background checkpointer has stopped
	lazyDelay        time.Duration // how long lazy writes wait for company (commit.go)
	closeOnce        sync.Once
}

var _ parley.Store = (*Store)(nil)

type config struct {
	synchronous string
	busyTimeout time.Duration
	readConns   int
}

// Option configures Open.
type Option func(*config)

// WithSynchronousNormal sets synchronous=NORMAL instead of FULL: commits no
// longer wait for an fsync of the write-ahead log. A process crash still
// loses nothing; a power cut or OS crash may lose the most recent
// transactions (the database stays consistent).
func WithSynchronousNormal() Option { return func(c *config) { c.synchronous = "NORMAL" } }

// WithBusyTimeout sets how long a connection waits for a lock held by another
// process (checkpoints, external tools) before failing. Default 10 s.
func WithBusyTimeout(d time.Duration) Option { return func(c *config) { c.busyTimeout = d } }

// WithReadConns sets the size of the read-only connection pool. Default:
// max(4, GOMAXPROCS).
func WithReadConns(n int) Option { return func(c *config) { c.readConns = n } }

// Open opens (creating if needed) the database file at path and migrates its
// schema to the latest version.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	cfg := config{synchronous: "FULL", busyTimeout: 10 * time.Second, readConns: max(4, runtime.GOMAXPROCS(0))}
	for _, o := range opts {
		o(&cfg)
	}
	pragmas := url.Values{}
	pragmas.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", cfg.busyTimeout.Milliseconds()))
	pragmas.Add("_pragma", "foreign_keys(1)")
	pragmas.Add("_pragma", "synchronous("+cfg.synchronous+")")
	pragmas.Add("_pragma", "temp_store(MEMORY)")
	pragmas.Add("_pragma", "cache_size(-16000)")
	// Checkpoints run on a background connection (checkpointLoop) so that
	// copying the WAL into the database never stalls a commit; the writer's
	// own automatic checkpoint is only a backstop for a WAL the background
	// checkpointer could not keep small.
	pragmas.Add("_pragma", "wal_autocheckpoint(65536)")

	wq := url.Values{}
	for k, v := range pragmas {
		wq[k] = append([]string(nil), v...)
	}
	wq.Set("_txlock", "immediate")
	w, err := sql.Open("sqlite", "file:"+path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &Store{w: w, lazyDelay: lazyDelay}
	// WAL mode persists in the file: readers opened later find it set.
	var mode string
	if err := w.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil || mode != "wal" {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: WAL mode: %q, %v", path, mode, err)
	}
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	rq := pragmas
	rq.Add("_pragma", "query_only(1)")
	r, err := sql.Open("sqlite", "file:"+path+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(cfg.readConns)
	r.SetMaxIdleConns(cfg.readConns)
	s.r = r
	s.shared = sqlstore.New(backend{s})
	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	cp, err := sql.Open("sqlite", "file:"+path+"?"+pragmas.Encode())
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	cp.SetMaxOpenConns(1)
	s.writes = make(chan *writeReq)
	s.closing = make(chan struct{})
	s.committerDone = make(chan struct{})
	s.checkpointerDone = make(chan struct{})
	go s.commitLoop()
	go s.checkpointLoop(cp)
	return s, nil
}

// checkpointInterval is how often the background checkpointer copies the
// WAL into the database file.
const checkpointInterval = 250 * time.Millisecond

// checkpointLoop runs PASSIVE checkpoints on its own connection until the
// store closes: they copy committed WAL frames into the database without
// blocking the writer or readers, and let SQLite restart the WAL from its
// beginning once everything has been copied.
func (s *Store) checkpointLoop(cp *sql.DB) {
	defer close(s.checkpointerDone)
	defer cp.Close()
	t := time.NewTicker(checkpointInterval)
	defer t.Stop()
	for {
		select {
		case <-s.closing:
			return
		case <-t.C:
			_, _ = cp.Exec("PRAGMA wal_checkpoint(PASSIVE)")
		}
	}
}

func migrate(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

func (s *Store) prepare(ctx context.Context) error {
	for _, p := range []struct {
		db   *sql.DB
		dst  **sql.Stmt
		text string
	}{
		{s.w, &s.insertEnv, `INSERT INTO envelopes (conv, seq, sender, sender_device, client_id, kind, epoch, recipients, payload, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (client_id, sender_device, conv) WHERE client_id <> '' DO NOTHING`},
		{s.w, &s.dupEnv, `SELECT seq FROM envelopes WHERE conv = ? AND sender_device = ? AND client_id = ? AND client_id <> ''`},
		{s.w, &s.lastSeq, `SELECT num, last_seq, epoch FROM conversations WHERE id = ?`},
		{s.w, &s.setLastSeq, `UPDATE conversations SET last_seq = ? WHERE num = ?`},
		{s.w, &s.ackCursor, `UPDATE members SET cursor = max(cursor, min(?1, (SELECT last_seq FROM conversations WHERE id = ?2)))
			WHERE conversation_id = ?2 AND device_id = ?3`},
		{s.r, &s.readLog, `SELECT ` + envelopeCols + ` FROM envelopes
			WHERE conv = (SELECT num FROM conversations WHERE id = ?) AND seq > ? ORDER BY seq LIMIT ?`},
	} {
		st, err := p.db.PrepareContext(ctx, p.text)
		if err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		*p.dst = st
		s.closeFuncs = append(s.closeFuncs, st.Close)
	}
	s.hot = make(map[string]*sql.Stmt, len(sqlstore.HotWriterSQL))
	for _, q := range sqlstore.HotWriterSQL {
		st, err := s.w.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		s.hot[q] = st
		s.closeFuncs = append(s.closeFuncs, st.Close)
	}
	s.insertMany = make(map[int]*sql.Stmt, len(insertChunks))
	for _, n := range insertChunks {
		st, err := s.w.PrepareContext(ctx, multiInsertSQL(n))
		if err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		s.insertMany[n] = st
		s.closeFuncs = append(s.closeFuncs, st.Close)
	}
	return nil
}

// Close stops the group committer (writes it has taken are committed
// first) and closes the database. Other calls in flight may fail; calls
// after Close fail.
func (s *Store) Close() error {
	if s.closing != nil {
		s.closeOnce.Do(func() { close(s.closing) })
		<-s.committerDone
		if s.checkpointerDone != nil {
			<-s.checkpointerDone
		}
	}
	var errs []error
	for _, f := range s.closeFuncs {
		errs = append(errs, f())
	}
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	errs = append(errs, s.w.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// write runs f in a write transaction on the writer connection. f's
// *parley.Error results pass through unwrapped; others get op context.
func (s *Store) write(ctx context.Context, op string, f func(tx *sql.Tx) error) error {
	return s.writeTx(ctx, op, f, true)
}

// writeTx is write; invalidate drops the cached last Seqs before the
// commit, for transactions that may change them other than through a group
// commit's appender (which updates the cache itself).
func (s *Store) writeTx(ctx context.Context, op string, f func(tx *sql.Tx) error, invalidate bool) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return wrap(op, err)
	}
	if invalidate {
		// Still holding the writer connection: no group commit can read
		// the cache between this commit and the invalidation.
		s.seqs.invalidate()
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: %s: commit: %w", op, err)
	}
	return nil
}

// constraint reports whether err is a uniqueness violation (UNIQUE or
// PRIMARY KEY) or a foreign key one, and the "table.column" SQLite names.
func constraint(err error) (unique bool, fk bool, what string) {
	v := backend{}.Violation(err)
	return v.Unique, v.FK, v.Column
}

// wrap adds the operation to err unless it is a *parley.Error meant for the
// caller.
func wrap(op string, err error) error { return sqlstore.Wrap("sqlite", op, err) }

var (
	ns, fromNS = sqlstore.NS, sqlstore.FromNS
	notFound   = sqlstore.NotFound
	nonNil     = sqlstore.NonNil
)
