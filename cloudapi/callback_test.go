package cloudapi

import (
	"fmt"
	"testing"
)

// The cache keeps the last callbackCacheSize messages and forgets the
// oldest beyond.
func TestCallbackCacheBounded(t *testing.T) {
	var c callbackCache
	for i := range callbackCacheSize + 10 {
		c.put(fmt.Sprint("m", i), fmt.Sprint("tag", i))
	}
	if len(c.tags) != callbackCacheSize {
		t.Fatalf("%d entries, want %d", len(c.tags), callbackCacheSize)
	}
	for i := range 10 {
		if _, ok := c.get(fmt.Sprint("m", i)); ok {
			t.Fatalf("m%d kept beyond the bound", i)
		}
	}
	if tag, ok := c.get(fmt.Sprint("m", callbackCacheSize+9)); !ok || tag != fmt.Sprint("tag", callbackCacheSize+9) {
		t.Fatalf("newest entry: %q %v", tag, ok)
	}
	c.put("m10", "again") // an update does not take a new slot
	if tag, _ := c.get("m10"); tag != "again" || len(c.tags) != callbackCacheSize {
		t.Fatalf("update: %q, %d entries", tag, len(c.tags))
	}
}
