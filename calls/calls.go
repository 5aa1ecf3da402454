// Package calls is Parley's call signalling service: it keeps the state of
// every call on this server (who is rung, who is in it), relays offers,
// answers and ICE candidates between devices or to the SFU, and hands out
// short-lived TURN credentials. It never holds media keys: call media is
// SFrame-encrypted with keys the members derive from the conversation's
// MLS group (package sframe).
//
// Guarantees:
//   - Only member devices of a conversation can start, join or be rung for
//     its calls; a 1:1 call between users where either blocks the other is
//     refused (CodeBlocked), as a message would be.
//   - A conversation has at most one call at a time; starting another while
//     a group call runs is CodeConflict "call_in_progress" (the client asks
//     CallStatus and joins it).
//   - A call has at most Config.MaxParticipants participant devices
//     (CodeTooLarge "call_full").
//   - Every state change is pushed to the devices concerned as a CallEvent
//     through the broker (at most once: a device offline at that moment sees
//     the state with CallStatus). Accepting on one device stops the ringing
//     of the user's other devices.
//   - Ringing stops after Config.RingTimeout (CALL_MISSED), checked by Run
//     or Sweep against the injected clock.
//
// Call state lives in this process: each call is pinned to the node that
// started it (its SFU, its TURN relay). In a cluster, Router sends the
// requests of a call made through another node to the hosting node
// (route.go); starting a call and asking a conversation's call status stay
// on the node asked (docs/cluster.md says what that leaves).
package calls

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/wire"
)

// CallID names a call (parley.CallID).
type CallID = parley.CallID

// Reasons of the errors this package returns.
const (
	ReasonNotMember       = "call_not_member"       // CodeForbidden: the device is not in the conversation
	ReasonNotFound        = "call_not_found"        // CodeNotFound: no such call (or it ended)
	ReasonInProgress      = "call_in_progress"      // CodeConflict: the conversation already has a call
	ReasonAlreadyInCall   = "already_in_call"       // CodeConflict: the device is in another call
	ReasonNotRinging      = "call_not_ringing"      // CodeConflict: accept/decline on a device not being rung
	ReasonNotParticipant  = "call_not_participant"  // CodeForbidden: the device is not in the call
	ReasonFull            = "call_full"             // CodeTooLarge: the participant cap is reached
	ReasonSignalTooLarge  = "call_signal_too_large" // CodeTooLarge: a signalling payload over MaxSignalBytes
	ReasonBadSignal       = "call_bad_signal"       // CodeInvalid: unknown signal kind or empty payload
	ReasonNoSFU           = "call_no_sfu"           // CodeUnavailable: a group call, or a signal to the SFU, on a server without one
	ReasonConversationID  = "conversation_id"       // CodeInvalid: malformed conversation id
	ReasonSelfCall        = "call_no_callee"        // CodeInvalid: nobody else in the conversation
	ReasonShuttingDown    = "server_shutdown"       // CodeUnavailable
	ReasonPeerNotInCall   = "call_peer_not_in_call" // CodeNotFound: a signal to a device that is not in the call
	ReasonBlockedSentinel = "blocked"               // CodeBlocked (as delivery): the other user blocks you
	ReasonBlockedByYou    = "blocked_by_you"        // CodeBlocked: you block the other user
)

// Directory is what the service needs to know of conversations
// (parley.Store implements it).
type Directory interface {
	Conversation(ctx context.Context, id parley.ConversationID) (parley.Conversation, error)
	Members(ctx context.Context, id parley.ConversationID) ([]parley.Member, error)
	IsBlocked(ctx context.Context, blocker, blocked parley.UserID) (bool, error)
}

// SFU is the media server group calls use. Signal hands it a payload from a
// participant (an SDP offer or answer, or an ICE candidate) and returns an
// error with a specific reason if it is malformed; the SFU answers through
// Service.SignalFromSFU. Leave drops a device's media; End drops the call.
type SFU interface {
	Signal(ctx context.Context, call CallID, dev parley.Device, conn parley.CallConnection, kind parley.CallSignalKind, payload []byte) error
	Leave(call CallID, dev parley.DeviceID)
	End(call CallID)
}

// TURN configures the ICE servers handed to participants. Credentials
// follow the TURN REST scheme that the built-in TURN server verifies:
// username "EXPIRY:USERID" and password base64(HMAC-SHA1(Secret, username)).
type TURN struct {
	URLs   []string // e.g. "turn:203.0.113.7:3478?transport=udp"
	Secret []byte
	TTL    time.Duration // default 10 min
}

// Credentials returns the TURN username and password for user, valid until
// now+TTL.
func (t TURN) Credentials(user parley.UserID, now time.Time) (username, password string, expires time.Time) {
	ttl := t.TTL
	if ttl <= 0 {
		ttl = 10 * time.Minute
	}
	expires = now.Add(ttl)
	username = strconv.FormatInt(expires.Unix(), 10) + ":" + strconv.FormatInt(int64(user), 10)
	return username, TURNPassword(t.Secret, username), expires
}

// TURNPassword is base64(HMAC-SHA1(secret, username)).
func TURNPassword(secret []byte, username string) string {
	m := hmac.New(sha1.New, secret)
	m.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Config tunes the service. Zero fields take the defaults.
type Config struct {
	MaxParticipants int           // devices in one call; default 32
	RingTimeout     time.Duration // how long devices ring; default 45 s
	MaxSignalBytes  int           // largest signalling payload; default 64 KiB
	SweepInterval   time.Duration // how often Run checks ring timeouts; default 1 s
	TURN            TURN          // no URLs: no ICE servers handed out
	// IDPrefix starts the id of every call this service starts (then
	// "-"): in a cluster the node's tag, by which Router sends a call's
	// requests to the node hosting it. "": bare ids (one node).
	IDPrefix string
}

func (c *Config) setDefaults() {
	if c.MaxParticipants <= 0 {
		c.MaxParticipants = 32
	}
	if c.RingTimeout <= 0 {
		c.RingTimeout = 45 * time.Second
	}
	if c.MaxSignalBytes <= 0 {
		c.MaxSignalBytes = 64 << 10
	}
	if c.SweepInterval <= 0 {
		c.SweepInterval = time.Second
	}
}

// Stats counts what the service did.
type Stats struct {
	Active          int    // calls not yet ended
	Started         uint64 // calls started
	Missed          uint64 // calls nobody answered
	Refused         uint64 // start/join/accept/signal requests refused
	SignalsRelayed  uint64 // payloads relayed between devices
	SignalsToSFU    uint64 // payloads handed to the SFU
	EventsPublished uint64 // CallEvent pushes (one per device)
}

// Service is the call signalling service. Create it with New.
type Service struct {
	dir    Directory
	broker parley.Broker
	clock  parley.Clock
	log    *slog.Logger
	cfg    Config

	mu     sync.Mutex
	calls  map[CallID]*call
	byConv map[parley.ConversationID]*call
	byDev  map[parley.DeviceID]*call // devices participating
	sfu    SFU
	closed bool

	started, missed, refused, relayed, toSFU, events atomic.Uint64
}

type participant struct {
	user     parley.UserID
	joinedAt time.Time
	muted    bool
	videoOff bool
}

type call struct {
	id         CallID
	conv       parley.ConversationID
	group      bool
	video      bool
	caller     parley.Device
	startedAt  time.Time
	answeredAt time.Time
	members    []parley.Member // as of the start (and refreshed on join)
	ringing    map[parley.DeviceID]parley.UserID
	ringUntil  time.Time
	parts      map[parley.DeviceID]*participant
	order      []parley.DeviceID // join order of parts
}

// New returns a service. broker delivers pushes; clock and log may be nil.
func New(dir Directory, broker parley.Broker, clock parley.Clock, log *slog.Logger, cfg Config) *Service {
	cfg.setDefaults()
	if clock == nil {
		clock = parley.SystemClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{
		dir: dir, broker: broker, clock: clock, log: log, cfg: cfg,
		calls:  make(map[CallID]*call),
		byConv: make(map[parley.ConversationID]*call),
		byDev:  make(map[parley.DeviceID]*call),
	}
}

// SetSFU attaches the media server group calls use. Without one, group
// calls are refused (CodeUnavailable "call_no_sfu").
func (s *Service) SetSFU(sfu SFU) {
	s.mu.Lock()
	s.sfu = sfu
	s.mu.Unlock()
}

// Config returns the effective configuration.
func (s *Service) Config() Config { return s.cfg }

// Stats returns the service's counters.
func (s *Service) Stats() Stats {
	s.mu.Lock()
	n := len(s.calls)
	s.mu.Unlock()
	return Stats{Active: n, Started: s.started.Load(), Missed: s.missed.Load(), Refused: s.refused.Load(),
		SignalsRelayed: s.relayed.Load(), SignalsToSFU: s.toSFU.Load(), EventsPublished: s.events.Load()}
}

// Run checks ring timeouts every SweepInterval until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			s.Sweep(ctx)
		}
	}
}

// Shutdown ends every call (CALL_ENDED) and refuses new ones.
func (s *Service) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	var out outbox
	for _, c := range s.calls {
		s.endLocked(c, &out)
	}
	s.mu.Unlock()
	s.flush(ctx, out)
	return nil
}

// outbox collects pushes made under the lock, published after it.
type outbox struct {
	msgs []outMsg
	sfu  []func()
}

type outMsg struct {
	conv   parley.ConversationID
	to     []parley.DeviceID
	event  *parley.CallEvent  // one of event
	signal *parley.CallSignal // and signal
}

func (o *outbox) event(conv parley.ConversationID, to []parley.DeviceID, ev parley.CallEvent) {
	if len(to) > 0 {
		o.msgs = append(o.msgs, outMsg{conv: conv, to: to, event: &ev})
	}
}

func (o *outbox) signal(conv parley.ConversationID, to []parley.DeviceID, sig parley.CallSignal) {
	if len(to) > 0 {
		o.msgs = append(o.msgs, outMsg{conv: conv, to: to, signal: &sig})
	}
}

func (s *Service) flush(ctx context.Context, o outbox) {
	for _, f := range o.sfu {
		f()
	}
	for _, m := range o.msgs {
		var b []byte
		if m.event != nil {
			b = wire.CallEventFrame(*m.event)
			s.events.Add(uint64(len(m.to)))
		} else {
			b = wire.CallSignalFrame(*m.signal)
		}
		if err := s.broker.Publish(ctx, m.to, parley.Event{Kind: parley.EventSignal, Conversation: m.conv, Frame: b}); err != nil {
			s.log.Warn("calls: publish", "conversation", m.conv, "err", err)
		}
	}
}

func (s *Service) newCallID() CallID {
	var b [16]byte
	_, _ = rand.Read(b[:])
	if s.cfg.IDPrefix != "" {
		return CallID(s.cfg.IDPrefix + "-" + hex.EncodeToString(b[:]))
	}
	return CallID(hex.EncodeToString(b[:]))
}

// info is the view of c for user (with TURN credentials for user; none
// for 0).
func (s *Service) info(c *call, user parley.UserID) parley.CallInfo {
	ci := parley.CallInfo{
		ID: c.id, Conversation: c.conv, Group: c.group, Video: c.video, Caller: c.caller,
		StartedAt: c.startedAt, AnsweredAt: c.answeredAt, MaxParticipants: s.cfg.MaxParticipants,
	}
	for _, d := range c.order {
		p := c.parts[d]
		ci.Participants = append(ci.Participants, parley.CallParticipant{
			User: p.user, Device: d, AudioMuted: p.muted, VideoOff: p.videoOff, JoinedAt: p.joinedAt})
	}
	if len(s.cfg.TURN.URLs) > 0 && user != 0 {
		u, pw, exp := s.cfg.TURN.Credentials(user, s.clock.Now())
		ci.ICEServers = []parley.ICEServer{{URLs: s.cfg.TURN.URLs, Username: u, Credential: pw, ExpiresAt: exp}}
	}
	return ci
}

func (s *Service) event(c *call, kind parley.CallEventKind, user parley.UserID, dev parley.DeviceID) parley.CallEvent {
	return parley.CallEvent{Kind: kind, Call: s.info(c, 0), User: user, Device: dev, At: s.clock.Now()}
}

func (c *call) participantDevices() []parley.DeviceID {
	return append([]parley.DeviceID(nil), c.order...)
}

func (c *call) memberDevices() []parley.DeviceID {
	out := make([]parley.DeviceID, 0, len(c.members))
	for _, m := range c.members {
		out = append(out, m.Device)
	}
	return out
}

func (c *call) devicesOf(u parley.UserID) []parley.DeviceID {
	var out []parley.DeviceID
	for _, m := range c.members {
		if m.User == u {
			out = append(out, m.Device)
		}
	}
	return out
}

func (s *Service) refuse(err error) error {
	s.refused.Add(1)
	return err
}

func errNotFound() error {
	return parley.Errorf(parley.CodeNotFound, ReasonNotFound, "no such call")
}

// membership loads the conversation and checks dev is a member, and for a
// 1:1 conversation that neither user blocks the other.
func (s *Service) membership(ctx context.Context, dev parley.Device, id parley.ConversationID) (parley.Conversation, []parley.Member, error) {
	if !id.Valid() {
		return parley.Conversation{}, nil, parley.Errorf(parley.CodeInvalid, ReasonConversationID, "invalid conversation id")
	}
	conv, err := s.dir.Conversation(ctx, id)
	if parley.IsCode(err, parley.CodeNotFound) {
		return conv, nil, parley.Errorf(parley.CodeForbidden, ReasonNotMember, "you are not in this conversation")
	}
	if err != nil {
		return conv, nil, fmt.Errorf("calls: load %s: %w", id, err)
	}
	members, err := s.dir.Members(ctx, id)
	if err != nil {
		return conv, nil, fmt.Errorf("calls: members of %s: %w", id, err)
	}
	in := false
	var other parley.UserID
	for _, m := range members {
		if m.Device == dev.ID && m.User == dev.User {
			in = true
		}
		if m.User != dev.User {
			other = m.User
		}
	}
	if !in {
		return conv, nil, parley.Errorf(parley.CodeForbidden, ReasonNotMember, "you are not in this conversation")
	}
	if conv.Kind == parley.KindDirect && other != 0 {
		if b, err := s.dir.IsBlocked(ctx, dev.User, other); err != nil {
			return conv, nil, fmt.Errorf("calls: blocks: %w", err)
		} else if b {
			return conv, nil, parley.Errorf(parley.CodeBlocked, ReasonBlockedByYou, "you have blocked this user; unblock them to call")
		}
		if b, err := s.dir.IsBlocked(ctx, other, dev.User); err != nil {
			return conv, nil, fmt.Errorf("calls: blocks: %w", err)
		} else if b {
			return conv, nil, parley.Errorf(parley.CodeBlocked, ReasonBlockedSentinel, "this user has blocked you")
		}
	}
	return conv, members, nil
}
