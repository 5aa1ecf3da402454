package localstore

import (
	"slices"
	"strings"
	"unicode"

	"github.com/parleyhq/parley/content"
)

// Full-text search on the device. A message is found by the words of its
// text (or caption) and of its file name: every word of the query must
// begin a word of the message ("sun bea" finds "Sunset at the beach";
// "set" does not, no word begins with it), ignoring case and diacritics
// ("cafe" finds "Café", "zur" finds "Zürich"). Words are runs of letters
// and digits. Hits come newest first.
//
// The SQLite store keeps an FTS5 index (migration 00014) that triggers
// keep in step with every write to messages; the browser's KV store keeps
// an inverted index per chat in memory, built at a chat's first search and
// dropped whenever the chat's messages change.

// MaxSearchWords is the most words of a query that count; later ones are
// ignored.
const MaxSearchWords = 8

// SearchWords returns the words of s as search compares them: lower case,
// Latin diacritics removed (foldTable; combining marks dropped), split at
// every rune that is not a letter or digit.
func SearchWords(s string) []string {
	var words []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			words = append(words, b.String())
			b.Reset()
		}
	}
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			r = unicode.ToLower(r)
			if f, ok := foldTable[r]; ok {
				r = f
			}
			b.WriteRune(r)
		default:
			flush()
		}
	}
	flush()
	return words
}

// queryWords are the distinct words of a query, at most MaxSearchWords.
func queryWords(q string) []string {
	var out []string
	for _, w := range SearchWords(q) {
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
		if len(out) == MaxSearchWords {
			break
		}
	}
	return out
}

// searchable reports whether m can be a search hit: sent or received,
// not deleted, decrypted.
func searchable(m *content.MessageRecord) bool {
	return m.Seq > 0 && m.Kind != content.KindDeleted && m.Kind != content.KindUndecryptable
}

// messageWords are the words search finds m by.
func messageWords(m *content.MessageRecord) []string {
	ws := SearchWords(m.Text)
	if m.Media != nil {
		ws = append(ws, SearchWords(m.Media.FileName)...)
	}
	return ws
}

// kvSearchIndex is one chat's inverted index: its words, sorted, and for
// each the messages (by key) with a word beginning so.
type kvSearchIndex struct {
	words    []string
	postings map[string][]string // word → message keys
}

func newKVSearchIndex(msgs map[string]*content.MessageRecord) *kvSearchIndex {
	ix := &kvSearchIndex{postings: map[string][]string{}}
	for key, m := range msgs {
		if !searchable(m) {
			continue
		}
		for _, w := range messageWords(m) {
			ps := ix.postings[w]
			if len(ps) > 0 && ps[len(ps)-1] == key {
				continue
			}
			if len(ps) == 0 {
				ix.words = append(ix.words, w)
			}
			ix.postings[w] = append(ps, key)
		}
	}
	slices.Sort(ix.words)
	return ix
}

// find returns the keys of the messages that have, for every query word,
// a word it begins.
func (ix *kvSearchIndex) find(query []string) map[string]bool {
	var hits map[string]bool
	for _, q := range query {
		found := map[string]bool{}
		i, _ := slices.BinarySearch(ix.words, q)
		for ; i < len(ix.words) && strings.HasPrefix(ix.words[i], q); i++ {
			for _, key := range ix.postings[ix.words[i]] {
				if hits == nil || hits[key] {
					found[key] = true
				}
			}
		}
		hits = found
		if len(hits) == 0 {
			break
		}
	}
	return hits
}
