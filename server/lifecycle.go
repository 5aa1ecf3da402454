package server

import (
	"context"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/parleyhq/parley/calls"
	"github.com/parleyhq/parley/delivery"
	"github.com/parleyhq/parley/groups"
	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/push"
	"github.com/parleyhq/parley/trees"
	"github.com/parleyhq/parley/webhook"
)

// Runner is the one shape of every background service the server runs:
// Run works until ctx ends and then returns nil once its work in flight is
// done; an error means the service failed, which stops the server.
type Runner interface {
	Run(ctx context.Context) error
}

// The background services the server runs have the one shape.
var (
	_ Runner = (*calls.Service)(nil)
	_ Runner = (*delivery.Service)(nil)
	_ Runner = (*groups.Service)(nil)
	_ Runner = (*media.Service)(nil)
	_ Runner = (*push.Service)(nil)
	_ Runner = (*trees.Service)(nil)
	_ Runner = (*webhook.Service)(nil)
)

// stage orders the background services' shutdown (see Shutdown): the
// services of one stage are stopped together, and a stage is stopped only
// once the previous one has returned.
type stage int

const (
	// stageWorkers: pruners, sweepers and webhook deliveries, stopped after
	// the gateway has closed its sessions and before the delivery service
	// commits what it queued.
	stageWorkers stage = iota
	// stageAfterDelivery: the push sender, stopped after the delivery
	// service so that the last appends are notified too.
	stageAfterDelivery
	numStages
)

// lifecycle runs the server's background services under one errgroup.
type lifecycle struct {
	group errgroup.Group
	// failed ends when a service fails; its cause is the failure.
	failed context.Context
	fail   context.CancelCauseFunc
	stages [numStages]struct {
		ctx    context.Context
		cancel context.CancelFunc
		wg     sync.WaitGroup
	}
}

func newLifecycle() *lifecycle {
	l := &lifecycle{}
	l.failed, l.fail = context.WithCancelCause(context.Background())
	for i := range l.stages {
		l.stages[i].ctx, l.stages[i].cancel = context.WithCancel(l.failed)
	}
	return l
}

// start runs r in stage st until that stage is stopped or a service fails.
func (l *lifecycle) start(st stage, name string, r Runner) {
	s := &l.stages[st]
	s.wg.Add(1)
	l.group.Go(func() error {
		defer s.wg.Done()
		if err := r.Run(s.ctx); err != nil {
			err = fmt.Errorf("%s: %w", name, err)
			l.fail(err)
			return err
		}
		return nil
	})
}

// stop ends stage st and waits for its services to return. Safe to call
// more than once.
func (l *lifecycle) stop(st stage) {
	l.stages[st].cancel()
	l.stages[st].wg.Wait()
}

// wait stops every stage in order and returns the first failure, if any.
func (l *lifecycle) wait() error {
	for st := range numStages {
		l.stop(st)
	}
	return l.group.Wait()
}

// err is the first failure of a background service, or nil.
func (l *lifecycle) err() error {
	if l.failed.Err() == nil {
		return nil
	}
	return context.Cause(l.failed)
}

// startWorkers starts the background services New built.
func (s *Server) startWorkers() {
	if s.Media != nil {
		s.run.start(stageWorkers, "media sweeper", s.Media)
	}
	s.run.start(stageWorkers, "log pruner", s.Delivery)
	s.run.start(stageWorkers, "tree pruner", s.Trees)
	s.run.start(stageWorkers, "group pruner", s.Groups)
	if s.Status != nil {
		s.run.start(stageWorkers, "status pruner", s.Status)
	}
	s.run.start(stageWorkers, "webhook deliveries", s.Webhooks)
	if s.Calls != nil {
		s.run.start(stageWorkers, "call ring sweeper", s.Calls)
	}
	if s.Push != nil {
		s.run.start(stageAfterDelivery, "push sender", s.Push)
	}
}
