//go:build !js

package localstore

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/content"
)

// searchStore returns a store of kind ("kv" or "sqlite") holding one chat
// of n messages whose texts differ ("message number 17 with some text…").
func searchStore(b *testing.B, kind string, n int) Store {
	ctx := context.Background()
	var s Store
	var err error
	if kind == "kv" {
		s, err = OpenKV(ctx, NewMemKV())
	} else {
		s, err = OpenSQLite(ctx, filepath.Join(b.TempDir(), "parley.db"))
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.Apply(ctx, Applied{Conversation: convA, Chat: &Chat{Kind: parley.KindDirect, Title: "T"}}); err != nil {
		b.Fatal(err)
	}
	at := time.Now()
	for i := 1; i <= n; i++ {
		m := msg(convA, parley.Seq(i), fmt.Sprintf("c%d", i), i%2 == 0, fmt.Sprintf("message number %d with some text about café %d", i, i%97), content.StatusRead, at.Add(time.Duration(i)))
		if err := s.Apply(ctx, Applied{Conversation: convA, Seq: parley.Seq(i), Message: m}); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkSearch10k: a two-word full-text query over a chat of 10,000
// messages (103 hits, the newest 50 returned), on each store; "scan" is
// what search did before the index: read every message and compare
// lower-cased substrings.
func BenchmarkSearch10k(b *testing.B) {
	ctx := context.Background()
	for _, kind := range []string{"kv", "sqlite"} {
		s := searchStore(b, kind, 10000)
		b.Run(kind+"/index", func(b *testing.B) {
			for range b.N {
				hits, err := s.Search(ctx, "cafe 42", "", 50)
				if err != nil || len(hits) == 0 {
					b.Fatalf("%d hits, %v", len(hits), err)
				}
			}
		})
		b.Run(kind+"/scan", func(b *testing.B) {
			for range b.N {
				ms, err := s.Messages(ctx, convA, 0)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for i := range ms {
					if strings.Contains(strings.ToLower(ms[i].Text), "café 42") {
						n++
					}
				}
				if n == 0 {
					b.Fatal("no hits")
				}
			}
		})
	}
}
