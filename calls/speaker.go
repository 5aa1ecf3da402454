package calls

import (
	"context"

	"github.com/parleyhq/parley"
)

// ActiveSpeaker tells the participants of call id that dev is now its
// dominant speaker (CALL_ACTIVE_SPEAKER, with the user and device), as the
// SFU detects it from the audio levels the participants send. A device
// that is not in the call, or a call that ended, is ignored.
func (s *Service) ActiveSpeaker(ctx context.Context, id CallID, dev parley.DeviceID) {
	s.mu.Lock()
	c := s.calls[id]
	if c == nil || c.parts[dev] == nil {
		s.mu.Unlock()
		return
	}
	var out outbox
	out.event(c.conv, c.participantDevices(), s.event(c, parley.CallActiveSpeaker, c.parts[dev].user, dev))
	s.mu.Unlock()
	s.flush(ctx, out)
}
