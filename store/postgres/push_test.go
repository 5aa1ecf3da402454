package postgres_test

import (
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/store/storetest"
)

func TestPushStore(t *testing.T) {
	storetest.RunPush(t, func(t *testing.T) parley.PushStore {
		s := open(t)
		t.Cleanup(func() { s.Close() })
		return s.(parley.PushStore)
	})
}
