package e2e

import (
	"testing"
)

// TestSearchCLI: `parley search` finds messages on the device by word
// prefixes, ignoring case and accents, newest first, and forgets an
// edited-away word.
func TestSearchCLI(t *testing.T) {
	s := mustServe(t)
	alice := newDevice(t, "alice", "+14155550911")
	bob := newDevice(t, "bob", "+14155550912")
	alice.mustRegister(s, "alice")
	bob.mustRegister(s, "bob")
	alice.must("send", "--to", bob.phone, "Meet at the Café Zürich at noon")
	alice.must("send", "--to", bob.phone, "the cafeteria is closed")
	alice.must("send", "--to", bob.phone, "nothing to see")
	bob.must("history", alice.phone) // receive

	hits := func(args ...string) []string {
		t.Helper()
		var out []string
		for _, l := range bob.must(append([]string{"search"}, args...)...).lines() {
			if l["event"] == "search_hit" {
				out = append(out, l["text"].(string))
			}
		}
		return out
	}
	if got := hits("CAFE"); len(got) != 2 || got[0] != "the cafeteria is closed" || got[1] != "Meet at the Café Zürich at noon" {
		t.Fatalf("search CAFE = %q", got)
	}
	if got := hits("zur", "noo"); len(got) != 1 || got[0] != "Meet at the Café Zürich at noon" {
		t.Fatalf("search zur noo = %q", got)
	}
	if got := hits("see", "--chat", alice.phone, "--limit", "1"); len(got) != 1 {
		t.Fatalf("search in the chat = %q", got)
	}
	if got := hits("teria"); len(got) != 0 {
		t.Fatalf("a word's middle matched: %q", got)
	}
	bob.mustFail(exitInvalid, "search", " ")
}
