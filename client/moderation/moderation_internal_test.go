package moderation

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestIsPerson(t *testing.T) {
	for s, want := range map[string]bool{
		"+14155550100": true, "@alice": true, "u42": true, "42": true, "0044123": true,
		"cabcdefghijklmnopqrstuvwxyz": false, "cabc:3": false, "u": false, "": false, "Market": false,
	} {
		if got := isPerson(s); got != want {
			t.Errorf("isPerson(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestCut: an included message's text is cut to the server's bound at a
// rune boundary, never into invalid UTF-8.
func TestCut(t *testing.T) {
	long := strings.Repeat("é", MaxEvidenceText) // 2 bytes a rune
	got := cut("x"+long, MaxEvidenceText)
	if len(got) > MaxEvidenceText || !utf8.ValidString(got) || len(got) < MaxEvidenceText-1 {
		t.Fatalf("cut to %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
	if cut("short", MaxEvidenceText) != "short" {
		t.Fatal("a short text changed")
	}
}
