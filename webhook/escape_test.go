package webhook_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/webhook"
)

func TestEscapeNonASCII(t *testing.T) {
	for in, want := range map[string]string{
		`{"name":"äöå"}`:             `{"name":"\u00e4\u00f6\u00e5"}`, // Meta's documented example
		`{"e":"😀"}`:                  `{"e":"\ud83d\ude00"}`,
		`{"a":"José 👍"}`:             `{"a":"Jos\u00e9 \ud83d\udc4d"}`,
		`{"x":"\u00e4","y":"plain"}`: `{"x":"\u00e4","y":"plain"}`, // already escaped: unchanged
		`{"z":"ￜ€"}`:                 `{"z":"\uffdc\u20ac"}`,
		"{\"bad\":\"\xff\"}":         `{"bad":"\ufffd"}`,
	} {
		if got := string(webhook.EscapeNonASCII([]byte(in))); got != want {
			t.Errorf("EscapeNonASCII(%q) = %s, want %s", in, got, want)
		}
	}
}

// metaEscape is the verification Meta documents, written independently:
// escape the raw body's non-ASCII characters as \uXXXX (lower-case hex,
// UTF-16 surrogate pairs), then HMAC-SHA256.
func metaEscape(body []byte) []byte {
	var b strings.Builder
	for _, r := range string(body) {
		if r < 0x80 {
			b.WriteRune(r)
			continue
		}
		for _, u := range utf16Units(r) {
			b.WriteString(`\u` + hex.EncodeToString([]byte{byte(u >> 8), byte(u)}))
		}
	}
	return []byte(b.String())
}

func utf16Units(r rune) []uint16 {
	if r <= 0xffff {
		return []uint16{uint16(r)}
	}
	r -= 0x10000
	return []uint16{uint16(0xd800 + r>>10), uint16(0xdc00 + r&0x3ff)}
}

// A delivery posts the escaped form and signs exactly those bytes: a
// receiver that escapes the raw body before the HMAC (Meta's documented
// way) and one that signs the raw body both accept it.
func TestDeliveryEscapesNonASCII(t *testing.T) {
	got := make(chan *http.Request, 1)
	bodies := make(chan []byte, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			io.WriteString(w, r.URL.Query().Get("hub.challenge"))
			return
		}
		b, _ := io.ReadAll(r.Body)
		got <- r
		bodies <- b
	}))
	defer srv.Close()
	s := openStore(t, t.TempDir())
	defer s.Close()
	svc := webhook.New(s, nil, nil, webhook.Config{Outbound: allowLoopback})
	run(t, svc)
	if _, err := svc.Configure(t.Context(), parley.WebhookConfig{Business: 3, CallbackURL: srv.URL, VerifyToken: "vt", AppSecret: secret}); err != nil {
		t.Fatal(err)
	}
	value, _ := json.Marshal(map[string]any{"contacts": []any{map[string]any{"profile": map[string]string{"name": "Zoë äöå"}}},
		"text": "grüße 😀"})
	if err := svc.Enqueue(t.Context(), parley.WebhookEvent{Business: 3, PhoneNumberID: "3", OrderKey: "k", Field: "messages", Value: value}); err != nil {
		t.Fatal(err)
	}
	var r *http.Request
	var body []byte
	select {
	case r = <-got:
		body = <-bodies
	case <-time.After(30 * time.Second):
		t.Fatal("no delivery")
	}
	for i, c := range body {
		if c >= utf8.RuneSelf {
			t.Fatalf("byte %d of the body is not ASCII: %s", i, body)
		}
	}
	if !bytes.Contains(body, []byte(`Zo\u00eb \u00e4\u00f6\u00e5`)) || !bytes.Contains(body, []byte(`gr\u00fc\u00dfe \ud83d\ude00`)) {
		t.Fatalf("body not escaped as Meta does: %s", body)
	}
	sig := r.Header.Get(webhook.SignatureHeader)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(metaEscape(body))
	if want := "sha256=" + hex.EncodeToString(m.Sum(nil)); sig != want {
		t.Fatalf("signature %s, Meta's verification computes %s", sig, want)
	}
	if !webhook.Verify(secret, body, sig) {
		t.Fatal("the signature does not verify over the raw body")
	}
	changes, err := webhook.ParseEnvelope(body)
	if err != nil || len(changes) != 1 {
		t.Fatalf("envelope: %v", err)
	}
	var a, b any
	_ = json.Unmarshal(value, &a)
	_ = json.Unmarshal(changes[0].Value, &b)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("value %v arrived as %v", a, b)
	}
}

func FuzzEscapeNonASCII(f *testing.F) {
	for _, s := range []string{`{"a":"äöå"}`, `["😀",1,null]`, `"\u00e4"`, "\"\xff\xfe\"", `{"k\u00e9y":"v"}`, "\"\u2028\"", `"ü\"\\"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out := webhook.EscapeNonASCII(in)
		for i, b := range out {
			if b >= utf8.RuneSelf {
				t.Fatalf("byte %d of the output is not ASCII: %q", i, out)
			}
		}
		if !bytes.Equal(webhook.EscapeNonASCII(out), out) {
			t.Fatalf("escaping twice changed %q", out)
		}
		if utf8.Valid(in) && !bytes.Equal(metaEscape(in), out) {
			t.Fatalf("%q escaped to %q, Meta's form is %q", in, out, metaEscape(in))
		}
		var a, b any
		if json.Unmarshal(in, &a) != nil {
			return
		}
		if err := json.Unmarshal(out, &b); err != nil {
			t.Fatalf("escaped %q is not valid JSON: %v (%q)", in, err, out)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("value changed: %#v → %#v", a, b)
		}
	})
}
