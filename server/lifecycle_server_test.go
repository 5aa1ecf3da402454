package server_test

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/server"
)

// TestLogPrunerRuns: the server runs the delivery service's retention
// pruner with its other background services: envelopes past their
// retention are deleted without anyone asking.
func TestLogPrunerRuns(t *testing.T) {
	e := newEnv(t, func(c *server.Config) {
		c.Delivery.PruneInterval, c.Delivery.Retention = 20*time.Millisecond, time.Millisecond
	})
	a, b := e.register("alice"), e.register("bob")
	e.direct(e.connect(a), b)
	deadline := time.Now().Add(10 * time.Second)
	for e.srv.Delivery.Stats().Pruned == 0 {
		if time.Now().After(deadline) {
			t.Fatal("nothing pruned in 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
