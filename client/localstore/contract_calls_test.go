package localstore

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// TestContractCallLog: call records are created, updated in place (a
// ringing call answered, then ended), listed newest first with a limit,
// survive a reopen, and a missing one is CodeNotFound.
func TestContractCallLog(t *testing.T) {
	forEachStore(t, func(t *testing.T, reopen func() Store) {
		ctx := context.Background()
		s := reopen()
		if _, err := s.Call(ctx, "nope"); !parley.IsCode(err, parley.CodeNotFound) {
			t.Fatalf("missing call: %v", err)
		}
		if rs, err := s.Calls(ctx, 0); err != nil || len(rs) != 0 {
			t.Fatalf("empty log: %v, %v", rs, err)
		}
		at := time.UnixMilli(1_700_000_000_000)
		in := CallRecord{ID: "c1", Conversation: "caaaaaaaaaaaa", Peer: 7, Status: CallRinging, StartedAt: at}
		must(t, s.PutCall(ctx, in))
		must(t, s.PutCall(ctx, CallRecord{ID: "c2", Conversation: "cbbbbbbbbbbbb", Outgoing: true, Video: true, Peer: 8,
			Status: CallNoAnswer, StartedAt: at.Add(time.Minute), EndedAt: at.Add(time.Minute + 45*time.Second)}))
		must(t, s.PutCall(ctx, CallRecord{ID: "c0", Conversation: "caaaaaaaaaaaa", Peer: 7, Status: CallMissed, StartedAt: at.Add(-time.Hour)}))
		in.Status, in.AnsweredAt = CallAnswered, at.Add(3*time.Second+500*time.Microsecond)
		must(t, s.PutCall(ctx, in))
		in.EndedAt = at.Add(63 * time.Second)
		must(t, s.PutCall(ctx, in))

		s = reopen()
		r, err := s.Call(ctx, "c1")
		must(t, err)
		if r.Status != CallAnswered || r.Outgoing || r.Peer != 7 || r.Conversation != "caaaaaaaaaaaa" || !r.StartedAt.Equal(at) ||
			!r.AnsweredAt.Equal(at.Add(3*time.Second)) || r.Duration() != 60*time.Second {
			t.Fatalf("c1: %+v (duration %v)", r, r.Duration())
		}
		rs, err := s.Calls(ctx, 0)
		must(t, err)
		if len(rs) != 3 || rs[0].ID != "c2" || rs[1].ID != "c1" || rs[2].ID != "c0" {
			t.Fatalf("log: %+v", rs)
		}
		if !rs[0].Outgoing || !rs[0].Video || rs[0].Status != CallNoAnswer || !rs[0].AnsweredAt.IsZero() || rs[0].Duration() != 0 {
			t.Fatalf("c2: %+v", rs[0])
		}
		if rs[2].Status != CallMissed || !rs[2].EndedAt.IsZero() {
			t.Fatalf("c0: %+v", rs[2])
		}
		if rs, err := s.Calls(ctx, 2); err != nil || len(rs) != 2 || rs[1].ID != "c1" {
			t.Fatalf("limit 2: %+v, %v", rs, err)
		}
	})
}
