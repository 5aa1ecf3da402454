package e2e

import (
	"strings"
	"testing"
)

func isEvent(name string) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["event"] == name }
}

func statsOf(t *testing.T, who string, lines []map[string]any) map[string]any {
	t.Helper()
	for _, m := range lines {
		if m["event"] == "call_stats" {
			if m["frames_decrypted"].(float64) <= 0 || m["packets_sent"].(float64) <= 0 || m["decrypted_share"].(float64) < 0.9 ||
				m["duration_ms"].(float64) <= 0 {
				t.Fatalf("%s's call stats: %v", who, m)
			}
			return m
		}
	}
	t.Fatalf("%s printed no call stats: %v", who, lines)
	return nil
}

// TestCallCLI is issue 14's CLI test with the real server and two
// profiles: Alice calls Bob, Bob answers; both print stats showing frames
// decrypted, and both logs have the call, answered, with its duration.
// A call Bob lets ring until Alice gives up is "missed" in Bob's log; one
// he declines ends Alice's with call_declined.
func TestCallCLI(t *testing.T) {
	// Every peer is on this machine's loopback: let the SFU and the relay
	// send there, as an operator allows a private range.
	t.Setenv("PARLEY_CALL_ALLOW_PEERS", "127.0.0.0/8")
	s := mustServe(t)
	alice := newDevice(t, "alice", "+14155550951")
	bob := newDevice(t, "bob", "+14155550952")
	alice.mustRegister(s, "alice")
	bob.mustRegister(s, "bob")
	alice.must("send", "--to", bob.phone, "call me")

	ans, waitAnswer := startCLI(bob, "call", "answer", "--for", "20s", "--wait", "60s")
	ans.mustSee("bob waiting", isEvent("call_waiting"))
	out := alice.must("call", bob.phone, "--for", "3s").lines()
	as := statsOf(t, "alice", out)
	if code := waitAnswer(); code != 0 {
		t.Fatalf("bob's call answer exited %d", code)
	}
	ans.mu.Lock()
	bs := statsOf(t, "bob", ans.lines)
	ans.mu.Unlock()
	t.Logf("alice: %v\nbob: %v", as, bs)
	if as["call"] != bs["call"] || as["direct"] != true || bs["direct"] != true {
		t.Fatalf("different calls: %v, %v", as, bs)
	}

	for _, c := range []struct {
		d   *device
		dir string
	}{{alice, "outgoing"}, {bob, "incoming"}} {
		log := c.d.must("calls").lines()
		if len(log) != 1 || log[0]["call"] != as["call"] || log[0]["direction"] != c.dir || log[0]["status"] != "answered" ||
			log[0]["duration_ms"].(float64) <= 0 {
			t.Fatalf("%s's call log: %v", c.d.name, log)
		}
	}

	// Bob lets it ring; Alice gives up after 2 s.
	ring, waitRing := startCLI(bob, "call", "answer", "--after", "50s", "--wait", "60s")
	ring.mustSee("bob waiting", isEvent("call_waiting"))
	alice.mustFail(11, "call", bob.phone, "--ring", "2s") // EXPIRED call_no_answer
	ring.mustSee("the call ringing on bob's device", isEvent("call_incoming"))
	if code := waitRing(); code != 6 { // NOT_FOUND call_cancelled: it stopped ringing
		t.Fatalf("bob's unanswered call answer exited %d", code)
	}
	log := bob.must("calls").lines()
	if len(log) != 2 || log[0]["direction"] != "incoming" || log[0]["status"] != "missed" || log[0]["duration_ms"].(float64) != 0 {
		t.Fatalf("bob's call log after the missed call: %v", log)
	}
	if log := alice.must("calls", "--limit", "1").lines(); len(log) != 1 || log[0]["direction"] != "outgoing" || log[0]["status"] != "cancelled" {
		t.Fatalf("alice's call log after giving up: %v", log)
	}

	// Bob declines.
	dec, waitDecline := startCLI(bob, "call", "decline", "--wait", "60s")
	dec.mustSee("bob waiting", isEvent("call_waiting"))
	r := alice.mustFail(exitConflict, "call", bob.phone)
	if !strings.Contains(r.stderr, "call_declined") {
		t.Fatalf("alice's declined call: %s", r.stderr)
	}
	if code := waitDecline(); code != 0 {
		t.Fatalf("bob's call decline exited %d", code)
	}
	if log := bob.must("calls", "--limit", "1").lines(); len(log) != 1 || log[0]["status"] != "declined" {
		t.Fatalf("bob's call log after declining: %v", log)
	}
}
