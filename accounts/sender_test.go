package accounts_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/accounts"
	"github.com/parleyhq/parley/outbound"
)

func TestDevSender(t *testing.T) {
	var buf bytes.Buffer
	s := accounts.DevSender{Log: slog.New(slog.NewJSONHandler(&buf, nil))}
	if err := s.SendCode(t.Context(), "+14155550100", "042917"); err != nil {
		t.Fatal(err)
	}
	var rec struct{ Level, Msg string }
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("log %q: %v", buf.String(), err)
	}
	if rec.Msg != "verification code for +14155550100: 042917" || rec.Level != "INFO" {
		t.Fatalf("logged %+v", rec)
	}
}

func TestWebhookSender(t *testing.T) {
	type request struct {
		method, contentType, signature string
		body                           []byte
	}
	tests := []struct {
		name   string
		secret string
		status int
		code   parley.Code
	}{
		{"signed", "s3cret", http.StatusOK, ""},
		{"unsigned", "", http.StatusAccepted, ""},
		{"gateway error", "s3cret", http.StatusBadGateway, parley.CodeUnavailable},
		{"rejected", "", http.StatusBadRequest, parley.CodeUnavailable},
		{"redirect", "", http.StatusNotModified, parley.CodeUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := make(chan request, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				got <- request{r.Method, r.Header.Get("Content-Type"), r.Header.Get(accounts.SignatureHeader), body}
				w.WriteHeader(tt.status)
			}))
			defer srv.Close()

			s := accounts.NewWebhookSender(srv.URL+"/sms", tt.secret, allowLoopback)
			err := s.SendCode(t.Context(), "+14155550100", "123456")
			wantErr(t, err, tt.code, "sms_gateway_failed")

			req := <-got
			if req.method != http.MethodPost || req.contentType != "application/json" {
				t.Fatalf("request %s with %q", req.method, req.contentType)
			}
			var body map[string]string
			if err := json.Unmarshal(req.body, &body); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"phone": "+14155550100", "code": "123456", "message": "Your Parley code is 123456"}
			if len(body) != len(want) || body["phone"] != want["phone"] || body["code"] != want["code"] || body["message"] != want["message"] {
				t.Fatalf("body = %s", req.body)
			}
			if tt.secret == "" {
				if req.signature != "" {
					t.Fatalf("unsigned request has signature %q", req.signature)
				}
				return
			}
			m := hmac.New(sha256.New, []byte(tt.secret))
			m.Write(req.body)
			if want := "sha256=" + hex.EncodeToString(m.Sum(nil)); req.signature != want {
				t.Fatalf("signature = %q, want %q", req.signature, want)
			}
		})
	}
}

func TestWebhookSenderUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	err := accounts.NewWebhookSender(url, "", allowLoopback).SendCode(t.Context(), "+14155550100", "123456")
	wantErr(t, err, parley.CodeUnavailable, "sms_gateway_failed")
}

// allowLoopback is the outbound policy an operator would set to reach an
// SMS gateway on this machine.
var allowLoopback = outbound.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}

// TestWebhookSenderRefusesInternal: with the default policy a gateway URL
// on loopback is never reached, and the error says nothing of why.
func TestWebhookSenderRefusesInternal(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	for _, s := range []accounts.WebhookSender{{URL: srv.URL}, accounts.NewWebhookSender(srv.URL, "", outbound.Policy{})} {
		err := s.SendCode(t.Context(), "+14155550100", "123456")
		wantErr(t, err, parley.CodeUnavailable, accounts.ReasonSMSGatewayFailed)
		if !errors.Is(err, outbound.ErrFailed) {
			t.Fatalf("err = %v", err)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("the loopback gateway was hit %d times", hits.Load())
	}
}

// TestRegisterThroughWebhook wires the webhook into the service: the SMS
// gateway receives the code Verify accepts, and a gateway failure reaches
// the caller as sms_gateway_failed.
func TestRegisterThroughWebhook(t *testing.T) {
	codes := make(chan string, 1)
	var fail atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var body struct{ Code string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		codes <- body.Code
	}))
	defer srv.Close()

	e := newEnv(t, accounts.Config{})
	svc := accounts.New(e.store, accounts.NewWebhookSender(srv.URL, "", allowLoopback), e.clock, nil, accounts.Config{})
	if _, err := svc.Register(e.ctx, alicePhone, "Alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Verify(e.ctx, accounts.VerifyParams{Phone: alicePhone, Code: <-codes, IdentityKey: identityKey(1)}); err != nil {
		t.Fatal(err)
	}
	fail.Store(true)
	_, err := svc.Register(e.ctx, bobPhone, "Bob")
	wantErr(t, err, parley.CodeUnavailable, "sms_gateway_failed")
}
