package accounts

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/outbound"
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
// ReasonSMSGatewayFailed; SendCode does not retry. The request goes
// through package outbound: a gateway on loopback or a private network is
// reached only when the operator allowed its range (NewWebhookSender).
type WebhookSender struct {
	URL    string
	Client *outbound.Client // nil: the default outbound policy (nothing internal reachable), SMSLimits
	Secret string
}

// ReasonSMSGatewayFailed is the reason of every SendCode failure.
const ReasonSMSGatewayFailed = "sms_gateway_failed"

// SMSLimits bound a request to the SMS gateway: 10 s in all, no redirect
// followed, at most 64 KiB of answer read.
var SMSLimits = outbound.Limits{Total: 10 * time.Second, MaxBody: 64 << 10, MaxRedirects: outbound.NoRedirects}

// NewWebhookSender returns a sender posting to url under policy p.
func NewWebhookSender(url, secret string, p outbound.Policy) WebhookSender {
	return WebhookSender{URL: url, Secret: secret, Client: outbound.New("sms webhook", p, SMSLimits, nil)}
}

// SignatureHeader is the request header WebhookSender signs with.
const SignatureHeader = "X-Parley-Signature"

var defaultWebhookClient = sync.OnceValue(func() *outbound.Client {
	return outbound.New("sms webhook", outbound.Policy{Log: slog.Default()}, SMSLimits, nil)
})

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
		client = defaultWebhookClient()
	}
	resp, err := client.Fetch(req) // any failure is outbound.ErrFailed, its cause logged
	if err != nil {
		return gatewayFailed(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body) // let the connection be reused
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
	return &parley.Error{Code: parley.CodeUnavailable, Reason: ReasonSMSGatewayFailed,
		Message: "the verification code could not be sent; try again later", Err: err}
}
