package sqlite_test

import (
	"testing"

	"github.com/parleyhq/parley/store/sqlite"
	"github.com/parleyhq/parley/store/storetest"
)

func TestWebhookStore(t *testing.T) {
	storetest.RunWebhooks(t, func(t *testing.T) storetest.HooksStore { return open(t).(*sqlite.Store) })
}
