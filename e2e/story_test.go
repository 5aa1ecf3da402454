package e2e

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// mustNotContain fails if any file under dir contains one of the texts. As a
// control, the server's files must contain control (metadata it does keep).
func mustNotContain(t *testing.T, dir, control string, texts ...string) {
	t.Helper()
	n, found := 0, false
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		found = found || bytes.Contains(data, []byte(control))
		for _, text := range texts {
			if bytes.Contains(data, []byte(text)) {
				t.Errorf("%s contains the plaintext %q", path, text)
			}
		}
		return nil
	})
	if err != nil || n == 0 || !found {
		t.Fatalf("scan %s: %v (%d files, control %q found: %v)", dir, err, n, control, found)
	}
}

// TestStory is issue 2's story, through the CLI binary: two people, each
// with a primary and a linked device, register, find each other by phone
// and by username, and exchange end-to-end encrypted messages online and
// offline with sent/delivered/read receipts.
func TestStory(t *testing.T) {
	s := mustServe(t)
	alice1 := newDevice(t, "alice1", "+14155550101")
	bob1 := newDevice(t, "bob1", "+14155550102")
	alice1.mustRegister(s, "Alice")
	bob1.mustRegister(s, "Bob")
	bob1.must("account", "username", "bob")
	alice1.must("account", "username", "Alice_W")

	alice2 := newDevice(t, "alice2", "")
	alice2.mustLink(s, alice1)
	bob2 := newDevice(t, "bob2", "")
	bob2.mustLink(s, bob1)
	if out := alice1.must("device", "list").lines(); len(out) != 2 || out[1]["name"] != "alice2" {
		t.Fatalf("alice's devices = %v, want 2, the second named alice2", out)
	}

	// Offline: bob's devices are not connected when alice sends by phone.
	sent := alice1.must("send", "--to", bob1.phone, "hello bob").lines()
	if len(sent) != 1 || sent[0]["event"] != "sent" || sent[0]["seq"].(float64) < 1 {
		t.Fatalf("send printed %v", sent)
	}
	chat := sent[0]["chat"].(string)
	for _, d := range []*device{bob1, bob2, alice2} {
		hist := d.must("history", chat).lines()
		if got := texts(hist); !slices.Equal(got, []string{"hello bob"}) {
			t.Fatalf("%s history = %v, want [hello bob]", d.name, got)
		}
	}
	// The same chat by username, case-insensitively, and by phone.
	if h := bob1.must("history", "@alice_w").lines(); len(texts(h)) != 1 || h[0]["from"] != "@Alice_W" {
		t.Fatalf("bob1 history @alice_w = %v", h)
	}

	// Online, with receipts: alice1 listens while alice2 sends to @bob.
	a1 := alice1.mustListen()
	b1 := bob1.mustListen()
	// One process per profile: the running listen holds alice1's.
	if r := alice1.mustFail(exitConflict, "chats"); !strings.Contains(r.stderr, "profile_in_use") {
		t.Fatalf("second process on a profile: %s", r.stderr)
	}
	out := alice2.must("send", "--to", "@bob", "are you there?").lines()
	if out[0]["chat"] != chat {
		t.Fatalf("alice2 sent to chat %v, want %s", out[0]["chat"], chat)
	}
	seq := out[0]["seq"].(float64)
	b1.mustSee("message on bob1", isMessage("are you there?"))
	a1.mustSee("alice's other device sees her message", isMessage("are you there?"))
	a1.mustSee("delivered receipt", func(m map[string]any) bool {
		return isReceipt("delivered")(m) && m["seq"].(float64) >= seq
	})
	bob2.must("read", chat)
	a1.mustSee("read receipt", func(m map[string]any) bool {
		return isReceipt("read")(m) && m["seq"].(float64) >= seq
	})
	b1.mustSee("bob's own read on his other device", isReceipt("read"))
	a1.stop()
	b1.stop()
	hist := alice1.must("history", "@bob").lines()
	if len(hist) != 2 || hist[1]["status"] != "read" {
		t.Fatalf("alice1 history = %v, want 2 messages, the last read", hist)
	}

	// Multi-device: a reply from bob2 reaches all four devices' histories.
	bob2.must("send", "--to", alice1.phone, "yes, from my laptop")
	for _, d := range []*device{alice1, alice2, bob1, bob2} {
		if got := texts(d.must("history", chat).lines()); !slices.Contains(got, "yes, from my laptop") {
			t.Fatalf("%s history = %v, missing bob2's reply", d.name, got)
		}
	}
	if got := alice1.must("chats").lines(); len(got) != 1 || got[0]["chat"] != chat {
		t.Fatalf("alice1 chats = %v, want exactly %s", got, chat)
	}

	// The server only ever had ciphertext: no plaintext in its data directory.
	s.stop()
	mustNotContain(t, s.data, alice1.phone, "hello bob", "are you there?", "yes, from my laptop")
	s.mustRestart()

	// Safety numbers match on both sides (and on linked devices).
	sa := alice1.must("verify", "@bob").lines()[0]["safety_number"]
	sb := bob2.must("verify", alice1.phone).lines()[0]["safety_number"]
	if sa != sb || len(sa.(string)) != 71 {
		t.Fatalf("safety numbers differ: %v vs %v", sa, sb)
	}
}

// TestReconnectAndRestart: a listener killed in the middle of a burst and
// restarted gets every message exactly once; a server restart (even a
// crash) loses no acknowledged message.
func TestReconnectAndRestart(t *testing.T) {
	s := mustServe(t)
	alice := newDevice(t, "alice", "+14155550111")
	bob := newDevice(t, "bob", "+14155550112")
	alice.mustRegister(s, "Alice")
	bob.mustRegister(s, "Bob")
	alice.must("send", "--to", bob.phone, "m0")

	l := bob.mustListen()
	l.mustSee("m0", isMessage("m0"))
	const burst = 12
	for i := 1; i <= burst; i++ {
		if i == burst/2 {
			l.kill() // drop the connection mid-burst, unacknowledged envelopes included
		}
		alice.must("send", "--to", bob.phone, fmt.Sprintf("m%d", i))
	}
	l = bob.mustListen()
	l.mustSee("last of the burst", isMessage(fmt.Sprintf("m%d", burst)))
	l.stop()
	want := []string{"m0"}
	for i := 1; i <= burst; i++ {
		want = append(want, fmt.Sprintf("m%d", i))
	}
	if got := texts(bob.must("history", "--limit", "0", alice.phone).lines()); !slices.Equal(got, want) {
		t.Fatalf("bob's history after reconnect = %v, want %v (nothing lost, nothing doubled)", got, want)
	}

	// Messages the server acknowledged ("sent") survive a crash.
	for i := 0; i < 3; i++ {
		alice.must("send", "--to", bob.phone, fmt.Sprintf("before crash %d", i))
	}
	s.kill()
	s.mustRestart()
	got := texts(bob.must("history", "--limit", "0", alice.phone).lines())
	for i := 0; i < 3; i++ {
		if !slices.Contains(got, fmt.Sprintf("before crash %d", i)) {
			t.Fatalf("after restart bob has %v, missing 'before crash %d'", got, i)
		}
	}
	// And a graceful restart.
	alice.must("send", "--to", bob.phone, "before restart")
	s.stop()
	s.mustRestart()
	bob.must("send", "--to", alice.phone, "after restart")
	if got := texts(bob.must("history", "--limit", "0", alice.phone).lines()); got[len(got)-2] != "before restart" || got[len(got)-1] != "after restart" {
		t.Fatalf("bob's history ends %v", got[len(got)-2:])
	}
}

// TestReceiptsWhileOffline: alice sends and is never connected while bob
// receives and reads; her history still learns "delivered", then "read"
// (receipts are pushed only live; ListConversations carries the positions).
func TestReceiptsWhileOffline(t *testing.T) {
	s := mustServe(t)
	alice := newDevice(t, "alice", "+14155550121")
	bob := newDevice(t, "bob", "+14155550122")
	alice.mustRegister(s, "Alice")
	bob.mustRegister(s, "Bob")

	sent := alice.must("send", "--to", bob.phone, "read me later").lines()
	if len(sent) != 1 || sent[0]["event"] != "sent" {
		t.Fatalf("send printed %v", sent)
	}
	chat := sent[0]["chat"].(string)
	if got := texts(bob.must("history", chat).lines()); !slices.Equal(got, []string{"read me later"}) {
		t.Fatalf("bob's history = %v", got)
	}
	// Bob's device acknowledged (asynchronously: poll briefly).
	status := func() any {
		hist := alice.must("history", chat).lines()
		if len(hist) != 1 {
			t.Fatalf("alice's history = %v, want one message", hist)
		}
		return hist[0]["status"]
	}
	var got any
	for range 10 {
		if got = status(); got == "delivered" {
			break
		}
	}
	if got != "delivered" {
		t.Fatalf("alice's message status = %v, want delivered", got)
	}
	bob.must("read", chat)
	if got := status(); got != "read" {
		t.Fatalf("alice's message status = %v, want read", got)
	}
}
