//go:build !js

package client

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// TestSealedBatchWriter: concurrent pending writes and acceptances are
// group-committed, each caller told its own outcome; the cursor follows
// the acceptances; a write to an unknown chat fails alone.
func TestSealedBatchWriter(t *testing.T) {
	ctx := t.Context()
	ls, err := OpenSealedSQLiteStore(ctx, filepath.Join(t.TempDir(), "c.db"), bytes.Repeat([]byte{3}, 32))
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
			m := &MessageRecord{Conversation: c, ClientID: parley.ClientMessageID(fmt.Sprintf("m%03d", i)), Sender: 1, SenderDevice: 2,
				Outgoing: true, Kind: KindText, Text: fmt.Sprint(i), SentAt: time.Now(), StoredAt: time.Now(), Status: StatusPending, Payload: []byte("x")}
			errs[i] = st.putPending(ctx, c, []byte(fmt.Sprintf("state-%d", i+1)), 1, m, kindExt{})
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
		if err := st.markSentAdvance(ctx, conv, parley.ClientMessageID(fmt.Sprintf("m%03d", i)), parley.Seq(i+1)); err != nil {
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
