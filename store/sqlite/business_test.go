package sqlite_test

import (
	"testing"

	"github.com/parleyhq/parley/store/sqlite"
	"github.com/parleyhq/parley/store/storetest"
)

func TestBusinessStore(t *testing.T) {
	storetest.RunBusiness(t, func(t *testing.T) storetest.BusinessStore { return open(t).(*sqlite.Store) })
}
