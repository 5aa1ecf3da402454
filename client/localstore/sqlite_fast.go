//go:build !js

package localstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/content"
)

// The fast send path of always-online endpoints (client/endpoint.go) on the SQLite
// store: one transaction stores a pending message with its extras, its
// business content and the group's new state; one statement records the
// server's acceptance and moves the cursor past it. The general path takes
// four transactions and a chat summary query per message.

var _ Store = (*sqliteStore)(nil)
var _ Store = (*sealedStore)(nil)

// pendingRow is a pending message as putPending stores it.
type pendingRow struct {
	conv            parley.ConversationID
	state           []byte
	epoch           parley.Epoch
	m               *content.MessageRecord
	ext             content.Ext
	mentions, media []byte
	poll, biz       any
	status          any // a reply's quote of a status post
}

func newPendingRow(conv parley.ConversationID, state []byte, epoch parley.Epoch, m *content.MessageRecord, ext content.Ext) (pendingRow, error) {
	r := pendingRow{conv: conv, state: state, epoch: epoch, m: m, ext: ext}
	r.mentions, _ = json.Marshal(ext.Mentions)
	if ext.Poll != nil {
		b, _ := json.Marshal(ext.Poll)
		r.poll = string(b)
	}
	if ext.Status != nil {
		b, _ := json.Marshal(ext.Status)
		r.status = string(b)
	}
	if m.Media != nil {
		var err error
		if r.media, err = json.Marshal(m.Media); err != nil {
			return r, err
		}
	}
	if ext.Biz != nil {
		b, err := json.Marshal(ext.Biz)
		if err != nil {
			return r, err
		}
		r.biz = string(b)
	}
	return r, nil
}

// stmts are the fast path's statements, prepared once per transaction
// (SQLite parses a statement on every unprepared use).
type stmts struct {
	group, message, extras, business, sent, cursor *sql.Stmt
}

// fastQueries are the fast path's statements.
func (st *stmts) queries() []struct {
	s **sql.Stmt
	q string
} {
	return []struct {
		s **sql.Stmt
		q string
	}{
		{&st.group, `UPDATE chats SET grp = ?, epoch = ?, updated_at = ? WHERE id = ?`},
		{&st.message, `INSERT INTO messages (conversation, seq, client_id, sender, sender_device, outgoing, kind, text, sent_at, stored_at, status, payload, epoch, media, forwarded)
			VALUES (?, 0, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (conversation, sender_device, client_id) DO UPDATE SET
				payload = excluded.payload, epoch = excluded.epoch`},
		{&st.extras, `INSERT INTO message_extras (conversation, sender_device, client_id, reply_to, mentions, everyone, poll, status)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`},
		{&st.business, `INSERT INTO message_business (conversation, sender_device, client_id, content) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`},
		{&st.sent, `UPDATE messages SET seq = ?, payload = NULL, status = CASE WHEN status = 'pending' THEN 'sent' ELSE status END
			WHERE conversation = ? AND client_id = ? AND outgoing = 1`},
		{&st.cursor, `UPDATE chats SET cursor = ? WHERE id = ? AND cursor = ?`},
	}
}

// prepare prepares the statements in tx, or, with cached (prepared once on
// the database: the batch writer's), binds those to tx without parsing
// them again (the store has one connection).
func prepare(ctx context.Context, tx *sql.Tx, cached *stmts) (*stmts, error) {
	var st stmts
	var from []struct {
		s **sql.Stmt
		q string
	}
	if cached != nil {
		from = cached.queries()
	}
	for i, p := range st.queries() {
		if cached != nil {
			*p.s = tx.StmtContext(ctx, *from[i].s)
			continue
		}
		var err error
		if *p.s, err = tx.PrepareContext(ctx, p.q); err != nil {
			return nil, err
		}
	}
	return &st, nil
}

// prepareDB prepares the fast path's statements on db.
func prepareDB(ctx context.Context, db *sql.DB) (*stmts, error) {
	var st stmts
	for _, p := range st.queries() {
		var err error
		if *p.s, err = db.PrepareContext(ctx, p.q); err != nil {
			st.close()
			return nil, err
		}
	}
	return &st, nil
}

func (st *stmts) close() {
	for _, p := range st.queries() {
		if *p.s != nil {
			(*p.s).Close()
		}
	}
}

// writePending stores r.
func (st *stmts) writePending(ctx context.Context, r pendingRow, now int64) error {
	m := r.m
	res, err := st.group.ExecContext(ctx, r.state, int64(r.epoch), now, string(r.conv))
	if err != nil {
		return fmt.Errorf("write group %s: %w", r.conv, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return parley.Errorf(parley.CodeNotFound, ReasonNotJoined, "this device is not in chat %s", r.conv)
	}
	if _, err := st.message.ExecContext(ctx, string(r.conv), string(m.ClientID), int64(m.Sender), int64(m.SenderDevice), m.Kind, m.Text,
		m.SentAt.UnixMilli(), m.StoredAt.UnixMilli(), string(m.Status), m.Payload, int64(m.Epoch), r.media, m.Forwarded); err != nil {
		return fmt.Errorf("write message %s/%s: %w", r.conv, m.ClientID, err)
	}
	if _, err := st.extras.ExecContext(ctx, string(r.conv), int64(m.SenderDevice), string(m.ClientID), int64(r.ext.ReplyTo),
		string(r.mentions), r.ext.Everyone, r.poll, r.status); err != nil {
		return err
	}
	if r.biz != nil {
		if _, err := st.business.ExecContext(ctx, string(r.conv), int64(m.SenderDevice), string(m.ClientID), r.biz); err != nil {
			return err
		}
	}
	return nil
}

// sentMark is the server's acceptance of a message.
type sentMark struct {
	conv   parley.ConversationID
	client parley.ClientMessageID
	seq    parley.Seq
}

// writeMark records a mark.
func (st *stmts) writeMark(ctx context.Context, k sentMark) error {
	if _, err := st.sent.ExecContext(ctx, int64(k.seq), string(k.conv), string(k.client)); err != nil {
		return err
	}
	_, err := st.cursor.ExecContext(ctx, int64(k.seq), string(k.conv), int64(k.seq-1))
	return err
}

// writeBatch runs ws in one transaction and returns each one's error;
// a failed write fails the transaction and is then reported alone.
func writeBatch(ctx context.Context, db *sql.DB, ws []writeReq, cached *stmts) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	st, err := prepare(ctx, tx, cached)
	if err != nil {
		return err
	}
	now := time.Now().UnixMilli()
	for _, w := range ws {
		if w.pending == nil && w.mark == nil {
			continue // a barrier
		}
		if w.pending != nil {
			err = st.writePending(ctx, *w.pending, now)
		} else {
			err = st.writeMark(ctx, *w.mark)
		}
		if err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (s *sqliteStore) PutPending(ctx context.Context, conv parley.ConversationID, state []byte, epoch parley.Epoch, m *content.MessageRecord, ext content.Ext) error {
	r, err := newPendingRow(conv, state, epoch, m, ext)
	if err != nil {
		return err
	}
	return writeBatch(ctx, s.db, []writeReq{{pending: &r}}, nil)
}

func (s *sqliteStore) QueuePending(ctx context.Context, conv parley.ConversationID, state []byte, epoch parley.Epoch, m *content.MessageRecord, ext content.Ext) (func() error, error) {
	err := s.PutPending(ctx, conv, state, epoch, m, ext)
	return func() error { return nil }, err
}

func (s *sqliteStore) QueueMarkSent(ctx context.Context, conv parley.ConversationID, client parley.ClientMessageID, seq parley.Seq) error {
	return s.MarkSentAdvance(ctx, conv, client, seq)
}

func (s *sqliteStore) MarkSentAdvance(ctx context.Context, conv parley.ConversationID, client parley.ClientMessageID, seq parley.Seq) error {
	return writeBatch(ctx, s.db, []writeReq{{mark: &sentMark{conv, client, seq}}}, nil)
}

// The sealed store (the hosted endpoint's) group-commits its fast path:
// concurrent sends' pending rows and acceptances go to the database in one
// transaction per batch, each caller waiting for the commit that holds its
// row (when a batch fails, its writes are retried one by one so only the
// failing one reports an error). The order of rows within and across batches is the order of the
// calls, so a group's state is never overwritten by an older one.

type writeReq struct {
	pending *pendingRow
	mark    *sentMark
	lazy    bool // nobody waits: commit it with the next write (or after markLinger)
	done    chan error
}

func (s *sealedStore) PutPending(ctx context.Context, conv parley.ConversationID, state []byte, epoch parley.Epoch, m *content.MessageRecord, ext content.Ext) error {
	wait, err := s.QueuePending(ctx, conv, state, epoch, m, ext)
	if err != nil {
		return err
	}
	return wait()
}

func (s *sealedStore) QueuePending(ctx context.Context, conv parley.ConversationID, state []byte, epoch parley.Epoch, m *content.MessageRecord, ext content.Ext) (func() error, error) {
	r, err := newPendingRow(conv, s.seal(state, "group:"+string(conv)), epoch, m, ext)
	if err != nil {
		return nil, err
	}
	w, err := s.enqueue(writeReq{pending: &r})
	if err != nil {
		return nil, err
	}
	return func() error { return s.wait(ctx, w) }, nil
}

func (s *sealedStore) MarkSentAdvance(ctx context.Context, conv parley.ConversationID, client parley.ClientMessageID, seq parley.Seq) error {
	return s.submit(ctx, writeReq{mark: &sentMark{conv, client, seq}})
}

func (s *sealedStore) QueueMarkSent(ctx context.Context, conv parley.ConversationID, client parley.ClientMessageID, seq parley.Seq) error {
	_, err := s.enqueue(writeReq{mark: &sentMark{conv, client, seq}, lazy: true})
	return err
}

// submit queues a write for the batch writer and waits for its commit.
func (s *sealedStore) submit(ctx context.Context, w writeReq) error {
	w, err := s.enqueue(w)
	if err != nil {
		return err
	}
	return s.wait(ctx, w)
}

// barrier waits until every write queued before it is committed (or
// failed); it returns at once when none is in flight. Writes of a group's
// state outside the fast path (Apply), and reads of it (Group), pass it
// first, so a queued older state never lands after a newer one and a
// reload never sees a state older than one a queued send relies on. Their
// callers hold cryptoMu, so no send queues meanwhile.
func (s *sealedStore) barrier(ctx context.Context) error {
	s.wMu.Lock()
	busy := s.wBusy > 0
	s.wMu.Unlock()
	if !busy {
		return nil
	}
	return s.submit(ctx, writeReq{})
}

// enqueue queues a write for the batch writer.
func (s *sealedStore) enqueue(w writeReq) (writeReq, error) {
	w.done = make(chan error, 1)
	s.wMu.Lock()
	if s.wClosed {
		s.wMu.Unlock()
		return w, parley.Errorf(parley.CodeUnavailable, ReasonClosed, "the local store is closed")
	}
	s.wBusy++
	if s.wStop == nil {
		s.wSig = make(chan struct{}, 1)
		s.wStop = make(chan struct{})
		s.wDone = make(chan struct{})
		go s.writeLoop()
	}
	s.wQueue = append(s.wQueue, w)
	if w.lazy {
		// Nobody waits for a mark: it goes with the next write anyone
		// waits for, or after markLinger, so that marks do not cost a
		// commit each.
		if s.wTimer == nil {
			s.wTimer = time.AfterFunc(markLinger, s.signal)
		}
		s.wMu.Unlock()
		return w, nil
	}
	s.wMu.Unlock()
	s.signal()
	return w, nil
}

// markLinger bounds how long a queued mark waits for other writes.
const markLinger = 10 * time.Millisecond

func (s *sealedStore) signal() {
	select {
	case s.wSig <- struct{}{}:
	default:
	}
}

// wait waits for a queued write's commit.
func (s *sealedStore) wait(ctx context.Context, w writeReq) error {
	select {
	case err := <-w.done:
		return err
	case <-ctx.Done():
		// The write may still be committed; the message then stays pending
		// and is sent again (under its client id) by the next flush.
		return ctx.Err()
	}
}

// maxBatch bounds the writes of one transaction.
const maxBatch = 256

func (s *sealedStore) writeLoop() {
	defer close(s.wDone)
	for {
		select {
		case <-s.wSig:
		case <-s.wStop:
			for s.flushWrites() {
			}
			return
		}
		for s.flushWrites() {
		}
	}
}

// flushWrites commits up to maxBatch queued writes and reports whether
// more are queued.
func (s *sealedStore) flushWrites() bool {
	s.wMu.Lock()
	if s.wTimer != nil {
		s.wTimer.Stop()
		s.wTimer = nil
	}
	n := min(len(s.wQueue), maxBatch)
	batch := append([]writeReq(nil), s.wQueue[:n]...)
	s.wQueue = s.wQueue[n:]
	more := len(s.wQueue) > 0
	s.wMu.Unlock()
	if n == 0 {
		return false
	}
	ctx := context.Background()
	if s.wStmts == nil {
		// Prepared once, on the first batch; on failure each batch
		// prepares its own.
		s.wStmts, _ = prepareDB(ctx, s.db)
	}
	errs := make([]error, n)
	if err := writeBatch(ctx, s.db, batch, s.wStmts); err != nil && n > 1 {
		// Find the culprit: each write on its own.
		for i := range batch {
			errs[i] = writeBatch(ctx, s.db, batch[i:i+1], s.wStmts)
		}
	} else {
		for i := range errs {
			errs[i] = err
		}
	}
	s.wMu.Lock()
	s.wBusy -= n
	s.wMu.Unlock()
	for i, w := range batch {
		w.done <- errs[i]
	}
	return more
}

// Close stops the batch writer after it has committed what was queued,
// then closes the database.
func (s *sealedStore) Close() error {
	s.wMu.Lock()
	s.wClosed = true
	started := s.wStop != nil
	s.wMu.Unlock()
	if started {
		close(s.wStop)
		<-s.wDone
	}
	s.wMu.Lock()
	if s.wTimer != nil {
		s.wTimer.Stop()
	}
	s.wMu.Unlock()
	if s.wStmts != nil {
		s.wStmts.close()
	}
	return s.sqliteStore.Close()
}
