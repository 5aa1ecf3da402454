package postgres_test

import (
	"testing"

	"github.com/parleyhq/parley/media/mediatest"
	"github.com/parleyhq/parley/store/postgres"
)

func TestMediaStore(t *testing.T) {
	mediatest.Run(t, func(t *testing.T) mediatest.Store {
		s := open(t).(*postgres.Store)
		t.Cleanup(func() { s.Close() })
		return s
	})
}
