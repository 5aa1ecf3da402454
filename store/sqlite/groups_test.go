package sqlite_test

import (
	"testing"

	"github.com/parleyhq/parley/groups/grouptest"
	"github.com/parleyhq/parley/store/sqlite"
)

func TestGroupStore(t *testing.T) {
	grouptest.Run(t, func(t *testing.T) grouptest.Store { return open(t).(*sqlite.Store) })
}
