package cloudapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
)

// raw sends a JSON request and returns the status and the body as sent,
// its random trace id blanked.
func (e *env) raw(method, path, auth string, body any) (int, string) {
	e.t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(method, e.url+path, bytes.NewReader(b))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, traceID.ReplaceAllString(string(data), `"fbtrace_id":"…"`)
}

// traceID matches the random trace id every error carries.
var traceID = regexp.MustCompile(`"fbtrace_id":"[^"]*"`)

// TestFindByPhoneThroughBusinessAPI: a business cannot learn through the
// API whether a number that hides itself from it has an account. Sending a
// message, recording an opt-in, and a customer's report of a "business"
// number answer a hidden user (find by phone "nobody", "contacts" without
// the business in them, or a user who blocked the business) exactly as a
// number no one has. A visible user answers differently (the control), and
// a hidden customer who wrote to the business can be answered.
func TestFindByPhoneThroughBusinessAPI(t *testing.T) {
	e := mustEnv(t)
	biz := e.mustBusiness("Corner Shop")
	// More accounts than the per-address burst of account requests: the
	// server's clock moves a minute before each, which refills it.
	mustUser := func(name string) *user {
		e.clock.advance(time.Minute)
		return e.mustUser(name)
	}
	nobody := mustUser("Nadia")
	if err := nobody.c.SetPrivacy(e.ctx(), parley.VisibleNobody, ""); err != nil {
		t.Fatal(err)
	}
	contacts := mustUser("Conrad")
	if err := contacts.c.SetPrivacy(e.ctx(), parley.VisibleContacts, ""); err != nil {
		t.Fatal(err)
	}
	blocker := mustUser("Bea")
	if _, err := blocker.c.Block(e.ctx(), biz.phone); err != nil {
		t.Fatal(err)
	}
	visible := mustUser("Vic")
	reporter := mustUser("Rita")
	const unknown = "+14155569999"

	routes := map[string]func(phone string) (int, string){
		"send": func(phone string) (int, string) {
			return e.raw("POST", "/v23.0/"+biz.pnid+"/messages", "Bearer "+biz.token, map[string]any{"messaging_product": "whatsapp",
				"to": strings.TrimPrefix(phone, "+"), "type": "text", "text": map[string]any{"body": "hello"}})
		},
		"send with +": func(phone string) (int, string) {
			return e.raw("POST", "/v23.0/"+biz.pnid+"/messages", "Bearer "+biz.token, map[string]any{"messaging_product": "whatsapp",
				"to": phone, "type": "text", "text": map[string]any{"body": "hello"}})
		},
		"opt-in": func(phone string) (int, string) {
			return e.raw("POST", "/v23.0/"+biz.pnid+"/optins", "Bearer "+biz.token,
				map[string]string{"wa_id": strings.TrimPrefix(phone, "+"), "source": "form", "text": "offers"})
		},
		"report": func(phone string) (int, string) {
			return e.raw("POST", "/business/v1/report", reporter.auth(), map[string]any{"business": phone, "reason": "spam"})
		},
	}
	for name, route := range routes {
		t.Run(name, func(t *testing.T) {
			wantSt, want := route(unknown)
			if wantSt == http.StatusOK {
				t.Fatalf("unknown number accepted: %s", want)
			}
			for who, phone := range map[string]string{"nobody": nobody.phone, "contacts": contacts.phone, "blocked": blocker.phone} {
				if st, got := route(phone); st != wantSt || got != want {
					t.Errorf("%s: %d %s\nunknown number: %d %s", who, st, got, wantSt, want)
				}
			}
			if name != "report" { // a personal account is no business, visible or not
				if st, got := route(visible.phone); st == wantSt && got == want {
					t.Errorf("a visible user answers as an unknown number: the comparison cannot fail %s", got)
				}
			}
		})
	}

	// A hidden customer who writes to the business can be answered.
	if _, err := nobody.c.Send(e.ctx(), biz.phone, "is the shop open?"); err != nil {
		t.Fatal(err)
	}
	biz.hooks.mustEvent(t, "messages", "is the shop open?")
	if st, r := biz.send(e, text(strings.TrimPrefix(nobody.phone, "+"), "yes, until 6")); st != http.StatusOK {
		t.Fatalf("reply to a hidden customer who wrote: %d %+v", st, r.Error)
	}
}

// TestFindByPhoneThroughClientRoutes: every client-core route that takes a
// phone number (look up, add a contact, block, start a chat, send, create
// a group with the number, add the number to a group) fails for a user who
// hides their number from the asker exactly as for a number no one has:
// same code, reason and message.
func TestFindByPhoneThroughClientRoutes(t *testing.T) {
	e := mustEnv(t)
	mustUser := func(name string) *user {
		e.clock.advance(time.Minute) // refills the per-address burst of account requests
		return e.mustUser(name)
	}
	asker := mustUser("Ada")
	nobody := mustUser("Nadia")
	if err := nobody.c.SetPrivacy(e.ctx(), parley.VisibleNobody, ""); err != nil {
		t.Fatal(err)
	}
	contacts := mustUser("Conrad")
	if err := contacts.c.SetPrivacy(e.ctx(), parley.VisibleContacts, ""); err != nil {
		t.Fatal(err)
	}
	visible := mustUser("Vic")
	group, err := asker.c.CreateGroup(e.ctx(), "Book club", nil, client.GroupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const unknown = "+14155569999"

	routes := map[string]func(phone string) error{
		"resolve":     func(p string) error { _, err := asker.c.Resolve(e.ctx(), p); return err },
		"add contact": func(p string) error { _, err := asker.c.AddContact(e.ctx(), p); return err },
		"block":       func(p string) error { _, err := asker.c.Block(e.ctx(), p); return err },
		"start chat":  func(p string) error { _, err := asker.c.StartDirect(e.ctx(), p); return err },
		"send":        func(p string) error { _, err := asker.c.Send(e.ctx(), p, "hi"); return err },
		"create group with": func(p string) error {
			_, err := asker.c.CreateGroup(e.ctx(), "Walkers", []string{p}, client.GroupOptions{})
			return err
		},
		"add to group": func(p string) error {
			_, err := asker.c.AddGroupMembers(e.ctx(), string(group.Group.ID), []string{p})
			return err
		},
	}
	describe := func(err error, phone string) string {
		if err == nil {
			return "no error"
		}
		return fmt.Sprintf("%s/%s: %s", parley.ErrorCode(err), parley.ErrorReason(err),
			strings.ReplaceAll(err.Error(), phone, "PHONE"))
	}
	for name, route := range routes {
		t.Run(name, func(t *testing.T) {
			want := describe(route(unknown), unknown)
			if want == "no error" {
				t.Fatal("an unknown number was accepted")
			}
			for who, phone := range map[string]string{"nobody": nobody.phone, "contacts": contacts.phone} {
				if got := describe(route(phone), phone); got != want {
					t.Errorf("%s: %s\nunknown number: %s", who, got, want)
				}
			}
			if got := describe(route(visible.phone), visible.phone); got == want {
				t.Errorf("a visible user answers as an unknown number (%s): the comparison cannot fail", got)
			}
		})
	}
}
