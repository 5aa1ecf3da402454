package bridge_test

import (
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/web/bridge"
)

// TestBridgeBroadcast: the browser's broadcast calls against a real
// server: a list of two contacts, one of whom has the sender in contacts;
// only that one receives the copy, and the sender sees two accepted copies.
func TestBridgeBroadcast(t *testing.T) {
	url, cb := startServer(t)
	alice, bob, carol := newBrowser(t, url), newBrowser(t, url), newBrowser(t, url)
	register(t, alice, cb, "+14155550201", "Alice")
	register(t, bob, cb, "+14155550202", "Bob")
	register(t, carol, cb, "+14155550203", "Carol")
	bob.must(t, "addContact", "+14155550201")
	alice.must(t, "addContact", "+14155550202")
	alice.must(t, "addContact", "+14155550203")

	l := alice.must(t, "createBroadcast", "Friends", []string{"+14155550202", "+14155550203"})
	if field(l, "name") != "Friends" || len(field(l, "recipients").([]any)) != 2 {
		t.Fatalf("createBroadcast: %v", l)
	}
	if _, err := alice.call(t, "createBroadcast", "Friends", []string{"+14155550202"}); parley.ErrorReason(err) != "broadcast_name_used" {
		t.Fatalf("a second list named Friends: %v", err)
	}
	sent := alice.must(t, "sendBroadcast", "Friends", "hi both")
	copies := field(sent, "copies").([]any)
	if len(copies) != 2 || field(copies[0], "error") != "" || field(copies[1], "error") != "" {
		t.Fatalf("sendBroadcast: %v", sent)
	}
	bob.waitEvent(t, "message", func(ev bridge.Event) bool { return ev.Kind == "message" && ev.Message.Text == "hi both" })

	l = alice.must(t, "editBroadcast", "Friends", map[string]any{"rename": "Pals", "remove": []string{"+14155550203"}})
	if field(l, "name") != "Pals" || len(field(l, "recipients").([]any)) != 1 {
		t.Fatalf("editBroadcast: %v", l)
	}
	if ls := alice.must(t, "broadcasts").([]any); len(ls) != 1 || field(ls[0], "name") != "Pals" {
		t.Fatalf("broadcasts: %v", ls)
	}
	alice.must(t, "deleteBroadcast", "Pals")
	if ls := alice.must(t, "broadcasts").([]any); len(ls) != 0 {
		t.Fatalf("broadcasts after delete: %v", ls)
	}

	// Carol, without Alice in contacts, got nothing: an ordinary message
	// sent after the broadcast is the only one in her chat with Alice.
	alice.must(t, "send", "+14155550203", "ordinary")
	ev := carol.waitEvent(t, "message", func(ev bridge.Event) bool { return ev.Kind == "message" })
	if ev.Message.Text != "ordinary" {
		t.Fatalf("carol's first message: %+v", ev.Message)
	}
	h := carol.must(t, "history", ev.Chat, 0)
	if ms, _ := field(h, "messages").([]any); len(ms) != 1 {
		t.Fatalf("carol's chat with alice: %v", ms)
	}
}
