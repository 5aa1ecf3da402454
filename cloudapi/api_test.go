package cloudapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/store/sqlite"
)

var wamidRe = regexp.MustCompile(`wamid\.[a-z0-9_-]+\.[0-9]+`)

// TestChatEndToEnd: a customer on the client core chats with a business on
// the API: inbound webhook, free-form replies inside the window, an
// interactive message and the customer's button reply, mark as read and
// status webhooks.
func TestChatEndToEnd(t *testing.T) {
	e := mustEnv(t)
	biz := e.mustBusiness("Corner Shop")
	cust := e.mustUser("Carol")
	wa := strings.TrimPrefix(cust.phone, "+")

	st, r := biz.send(e, text(wa, "hello?"))
	if st != 400 || r.Error.Code != 131047 {
		t.Fatalf("free-form before the customer wrote: %d %+v", st, r.Error)
	}
	if _, err := cust.c.Send(e.ctx(), biz.phone, "do you have bread?"); err != nil {
		t.Fatal(err)
	}
	body := biz.hooks.mustEvent(t, "messages", "do you have bread?")
	inbound := wamidRe.FindString(body)
	if inbound == "" || !strings.Contains(body, `"from":"`+wa+`"`) || !strings.Contains(body, `"phone_number_id":"`+biz.pnid+`"`) {
		t.Fatalf("inbound webhook: %s", body)
	}

	st, r = biz.send(e, map[string]any{"to": "+" + wa, "type": "text", "text": map[string]any{"body": "yes, fresh today"},
		"context": map[string]any{"message_id": inbound}})
	if st != 200 || r.MessagingProduct != "whatsapp" || len(r.Contacts) != 1 || r.Contacts[0].Input != "+"+wa ||
		r.Contacts[0].WaID != wa || len(r.Messages) != 1 || !wamidRe.MatchString(r.Messages[0].ID) {
		t.Fatalf("send text: %d %+v", st, r)
	}
	got := mustMessage(t, cust.c, func(m client.MessageRecord) bool { return m.Text == "yes, fresh today" })
	if got.Outgoing {
		t.Fatal("the business's message arrived as outgoing")
	}
	// The same number from the owner's own device at the same time: it sees
	// the API's message as its own, and its own message reaches the customer.
	mustMessage(t, biz.c, func(m client.MessageRecord) bool { return m.Text == "yes, fresh today" && m.Outgoing })
	if _, err := biz.c.SendText(e.ctx(), cust.phone, "(from the owner's phone) see you soon", 0); err != nil {
		t.Fatal(err)
	}
	mustMessage(t, cust.c, func(m client.MessageRecord) bool { return m.Text == "(from the owner's phone) see you soon" })

	st, r = biz.send(e, map[string]any{"to": wa, "type": "interactive", "interactive": map[string]any{
		"type": "button", "body": map[string]any{"text": "Deliver or pick up?"},
		"action": map[string]any{"buttons": []any{
			map[string]any{"type": "reply", "reply": map[string]any{"id": "deliver", "title": "Deliver"}},
			map[string]any{"type": "reply", "reply": map[string]any{"id": "pickup", "title": "Pick up"}},
		}}}})
	if st != 200 {
		t.Fatalf("send interactive: %d %+v", st, r.Error)
	}
	im := mustMessage(t, cust.c, func(m client.MessageRecord) bool { return m.Business != nil && m.Business.Interactive != nil })
	if im.Business.Interactive.Body != "Deliver or pick up?" || len(im.Business.Interactive.Buttons) != 2 {
		t.Fatalf("interactive as received: %+v", im.Business.Interactive)
	}
	if _, err := cust.c.ReplyInteractive(e.ctx(), client.FormatMessageID(im.Conversation, im.Seq), "pickup"); err != nil {
		t.Fatal(err)
	}
	body = biz.hooks.mustEvent(t, "messages", `"button_reply"`)
	if !strings.Contains(body, `"id":"pickup"`) || !strings.Contains(body, `"context"`) {
		t.Fatalf("button reply webhook: %s", body)
	}

	var ok map[string]any
	if st := e.do("POST", "/v23.0/"+biz.pnid+"/messages", "Bearer "+biz.token,
		map[string]any{"messaging_product": "whatsapp", "status": "read", "message_id": inbound}, &ok); st != 200 || ok["success"] != true {
		t.Fatalf("mark read: %d %v", st, ok)
	}
	if _, err := cust.c.MarkRead(e.ctx(), biz.phone); err != nil {
		t.Fatal(err)
	}
	body = biz.hooks.mustEvent(t, "messages", `"status":"read"`)
	if !strings.Contains(body, `"recipient_id":"`+wa+`"`) {
		t.Fatalf("read status webhook: %s", body)
	}
	biz.hooks.mustEvent(t, "messages", `"status":"delivered"`)
	if biz.hooks.bad != 0 {
		t.Fatalf("%d deliveries had a bad signature", biz.hooks.bad)
	}
}

func (b *business) template(e *env, name, category, bodyText string) string {
	e.t.Helper()
	var out map[string]any
	st := e.do("POST", "/v23.0/"+b.pnid+"/message_templates", "Bearer "+b.token, map[string]any{
		"name": name, "language": "en_US", "category": category,
		"components": []any{map[string]any{"type": "BODY", "text": bodyText}, map[string]any{"type": "FOOTER", "text": "Reply STOP to opt out"}},
	}, &out)
	if st != 200 || out["status"] != "PENDING" {
		e.t.Fatalf("create template: %d %v", st, out)
	}
	return out["id"].(string)
}

func (e *env) review(id, status string) {
	e.t.Helper()
	var out map[string]any
	if st := e.do("POST", "/business/v1/admin/templates/"+id, "Bearer "+operatorToken, map[string]string{"status": status}, &out); st != 200 {
		e.t.Fatalf("review: %d %v", st, out)
	}
}

func tmpl(to, name string, params ...string) map[string]any {
	ps := []any{}
	for _, p := range params {
		ps = append(ps, map[string]any{"type": "text", "text": p})
	}
	return map[string]any{"to": to, "type": "template", "template": map[string]any{"name": name, "language": map[string]any{"code": "en_US"},
		"components": []any{map[string]any{"type": "body", "parameters": ps}}}}
}

// TestTemplatesOptInAndStop: review, opt-in for MARKETING, parameters,
// STOP honoured at once and confirmed, UTILITY still allowed.
func TestTemplatesOptInAndStop(t *testing.T) {
	e := mustEnv(t)
	biz := e.mustBusiness("Bakery")
	cust := e.mustUser("Dan")
	wa := strings.TrimPrefix(cust.phone, "+")
	promo := biz.template(e, "weekend_promo", "MARKETING", "Hi {{1}}, {{2}} off this weekend")
	receipt := biz.template(e, "order_ready", "UTILITY", "Order {{1}} is ready")

	if st, r := biz.send(e, tmpl(wa, "weekend_promo", "Dan", "20%")); st != 400 || r.Error.Code != 132001 {
		t.Fatalf("pending template: %d %+v", st, r.Error)
	}
	e.review(promo, "APPROVED")
	e.review(receipt, "APPROVED")
	biz.hooks.mustEvent(t, "message_template_status_update", `"message_template_name":"weekend_promo"`)

	if st, r := biz.send(e, tmpl(wa, "weekend_promo", "Dan", "20%")); st != 400 || r.Error.Code != 131049 {
		t.Fatalf("marketing without opt-in: %d %+v", st, r.Error)
	}
	var ok map[string]any
	if st := e.do("POST", "/v23.0/"+biz.pnid+"/optins", "Bearer "+biz.token,
		map[string]string{"wa_id": wa, "source": "checkout form", "text": "Send me offers on WhatsApp"}, &ok); st != 200 {
		t.Fatalf("opt-in: %d %v", st, ok)
	}
	if st, r := biz.send(e, tmpl(wa, "weekend_promo", "Dan")); st != 400 || r.Error.Code != 132000 {
		t.Fatalf("missing parameter: %d %+v", st, r.Error)
	}
	if st, r := biz.send(e, tmpl(wa, "weekend_promo", "Dan", "20%")); st != 200 {
		t.Fatalf("marketing with opt-in: %d %+v", st, r.Error)
	}
	m := mustMessage(t, cust.c, func(m client.MessageRecord) bool { return m.Business != nil && m.Business.Template != nil })
	if m.Business.Template.Body != "Hi Dan, 20% off this weekend" || m.Business.Template.Footer != "Reply STOP to opt out" {
		t.Fatalf("rendered template: %+v", m.Business.Template)
	}

	if _, err := cust.c.Send(e.ctx(), biz.phone, "STOP"); err != nil {
		t.Fatal(err)
	}
	mustMessage(t, cust.c, func(m client.MessageRecord) bool { return strings.Contains(m.Text, "no longer receive marketing") })
	if st, r := biz.send(e, tmpl(wa, "weekend_promo", "Dan", "30%")); st != 400 || r.Error.Code != 131050 {
		t.Fatalf("marketing after STOP: %d %+v", st, r.Error)
	}
	if st, r := biz.send(e, tmpl(wa, "order_ready", "#42")); st != 200 {
		t.Fatalf("utility after STOP: %d %+v", st, r.Error)
	}
	var list struct {
		Data []struct {
			WaID       string `json:"wa_id"`
			Active     bool   `json:"active"`
			Source     string `json:"source"`
			OptOutText string `json:"opt_out_text"`
		} `json:"data"`
	}
	e.do("GET", "/v23.0/"+biz.pnid+"/optins", "Bearer "+biz.token, nil, &list)
	if len(list.Data) != 1 || list.Data[0].Active || list.Data[0].OptOutText != "STOP" || list.Data[0].Source != "checkout form" {
		t.Fatalf("opt-ins: %+v", list)
	}
	// START subscribes again.
	if _, err := cust.c.Send(e.ctx(), biz.phone, "start"); err != nil {
		t.Fatal(err)
	}
	mustMessage(t, cust.c, func(m client.MessageRecord) bool { return strings.Contains(m.Text, "subscribed") })
	if st, r := biz.send(e, tmpl(wa, "weekend_promo", "Dan", "30%")); st != 200 {
		t.Fatalf("marketing after START: %d %+v", st, r.Error)
	}
}

// TestWindowThroughputTier: the 24-hour window, the throughput limit and
// the daily tier, each with its error.
func TestWindowThroughputTier(t *testing.T) {
	e := mustEnv(t)
	biz := e.mustBusiness("Florist")
	custs := []*user{e.mustUser("A"), e.mustUser("B"), e.mustUser("C")}
	wa := strings.TrimPrefix(custs[0].phone, "+")
	id := biz.template(e, "hello", "UTILITY", "Hello {{1}}")
	promo := biz.template(e, "sale", "MARKETING", "Sale!")
	e.review(id, "APPROVED")
	e.review(promo, "APPROVED")

	// Window: open after the customer writes, closed 24 h later.
	if _, err := custs[0].c.Send(e.ctx(), biz.phone, "hi"); err != nil {
		t.Fatal(err)
	}
	biz.hooks.mustEvent(t, "messages", `"body":"hi"`)
	if st, r := biz.send(e, text(wa, "hello A")); st != 200 {
		t.Fatalf("inside the window: %d %+v", st, r.Error)
	}
	e.clock.advance(24*time.Hour + time.Minute)
	if st, r := biz.send(e, text(wa, "still there?")); st != 400 || r.Error.Code != 131047 {
		t.Fatalf("outside the window: %d %+v", st, r.Error)
	}
	if st, r := biz.send(e, tmpl(wa, "hello", "A")); st != 200 {
		t.Fatalf("template outside the window: %d %+v", st, r.Error)
	}

	// Throughput: 1 message/s, the second at once is refused.
	pnid := biz.pnid
	var n map[string]any
	if st := e.do("POST", "/business/v1/admin/numbers/"+pnid, "Bearer "+operatorToken, map[string]any{"throughput": 1}, &n); st != 200 {
		t.Fatalf("set throughput: %d %v", st, n)
	}
	e.clock.advance(2 * time.Second)
	biz.send(e, tmpl(wa, "hello", "A"))
	if st, r := biz.send(e, tmpl(wa, "hello", "A")); st != 429 || r.Error.Code != 130429 {
		t.Fatalf("over throughput: %d %+v", st, r.Error)
	}
	e.do("POST", "/business/v1/admin/numbers/"+pnid, "Bearer "+operatorToken, map[string]any{"throughput": 1000}, &n)

	// Tier: 249 other recipients today already (seeded in the store, on a
	// new day so the count is loaded from it), the tier set (and so held
	// for less than 24 h: no promotion); the 250th is accepted, the 251st
	// refused, one already messaged today is not.
	var bid parley.UserID
	fmt.Sscan(pnid, &bid)
	e.clock.advance(24 * time.Hour)
	today := e.clock.Now().UTC().Format("2006-01-02")
	for i := 0; i < 249; i++ {
		if _, err := e.st.AddRecipient(context.Background(), bid, parley.UserID(100000+i), today); err != nil {
			t.Fatal(err)
		}
	}
	if st := e.do("POST", "/business/v1/admin/numbers/"+pnid, "Bearer "+operatorToken, map[string]any{"tier": 250}, &n); st != 200 {
		t.Fatalf("set tier: %d %v", st, n)
	}
	if st, r := biz.send(e, tmpl(wa, "hello", "A")); st != 200 {
		t.Fatalf("250th recipient: %d %+v", st, r.Error)
	}
	waB := strings.TrimPrefix(custs[1].phone, "+")
	if st, r := biz.send(e, tmpl(waB, "hello", "B")); st != 400 || r.Error.Code != 131048 {
		t.Fatalf("251st recipient: %d %+v", st, r.Error)
	}
	if st, r := biz.send(e, tmpl(wa, "hello", "A")); st != 200 {
		t.Fatalf("a recipient already messaged today: %d %+v", st, r.Error)
	}

}

// TestQualityAndBlocks: reports make the rating RED, which pauses
// MARKETING templates (webhooks for both); a customer's block makes sends
// to them undeliverable.
func TestQualityAndBlocks(t *testing.T) {
	e := mustEnv(t)
	biz := e.mustBusiness("Florist")
	custs := []*user{e.mustUser("A"), e.mustUser("B"), e.mustUser("C")}
	wa := strings.TrimPrefix(custs[0].phone, "+")
	pnid := biz.pnid
	e.review(biz.template(e, "hello", "UTILITY", "Hello {{1}}"), "APPROVED")
	e.review(biz.template(e, "sale", "MARKETING", "Sale!"), "APPROVED")
	// The number messages all three (only customers it messaged count).
	for _, c := range custs {
		if st, r := biz.send(e, tmpl(strings.TrimPrefix(c.phone, "+"), "hello", c.acct.Phone)); st != 200 {
			t.Fatalf("template: %d %+v", st, r.Error)
		}
	}
	// Quality: three customers report the number: RED, marketing paused.
	for _, c := range custs {
		var ok map[string]any
		if st := e.do("POST", "/business/v1/report", c.auth(), map[string]any{"business": biz.phone, "reason": "spam"}, &ok); st != 200 {
			t.Fatalf("report: %d %v", st, ok)
		}
	}
	biz.hooks.mustEvent(t, "phone_number_quality_update", `"quality_rating":"RED"`)
	biz.hooks.mustEvent(t, "message_template_status_update", `"event":"PAUSED"`)
	var num map[string]any
	e.do("GET", "/v23.0/"+pnid, "Bearer "+biz.token, nil, &num)
	if num["quality_rating"] != "RED" {
		t.Fatalf("number: %v", num)
	}
	if st, r := biz.send(e, tmpl(wa, "sale")); st != 400 || r.Error.Code != 132015 {
		t.Fatalf("paused template: %d %+v", st, r.Error)
	}

	// Blocks: a blocked business cannot deliver.
	if _, err := custs[2].c.Block(e.ctx(), biz.phone); err != nil {
		t.Fatal(err)
	}
	waC := strings.TrimPrefix(custs[2].phone, "+")
	e.clock.advance(24 * time.Hour)
	if st, r := biz.send(e, tmpl(waC, "hello", "C")); st != 400 || r.Error.Code != 131026 {
		t.Fatalf("to a customer who blocked: %d %+v", st, r.Error)
	}
}

// TestTierPromotion: half the limit reached in 7 days with good quality
// promotes the tier one step, with a webhook.
func TestTierPromotion(t *testing.T) {
	e := mustEnv(t)
	biz := e.mustBusiness("Garage")
	var bid parley.UserID
	fmt.Sscan(biz.pnid, &bid)
	day := e.clock.Now().UTC().Format("2006-01-02")
	for i := 0; i < 125; i++ {
		if _, err := e.st.AddRecipient(context.Background(), bid, parley.UserID(200000+i), day); err != nil {
			t.Fatal(err)
		}
	}
	var out map[string]any
	e.do("POST", "/v23.0/"+biz.pnid+"/quality/evaluate", "Bearer "+biz.token, nil, &out)
	if out["messaging_limit_tier"] != "TIER_250" {
		t.Fatalf("promoted before holding the tier 24 h: %v", out)
	}
	e.clock.advance(25 * time.Hour)
	e.do("POST", "/v23.0/"+biz.pnid+"/quality/evaluate", "Bearer "+biz.token, nil, &out)
	if out["messaging_limit_tier"] != "TIER_2K" || out["quality_rating"] != "GREEN" {
		t.Fatalf("after 125 recipients: %v", out)
	}
	biz.hooks.mustEvent(t, "phone_number_quality_update", `"event":"UPGRADE"`)
}

// graphErr is a Graph API error object.
type graphErr struct {
	Error struct {
		Message   string          `json:"message"`
		Type      string          `json:"type"`
		Code      int             `json:"code"`
		Subcode   int             `json:"error_subcode"`
		TraceID   string          `json:"fbtrace_id"`
		ErrorData json.RawMessage `json:"error_data"`
	} `json:"error"`
}

// TestTokens: scopes, another number, revocation.
func TestTokens(t *testing.T) {
	e := mustEnv(t)
	biz := e.mustBusiness("Tailor")
	other := e.mustBusiness("Other")
	var tok map[string]any
	if st := e.do("POST", "/business/v1/api/tokens", biz.auth(), map[string]any{"name": "media only", "scopes": []string{"media"}}, &tok); st != 200 {
		t.Fatalf("token: %d %v", st, tok)
	}
	var r sendResp
	st := e.do("POST", "/v23.0/"+biz.pnid+"/messages", "Bearer "+tok["token"].(string), map[string]any{"messaging_product": "whatsapp", "to": "1", "text": map[string]any{"body": "x"}}, &r)
	if st != 403 || r.Error.Code != 10 {
		t.Fatalf("without the messages scope: %d %+v", st, r.Error)
	}
	// Another business's number, or one that does not exist, is an
	// object the token cannot see: the Graph API's 400, code 100, subcode
	// 33, the same answer for both.
	for _, pnid := range []string{other.pnid, "999999999"} {
		for _, method := range []string{"POST", "GET"} {
			path, body := "/v23.0/"+pnid+"/messages", map[string]any{"messaging_product": "whatsapp", "to": "1", "text": map[string]any{"body": "x"}}
			if method == "GET" {
				path, body = "/v23.0/"+pnid, nil
			}
			var g graphErr
			st = e.do(method, path, "Bearer "+biz.token, body, &g)
			want := "Unsupported " + strings.ToLower(method) + " request. Object with ID '" + pnid + "' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
			if st != 400 || g.Error.Code != 100 || g.Error.Subcode != 33 || g.Error.Type != "GraphMethodException" || g.Error.Message != want || g.Error.TraceID == "" || g.Error.ErrorData != nil {
				t.Fatalf("%s on number %s: %d %+v", method, pnid, st, g.Error)
			}
		}
	}
	var ok map[string]any
	if st := e.do("DELETE", "/business/v1/api/tokens/"+tok["id"].(string), biz.auth(), nil, &ok); st != 200 {
		t.Fatalf("revoke: %d %v", st, ok)
	}
	st = e.do("POST", "/v23.0/"+biz.pnid+"/media", "Bearer "+tok["token"].(string), nil, &r)
	if st != 401 || r.Error.Code != 190 {
		t.Fatalf("revoked token: %d %+v", st, r.Error)
	}
	st = e.do("GET", "/v23.0/"+biz.pnid, "Bearer nonsense", nil, &r)
	if st != 401 || r.Error.Code != 190 || r.Error.Type != "OAuthException" {
		t.Fatalf("unknown token: %d %+v", st, r.Error)
	}
	raw, _ := json.Marshal(r)
	if !strings.Contains(string(raw), "(#190)") {
		t.Fatalf("error object: %s", raw)
	}
}

// TestHostedSurvivesRestart: after a server restart the hosted endpoint
// resumes from its sealed state: it receives, sends and keeps the window.
func TestHostedSurvivesRestart(t *testing.T) {
	e := mustEnv(t)
	biz := e.mustBusiness("Bookshop")
	cust := e.mustUser("Eve")
	wa := strings.TrimPrefix(cust.phone, "+")
	if _, err := cust.c.Send(e.ctx(), biz.phone, "before the restart"); err != nil {
		t.Fatal(err)
	}
	biz.hooks.mustEvent(t, "messages", "before the restart")
	e.restart()
	// The window opened before the restart still holds.
	if st, r := biz.send(e, text(wa, "we are back")); st != 200 {
		t.Fatalf("send after restart: %d %+v", st, r.Error)
	}
	mustMessage(t, cust.c, func(m client.MessageRecord) bool { return m.Text == "we are back" })
	if _, err := cust.c.Send(e.ctx(), biz.phone, "after the restart"); err != nil {
		t.Fatal(err)
	}
	biz.hooks.mustEvent(t, "messages", "after the restart")
	// The hosted state is in the server's store, sealed: no key material,
	// no message text in the clear, nothing in the data directory.
	e.stop()
	rows := e.hostedState(biz.pnid)
	if len(keysWithPrefix(rows, "s/g/")) == 0 || len(keysWithPrefix(rows, "s/a")) != 1 {
		t.Fatalf("the store holds no group state or account of the endpoint: %d rows", len(rows))
	}
	for k, v := range rows {
		if len(v) < 25 || v[0] != 1 || bytes.Contains(v, []byte(`"Secret"`)) || bytes.Contains(v, []byte("we are back")) || bytes.Contains(v, []byte("before the restart")) {
			t.Fatalf("hosted state %q is not sealed: %q", k, v)
		}
	}
	if _, err := os.Stat(filepath.Join(e.dir, "hosted", biz.pnid, "client.db")); !os.IsNotExist(err) {
		t.Fatalf("a client.db in the data directory: %v", err)
	}
	e.start()
}

// TestHostedHandsOverAfterCrash: the hosted endpoint stores and
// acknowledges a customer's message before the API has queued its webhook.
// A crash in between leaves the message past the endpoint's handled
// watermark (as dropping the watermark files does here); the next start
// hands it over again, so the webhook gets it at least once.
func TestHostedHandsOverAfterCrash(t *testing.T) {
	e := mustEnv(t)
	biz := e.mustBusiness("Bakery")
	cust := e.mustUser("Ola")
	if _, err := cust.c.Send(e.ctx(), biz.phone, "two loaves please"); err != nil {
		t.Fatal(err)
	}
	biz.hooks.mustEvent(t, "messages", "two loaves please")
	e.stop()
	// The marks: one per chat in the store, written per message.
	e.editHostedState(func(st *sqlite.Store, b parley.UserID) {
		rows, err := st.HostedState(context.Background(), b)
		if err != nil {
			t.Fatal(err)
		}
		marks := keysWithPrefix(rows, "h/")
		if len(marks) != 1 {
			t.Fatalf("handled marks after a handled message: %v", marks)
		}
		if err := st.CommitHostedState(context.Background(), parley.HostedStateCommit{Business: b, Deletes: marks}); err != nil {
			t.Fatal(err)
		}
	}, biz.pnid)
	e.start()
	deadline := time.Now().Add(20 * time.Second)
	for biz.hooks.count("messages", "two loaves please") < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the message past the watermark was not handed over again after the restart")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Handed over once more, not on every start.
	e.restart()
	if _, err := cust.c.Send(e.ctx(), biz.phone, "and a cake"); err != nil {
		t.Fatal(err)
	}
	biz.hooks.mustEvent(t, "messages", "and a cake")
	if n := biz.hooks.count("messages", "two loaves please"); n != 2 {
		t.Fatalf("the message reached the webhook %d times, want 2", n)
	}
}

// TestMediaAndKinds: a customer's photo reaches the webhook as a media id
// the API serves decrypted; the API sends a linked document, a location, a
// contact card and a reaction, each arriving as that kind.
func TestMediaAndKinds(t *testing.T) {
	e := mustEnv(t)
	biz := e.mustBusiness("Print Shop")
	cust := e.mustUser("Fay")
	wa := strings.TrimPrefix(cust.phone, "+")
	doc := []byte("%PDF-1.4\n% a tiny document\n")
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		w.Write(doc)
	}))
	defer files.Close()

	path := filepath.Join(t.TempDir(), "notes.txt")
	content := []byte("please print this twice\n")
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := cust.c.SendFile(e.ctx(), biz.phone, path, client.SendFileOptions{Caption: "two copies"}); err != nil {
		t.Fatal(err)
	}
	body := biz.hooks.mustEvent(t, "messages", `"type":"document"`)
	var env struct {
		Entry []struct {
			Changes []struct {
				Value struct {
					Messages []struct {
						ID       string `json:"id"`
						Document struct {
							ID       string `json:"id"`
							Caption  string `json:"caption"`
							Filename string `json:"filename"`
						} `json:"document"`
					} `json:"messages"`
				} `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		t.Fatal(err)
	}
	m := env.Entry[0].Changes[0].Value.Messages[0]
	if m.Document.ID == "" || m.Document.Caption != "two copies" || m.Document.Filename != "notes.txt" {
		t.Fatalf("document webhook: %s", body)
	}
	var meta map[string]any
	if st := e.do("GET", "/v23.0/"+m.Document.ID, "Bearer "+biz.token, nil, &meta); st != 200 {
		t.Fatalf("media meta: %d %v", st, meta)
	}
	req, _ := http.NewRequest("GET", meta["url"].(string), nil)
	req.Header.Set("Authorization", "Bearer "+biz.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, content) {
		t.Fatalf("downloaded %q", got)
	}

	for _, c := range []struct {
		body map[string]any
		want func(client.MessageRecord) bool
	}{
		{map[string]any{"to": wa, "type": "document", "document": map[string]any{"link": files.URL + "/price-list.pdf", "filename": "price-list.pdf", "caption": "prices"}},
			func(m client.MessageRecord) bool { return m.Kind == client.KindDocument && m.Text == "prices" }},
		{map[string]any{"to": wa, "type": "location", "location": map[string]any{"latitude": 38.7223, "longitude": -9.1393, "name": "Shop", "address": "Rua Augusta 1"}},
			func(m client.MessageRecord) bool {
				return m.Kind == client.KindLocation && m.Media.Location.Lat == 38.7223
			}},
		{map[string]any{"to": wa, "type": "contacts", "contacts": []any{map[string]any{"name": map[string]any{"formatted_name": "Print Desk"}, "phones": []any{map[string]any{"phone": "+14155550199"}}}}},
			func(m client.MessageRecord) bool {
				return m.Kind == client.KindContact && strings.Contains(m.Media.VCard, "FN:Print Desk")
			}},
	} {
		if st, r := biz.send(e, c.body); st != 200 {
			t.Fatalf("send %v: %d %+v", c.body["type"], st, r.Error)
		}
		mustMessage(t, cust.c, c.want)
	}
	if st, r := biz.send(e, map[string]any{"to": wa, "type": "reaction", "reaction": map[string]any{"message_id": m.ID, "emoji": "👍"}}); st != 200 || r.Messages[0].ID == m.ID || !wamidRe.MatchString(r.Messages[0].ID) {
		t.Fatalf("reaction: %d %+v %+v", st, r.Error, r.Messages)
	}
	// Unknown media id, bad link.
	if st, r := biz.send(e, map[string]any{"to": wa, "type": "image", "image": map[string]any{"id": "med_nothing"}}); st != 400 {
		t.Fatalf("unknown media id: %d %+v", st, r.Error)
	}
	if st, r := biz.send(e, map[string]any{"to": wa, "type": "image", "image": map[string]any{"link": files.URL + "x:bad"}}); st != 400 || r.Error.Code != 131052 {
		t.Fatalf("bad link: %d %+v", st, r.Error)
	}
}

// TestReEnableAfterRemovingHosted: the owner removes the hosted device
// (as any linked device); enabling the API again attaches a new one and
// keeps the number's settings.
func TestReEnableAfterRemovingHosted(t *testing.T) {
	e := mustEnv(t)
	biz := e.mustBusiness("Kiosk")
	cust := e.mustUser("Gus")
	wa := strings.TrimPrefix(cust.phone, "+")
	var n map[string]any
	e.do("GET", "/business/v1/api/number", biz.auth(), nil, &n)
	old := parley.DeviceID(n["hosted_device"].(float64))
	if st := e.do("POST", "/business/v1/api/enable", biz.auth(), map[string]string{"link_code": "x"}, &n); st != 409 {
		t.Fatalf("enable twice: %d %v", st, n)
	}
	if err := biz.c.RemoveDevice(e.ctx(), old); err != nil {
		t.Fatal(err)
	}
	e.review(biz.template(e, "hi", "UTILITY", "Hi"), "APPROVED")
	if st, r := biz.send(e, tmpl(wa, "hi")); st != 503 || r.Error.Code != 131016 {
		t.Fatalf("send with the hosted device removed: %d %+v", st, r.Error)
	}
	code, _, err := biz.c.LinkCode(e.ctx())
	if err != nil {
		t.Fatal(err)
	}
	if st := e.do("POST", "/business/v1/api/enable", biz.auth(), map[string]string{"link_code": code}, &n); st != 200 {
		t.Fatalf("enable again: %d %v", st, n)
	}
	if parley.DeviceID(n["hosted_device"].(float64)) == old {
		t.Fatal("the same hosted device")
	}
	if _, err := cust.c.Send(e.ctx(), biz.phone, "anyone there?"); err != nil {
		t.Fatal(err)
	}
	biz.hooks.mustEvent(t, "messages", "anyone there?")
	if st, r := biz.send(e, text(wa, "yes, new endpoint")); st != 200 {
		t.Fatalf("send through the new endpoint: %d %+v", st, r.Error)
	}
	mustMessage(t, cust.c, func(m client.MessageRecord) bool { return m.Text == "yes, new endpoint" })
}
