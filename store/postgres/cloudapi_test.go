package postgres_test

import (
	"testing"

	"github.com/parleyhq/parley/store/storetest"
)

func TestCloudAPIStore(t *testing.T) {
	dsn(t)
	storetest.RunCloudAPI(t, open)
}
