package hosted

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
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
// In the server's store (Config.State) each chat's mark is a value of its
// own, written per message the API takes (commits grouped with the
// endpoint's other writes). In files, the marks live in two: handled.json,
// a snapshot written atomically at start (after the catch-up), and
// handled.log, one "chat seq" line appended and synced per message the API
// takes, so that the hot path costs one small write however many chats
// there are.

// Files of the marks in the endpoint's directory.
const (
	handledFile = "handled.json"
	handledLog  = "handled.log"
)

// catchUpLimit bounds how many recent messages of one chat a restart
// re-examines.
const catchUpLimit = 10000

// records keeps an endpoint's own durable records beside its client
// store: the handled marks and the sent watermark (status.go). They are in
// files of the endpoint's directory (fileRecords) or in the server's store
// with the client store (stateKV).
type records interface {
	loadHandled() (map[parley.ConversationID]parley.Seq, error)
	// markHandled records one mark durably.
	markHandled(conv parley.ConversationID, seq parley.Seq) error
	// saveHandled records every mark durably (a compaction for files).
	saveHandled(marks map[parley.ConversationID]parley.Seq) error
	readWatermark() ([]byte, bool, error)
	writeWatermark(v []byte) error
}

func (ep *endpoint) records() records {
	if ep.kept != nil {
		return ep.kept
	}
	return fileRecords{ep.dir}
}

// loadHandled reads the marks.
func (ep *endpoint) loadHandled() error {
	marks, err := ep.records().loadHandled()
	if err != nil {
		return err
	}
	ep.mu.Lock()
	ep.handled = marks
	ep.mu.Unlock()
	return nil
}

// isHandled reports whether the API already has rec.
func (ep *endpoint) isHandled(rec client.MessageRecord) bool {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	return rec.Seq <= ep.handled[rec.Conversation]
}

// markHandled records that the API has rec, durably. Only the event loop
// marks, so the check and the write need not be one step.
func (ep *endpoint) markHandled(rec client.MessageRecord) error {
	if ep.isHandled(rec) {
		return nil
	}
	if err := ep.records().markHandled(rec.Conversation, rec.Seq); err != nil {
		return err
	}
	ep.mu.Lock()
	ep.handled[rec.Conversation] = max(ep.handled[rec.Conversation], rec.Seq)
	ep.mu.Unlock()
	return nil
}

// compactHandled records every mark at once (for files, a new snapshot and
// an empty log).
func (ep *endpoint) compactHandled() error {
	ep.mu.Lock()
	marks := maps.Clone(ep.handled)
	ep.mu.Unlock()
	return ep.records().saveHandled(marks)
}

// fileRecords keeps the records in files of dir.
type fileRecords struct{ dir string }

// loadHandled reads the marks: the snapshot, then the log (a torn last line
// from a crash is skipped; its message is handed over again).
func (f fileRecords) loadHandled() (map[parley.ConversationID]parley.Seq, error) {
	handled := map[parley.ConversationID]parley.Seq{}
	data, err := os.ReadFile(filepath.Join(f.dir, handledFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", handledFile, err)
	default:
		if err := json.Unmarshal(data, &handled); err != nil {
			return nil, fmt.Errorf("read %s: %w", handledFile, err)
		}
	}
	data, err = os.ReadFile(filepath.Join(f.dir, handledLog))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", handledLog, err)
	}
	for line := range strings.Lines(string(data)) {
		conv, n, ok := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
		seq, err := strconv.ParseInt(n, 10, 64)
		if !ok || err != nil || !strings.HasSuffix(line, "\n") {
			continue
		}
		handled[parley.ConversationID(conv)] = max(handled[parley.ConversationID(conv)], parley.Seq(seq))
	}
	return handled, nil
}

// markHandled appends one synced line to the log.
func (f fileRecords) markHandled(conv parley.ConversationID, seq parley.Seq) error {
	file, err := os.OpenFile(filepath.Join(f.dir, handledLog), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(file, "%s %d\n", conv, seq)
	if err == nil {
		err = file.Sync()
	}
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	return err
}

// saveHandled writes the marks as a new snapshot and empties the log.
func (f fileRecords) saveHandled(marks map[parley.ConversationID]parley.Seq) error {
	data, err := json.Marshal(marks)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(f.dir, handledFile), data); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(f.dir, handledLog)); err != nil && !errors.Is(err, fs.ErrNotExist) {
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
