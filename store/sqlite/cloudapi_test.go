package sqlite_test

import (
	"testing"

	"github.com/parleyhq/parley/store/storetest"
)

func TestCloudAPIStore(t *testing.T) {
	storetest.RunCloudAPI(t, open)
}
