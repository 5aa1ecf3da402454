package bridge_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/accounts"
	"github.com/parleyhq/parley/blob/disk"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/outbound"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/push"
	"github.com/parleyhq/parley/server"
	"github.com/parleyhq/parley/web/bridge"
)

// ---- api.ts stays true ----

var (
	ifaceRe = regexp.MustCompile(`(?ms)^export interface (\w+)(?: extends (\w+))? \{\n(.*?)^\}`)
	fieldRe = regexp.MustCompile(`(?m)^  (?:readonly )?(\w+)\??[:(]`)
)

// tsInterfaces parses the interfaces of api.ts into their member names.
func tsInterfaces(t *testing.T) map[string][]string {
	t.Helper()
	src, err := os.ReadFile("../app/src/core/api.ts")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	ext := map[string]string{}
	for _, m := range ifaceRe.FindAllStringSubmatch(string(src), -1) {
		for _, f := range fieldRe.FindAllStringSubmatch(m[3], -1) {
			out[m[1]] = append(out[m[1]], f[1])
		}
		ext[m[1]] = m[2]
	}
	for name, base := range ext {
		if base != "" {
			out[name] = append(out[name], out[base]...)
		}
	}
	return out
}

func jsonNames(typ reflect.Type) []string {
	var out []string
	for i := range typ.NumField() {
		tag, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		out = append(out, tag)
	}
	return out
}

// TestShapesMatchAPI: every shape the bridge hands to JavaScript has
// exactly the fields api.ts declares for it.
func TestShapesMatchAPI(t *testing.T) {
	ts := tsInterfaces(t)
	shapes := []any{bridge.Account{}, bridge.Status{}, bridge.Registration{}, bridge.LinkCode{}, bridge.DeviceKey{}, bridge.Contact{},
		bridge.SafetyNumber{}, bridge.Chat{}, bridge.ChatFlags{}, bridge.Location{}, bridge.Media{}, bridge.Message{}, bridge.PollSpec{},
		bridge.PollResult{}, bridge.Extras{}, bridge.History{}, bridge.SearchHit{}, bridge.SendMediaOptions{}, bridge.GroupMember{},
		bridge.Group{}, bridge.GroupOptions{}, bridge.GroupAddResult{}, bridge.GroupUpdate{}, bridge.GroupInvitation{},
		bridge.InviteLink{}, bridge.LinkOptions{}, bridge.JoinResult{}, bridge.JoinRequest{}, bridge.CommunityGroup{}, bridge.Receipt{},
		bridge.BroadcastRecipient{}, bridge.BroadcastList{}, bridge.BroadcastEdit{}, bridge.BroadcastCopy{}, bridge.BroadcastSent{},
		bridge.ReportOptions{}, bridge.ReportFiled{}, bridge.GroupReport{}, bridge.GroupBan{},
		bridge.StatusPost{}, bridge.StatusViewer{}, bridge.StatusPostOptions{}, bridge.StatusSettings{}, bridge.StatusMedia{}, bridge.StatusQuote{}, bridge.Profile{}}
	for _, s := range shapes {
		typ := reflect.TypeOf(s)
		want, ok := ts[typ.Name()]
		if !ok {
			t.Errorf("api.ts has no interface %s", typ.Name())
			continue
		}
		got := jsonNames(typ)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: Go fields %v, api.ts fields %v", typ.Name(), got, want)
		}
	}
}

// glue are the methods web/wasm implements itself (Blobs, callbacks).
var glue = []string{"version", "sendMedia", "media", "onEvent"}

// TestMethodsMatchAPI: every method of the Parley interface is served.
func TestMethodsMatchAPI(t *testing.T) {
	want := tsInterfaces(t)["Parley"]
	got := append(bridge.Methods(), glue...)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("bridge methods %v\napi.ts methods %v", got, want)
	}
}

// ---- calls against a real server ----

// codes is the harness's recording code sender (parleytest.Codes).
type codes struct{ *parleytest.Codes }

// get is the code sent to phone: registration sends it before it answers.
func (c codes) get(t *testing.T, phone string) string {
	t.Helper()
	code := c.Code(phone)
	if code == "" {
		t.Fatalf("no code for %s", phone)
	}
	return code
}

// startServer starts a real server (parleytest) with media, Web Push and
// outbound requests allowed to loopback (the tests' push endpoint).
func startServer(t *testing.T) (string, codes) {
	t.Helper()
	dir := t.TempDir()
	blobs, err := disk.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	ps := parleytest.Start(t, func(c *server.Config) {
		c.Accounts.Limits = accounts.Limits{} // the defaults, as a deployment has them
		c.Media = &media.Config{Blobs: blobs, StagingDir: filepath.Join(dir, "up")}
		c.Push = &push.Config{}
		c.Outbound = outbound.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	})
	return ps.URL, codes{ps.Codes}
}

// browser is one bridge over a client with a KV store, as in the browser.
type browser struct {
	api    *bridge.API
	events chan bridge.Event
}

func newBrowser(t *testing.T, url string) *browser {
	t.Helper()
	st, err := client.OpenKVStore(context.Background(), client.NewMemKV())
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Open(context.Background(), client.Config{Store: st, ServerURL: url, Events: true, UploadChunk: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{api: &bridge.API{C: c, Origin: url}, events: make(chan bridge.Event, 256)}
	done, stop := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case ev := <-c.Events():
				b.api.Observe(ev)
				select {
				case b.events <- bridge.EventOf(ev):
				default:
				}
			case <-stop:
				return
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done; c.Close() })
	return b
}

// call runs a method with JavaScript-like arguments and returns its result
// as JavaScript would see it (JSON round trip).
func (b *browser) call(t *testing.T, name string, args ...any) (any, error) {
	t.Helper()
	var a bridge.Args
	for _, v := range args {
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		a = append(a, j)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, err := b.api.Call(ctx, name, a)
	if err != nil {
		return nil, err
	}
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("%s: result does not marshal: %v", name, err)
	}
	var out any
	if err := json.Unmarshal(j, &out); err != nil {
		t.Fatal(err)
	}
	return out, nil
}

func (b *browser) must(t *testing.T, name string, args ...any) any {
	t.Helper()
	v, err := b.call(t, name, args...)
	if err != nil {
		t.Fatalf("%s%v: %v", name, args, err)
	}
	return v
}

func field(v any, path ...string) any {
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	return v
}

func (b *browser) waitEvent(t *testing.T, what string, match func(bridge.Event) bool) bridge.Event {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case ev := <-b.events:
			if match(ev) {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s event", what)
		}
	}
}

func register(t *testing.T, b *browser, cb codes, phone, name string) {
	t.Helper()
	r := b.must(t, "register", phone, name)
	if field(r, "phone") != phone {
		t.Fatalf("register: %v", r)
	}
	acct := b.must(t, "verify", cb.get(t, phone))
	if field(acct, "phone") != phone || field(acct, "device").(float64) <= 0 {
		t.Fatalf("verify: %v", acct)
	}
}

func TestBridgeCalls(t *testing.T) {
	url, cb := startServer(t)
	alice, bob := newBrowser(t, url), newBrowser(t, url)

	st := alice.must(t, "status")
	if field(st, "registered") != false || field(st, "serverUrl") != url {
		t.Fatalf("status before registering: %v", st)
	}
	register(t, alice, cb, "+14155550101", "Alice")
	register(t, bob, cb, "+14155550102", "Bob")
	alice.waitEvent(t, "connection", func(ev bridge.Event) bool { return ev.Kind == "connection" && ev.Connected != nil && *ev.Connected })
	st = alice.must(t, "status")
	if field(st, "registered") != true || field(st, "connected") != true || field(st, "account", "name") != "Alice" {
		t.Fatalf("status: %v", st)
	}
	alice.must(t, "setUsername", "alice")

	// Errors reach JavaScript as {code, reason, message}.
	_, err := alice.call(t, "nope")
	if parley.ErrorReason(err) != "no_such_method" {
		t.Fatalf("unknown method: %v", err)
	}
	_, err = alice.call(t, "send", 42, "x")
	if parley.ErrorCode(err) != parley.CodeInvalid || parley.ErrorReason(err) != "bad_argument" {
		t.Fatalf("number for a string: %v", err)
	}
	_, err = alice.call(t, "resolve", "@nobody_here")
	if parley.ErrorCode(err) != parley.CodeNotFound {
		t.Fatalf("resolve unknown: %v", err)
	}

	// Chat both ways, with receipts.
	m := alice.must(t, "send", "+14155550102", "hello bob")
	chat := field(m, "chat").(string)
	if field(m, "status") != "sent" || field(m, "id") == "" {
		t.Fatalf("sent: %v", m)
	}
	ev := bob.waitEvent(t, "message", func(ev bridge.Event) bool { return ev.Kind == "message" && ev.Message.Text == "hello bob" })
	if ev.Chat != chat || ev.Message.Outgoing {
		t.Fatalf("bob got %+v", ev)
	}
	bob.must(t, "markRead", chat)
	alice.waitEvent(t, "read receipt", func(ev bridge.Event) bool {
		return ev.Kind == "receipt" && ev.Receipt.Kind == "read" && len(ev.Receipt.Updated) == 1 && ev.Receipt.Updated[0].Status == "read"
	})
	// Presence: bob is connected, so alice sees him online; once bob hides
	// last seen from everyone, the server reports him offline to her.
	bobUser := field(bob.must(t, "status"), "account", "user")
	if p := alice.must(t, "presence", bobUser); field(p, "online") != true {
		t.Fatalf("presence of a connected user: %v", p)
	}
	bob.must(t, "setPrivacy", map[string]any{"findByPhone": "everyone", "lastSeen": "nobody"})
	if p := alice.must(t, "presence", bobUser); field(p, "online") != false || field(p, "lastSeen") != float64(0) {
		t.Fatalf("presence hidden by privacy: %v", p)
	}
	bob.must(t, "setPrivacy", map[string]any{"findByPhone": "everyone", "lastSeen": "everyone"})
	reply := bob.must(t, "sendText", chat, "hi @alice", field(m, "seq"))
	alice.waitEvent(t, "reply", func(ev bridge.Event) bool { return ev.Kind == "message" && ev.Message.Text == "hi @alice" })
	ex := bob.must(t, "extras", chat, []any{field(reply, "seq")})
	seqKey := strings.TrimPrefix(field(reply, "id").(string), chat+":")
	if field(ex, seqKey, "replyTo") != field(m, "seq") || len(field(ex, seqKey, "mentions").([]any)) != 1 {
		t.Fatalf("extras: %v", ex)
	}
	alice.must(t, "react", field(reply, "id"), "👍")
	bob.waitEvent(t, "extras", func(ev bridge.Event) bool { return ev.Kind == "extras" && ev.Chat == chat })

	h := alice.must(t, "history", chat, 50)
	msgs := field(h, "messages").([]any)
	if len(msgs) != 2 || field(msgs[1], "text") != "hi @alice" || field(h, "chat", "unread").(float64) != 1 {
		t.Fatalf("history: %v", h)
	}
	hits := alice.must(t, "search", "HELLO").([]any)
	if len(hits) != 1 || field(hits[0], "chatTitle") == "" || field(hits[0], "message", "text") != "hello bob" {
		t.Fatalf("search: %v", hits)
	}
	c := alice.must(t, "setChatFlags", chat, map[string]any{"pinned": true})
	if field(c, "pinned") != true || field(c, "muted") != false {
		t.Fatalf("flags: %v", c)
	}
	chats := alice.must(t, "chats").([]any)
	if len(chats) != 1 || field(chats[0], "pinned") != true {
		t.Fatalf("chats: %v", chats)
	}
	loc := alice.must(t, "sendLocation", chat, 52.52, 13.405, "Berlin")
	if field(loc, "media", "location", "name") != "Berlin" {
		t.Fatalf("location: %v", loc)
	}
	sn := alice.must(t, "safetyNumber", "+14155550102")
	if n := field(sn, "number").(string); len(strings.ReplaceAll(n, " ", "")) != 60 {
		t.Fatalf("safety number: %v", sn)
	}

	// A group with an invite link that the other browser joins.
	g := alice.must(t, "createGroup", "Hikers", []string{}, map[string]any{"description": "weekend"})
	gid := field(g, "group", "id").(string)
	if field(g, "group", "description") != "weekend" {
		t.Fatalf("group: %v", g)
	}
	link := alice.must(t, "createInviteLink", gid, map[string]any{"maxUses": 5})
	if !strings.HasPrefix(field(link, "link").(string), client.LinkPrefix) {
		t.Fatalf("link: %v", link)
	}
	j := bob.must(t, "joinByLink", field(link, "link"))
	if field(j, "pending") != false || field(j, "group", "id") != gid {
		t.Fatalf("join: %v", j)
	}
	bob.must(t, "sendText", gid, "hi hikers")
	alice.waitEvent(t, "group message", func(ev bridge.Event) bool {
		return ev.Kind == "message" && ev.Chat == gid && ev.Message.Text == "hi hikers"
	})
	grp := alice.must(t, "group", gid)
	if len(field(grp, "members").([]any)) != 2 {
		t.Fatalf("members: %v", grp)
	}
}

// TestBridgePush: a browser subscribes through the bridge; while it is
// offline a message arrives, and its push service gets a Web Push signed by
// the server's VAPID key whose payload, decrypted with the browser's key,
// names the message and nothing more.
func TestBridgePush(t *testing.T) {
	url, cb := startServer(t)
	alice, bob := newBrowser(t, url), newBrowser(t, url)
	register(t, alice, cb, "+14155550111", "Alice")
	register(t, bob, cb, "+14155550112", "Bob")

	type got struct {
		payload map[string]any
		hdr     http.Header
	}
	ua, _ := ecdh.P256().GenerateKey(rand.Reader)
	auth := make([]byte, 16)
	rand.Read(auth)
	vapid := alice.must(t, "vapidKey").(string)
	vapidKey, _ := base64.RawURLEncoding.DecodeString(vapid)
	pushes := make(chan got, 10)
	ps := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, key, err := push.VerifyVAPID(r.Header.Get("Authorization"), "http://"+r.Host+r.URL.Path, time.Now())
		if err != nil || !bytes.Equal(key, vapidKey) {
			t.Errorf("vapid: %v", err)
		}
		body, _ := io.ReadAll(r.Body)
		pt, err := push.Decrypt(body, ua, auth)
		if err != nil {
			t.Errorf("decrypt: %v", err)
		}
		var p map[string]any
		json.Unmarshal(pt, &p)
		pushes <- got{p, r.Header.Clone()}
		w.WriteHeader(http.StatusCreated)
	}))
	defer ps.Close()
	sub := map[string]any{"endpoint": ps.URL + "/sub/alice", "expirationTime": nil,
		"keys": map[string]string{"p256dh": base64.RawURLEncoding.EncodeToString(ua.PublicKey().Bytes()), "auth": base64.RawURLEncoding.EncodeToString(auth)}}
	if _, err := alice.call(t, "subscribePush", map[string]any{"endpoint": "https://x"}); parley.ErrorReason(err) != "bad_subscription" {
		t.Fatalf("bad subscription: %v", err)
	}
	alice.must(t, "subscribePush", sub)

	// Online: no push.
	bob.must(t, "send", "+14155550111", "are you there?")
	alice.waitEvent(t, "message", func(ev bridge.Event) bool { return ev.Kind == "message" })
	select {
	case p := <-pushes:
		t.Fatalf("push to an online device: %v", p)
	case <-time.After(300 * time.Millisecond):
	}

	// Offline: a push naming only the conversation and seq.
	alice.api.C.Close()
	time.Sleep(200 * time.Millisecond) // the server sees the session end
	m := bob.must(t, "send", "+14155550111", "secret plans")
	select {
	case p := <-pushes:
		if p.payload["c"] != field(m, "chat") || p.payload["s"] != field(m, "seq") || len(p.payload) != 2 {
			t.Fatalf("payload %v, want c=%v s=%v", p.payload, field(m, "chat"), field(m, "seq"))
		}
		if p.hdr.Get("Content-Encoding") != "aes128gcm" || p.hdr.Get("TTL") == "" {
			t.Fatalf("headers %v", p.hdr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no push for an offline device")
	}
}
