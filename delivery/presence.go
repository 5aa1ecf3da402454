package delivery

import (
	"context"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/wire"
)

// Presence is a user's presence as a viewer may see it.
type Presence struct {
	User     parley.UserID
	Online   bool
	LastSeen time.Time // zero when hidden or unknown
}

type presenceChange struct {
	user   parley.UserID
	online bool
	at     time.Time
}

// presenceChanged counts the user's local streams; on the first stream
// (online) and the last (offline) it queues a presence push. The queue is
// bounded: when full the change is dropped (counted).
func (s *Service) presenceChanged(dev parley.Device, online bool) {
	s.notify.deviceStream(dev.ID, online)
	s.onlineMu.Lock()
	n := s.online[dev.User]
	if online {
		n++
	} else {
		n--
	}
	transition := (online && n == 1) || (!online && n <= 0)
	if n <= 0 {
		delete(s.online, dev.User)
	} else {
		s.online[dev.User] = n
	}
	ps, sharing := s.broker.(parley.PresenceSharer)
	if transition && sharing {
		// Announced under onlineMu, so a user's transitions are announced
		// in the order they happened.
		ps.SetLocalOnline(dev.User, online)
	}
	s.onlineMu.Unlock()
	if !transition {
		return
	}
	if sharing && ps.OnlineElsewhere(dev.User) {
		return // online on another node: nothing changed for viewers
	}
	s.gate.RLock()
	defer s.gate.RUnlock()
	if s.stopped {
		return
	}
	select {
	case s.presCh <- presenceChange{user: dev.User, online: online, at: s.clock.Now()}:
	default:
		s.stats.presDrops.Add(1)
	}
}

// Online reports whether the user has a stream open on this node or, with
// a broker that shares presence (parley.PresenceSharer), on another node of
// the cluster.
func (s *Service) Online(user parley.UserID) bool {
	s.onlineMu.Lock()
	here := s.online[user] > 0
	s.onlineMu.Unlock()
	if here {
		return true
	}
	ps, ok := s.broker.(parley.PresenceSharer)
	return ok && ps.OnlineElsewhere(user)
}

func (s *Service) presenceLoop() {
	defer s.wg.Done()
	for {
		select {
		case ch := <-s.presCh:
			s.pushPresence(ch)
		case <-s.stopping:
			for {
				select {
				case ch := <-s.presCh:
					if !ch.online {
						s.touchLastSeen(ch.user, ch.at)
					}
				default:
					return
				}
			}
		}
	}
}

func (s *Service) touchLastSeen(user parley.UserID, at time.Time) {
	ctx := context.WithoutCancel(s.ctx)
	u, err := s.store.User(ctx, user)
	if err != nil {
		s.log.Warn("last seen", "user", user, "err", err)
		return
	}
	if at.After(u.LastSeenAt) {
		u.LastSeenAt = at
		if err := s.store.UpdateUser(ctx, u); err != nil {
			s.log.Warn("last seen", "user", user, "err", err)
		}
	}
}

// pushPresence records last seen and tells the users who share a
// conversation with the user, and may see its presence, about the change.
func (s *Service) pushPresence(ch presenceChange) {
	ctx := s.ctx
	if !ch.online {
		s.touchLastSeen(ch.user, ch.at)
	}
	convs, err := s.store.ConversationsOfUser(ctx, ch.user)
	if err != nil {
		s.log.Warn("presence audience", "user", ch.user, "err", err)
		return
	}
	viewers := make(map[parley.UserID][]parley.DeviceID)
	for _, c := range convs {
		ci, err := s.conv(ctx, c.ID)
		if err != nil {
			continue
		}
		for _, m := range ci.members {
			if m.User != ch.user && !containsDevice(viewers[m.User], m.Device) {
				viewers[m.User] = append(viewers[m.User], m.Device)
			}
		}
	}
	p := Presence{User: ch.user, Online: ch.online}
	if !ch.online {
		p.LastSeen = ch.at
	}
	frame := wire.PresenceFrame(p.User, p.Online, p.LastSeen)
	for v, devices := range viewers {
		if s.policy != nil {
			ok, err := s.policy.CanSeePresence(ctx, v, ch.user, true) // v is a member of one of ch.user's conversations
			if err != nil || !ok {
				continue
			}
		}
		s.publish(devices, parley.Event{Kind: parley.EventSignal, Frame: frame})
	}
}

func containsDevice(ds []parley.DeviceID, d parley.DeviceID) bool {
	for _, x := range ds {
		if x == d {
			return true
		}
	}
	return false
}

// Presence answers a viewer's presence request about owner. When the
// owner's privacy settings hide presence from the viewer (always for a
// stranger: see PresencePolicy), it reports offline with no last seen; an
// unknown owner gets the same answer, so the request does not tell whether
// a user ID exists.
func (s *Service) Presence(ctx context.Context, viewer, owner parley.UserID) (Presence, error) {
	hidden := Presence{User: owner}
	if viewer != owner && s.policy != nil {
		ok, err := s.policy.CanSeePresence(ctx, viewer, owner, false)
		if err != nil || !ok {
			return hidden, err
		}
	}
	u, err := s.store.User(ctx, owner)
	if parley.IsCode(err, parley.CodeNotFound) {
		return hidden, nil
	}
	if err != nil {
		return Presence{}, err
	}
	return Presence{User: owner, Online: s.Online(owner), LastSeen: u.LastSeenAt}, nil
}
