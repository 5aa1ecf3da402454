package postgres_test

import (
	"testing"

	"github.com/parleyhq/parley/groups/grouptest"
	"github.com/parleyhq/parley/store/postgres"
)

func TestGroupStore(t *testing.T) {
	dsn(t)
	grouptest.Run(t, func(t *testing.T) grouptest.Store { return open(t).(*postgres.Store) })
}
