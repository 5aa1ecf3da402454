package delivery

import (
	"context"

	"github.com/parleyhq/parley"
)

// withholdBroadcast decides whether a broadcast copy (SendParams.Broadcast)
// from sender to the direct conversation ci is withheld: it is when the
// other member does not have sender in their contacts (WhatsApp's consent
// rule for broadcast lists). The server reads no content to decide; a
// withheld copy is answered like an appended one but with seq 0 and is
// neither stored nor delivered (docs/broadcast.md). A copy to a chat that
// is not direct is refused with CodeInvalid "broadcast_not_direct"; a note
// to self is never withheld.
func (s *Service) withholdBroadcast(ctx context.Context, ci *convInfo, sender parley.UserID) (bool, error) {
	if ci.kind != parley.KindDirect {
		return false, parley.Errorf(parley.CodeInvalid, ReasonBroadcastNotDirect, "a broadcast copy goes to a direct chat")
	}
	for _, u := range ci.users {
		if u == sender {
			continue
		}
		ok, err := s.store.IsContact(ctx, u, sender)
		if err != nil {
			return false, err
		}
		if !ok {
			return true, nil
		}
	}
	return false, nil
}
