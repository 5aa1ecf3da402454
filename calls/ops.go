package calls

import (
	"context"
	"time"

	"github.com/parleyhq/parley"
)

func (s *Service) checkOpen() error {
	if s.closed {
		return parley.Errorf(parley.CodeUnavailable, ReasonShuttingDown, "the server is shutting down")
	}
	return nil
}

// Start starts a call from dev in conversation id and rings every device of
// the other members. In a 1:1 call to a user already in another call the
// caller gets CALL_BUSY at once and the call ends.
func (s *Service) Start(ctx context.Context, dev parley.Device, id parley.ConversationID, video bool) (parley.CallInfo, error) {
	conv, members, err := s.membership(ctx, dev, id)
	if err != nil {
		return parley.CallInfo{}, s.refuse(err)
	}
	now := s.clock.Now()
	s.mu.Lock()
	if err := s.checkOpen(); err != nil {
		s.mu.Unlock()
		return parley.CallInfo{}, s.refuse(err)
	}
	if cur := s.byConv[id]; cur != nil {
		s.mu.Unlock()
		return parley.CallInfo{}, s.refuse(parley.Errorf(parley.CodeConflict, ReasonInProgress, "a call is already going on in this conversation; join it"))
	}
	if s.byDev[dev.ID] != nil {
		s.mu.Unlock()
		return parley.CallInfo{}, s.refuse(parley.Errorf(parley.CodeConflict, ReasonAlreadyInCall, "this device is in another call"))
	}
	group := conv.Kind != parley.KindDirect
	if group && s.sfu == nil {
		s.mu.Unlock()
		return parley.CallInfo{}, s.refuse(parley.Errorf(parley.CodeUnavailable, ReasonNoSFU, "this server does not host group calls"))
	}
	c := &call{
		id: s.newCallID(), conv: id, group: group, video: video, caller: dev,
		startedAt: now, ringUntil: now.Add(s.cfg.RingTimeout), members: members,
		ringing: make(map[parley.DeviceID]parley.UserID),
		parts:   make(map[parley.DeviceID]*participant),
	}
	busy := parley.UserID(0)
	for _, m := range members {
		if m.User == dev.User {
			continue
		}
		if other := s.byDev[m.Device]; other != nil && !group {
			busy = m.User
		}
		c.ringing[m.Device] = m.User
	}
	if len(c.ringing) == 0 {
		s.mu.Unlock()
		return parley.CallInfo{}, s.refuse(parley.Errorf(parley.CodeInvalid, ReasonSelfCall, "nobody else is in this conversation"))
	}
	s.addParticipant(c, dev)
	s.calls[c.id] = c
	s.byConv[id] = c
	s.started.Add(1)
	var out outbox
	if busy != 0 {
		c.ringing = map[parley.DeviceID]parley.UserID{}
		out.event(id, []parley.DeviceID{dev.ID}, s.event(c, parley.CallBusy, busy, 0))
		s.endLocked(c, &out)
	} else {
		for d, u := range c.ringing {
			out.event(id, []parley.DeviceID{d}, parley.CallEvent{Kind: parley.CallRinging, Call: s.info(c, u), User: dev.User, Device: dev.ID, At: now})
		}
		var mine []parley.DeviceID
		for _, d := range c.devicesOf(dev.User) {
			if d != dev.ID {
				mine = append(mine, d)
			}
		}
		out.event(id, mine, s.event(c, parley.CallInProgress, dev.User, dev.ID))
	}
	info := s.info(c, dev.User)
	s.mu.Unlock()
	s.flush(ctx, out)
	return info, nil
}

func (s *Service) addParticipant(c *call, dev parley.Device) {
	c.parts[dev.ID] = &participant{user: dev.User, joinedAt: s.clock.Now()}
	c.order = append(c.order, dev.ID)
	s.byDev[dev.ID] = c
	delete(c.ringing, dev.ID)
}

func (s *Service) removeParticipant(c *call, d parley.DeviceID, out *outbox) {
	if _, ok := c.parts[d]; !ok {
		return
	}
	delete(c.parts, d)
	for i, x := range c.order {
		if x == d {
			c.order = append(c.order[:i], c.order[i+1:]...)
			break
		}
	}
	delete(s.byDev, d)
	if s.sfu != nil {
		sfu, id := s.sfu, c.id
		out.sfu = append(out.sfu, func() { sfu.Leave(id, d) })
	}
}

// endLocked ends c: every member device learns CALL_ENDED (or CALL_MISSED
// for those still ringing).
func (s *Service) endLocked(c *call, out *outbox) {
	if len(c.ringing) > 0 {
		rung := make([]parley.DeviceID, 0, len(c.ringing))
		for d := range c.ringing {
			rung = append(rung, d)
		}
		c.ringing = map[parley.DeviceID]parley.UserID{}
		out.event(c.conv, rung, s.event(c, parley.CallMissed, c.caller.User, c.caller.ID))
	}
	for _, d := range c.participantDevices() {
		s.removeParticipant(c, d, out)
	}
	delete(s.calls, c.id)
	if s.byConv[c.conv] == c {
		delete(s.byConv, c.conv)
	}
	if s.sfu != nil {
		sfu, id := s.sfu, c.id
		out.sfu = append(out.sfu, func() { sfu.End(id) })
	}
	out.event(c.conv, c.memberDevices(), s.event(c, parley.CallEnded, 0, 0))
}

func (s *Service) lookup(id CallID) (*call, error) {
	c := s.calls[id]
	if c == nil {
		return nil, errNotFound()
	}
	return c, nil
}

// Accept answers a call that is ringing on dev.
func (s *Service) Accept(ctx context.Context, dev parley.Device, id CallID) (parley.CallInfo, error) {
	s.mu.Lock()
	c, err := s.lookup(id)
	if err == nil {
		if _, ok := c.ringing[dev.ID]; !ok {
			err = parley.Errorf(parley.CodeConflict, ReasonNotRinging, "this call is not ringing on this device")
		} else if s.byDev[dev.ID] != nil {
			err = parley.Errorf(parley.CodeConflict, ReasonAlreadyInCall, "this device is in another call")
		} else if len(c.parts) >= s.cfg.MaxParticipants {
			err = parley.Errorf(parley.CodeTooLarge, ReasonFull, "the call has the most participants it may have (%d)", s.cfg.MaxParticipants)
		}
	}
	if err != nil {
		s.mu.Unlock()
		return parley.CallInfo{}, s.refuse(err)
	}
	var out outbox
	s.addParticipant(c, dev)
	if c.answeredAt.IsZero() {
		c.answeredAt = s.clock.Now()
	}
	// The user's other devices stop ringing; in a 1:1 call nobody else rings.
	var elsewhere []parley.DeviceID
	for d, u := range c.ringing {
		if u == dev.User || !c.group {
			elsewhere = append(elsewhere, d)
			delete(c.ringing, d)
		}
	}
	out.event(c.conv, elsewhere, s.event(c, parley.CallAnsweredElsewhere, dev.User, dev.ID))
	out.event(c.conv, others(c.participantDevices(), dev.ID), s.event(c, parley.CallAccepted, dev.User, dev.ID))
	info := s.info(c, dev.User)
	s.mu.Unlock()
	s.flush(ctx, out)
	return info, nil
}

func others(ds []parley.DeviceID, not parley.DeviceID) []parley.DeviceID {
	out := ds[:0:0]
	for _, d := range ds {
		if d != not {
			out = append(out, d)
		}
	}
	return out
}

// Decline refuses a call ringing on dev for all of dev's user's devices. In
// a 1:1 call the call ends and the caller gets CALL_DECLINED (or CALL_BUSY).
func (s *Service) Decline(ctx context.Context, dev parley.Device, id CallID, busy bool) error {
	s.mu.Lock()
	c, err := s.lookup(id)
	if err == nil {
		if _, ok := c.ringing[dev.ID]; !ok {
			err = parley.Errorf(parley.CodeConflict, ReasonNotRinging, "this call is not ringing on this device")
		}
	}
	if err != nil {
		s.mu.Unlock()
		return s.refuse(err)
	}
	var out outbox
	var mine []parley.DeviceID
	for d, u := range c.ringing {
		if u == dev.User {
			mine = append(mine, d)
			delete(c.ringing, d)
		}
	}
	kind := parley.CallDeclined
	if busy {
		kind = parley.CallBusy
	}
	ev := s.event(c, kind, dev.User, dev.ID)
	out.event(c.conv, append(c.participantDevices(), others(mine, dev.ID)...), ev)
	if !c.group || (len(c.ringing) == 0 && len(c.parts) < 2) {
		s.endLocked(c, &out)
	}
	s.mu.Unlock()
	s.flush(ctx, out)
	return nil
}

// Hangup takes dev out of the call. The caller hanging up before anyone
// answered cancels the call (CALL_CANCELLED to the rung devices); a call
// with fewer than two participants left ends.
func (s *Service) Hangup(ctx context.Context, dev parley.Device, id CallID) error {
	s.mu.Lock()
	c, err := s.lookup(id)
	if err == nil && c.parts[dev.ID] == nil {
		err = parley.Errorf(parley.CodeForbidden, ReasonNotParticipant, "you are not in this call")
	}
	if err != nil {
		s.mu.Unlock()
		return s.refuse(err)
	}
	var out outbox
	s.leaveLocked(c, dev.ID, &out)
	s.mu.Unlock()
	s.flush(ctx, out)
	return nil
}

func (s *Service) leaveLocked(c *call, d parley.DeviceID, out *outbox) {
	p := c.parts[d]
	if p == nil {
		return
	}
	if c.answeredAt.IsZero() && d == c.caller.ID {
		rung := make([]parley.DeviceID, 0, len(c.ringing))
		for x := range c.ringing {
			rung = append(rung, x)
		}
		c.ringing = map[parley.DeviceID]parley.UserID{}
		out.event(c.conv, rung, s.event(c, parley.CallCancelled, p.user, d))
		s.endLocked(c, out)
		return
	}
	s.removeParticipant(c, d, out)
	out.event(c.conv, c.participantDevices(), s.event(c, parley.CallLeft, p.user, d))
	if len(c.parts) == 0 || (!c.group && len(c.parts) < 2) {
		s.endLocked(c, out)
	}
}

// DeviceGone takes a device out of any call it is in (its last connection
// closed, or it was revoked).
func (s *Service) DeviceGone(ctx context.Context, d parley.DeviceID) {
	s.mu.Lock()
	var out outbox
	if c := s.byDev[d]; c != nil {
		s.leaveLocked(c, d, &out)
	}
	s.mu.Unlock()
	s.flush(ctx, out)
}

// Join adds dev to an ongoing group call in one of its conversations.
func (s *Service) Join(ctx context.Context, dev parley.Device, id CallID) (parley.CallInfo, error) {
	s.mu.Lock()
	c, err := s.lookup(id)
	conv := parley.ConversationID("")
	if c != nil {
		conv = c.conv
	}
	s.mu.Unlock()
	if err != nil {
		return parley.CallInfo{}, s.refuse(err)
	}
	_, members, err := s.membership(ctx, dev, conv)
	if err != nil {
		return parley.CallInfo{}, s.refuse(err)
	}
	s.mu.Lock()
	if s.calls[id] != c {
		err = errNotFound()
	} else if c.parts[dev.ID] != nil || s.byDev[dev.ID] != nil {
		err = parley.Errorf(parley.CodeConflict, ReasonAlreadyInCall, "this device is already in a call")
	} else if len(c.parts) >= s.cfg.MaxParticipants {
		err = parley.Errorf(parley.CodeTooLarge, ReasonFull, "the call has the most participants it may have (%d)", s.cfg.MaxParticipants)
	}
	if err != nil {
		s.mu.Unlock()
		return parley.CallInfo{}, s.refuse(err)
	}
	c.members = members
	var out outbox
	var mine []parley.DeviceID
	for d, u := range c.ringing {
		if u == dev.User && d != dev.ID {
			mine = append(mine, d)
			delete(c.ringing, d)
		}
	}
	s.addParticipant(c, dev)
	if c.answeredAt.IsZero() {
		c.answeredAt = s.clock.Now()
	}
	out.event(c.conv, mine, s.event(c, parley.CallAnsweredElsewhere, dev.User, dev.ID))
	out.event(c.conv, others(c.participantDevices(), dev.ID), s.event(c, parley.CallJoined, dev.User, dev.ID))
	info := s.info(c, dev.User)
	s.mu.Unlock()
	s.flush(ctx, out)
	return info, nil
}

// SetMediaState records dev's mute and camera state and tells the others.
func (s *Service) SetMediaState(ctx context.Context, dev parley.Device, id CallID, muted, videoOff bool) error {
	s.mu.Lock()
	c, err := s.lookup(id)
	if err == nil && c.parts[dev.ID] == nil {
		err = parley.Errorf(parley.CodeForbidden, ReasonNotParticipant, "you are not in this call")
	}
	if err != nil {
		s.mu.Unlock()
		return s.refuse(err)
	}
	p := c.parts[dev.ID]
	p.muted, p.videoOff = muted, videoOff
	var out outbox
	out.event(c.conv, others(c.participantDevices(), dev.ID), s.event(c, parley.CallMediaState, dev.User, dev.ID))
	s.mu.Unlock()
	s.flush(ctx, out)
	return nil
}

// Status returns the call going on in conversation id, for a member device.
func (s *Service) Status(ctx context.Context, dev parley.Device, id parley.ConversationID) (parley.CallInfo, error) {
	if _, _, err := s.membership(ctx, dev, id); err != nil {
		return parley.CallInfo{}, s.refuse(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.byConv[id]
	if c == nil {
		return parley.CallInfo{}, errNotFound()
	}
	return s.info(c, dev.User), nil
}

// Signal relays a signalling payload from dev to another device in the call
// (to != 0), or hands it to the SFU (to == 0: group calls, and 1:1 calls
// that cannot or would rather not go peer to peer). A 1:1 call's
// caller may signal the rung devices before they accept (an early offer).
func (s *Service) Signal(ctx context.Context, dev parley.Device, id CallID, to parley.DeviceID, conn parley.CallConnection, kind parley.CallSignalKind, payload []byte) error {
	if len(payload) > s.cfg.MaxSignalBytes {
		return s.refuse(parley.Errorf(parley.CodeTooLarge, ReasonSignalTooLarge, "signalling payload of %d bytes exceeds %d", len(payload), s.cfg.MaxSignalBytes))
	}
	switch kind {
	case parley.CallSignalOffer, parley.CallSignalAnswer, parley.CallSignalSealed:
		if len(payload) == 0 {
			return s.refuse(parley.Errorf(parley.CodeInvalid, ReasonBadSignal, "empty signalling payload"))
		}
	case parley.CallSignalCandidate:
	default:
		return s.refuse(parley.Errorf(parley.CodeInvalid, ReasonBadSignal, "unknown signal kind %d", kind))
	}
	s.mu.Lock()
	c, err := s.lookup(id)
	if err == nil && c.parts[dev.ID] == nil {
		err = parley.Errorf(parley.CodeForbidden, ReasonNotParticipant, "you are not in this call")
	}
	if err == nil && to == 0 && s.sfu == nil {
		err = parley.Errorf(parley.CodeUnavailable, ReasonNoSFU, "this call has no SFU")
	}
	if err == nil && to != 0 {
		_, inCall := c.parts[to]
		_, rung := c.ringing[to]
		if !inCall && !(rung && !c.group && dev.ID == c.caller.ID) {
			err = parley.Errorf(parley.CodeNotFound, ReasonPeerNotInCall, "that device is not in this call")
		}
	}
	if err != nil {
		s.mu.Unlock()
		return s.refuse(err)
	}
	sfu, conv := s.sfu, c.conv
	s.mu.Unlock()
	if to == 0 {
		s.toSFU.Add(1)
		if err := sfu.Signal(ctx, id, dev, conn, kind, payload); err != nil {
			return s.refuse(err)
		}
		return nil
	}
	s.relayed.Add(1)
	var out outbox
	out.signal(conv, []parley.DeviceID{to}, parley.CallSignal{Call: id, FromUser: dev.User, FromDevice: dev.ID, Kind: kind, Payload: payload, Connection: conn})
	s.flush(ctx, out)
	return nil
}

// SignalFromSFU pushes a payload from the SFU to a participant device.
func (s *Service) SignalFromSFU(ctx context.Context, id CallID, to parley.DeviceID, conn parley.CallConnection, kind parley.CallSignalKind, payload []byte) error {
	s.mu.Lock()
	c, err := s.lookup(id)
	if err == nil && c.parts[to] == nil {
		err = parley.Errorf(parley.CodeNotFound, ReasonPeerNotInCall, "that device is not in this call")
	}
	if err != nil {
		s.mu.Unlock()
		return err
	}
	conv := c.conv
	s.mu.Unlock()
	var out outbox
	out.signal(conv, []parley.DeviceID{to}, parley.CallSignal{Call: id, Kind: kind, Payload: payload, Connection: conn})
	s.flush(ctx, out)
	return nil
}

// Sweep ends ringing that has lasted RingTimeout: the rung devices get
// CALL_MISSED, and a call nobody answered ends (the caller gets CALL_MISSED).
func (s *Service) Sweep(ctx context.Context) {
	now := s.clock.Now()
	var out outbox
	s.mu.Lock()
	for _, c := range s.calls {
		if len(c.ringing) == 0 || now.Before(c.ringUntil) {
			continue
		}
		if c.answeredAt.IsZero() {
			s.missed.Add(1)
			out.event(c.conv, []parley.DeviceID{c.caller.ID}, s.event(c, parley.CallMissed, c.caller.User, c.caller.ID))
			s.endLocked(c, &out) // tells the rung devices CALL_MISSED
			continue
		}
		rung := make([]parley.DeviceID, 0, len(c.ringing))
		for d := range c.ringing {
			rung = append(rung, d)
		}
		c.ringing = map[parley.DeviceID]parley.UserID{}
		out.event(c.conv, rung, s.event(c, parley.CallMissed, c.caller.User, c.caller.ID))
		if c.group {
			out.event(c.conv, rung, s.event(c, parley.CallInProgress, 0, 0))
		}
	}
	s.mu.Unlock()
	s.flush(ctx, out)
}

// RingTimeout is the configured ring duration.
func (s *Service) RingTimeout() time.Duration { return s.cfg.RingTimeout }
