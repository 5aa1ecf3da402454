package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestBroadcastCLI is issue 16's broadcast test through the CLI binary: a
// list of three recipients, one of whom (dave) does not have the sender in
// contacts. Bob and carol receive the text and the file as ordinary
// messages in their 1:1 chat with alice and can reply there; dave gets
// nothing; no recipient's data names another; the file is uploaded once;
// the server's data directory never holds the plaintext; a list of 257
// is refused.
func TestBroadcastCLI(t *testing.T) {
	s := mustServe(t)
	alice := newDevice(t, "alice", "+14155550801")
	bob := newDevice(t, "bob", "+14155550802")
	carol := newDevice(t, "carol", "+14155550803")
	dave := newDevice(t, "dave", "+14155550804")
	for _, d := range []*device{alice, bob, carol, dave} {
		d.mustRegister(s, d.name)
	}
	bob.must("contacts", "add", alice.phone)
	carol.must("contacts", "add", alice.phone)

	// A list is of one's contacts.
	r := alice.mustFail(exitInvalid, "broadcast", "create", "Crag news", "--to", bob.phone)
	if !strings.Contains(r.stderr, "broadcast_not_contact") {
		t.Fatalf("a recipient outside the contacts: %s", r.stderr)
	}
	for _, d := range []*device{bob, carol, dave} {
		alice.must("contacts", "add", d.phone)
	}
	created := alice.must("broadcast", "create", "Crag news", "--to", bob.phone, "--to", carol.phone, "--to", dave.phone).lines()
	if len(created) != 1 || created[0]["event"] != "broadcast_created" || len(created[0]["recipients"].([]any)) != 3 {
		t.Fatalf("broadcast create printed %v", created)
	}
	alice.mustFail(exitConflict, "broadcast", "create", "Crag news", "--to", bob.phone)

	const text = "broadcast-marker: the north face is dry"
	sent := alice.must("broadcast", "send", "Crag news", text).lines()
	if len(sent) != 1 || sent[0]["event"] != "broadcast_sent" || len(sent[0]["copies"].([]any)) != 3 || sent[0]["failed"] != float64(0) {
		// Three accepted copies: the sender is not told that dave's was withheld.
		t.Fatalf("broadcast send printed %v", sent)
	}
	blobsBefore := countBlobs(t, s.data)
	const fileMarker = "broadcast-file-marker: topo of the north face"
	file := filepath.Join(t.TempDir(), "topo.txt")
	if err := os.WriteFile(file, []byte(strings.Repeat(fileMarker+"\n", 50)), 0o600); err != nil {
		t.Fatal(err)
	}
	alice.must("broadcast", "send", "Crag news", "--file", file, "--caption", "broadcast-caption-marker")
	if n := countBlobs(t, s.data) - blobsBefore; n != 1 {
		t.Fatalf("the broadcast file was stored %d times, want once", n)
	}

	for _, d := range []*device{bob, carol} {
		h := d.must("history", alice.phone).lines()
		if got := texts(h); !slices.Contains(got, text) || !slices.Contains(got, "broadcast-caption-marker") {
			t.Fatalf("%s's chat with alice: %v", d.name, got)
		}
		for _, m := range h {
			if m["kind"] != "text" && m["id"] != nil {
				got := filepath.Join(t.TempDir(), d.name+".txt")
				d.must("media", "get", m["id"].(string), "-o", got)
				if b, err := os.ReadFile(got); err != nil || !strings.HasPrefix(string(b), fileMarker) {
					t.Fatalf("%s's copy of the file: %q, %v", d.name, b, err)
				}
			}
		}
	}
	// Dave, without alice in contacts, has no message from her.
	if h := dave.run("history", alice.phone); h.code == 0 {
		if got := texts(h.lines()); len(got) != 0 {
			t.Fatalf("dave received %v", got)
		}
	}
	// ... nor a chat with her in his list (the empty chat her client made
	// to carry the copy is not shown: he has not saved her).
	if got := dave.must("chats").lines(); len(got) != 0 {
		t.Fatalf("dave's chats: %v", got)
	}
	// A reply comes back to the 1:1 chat.
	bob.must("send", "--to", alice.phone, "on my way")
	if got := texts(alice.must("history", bob.phone).lines()); !slices.Contains(got, "on my way") || !slices.Contains(got, text) {
		t.Fatalf("alice's chat with bob: %v", got)
	}

	// No recipient's data shows another recipient (alice's phone, which
	// each of them knows, is the control).
	mustNotContain(t, bob.profile, alice.phone, carol.phone, dave.phone)
	mustNotContain(t, carol.profile, alice.phone, bob.phone, dave.phone)
	mustNotContain(t, dave.profile, alice.phone, bob.phone, carol.phone, text, fileMarker)
	// The server never holds the plaintext.
	mustNotContain(t, s.data, alice.phone, text, fileMarker, "broadcast-caption-marker")

	// Edit, list, delete; 257 recipients are refused before any lookup.
	alice.must("broadcast", "edit", "Crag news", "--rename", "Crag", "--remove", dave.phone)
	if ls := alice.must("broadcast", "list").lines(); len(ls) != 1 || ls[0]["name"] != "Crag" || len(ls[0]["recipients"].([]any)) != 2 {
		t.Fatalf("broadcast list: %v", ls)
	}
	args := []string{"broadcast", "create", "Everyone"}
	for i := range 257 {
		args = append(args, "--to", "+1415555"+strings.Repeat("0", 4-len(itoa(int64(i))))+itoa(int64(i)))
	}
	if r := alice.mustFail(exitInvalid, args...); !strings.Contains(r.stderr, "broadcast_too_many") {
		t.Fatalf("257 recipients: %s", r.stderr)
	}
	alice.must("broadcast", "delete", "Crag")
	alice.mustFail(exitNotFound, "broadcast", "send", "Crag", "hello?")
}
