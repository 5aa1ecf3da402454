package push

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

func unb64(t testing.TB, s string) []byte {
	b, err := b64.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RFC 8291 Appendix A.
var rfc = struct{ plaintext, asPrivate, asPublic, uaPrivate, uaPublic, salt, auth, body string }{
	plaintext: "When I grow up, I want to be a watermelon",
	asPrivate: "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw",
	asPublic:  "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8",
	uaPrivate: "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94",
	uaPublic:  "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
	salt:      "DGv6ra1nlYgDCS1FRnbzlw",
	auth:      "BTBZMqHH6r4Tts7J_aSIgg",
	body:      "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN",
}

func TestRFC8291Vector(t *testing.T) {
	as, err := ecdh.P256().NewPrivateKey(unb64(t, rfc.asPrivate))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(as.PublicKey().Bytes(), unb64(t, rfc.asPublic)) {
		t.Fatal("the vector's application server key pair does not match")
	}
	got, err := encrypt([]byte(rfc.plaintext), unb64(t, rfc.uaPublic), unb64(t, rfc.auth), as, unb64(t, rfc.salt))
	if err != nil {
		t.Fatal(err)
	}
	if b64.EncodeToString(got) != rfc.body {
		t.Fatalf("body\n got %s\nwant %s", b64.EncodeToString(got), rfc.body)
	}
	ua, err := ecdh.P256().NewPrivateKey(unb64(t, rfc.uaPrivate))
	if err != nil {
		t.Fatal(err)
	}
	pt, err := Decrypt(unb64(t, rfc.body), ua, unb64(t, rfc.auth))
	if err != nil || string(pt) != rfc.plaintext {
		t.Fatalf("decrypt the vector: %q %v", pt, err)
	}
}

func TestEncryptRoundTrip(t *testing.T) {
	ua, _ := ecdh.P256().GenerateKey(rand.Reader)
	auth := make([]byte, 16)
	rand.Read(auth)
	msg := []byte(`{"c":"cabc","s":42}`)
	a, err := Encrypt(msg, ua.PublicKey().Bytes(), auth)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Encrypt(msg, ua.PublicKey().Bytes(), auth)
	if bytes.Equal(a, b) {
		t.Fatal("two encryptions are equal: salt or key reused")
	}
	pt, err := Decrypt(a, ua, auth)
	if err != nil || !bytes.Equal(pt, msg) {
		t.Fatalf("round trip: %q %v", pt, err)
	}
	// Any flipped bit is refused.
	for _, i := range []int{0, 15, 21, 40, headerSize, len(a) - 1} { // salt, key id, ciphertext, tag
		c := bytes.Clone(a)
		c[i] ^= 1
		if _, err := Decrypt(c, ua, auth); !parley.IsCode(err, parley.CodeInvalid) {
			t.Fatalf("flipped byte %d: %v", i, err)
		}
	}
	// Limits and bad keys are specific errors.
	if _, err := Encrypt(make([]byte, MaxPlaintext+1), ua.PublicKey().Bytes(), auth); parley.ErrorReason(err) != "push_payload_too_large" {
		t.Fatalf("too large: %v", err)
	}
	if _, err := Encrypt(msg, []byte("nope"), auth); parley.ErrorReason(err) != "bad_push_key" {
		t.Fatalf("bad key: %v", err)
	}
	if _, err := Encrypt(msg, ua.PublicKey().Bytes(), auth[:3]); parley.ErrorReason(err) != "bad_push_auth" {
		t.Fatalf("bad auth: %v", err)
	}
	if full, err := Encrypt(make([]byte, MaxPlaintext), ua.PublicKey().Bytes(), auth); err != nil || len(full) != recordSize {
		t.Fatalf("largest payload: %d bytes, %v", len(full), err)
	}
}

func FuzzDecrypt(f *testing.F) {
	ua, _ := ecdh.P256().NewPrivateKey(unb64(f, rfc.uaPrivate))
	auth := unb64(f, rfc.auth)
	f.Add(unb64(f, rfc.body))
	f.Add([]byte{})
	f.Add(make([]byte, 86))
	f.Fuzz(func(t *testing.T, body []byte) {
		pt, err := Decrypt(body, ua, auth)
		if err != nil && !parley.IsCode(err, parley.CodeInvalid) {
			t.Fatalf("error without a code: %v", err)
		}
		if err == nil && len(pt) >= len(body) {
			t.Fatal("plaintext not shorter than the body")
		}
	})
}

func subJSON(endpoint, p256dh, auth string) []byte {
	b, _ := json.Marshal(map[string]any{"endpoint": endpoint, "expirationTime": nil, "keys": map[string]string{"p256dh": p256dh, "auth": auth}})
	return b
}

func TestParseSubscription(t *testing.T) {
	ep, key, auth, err := ParseSubscription(subJSON("https://fcm.googleapis.com/fcm/send/abc", rfc.uaPublic, rfc.auth))
	if err != nil || ep != "https://fcm.googleapis.com/fcm/send/abc" || len(key) != 65 || len(auth) != 16 {
		t.Fatalf("valid: %q %d %d %v", ep, len(key), len(auth), err)
	}
	if _, _, _, err := ParseSubscription(subJSON("http://127.0.0.1:9/x", rfc.uaPublic, rfc.auth+"==")); err != nil {
		t.Fatalf("loopback http with padding: %v", err)
	}
	for name, data := range map[string][]byte{
		"not json":       []byte("{"),
		"no endpoint":    subJSON("", rfc.uaPublic, rfc.auth),
		"plain http":     subJSON("http://push.example/x", rfc.uaPublic, rfc.auth),
		"not a url":      subJSON("https://", rfc.uaPublic, rfc.auth),
		"credentials":    subJSON("https://u:p@push.example/x", rfc.uaPublic, rfc.auth),
		"long endpoint":  subJSON("https://push.example/"+strings.Repeat("x", 2048), rfc.uaPublic, rfc.auth),
		"short key":      subJSON("https://push.example/x", rfc.auth, rfc.auth),
		"not on curve":   subJSON("https://push.example/x", "B"+strings.Repeat("A", 86), rfc.auth),
		"short auth":     subJSON("https://push.example/x", rfc.uaPublic, "AAAA"),
		"auth not b64":   subJSON("https://push.example/x", rfc.uaPublic, "!!!!!!!!!!!!!!!!!!!!!!"),
		"keys not b64":   subJSON("https://push.example/x", "%%%", rfc.auth),
		"missing fields": []byte(`{"endpoint":"https://push.example/x"}`),
	} {
		if _, _, _, err := ParseSubscription(data); parley.ErrorReason(err) != "bad_subscription" {
			t.Errorf("%s: %v, want bad_subscription", name, err)
		}
	}
}

func FuzzParseSubscription(f *testing.F) {
	f.Add(subJSON("https://fcm.googleapis.com/fcm/send/abc", rfc.uaPublic, rfc.auth))
	f.Add([]byte(`{"endpoint":"https://x","keys":{"p256dh":"","auth":""}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ep, key, auth, err := ParseSubscription(data)
		if err != nil {
			if parley.ErrorReason(err) != "bad_subscription" {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if ep == "" || len(key) != PublicKeySize || len(auth) != AuthSecretSize {
			t.Fatalf("accepted %q %d %d", ep, len(key), len(auth))
		}
	})
}

func TestVAPID(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	k, err := NewVAPIDKey(now)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := signer(k)
	if err != nil {
		t.Fatal(err)
	}
	ep := "https://push.example:8443/send/abc?x=1"
	h, err := vapidHeader(priv, k.Public, ep, "mailto:ops@example.com", now.Add(12*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	c, pub, err := VerifyVAPID(h, ep, now)
	if err != nil {
		t.Fatal(err)
	}
	if c.Aud != "https://push.example:8443" || c.Sub != "mailto:ops@example.com" || !bytes.Equal(pub, k.Public) {
		t.Fatalf("claims %+v", c)
	}
	if _, _, err := VerifyVAPID(h, "https://other.example/send", now); parley.ErrorReason(err) != "bad_vapid" {
		t.Fatalf("other audience: %v", err)
	}
	if _, _, err := VerifyVAPID(h, ep, now.Add(13*time.Hour)); parley.ErrorReason(err) != "bad_vapid" {
		t.Fatalf("expired: %v", err)
	}
	other, _ := NewVAPIDKey(now)
	forged := h[:strings.Index(h, ", k=")] + ", k=" + b64.EncodeToString(other.Public)
	if _, _, err := VerifyVAPID(forged, ep, now); parley.ErrorReason(err) != "bad_vapid" {
		t.Fatalf("another key: %v", err)
	}
	if _, err := vapidHeader(priv, k.Public, "ftp://x", "mailto:a@b", now); parley.ErrorReason(err) != "bad_push_endpoint" {
		t.Fatalf("bad endpoint: %v", err)
	}
}

// BenchmarkEncrypt: encrypting one notification (an ephemeral ECDH, HKDF
// and AES-GCM) — the server's CPU cost per push besides the request.
func BenchmarkEncrypt(b *testing.B) {
	ua, _ := ecdh.P256().GenerateKey(rand.Reader)
	auth := make([]byte, 16)
	rand.Read(auth)
	msg := []byte(`{"c":"cabcdefghijklmnopqrstuvwxyz","s":123456}`)
	for b.Loop() {
		if _, err := Encrypt(msg, ua.PublicKey().Bytes(), auth); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVAPIDHeader: signing one ES256 token.
func BenchmarkVAPIDHeader(b *testing.B) {
	k, _ := NewVAPIDKey(time.Now())
	priv, _ := signer(k)
	for b.Loop() {
		if _, err := vapidHeader(priv, k.Public, "https://push.example/x", "mailto:a@b.c", time.Now().Add(time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
}
