// Package apiclient is the one client of a Parley server's HTTP routes: the
// media and tree transfers, push subscriptions, webhooks, insights and the
// business API. It owns the three things every such call shares and that
// used to be written again by each caller:
//
//   - the base URL, derived from a profile's server URL in any of its forms
//     (http(s)://host[:port][/prefix] or ws(s)://…[/v1/ws]) by BaseURL;
//   - the credential: a device's ("Authorization: Parley DEVICE:BASE64SECRET",
//     DeviceAuth) or a business API bearer token (Bearer);
//   - the errors: every error answer, whatever shape the route writes
//     ({"code","reason","message"}, {"error":{…}} or a Cloud API error
//     object), comes back as one *parley.Error (DecodeError), and a server
//     that cannot be reached as CodeUnavailable.
//
// It is a leaf: it imports only the standard library and package parley,
// so the CLI, the SDK (package client), the browser bridge (js/wasm, where
// net/http's default transport is the browser's fetch) and the bench can
// all use it. The package is named for what it is — the API's client — as
// opposed to the SDK, package client, which speaks the WebSocket protocol.
package apiclient

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/parleyhq/parley"
)

// WebSocketPath is the path of the server's WebSocket endpoint; BaseURL
// strips it from a server URL that ends in it.
const WebSocketPath = "/v1/ws"

// MaxAnswer bounds the bytes Call reads of one answer.
const MaxAnswer = 16 << 20

// Reasons of the errors this package makes itself (the server's errors keep
// the server's reasons).
const (
	ReasonBadServerURL  = "bad_server_url" // the server URL is not http(s) or ws(s) with a host
	ReasonUnreachable   = "unreachable"    // the request got no HTTP answer
	ReasonBadAnswer     = "bad_answer"     // a success answer that is not the expected JSON
	ReasonNotRegistered = "not_registered" // a device call from a profile without a device
)

// BaseURL turns a profile's server URL (http(s)://host[:port][/path] or
// ws(s)://…, possibly ending in WebSocketPath) into the base URL of the
// server's HTTP routes: scheme http(s), no query, no trailing slash.
// Anything else is CodeInvalid, reason ReasonBadServerURL.
func BaseURL(server string) (string, error) {
	u, err := url.Parse(server)
	if err != nil || u.Host == "" {
		return "", parley.Errorf(parley.CodeInvalid, ReasonBadServerURL, "server URL %q: want http://host:port", server)
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "http"
	case "https", "wss":
		u.Scheme = "https"
	default:
		return "", parley.Errorf(parley.CodeInvalid, ReasonBadServerURL, "server URL %q: want http://host:port", server)
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, WebSocketPath), "/")
	u.RawQuery, u.Fragment, u.RawPath = "", "", ""
	return u.String(), nil
}

// DeviceAuth is the Authorization header value of a device credential.
func DeviceAuth(device parley.DeviceID, secret []byte) string {
	return "Parley " + strconv.FormatInt(int64(device), 10) + ":" + base64.StdEncoding.EncodeToString(secret)
}

// Bearer is the Authorization header value of a business API or operator
// token.
func Bearer(token string) string { return "Bearer " + token }

// Client calls one server's HTTP routes with one credential. The zero HTTP
// is http.DefaultClient. A Client is safe for concurrent use.
type Client struct {
	Base string // from BaseURL: http(s)://host[:port][/prefix]
	Auth string // the Authorization header (DeviceAuth, Bearer), or "" for none
	HTTP *http.Client
}

// New is a Client of the server at serverURL (any form BaseURL takes)
// sending auth.
func New(serverURL, auth string) (*Client, error) {
	base, err := BaseURL(serverURL)
	if err != nil {
		return nil, err
	}
	return &Client{Base: base, Auth: auth}, nil
}

// ForDevice is a Client of serverURL with a registered device's
// credential; a device of 0 (an unregistered profile) is CodeUnauthenticated,
// reason ReasonNotRegistered.
func ForDevice(serverURL string, device parley.DeviceID, secret []byte) (*Client, error) {
	if device == 0 {
		return nil, parley.Errorf(parley.CodeUnauthenticated, ReasonNotRegistered, "this profile is not registered")
	}
	return New(serverURL, DeviceAuth(device, secret))
}

// NewRequest is a request to path (below Base, or an absolute http(s) URL)
// carrying the client's credential.
func (c *Client) NewRequest(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	if !strings.HasPrefix(path, "http://") && !strings.HasPrefix(path, "https://") {
		path = c.Base + path
	}
	req, err := http.NewRequestWithContext(ctx, method, path, body)
	if err != nil {
		return nil, err
	}
	if c.Auth != "" {
		req.Header.Set("Authorization", c.Auth)
	}
	return req, nil
}

// Do sends req. A request that gets no answer is CodeUnavailable, reason
// ReasonUnreachable, wrapping the transport's error; an answer of any
// status is returned as it is (see ResponseError).
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, &parley.Error{Code: parley.CodeUnavailable, Reason: ReasonUnreachable,
			Message: req.Method + " " + req.URL.Redacted() + ": " + err.Error(), Err: err}
	}
	return resp, nil
}

// Call sends in (when not nil) as a JSON body to path and decodes a JSON
// answer into out (when not nil). A non-2xx answer is the *parley.Error
// DecodeError makes of it; a 2xx answer that is not JSON is CodeInternal,
// reason ReasonBadAnswer.
func (c *Client) Call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := c.NewRequest(ctx, method, path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswer))
	if err != nil {
		return &parley.Error{Code: parley.CodeUnavailable, Reason: ReasonUnreachable,
			Message: method + " " + path + ": the answer was cut short", Err: err}
	}
	if resp.StatusCode/100 != 2 {
		return DecodeError(resp.StatusCode, data)
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return parley.Errorf(parley.CodeInternal, ReasonBadAnswer, "%s %s: %v", method, path, err)
		}
	}
	return nil
}

// ResponseError reads (at most 64 KiB of) an error answer's body and
// returns DecodeError's error for it.
func ResponseError(resp *http.Response) *parley.Error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return DecodeError(resp.StatusCode, data)
}

// DecodeError turns an error answer into a *parley.Error. It understands
// every error body Parley's routes write:
//
//	{"code":"not_found","reason":"no_webhook","message":"…"}        media, trees, push, webhooks, insights
//	{"error":{"code":"forbidden","reason":"…","message":"…"}}       business API owner and operator routes
//	{"error":{"code":131047,"message":"…","error_data":{"details":"…"}}}  Cloud API routes
//
// keeping the server's code and reason (a Cloud API error's reason is
// "cloudapi_NNNN"). A body of none of these shapes (a proxy's page, a tus
// library's text) gets the code of its HTTP status (StatusCode), reason
// "http_NNN", and the body's "message" or text as message (at most 512
// bytes). It never fails: body is untrusted and may be anything.
func DecodeError(status int, body []byte) *parley.Error {
	if e, ok := ParseError(status, body); ok {
		return e
	}
	msg := strings.TrimSpace(string(body))
	var withMessage struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &withMessage) == nil && withMessage.Message != "" {
		msg = withMessage.Message
	}
	if len(msg) > 512 {
		msg = msg[:512]
	}
	if msg == "" {
		msg = strconv.Itoa(status) + " " + http.StatusText(status)
	}
	return &parley.Error{Code: StatusCode(status), Reason: "http_" + strconv.Itoa(status), Message: msg}
}

// ParseError is DecodeError for a body of one of Parley's error shapes;
// ok is false for any other body, which the caller may read its own way
// (package attachment reads the tus library's text answers).
func ParseError(status int, body []byte) (e *parley.Error, ok bool) {
	type fields struct {
		Code      json.RawMessage `json:"code"`
		Reason    string          `json:"reason"`
		Message   string          `json:"message"`
		ErrorData struct {
			Details string `json:"details"`
		} `json:"error_data"`
	}
	var flat struct {
		fields
		Error *fields `json:"error"`
	}
	if json.Unmarshal(body, &flat) != nil {
		return nil, false
	}
	f := flat.fields
	if flat.Error != nil {
		f = *flat.Error
	}
	var code parley.Code
	var number int
	if json.Unmarshal(f.Code, &code) == nil && code != "" {
		return &parley.Error{Code: code, Reason: f.Reason, Message: f.Message}, true
	}
	if json.Unmarshal(f.Code, &number) == nil && number != 0 {
		msg := f.Message
		if f.ErrorData.Details != "" {
			msg += ": " + f.ErrorData.Details
		}
		return &parley.Error{Code: StatusCode(status), Reason: "cloudapi_" + strconv.Itoa(number), Message: msg}, true
	}
	return nil, false
}

// StatusCode is the error class of an HTTP status: the inverse of
// parley.Code.HTTPStatus (403 is CodeForbidden), with 502 and 504 also
// CodeUnavailable and any other status CodeInternal.
func StatusCode(status int) parley.Code {
	switch status {
	case http.StatusBadRequest:
		return parley.CodeInvalid
	case http.StatusUnauthorized:
		return parley.CodeUnauthenticated
	case http.StatusForbidden:
		return parley.CodeForbidden
	case http.StatusNotFound:
		return parley.CodeNotFound
	case http.StatusConflict:
		return parley.CodeConflict
	case http.StatusTooManyRequests:
		return parley.CodeRateLimited
	case http.StatusRequestEntityTooLarge:
		return parley.CodeTooLarge
	case http.StatusGone:
		return parley.CodeExpired
	case http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout:
		return parley.CodeUnavailable
	}
	return parley.CodeInternal
}
