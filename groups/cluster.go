package groups

import "github.com/parleyhq/parley"

// Forget drops the cached settings and roles of the groups ids, so the next
// check reads them from the store. A cluster node calls it when another node
// announces that the conversations changed (parley.ChangeAnnouncer), so
// group changes made elsewhere apply here at once rather than after
// Config.CacheTTL.
func (s *Service) Forget(ids []parley.ConversationID) {
	for _, id := range ids {
		s.invalidate(id)
	}
}
