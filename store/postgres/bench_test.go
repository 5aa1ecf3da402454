package postgres_test

import (
	"testing"

	"github.com/parleyhq/parley/store/storetest"
)

// BenchmarkAppend measures durable appends of 256-byte envelopes spread over
// 64 conversations, in batches of 1 and 128, and from 64 concurrent callers
// appending one envelope each.
func BenchmarkAppend(b *testing.B) {
	for _, bc := range []struct {
		name     string
		batch    int
		parallel int
	}{
		{"batch=1", 1, 0},
		{"batch=128", 128, 0},
		{"batch=1/callers=64", 1, 32},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := openBench(b)
			defer s.Close()
			storetest.BenchAppend(b, s, bc.batch, bc.parallel, nil)
		})
	}
}
