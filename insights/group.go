package insights

import (
	"context"
	"sync"
)

// groupCommit batches concurrent callers' items into one write: the first
// caller to find no write in progress writes everything queued so far (and
// whatever queues up meanwhile, in further writes), the others wait for the
// write that carried their item. do returns that write's error, so a nil
// return means the item is durable.
type groupCommit[T any] struct {
	write func(ctx context.Context, items []T) error // a group is at most one item per waiting caller

	mu   sync.Mutex
	cur  *group[T]
	busy bool
}

type group[T any] struct {
	items []T
	done  chan struct{}
	err   error
}

func (g *groupCommit[T]) do(ctx context.Context, item T) error {
	g.mu.Lock()
	if g.cur == nil {
		g.cur = &group[T]{done: make(chan struct{})}
	}
	mine := g.cur
	mine.items = append(mine.items, item)
	if g.busy {
		g.mu.Unlock()
		<-mine.done
		return mine.err
	}
	g.busy = true
	bg := context.WithoutCancel(ctx)
	for {
		b := g.cur
		g.cur = nil
		g.mu.Unlock()
		b.err = g.write(bg, b.items)
		close(b.done)
		g.mu.Lock()
		if g.cur == nil {
			g.busy = false
			g.mu.Unlock()
			return mine.err
		}
	}
}
