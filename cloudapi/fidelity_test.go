package cloudapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
)

// Fidelity to the Cloud API's documented behaviour (issue 16, item 4).

// statusOf waits for the status webhook of message id, returning its
// statuses[0] entry.
func (r *receiver) statusOf(t *testing.T, id, status string) map[string]any {
	t.Helper()
	body := r.mustEvent(t, "messages", `"id":"`+id+`","recipient_id"`)
	deadline := time.Now().Add(20 * time.Second)
	for {
		r.mu.Lock()
		bodies := append([]string(nil), r.bodies...)
		r.mu.Unlock()
		for _, b := range bodies {
			var env struct {
				Entry []struct {
					Changes []struct {
						Value struct {
							Statuses []map[string]any `json:"statuses"`
						} `json:"value"`
					} `json:"changes"`
				} `json:"entry"`
			}
			if json.Unmarshal([]byte(b), &env) != nil || len(env.Entry) == 0 || len(env.Entry[0].Changes) == 0 {
				continue
			}
			for _, s := range env.Entry[0].Changes[0].Value.Statuses {
				if s["id"] == id && s["status"] == status {
					return s
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s status of %s (one body: %s)", status, id, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestReactionsAndCallbackData: a reaction sent through the API is a
// message of its own (its own id and sent status); a customer's reaction,
// and its removal, reach the webhook as type "reaction";
// biz_opaque_callback_data comes back on every status of its message,
// after a restart too; non-ASCII (a customer named with an accent and an
// emoji) arrives escaped as \uXXXX and signed in that form.
func TestReactionsAndCallbackData(t *testing.T) {
	e := mustEnv(t)
	biz := e.mustBusiness("Café")
	cust := e.mustUser("Zoë 😀")
	wa := strings.TrimPrefix(cust.phone, "+")
	if _, err := cust.c.Send(e.ctx(), biz.phone, "olá, têm pão? 🍞"); err != nil {
		t.Fatal(err)
	}
	body := biz.hooks.mustEvent(t, "messages", `ol\u00e1, t\u00eam p\u00e3o? \ud83c\udf5e`)
	if !strings.Contains(body, `"profile":{"name":"Zo\u00eb \ud83d\ude00"}`) {
		t.Fatalf("profile name not escaped as the Cloud API does: %s", body)
	}
	var parsed struct {
		Entry []struct {
			Changes []struct {
				Value struct {
					Contacts []struct {
						Profile struct{ Name string } `json:"profile"`
					} `json:"contacts"`
					Messages []struct {
						ID   string                `json:"id"`
						Text struct{ Body string } `json:"text"`
					} `json:"messages"`
				} `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	if err := json.Unmarshal([]byte(body), &parsed); err != nil {
		t.Fatal(err)
	}
	v := parsed.Entry[0].Changes[0].Value
	if v.Contacts[0].Profile.Name != "Zoë 😀" || v.Messages[0].Text.Body != "olá, têm pão? 🍞" {
		t.Fatalf("decoded webhook: %+v", v)
	}
	inbound := v.Messages[0].ID
	biz.hooks.mu.Lock()
	for _, raw := range biz.hooks.raws {
		for i, c := range raw {
			if c >= utf8.RuneSelf {
				biz.hooks.mu.Unlock()
				t.Fatalf("byte %d of a delivered body is not ASCII: %s", i, raw)
			}
		}
	}
	biz.hooks.mu.Unlock()

	// The business reacts: a message id of its own, with its sent status
	// (and the callback data).
	st, r := biz.send(e, map[string]any{"to": wa, "type": "reaction", "biz_opaque_callback_data": "react-1",
		"reaction": map[string]any{"message_id": inbound, "emoji": "👍"}})
	if st != 200 || !wamidRe.MatchString(r.Messages[0].ID) || r.Messages[0].ID == inbound {
		t.Fatalf("reaction: %d %+v %+v", st, r.Error, r.Messages)
	}
	reaction := r.Messages[0].ID
	if s := biz.hooks.statusOf(t, reaction, "sent"); s["biz_opaque_callback_data"] != "react-1" || s["recipient_id"] != wa {
		t.Fatalf("reaction's sent status: %v", s)
	}
	mustMessage(t, cust.c, func(m client.MessageRecord) bool { return m.Kind == client.KindReaction && m.Emoji == "👍" })

	// A tagged text: sent, delivered and read carry the tag.
	st, r = biz.send(e, map[string]any{"to": wa, "type": "text", "biz_opaque_callback_data": "campaign-7",
		"text": map[string]any{"body": "sim, até às 18h"}})
	if st != 200 {
		t.Fatalf("send: %d %+v", st, r.Error)
	}
	tagged := r.Messages[0].ID
	got := mustMessage(t, cust.c, func(m client.MessageRecord) bool { return m.Text == "sim, até às 18h" })
	if s := biz.hooks.statusOf(t, tagged, "sent"); s["biz_opaque_callback_data"] != "campaign-7" {
		t.Fatalf("sent status: %v", s)
	}
	if s := biz.hooks.statusOf(t, tagged, "delivered"); s["biz_opaque_callback_data"] != "campaign-7" {
		t.Fatalf("delivered status: %v", s)
	}
	// An untagged message's statuses have no tag.
	st, r = biz.send(e, text(wa, "plain"))
	if st != 200 {
		t.Fatalf("send: %d %+v", st, r.Error)
	}
	if s := biz.hooks.statusOf(t, r.Messages[0].ID, "sent"); s["biz_opaque_callback_data"] != nil {
		t.Fatalf("untagged sent status: %v", s)
	}
	mustMessage(t, cust.c, func(m client.MessageRecord) bool { return m.Text == "plain" })

	// The customer reacts to the tagged message, then removes the reaction.
	if err := cust.c.React(e.ctx(), got.ID(), "❤️"); err != nil {
		t.Fatal(err)
	}
	body = biz.hooks.mustEvent(t, "messages", `"type":"reaction"`)
	var re struct {
		Entry []struct {
			Changes []struct {
				Value struct {
					Messages []map[string]any `json:"messages"`
				} `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	if err := json.Unmarshal([]byte(body), &re); err != nil {
		t.Fatal(err)
	}
	m := re.Entry[0].Changes[0].Value.Messages[0]
	want := map[string]any{"message_id": tagged, "emoji": "❤️"}
	if m["from"] != wa || !wamidRe.MatchString(m["id"].(string)) || m["id"] == tagged || m["timestamp"] == "" || !equalJSON(m["reaction"], want) {
		t.Fatalf("customer's reaction: %s", body)
	}
	if err := cust.c.React(e.ctx(), got.ID(), ""); err != nil {
		t.Fatal(err)
	}
	body = biz.hooks.mustEvent(t, "messages", `"reaction":{"message_id":"`+tagged+`"}`)
	if strings.Contains(body, `"emoji"`) {
		t.Fatalf("a removed reaction has an emoji: %s", body)
	}

	biz.hooks.mu.Lock()
	bad := biz.hooks.bad
	biz.hooks.mu.Unlock()
	if bad != 0 {
		t.Fatalf("%d deliveries had a bad signature", bad)
	}

	// After a restart the tag still comes back (from the insights store).
	// (The restart may post the last seconds' sent statuses again, by
	// design: the receiver refuses those as replays.)
	e.restart()
	if _, err := cust.c.MarkRead(e.ctx(), biz.phone); err != nil {
		t.Fatal(err)
	}
	if s := biz.hooks.statusOf(t, tagged, "read"); s["biz_opaque_callback_data"] != "campaign-7" {
		t.Fatalf("read status after a restart: %v", s)
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// TestMediaTemplateAndTyping: inbound media carries sha256; an upload may
// give messaging_product in the query string; a template send answers
// message_status "accepted"; typing_indicator shows the customer the
// business typing until it replies, and an unknown type is refused.
func TestMediaTemplateAndTyping(t *testing.T) {
	e := mustEnv(t)
	biz := e.mustBusiness("Copy Shop")
	cust := e.mustUser("Gil")
	wa := strings.TrimPrefix(cust.phone, "+")

	path := filepath.Join(t.TempDir(), "scan.txt")
	content := []byte("a page to copy\n")
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := cust.c.SendFile(e.ctx(), biz.phone, path, client.SendFileOptions{}); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	body := biz.hooks.mustEvent(t, "messages", `"sha256":"`+hex.EncodeToString(sum[:])+`"`)
	inbound := wamidRe.FindString(body)

	// Upload with messaging_product in the query string only.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "note.txt")
	fw.Write([]byte("hello"))
	mw.WriteField("type", "text/plain")
	mw.Close()
	req, _ := http.NewRequest("POST", e.url+"/v23.0/"+biz.pnid+"/media?messaging_product=whatsapp", &buf)
	req.Header.Set("Authorization", "Bearer "+biz.token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var up map[string]any
	json.NewDecoder(resp.Body).Decode(&up)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(up["id"].(string), "med_") {
		t.Fatalf("upload with messaging_product in the query: %d %v", resp.StatusCode, up)
	}

	// A template send: message_status "accepted"; free-form sends have none.
	e.review(biz.template(e, "ready", "UTILITY", "Copies {{1}} ready"), "APPROVED")
	if st, r := biz.send(e, tmpl(wa, "ready", "#3")); st != 200 || r.Messages[0].MessageStatus != "accepted" {
		t.Fatalf("template send: %d %+v %+v", st, r.Error, r.Messages)
	}

	// typing_indicator: an unknown type is refused; "text" marks read and
	// shows typing until the business's reply.
	var bad apiErr
	if st := e.do("POST", "/v23.0/"+biz.pnid+"/messages", "Bearer "+biz.token, map[string]any{"messaging_product": "whatsapp",
		"status": "read", "message_id": inbound, "typing_indicator": map[string]any{"type": "voice"}}, &bad); st != 400 || bad.Error.Code != 131009 ||
		!strings.Contains(bad.Error.ErrorData.Details, "typing_indicator.type") {
		t.Fatalf("unknown typing_indicator type: %d %+v", st, bad.Error)
	}
	var ok map[string]any
	if st := e.do("POST", "/v23.0/"+biz.pnid+"/messages", "Bearer "+biz.token, map[string]any{"messaging_product": "whatsapp",
		"status": "read", "message_id": inbound, "typing_indicator": map[string]any{"type": "text"}}, &ok); st != 200 || ok["success"] != true {
		t.Fatalf("typing indicator: %d %v", st, ok)
	}
	mustTyping(t, cust.c, biz.acct.User, true)
	if st, r := biz.send(e, text(wa, "copies done")); st != 200 {
		t.Fatalf("reply: %d %+v", st, r.Error)
	}
	mustTyping(t, cust.c, biz.acct.User, false)
}

// mustTyping waits for a typing event from user on c.
func mustTyping(t *testing.T, c *client.Client, user parley.UserID, typing bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		select {
		case ev := <-c.Events():
			if ev.Kind == client.EventTyping && ev.Typing != nil && ev.Typing.User == user && ev.Typing.Typing == typing {
				return
			}
		case <-ctx.Done():
			t.Fatalf("no typing=%v event from %d", typing, user)
		}
	}
}
