package cloudapi_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/hosted"
	"github.com/parleyhq/parley/store/sqlite"
)

// statusIndex is the position of the first delivery of a status of id, -1
// for none.
func (r *receiver) statusIndex(id, status string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, b := range r.bodies {
		if strings.Contains(b, `"id":"`+id+`"`) && strings.Contains(b, `"status":"`+status+`"`) {
			return i
		}
	}
	return -1
}

// TestSentStatusBeforeDelivered: every message sent through the API gets a
// sent status (so do the endpoint's keyword confirmations), queued before
// its answer and delivered to the webhook before its delivered and read
// statuses.
func TestSentStatusBeforeDelivered(t *testing.T) {
	e := mustEnv(t)
	biz := e.mustBusiness("Fish Market")
	cust := e.mustUser("Erin")
	wa := strings.TrimPrefix(cust.phone, "+")
	// The hosted endpoint's greeting on first contact gets a sent status too.
	if _, err := biz.c.SetBusinessProfile(e.ctx(), parley.BusinessProfile{Name: "Fish Market", Category: "Food", Hours: parley.BusinessHours{Zone: "UTC"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := biz.c.SetAutoReply(e.ctx(), parley.AutoReplySettings{GreetingEnabled: true, Greeting: "Welcome to the Fish Market!"}); err != nil {
		t.Fatal(err)
	}
	if _, err := cust.c.Send(e.ctx(), biz.phone, "is the salmon fresh?"); err != nil {
		t.Fatal(err)
	}
	biz.hooks.mustEvent(t, "messages", "is the salmon fresh?")
	greeting := mustMessage(t, cust.c, func(m client.MessageRecord) bool { return m.Text == "Welcome to the Fish Market!" })
	biz.hooks.mustEvent(t, "messages", `.`+strconv.FormatInt(int64(greeting.Seq), 10)+`","recipient_id":"`+wa+`","status":"sent"`)
	var ids []string
	for _, txt := range []string{"caught this morning", "come before noon", "we close at 6"} {
		st, r := biz.send(e, text(wa, txt))
		if st != 200 {
			t.Fatalf("send: %d %+v", st, r.Error)
		}
		ids = append(ids, r.Messages[0].ID)
	}
	for _, id := range ids {
		body := biz.hooks.mustEvent(t, "messages", `"id":"`+id+`","recipient_id":"`+wa+`","status":"sent"`)
		if !strings.Contains(body, `"statuses"`) || !strings.Contains(body, `"phone_number_id":"`+biz.pnid+`"`) {
			t.Fatalf("sent status: %s", body)
		}
	}
	mustMessage(t, cust.c, func(m client.MessageRecord) bool { return m.Text == "we close at 6" })
	if _, err := cust.c.MarkRead(e.ctx(), biz.phone); err != nil {
		t.Fatal(err)
	}
	last := ids[len(ids)-1]
	biz.hooks.mustEvent(t, "messages", `"id":"`+last+`","recipient_id":"`+wa+`","status":"read"`)
	for _, id := range ids {
		s, d, r := biz.hooks.statusIndex(id, "sent"), biz.hooks.statusIndex(id, "delivered"), biz.hooks.statusIndex(id, "read")
		if s < 0 || d >= 0 && d < s || r >= 0 && r < s {
			t.Fatalf("%s: sent at %d, delivered at %d, read at %d: sent must come first", id, s, d, r)
		}
		if n := biz.hooks.count("messages", `"id":"`+id+`","recipient_id":"`+wa+`","status":"sent"`); n != 1 {
			t.Fatalf("%s: %d sent statuses", id, n)
		}
	}
	// The STOP confirmation is a message of the endpoint too.
	if _, err := cust.c.Send(e.ctx(), biz.phone, "STOP"); err != nil {
		t.Fatal(err)
	}
	conf := mustMessage(t, cust.c, func(m client.MessageRecord) bool { return strings.Contains(m.Text, "no longer receive") })
	biz.hooks.mustEvent(t, "messages", `.`+strconv.FormatInt(int64(conf.Seq), 10)+`","recipient_id":"`+wa+`","status":"sent"`)
}

// TestFailedStatusAfterRetention: a message no customer device received
// before the server's retention deleted it gets a failed status with
// 131026, once (it survives restarts), while a delivered one does not; and
// sent statuses a crash kept from the webhook (the sent watermark lagging)
// are queued again at the next start.
func TestFailedStatusAfterRetention(t *testing.T) {
	e := mustEnv(t)
	biz := e.mustBusiness("Hardware Store")
	cust := e.mustUser("Frank")
	wa := strings.TrimPrefix(cust.phone, "+")
	if _, err := cust.c.Send(e.ctx(), biz.phone, "do you sell nails?"); err != nil {
		t.Fatal(err)
	}
	biz.hooks.mustEvent(t, "messages", "do you sell nails?")
	st, r := biz.send(e, text(wa, "yes, aisle 4"))
	if st != 200 {
		t.Fatalf("send: %d %+v", st, r.Error)
	}
	delivered := r.Messages[0].ID
	biz.hooks.mustEvent(t, "messages", `"id":"`+delivered+`","recipient_id":"`+wa+`","status":"delivered"`)

	// The customer goes away for good: the next message is never fetched.
	if err := cust.c.Close(); err != nil {
		t.Fatal(err)
	}
	sentAt := time.Now()
	tagged := text(wa, "we also have screws")
	tagged["biz_opaque_callback_data"] = "lost-1"
	st, r = biz.send(e, tagged)
	if st != 200 {
		t.Fatalf("send: %d %+v", st, r.Error)
	}
	lost := r.Messages[0].ID
	biz.hooks.mustEvent(t, "messages", `"id":"`+lost+`","recipient_id":"`+wa+`","status":"sent"`)

	// A crash that left the sent watermark before the send: the next start
	// queues its sent status again.
	e.stop()
	e.editHostedState(func(st *sqlite.Store, b parley.UserID) {
		rows, err := st.HostedState(context.Background(), b)
		if err != nil {
			t.Fatal(err)
		}
		if rows["w"] == nil {
			t.Fatal("no sent watermark in the store")
		}
		v, err := hosted.SealStateValue(bytes.Repeat([]byte{7}, 32), b, "w", []byte(sentAt.UTC().Format(time.RFC3339Nano)+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CommitHostedState(context.Background(), parley.HostedStateCommit{Business: b, Puts: map[string][]byte{"w": v}}); err != nil {
			t.Fatal(err)
		}
	}, biz.pnid)
	e.start()
	deadline := time.Now().Add(20 * time.Second)
	for biz.hooks.count("messages", `"id":"`+lost+`","recipient_id":"`+wa+`","status":"sent"`) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the sent status was not queued again after the restart")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The sent status queued again carries the callback data (from insights).
	if n := biz.hooks.count("messages", `"biz_opaque_callback_data":"lost-1","id":"`+lost+`","recipient_id":"`+wa+`","status":"sent"`); n != 2 {
		t.Fatalf("%d sent statuses of the tagged message carry its callback data, want 2", n)
	}
	if n := biz.hooks.count("messages", `"id":"`+delivered+`","recipient_id":"`+wa+`","status":"sent"`); n != 1 {
		t.Fatalf("a send before the watermark was reported %d times", n)
	}
	if biz.hooks.statusIndex(lost, "failed") >= 0 {
		t.Fatal("failed before the retention passed")
	}

	// 30 days (the default retention) and an hour later, the next start
	// sweeps: the undelivered message failed, the delivered one did not.
	e.clock.advance(30*24*time.Hour + time.Hour + time.Minute)
	e.restart()
	body := biz.hooks.mustEvent(t, "messages", `"status":"failed"`)
	if !strings.Contains(body, `"id":"`+lost+`"`) || !strings.Contains(body, `"code":131026`) ||
		!strings.Contains(body, `"title":"Message Undeliverable"`) || !strings.Contains(body, "retention") ||
		!strings.Contains(body, `"biz_opaque_callback_data":"lost-1"`) {
		t.Fatalf("failed status: %s", body)
	}
	if biz.hooks.statusIndex(delivered, "failed") >= 0 {
		t.Fatal("a delivered message was reported failed")
	}
	// Reported once: another restart does not report it again.
	e.restart()
	biz.send(e, text(wa, "ping")) // outside the window now: an error, but a round trip through the server
	time.Sleep(500 * time.Millisecond)
	if n := biz.hooks.count("messages", `"status":"failed"`); n != 1 {
		t.Fatalf("%d failed statuses, want 1", n)
	}
}
