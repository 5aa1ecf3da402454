package groupcommit_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/groupcommit"
)

// TestBatcher: concurrent items all get written exactly once, fewer writes
// than items happen while a write is slow, and each caller gets the error
// of the write that carried its item.
func TestBatcher(t *testing.T) {
	var mu sync.Mutex
	var written []int
	writes := 0
	b := groupcommit.Batcher[int]{Write: func(ctx context.Context, items []int) error {
		time.Sleep(time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		writes++
		written = append(written, items...)
		if slices.Contains(items, -1) {
			return errors.New("bad item")
		}
		return nil
	}}
	const n = 200
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = b.Do(context.Background(), i)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
	}
	slices.Sort(written)
	if len(written) != n || written[0] != 0 || written[n-1] != n-1 || len(slices.Compact(slices.Clone(written))) != n {
		t.Fatalf("written %d items, want each of %d once", len(written), n)
	}
	if writes >= n {
		t.Fatalf("%d writes for %d concurrent items: nothing was batched", writes, n)
	}
	if err := b.Do(context.Background(), -1); err == nil {
		t.Fatal("the failing write's error did not reach its caller")
	}
	// A cancelled caller's item is still written whole.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Do(ctx, 7); err != nil {
		t.Fatalf("cancelled caller: %v", err)
	}
}

// TestWaiting: items queued behind a write in progress are counted by
// Waiting until their own write starts, and every write is in
// WriteLatency.
func TestWaiting(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 10)
	b := groupcommit.Batcher[int]{Write: func(ctx context.Context, items []int) error {
		started <- struct{}{}
		<-release
		return nil
	}}
	if n := b.Waiting(); n != 0 {
		t.Fatalf("waiting %d on an idle batcher", n)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = b.Do(context.Background(), 0) }()
	<-started // the first write holds the batcher
	for i := 1; i <= 3; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); _ = b.Do(context.Background(), i) }()
	}
	for deadline := time.Now().Add(10 * time.Second); b.Waiting() != 3; {
		if time.Now().After(deadline) {
			t.Fatalf("waiting %d, want 3", b.Waiting())
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if n := b.Waiting(); n != 0 {
		t.Fatalf("waiting %d after every write", n)
	}
	if c := b.WriteLatency().Count; c != 2 {
		t.Fatalf("%d writes in WriteLatency, want 2 (one, then the three queued behind it)", c)
	}
}
