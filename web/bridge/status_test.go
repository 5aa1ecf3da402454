package bridge_test

import (
	"testing"
)

// TestBridgeStatus: Status through the calls the UI makes, between two
// browsers (KV stores): a text status to one's contacts, the viewer's
// list and view, the poster's viewers, a private reply in the 1:1 chat,
// settings, mute, and an early delete.
func TestBridgeStatus(t *testing.T) {
	url, cb := startServer(t)
	ivy, jon := newBrowser(t, url), newBrowser(t, url)
	register(t, ivy, cb, "+14155550181", "Ivy")
	register(t, jon, cb, "+14155550182", "Jon")
	ivy.must(t, "addContact", "+14155550182")
	jon.must(t, "addContact", "+14155550181")

	posted := ivy.must(t, "postStatus", map[string]any{"text": "on the summit", "background": "#224466", "font": "serif"})
	id, _ := field(posted, "id").(string)
	if id == "" || field(posted, "audience") != float64(1) {
		t.Fatalf("postStatus: %v", posted)
	}
	list, _ := jon.must(t, "statuses").([]any)
	if len(list) != 1 || field(list[0], "text") != "on the summit" || field(list[0], "background") != "#224466" ||
		field(list[0], "seen") != false || field(list[0], "posterName") == "" {
		t.Fatalf("jon's statuses: %v", list)
	}
	viewed, _ := jon.must(t, "viewStatus", "+14155550181").([]any)
	if len(viewed) != 1 || field(viewed[0], "seen") != true {
		t.Fatalf("viewStatus: %v", viewed)
	}
	if vs, _ := ivy.must(t, "statusViewers", id).([]any); len(vs) != 1 || field(vs[0], "name") == "" {
		t.Fatalf("statusViewers: %v", vs)
	}
	if mine, _ := ivy.must(t, "statuses").([]any); len(mine) != 1 || field(mine[0], "mine") != true || field(mine[0], "views") != float64(1) {
		t.Fatalf("ivy's statuses: %v", mine)
	}
	reply := jon.must(t, "replyStatus", id, "see you up there")
	if field(reply, "text") != "see you up there" {
		t.Fatalf("replyStatus: %v", reply)
	}

	s := jon.must(t, "setStatusSettings", map[string]any{"receipts": false, "audience": "only:+14155550181"})
	if field(s, "receipts") != false || field(s, "audience") != "only:+14155550181" {
		t.Fatalf("setStatusSettings: %v", s)
	}
	jon.must(t, "muteStatus", "+14155550181")
	if list, _ := jon.must(t, "statuses").([]any); len(list) != 0 {
		t.Fatalf("muted: %v", list)
	}
	if list, _ := jon.must(t, "statuses", true).([]any); len(list) != 1 || field(list[0], "muted") != true {
		t.Fatalf("with the muted: %v", list)
	}
	jon.must(t, "muteStatus", "+14155550181", false)
	ivy.must(t, "deleteStatus", id)
	if list, _ := jon.must(t, "statuses").([]any); len(list) != 0 {
		t.Fatalf("after the delete: %v", list)
	}
}
