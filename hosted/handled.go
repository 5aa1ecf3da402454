package hosted

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
)

// The client acknowledges a customer's message to the server once it is in
// the endpoint's local store, before the endpoint hands it to the API (which
// queues its webhook durably). A crash between the two must not lose it, so
// the endpoint keeps, per chat, the last Seq the API has taken, and on start
// hands over every stored customer message after it. A message may so reach
// the API twice after a crash; never zero times.
//
// The marks live in two files: handled.json, a snapshot written atomically
// at start (after the catch-up), and handled.log, one "chat seq" line
// appended and synced per message the API takes, so that the hot path costs
// one small write however many chats there are.

// Files of the marks in the endpoint's directory.
const (
	handledFile = "handled.json"
	handledLog  = "handled.log"
)

// catchUpLimit bounds how many recent messages of one chat a restart
// re-examines.
const catchUpLimit = 10000

// loadHandled reads the marks: the snapshot, then the log (a torn last line
// from a crash is skipped; its message is handed over again).
func (ep *endpoint) loadHandled() error {
	ep.handled = map[parley.ConversationID]parley.Seq{}
	data, err := os.ReadFile(filepath.Join(ep.dir, handledFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("read %s: %w", handledFile, err)
	default:
		if err := json.Unmarshal(data, &ep.handled); err != nil {
			return fmt.Errorf("read %s: %w", handledFile, err)
		}
	}
	data, err = os.ReadFile(filepath.Join(ep.dir, handledLog))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read %s: %w", handledLog, err)
	}
	for line := range strings.Lines(string(data)) {
		conv, n, ok := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
		seq, err := strconv.ParseInt(n, 10, 64)
		if !ok || err != nil || !strings.HasSuffix(line, "\n") {
			continue
		}
		ep.handled[parley.ConversationID(conv)] = max(ep.handled[parley.ConversationID(conv)], parley.Seq(seq))
	}
	return nil
}

// isHandled reports whether the API already has rec.
func (ep *endpoint) isHandled(rec client.MessageRecord) bool {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	return rec.Seq <= ep.handled[rec.Conversation]
}

// markHandled records that the API has rec, durably (one synced line).
func (ep *endpoint) markHandled(rec client.MessageRecord) error {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if rec.Seq <= ep.handled[rec.Conversation] {
		return nil
	}
	f, err := os.OpenFile(filepath.Join(ep.dir, handledLog), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, "%s %d\n", rec.Conversation, rec.Seq)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	ep.handled[rec.Conversation] = rec.Seq
	return nil
}

// compactHandled writes the marks as a new snapshot and empties the log.
func (ep *endpoint) compactHandled() error {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	data, err := json.Marshal(ep.handled)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(ep.dir, handledFile), data); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(ep.dir, handledLog)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// catchUp hands the API every stored customer message it has not taken,
// then moves each chat's mark past what it examined (the business's own
// messages included, so a chat it only wrote to is not read again at the
// next start) and compacts the marks.
func (ep *endpoint) catchUp(ctx context.Context) {
	chats, err := ep.c.Chats(ctx)
	if err != nil {
		ep.m.log.Warn("hosted endpoint catch-up", "business", ep.business, "err", err)
		return
	}
	for _, ch := range chats {
		if ch.Kind != parley.KindDirect || ep.peer(ctx, ch.ID) == 0 {
			continue
		}
		ep.mu.Lock()
		from := ep.handled[ch.ID]
		ep.mu.Unlock()
		if ch.Cursor <= from {
			continue
		}
		_, msgs, err := ep.c.History(ctx, string(ch.ID), catchUpLimit)
		if err != nil {
			ep.m.log.Warn("hosted endpoint catch-up", "business", ep.business, "chat", ch.ID, "err", err)
			continue
		}
		slices.SortFunc(msgs, func(a, b client.MessageRecord) int { return int(a.Seq - b.Seq) })
		upto := from
		for _, m := range msgs {
			if m.Seq <= from {
				continue
			}
			if !m.Outgoing && !ep.inbound(ctx, m) {
				break // not taken: the next start tries again from here
			}
			upto = max(upto, m.Seq)
		}
		ep.mu.Lock()
		ep.handled[ch.ID] = max(ep.handled[ch.ID], upto)
		ep.mu.Unlock()
	}
	if err := ep.compactHandled(); err != nil {
		ep.m.log.Warn("hosted endpoint: saving handled marks", "business", ep.business, "err", err)
	}
}

// writeFileAtomic replaces path with data: a crash leaves the old or the
// new content, never a mix.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
