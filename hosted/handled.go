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

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
)

// The client acknowledges a customer's message to the server once it is in
// the endpoint's local store, before the endpoint hands it to the API (which
// queues its webhook durably). A crash between the two must not lose it, so
// the endpoint keeps, per chat, the last Seq the API has taken
// (handled.json, written atomically after each one) and on start hands over
// every stored customer message after it. A message may so reach the API
// twice after a crash; never zero times.

// handledFile is the name of the watermark file in the endpoint's directory.
const handledFile = "handled.json"

// catchUpLimit bounds how many recent messages of one chat a restart
// re-examines.
const catchUpLimit = 10000

// loadHandled reads the watermarks (none yet: an empty map).
func (ep *endpoint) loadHandled() error {
	data, err := os.ReadFile(filepath.Join(ep.dir, handledFile))
	if errors.Is(err, fs.ErrNotExist) {
		ep.handled = map[parley.ConversationID]parley.Seq{}
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", handledFile, err)
	}
	m := map[parley.ConversationID]parley.Seq{}
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("read %s: %w", handledFile, err)
	}
	ep.handled = m
	return nil
}

// isHandled reports whether the API already has rec.
func (ep *endpoint) isHandled(rec client.MessageRecord) bool {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	return rec.Seq <= ep.handled[rec.Conversation]
}

// markHandled records that the API has rec, durably.
func (ep *endpoint) markHandled(rec client.MessageRecord) error {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if rec.Seq <= ep.handled[rec.Conversation] {
		return nil
	}
	ep.handled[rec.Conversation] = rec.Seq
	data, err := json.Marshal(ep.handled)
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(ep.dir, handledFile), data)
}

// catchUp hands the API every stored customer message it has not taken.
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
		for _, m := range msgs {
			if !m.Outgoing && m.Seq > from {
				ep.inbound(ctx, m)
			}
		}
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
