package postgres_test

import (
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/store/storetest"
)

// BenchmarkAppend measures durable appends of 256-byte envelopes spread over
// 64 conversations, in batches of 1 and 128, and from 64 concurrent callers
// appending one envelope each.
func BenchmarkAppend(b *testing.B) {
	storetest.BenchAppendAll(b, func(b *testing.B) parley.Store { return openBench(b) }, nil)
}
