// Package bottest runs a real Parley server (SQLite, the business API and
// hosted endpoints) on 127.0.0.1 for the tests of bots, and registers
// users on it with real clients.
package bottest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/accounts"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/hosted"
	"github.com/parleyhq/parley/outbound"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/server"
)

// Env is a running server.
type Env struct {
	t     *testing.T
	URL   string
	codes *parleytest.Codes
	n     int
}

// Start runs a server for t (parleytest); it stops when t ends. Its
// outbound requests (webhooks, media links) may reach 127.0.0.1, where a
// bot under test listens.
func Start(t *testing.T) *Env {
	t.Helper()
	dir := t.TempDir()
	// A bot under test receives its webhooks on 127.0.0.1: allowed as an
	// operator allows a private range (parley serve --outbound-allow).
	ps := parleytest.Start(t, func(c *server.Config) {
		c.Accounts.Limits = accounts.Limits{} // the defaults, as a deployment has them
		c.Outbound = outbound.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
		c.BusinessAPI = &server.BusinessAPIConfig{HostedDir: filepath.Join(dir, "hosted"), OperatorKey: bytes.Repeat([]byte{9}, 32), Hosted: hosted.ForServer}
	})
	return &Env{t: t, URL: ps.URL, codes: ps.Codes}
}

// Ctx is a context for one step of a test (30 s).
func (e *Env) Ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	e.t.Cleanup(cancel)
	return ctx
}

// User is a registered user with an open client (events on).
type User struct {
	C     *client.Client
	Phone string
	Acct  client.Account
}

// Auth is the user's device credentials as an Authorization header value.
func (u *User) Auth() string {
	return fmt.Sprintf("Parley %d:%s", u.Acct.Device, base64.StdEncoding.EncodeToString(u.Acct.Secret))
}

// WaID is the user's phone number as the Cloud API writes it (no "+").
func (u *User) WaID() string { return strings.TrimPrefix(u.Phone, "+") }

// MustUser registers a user with a fresh phone number.
func (e *Env) MustUser(name string) *User {
	t := e.t
	t.Helper()
	e.n++
	phone := fmt.Sprintf("+1415557%04d", e.n)
	c, err := client.Open(e.Ctx(), client.Config{Dir: t.TempDir(), ServerURL: e.URL, Events: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Register(e.Ctx(), e.URL, phone, name); err != nil {
		t.Fatal(err)
	}
	acct, err := c.Verify(e.Ctx(), e.code(phone), "")
	if err != nil {
		t.Fatal(err)
	}
	return &User{C: c, Phone: phone, Acct: acct}
}

// MustEnableAPI runs u's number through the business API (a hosted
// endpoint linked as a device of u) and returns its phone-number id and a
// bearer token.
func (e *Env) MustEnableAPI(u *User) (pnid, token string) {
	t := e.t
	t.Helper()
	code, _, err := u.C.LinkCode(e.Ctx())
	if err != nil {
		t.Fatal(err)
	}
	var n, tok map[string]any
	if st := e.Do("POST", "/business/v1/api/enable", u.Auth(), map[string]string{"link_code": code}, &n); st != 200 {
		t.Fatalf("enable: %d %v", st, n)
	}
	if st := e.Do("POST", "/business/v1/api/tokens", u.Auth(), map[string]any{"name": "bot"}, &tok); st != 200 {
		t.Fatalf("token: %d %v", st, tok)
	}
	return n["phone_number_id"].(string), tok["token"].(string)
}

// Do sends a JSON request to the server and decodes the answer into out.
func (e *Env) Do(method, path, auth string, body, out any) int {
	e.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.URL+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

// MustMessage waits (20 s) for a message in u's events that ok accepts.
func MustMessage(t *testing.T, u *User, ok func(client.MessageRecord) bool) client.MessageRecord {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case ev := <-u.C.Events():
			if ev.Kind == client.EventMessage && !ev.Message.Outgoing && ok(*ev.Message) {
				return *ev.Message
			}
		case <-deadline:
			t.Fatal("timed out waiting for a message")
		}
	}
}

// code is the verification code sent to phone: registration sends it
// before it answers.
func (e *Env) code(phone string) string {
	e.t.Helper()
	c := e.codes.Code(phone)
	if c == "" {
		e.t.Fatalf("no verification code for %s", phone)
	}
	return c
}
