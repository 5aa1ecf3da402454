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
