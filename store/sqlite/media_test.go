package sqlite_test

import (
	"testing"

	"github.com/parleyhq/parley/media/mediatest"
	"github.com/parleyhq/parley/store/sqlite"
)

func TestMediaStore(t *testing.T) {
	mediatest.Run(t, func(t *testing.T) mediatest.Store {
		s := open(t).(*sqlite.Store)
		t.Cleanup(func() { s.Close() })
		return s
	})
}
