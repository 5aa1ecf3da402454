//go:build !js

package localstore

import (
	"context"
	"path/filepath"
	"testing"
	"time"
	"unicode"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/content"
)

// FuzzSearch: a search query is untrusted text (typed, or pasted). Its
// words are letters and digits only, in lower case; the FTS5 query made of
// them never fails on SQLite; and both stores agree on the hits.
func FuzzSearch(f *testing.F) {
	for _, s := range []string{"cafe zur", `"quoted" AND OR NOT * ^ NEAR(a b)`, "Crème brûlée", "x:y -z", "日本語 テキスト", "e\u0301\u200d", "ǅ ß İ"} {
		f.Add(s)
	}
	ctx := context.Background()
	dir := f.TempDir()
	sq, err := OpenSQLite(ctx, filepath.Join(dir, "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	defer sq.Close()
	kv, err := OpenKV(ctx, NewMemKV())
	if err != nil {
		f.Fatal(err)
	}
	at := time.UnixMilli(1_700_000_000_000)
	for _, s := range []Store{sq, kv} {
		if err := s.Apply(ctx, Applied{Conversation: convA, Chat: &Chat{Kind: parley.KindDirect, Title: "T"}}); err != nil {
			f.Fatal(err)
		}
		for i, text := range []string{"Café Zürich", "crème brûlée", "NEAR the quoted AND", "日本語のテキスト", "x y z"} {
			m := msg(convA, parley.Seq(i+1), string(rune('a'+i)), false, text, content.StatusReceived, at.Add(time.Duration(i)*time.Second))
			if err := s.Apply(ctx, Applied{Conversation: convA, Seq: parley.Seq(i + 1), Message: m}); err != nil {
				f.Fatal(err)
			}
		}
	}
	f.Fuzz(func(t *testing.T, q string) {
		for _, w := range SearchWords(q) {
			if w == "" {
				t.Fatalf("an empty word of %q", q)
			}
			for _, r := range w {
				if !unicode.IsLetter(r) && !unicode.IsDigit(r) || unicode.ToLower(r) != r {
					t.Fatalf("word %q of %q holds %q", w, q, r)
				}
			}
		}
		a, err := sq.Search(ctx, q, "", 0)
		if err != nil {
			t.Fatalf("sqlite search %q: %v", q, err)
		}
		b, err := kv.Search(ctx, q, "", 0)
		if err != nil {
			t.Fatalf("kv search %q: %v", q, err)
		}
		// The stores fold case and accents each in their own way (SQLite's
		// unicode61, SearchWords); on the Latin texts above they agree.
		if isLatin(q) && len(a) != len(b) {
			t.Fatalf("search %q: sqlite %q, kv %q", q, texts(a), texts(b))
		}
	})
}

func isLatin(s string) bool {
	for _, r := range s {
		if r > 0x24F && unicode.IsLetter(r) {
			return false
		}
	}
	return true
}
