// Package calls is the Go client's side of calls (docs/calls.md): it starts
// a call in a chat, rings, answers on this device, declines and hangs up
// through the server's call signalling (docs/protocol.md §13), runs the
// headless media participant of package client/call for the call this
// device is in, and keeps the device's call log in the local store
// (localstore.CallLog: missed, incoming, outgoing, duration).
//
// Guarantees:
//   - A device is in at most one call at a time (the server enforces it
//     too); starting or answering another is CodeConflict "call_active".
//   - Media is SFrame-encrypted end to end with keys from the chat's MLS
//     group (package client/call); the group's epoch is watched during the
//     call and a commit re-keys it.
//   - The log has one record per call this device rang for, started or
//     answered, updated as the call's events arrive: an incoming call never
//     answered here is "missed" (timed out or cancelled by the caller), one
//     answered has the duration from the answer to the end. Events are
//     pushed at most once (the server keeps no call history): a device
//     that was offline while a call rang has no record of it.
//
// The client facade embeds Calls, so its methods are the Client's
// (c.StartCall, c.WaitForCall, c.AnswerCall, c.JoinCall, c.DeclineCall,
// c.CallLog).
package calls

import (
	"context"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client/localstore"
	"github.com/parleyhq/parley/client/mlsengine"
	"github.com/parleyhq/parley/proto/parleypb"
)

// Reasons of the errors this package returns.
const (
	ReasonCallDeclined   = "call_declined"       // CodeConflict: the callee declined
	ReasonCallBusy       = "call_busy"           // CodeConflict: the callee is in another call
	ReasonCallNoAnswer   = "call_no_answer"      // CodeExpired: nobody answered before the ringing stopped
	ReasonCallCancelled  = "call_cancelled"      // CodeNotFound: the call ended before this device answered
	ReasonCallActive     = "call_active"         // CodeConflict: this device is in a call already
	ReasonCallNoKeys     = "call_no_keys"        // CodeNotFound: this device has not joined the chat's MLS group (yet)
	ReasonCallNativeOnly = "call_go_native_only" // CodeUnavailable: the Go client's media runs natively, not in the browser build
)

// Core is what Calls needs of the client it runs in.
type Core interface {
	// Request sends a request on the session and returns the reply.
	Request(ctx context.Context, f *parleypb.ClientFrame) (*parleypb.ServerFrame, error)
	Store() localstore.Store
	Account() localstore.Account
	Logger() *slog.Logger
	// WithGroup runs f with conv's MLS group as this device has it, holding
	// the client's MLS lock (f must not keep g).
	WithGroup(ctx context.Context, conv parley.ConversationID, f func(g mlsengine.Group) error) error
}

// Options are how a call is made or answered.
type Options struct {
	Video bool // also send video (StartCall: a video call)
	// Loopback lets the media use loopback addresses (tests, and a server
	// on this machine). A server URL on a loopback address implies it.
	Loopback bool
	// RelayOnly sends and receives a 1:1 call's media through the
	// server's TURN relay only (ICE policy "relay"): the other party never
	// learns this device's addresses.
	RelayOnly bool
	// ViaSFU sends a 1:1 call's media through the server's SFU instead of
	// peer to peer. Both devices of the call must agree: set it on both.
	ViaSFU bool
	// Simulcast sends video as three layers through the SFU (group calls,
	// or ViaSFU), from which the SFU picks one per receiver.
	Simulcast bool
}

// Incoming is a call ringing on this device.
type Incoming struct {
	ID           parley.CallID
	Conversation parley.ConversationID
	Caller       parley.UserID
	CallerDevice parley.DeviceID
	Video        bool
	Group        bool
	StartedAt    time.Time
	// Stopped is closed when the call stops ringing here: answered here
	// or elsewhere, declined, cancelled by the caller, or timed out.
	Stopped <-chan struct{}
}

func incoming(info *parleypb.CallInfo) Incoming {
	return Incoming{ID: parley.CallID(info.GetCallId()), Conversation: parley.ConversationID(info.GetConversationId()),
		Caller: parley.UserID(info.GetCallerUserId()), CallerDevice: parley.DeviceID(info.GetCallerDeviceId()),
		Video: info.GetVideo(), Group: info.GetGroup(), StartedAt: msTime(info.GetStartedAtMs())}
}

// ring is a call ringing here.
type ring struct {
	in   Incoming
	stop chan struct{} // in.Stopped
}

// stopRinging forgets call id as ringing here and closes its Stopped. The
// caller holds mu.
func (cs *Calls) stopRinging(id parley.CallID) {
	if in, ok := cs.ringing[id]; ok {
		delete(cs.ringing, id)
		close(in.stop)
	}
}

// record is the log's first record of a call ringing here.
func (in Incoming) record() localstore.CallRecord {
	return localstore.CallRecord{ID: in.ID, Conversation: in.Conversation, Video: in.Video, Peer: in.Caller,
		Status: localstore.CallRinging, StartedAt: in.StartedAt}
}

// Calls is the client's call state. Create it with New.
type Calls struct {
	core  Core
	logMu sync.Mutex // serialises the call log's read-modify-writes

	mu      sync.Mutex
	active  *Call
	ringing map[parley.CallID]ring
	rang    chan struct{} // closed and replaced when a call starts ringing here
	// decided are the outcomes this device chose (declined, cancelled)
	// while its request is on the way: the events the request causes may
	// be handled before its reply.
	decided map[parley.CallID]localstore.CallStatus
}

// New returns the call state of the client core is.
func New(core Core) *Calls {
	return &Calls{core: core, ringing: map[parley.CallID]ring{}, rang: make(chan struct{}), decided: map[parley.CallID]localstore.CallStatus{}}
}

// ActiveCall is the call this device is in, or nil.
func (cs *Calls) ActiveCall() *Call {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.active
}

// Close stops the media of the call this device is in, if any, without
// telling the server (the server takes a device whose session closes out
// of its call). The client calls it when it closes.
func (cs *Calls) Close() {
	cl := cs.ActiveCall()
	if cl == nil {
		return
	}
	cl.Close()
	now := time.Now()
	cs.updateLog(cl.ID(), func(rec *localstore.CallRecord, found bool) {
		if found && rec.EndedAt.IsZero() {
			rec.EndedAt = now
		}
	})
}

// CallLog returns the newest limit records of this device's call log (all
// when limit <= 0), the most recent first.
func (cs *Calls) CallLog(ctx context.Context, limit int) ([]localstore.CallRecord, error) {
	return cs.core.Store().Calls(ctx, limit)
}

func (cs *Calls) setActive(cl *Call) error {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.active != nil {
		return parley.Errorf(parley.CodeConflict, ReasonCallActive, "this device is in a call already; hang up first")
	}
	cs.active = cl
	return nil
}

func (cs *Calls) clearActive(cl *Call) {
	cs.mu.Lock()
	if cs.active == cl {
		cs.active = nil
	}
	cs.mu.Unlock()
}

// StartCall starts a call in chat conv: every device of the other members
// rings. The media starts when a callee answers (Call.Answered); until then
// Hangup cancels the call.
func (cs *Calls) StartCall(ctx context.Context, conv parley.ConversationID, opt Options) (*Call, error) {
	cl := cs.newCall(conv, true, opt)
	if err := cs.setActive(cl); err != nil {
		return nil, err
	}
	cs.logMu.Lock()
	defer cs.logMu.Unlock()
	r, err := cs.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_CallStart{CallStart: &parleypb.CallStartRequest{
		ConversationId: string(conv), Video: opt.Video}}})
	if err != nil {
		cs.clearActive(cl)
		cl.cancel()
		return nil, err
	}
	info := r.GetCall()
	cl.setInfo(info)
	rec := localstore.CallRecord{ID: cl.id, Conversation: conv, Outgoing: true, Video: opt.Video, Status: localstore.CallRinging,
		StartedAt: msTime(info.GetStartedAtMs())}
	if ch, err := cs.core.Store().Chat(ctx, conv); err == nil && ch.Kind == parley.KindDirect {
		rec.Peer = ch.Peer
	}
	cs.putLog(rec)
	return cl, nil
}

// WaitForCall returns a call ringing on this device: one already ringing,
// the oldest first, or the next to ring before ctx ends.
func (cs *Calls) WaitForCall(ctx context.Context) (Incoming, error) {
	for {
		cs.mu.Lock()
		var all []Incoming
		for _, r := range cs.ringing {
			all = append(all, r.in)
		}
		ch := cs.rang
		cs.mu.Unlock()
		if len(all) > 0 {
			slices.SortFunc(all, func(a, b Incoming) int { return a.StartedAt.Compare(b.StartedAt) })
			return all[0], nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return Incoming{}, ctx.Err()
		}
	}
}

// AnswerCall answers call id, ringing on this device, and starts the
// media. The user's other devices stop ringing.
func (cs *Calls) AnswerCall(ctx context.Context, id parley.CallID, opt Options) (*Call, error) {
	cs.mu.Lock()
	rg, ok := cs.ringing[id]
	in := rg.in
	cs.mu.Unlock()
	cl := cs.newCall(in.Conversation, false, opt)
	cl.id, cl.video, cl.group = id, in.Video, in.Group
	if err := cs.setActive(cl); err != nil {
		return nil, err
	}
	r, err := cs.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_CallAccept{CallAccept: &parleypb.CallAcceptRequest{CallId: string(id)}}})
	if err != nil {
		cs.clearActive(cl)
		cl.cancel()
		if parley.IsCode(err, parley.CodeNotFound) {
			return nil, parley.Errorf(parley.CodeNotFound, ReasonCallCancelled, "the call ended before it was answered here")
		}
		return nil, err
	}
	info := r.GetCall()
	cl.setInfo(info)
	cs.mu.Lock()
	cs.stopRinging(id)
	cs.mu.Unlock()
	cs.updateLog(id, func(rec *localstore.CallRecord, found bool) {
		if !found || !ok {
			*rec = localstore.CallRecord{ID: id, Conversation: parley.ConversationID(info.GetConversationId()), Video: info.GetVideo(),
				Peer: parley.UserID(info.GetCallerUserId()), StartedAt: msTime(info.GetStartedAtMs())}
		}
		rec.Status, rec.AnsweredAt = localstore.CallAnswered, msTime(info.GetAnsweredAtMs())
	})
	cl.markAnswered(parley.DeviceID(info.GetCallerDeviceId()))
	return cl, nil
}

// JoinCall joins the call going on in chat conv (a group call this device
// was not rung for, or whose ringing stopped, or rings still) and starts
// the media. CodeNotFound "call_not_found" when no call is going on there.
func (cs *Calls) JoinCall(ctx context.Context, conv parley.ConversationID, opt Options) (*Call, error) {
	st, err := cs.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_CallStatus{CallStatus: &parleypb.CallStatusRequest{ConversationId: string(conv)}}})
	if err != nil {
		return nil, err
	}
	id := parley.CallID(st.GetCall().GetCallId())
	cl := cs.newCall(conv, false, opt)
	cl.id = id
	if err := cs.setActive(cl); err != nil {
		return nil, err
	}
	r, err := cs.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_CallJoin{CallJoin: &parleypb.CallJoinRequest{CallId: string(id)}}})
	if err != nil {
		cs.clearActive(cl)
		cl.cancel()
		return nil, err
	}
	info := r.GetCall()
	cl.setInfo(info)
	cs.mu.Lock()
	cs.stopRinging(id)
	cs.mu.Unlock()
	joined := time.Now()
	cs.updateLog(id, func(rec *localstore.CallRecord, found bool) {
		if !found {
			*rec = incoming(info).record()
		}
		rec.Status, rec.AnsweredAt = localstore.CallAnswered, joined
	})
	cl.markAnswered(0)
	return cl, nil
}

// DeclineCall refuses call id for all of this user's devices (busy: as
// busy). A 1:1 call ends; the caller learns it.
func (cs *Calls) DeclineCall(ctx context.Context, id parley.CallID, busy bool) error {
	defer cs.decide(id, localstore.CallDeclined)()
	cs.mu.Lock()
	r, rang := cs.ringing[id]
	in := r.in
	cs.mu.Unlock()
	if _, err := cs.core.Request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_CallDecline{CallDecline: &parleypb.CallDeclineRequest{
		CallId: string(id), Busy: busy}}}); err != nil {
		return err
	}
	cs.mu.Lock()
	cs.stopRinging(id)
	cs.mu.Unlock()
	cs.updateLog(id, func(rec *localstore.CallRecord, found bool) {
		if !found && rang {
			*rec = in.record()
		}
		terminal(rec, localstore.CallDeclined)
	})
	return nil
}

// decide notes that this device chose outcome s for call id until the
// returned function runs.
func (cs *Calls) decide(id parley.CallID, s localstore.CallStatus) func() {
	cs.mu.Lock()
	cs.decided[id] = s
	cs.mu.Unlock()
	return func() {
		cs.mu.Lock()
		delete(cs.decided, id)
		cs.mu.Unlock()
	}
}

// HandleCallFrame takes a call push (CallEvent or CallSignal) from the
// client's session. It never waits on the network.
func (cs *Calls) HandleCallFrame(f *parleypb.ServerFrame) {
	if s := f.GetCallSignal(); s != nil {
		cs.mu.Lock()
		cl := cs.active
		cs.mu.Unlock()
		if cl != nil && string(cl.ID()) == s.GetCallId() {
			cl.signal(s)
		}
		return
	}
	if ev := f.GetCallEvent(); ev != nil {
		cs.event(ev)
	}
}

func (cs *Calls) event(ev *parleypb.CallEvent) {
	// Holding logMu: a call this device is starting has its id and its
	// first record before its events are handled.
	cs.logMu.Lock()
	defer cs.logMu.Unlock()
	info := ev.GetCall()
	id := parley.CallID(info.GetCallId())
	at := msTime(ev.GetAtMs())
	me := cs.core.Account()
	cs.mu.Lock()
	cl := cs.active
	if cl != nil && cl.ID() != id {
		cl = nil
	}
	_, wasRinging := cs.ringing[id]
	decided, isDecided := cs.decided[id]
	switch ev.GetKind() {
	case parleypb.CallEventKind_CALL_RINGING:
		if parley.DeviceID(info.GetCallerDeviceId()) == me.Device {
			cs.mu.Unlock()
			return
		}
		stop := make(chan struct{})
		in := incoming(info)
		in.Stopped = stop
		cs.ringing[id] = ring{in: in, stop: stop}
		close(cs.rang)
		cs.rang = make(chan struct{})
	case parleypb.CallEventKind_CALL_ACCEPTED, parleypb.CallEventKind_CALL_JOINED, parleypb.CallEventKind_CALL_LEFT,
		parleypb.CallEventKind_CALL_MEDIA_STATE, parleypb.CallEventKind_CALL_IN_PROGRESS, parleypb.CallEventKind_CALL_ACTIVE_SPEAKER:
	default: // the ringing here stops
		cs.stopRinging(id)
	}
	cs.mu.Unlock()

	switch ev.GetKind() {
	case parleypb.CallEventKind_CALL_RINGING:
		cs.update(id, func(rec *localstore.CallRecord, found bool) {
			if !found {
				*rec = incoming(info).record()
			}
		})
	case parleypb.CallEventKind_CALL_ACCEPTED, parleypb.CallEventKind_CALL_JOINED:
		if cl != nil && cl.outgoing { // answered (or joined): the caller's media starts
			cs.update(id, func(rec *localstore.CallRecord, _ bool) {
				if rec.Status == localstore.CallRinging {
					rec.Status, rec.AnsweredAt = localstore.CallAnswered, msTime(info.GetAnsweredAtMs())
				}
			})
			cl.markAnswered(parley.DeviceID(ev.GetDeviceId()))
		}
	case parleypb.CallEventKind_CALL_ACTIVE_SPEAKER:
		if cl != nil {
			cl.mu.Lock()
			cl.speaker = parley.DeviceID(ev.GetDeviceId())
			cl.mu.Unlock()
		}
	case parleypb.CallEventKind_CALL_ANSWERED_ELSEWHERE:
		cs.update(id, func(rec *localstore.CallRecord, _ bool) { terminal(rec, localstore.CallAnsweredElsewhere) })
	case parleypb.CallEventKind_CALL_DECLINED, parleypb.CallEventKind_CALL_BUSY:
		status, reason, what := localstore.CallDeclined, ReasonCallDeclined, "declined"
		if ev.GetKind() == parleypb.CallEventKind_CALL_BUSY {
			status, reason, what = localstore.CallBusy, ReasonCallBusy, "is busy"
		}
		cs.update(id, func(rec *localstore.CallRecord, _ bool) { terminal(rec, status) })
		if cl != nil && cl.outgoing && !info.GetGroup() {
			cl.end(parley.Errorf(parley.CodeConflict, reason, "the callee %s", what))
		}
	case parleypb.CallEventKind_CALL_CANCELLED:
		if wasRinging {
			cs.update(id, func(rec *localstore.CallRecord, _ bool) { terminal(rec, localstore.CallMissed) })
		}
	case parleypb.CallEventKind_CALL_MISSED:
		cs.update(id, func(rec *localstore.CallRecord, _ bool) {
			if isDecided {
				terminal(rec, decided)
			} else if rec.Outgoing {
				terminal(rec, localstore.CallNoAnswer)
			} else {
				terminal(rec, localstore.CallMissed)
			}
		})
		if cl != nil && cl.outgoing && !cl.isAnswered() {
			cl.end(parley.Errorf(parley.CodeExpired, ReasonCallNoAnswer, "nobody answered"))
		}
	case parleypb.CallEventKind_CALL_ENDED:
		cs.update(id, func(rec *localstore.CallRecord, found bool) {
			if !found {
				return
			}
			if isDecided {
				terminal(rec, decided)
			} else if rec.Outgoing {
				terminal(rec, localstore.CallNoAnswer)
			} else {
				terminal(rec, localstore.CallMissed)
			}
			if rec.EndedAt.IsZero() {
				rec.EndedAt = at
			}
		})
		if cl != nil {
			cl.end(nil)
		}
	}
}

// terminal moves a ringing record to its outcome; a record past ringing
// keeps its status.
func terminal(rec *localstore.CallRecord, s localstore.CallStatus) {
	if rec.Status == localstore.CallRinging || rec.Status == "" {
		rec.Status = s
	}
}

func (cs *Calls) putLog(rec localstore.CallRecord) {
	if rec.ID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cs.core.Store().PutCall(ctx, rec); err != nil {
		cs.core.Logger().Warn("call log", "call", rec.ID, "err", err)
	}
}

// updateLog applies f to call id's record (found false: none yet, f may
// create it by setting ID) and stores the result.
func (cs *Calls) updateLog(id parley.CallID, f func(rec *localstore.CallRecord, found bool)) {
	cs.logMu.Lock()
	defer cs.logMu.Unlock()
	cs.update(id, f)
}

// update is updateLog for a caller holding logMu.
func (cs *Calls) update(id parley.CallID, f func(rec *localstore.CallRecord, found bool)) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rec, err := cs.core.Store().Call(ctx, id)
	found := err == nil
	if err != nil && !parley.IsCode(err, parley.CodeNotFound) {
		cs.core.Logger().Warn("call log", "call", id, "err", err)
		return
	}
	f(&rec, found)
	cs.putLog(rec)
}

func msTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// loopbackServer reports whether the server is on a loopback address, so
// that media to it (and to peers on this machine) may use loopback.
func loopbackServer(serverURL string) bool {
	u, err := url.Parse(serverURL)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
