package localstore

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/content"
)

// TestStoreContractTools runs the device-local chat tools against every
// store: stars, delete for me, member receipts and chat marks, each
// surviving a reopen.
func TestStoreContractTools(t *testing.T) {
	forEachStore(t, func(t *testing.T, reopen func() Store) {
		ctx := context.Background()
		s := reopen()
		base := time.UnixMilli(1_700_000_000_000)
		for _, conv := range []parley.ConversationID{convA, convB} {
			must(t, s.Apply(ctx, Applied{Conversation: conv, Chat: &Chat{Kind: parley.KindGroup, Title: string(conv)}}))
			for i := 1; i <= 4; i++ {
				m := msg(conv, parley.Seq(i), "m"+string(rune('0'+i)), i%2 == 0, string(conv)+" "+string(rune('0'+i)), content.StatusReceived, base.Add(time.Duration(i)*time.Second))
				must(t, s.Apply(ctx, Applied{Conversation: conv, Seq: parley.Seq(i), Message: m}))
			}
		}
		must(t, s.React(ctx, convA, 2, 8, "👍", 5))

		// Stars: most recently starred first; unknown messages refused.
		must(t, s.Star(ctx, convA, 1, true, base.Add(time.Minute)))
		must(t, s.Star(ctx, convB, 3, true, base.Add(2*time.Minute)))
		must(t, s.Star(ctx, convA, 2, true, base.Add(3*time.Minute)))
		must(t, s.Star(ctx, convA, 1, false, base))
		if err := s.Star(ctx, convA, 99, true, base); !parley.IsCode(err, parley.CodeNotFound) {
			t.Fatalf("star of a missing message: %v, want not found", err)
		}

		// Delete for me: gone with its extras and star, the others stay.
		must(t, s.DeleteForMe(ctx, convB, 3))
		if err := s.DeleteForMe(ctx, convB, 3); !parley.IsCode(err, parley.CodeNotFound) {
			t.Fatalf("second delete for me: %v, want not found", err)
		}

		// Receipts: positions, the earliest time of each kept.
		must(t, s.NoteReceipt(ctx, convA, 8, parley.ReceiptDelivered, 2, base.Add(10*time.Second)))
		must(t, s.NoteReceipt(ctx, convA, 8, parley.ReceiptDelivered, 2, base.Add(50*time.Second))) // later: ignored
		must(t, s.NoteReceipt(ctx, convA, 8, parley.ReceiptDelivered, 4, base.Add(20*time.Second)))
		must(t, s.NoteReceipt(ctx, convA, 8, parley.ReceiptRead, 4, base.Add(30*time.Second)))
		must(t, s.NoteReceipt(ctx, convA, 9, parley.ReceiptDelivered, 4, base.Add(40*time.Second)))
		must(t, s.NoteReceipt(ctx, convB, 9, parley.ReceiptRead, 4, base.Add(40*time.Second)))
		// Read before any delivered receipt came: delivered shows the read time.
		must(t, s.NoteReceipt(ctx, convA, 10, parley.ReceiptRead, 2, base.Add(45*time.Second)))
		must(t, s.NoteReceipt(ctx, convA, 10, parley.ReceiptDelivered, 2, base.Add(55*time.Second)))

		// Marks.
		until := base.Add(8 * time.Hour)
		must(t, s.SetChatMarks(ctx, convA, ChatMarks{MutedUntil: until}))
		must(t, s.SetChatMarks(ctx, convB, ChatMarks{Unread: true}))
		must(t, s.SetChatMarks(ctx, convB, ChatMarks{Unread: true, MutedUntil: until}))
		must(t, s.SetChatMarks(ctx, convB, ChatMarks{}))

		check := func(s Store) {
			t.Helper()
			all, err := s.Starred(ctx, "")
			must(t, err)
			if got := texts(all); !slices.Equal(got, []string{string(convA) + " 2"}) {
				t.Fatalf("starred = %q", got)
			}
			must(t, s.Star(ctx, convA, 4, true, base.Add(4*time.Minute)))
			all, err = s.Starred(ctx, "")
			must(t, err)
			inA, err := s.Starred(ctx, convA)
			must(t, err)
			inB, err := s.Starred(ctx, convB)
			must(t, err)
			if got := texts(all); !slices.Equal(got, []string{string(convA) + " 4", string(convA) + " 2"}) || len(inA) != 2 || len(inB) != 0 {
				t.Fatalf("starred = %q, in A %d, in B %d", got, len(inA), len(inB))
			}
			must(t, s.Star(ctx, convA, 4, false, base))

			ms, err := s.Messages(ctx, convB, 0)
			must(t, err)
			if got := texts(ms); !slices.Equal(got, []string{string(convB) + " 1", string(convB) + " 2", string(convB) + " 4"}) {
				t.Fatalf("messages after delete for me = %q", got)
			}
			if _, err := s.Message(ctx, convB, 3); !parley.IsCode(err, parley.CodeNotFound) {
				t.Fatalf("deleted message: %v", err)
			}

			rs, err := s.Receipts(ctx, convA, 2)
			must(t, err)
			want := []MemberReceipt{
				{User: 8, Delivered: base.Add(10 * time.Second), Read: base.Add(30 * time.Second)},
				{User: 9, Delivered: base.Add(40 * time.Second)},
				{User: 10, Delivered: base.Add(45 * time.Second), Read: base.Add(45 * time.Second)},
			}
			if !receiptsEqual(rs, want) {
				t.Fatalf("receipts of seq 2 = %+v, want %+v", rs, want)
			}
			rs, err = s.Receipts(ctx, convA, 3)
			must(t, err)
			want = want[:2] // member 10 reached only seq 2
			want[0].Delivered = base.Add(20 * time.Second)
			if !receiptsEqual(rs, want) {
				t.Fatalf("receipts of seq 3 = %+v, want %+v", rs, want)
			}
			if rs, err := s.Receipts(ctx, convA, 5); err != nil || len(rs) != 0 {
				t.Fatalf("receipts of seq 5 = %+v, %v; want none", rs, err)
			}

			marks, err := s.ChatMarks(ctx)
			must(t, err)
			if len(marks) != 1 || !marks[convA].MutedUntil.Equal(until) || marks[convA].Unread {
				t.Fatalf("marks = %+v", marks)
			}
		}
		check(s)
		check(reopen())
	})
}

func receiptsEqual(a, b []MemberReceipt) bool {
	return slices.EqualFunc(a, b, func(x, y MemberReceipt) bool {
		return x.User == y.User && x.Delivered.Equal(y.Delivered) && x.Read.Equal(y.Read)
	})
}
