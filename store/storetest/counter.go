package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// testEventCounters checks parley.CounterStore: fixed windows that start at
// the first event, reset once ended, keys apart, and pruning.
func testEventCounters(t *testing.T, s parley.Store) {
	ctx := context.Background()
	day := 24 * time.Hour
	n, reset, err := s.Events(ctx, "pin:1", t0)
	must(t, err)
	equal(t, "count of an unknown key", n, 0)
	equal(t, "reset of an unknown key", reset.IsZero(), true)

	for i := 1; i <= 3; i++ {
		n, reset, err = s.AddEvent(ctx, "pin:1", day, t0.Add(time.Duration(i)*time.Hour))
		must(t, err)
		equal(t, fmt.Sprintf("count after event %d", i), n, i)
		equal(t, "window end (from the first event)", reset.Equal(t0.Add(time.Hour+day)), true)
	}
	n, _, err = s.AddEvent(ctx, "pin:2", day, t0)
	must(t, err)
	equal(t, "another key's count", n, 1)

	n, reset, err = s.Events(ctx, "pin:1", t0.Add(day))
	must(t, err)
	equal(t, "count inside the window", n, 3)
	equal(t, "window end", reset.Equal(t0.Add(time.Hour+day)), true)
	n, _, err = s.Events(ctx, "pin:1", t0.Add(time.Hour+day))
	must(t, err)
	equal(t, "count once the window ended", n, 0)

	later := t0.Add(2 * day)
	n, reset, err = s.AddEvent(ctx, "pin:1", day, later)
	must(t, err)
	equal(t, "count in a new window", n, 1)
	equal(t, "new window end", reset.Equal(later.Add(day)), true)

	pruned, err := s.PruneEvents(ctx, later)
	must(t, err)
	equal(t, "pruned (pin:2's window ended)", pruned, 1)
	n, _, err = s.Events(ctx, "pin:1", later)
	must(t, err)
	equal(t, "open window survives a prune", n, 1)
}

// testEventCountersConcurrent: concurrent events on one key are all counted.
func testEventCountersConcurrent(t *testing.T, s parley.Store) {
	ctx := context.Background()
	errs := concurrently(20, func(int) error {
		_, _, err := s.AddEvent(ctx, "k", time.Hour, t0)
		return err
	})
	for _, err := range errs {
		must(t, err)
	}
	n, _, err := s.Events(ctx, "k", t0)
	must(t, err)
	equal(t, "count after 20 concurrent events", n, 20)
}
