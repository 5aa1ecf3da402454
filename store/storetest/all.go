package storetest

import (
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/media/mediatest"
)

// RunAll runs every contract of this package against the stores open
// returns (see Run): the Store contract, then the push, ratchet-tree,
// business, Cloud API, webhook and media (mediatest) ones as subtests. open's stores must
// implement all of them, as the SQL stores do.
func RunAll(t *testing.T, open func(t *testing.T) parley.Store) {
	Run(t, open)
	t.Run("Push", func(t *testing.T) {
		RunPush(t, func(t *testing.T) parley.PushStore {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			return s.(parley.PushStore)
		})
	})
	t.Run("Trees", func(t *testing.T) { RunTrees(t, open) })
	t.Run("Business", func(t *testing.T) {
		RunBusiness(t, func(t *testing.T) BusinessStore { return open(t).(BusinessStore) })
	})
	t.Run("CloudAPI", func(t *testing.T) { RunCloudAPI(t, open) })
	t.Run("Webhooks", func(t *testing.T) {
		RunWebhooks(t, func(t *testing.T) HooksStore { return open(t).(HooksStore) })
	})
	t.Run("Admin", func(t *testing.T) { RunAdmin(t, open) })
	t.Run("Leases", func(t *testing.T) { RunLeases(t, open) })
	t.Run("Moderation", func(t *testing.T) { RunModeration(t, open) })
	t.Run("HostedState", func(t *testing.T) { RunHostedState(t, open) })
	t.Run("Media", func(t *testing.T) {
		mediatest.Run(t, func(t *testing.T) mediatest.Store {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			return s.(mediatest.Store)
		})
	})
}
