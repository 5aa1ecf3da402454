package localstore

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/content"
)

// TestContractStatus: status keys, state, mutes and seen posts are kept
// across a reopen, keys replaced by (poster, id), state deleted by nil,
// the first seen time kept and old ones forgotten; a reply's quote of a
// status post comes back with the message's extras.
func TestContractStatus(t *testing.T) {
	forEachStore(t, func(t *testing.T, reopen func() Store) {
		ctx := context.Background()
		s := reopen()
		at := time.UnixMilli(1_700_000_000_000)
		if _, err := s.StatusKey(ctx, 7, "k1"); !parley.IsCode(err, parley.CodeNotFound) {
			t.Fatalf("a missing key: %v", err)
		}
		must(t, s.PutStatusKey(ctx, StatusKey{Poster: 7, ID: "k1", Key: bytes.Repeat([]byte{1}, 32), At: at}))
		must(t, s.PutStatusKey(ctx, StatusKey{Poster: 7, ID: "k1", Key: bytes.Repeat([]byte{2}, 32), At: at}))
		must(t, s.PutStatusKey(ctx, StatusKey{Poster: 8, ID: "k1", Key: bytes.Repeat([]byte{3}, 32), At: at}))
		must(t, s.PutStatusState(ctx, "own", []byte(`{"a":1}`)))
		must(t, s.PutStatusState(ctx, "gone", []byte(`x`)))
		must(t, s.PutStatusState(ctx, "gone", nil))
		must(t, s.SetStatusMuted(ctx, 9, true))
		must(t, s.SetStatusMuted(ctx, 3, true))
		must(t, s.SetStatusMuted(ctx, 4, true))
		must(t, s.SetStatusMuted(ctx, 4, false))
		must(t, s.MarkStatusSeen(ctx, "sold", at))
		must(t, s.MarkStatusSeen(ctx, "snew", at.Add(time.Hour)))
		must(t, s.MarkStatusSeen(ctx, "snew", at.Add(2*time.Hour)))

		s = reopen()
		k, err := s.StatusKey(ctx, 7, "k1")
		must(t, err)
		if !bytes.Equal(k.Key, bytes.Repeat([]byte{2}, 32)) || !k.At.Equal(at) {
			t.Fatalf("key: %+v", k)
		}
		if k8, _ := s.StatusKey(ctx, 8, "k1"); k8.Key[0] != 3 {
			t.Fatalf("another poster's key with the same id: %+v", k8)
		}
		if v, err := s.StatusState(ctx, "own"); err != nil || string(v) != `{"a":1}` {
			t.Fatalf("state: %q, %v", v, err)
		}
		if v, err := s.StatusState(ctx, "gone"); err != nil || v != nil {
			t.Fatalf("deleted state: %q, %v", v, err)
		}
		if m, err := s.StatusMuted(ctx); err != nil || !slices.Equal(m, []parley.UserID{3, 9}) {
			t.Fatalf("muted: %v, %v", m, err)
		}
		seen, err := s.StatusSeen(ctx)
		must(t, err)
		if len(seen) != 2 || !seen["snew"].Equal(at.Add(time.Hour)) {
			t.Fatalf("seen: %v", seen)
		}
		must(t, s.ForgetStatusSeen(ctx, at.Add(time.Minute)))
		s = reopen()
		if seen, _ := s.StatusSeen(ctx); len(seen) != 1 || seen["snew"].IsZero() {
			t.Fatalf("seen after forgetting: %v", seen)
		}

		// A private reply keeps its quote.
		q := content.StatusQuote{ID: "sabc", Poster: 7, Kind: "image", Preview: "the crag", Thumb: []byte{1, 2, 3}}
		m := &content.MessageRecord{Conversation: convA, Seq: 5, ClientID: "r1", Sender: 7, SenderDevice: 70, Kind: "text", Text: "nice", Status: content.StatusReceived}
		must(t, s.Apply(ctx, Applied{Conversation: convA, Seq: 5, Chat: &Chat{ID: convA, Kind: parley.KindDirect}, Message: m}))
		must(t, s.PutExtras(ctx, convA, 70, "r1", content.Ext{Status: &q}))
		s = reopen()
		ex, err := s.Extras(ctx, convA, []parley.Seq{5})
		must(t, err)
		if got := ex[5].Status; got == nil || got.ID != q.ID || got.Poster != 7 || got.Preview != q.Preview || !bytes.Equal(got.Thumb, q.Thumb) {
			t.Fatalf("the reply's quote: %+v", got)
		}
	})
}
