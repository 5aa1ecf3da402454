package inproc_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/broker/brokertest"
	"github.com/parleyhq/parley/broker/inproc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBroker(t *testing.T) {
	brokertest.Run(t, func(t *testing.T) parley.Broker { return inproc.New() })
}
