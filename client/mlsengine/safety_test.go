package mlsengine

import (
	"bytes"
	"strings"
	"testing"
)

func TestSafetyNumber(t *testing.T) {
	k := func(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }
	a := SafetyNumber(1, [][]byte{k(1), k(2)}, 2, [][]byte{k(3)})
	tests := map[string]struct {
		got  string
		same bool
	}{
		"other side":          {SafetyNumber(2, [][]byte{k(3)}, 1, [][]byte{k(1), k(2)}), true},
		"device order":        {SafetyNumber(1, [][]byte{k(2), k(1)}, 2, [][]byte{k(3)}), true},
		"device added":        {SafetyNumber(1, [][]byte{k(1), k(2), k(4)}, 2, [][]byte{k(3)}), false},
		"key substituted":     {SafetyNumber(1, [][]byte{k(1), k(2)}, 2, [][]byte{k(5)}), false},
		"user id substituted": {SafetyNumber(1, [][]byte{k(1), k(2)}, 3, [][]byte{k(3)}), false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if (tc.got == a) != tc.same {
				t.Fatalf("%s vs %s: same = %v, want %v", tc.got, a, tc.got == a, tc.same)
			}
		})
	}
	groups := strings.Split(a, " ")
	if len(groups) != 12 {
		t.Fatalf("%q: %d groups, want 12", a, len(groups))
	}
	for _, g := range groups {
		if len(g) != 5 || strings.Trim(g, "0123456789") != "" {
			t.Fatalf("%q: group %q is not 5 digits", a, g)
		}
	}
}

func TestParseCredential(t *testing.T) {
	for _, bad := range []string{"", "1", "1:", ":2", "a:2", "1:2:3", "0:1", "-1:2"} {
		if _, _, err := ParseCredential(bad); err == nil {
			t.Errorf("ParseCredential(%q) accepted", bad)
		}
	}
	if u, d, err := ParseCredential(CredentialFor(7, 9)); err != nil || u != 7 || d != 9 {
		t.Fatalf("round trip: %d %d %v", u, d, err)
	}
}
