package bridge_test

import (
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/web/bridge"
)

// TestBridgeChatTools: the device-local chat tools through the calls the
// UI makes: message info, stars, delete for me, mute and mark unread (and
// opening a chat clears the mark).
func TestBridgeChatTools(t *testing.T) {
	url, cb := startServer(t)
	gina, hank := newBrowser(t, url), newBrowser(t, url)
	register(t, gina, cb, "+14155550171", "Gina")
	register(t, hank, cb, "+14155550172", "Hank")

	m := gina.must(t, "send", "+14155550172", "hi hank")
	chat, id := field(m, "chat").(string), field(m, "id").(string)
	hank.waitEvent(t, "message", func(ev bridge.Event) bool { return ev.Kind == "message" && ev.Message.Text == "hi hank" })
	hank.must(t, "markRead", chat)
	gina.waitEvent(t, "read receipt", func(ev bridge.Event) bool { return ev.Kind == "receipt" && ev.Receipt.Kind == "read" })

	info := gina.must(t, "messageInfo", id)
	members, _ := field(info, "members").([]any)
	if len(members) != 1 || field(members[0], "deliveredAt").(float64) <= 0 || field(members[0], "readAt").(float64) <= 0 ||
		field(info, "message", "text") != "hi hank" {
		t.Fatalf("message info: %v", info)
	}
	if _, err := hank.call(t, "messageInfo", id); parley.ErrorReason(err) != "not_own_message" {
		t.Fatalf("message info of another's message: %v", err)
	}

	hank.must(t, "star", id)
	if st, _ := hank.must(t, "starred").([]any); len(st) != 1 || field(st[0], "message", "text") != "hi hank" {
		t.Fatalf("starred: %v", st)
	}
	hank.must(t, "deleteForMe", id)
	if st, _ := hank.must(t, "starred", chat).([]any); len(st) != 0 {
		t.Fatalf("starred after delete for me: %v", st)
	}
	if h := hank.must(t, "history", chat, 0); len(field(h, "messages").([]any)) != 0 {
		t.Fatalf("hank's history after delete for me: %v", h)
	}

	c := gina.must(t, "mute", chat, 8*3600*1000)
	if field(c, "muted") != false || field(c, "mutedUntil").(float64) <= 0 {
		t.Fatalf("mute 8h: %v", c)
	}
	c = gina.must(t, "mute", chat, -1)
	if field(c, "muted") != true || field(c, "mutedUntil").(float64) != 0 {
		t.Fatalf("mute always: %v", c)
	}
	c = gina.must(t, "markUnread", chat)
	if field(c, "markedUnread") != true {
		t.Fatalf("mark unread: %v", c)
	}
	if cs, _ := gina.must(t, "chats").([]any); len(cs) != 1 || field(cs[0], "markedUnread") != true || field(cs[0], "muted") != true {
		t.Fatalf("chats: %v", cs)
	}
	gina.must(t, "markRead", chat)
	if c := gina.must(t, "chat", chat); field(c, "markedUnread") != false {
		t.Fatalf("after opening: %v", c)
	}
	if _, err := gina.call(t, "mute", chat, -5); parley.ErrorReason(err) != "bad_mute" {
		t.Fatalf("mute -5: %v", err)
	}
}
