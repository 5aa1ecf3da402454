// Package groupcommit batches concurrent callers' items into shared writes,
// so that many small durable writes (webhook enqueues, insights records)
// cost one transaction between them instead of one each.
package groupcommit

import (
	"context"
	"sync"
	"time"

	"github.com/parleyhq/parley/latency"
)

// Batcher runs Write over the items of concurrent Do calls: the first caller
// to find no write in progress writes everything queued so far (and whatever
// queues up meanwhile, in further writes); the others wait for the write
// that carried their item. Do returns that write's error, so a nil return
// means the item's write succeeded. The zero Batcher is not usable: set
// Write before the first Do.
type Batcher[T any] struct {
	// Write stores a group of items, at most one per waiting caller. It runs
	// with the context of the caller that leads the group, detached from its
	// cancellation (the group is written whole or not at all).
	Write func(ctx context.Context, items []T) error

	mu   sync.Mutex
	cur  *batch[T]
	busy bool
	lat  latency.Histogram // of Write
}

type batch[T any] struct {
	items []T
	done  chan struct{}
	err   error
}

// Do adds item to the next write and waits for that write's outcome.
func (b *Batcher[T]) Do(ctx context.Context, item T) error {
	b.mu.Lock()
	if b.cur == nil {
		b.cur = &batch[T]{done: make(chan struct{})}
	}
	mine := b.cur
	mine.items = append(mine.items, item)
	if b.busy {
		b.mu.Unlock()
		<-mine.done
		return mine.err
	}
	b.busy = true
	bg := context.WithoutCancel(ctx)
	for {
		next := b.cur
		b.cur = nil
		b.mu.Unlock()
		start := time.Now()
		next.err = b.Write(bg, next.items)
		b.lat.Since(start)
		close(next.done)
		b.mu.Lock()
		if b.cur == nil {
			b.busy = false
			b.mu.Unlock()
			return mine.err
		}
	}
}

// Waiting returns how many items wait for the next write: those queued
// behind the write in progress (0 when none is in progress). For a gauge.
func (b *Batcher[T]) Waiting() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cur == nil {
		return 0
	}
	return len(b.cur.items)
}

// WriteLatency returns how long the writes took since start.
func (b *Batcher[T]) WriteLatency() latency.Snapshot { return b.lat.Snapshot() }
