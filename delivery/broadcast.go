package delivery

import (
	"context"

	"github.com/parleyhq/parley"
)

// BroadcastPolicy admits broadcast copies beyond the consent rule (the
// server wires the business API: a business's copies count against its
// API number's tier like marketing templates). Send asks it before the
// consent check, so its answer never depends on whether the recipient has
// the sender in contacts.
type BroadcastPolicy interface {
	// AdmitBroadcast refuses (with a parley error) or counts a copy from
	// sender to recipient.
	AdmitBroadcast(ctx context.Context, sender, recipient parley.UserID) error
}

// withholdBroadcast decides whether a broadcast copy (SendParams.Broadcast)
// from sender to the direct conversation ci is withheld: it is when the
// other member does not have sender in their contacts (WhatsApp's consent
// rule for broadcast lists). The server reads no content to decide; a
// withheld copy is answered like an appended one but with seq 0 and is
// neither stored nor delivered (docs/broadcast.md). A copy to a chat that
// is not direct is refused with CodeInvalid "broadcast_not_direct"; a note
// to self is never withheld; Config.Broadcasts may refuse a copy first.
func (s *Service) withholdBroadcast(ctx context.Context, ci *convInfo, sender parley.UserID) (bool, error) {
	if ci.kind != parley.KindDirect {
		return false, parley.Errorf(parley.CodeInvalid, ReasonBroadcastNotDirect, "a broadcast copy goes to a direct chat")
	}
	for _, u := range ci.users {
		if u == sender {
			continue
		}
		if s.cfg.Broadcasts != nil {
			if err := s.cfg.Broadcasts.AdmitBroadcast(ctx, sender, u); err != nil {
				return false, err
			}
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
