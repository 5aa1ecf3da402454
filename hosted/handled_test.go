package hosted

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
)

// TestHandledMarks: marks survive as snapshot plus log, a torn last log
// line (a crash mid-append) is ignored, and compaction keeps every mark.
func TestHandledMarks(t *testing.T) {
	dir := t.TempDir()
	ep := &endpoint{dir: dir}
	if err := ep.loadHandled(); err != nil || len(ep.handled) != 0 {
		t.Fatalf("fresh: %v, %v", ep.handled, err)
	}
	for _, r := range []client.MessageRecord{{Conversation: "a", Seq: 3}, {Conversation: "b", Seq: 7}, {Conversation: "a", Seq: 5}, {Conversation: "a", Seq: 4}} {
		if err := ep.markHandled(r); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.OpenFile(filepath.Join(dir, handledLog), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("b 9") // torn: no newline
	f.Close()
	want := map[parley.ConversationID]parley.Seq{"a": 5, "b": 7}
	again := &endpoint{dir: dir}
	if err := again.loadHandled(); err != nil || len(again.handled) != 2 || again.handled["a"] != 5 || again.handled["b"] != 7 {
		t.Fatalf("reloaded %v, %v; want %v", again.handled, err, want)
	}
	if err := again.compactHandled(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, handledLog)); !os.IsNotExist(err) {
		t.Fatalf("log left after compaction: %v", err)
	}
	third := &endpoint{dir: dir}
	if err := third.loadHandled(); err != nil || third.handled["a"] != 5 || third.handled["b"] != 7 {
		t.Fatalf("after compaction %v, %v", third.handled, err)
	}
}
