package postgres_test

import (
	"testing"

	"github.com/parleyhq/parley/store/storetest"
)

func TestTreeStore(t *testing.T) {
	dsn(t)
	storetest.RunTrees(t, open)
}
