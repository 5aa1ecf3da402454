package e2e

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestGlobalFlagsAfterTheCommand: the real binary takes --json, --profile
// and --timeout after the command and its own flags too, as every other
// CLI does; after "--" they are arguments.
func TestGlobalFlagsAfterTheCommand(t *testing.T) {
	s := mustServe(t)
	ann := newDevice(t, "ann", "+14155550161")
	ann.mustRegister(s, "Ann")
	bob := newDevice(t, "bob", "+14155550162")
	bob.mustRegister(s, "Bob")

	out, err := exec.Command(parleyBin, "whoami", "--json", "--profile", ann.profile).Output()
	var who map[string]any
	if err != nil || json.Unmarshal(out, &who) != nil || who["phone"] != "+14155550161" {
		t.Fatalf("parley whoami --json --profile P: %v, %q", err, out)
	}
	out, err = exec.Command(parleyBin, "send", "--to", "+14155550162", "--profile", ann.profile, "--", "--json").Output()
	if err != nil || !strings.HasPrefix(string(out), "sent to +14155550162") {
		t.Fatalf("parley send … -- --json: %v, %q (want text output, the text sent being --json)", err, out)
	}
	out, err = exec.Command(parleyBin, "history", "+14155550161", "--limit", "5", "--timeout", "20s", "--profile", bob.profile, "--json").Output()
	if err != nil || !strings.Contains(string(out), `"text":"--json"`) {
		t.Fatalf("parley history … --json: %v, %q", err, out)
	}
}
