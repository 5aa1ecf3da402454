//go:build !js

package localstore

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/content"
)

// TestSealedBatchWriter: concurrent pending writes and acceptances are
// group-committed, each caller told its own outcome; the cursor follows
// the acceptances; a write to an unknown chat fails alone.
func TestSealedBatchWriter(t *testing.T) {
	ctx := t.Context()
	ls, err := OpenSealedSQLite(ctx, filepath.Join(t.TempDir(), "c.db"), bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	st := ls.(*sealedStore)
	defer st.Close()
	conv := parley.ConversationID("cbatchwriter1")
	if err := st.Apply(ctx, Applied{Conversation: conv, Group: []byte("state-0"), Epoch: 1, Chat: &Chat{Kind: parley.KindDirect, Title: "t"}}); err != nil {
		t.Fatal(err)
	}
	const n = 64
	var wg sync.WaitGroup
	errs := make([]error, n+1)
	for i := 0; i <= n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := conv
			if i == n {
				c = "cnosuchchat00" // fails alone
			}
			m := &content.MessageRecord{Conversation: c, ClientID: parley.ClientMessageID(fmt.Sprintf("m%03d", i)), Sender: 1, SenderDevice: 2,
				Outgoing: true, Kind: content.KindText, Text: fmt.Sprint(i), SentAt: time.Now(), StoredAt: time.Now(), Status: content.StatusPending, Payload: []byte("x")}
			errs[i] = st.PutPending(ctx, c, []byte(fmt.Sprintf("state-%d", i+1)), 1, m, content.Ext{})
		}()
	}
	wg.Wait()
	for i, err := range errs[:n] {
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	if !parley.IsCode(errs[n], parley.CodeNotFound) {
		t.Fatalf("write to an unknown chat: %v", errs[n])
	}
	pending, err := st.PendingMessages(ctx)
	if err != nil || len(pending) != n {
		t.Fatalf("pending: %d, %v", len(pending), err)
	}
	for i := 0; i < n; i++ {
		if err := st.MarkSentAdvance(ctx, conv, parley.ClientMessageID(fmt.Sprintf("m%03d", i)), parley.Seq(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	ch, err := st.Chat(ctx, conv)
	if err != nil || ch.Cursor != n {
		t.Fatalf("cursor %d, %v", ch.Cursor, err)
	}
	if pending, _ := st.PendingMessages(ctx); len(pending) != 0 {
		t.Fatalf("%d still pending", len(pending))
	}
	g, err := st.Group(ctx, conv)
	if err != nil || !bytes.HasPrefix(g, []byte("state-")) {
		t.Fatalf("group %q, %v", g, err)
	}
}

// TestSealedQueuedWritesVisible: a queued pending write is committed in
// queue order, and reads of the group state and of messages, and status
// raises, see queued writes (including a sent mark nobody waits for).
func TestSealedQueuedWritesVisible(t *testing.T) {
	ctx := t.Context()
	ls, err := OpenSealedSQLite(ctx, filepath.Join(t.TempDir(), "c.db"), bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	st := ls.(*sealedStore)
	defer st.Close()
	conv := parley.ConversationID("cqueuedwrites")
	if err := st.Apply(ctx, Applied{Conversation: conv, Group: []byte("state-0"), Epoch: 1, Chat: &Chat{Kind: parley.KindDirect, Title: "t"}}); err != nil {
		t.Fatal(err)
	}
	var waits []func() error
	for i := 1; i <= 20; i++ {
		m := &content.MessageRecord{Conversation: conv, ClientID: parley.ClientMessageID(fmt.Sprintf("q%03d", i)), Sender: 1, SenderDevice: 2,
			Outgoing: true, Kind: content.KindText, Text: fmt.Sprint(i), SentAt: time.Now(), StoredAt: time.Now(), Status: content.StatusPending, Payload: []byte("x")}
		w, err := st.QueuePending(ctx, conv, []byte(fmt.Sprintf("state-%d", i)), 1, m, content.Ext{})
		if err != nil {
			t.Fatal(err)
		}
		waits = append(waits, w)
	}
	// Not waited for: the read waits for the queue.
	g, err := st.Group(ctx, conv)
	if err != nil || string(g) != "state-20" {
		t.Fatalf("group after queued writes: %q, %v (want the last one queued)", g, err)
	}
	for _, w := range waits {
		if err := w(); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.QueueMarkSent(ctx, conv, "q001", 1); err != nil {
		t.Fatal(err)
	}
	m, err := st.Message(ctx, conv, 1)
	if err != nil || m.Status != content.StatusSent || m.Text != "1" {
		t.Fatalf("message after a queued mark: %+v, %v", m, err)
	}
	if err := st.QueueMarkSent(ctx, conv, "q002", 2); err != nil {
		t.Fatal(err)
	}
	raised, err := st.RaiseStatus(ctx, conv, 2, content.StatusDelivered)
	if err != nil || len(raised) != 2 {
		t.Fatalf("raised after a queued mark: %d, %v", len(raised), err)
	}
	// A mark nobody reads is still committed (after markLinger).
	if err := st.QueueMarkSent(ctx, conv, "q003", 3); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		var seq int64
		if err := st.db.QueryRowContext(ctx, `SELECT seq FROM messages WHERE client_id = 'q003'`).Scan(&seq); err != nil {
			t.Fatal(err)
		}
		if seq == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a lazy mark was never committed")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
