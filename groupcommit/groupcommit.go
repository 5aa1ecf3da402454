// Package groupcommit batches concurrent callers' items into shared writes,
// so that many small durable writes (webhook enqueues, insights records)
// cost one transaction between them instead of one each.
package groupcommit

import (
	"context"
	"sync"
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
		next.err = b.Write(bg, next.items)
		close(next.done)
		b.mu.Lock()
		if b.cur == nil {
			b.busy = false
			b.mu.Unlock()
			return mine.err
		}
	}
}
