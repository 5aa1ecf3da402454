package postgres_test

import (
	"testing"

	"github.com/parleyhq/parley/store/storetest"
)

func TestWebhookStore(t *testing.T) {
	storetest.RunWebhooks(t, func(t *testing.T) storetest.HooksStore { return openTB(t, nil) })
}
