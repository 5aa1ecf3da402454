package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parleyhq/parley"
)

// Group commit. The hot, small writes (Append, Ack, MarkRead) are handed to
// one committer goroutine, which runs every write queued while the previous
// transaction was committing in a single transaction: one fsync for all of
// them. Each write stays atomic: an op either returns nil, or returns a
// *parley.Error having changed nothing (its caller gets the error and the
// group goes on), or fails in another way, in which case the group is rolled
// back and its ops are retried one transaction each, so one failing call
// never fails the others.

// Lazy writes (acknowledgements) are not worth a commit of their own: the
// committer holds a group made only of lazy writes for up to lazyDelay and
// runs it with the next other write, so under load cursor moves cost no
// fsync of their own; alone, they commit when the delay ends.

// op is one write run inside a group transaction. The appender is shared by
// the group; an op that appends flushes it before returning, so later ops
// read current last Seqs.
type op func(ctx context.Context, tx *sql.Tx, a *appender) error

// writeReq is one call waiting for the committer.
type writeReq struct {
	ctx  context.Context
	name string
	op   op
	size int  // rows it writes, to bound groups
	lazy bool // may wait up to lazyDelay for company (commitLazy)
	err  error
	done chan struct{}
}

// maxGroup bounds the rows one group commit writes.
const maxGroup = 8192

// lazyDelay is the longest a group of lazy writes waits for another write.
// A Store reads it once, when opened (tests change it).
var lazyDelay = 25 * time.Millisecond

var errClosed = errors.New("sqlite: store closed")

// commit hands f to the committer and waits for its outcome.
func (s *Store) commit(ctx context.Context, name string, size int, f op) error {
	return s.enqueue(ctx, &writeReq{ctx: ctx, name: name, op: f, size: size, done: make(chan struct{})})
}

// commitLazy is commit for a write that may wait up to lazyDelay to share
// another write's commit.
func (s *Store) commitLazy(ctx context.Context, name string, size int, f op) error {
	return s.enqueue(ctx, &writeReq{ctx: ctx, name: name, op: f, size: size, lazy: true, done: make(chan struct{})})
}

func (s *Store) enqueue(ctx context.Context, req *writeReq) error {
	name := req.name
	select {
	case s.writes <- req:
	case <-s.closing:
		return fmt.Errorf("sqlite: %s: %w", name, errClosed)
	case <-ctx.Done():
		return fmt.Errorf("sqlite: %s: %w", name, ctx.Err())
	}
	// Once taken, the request is committed or failed promptly; waiting for it
	// keeps "returned nil" meaning "durable" and an error meaning "no effect"
	// (the committer drops requests whose context has ended before it runs
	// them).
	<-req.done
	return req.err
}

// commitLoop is the committer. It runs until Close.
func (s *Store) commitLoop() {
	defer close(s.committerDone)
	var group []*writeReq // after a round: lazy writes held back
	lazyTimer := time.NewTimer(time.Hour)
	lazyTimer.Stop()
	defer lazyTimer.Stop()
	for {
		held, expired := len(group) > 0, false
		select {
		case req := <-s.writes:
			group = append(group, req)
		case <-lazyTimer.C:
			expired = true
		case <-s.closing:
			if held {
				s.runReqs(group) // what was held back still commits
			}
			return
		}
		n := 0
		for _, req := range group {
			n += req.size
		}
	drain:
		for n < maxGroup {
			select {
			case req := <-s.writes:
				group = append(group, req)
				n += req.size
			default:
				break drain
			}
		}
		if !expired && n < maxGroup && allLazy(group) {
			if !held {
				lazyTimer.Reset(s.lazyDelay)
			}
			continue
		}
		if held && !expired {
			lazyTimer.Stop()
		}
		s.runReqs(group)
		group = group[:0]
	}
}

func allLazy(group []*writeReq) bool {
	for _, req := range group {
		if !req.lazy {
			return false
		}
	}
	return true
}

// runReqs commits the requests whose context has not ended, in one group
// (one by one if the group fails), and completes every request.
func (s *Store) runReqs(group []*writeReq) {
	live := group[:0]
	for _, req := range group {
		if err := req.ctx.Err(); err != nil {
			req.err = fmt.Errorf("sqlite: %s: %w", req.name, err)
			close(req.done)
			continue
		}
		live = append(live, req)
	}
	if len(live) == 0 {
		return
	}
	if err := s.runGroup(live); err != nil {
		if len(live) == 1 {
			live[0].err = err
		} else {
			for _, req := range live {
				req.err = s.runGroup([]*writeReq{req})
			}
		}
	}
	for _, req := range live {
		close(req.done)
	}
}

// runGroup runs the requests' ops in one transaction, setting each
// request's *parley.Error. It returns the error that aborted the group.
func (s *Store) runGroup(group []*writeReq) error {
	ctx := context.Background() // a group is committed whole or not at all
	name := "write"
	if len(group) == 1 {
		ctx, name = context.WithoutCancel(group[0].ctx), group[0].name
	}
	var gen uint64
	var a *appender
	err := s.writeTx(ctx, name, func(tx *sql.Tx) error {
		gen = s.seqs.generation()
		a = s.newAppender(ctx, tx)
		for _, req := range group {
			req.err = nil
			err := req.op(ctx, tx, a)
			var pe *parley.Error
			if errors.As(err, &pe) {
				req.err = err // the op changed nothing
				continue
			}
			if err != nil {
				return fmt.Errorf("%s: %w", req.name, err)
			}
		}
		return nil
	}, false)
	if err == nil {
		s.seqs.update(gen, a)
	}
	return err
}
