package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/store/sqlstore"
)

// appender assigns sequence numbers within one write transaction. It reads
// each conversation's last Seq once and writes it back once (flush).
type appender struct {
	ctx                     context.Context
	tx                      *sql.Tx
	ins, dup, last, setLast *sql.Stmt
	many                    map[int]*sql.Stmt // s.insertMany, not bound to tx
	cache                   *seqCache         // nil: read every conversation's last Seq
	txStmts                 map[*sql.Stmt]*sql.Stmt
	args                    []any
	saved                   []seqState
	convs                   map[parley.ConversationID]*convSeq
	order                   []parley.ConversationID
}

// insertChunks are the row counts of the prepared multi-row envelope
// INSERTs, largest first. One statement per row costs more (binding, VDBE
// setup, driver overhead) than the B-tree work of a small envelope.
var insertChunks = []int{64, 16, 4}

// multiInsertSQL is an INSERT of n envelope rows. It has no ON CONFLICT
// clause: a duplicate client id fails the statement, which SQLite undoes
// whole (the transaction goes on), and the rows are then appended one by one.
func multiInsertSQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO envelopes (conv, seq, sender, sender_device, client_id, kind, epoch, recipients, payload, created_at) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,?,?,?)")
	}
	return b.String()
}

type convSeq struct {
	num   int64 // conversations.num
	last  parley.Seq
	epoch parley.Epoch
	found bool
	dirty bool
}

func (s *Store) newAppender(ctx context.Context, tx *sql.Tx) *appender {
	return &appender{
		ctx:     ctx,
		tx:      tx,
		many:    s.insertMany,
		cache:   &s.seqs,
		ins:     tx.StmtContext(ctx, s.insertEnv),
		dup:     tx.StmtContext(ctx, s.dupEnv),
		last:    tx.StmtContext(ctx, s.lastSeq),
		setLast: tx.StmtContext(ctx, s.setLastSeq),
		convs:   make(map[parley.ConversationID]*convSeq),
	}
}

// seqCache keeps conversations' internal number and last Seq as committed,
// so that a group commit need not read them for every conversation it
// appends to. Group commits update it after committing (unless another
// write came in between: generation); every other write transaction clears
// it before committing, while it holds the writer connection.
type seqCache struct {
	mu  sync.Mutex
	gen uint64
	m   map[parley.ConversationID]seqEntry
}

type seqEntry struct {
	num   int64
	last  parley.Seq
	epoch parley.Epoch
}

// maxSeqCache bounds the cache; it is cleared when full.
const maxSeqCache = 100_000

func (c *seqCache) get(id parley.ConversationID) (seqEntry, bool) {
	c.mu.Lock()
	e, ok := c.m[id]
	c.mu.Unlock()
	return e, ok
}

func (c *seqCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *seqCache) invalidate() {
	c.mu.Lock()
	c.gen++
	clear(c.m)
	c.mu.Unlock()
}

// update records what a committed group's appender knows, if no other write
// happened since generation gen was read inside the group's transaction.
func (c *seqCache) update(gen uint64, a *appender) {
	if a == nil || len(a.convs) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if c.m == nil || len(c.m)+len(a.convs) > maxSeqCache {
		c.m = make(map[parley.ConversationID]seqEntry, len(a.convs))
	}
	for id, cs := range a.convs {
		if cs.found {
			c.m[id] = seqEntry{cs.num, cs.last, cs.epoch}
		}
	}
}

// load returns the conversation's sequence state, reading it on first use.
// found is false for an unknown conversation.
func (a *appender) load(id parley.ConversationID) (*convSeq, error) {
	cs := a.convs[id]
	if cs != nil {
		return cs, nil
	}
	if a.cache != nil {
		if e, ok := a.cache.get(id); ok {
			cs = &convSeq{num: e.num, last: e.last, epoch: e.epoch, found: true}
			a.convs[id] = cs
			a.order = append(a.order, id)
			return cs, nil
		}
	}
	cs = &convSeq{}
	err := a.last.QueryRowContext(a.ctx, id).Scan(&cs.num, &cs.last, &cs.epoch)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, err
	default:
		cs.found = true
	}
	a.convs[id] = cs
	a.order = append(a.order, id)
	return cs, nil
}

// appendMany appends envs as append does, one result each in results, with
// multi-row INSERTs where it can.
func (a *appender) appendMany(envs []parley.Envelope, results []parley.AppendResult) error {
	pend := make([]int, 0, min(len(envs), insertChunks[0]))
	for i := range envs {
		cs, err := a.load(envs[i].Conversation)
		if err != nil {
			return err
		}
		if !cs.found {
			results[i] = parley.AppendResult{Err: notFound("no such conversation %s", envs[i].Conversation)}
			continue
		}
		if staleEpoch(&envs[i], cs.epoch) {
			if results[i], err = a.staleResult(&envs[i], cs); err != nil {
				return err
			}
			continue
		}
		pend = append(pend, i)
		if len(pend) == insertChunks[0] {
			if err := a.insertChunk(envs, pend, results); err != nil {
				return err
			}
			pend = pend[:0]
		}
	}
	for len(pend) > 0 {
		n := 1
		for _, c := range insertChunks {
			if len(pend) >= c {
				n = c
				break
			}
		}
		if err := a.insertChunk(envs, pend[:n], results); err != nil {
			return err
		}
		pend = pend[n:]
	}
	return nil
}

type seqState struct {
	cs    *convSeq
	last  parley.Seq
	dirty bool
}

// insertChunk inserts the envelopes envs[idx...] (known conversations) in one
// statement when len(idx) is one of insertChunks, else one by one.
func (a *appender) insertChunk(envs []parley.Envelope, idx []int, results []parley.AppendResult) error {
	stmt := a.many[len(idx)]
	if stmt == nil {
		for _, i := range idx {
			r, err := a.append(envs[i])
			if err != nil {
				return err
			}
			results[i] = r
		}
		return nil
	}
	args := a.args[:0]
	saved := a.saved[:0]
	for _, i := range idx {
		e := &envs[i]
		cs := a.convs[e.Conversation]
		saved = append(saved, seqState{cs, cs.last, cs.dirty})
		cs.last++
		cs.dirty = true
		results[i] = parley.AppendResult{Seq: cs.last}
		var recipients any
		if len(e.Recipients) > 0 {
			recipients = sqlstore.EncodeRecipients(e.Recipients)
		}
		args = append(args, cs.num, int64(cs.last), int64(e.Sender), int64(e.SenderDevice), string(e.ClientID),
			int64(e.Kind), int64(e.Epoch), recipients, nonNil(e.Payload), ns(e.CreatedAt))
	}
	_, err := a.ctxStmt(stmt).ExecContext(a.ctx, args...)
	clear(args)
	a.args, a.saved = args[:0], saved[:0]
	if err == nil {
		return nil
	}
	if unique, _, _ := constraint(err); !unique {
		return err
	}
	// A duplicate client id: SQLite undid the statement. Undo the Seqs and
	// append the rows one by one, which resolves duplicates.
	for k := len(saved) - 1; k >= 0; k-- {
		saved[k].cs.last, saved[k].cs.dirty = saved[k].last, saved[k].dirty
	}
	for _, i := range idx {
		r, err := a.append(envs[i])
		if err != nil {
			return err
		}
		results[i] = r
	}
	return nil
}

// ctxStmt returns stmt bound to the appender's transaction, once per
// transaction.
func (a *appender) ctxStmt(stmt *sql.Stmt) *sql.Stmt {
	if ts := a.txStmts[stmt]; ts != nil {
		return ts
	}
	if a.txStmts == nil {
		a.txStmts = make(map[*sql.Stmt]*sql.Stmt)
	}
	ts := a.tx.StmtContext(a.ctx, stmt)
	a.txStmts[stmt] = ts
	return ts
}

// append appends e. An unknown conversation is reported in the result's
// Err; the error return is for failures that abort the transaction.
func (a *appender) append(e parley.Envelope) (parley.AppendResult, error) {
	cs, err := a.load(e.Conversation)
	if err != nil {
		return parley.AppendResult{}, err
	}
	if !cs.found {
		return parley.AppendResult{Err: notFound("no such conversation %s", e.Conversation)}, nil
	}
	if staleEpoch(&e, cs.epoch) {
		return a.staleResult(&e, cs)
	}
	seq := cs.last + 1
	res, err := a.ins.ExecContext(a.ctx, cs.num, seq, e.Sender, e.SenderDevice, string(e.ClientID),
		int(e.Kind), int64(e.Epoch), sqlstore.EncodeRecipients(e.Recipients), nonNil(e.Payload), ns(e.CreatedAt))
	if err != nil {
		return parley.AppendResult{}, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return parley.AppendResult{}, err
	} else if n == 0 {
		var orig parley.Seq
		if err := a.dup.QueryRowContext(a.ctx, cs.num, e.SenderDevice, string(e.ClientID)).Scan(&orig); err != nil {
			return parley.AppendResult{}, fmt.Errorf("find duplicate: %w", err)
		}
		return parley.AppendResult{Seq: orig, Duplicate: true}, nil
	}
	cs.last, cs.dirty = seq, true
	return parley.AppendResult{Seq: seq}, nil
}

// staleEpoch reports whether e is an MLS message (application or proposal)
// made in another epoch than the conversation's current one: members who
// joined at the current epoch could not decrypt it.
func staleEpoch(e *parley.Envelope, current parley.Epoch) bool {
	return (e.Kind == parley.EnvelopeApplication || e.Kind == parley.EnvelopeProposal) && e.Epoch != current
}

// staleResult is the result for an envelope of a stale epoch: the original
// Seq if it was appended before (a retry stays idempotent), else
// CodeConflict "wrong_epoch".
func (a *appender) staleResult(e *parley.Envelope, cs *convSeq) (parley.AppendResult, error) {
	if e.ClientID != "" {
		var orig parley.Seq
		err := a.dup.QueryRowContext(a.ctx, cs.num, e.SenderDevice, string(e.ClientID)).Scan(&orig)
		if err == nil {
			return parley.AppendResult{Seq: orig, Duplicate: true}, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return parley.AppendResult{}, fmt.Errorf("find duplicate: %w", err)
		}
	}
	return parley.AppendResult{Err: parley.Errorf(parley.CodeConflict, parley.ReasonWrongEpoch,
		"the conversation is at epoch %d; this message was made in epoch %d", cs.epoch, e.Epoch)}, nil
}

// flush stores each touched conversation's new last Seq.
func (a *appender) flush() error {
	for _, id := range a.order {
		if cs := a.convs[id]; cs.dirty {
			if _, err := a.setLast.ExecContext(a.ctx, cs.last, cs.num); err != nil {
				return err
			}
			cs.dirty = false
		}
	}
	return nil
}

// Append appends envs atomically and returns one result per envelope, in
// order. Within a conversation envelopes get consecutive Seqs in argument
// order; a (conversation, sender device, client id) already in the log (or
// earlier in envs) is not appended again and its result has the original
// Seq and Duplicate set. An envelope with an empty ClientID is never a
// duplicate. An unknown conversation fails only its own envelopes (result
// Err with CodeNotFound). The batch is durable when Append returns nil.
//
// Appends from concurrent callers are group-committed (see Store).
func (s *Store) Append(ctx context.Context, envs []parley.Envelope) ([]parley.AppendResult, error) {
	if len(envs) == 0 {
		return nil, nil
	}
	var results []parley.AppendResult
	err := s.commit(ctx, "append", len(envs), func(ctx context.Context, tx *sql.Tx, a *appender) error {
		results = make([]parley.AppendResult, len(envs))
		if err := a.appendMany(envs, results); err != nil {
			return err
		}
		return a.flush()
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

const envelopeCols = `seq, sender, sender_device, client_id, kind, epoch, recipients, payload, created_at`

// ReadLog returns up to limit envelopes of the conversation with Seq > after,
// in order. CodeNotFound if the conversation does not exist.
func (s *Store) ReadLog(ctx context.Context, id parley.ConversationID, after parley.Seq, limit int) ([]parley.Envelope, error) {
	if limit <= 0 {
		return nil, s.MustExist(ctx, id)
	}
	rows, err := s.readLog.QueryContext(ctx, id, after, limit)
	if err != nil {
		return nil, wrap("read log", err)
	}
	defer rows.Close()
	envs := make([]parley.Envelope, 0, min(limit, 64))
	for rows.Next() {
		e := parley.Envelope{Conversation: id}
		var kind int
		var epoch, created int64
		var recipients []byte
		if err := rows.Scan(&e.Seq, &e.Sender, &e.SenderDevice, &e.ClientID, &kind, &epoch, &recipients, &e.Payload, &created); err != nil {
			return nil, wrap("read log", err)
		}
		e.Kind, e.Epoch, e.CreatedAt = parley.EnvelopeKind(kind), parley.Epoch(epoch), fromNS(created)
		if e.Recipients, err = sqlstore.DecodeRecipients(recipients); err != nil {
			return nil, wrap("read log", err)
		}
		envs = append(envs, e)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("read log", err)
	}
	if len(envs) == 0 {
		return nil, s.MustExist(ctx, id)
	}
	return envs, nil
}

// Ack moves the device's cursor forward to seq, capped at the conversation's
// last Seq; a lower seq is a no-op. CodeNotFound if the device is not a
// member.
//
// Acks from concurrent callers are group-committed (see Store).
func (s *Store) Ack(ctx context.Context, id parley.ConversationID, device parley.DeviceID, seq parley.Seq) error {
	return s.commit(ctx, "ack", 1, func(ctx context.Context, tx *sql.Tx, _ *appender) error {
		res, err := tx.StmtContext(ctx, s.ackCursor).ExecContext(ctx, seq, id, device)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("the device is not a member of the conversation")
		}
		return nil
	})
}

// AckBatch moves several cursors as Ack does, in one durable transaction
// (group-committed with concurrent writes; with none under way it waits up
// to 25 ms for one rather than commit alone). Cursors of devices that are not
// members are skipped; if there were any, AckBatch returns CodeNotFound after
// applying the others (moving a cursor is idempotent, so a caller may retry
// them one by one with Ack to find out which). It implements
// delivery.AckBatcher.
func (s *Store) AckBatch(ctx context.Context, acks []parley.Cursor) error {
	if len(acks) == 0 {
		return nil
	}
	missing := 0
	err := s.commitLazy(ctx, "ack", len(acks), func(ctx context.Context, tx *sql.Tx, _ *appender) error {
		missing = 0
		st := tx.StmtContext(ctx, s.ackCursor)
		for _, c := range acks {
			res, err := st.ExecContext(ctx, c.Acked, c.Conversation, c.Device)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				missing++
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if missing > 0 {
		return notFound("%d of the devices are not members of their conversations", missing)
	}
	return nil
}

// MarkRead records that user read the conversation up to seq (capped at the
// last Seq; never backwards). CodeNotFound for an unknown conversation.
//
// Read marks from concurrent callers are group-committed (see Store).
func (s *Store) MarkRead(ctx context.Context, id parley.ConversationID, user parley.UserID, seq parley.Seq) error {
	return s.commit(ctx, "mark read", 1, func(ctx context.Context, tx *sql.Tx, _ *appender) error {
		var last parley.Seq
		err := tx.QueryRowContext(ctx, `SELECT last_seq FROM conversations WHERE id = ?`, id).Scan(&last)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("no such conversation")
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO read_marks (conversation_id, user_id, seq) VALUES (?, ?, ?)
			ON CONFLICT (conversation_id, user_id) DO UPDATE SET seq = max(seq, excluded.seq)`, id, user, min(seq, last))
		return err
	})
}

// firstRowidSince returns the lowest rowid at or after which every envelope
// was created at or after t (one past the last rowid if none was).
//
// The log has no index on created_at, which would cost every append a
// B-tree insert: rowids grow with appends and each envelope's created_at is
// the server's clock when it was sent, so created_at grows with the rowid
// and a binary search over rowids finds the cut. If the clock was set back,
// envelopes sent around the step may be pruned that much earlier or later.
func (s *Store) firstRowidSince(ctx context.Context, t time.Time) (int64, error) {
	var lo, hi sql.NullInt64
	if err := s.r.QueryRowContext(ctx, `SELECT min(rowid), max(rowid) FROM envelopes`).Scan(&lo, &hi); err != nil {
		return 0, err
	}
	if !lo.Valid {
		return 0, nil
	}
	// The answer is in [lo, hi+1]: the smallest x whose first row at or
	// after x was created at or after t (past the end: none).
	a, b := lo.Int64, hi.Int64+1
	cut := ns(t)
	for a < b {
		mid := a + (b-a)/2
		var rowid, created int64
		err := s.r.QueryRowContext(ctx, `SELECT rowid, created_at FROM envelopes WHERE rowid >= ? ORDER BY rowid LIMIT 1`, mid).Scan(&rowid, &created)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			b = mid
		case err != nil:
			return 0, err
		case created < cut:
			a = rowid + 1
		default:
			b = mid
		}
	}
	return a, nil
}

// pruneChunk bounds how many rows one Prune transaction deletes, so that a
// large prune never holds the writer for long.
const pruneChunk = 5000

// Prune deletes the envelopes every member device has acknowledged (Seq <=
// the lowest member cursor; all of them in a conversation without members)
// and those created before olderThan. It works in bounded transactions, each
// atomic and durable, so writers are never held up for long; if it fails
// midway, the count covers what was deleted and calling it again finishes
// the job.
func (s *Store) Prune(ctx context.Context, olderThan time.Time) (int, error) {
	total := 0
	if !olderThan.IsZero() {
		end, err := s.firstRowidSince(ctx, olderThan)
		if err != nil {
			return 0, wrap("prune", err)
		}
		n, err := s.deleteInChunks(ctx, "prune", pruneChunk, `DELETE FROM envelopes WHERE rowid IN
			(SELECT rowid FROM envelopes WHERE rowid < ? LIMIT ?)`, end, pruneChunk)
		total += n
		if err != nil {
			return total, err
		}
	}

	// Conversations whose lowest cursor moved past what was pruned. Cursors
	// only grow and new members join at the last Seq, so the lowest cursor
	// read here stays a safe bound when the deletion runs.
	type cut struct {
		num      int64
		from, to parley.Seq
	}
	rows, err := s.r.QueryContext(ctx, `SELECT c.num, c.pruned_seq, COALESCE(MIN(m.cursor), c.last_seq) AS low
		FROM conversations c LEFT JOIN members m ON m.conversation_id = c.id
		GROUP BY c.num HAVING low > c.pruned_seq`)
	if err != nil {
		return total, wrap("prune", err)
	}
	var cuts []cut
	for rows.Next() {
		var c cut
		if err := rows.Scan(&c.num, &c.from, &c.to); err != nil {
			rows.Close()
			return total, wrap("prune", err)
		}
		cuts = append(cuts, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return total, wrap("prune", err)
	}
	for len(cuts) > 0 {
		var n int64
		err := s.write(ctx, "prune", func(tx *sql.Tx) error {
			for len(cuts) > 0 && n < pruneChunk {
				c := cuts[0]
				res, err := tx.ExecContext(ctx, `DELETE FROM envelopes WHERE conv = ? AND seq > ? AND seq <= ?`, c.num, c.from, c.to)
				if err != nil {
					return err
				}
				d, err := res.RowsAffected()
				if err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `UPDATE conversations SET pruned_seq = ? WHERE num = ? AND pruned_seq < ?`, c.to, c.num, c.to); err != nil {
					return err
				}
				n += d
				cuts = cuts[1:]
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += int(n)
	}
	return total, nil
}

// appendAll appends envs to conversation id (overriding their Conversation)
// and stores them, with their Seq, in out.
func (s *Store) appendAll(ctx context.Context, tx *sql.Tx, id parley.ConversationID, envs []parley.Envelope, out []parley.Envelope) error {
	a := s.newAppender(ctx, tx)
	for i, e := range envs {
		e.Conversation = id
		r, err := a.append(e)
		if err != nil {
			return err
		}
		if r.Err != nil {
			return r.Err
		}
		if r.Duplicate {
			return sqlstore.ErrDuplicateInCommit(e)
		}
		e.Seq = r.Seq
		out[i] = e
	}
	return a.flush()
}

// PruneDisappearing deletes expired application envelopes of conversations
// with a timer, in bounded transactions.
func (s *Store) PruneDisappearing(ctx context.Context, now time.Time) (int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT c.num, t.ttl FROM chat_timers t JOIN conversations c ON c.id = t.conversation_id WHERE t.ttl > 0`)
	if err != nil {
		return 0, wrap("prune disappearing", err)
	}
	type timer struct{ num, ttl int64 }
	var timers []timer
	for rows.Next() {
		var t timer
		if err := rows.Scan(&t.num, &t.ttl); err != nil {
			rows.Close()
			return 0, wrap("prune disappearing", err)
		}
		timers = append(timers, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, wrap("prune disappearing", err)
	}
	total := 0
	for _, t := range timers {
		n, err := s.deleteInChunks(ctx, "prune disappearing", 4096, `DELETE FROM envelopes WHERE rowid IN (SELECT rowid FROM envelopes
			WHERE conv = ? AND kind = ? AND created_at < ? LIMIT ?)`, t.num, int(parley.EnvelopeApplication), now.UnixNano()-t.ttl, 4096)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// deleteInChunks runs query, a DELETE of at most chunk rows, one write
// transaction at a time until it deletes fewer, and returns how many rows
// it deleted.
func (s *Store) deleteInChunks(ctx context.Context, op string, chunk int64, query string, args ...any) (int, error) {
	total := 0
	for {
		var n int64
		err := s.write(ctx, op, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, query, args...)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		total += int(n)
		if err != nil || n < chunk {
			return total, err
		}
	}
}
