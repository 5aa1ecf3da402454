package delivery

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/wire"
)

// Sink is the outbound side of one connection; the gateway implements it.
type Sink interface {
	// Push queues an encoded ServerFrame for the connection. Frames of kind
	// EventEnvelope must be accepted: a stream never has more than the
	// delivery window of them unacknowledged, so the queue they need is
	// bounded. EventSignal frames may be dropped when the queue is full.
	// Push must not block and must not call back into the Stream.
	Push(frame []byte, kind parley.EventKind)
	// Revoke tells the connection its device was revoked: it must close
	// (close code 4003). It must not block and must not call back into the
	// Stream.
	Revoke()
}

// readBatch is the most envelopes a stream reads from the log at once.
const readBatch = 256

// Stream delivers one device's envelopes to one connection: first what the
// log holds past the device's cursors (catch-up), then live events from the
// broker, with no duplicates and no reordering between the two, at most the
// delivery window unacknowledged.
//
// Live envelopes are pushed from the publisher's goroutine without touching
// the store. A stream reads the log only at catch-up, for a conversation the
// device joined after login (one cursor lookup), when a live event arrives
// with a gap, when the window was full, and when the broker says live
// events may have been lost (parley.EventResync: the stream re-reads the
// device's cursors, and cuts the connection off if the device was revoked).
//
// All methods are safe for concurrent use.
type Stream struct {
	svc         *Service
	dev         parley.Device
	sink        Sink
	unsubscribe func()

	mu         sync.Mutex
	convs      map[parley.ConversationID]*cursor
	inflight   int
	resync     bool          // the worker must re-read the device's cursors (EventResync)
	working    bool          // a worker goroutine is running
	workerDone chan struct{} // closed when that worker ends
	closed     bool
}

// cursor is a stream's position in one conversation.
type cursor struct {
	sent    parley.Seq   // every envelope ≤ sent was pushed by this stream or is not for this device
	acked   parley.Seq   // the highest seq the device acknowledged (as far as this stream knows)
	want    parley.Seq   // the highest seq known to exist in the log
	unacked []parley.Seq // pushed and not acknowledged, ascending
	loaded  bool         // sent and acked were initialised from the device's membership
	dirty   bool         // the log may hold envelopes after sent that were not pushed
}

// Attach opens a stream for an authenticated device. It subscribes to the
// device's live events, then schedules catch-up from the log. The caller
// must Close the stream when the connection ends.
func (s *Service) Attach(ctx context.Context, dev parley.Device, sink Sink) (*Stream, error) {
	s.gate.RLock()
	stopped := s.stopped
	s.gate.RUnlock()
	if stopped {
		return nil, s.unavailable()
	}
	st := &Stream{svc: s, dev: dev, sink: sink}
	cancel, err := s.broker.Subscribe(dev.ID, st.handle)
	if err != nil {
		return nil, fmt.Errorf("subscribe %v: %w", dev.ID, err)
	}
	st.unsubscribe = cancel
	// Load every conversation's position once, so that live envelopes of
	// any of them are pushed without reading the store.
	start := time.Now()
	cursors, err := s.store.Cursors(ctx, dev.ID)
	s.latency.cursors.Since(start)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("cursors %v: %w", dev.ID, err)
	}
	st.mu.Lock()
	st.applyCursorsLocked(cursors)
	st.kickLocked()
	st.mu.Unlock()
	s.presenceChanged(dev, true)
	return st, nil
}

// Device returns the stream's device.
func (st *Stream) Device() parley.Device { return st.dev }

// Close ends the stream: it unsubscribes, waits for a running catch-up
// worker, and records acknowledgements the device implied (its own
// envelopes at the end of a conversation). Close is idempotent.
func (st *Stream) Close() {
	st.mu.Lock()
	if st.closed {
		st.mu.Unlock()
		return
	}
	st.closed = true
	done := st.workerDone
	var implied []ackReq
	for id, c := range st.convs {
		if c.loaded && len(c.unacked) == 0 && c.sent > c.acked {
			implied = append(implied, ackReq{conv: id, device: st.dev.ID, user: st.dev.User, seq: c.sent})
		}
	}
	st.mu.Unlock()
	st.unsubscribe()
	if done != nil {
		<-done
	}
	for _, r := range implied {
		_ = st.svc.enqueueAck(context.Background(), r)
	}
	st.svc.presenceChanged(st.dev, false)
}

// applyCursorsLocked learns the device's durable positions and the end of
// each of its conversations' logs, marking conversations with envelopes
// past what the stream pushed.
func (st *Stream) applyCursorsLocked(cursors []parley.Cursor) {
	for _, p := range cursors {
		c := st.cursorLocked(p.Conversation)
		if !c.loaded {
			c.loaded = true
			c.sent = max(c.sent, p.Acked)
			c.acked = max(c.acked, p.Acked)
		}
		if p.LastSeq > c.sent {
			c.dirty = true
		}
		c.want = max(c.want, p.LastSeq)
	}
}

func (st *Stream) cursorLocked(id parley.ConversationID) *cursor {
	c := st.convs[id]
	if c == nil {
		if st.convs == nil {
			st.convs = make(map[parley.ConversationID]*cursor)
		}
		c = &cursor{}
		st.convs[id] = c
	}
	return c
}

// handle receives the device's live events. It runs in the publisher's
// goroutine and never blocks.
func (st *Stream) handle(ev parley.Event) {
	switch ev.Kind {
	case parley.EventRevoked:
		st.sink.Revoke()
		return
	case parley.EventSignal:
		st.sink.Push(ev.Frame, parley.EventSignal)
		return
	case parley.EventResync:
		// Live events may have been lost: the worker re-reads the
		// device's positions and catches up from the log.
		st.mu.Lock()
		st.resync = true
		st.kickLocked()
		st.mu.Unlock()
		return
	case parley.EventEnvelope:
	default:
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return
	}
	c := st.cursorLocked(ev.Conversation)
	if ev.Seq > c.want {
		c.want = ev.Seq
	}
	if ev.Seq <= c.sent && c.loaded {
		return // already pushed by catch-up
	}
	if c.loaded && !c.dirty && ev.Seq == c.sent+1 && st.inflight < st.svc.cfg.DeliveryWindow {
		c.sent = ev.Seq
		c.unacked = append(c.unacked, ev.Seq)
		st.inflight++
		st.sink.Push(ev.Frame, parley.EventEnvelope)
		return
	}
	// A gap, a full window, or a conversation this stream has not loaded
	// yet: the worker reads the log.
	c.dirty = true
	st.kickLocked()
}

// kickLocked starts the worker if there is work it can do now.
func (st *Stream) kickLocked() {
	if st.working || st.closed {
		return
	}
	if _, c := st.nextLocked(); c == nil && !st.resync {
		return
	}
	st.working = true
	st.workerDone = make(chan struct{})
	go st.work(st.workerDone)
}

// nextLocked picks a conversation the worker can make progress on.
func (st *Stream) nextLocked() (parley.ConversationID, *cursor) {
	room := st.inflight < st.svc.cfg.DeliveryWindow
	for id, c := range st.convs {
		if !c.dirty {
			continue
		}
		if !c.loaded || room {
			return id, c
		}
	}
	return "", nil
}

// work is the stream's short-lived catch-up goroutine: it runs while some
// conversation needs reading from the log and the window has room, then ends.
func (st *Stream) work(done chan struct{}) {
	defer close(done)
	ctx := st.svc.ctx
	window := st.svc.cfg.DeliveryWindow
	for {
		st.mu.Lock()
		if st.resync && !st.closed {
			st.resync = false
			st.mu.Unlock()
			st.resyncFromStore(ctx)
			continue
		}
		var id parley.ConversationID
		var c *cursor
		if !st.closed {
			id, c = st.nextLocked()
		}
		if c == nil {
			st.working = false
			st.mu.Unlock()
			return
		}
		loaded, after, want := c.loaded, c.sent, c.want
		limit := min(window-st.inflight, readBatch)
		st.mu.Unlock()

		if !loaded {
			start := time.Now()
			m, err := st.svc.store.Member(ctx, id, st.dev.ID)
			st.svc.latency.member.Since(start)
			st.mu.Lock()
			switch {
			case err == nil:
				c.loaded = true
				c.sent = max(c.sent, m.Cursor, m.FromSeq, c.acked)
				c.acked = max(c.acked, m.Cursor)
			case parley.IsCode(err, parley.CodeNotFound):
				// Not a member (any more): nothing to deliver.
				if st.convs[id] == c {
					delete(st.convs, id)
				}
			default:
				st.svc.log.Error("load cursor", "conversation", id, "device", st.dev.ID, "err", err)
				st.working = false
				st.mu.Unlock()
				return
			}
			st.mu.Unlock()
			continue
		}

		st.svc.stats.logReads.Add(1)
		start := time.Now()
		envs, err := st.svc.store.ReadLog(ctx, id, after, limit)
		st.svc.latency.readLog.Since(start)
		if err != nil {
			st.svc.log.Error("read log", "conversation", id, "device", st.dev.ID, "err", err)
			st.mu.Lock()
			st.working = false
			st.mu.Unlock()
			return
		}
		frames := make([][]byte, len(envs))
		for i := range envs {
			if st.visible(&envs[i]) {
				frames[i] = wire.EnvelopeFrame(&envs[i])
			}
		}
		st.mu.Lock()
		if st.convs[id] != c || st.closed {
			st.mu.Unlock()
			continue
		}
		for i := range envs {
			seq := envs[i].Seq
			if seq <= c.sent {
				continue
			}
			c.sent = seq
			if frames[i] != nil {
				c.unacked = append(c.unacked, seq)
				st.inflight++
				st.sink.Push(frames[i], parley.EventEnvelope)
			}
		}
		if len(envs) < limit {
			// The log has nothing more after sent, as of the read: anything
			// known before the read and missing was pruned.
			c.sent = max(c.sent, want)
			if c.want <= c.sent {
				c.dirty = false
			}
		}
		if len(c.unacked) == 0 && c.sent > c.acked {
			// Everything pushed is acknowledged and the rest was not for
			// this device (its own envelopes, Welcomes for others): move
			// the cursor so the log can be pruned and catch-up skips them.
			c.acked = c.sent
			r := ackReq{conv: id, device: st.dev.ID, user: st.dev.User, seq: c.sent}
			st.mu.Unlock()
			_ = st.svc.enqueueAck(ctx, r)
			continue
		}
		st.mu.Unlock()
	}
}

// resyncFromStore handles EventResync in the worker: a device revoked
// meanwhile (its EventRevoked may be what was lost) is cut off; otherwise
// every conversation whose log grew past what the stream pushed is marked
// for catch-up.
func (st *Stream) resyncFromStore(ctx context.Context) {
	d, err := st.svc.store.Device(ctx, st.dev.ID)
	if err == nil && !d.Active() || parley.IsCode(err, parley.CodeNotFound) {
		st.sink.Revoke()
		return
	}
	start := time.Now()
	cursors, err := st.svc.store.Cursors(ctx, st.dev.ID)
	st.svc.latency.cursors.Since(start)
	if err != nil {
		st.svc.log.Error("resync cursors", "device", st.dev.ID, "err", err)
		return
	}
	st.mu.Lock()
	st.applyCursorsLocked(cursors)
	st.mu.Unlock()
}

// visible reports whether an envelope of the log is for this device.
func (st *Stream) visible(e *parley.Envelope) bool {
	if e.SenderDevice == st.dev.ID && e.SenderDevice != 0 {
		return false
	}
	return len(e.Recipients) == 0 || slices.Contains(e.Recipients, st.dev.ID)
}

// Ack records that the device has every envelope of the conversation up to
// seq: it frees window slots at once, and moves the device's cursor durably
// through the acker, which then pushes a delivered receipt (conversations of
// at most ReceiptMaxMembers devices) and calls done (if not nil) with the
// outcome: nil once durable, CodeNotFound if the device is not a member.
func (st *Stream) Ack(ctx context.Context, id parley.ConversationID, seq parley.Seq, done func(error)) error {
	if !id.Valid() {
		return parley.Errorf(parley.CodeInvalid, parley.ReasonConversationID, "invalid conversation id")
	}
	if seq <= 0 {
		return parley.Errorf(parley.CodeInvalid, ReasonSeq, "seq must be positive")
	}
	st.mu.Lock()
	if c := st.convs[id]; c != nil {
		n := 0
		for n < len(c.unacked) && c.unacked[n] <= seq {
			n++
		}
		if n == len(c.unacked) {
			c.unacked = c.unacked[:0]
		} else {
			c.unacked = c.unacked[n:]
		}
		st.inflight -= n
		c.acked = max(c.acked, seq)
		if c.loaded && seq > c.sent {
			// The device has these (from another connection): skip them.
			c.sent = seq
		}
		if n > 0 {
			st.kickLocked()
		}
	}
	st.mu.Unlock()
	return st.svc.enqueueAck(ctx, ackReq{conv: id, device: st.dev.ID, user: st.dev.User, seq: seq, receipt: true, done: done})
}

// Send submits an envelope from the stream's device (see Service.Send) and
// records that this device need not be sent it back.
func (st *Stream) Send(ctx context.Context, p SendParams, done func(SendResult, error)) error {
	return st.svc.Send(ctx, st.dev, p, func(r SendResult, err error) {
		if err == nil && !r.Duplicate {
			st.ownSent(r.Conversation, r.Seq)
		}
		done(r, err)
	})
}

// ownSent advances the conversation's pointer past the device's own envelope.
func (st *Stream) ownSent(id parley.ConversationID, seq parley.Seq) {
	st.mu.Lock()
	defer st.mu.Unlock()
	c := st.convs[id]
	if c == nil || !c.loaded || st.closed {
		return
	}
	c.want = max(c.want, seq)
	if seq == c.sent+1 {
		c.sent = seq
	} else if seq > c.sent {
		c.dirty = true
		st.kickLocked()
	}
}

// Inflight returns the number of envelopes pushed and not acknowledged.
func (st *Stream) Inflight() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.inflight
}
