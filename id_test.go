package parley_test

import (
	"encoding/hex"
	"strconv"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

func TestNewClientMessageIDSortsByTime(t *testing.T) {
	before := time.Now().UnixMilli()
	first := parley.NewClientMessageID()
	time.Sleep(2 * time.Millisecond)
	second := parley.NewClientMessageID()
	after := time.Now().UnixMilli()

	for _, id := range []parley.ClientMessageID{first, second} {
		if len(id) != 24 {
			t.Fatalf("%q: %d characters, want 24", id, len(id))
		}
		if _, err := hex.DecodeString(string(id)); err != nil {
			t.Fatalf("%q is not hex: %v", id, err)
		}
		ms, err := strconv.ParseInt(string(id[:12]), 16, 64)
		if err != nil || ms < before || ms > after {
			t.Fatalf("%q: time part %d (%v), want within [%d, %d]", id, ms, err, before, after)
		}
	}
	if !(first < second) {
		t.Fatalf("an id made later sorts first: %q then %q", first, second)
	}
}

func TestNewClientMessageIDUnique(t *testing.T) {
	seen := make(map[parley.ClientMessageID]bool)
	for range 100_000 {
		id := parley.NewClientMessageID()
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
}
