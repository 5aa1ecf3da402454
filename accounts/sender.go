package accounts

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/parleyhq/parley"
)

// DevSender is the development parley.CodeSender: it writes each code to the
// log, at level Info, with exactly the message
//
//	verification code for <phone>: <code>
//
// Never use it in production: anyone who reads the log can take over any
// account.
type DevSender struct {
	Log *slog.Logger // nil means slog.Default()
}

// SendCode logs the code.
func (d DevSender) SendCode(ctx context.Context, phone, code string) error {
	log := d.Log
	if log == nil {
		log = slog.Default()
	}
	log.InfoContext(ctx, "verification code for "+phone+": "+code)
	return nil
}

// WebhookSender is a parley.CodeSender that hands codes to an SMS gateway
// over HTTP. Each code is one POST to URL with the JSON body
//
//	{"phone":"+447700900123","code":"123456","message":"Your Parley code is 123456"}
//
// When Secret is set the request carries the header
//
//	X-Parley-Signature: sha256=<hex HMAC-SHA256 of the raw body keyed by Secret>
//
// so the gateway can check it came from this server. Any transport failure
// or non-2xx answer returns CodeUnavailable with reason
// "sms_gateway_failed"; SendCode does not retry.
type WebhookSender struct {
	URL    string
	Client *http.Client // nil means a client with a 10 s timeout
	Secret string
}

// SignatureHeader is the request header WebhookSender signs with.
const SignatureHeader = "X-Parley-Signature"

var defaultWebhookClient = &http.Client{Timeout: 10 * time.Second}

type webhookBody struct {
	Phone   string `json:"phone"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// SendCode posts the code to the webhook.
func (w WebhookSender) SendCode(ctx context.Context, phone, code string) error {
	body, err := json.Marshal(webhookBody{Phone: phone, Code: code, Message: "Your Parley code is " + code})
	if err != nil {
		return gatewayFailed(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return gatewayFailed(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if w.Secret != "" {
		req.Header.Set(SignatureHeader, Sign([]byte(w.Secret), body))
	}
	client := w.Client
	if client == nil {
		client = defaultWebhookClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return gatewayFailed(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return gatewayFailed(fmt.Errorf("webhook answered %s", resp.Status))
	}
	return nil
}

// Sign returns the X-Parley-Signature value for body: "sha256=" and the hex
// HMAC-SHA256 of body keyed by secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func gatewayFailed(err error) error {
	return &parley.Error{Code: parley.CodeUnavailable, Reason: "sms_gateway_failed",
		Message: "the verification code could not be sent; try again later", Err: err}
}
