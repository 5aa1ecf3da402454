package cloudapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/cloudapi"
	"github.com/parleyhq/parley/proto/parleypb"
	"github.com/parleyhq/parley/webhook"
)

// replay sends the receiver's last accepted POST again, headers and body
// as they were, and returns the status the receiver answers.
func (r *receiver) replay(t *testing.T) (*http.Request, int) {
	t.Helper()
	r.mu.Lock()
	last, body := r.last, r.lastB
	r.mu.Unlock()
	if last == nil {
		t.Fatal("no POST to replay")
	}
	req, err := http.NewRequest(http.MethodPost, r.srv.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = last.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	again, _ := http.NewRequest(http.MethodPost, r.srv.URL, bytes.NewReader(body))
	again.Header = last.Header.Clone()
	return again, resp.StatusCode
}

// TestWebhookReplayRefused: a webhook POST from the real server carries a
// signed timestamp; ReadRequest accepts it once, refuses it sent again,
// and a receiver refuses it once its time is older than the tolerance,
// while fresh deliveries keep being accepted.
func TestWebhookReplayRefused(t *testing.T) {
	e := mustEnv(t)
	biz := e.mustBusiness("Bakery")
	cust := e.mustUser("Customer")
	if _, err := cust.c.Send(e.ctx(), biz.phone, "one loaf please"); err != nil {
		t.Fatal(err)
	}
	biz.hooks.mustEvent(t, "messages", "one loaf please")

	// The receiver (a webhook.Receiver) refuses the same POST sent again.
	captured, status := biz.hooks.replay(t)
	if status != http.StatusUnauthorized {
		t.Fatalf("replayed POST answered %d, want 401", status)
	}
	if captured.Header.Get(webhook.TimestampHeader) == "" || captured.Header.Get(webhook.TimedSignatureHeader) == "" {
		t.Fatalf("delivery without a signed timestamp: %v", captured.Header)
	}
	// ReadRequest: the first time it sees this fresh POST it accepts it,
	// the second time it is a replay.
	body, _ := io.ReadAll(captured.Body)
	read := func() error {
		r, _ := http.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header = captured.Header.Clone()
		_, err := webhook.ReadRequest(r, biz.hooks.secret)
		return err
	}
	if err := read(); err != nil {
		t.Fatalf("ReadRequest of a fresh delivery: %v", err)
	}
	if err := read(); parley.ErrorReason(err) != webhook.ReasonReplayed {
		t.Fatalf("ReadRequest of the same POST again: %v, want %s", err, webhook.ReasonReplayed)
	}

	// Later, the captured POST is old: refused as stale by a receiver that
	// never saw it; the server's new deliveries are signed with the new
	// time and accepted.
	e.clock.advance(10 * time.Minute)
	later := &webhook.Receiver{Secret: biz.hooks.secret, Clock: e.clock}
	r, _ := http.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	r.Header = captured.Header.Clone()
	if _, err := later.Read(r); parley.ErrorReason(err) != webhook.ReasonStaleTimestamp {
		t.Fatalf("an old POST: %v, want %s", err, webhook.ReasonStaleTimestamp)
	}
	if _, status := biz.hooks.replay(t); status != http.StatusUnauthorized {
		t.Fatalf("old POST replayed to the receiver answered %d, want 401", status)
	}
	if _, err := cust.c.Send(e.ctx(), biz.phone, "and a cake"); err != nil {
		t.Fatal(err)
	}
	biz.hooks.mustEvent(t, "messages", "and a cake")
}

// report posts a customer's report of biz and returns the status and reason.
func (e *env) report(c *user, biz *business) (int, string) {
	e.t.Helper()
	var out struct {
		Error struct {
			Reason string `json:"reason"`
		} `json:"error"`
	}
	st := e.do("POST", "/business/v1/report", c.auth(), map[string]any{"business": biz.phone, "reason": "spam"}, &out)
	return st, out.Error.Reason
}

// rating re-rates biz's number now and returns its quality rating.
func (e *env) rating(biz *business) string {
	e.t.Helper()
	var out map[string]any
	if st := e.do("POST", "/v23.0/"+biz.pnid+"/quality/evaluate", "Bearer "+biz.token, nil, &out); st != 200 {
		e.t.Fatalf("evaluate: %d %v", st, out)
	}
	return out["quality_rating"].(string)
}

// TestReportsOnlyFromRecentCustomers: strangers who never received a
// message from the business report it again and again and block it, and
// the rating does not move; customers it messaged count; 30 days after
// the business's last message, a customer's report is refused too.
func TestReportsOnlyFromRecentCustomers(t *testing.T) {
	e := mustEnv(t)
	biz := e.mustBusiness("Spammy Shop")
	var customers []*user
	for _, name := range []string{"Asha", "Ben"} {
		c := e.mustUser(name)
		if _, err := c.c.Send(e.ctx(), biz.phone, "what are your hours?"); err != nil {
			t.Fatal(err)
		}
		biz.hooks.mustEvent(t, "messages", `"from":"`+strings.TrimPrefix(c.phone, "+")+`"`)
		if st, r := biz.send(e, text(c.phone, "9 to 6")); st != 200 {
			t.Fatalf("reply: %d %+v", st, r.Error)
		}
		customers = append(customers, c)
	}
	for _, name := range []string{"S1", "S2", "S3"} {
		s := e.mustUser(name)
		for range 5 {
			if st, reason := e.report(s, biz); st != 403 || reason != cloudapi.ReasonNotRecentCustomer {
				t.Fatalf("a stranger's report: %d %q, want 403 %s", st, reason, cloudapi.ReasonNotRecentCustomer)
			}
		}
		if _, err := s.c.Block(e.ctx(), biz.phone); err != nil {
			t.Fatal(err)
		}
	}
	if q := e.rating(biz); q != "GREEN" {
		t.Fatalf("after strangers' reports and blocks: %s, want GREEN", q)
	}
	// Customers the business messaged count: two make it YELLOW (with the
	// three strangers' blocks it would be RED).
	if st, reason := e.report(customers[0], biz); st != 200 {
		t.Fatalf("a customer's report: %d %s", st, reason)
	}
	if q := e.rating(biz); q != "GREEN" {
		t.Fatalf("after one customer's report: %s", q)
	}
	if st, reason := e.report(customers[1], biz); st != 200 {
		t.Fatalf("a customer's report: %d %s", st, reason)
	}
	biz.hooks.mustEvent(t, "phone_number_quality_update", `"quality_rating":"YELLOW"`)
	if q := e.rating(biz); q != "YELLOW" {
		t.Fatalf("after two customers' reports: %s, want YELLOW", q)
	}
	// 31 days on, the business's last message is too old.
	e.clock.advance(31 * 24 * time.Hour)
	if st, reason := e.report(customers[0], biz); st != 403 || reason != cloudapi.ReasonNotRecentCustomer {
		t.Fatalf("a report 31 days after the last message: %d %q", st, reason)
	}
	// A message from the owner's own phone (not the API) counts too, once
	// the hosted endpoint has seen it.
	if _, err := biz.c.Send(e.ctx(), customers[0].phone, "we are open on Sunday"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, reason := e.report(customers[0], biz)
		if st == 200 {
			break
		}
		if st != 403 || reason != cloudapi.ReasonNotRecentCustomer || time.Now().After(deadline) {
			t.Fatalf("a report after a message from the owner's phone: %d %q", st, reason)
		}
		time.Sleep(50 * time.Millisecond) // polling the hosted endpoint's catch-up, with a deadline
	}
}

// TestInsightsScopedToken: the dashboard's read-only token reads the
// business's insights and nothing else: it cannot send, read the number,
// templates, media, the webhook or the tokens; a token without the
// insights scope cannot read insights; revoked, it reads nothing.
func TestInsightsScopedToken(t *testing.T) {
	e := mustEnv(t)
	biz := e.mustBusiness("Dashboard Cafe")
	cust := e.mustUser("Regular")
	if _, err := cust.c.Send(e.ctx(), biz.phone, "a table for two?"); err != nil {
		t.Fatal(err)
	}
	biz.hooks.mustEvent(t, "messages", "a table for two?")
	if st, r := biz.send(e, text(cust.phone, "booked")); st != 200 {
		t.Fatalf("reply: %d %+v", st, r.Error)
	}
	token := func(scopes ...string) (id, secret string) {
		var tok map[string]any
		if st := e.do("POST", "/business/v1/api/tokens", biz.auth(), map[string]any{"name": "dashboard", "scopes": scopes}, &tok); st != 200 {
			t.Fatalf("token %v: %d %v", scopes, st, tok)
		}
		return tok["id"].(string), tok["token"].(string)
	}
	id, tok := token("insights")
	bearer := "Bearer " + tok

	var rep struct {
		Total struct {
			Sent, Inbound int
		} `json:"total"`
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if st := e.do("GET", "/business/v1/insights", bearer, nil, &rep); st != 200 {
			t.Fatalf("insights with the token: %d", st)
		}
		if rep.Total.Sent >= 1 && rep.Total.Inbound >= 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond) // polling the recorder's queue with a deadline
	}
	if rep.Total.Sent < 1 || rep.Total.Inbound < 1 {
		t.Fatalf("insights: %+v", rep.Total)
	}
	if st := e.do("GET", "/business/v1/insights/charts/days.svg", bearer, nil, nil); st != 200 {
		t.Fatalf("chart with the token: %d", st)
	}

	// Nothing else.
	for _, c := range []struct{ method, path string }{
		{"POST", "/v23.0/" + biz.pnid + "/messages"},
		{"GET", "/v23.0/" + biz.pnid},
		{"GET", "/v23.0/" + biz.pnid + "/message_templates"},
		{"POST", "/v23.0/" + biz.pnid + "/media"},
		{"GET", "/v23.0/" + biz.pnid + "/optins"},
	} {
		var r apiErr
		if st := e.do(c.method, c.path, bearer, map[string]any{"messaging_product": "whatsapp", "to": cust.phone, "type": "text", "text": map[string]any{"body": "x"}}, &r); st != 403 || r.Error.Code != 10 {
			t.Errorf("%s %s with the insights token: %d %+v, want 403 (#10)", c.method, c.path, st, r.Error)
		}
	}
	for _, c := range []struct{ method, path string }{
		{"GET", "/business/v1/webhook"},
		{"GET", "/business/v1/webhook/deliveries"},
		{"GET", "/business/v1/api/tokens"},
		{"GET", "/business/v1/api/number"},
		{"POST", "/business/v1/report"},
	} {
		if st := e.do(c.method, c.path, bearer, nil, nil); st != 401 {
			t.Errorf("%s %s with the insights token: %d, want 401", c.method, c.path, st)
		}
	}
	// A token without the scope cannot read insights.
	_, msgs := token("messages")
	var refusal map[string]any
	if st := e.do("GET", "/business/v1/insights", "Bearer "+msgs, nil, &refusal); st != 403 || refusal["reason"] != "missing_scope" {
		t.Fatalf("insights with a messages token: %d %v", st, refusal)
	}
	// Revoked: nothing.
	if st := e.do("DELETE", "/business/v1/api/tokens/"+id, biz.auth(), nil, nil); st != 200 {
		t.Fatalf("revoke: %d", st)
	}
	if st := e.do("GET", "/business/v1/insights", bearer, nil, &refusal); st != 401 || refusal["reason"] != "bad_token" {
		t.Fatalf("insights with a revoked token: %d %v", st, refusal)
	}
}

// rawClient is a modified client: it speaks the protocol with a real
// account's device credentials but sends whatever bytes it likes where MLS
// belongs (the server is crypto-blind and cannot tell).
type rawClient struct {
	t    *testing.T
	ctx  context.Context
	conn *websocket.Conn
	next uint64
}

func (e *env) dialRaw(u *user) *rawClient {
	t := e.t
	t.Helper()
	ctx := e.ctx()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.url, "http")+client.WebSocketPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(16 << 20)
	t.Cleanup(func() { conn.CloseNow() })
	r := &rawClient{t: t, ctx: ctx, conn: conn}
	r.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Hello{Hello: &parleypb.Hello{Versions: []uint32{1}, Client: "junk"}}})
	r.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Auth{Auth: &parleypb.AuthRequest{DeviceId: int64(u.acct.Device), Secret: u.acct.Secret}}})
	return r
}

// mustOK sends f and returns its answer, failing on an error answer.
func (r *rawClient) mustOK(f *parleypb.ClientFrame) *parleypb.ServerFrame {
	r.t.Helper()
	r.next++
	f.Id = r.next
	b, err := proto.Marshal(f)
	if err != nil {
		r.t.Fatal(err)
	}
	if err := r.conn.Write(r.ctx, websocket.MessageBinary, b); err != nil {
		r.t.Fatal(err)
	}
	for {
		_, data, err := r.conn.Read(r.ctx)
		if err != nil {
			r.t.Fatalf("waiting for the answer to %T: %v", f.Body, err)
		}
		var sf parleypb.ServerFrame
		if err := proto.Unmarshal(data, &sf); err != nil {
			r.t.Fatal(err)
		}
		if sf.GetId() != f.Id {
			continue // a push
		}
		if sf.GetError() != nil {
			r.t.Fatalf("%T refused: %v", f.Body, sf.GetError())
		}
		return &sf
	}
}

// junkChat makes stranger open a direct chat with target whose commit,
// Welcome and GroupInfo are random bytes, then post n random "messages".
func (e *env) junkChat(stranger, target *user, n int) parley.ConversationID {
	e.t.Helper()
	devs, err := target.c.Devices(e.ctx())
	if err != nil {
		e.t.Fatal(err)
	}
	var members []*parleypb.AddedDevice
	for _, d := range devs {
		if !d.Revoked {
			members = append(members, &parleypb.AddedDevice{UserId: int64(d.User), DeviceId: int64(d.Device)})
		}
	}
	junk := func(size int) []byte {
		b := make([]byte, size)
		rand.Read(b)
		return b
	}
	raw := e.dialRaw(stranger)
	conv := parley.NewConversationID()
	raw.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_CreateConversation{CreateConversation: &parleypb.CreateConversationRequest{
		ConversationId: string(conv), Kind: "direct", Members: members,
		Commit: junk(300), Welcome: junk(900), GroupInfo: junk(700), ClientId: string(parley.NewClientMessageID())}}})
	for range n {
		raw.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Send{Send: &parleypb.SendRequest{
			ConversationId: string(conv), ClientId: string(parley.NewClientMessageID()), Kind: uint32(parley.EnvelopeApplication),
			Epoch: 1, Payload: junk(200)}}})
	}
	return conv
}

// TestJunkChatDoesNotBlockLinking: a stranger opens a chat with a business
// that holds nothing but random bytes where MLS belongs; `business api
// enable` still attaches the hosted endpoint (which then serves the real
// customer), and linking another device still succeeds, skipping and
// reporting the chat it cannot join.
func TestJunkChatDoesNotBlockLinking(t *testing.T) {
	e := mustEnv(t)
	owner := e.mustUser("Junk-proof Shop")
	cust := e.mustUser("Real Customer")
	if _, err := cust.c.Send(e.ctx(), owner.phone, "hello shop"); err != nil {
		t.Fatal(err)
	}
	mustMessage(t, owner.c, func(m client.MessageRecord) bool { return m.Text == "hello shop" })
	junkConv := e.junkChat(e.mustUser("Stranger"), owner, 20)

	code, _, err := owner.c.LinkCode(e.ctx())
	if err != nil {
		t.Fatal(err)
	}
	var n map[string]any
	if st := e.do("POST", "/business/v1/api/enable", owner.auth(), map[string]string{"link_code": code}, &n); st != 200 {
		t.Fatalf("business api enable with a junk chat: %d %v", st, n)
	}
	var tok map[string]any
	if st := e.do("POST", "/business/v1/api/tokens", owner.auth(), map[string]any{"name": "t"}, &tok); st != 200 {
		t.Fatalf("token: %d %v", st, tok)
	}
	biz := &business{user: owner, pnid: n["phone_number_id"].(string), token: tok["token"].(string), hooks: newReceiver(t, e.clock)}
	if st := e.do("PUT", "/business/v1/webhook", owner.auth(), map[string]string{"callback_url": biz.hooks.srv.URL,
		"verify_token": verifyToken, "app_secret": biz.hooks.secret}, nil); st != 200 {
		t.Fatalf("webhook: %d", st)
	}
	// The hosted endpoint joined the real chat: the customer reaches the
	// webhook and the API answers them.
	if _, err := cust.c.Send(e.ctx(), owner.phone, "are you open?"); err != nil {
		t.Fatal(err)
	}
	biz.hooks.mustEvent(t, "messages", "are you open?")
	if st, r := biz.send(e, text(cust.phone, "yes")); st != 200 {
		t.Fatalf("API send after enabling: %d %+v", st, r.Error)
	}
	mustMessage(t, cust.c, func(m client.MessageRecord) bool { return m.Text == "yes" })

	// device add: the same, through the client core the CLI runs.
	code, _, err = owner.c.LinkCode(e.ctx())
	if err != nil {
		t.Fatal(err)
	}
	laptop, err := client.Open(e.ctx(), client.Config{Dir: t.TempDir(), Events: true, DeviceName: "laptop"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { laptop.Close() })
	if _, err := laptop.LinkDevice(e.ctx(), e.url, code); err != nil {
		t.Fatalf("device add with a junk chat: %v", err)
	}
	skipped := laptop.SkippedChats()
	if len(skipped) != 1 || skipped[0].Conversation != junkConv {
		t.Fatalf("skipped %+v, want the junk chat %s", skipped, junkConv)
	}
	if _, err := cust.c.Send(e.ctx(), owner.phone, "one more thing"); err != nil {
		t.Fatal(err)
	}
	mustMessage(t, laptop, func(m client.MessageRecord) bool { return m.Text == "one more thing" })
}

// failingStore is a real local store whose disk "fills up" after the
// first conversation a linking device joins.
type failingStore struct {
	client.LocalStore
	joins atomic.Int32
}

func (s *failingStore) Apply(ctx context.Context, a client.Applied) error {
	if a.Chat != nil && a.Group != nil && s.joins.Add(1) > 1 {
		return errors.New("no space left on device")
	}
	return s.LocalStore.Apply(ctx, a)
}

// TestFailedLinkLeavesNoOrphan: a link that fails halfway — the device is
// created and has joined chats by external commit when its local store
// fails — removes the device again: the server lists it as removed, and
// the members' MLS trees drop its leaf.
func TestFailedLinkLeavesNoOrphan(t *testing.T) {
	e := mustEnv(t)
	owner := e.mustUser("Owner")
	custs := []*user{e.mustUser("C1"), e.mustUser("C2")}
	for _, c := range custs {
		if _, err := c.c.Send(e.ctx(), owner.phone, "hi from "+c.phone); err != nil {
			t.Fatal(err)
		}
		mustMessage(t, owner.c, func(m client.MessageRecord) bool { return m.Text == "hi from "+c.phone })
	}
	code, _, err := owner.c.LinkCode(e.ctx())
	if err != nil {
		t.Fatal(err)
	}
	kv, err := client.OpenKVStore(e.ctx(), client.NewMemKV())
	if err != nil {
		t.Fatal(err)
	}
	st := &failingStore{LocalStore: kv}
	tablet, err := client.Open(e.ctx(), client.Config{Store: st, Events: true, DeviceName: "tablet"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tablet.Close() })
	acct, err := tablet.LinkDevice(e.ctx(), e.url, code)
	if err == nil {
		t.Fatal("the link succeeded with a failing store")
	}
	if acct.Device == 0 || st.joins.Load() < 2 {
		t.Fatalf("the link failed before it was halfway (device %d, %d joins): %v", acct.Device, st.joins.Load(), err)
	}
	devs, err := owner.c.Devices(e.ctx())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		if d.Device == acct.Device && !d.Revoked {
			t.Fatalf("orphan device %d still registered: %+v", d.Device, devs)
		}
	}
	// Every chat's MLS tree, as each customer's client sees it, loses the
	// half-linked device's leaf.
	for _, c := range custs {
		deadline := time.Now().Add(20 * time.Second)
		for {
			ms, err := c.c.Members(e.ctx(), owner.phone)
			if err != nil {
				t.Fatal(err)
			}
			in := false
			for _, m := range ms {
				in = in || m.Device == acct.Device
			}
			if !in {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("device %d is still in %s's chat: %+v", acct.Device, c.phone, ms)
			}
			time.Sleep(20 * time.Millisecond) // polling the members' removal commit, with a deadline
		}
	}
}
