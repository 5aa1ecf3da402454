package localstore

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/content"
)

// TestStoreContractEndpoint: the send path of always-online endpoints and
// their outgoing statuses behave the same on every store: a pending write
// needs the chat, stores the message with its extras, business content and
// the group's state in one step, survives a reopen; an acceptance moves the
// cursor only from seq-1; OutgoingBetween, Undelivered and MarkFailed see
// exactly this device's accepted messages, and a failed one is never
// raised again.
func TestStoreContractEndpoint(t *testing.T) {
	forEachStore(t, func(t *testing.T, reopen func() Store) {
		ctx := context.Background()
		s := reopen()
		base := time.UnixMilli(1_700_000_000_000)
		pending := func(client string, at time.Time) *content.MessageRecord {
			m := msg(convA, 0, client, true, "hi "+client, content.StatusPending, at)
			m.Payload, m.Epoch = []byte("ct-"+client), 3
			return m
		}
		if err := s.PutPending(ctx, convB, []byte("g"), 3, pending("x", base), content.Ext{}); !parley.IsCode(err, parley.CodeNotFound) || parley.ErrorReason(err) != ReasonNotJoined {
			t.Fatalf("pending write to an unknown chat: %v, want not_joined", err)
		}
		must(t, s.Apply(ctx, Applied{Conversation: convA, Group: []byte("g0"), Epoch: 2, Chat: &Chat{Kind: parley.KindDirect, Peer: 8, Title: "Eight"}}))
		bc := content.BusinessContent{OrderStatus: &content.OrderStatusMessage{OrderID: "o1", Status: content.OrderShipped}}
		first := pending("p1", base)
		first.Kind, first.Business = content.KindOrderStatus, &bc
		must(t, s.PutPending(ctx, convA, []byte("g1"), 3, first, content.Ext{ReplyTo: 0, Biz: &bc}))
		wait, err := s.QueuePending(ctx, convA, []byte("g2"), 3, pending("p2", base.Add(time.Second)), content.Ext{Mentions: []parley.UserID{8}})
		must(t, err)
		must(t, wait())

		s = reopen()
		if g, err := s.Group(ctx, convA); err != nil || string(g) != "g2" {
			t.Fatalf("group after pending writes: %q, %v", g, err)
		}
		if ps, err := s.PendingMessages(ctx); err != nil || len(ps) != 2 || string(ps[0].Payload) != "ct-p1" {
			t.Fatalf("pending: %+v, %v", ps, err)
		}
		must(t, s.MarkSentAdvance(ctx, convA, "p1", 1))
		must(t, s.QueueMarkSent(ctx, convA, "p2", 3)) // a gap: the cursor stays at 1
		if ch, err := s.Chat(ctx, convA); err != nil || ch.Cursor != 1 || ch.Epoch != 3 {
			t.Fatalf("chat after acceptances: %+v, %v", ch, err)
		}
		ms, err := s.Messages(ctx, convA, 0)
		must(t, err)
		if len(ms) != 2 || ms[0].Seq != 1 || ms[0].Status != content.StatusSent || ms[0].Payload != nil || ms[1].Seq != 3 {
			t.Fatalf("messages after acceptances: %+v", ms)
		}
		must(t, s.BusinessOf(ctx, ms))
		if ms[0].Business == nil || ms[0].Business.OrderStatus == nil || ms[0].Business.OrderStatus.OrderID != "o1" {
			t.Fatalf("business content of a pending write: %+v", ms[0].Business)
		}
		if ex, err := s.Extras(ctx, convA, []parley.Seq{3}); err != nil || len(ex[3].Mentions) != 1 {
			t.Fatalf("extras of a pending write: %+v, %v", ex, err)
		}

		// Another device's message and an incoming one are never this
		// device's outgoing.
		other := msg(convA, 4, "o1", true, "from my phone", content.StatusSent, base.Add(2*time.Second))
		other.SenderDevice = 71
		must(t, s.Apply(ctx, Applied{Conversation: convA, Seq: 4, Message: other}))
		must(t, s.Apply(ctx, Applied{Conversation: convA, Seq: 5, Message: msg(convA, 5, "i1", false, "in", content.StatusReceived, base)}))

		got, err := s.OutgoingBetween(ctx, 70, base, base.Add(time.Second), 10)
		if err != nil || len(got) != 1 || got[0].ClientID != "p1" {
			t.Fatalf("sent in [base, base+1s): %+v, %v", got, err)
		}
		if got, _ := s.OutgoingBetween(ctx, 70, base, base.Add(time.Hour), 1); len(got) != 1 || got[0].ClientID != "p1" {
			t.Fatalf("limit 1: %+v", got)
		}
		if got, _ := s.Undelivered(ctx, 70, time.Now().Add(time.Hour), 10); len(got) != 2 {
			t.Fatalf("undelivered: %+v", got)
		}
		if _, err := s.RaiseStatus(ctx, convA, 1, content.StatusDelivered); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.MarkFailed(ctx, convA, 1); err != nil || ok {
			t.Fatalf("mark a delivered message failed: %v, %v", ok, err)
		}
		if ok, err := s.MarkFailed(ctx, convA, 3); err != nil || !ok {
			t.Fatalf("mark an undelivered message failed: %v, %v", ok, err)
		}
		s = reopen()
		if raised, _ := s.RaiseStatus(ctx, convA, 3, content.StatusRead); len(raised) != 1 || raised[0].Seq != 1 {
			t.Fatalf("raised after a failure: %+v (a failed message is never raised)", raised)
		}
		if m, _ := s.Message(ctx, convA, 3); m.Status != content.StatusFailed {
			t.Fatalf("failed message: %s", m.Status)
		}
		if got, _ := s.Undelivered(ctx, 70, time.Now().Add(time.Hour), 10); len(got) != 0 {
			t.Fatalf("undelivered after the failure: %+v", got)
		}
		if got, _ := s.OutgoingBetween(ctx, 70, base, base.Add(time.Hour), 10); len(got) != 1 {
			t.Fatalf("a failed message is not reported sent: %+v", got)
		}
	})
}
