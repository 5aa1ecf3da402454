package hosted

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/cloudapi"
)

// Status webhooks of the endpoint's own messages: sent, delivered, read and
// failed, in the Cloud API's statuses[] shape (cloudapi.HandleStatus).
//
//   - sent: posted (queued durably in the webhook outbox) for every message
//     the endpoint sends, once the server has it durably and before the API
//     answers the send. A message's delivered and read statuses are never
//     queued before its sent: receipts for a customer with a send in flight
//     wait until that send's sent status is queued.
//   - A crash between the server's acceptance and the queueing of sent
//     must not lose the status. The endpoint keeps a watermark in sent.wm,
//     rewritten (synced, renamed) every second: a time before the start of
//     every send whose sent status is not yet queued. On start, before it
//     handles any receipt, it queues sent again for every message of its
//     own that the server accepted and whose send started after the
//     watermark. After a crash a sent status may so arrive twice; never
//     zero times.
//   - failed: a message the server accepted that no customer device
//     received is deleted by the server's retention (Config.Retention, 30
//     days by default; pruned hourly). The endpoint sweeps at start and
//     every SweepInterval for its messages still "sent" (not delivered)
//     older than the retention plus an hour, queues a failed status with
//     the Cloud API error 131026 (Message undeliverable) and then marks the
//     message failed in its local store; a crash in between posts it again.
//     A message id is only handed out once the server holds the message
//     durably, so never reaching a device is the one way it can fail.

// Files and intervals of the status bookkeeping.
const (
	sentWatermarkFile = "sent.wm"
	watermarkEvery    = time.Second
	watermarkSlack    = 2 * time.Second // against a clock that steps back a little
	pruneSlack        = time.Hour       // the server prunes expired envelopes hourly
	sweepBatch        = 500
)

// sendTracker knows the endpoint's sends in flight: per customer (to hold
// back their receipts) and by start time (for the watermark).
type sendTracker struct {
	mu       sync.Mutex
	next     uint64
	inflight map[uint64]time.Time
	perCust  map[parley.UserID]int
	deferred map[parley.UserID][]cloudapi.Status
	pinned   time.Time // the start of the oldest send whose sent status could not be queued

	repMu       sync.Mutex // serialises receipt statuses with the release of deferred ones
	written     time.Time  // the watermark last written
	writtenNext uint64     // next when it was written
}

// sendAndReport sends out and queues its sent status before returning
// the message id.
func (ep *endpoint) sendAndReport(ctx context.Context, out cloudapi.Outgoing) (string, error) {
	tok, start := ep.beginSend(out.Customer)
	ok := true
	defer func() { ep.endSend(ctx, tok, start, out.Customer, ok) }()
	id, err := ep.send(ctx, out)
	if err != nil {
		return id, err
	}
	st := cloudapi.Status{Business: ep.business, Customer: out.Customer, WaID: cloudapi.WaID(out.To), MessageID: id,
		Status: parley.StatusSent, At: ep.m.cfg.Clock.Now(), CallbackData: out.CallbackData}
	if err := ep.m.cfg.API.HandleStatus(ctx, st); err != nil {
		// The message is sent: the id stands. The watermark stays before
		// this send, so the next start queues its sent status.
		ok = false
		ep.m.log.Error("sent status", "business", ep.business, "message", id, "err", err)
	}
	return id, nil
}

// autoReply runs the business's greeting and away messages for a
// customer's message and queues the sent status of each reply (tracked as
// a send in flight for the watermark).
func (ep *endpoint) autoReply(ctx context.Context, cust parley.UserID, rec client.MessageRecord) {
	tok, start := ep.beginSend(cust)
	ok := true
	defer func() { ep.endSend(ctx, tok, start, cust, ok) }()
	out, err := ep.c.AutoReplyTo(ctx, rec)
	if err != nil {
		ep.m.log.Warn("greeting/away reply", "business", ep.business, "err", err)
	}
	for _, m := range []*client.MessageRecord{out.Greeting, out.Away} {
		if m == nil || m.Seq <= 0 {
			continue
		}
		st := cloudapi.Status{Business: ep.business, Customer: cust, MessageID: MessageID(m.Conversation, m.Seq),
			Status: parley.StatusSent, At: ep.m.cfg.Clock.Now()}
		if err := ep.m.cfg.API.HandleStatus(ctx, st); err != nil {
			ok = false
			ep.m.log.Error("sent status", "business", ep.business, "message", st.MessageID, "err", err)
		}
	}
}

func (ep *endpoint) beginSend(cust parley.UserID) (uint64, time.Time) {
	t := &ep.sends
	now := ep.m.cfg.Clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.next++
	t.inflight[t.next] = now
	t.perCust[cust]++
	return t.next, now
}

// endSend ends a send and queues the receipts held back for its customer
// when no other send to them is in flight. Without held receipts it does
// not wait for receipts being queued (repMu).
func (ep *endpoint) endSend(ctx context.Context, tok uint64, start time.Time, cust parley.UserID, reported bool) {
	t := &ep.sends
	t.mu.Lock()
	if !reported && (t.pinned.IsZero() || start.Before(t.pinned)) {
		t.pinned = start
	}
	if t.perCust[cust] > 1 || len(t.deferred[cust]) == 0 {
		delete(t.inflight, tok)
		if t.perCust[cust]--; t.perCust[cust] <= 0 {
			delete(t.perCust, cust)
		}
		t.mu.Unlock()
		return
	}
	t.mu.Unlock()
	// Receipts are held: release them in order with other receipts.
	t.repMu.Lock()
	defer t.repMu.Unlock()
	t.mu.Lock()
	delete(t.inflight, tok)
	var held []cloudapi.Status
	if t.perCust[cust]--; t.perCust[cust] <= 0 {
		delete(t.perCust, cust)
		held = t.deferred[cust]
		delete(t.deferred, cust)
	}
	t.mu.Unlock()
	for _, st := range held {
		ep.handleStatus(ctx, st)
	}
}

// report queues a receipt's status, or holds it back while a send to the
// same customer is in flight (its sent status comes first).
func (ep *endpoint) report(ctx context.Context, st cloudapi.Status) {
	t := &ep.sends
	t.repMu.Lock()
	defer t.repMu.Unlock()
	t.mu.Lock()
	if t.perCust[st.Customer] > 0 {
		t.deferred[st.Customer] = append(t.deferred[st.Customer], st)
		t.mu.Unlock()
		return
	}
	t.mu.Unlock()
	ep.handleStatus(ctx, st)
}

func (ep *endpoint) handleStatus(ctx context.Context, st cloudapi.Status) {
	if err := ep.m.cfg.API.HandleStatus(ctx, st); err != nil {
		ep.m.log.Error("message status", "business", ep.business, "message", st.MessageID, "status", st.Status, "err", err)
	}
}

// watermark is the time before which every send's sent status is queued.
func (ep *endpoint) watermark() time.Time {
	t := &ep.sends
	wm := ep.m.cfg.Clock.Now()
	t.mu.Lock()
	for _, at := range t.inflight {
		if at.Before(wm) {
			wm = at
		}
	}
	if !t.pinned.IsZero() && t.pinned.Before(wm) {
		wm = t.pinned
	}
	t.mu.Unlock()
	return wm.Add(-watermarkSlack)
}

// idleSince reports whether no send began since the watermark was last
// written and none is in flight: the written one still holds (an idle
// endpoint does not rewrite it every second).
func (ep *endpoint) idleSince() bool {
	t := &ep.sends
	t.mu.Lock()
	defer t.mu.Unlock()
	return !t.written.IsZero() && t.next == t.writtenNext && len(t.inflight) == 0
}

// writeWatermark saves the watermark durably.
func (ep *endpoint) writeWatermark(wm time.Time) error {
	if wm.Equal(ep.sends.written) || ep.idleSince() {
		return nil
	}
	ep.sends.mu.Lock()
	next := ep.sends.next
	ep.sends.mu.Unlock()
	err := ep.records().writeWatermark([]byte(wm.UTC().Format(time.RFC3339Nano) + "\n"))
	if err == nil {
		ep.sends.mu.Lock()
		ep.sends.written, ep.sends.writtenNext = wm, next
		ep.sends.mu.Unlock()
	}
	return err
}

// readWatermark reads the watermark; ok is false when there is none (a new
// endpoint, or one from before sent statuses).
func (ep *endpoint) readWatermark() (time.Time, bool, error) {
	data, ok, err := ep.records().readWatermark()
	if err != nil || !ok {
		return time.Time{}, false, err
	}
	wm, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(data)))
	if err != nil {
		return time.Time{}, false, fmt.Errorf("%s: %w", sentWatermarkFile, err)
	}
	return wm, true, nil
}

// writeWatermark saves the watermark in sent.wm (write, sync, rename).
func (f fileRecords) writeWatermark(v []byte) error {
	path := filepath.Join(f.dir, sentWatermarkFile)
	tmp := path + ".tmp"
	file, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = file.Write(v)
	if err == nil {
		err = file.Sync()
	}
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(f.dir)
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// readWatermark reads sent.wm.
func (f fileRecords) readWatermark() ([]byte, bool, error) {
	data, err := os.ReadFile(filepath.Join(f.dir, sentWatermarkFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	return data, err == nil, err
}

// recoverSent queues the sent status again for the endpoint's messages
// whose send started after the watermark and before this start. The
// event loop runs it before it handles any receipt. On failure the
// watermark is not moved, so the next start tries again.
func (ep *endpoint) recoverSent(ctx context.Context) error {
	wm, ok, err := ep.readWatermark()
	if err != nil || !ok {
		return err
	}
	from, seen := wm, map[string]bool{}
	for {
		list, err := ep.c.SentBetween(ctx, from, ep.opened, sweepBatch)
		if err != nil {
			return err
		}
		n := 0
		for _, rec := range list {
			id := MessageID(rec.Conversation, rec.Seq)
			if seen[id] {
				continue
			}
			seen[id] = true
			n++
			cust := ep.peer(ctx, rec.Conversation)
			if cust == 0 {
				continue
			}
			st := cloudapi.Status{Business: ep.business, Customer: cust, MessageID: id, Status: parley.StatusSent, At: rec.SentAt}
			if err := ep.m.cfg.API.HandleStatus(ctx, st); err != nil {
				return err
			}
		}
		if len(list) < sweepBatch || n == 0 {
			break
		}
		from = list[len(list)-1].SentAt
	}
	if len(seen) > 0 {
		ep.m.log.Info("sent statuses queued again after a restart", "business", ep.business, "messages", len(seen))
	}
	return nil
}

// sweep fails the endpoint's messages that no customer device received
// before the server's retention deleted them.
func (ep *endpoint) sweep(ctx context.Context) error {
	ret := ep.m.cfg.Retention
	before := ep.m.cfg.Clock.Now().Add(-ret - pruneSlack)
	total := 0
	defer func() {
		if total > 0 {
			ep.m.log.Info("undelivered messages failed", "business", ep.business, "messages", total)
		}
	}()
	for {
		list, err := ep.c.Undelivered(ctx, before, sweepBatch)
		if err != nil {
			return err
		}
		for _, rec := range list {
			if err := ep.fail(ctx, rec, fmt.Sprintf("no device of the customer received the message within the server's retention (%s); it was deleted undelivered", ret)); err != nil {
				return err
			}
			total++
		}
		if len(list) < sweepBatch {
			return nil
		}
	}
}

// fail queues a failed status for rec, then marks it failed locally.
func (ep *endpoint) fail(ctx context.Context, rec client.MessageRecord, details string) error {
	id := MessageID(rec.Conversation, rec.Seq)
	if cust := ep.peer(ctx, rec.Conversation); cust != 0 {
		st := cloudapi.Status{Business: ep.business, Customer: cust, MessageID: id, Status: parley.StatusFailed,
			At: ep.m.cfg.Clock.Now(), Error: details}
		if err := ep.m.cfg.API.HandleStatus(ctx, st); err != nil {
			return err
		}
	}
	_, err := ep.c.MarkFailed(ctx, rec.Conversation, rec.Seq)
	return err
}

// statusLoop keeps the watermark and sweeps for undelivered messages.
func (ep *endpoint) statusLoop(ctx context.Context, recovered <-chan bool) {
	select {
	case ok := <-recovered:
		if !ok {
			// Keep the old watermark for the next start; still sweep.
			ep.sends.written = time.Time{}
			ep.sweepLogged(ctx)
			ep.idle(ctx, false)
			return
		}
	case <-ctx.Done():
		return
	}
	ep.sweepLogged(ctx)
	ep.idle(ctx, true)
}

func (ep *endpoint) sweepLogged(ctx context.Context) {
	if err := ep.sweep(ctx); err != nil && ctx.Err() == nil {
		ep.m.log.Error("sweeping undelivered messages", "business", ep.business, "err", err)
	}
}

// idle rewrites the watermark every second (when write is set) and sweeps
// every SweepInterval until ctx ends.
func (ep *endpoint) idle(ctx context.Context, write bool) {
	wt := time.NewTicker(watermarkEvery)
	defer wt.Stop()
	st := time.NewTicker(ep.m.cfg.SweepInterval)
	defer st.Stop()
	for {
		if write {
			if err := ep.writeWatermark(ep.watermark()); err != nil {
				ep.m.log.Error("writing the sent watermark", "business", ep.business, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-wt.C:
		case <-st.C:
			ep.sweepLogged(ctx)
		}
	}
}
