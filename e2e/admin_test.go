package e2e

import (
	"strings"
	"testing"
)

// TestAdminSuspendCLI: the operator suspends an account with `parley admin`
// against a running server: the account's listening client is cut off and
// cannot sign in again, a message to it is refused "recipient_suspended";
// unsuspending restores both (and the sender's client delivers the refused
// message it kept pending); the audit log shows both actions.
func TestAdminSuspendCLI(t *testing.T) {
	const token = "e2e-operator-token"
	t.Setenv("PARLEY_OPERATOR_TOKEN", token) // the server's --operator-token and the CLI's --token
	s := mustServe(t)
	t.Setenv("PARLEY_SERVER", s.URL)
	alice := newDevice(t, "alice", "+14155550191")
	bob := newDevice(t, "bob", "+14155550192")
	op := newDevice(t, "operator", "")
	alice.mustRegister(s, "Alice")
	bob.mustRegister(s, "Bob")
	l := bob.mustListen()
	alice.must("send", "--to", bob.phone, "before")
	l.mustSee("the first message", isMessage("before"))

	// Without the token (or with another) the admin API refuses.
	r := op.mustFail(4, "admin", "stats", "--token", "wrong")
	if !strings.Contains(r.stderr, "admin_token_wrong") {
		t.Fatalf("stats with a wrong token: %s", r.stderr)
	}
	found := op.must("admin", "users", "--find", "Bob").lines()
	if len(found) != 1 || found[0]["phone"] != bob.phone {
		t.Fatalf("users --find Bob: %v", found)
	}

	out := op.must("admin", "suspend", bob.phone, "--reason", "spam reports").lines()
	if len(out) != 1 || out[0]["suspended_at"] == nil {
		t.Fatalf("suspend: %v", out)
	}
	l.mustSee("the connection closed", func(m map[string]any) bool { return m["event"] == "connection" && m["connected"] == false })
	l.stop() // the profile is one process's at a time
	r = bob.mustFail(5, "chats")
	if !strings.Contains(r.stderr, "account_suspended") {
		t.Fatalf("bob signs in while suspended: %s", r.stderr)
	}
	r = alice.mustFail(5, "send", "--to", bob.phone, "during")
	if !strings.Contains(r.stderr, "recipient_suspended") {
		t.Fatalf("send to a suspended account: %s", r.stderr)
	}

	op.must("admin", "unsuspend", bob.phone)
	alice.must("send", "--to", bob.phone, "after")
	got := bob.must("history", alice.phone).lines()
	var texts []string
	for _, m := range got {
		if s, ok := m["text"].(string); ok {
			texts = append(texts, s)
		}
	}
	// Alice's client kept the refused message pending and resent it when
	// it next connected, once bob could receive it again.
	if strings.Join(texts, ",") != "before,during,after" {
		t.Fatalf("bob's history after unsuspension: %v", texts)
	}

	audit := op.must("admin", "audit").lines()
	var actions []string
	for _, e := range audit {
		actions = append(actions, e["action"].(string))
	}
	if strings.Join(actions, ",") != "unsuspend,suspend,list_users" {
		t.Fatalf("audit: %v", actions)
	}
}

// TestAdminGroupsCLI: the operator lists groups by size, deletes one and
// sets a business's verified mark; the members' clients no longer have the
// group and cannot send to it.
func TestAdminGroupsCLI(t *testing.T) {
	const token = "e2e-operator-token"
	t.Setenv("PARLEY_OPERATOR_TOKEN", token)
	s := mustServe(t)
	t.Setenv("PARLEY_SERVER", s.URL)
	alice := newDevice(t, "alice", "+14155550193")
	bob := newDevice(t, "bob", "+14155550194")
	op := newDevice(t, "operator", "")
	alice.mustRegister(s, "Alice")
	bob.mustRegister(s, "Bob")
	id, _ := alice.must("group", "create", "Spammers", "--member", bob.phone).lines()[0]["group"].(string)
	alice.must("send", "--to", id, "buy now")

	gs := op.must("admin", "groups", "--min-members", "2").lines()
	if len(gs) != 1 || gs[0]["id"] != id || gs[0]["members"] != float64(2) {
		t.Fatalf("admin groups: %v", gs)
	}
	if d := op.must("admin", "delete-group", id).lines(); len(d) != 1 || d[0]["removed"] != float64(2) {
		t.Fatalf("delete-group: %v", d)
	}
	if gs := op.must("admin", "groups").lines(); len(gs) != 0 {
		t.Fatalf("groups after delete: %v", gs)
	}
	if gs := op.must("admin", "groups", "--min-members", "0").lines(); len(gs) != 1 || gs[0]["members"] != float64(0) {
		t.Fatalf("groups with deleted ones: %v", gs)
	}
	bob.mustFail(exitNotFound, "group", "info", id)
	if g := bob.must("group", "list").lines(); len(g) != 0 {
		t.Fatalf("bob's groups after delete: %v", g)
	}
	alice.mustFail(exitForbidden, "send", "--to", id, "still here?")

	op.mustFail(exitNotFound, "admin", "verify", alice.phone) // not a business
	alice.must("business", "profile", "set", "--name", "Alice's Shop")
	if b := op.must("admin", "verify", alice.phone).lines(); len(b) != 1 || b[0]["verified"] != true {
		t.Fatalf("verify: %v", b)
	}
	if b := op.must("admin", "businesses").lines(); len(b) != 1 || b[0]["verified"] != true || b[0]["name"] != "Alice's Shop" {
		t.Fatalf("businesses: %v", b)
	}
	audit := op.must("admin", "audit", "--limit", "2").lines()
	if len(audit) != 2 || audit[0]["action"] != "verify" || audit[1]["action"] != "delete_group" {
		t.Fatalf("audit: %v", audit)
	}
}
