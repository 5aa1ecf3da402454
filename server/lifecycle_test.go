package server

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// runner is a background service for the lifecycle tests: it records when
// it stopped and returns err (at once when fail is set).
type runner struct {
	name    string
	err     error
	fail    bool
	stopped func(name string)
}

func (r runner) Run(ctx context.Context) error {
	if !r.fail {
		<-ctx.Done()
	}
	r.stopped(r.name)
	return r.err
}

// TestLifecycleOrder: stages stop in order, each only when asked, and a
// clean stop returns nil.
func TestLifecycleOrder(t *testing.T) {
	var mu sync.Mutex
	var order []string
	stopped := func(name string) { mu.Lock(); order = append(order, name); mu.Unlock() }
	l := newLifecycle()
	l.start(stageAfterDelivery, "push", runner{name: "push", stopped: stopped})
	l.start(stageWorkers, "pruner", runner{name: "pruner", stopped: stopped})
	l.start(stageWorkers, "sweeper", runner{name: "sweeper", stopped: stopped})
	l.stop(stageWorkers)
	mu.Lock()
	if len(order) != 2 {
		t.Fatalf("after stopping the workers: %v stopped", order)
	}
	mu.Unlock()
	if err := l.wait(); err != nil {
		t.Fatal(err)
	}
	if len(order) != 3 || order[2] != "push" {
		t.Fatalf("stopped in the order %v, want push last", order)
	}
	if l.err() != nil {
		t.Fatalf("err after a clean stop: %v", l.err())
	}
}

// TestLifecycleFailure: a service that fails stops every other one, and
// its error (named) is what err and wait return.
func TestLifecycleFailure(t *testing.T) {
	boom := errors.New("boom")
	l := newLifecycle()
	l.start(stageAfterDelivery, "push", runner{name: "push", stopped: func(string) {}})
	l.start(stageWorkers, "pruner", runner{name: "pruner", err: boom, fail: true, stopped: func(string) {}})
	select {
	case <-l.failed.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the failure did not end the lifecycle")
	}
	if err := l.err(); !errors.Is(err, boom) || err.Error() != "pruner: boom" {
		t.Fatalf("err: %v", err)
	}
	if err := l.wait(); !errors.Is(err, boom) {
		t.Fatalf("wait: %v", err)
	}
}
