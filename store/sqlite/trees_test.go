package sqlite_test

import (
	"testing"

	"github.com/parleyhq/parley/store/storetest"
)

func TestTreeStore(t *testing.T) {
	storetest.RunTrees(t, open)
}
