// Package delivery is Parley's delivery service: the ordered per-conversation
// logs, per-device cursors, receipts, live fan-out, retention, and the MLS
// Delivery Service operations (KeyPackages, conversation creation, commits,
// GroupInfo). It is crypto-blind: payloads are opaque bytes.
//
// Guarantees:
//   - Send is durable before it is acknowledged: the reply (the "sent"
//     receipt) is given only after LogStore.Append returned. Concurrent sends
//     are group-committed by a single appender goroutine and published, in
//     commit order, by a single publisher goroutine.
//   - Send is idempotent on (conversation, sender device, client id): a
//     retried send returns the original Seq with Duplicate set and is not
//     delivered again.
//   - Every envelope visible to a device (it is a member since before the
//     envelope, it did not send it, and the envelope is not restricted to
//     other devices) is delivered to each of the device's streams in Seq order
//     per conversation, at least once until the device acknowledges it. A
//     stream never sends the same envelope twice, and never more than the
//     delivery window of unacknowledged envelopes.
//   - An Ack is durable before its delivered receipt is pushed, and before an
//     Ack with a request id is answered.
//   - Receipts, typing and presence are best effort and never stored (except
//     read marks and cursors, which are).
package delivery

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ratelimit"
)

// Config tunes the delivery service. Zero fields take the defaults.
type Config struct {
	// DeliveryWindow is the most unacknowledged envelopes a stream has in
	// flight. Default 512.
	DeliveryWindow int
	// MaxPayloadBytes limits an envelope's payload. Default 192 KiB.
	MaxPayloadBytes int
	// MaxBatch is the most envelopes the appender commits in one Append.
	// The appender takes what is queued, so batches grow only under load.
	// Default 4096.
	MaxBatch int
	// AckLinger is how long the acker keeps collecting acknowledgements,
	// under load, before it writes them: when at least 32 were queued while
	// the previous ones were written, it waits up to AckLinger for more (up
	// to 4096). An ack's durability delays only its delivered receipt and
	// the answer to an Ack with a request id (the window slot is freed at
	// once), so fewer, larger cursor commits are worth a little receipt
	// latency under load; an idle server never waits. Default 10ms;
	// negative disables.
	AckLinger time.Duration
	// Retention is how long an envelope is kept when not every member
	// device has acknowledged it. Default 720h (30 days).
	Retention time.Duration
	// PruneInterval is how often expired and fully acknowledged envelopes
	// are deleted (by Run). Default 1h; negative: Run does not prune.
	PruneInterval time.Duration
	// MemberCacheTTL bounds how long a conversation's cached membership is
	// used. Changes made through this service invalidate it at once. Default 1m.
	MemberCacheTTL time.Duration
	// MaxKeyPackages is the most one-time KeyPackages a device may keep on
	// the server. Default 100.
	MaxKeyPackages int
	// KeyPackagesLow is the stock under which a device is told to upload
	// more (KeyPackagesLow push). Default 10.
	KeyPackagesLow int
	// ReceiptMaxMembers is the largest conversation (in member devices)
	// whose delivered receipts are pushed to the other members. Default 32.
	ReceiptMaxMembers int
	// MaxMembers is the most member devices a conversation may have.
	// Default 5120.
	MaxMembers int
	// ClaimsPerTarget limits how often one device may claim KeyPackages
	// of one user (ClaimKeyPackages), so a device cannot drain another's
	// one-time KeyPackages and force everyone onto its last-resort one.
	// Default 30 per hour; a negative Events disables it.
	ClaimsPerTarget parley.Limit
	// Limiter counts ClaimsPerTarget; default an in-process
	// ratelimit.Memory on the service's clock.
	Limiter parley.Limiter

	// The services delivery works with, handed over at construction (the
	// server wires them; none is set later).

	// Groups builds the authority over group conversations (GroupPolicy,
	// mls.go) with the new service as its publisher: groups.New. nil:
	// group conversations get no group record and no policy.
	Groups func(*Service) GroupPolicy
	// CheckHandshakes makes Commit read every commit (to groups and direct
	// conversations alike) and refuse it unless it matches its request
	// (handshake.go).
	CheckHandshakes bool
	// Trees are the out-of-band uploads the handshake check reads; nil
	// when no tree or commit is kept out of band.
	Trees Trees
	// Notifier learns of every new message for devices without a stream
	// on this node (notify.go: package push); nil: nobody.
	Notifier Notifier
	// Broadcasts admits broadcast copies before the consent check
	// (broadcast.go); nil: every copy is admitted.
	Broadcasts BroadcastPolicy
}

func (c *Config) setDefaults() {
	if c.ClaimsPerTarget.Events == 0 || c.ClaimsPerTarget.Events > 0 && c.ClaimsPerTarget.Window <= 0 {
		c.ClaimsPerTarget = parley.Limit{Events: 30, Window: time.Hour}
	}
	if c.DeliveryWindow <= 0 {
		c.DeliveryWindow = 512
	}
	if c.MaxPayloadBytes <= 0 {
		c.MaxPayloadBytes = 192 << 10
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 4096
	}
	if c.AckLinger == 0 {
		c.AckLinger = 10 * time.Millisecond
	}
	if c.Retention <= 0 {
		c.Retention = 720 * time.Hour
	}
	if c.PruneInterval == 0 {
		c.PruneInterval = time.Hour
	}
	if c.MemberCacheTTL <= 0 {
		c.MemberCacheTTL = time.Minute
	}
	if c.MaxKeyPackages <= 0 {
		c.MaxKeyPackages = 100
	}
	if c.KeyPackagesLow <= 0 {
		c.KeyPackagesLow = 10
	}
	if c.ReceiptMaxMembers <= 0 {
		c.ReceiptMaxMembers = 32
	}
	if c.MaxMembers <= 0 {
		c.MaxMembers = 5120
	}
}

// PresencePolicy decides who may see a user's presence and last seen
// (accounts.Service implements it).
type PresencePolicy interface {
	// CanSeePresence reports whether viewer may see owner's presence;
	// shareChat tells that the caller knows the two share a conversation
	// (false: the policy finds out). An unknown owner is hidden (false, nil).
	CanSeePresence(ctx context.Context, viewer, owner parley.UserID, shareChat bool) (bool, error)
}

// AckBatcher is an optional capability of a LogStore: acknowledging several
// cursors in one transaction. Without it the acker calls LogStore.Ack once
// per coalesced (conversation, device). When AckBatch fails the acker retries
// each cursor with LogStore.Ack (to attribute errors), so AckBatch may have
// moved some of them: cursor moves are idempotent.
type AckBatcher interface {
	AckBatch(ctx context.Context, acks []parley.Cursor) error
}

// Service is the delivery service. Create it with New; stop it with Shutdown.
type Service struct {
	store  parley.Store
	broker parley.Broker
	policy PresencePolicy
	clock  parley.Clock
	log    *slog.Logger
	cfg    Config

	ctx    context.Context // cancelled by Shutdown
	cancel context.CancelFunc
	wg     sync.WaitGroup // background goroutines and stream workers

	appendCh  chan *appendReq
	publishCh chan appended // appender to publisher; closed when the appender ends
	ackCh     chan ackReq
	presCh    chan presenceChange

	// gate orders enqueues before Shutdown: enqueuers hold it shared and
	// check stopped; Shutdown sets stopped under the exclusive lock, then
	// closes stopping, so the background goroutines' final drain sees every
	// request that was accepted.
	gate     sync.RWMutex
	stopped  bool
	stopOnce sync.Once
	stopping chan struct{}

	cacheMu sync.Mutex
	cache   map[parley.ConversationID]*convInfo

	directMu sync.Mutex // serialises direct conversation creation

	onlineMu sync.Mutex
	online   map[parley.UserID]int // local streams per user

	stats   Stats
	latency storeLatency // metrics.go

	groups GroupPolicy // authority over KindGroup conversations; nil: none (mls.go, Config.Groups)
	// handshakes, with Config.CheckHandshakes, makes Commit read every
	// commit and match it with the request (handshake.go).
	handshakes bool
	trees      Trees

	notify notifyState // the Notifier of offline devices (notify.go)
}

// New returns a running delivery service. policy may be nil (everyone sees
// everyone's presence).
func New(store parley.Store, broker parley.Broker, policy PresencePolicy, clock parley.Clock, log *slog.Logger, cfg Config) *Service {
	cfg.setDefaults()
	if clock == nil {
		clock = parley.SystemClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Limiter == nil {
		cfg.Limiter = ratelimit.New(clock, 0)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Service{
		store:    store,
		broker:   broker,
		policy:   policy,
		clock:    clock,
		log:      log,
		cfg:      cfg,
		ctx:      ctx,
		cancel:   cancel,
		appendCh: make(chan *appendReq, 2*cfg.MaxBatch),
		// One batch published while the next commits; a slow publisher
		// holds the appender back rather than queueing without bound.
		publishCh: make(chan appended, 1),
		ackCh:     make(chan ackReq, 4096),
		presCh:    make(chan presenceChange, 4096),
		stopping:  make(chan struct{}),
		cache:     make(map[parley.ConversationID]*convInfo),
		online:    make(map[parley.UserID]int),
	}
	s.handshakes, s.trees = cfg.CheckHandshakes, cfg.Trees
	if cfg.Notifier != nil {
		s.notify.n.Store(&cfg.Notifier)
	}
	if cfg.Groups != nil {
		s.groups = cfg.Groups(s)
	}
	if ca, ok := broker.(parley.ChangeAnnouncer); ok {
		// Other nodes' membership changes drop this node's cache too.
		ca.OnChanged(s.dropCached)
	}
	s.wg.Add(4)
	go s.appender()
	go s.publisher()
	go s.acker()
	go s.presenceLoop()
	return s
}

// Config returns the effective configuration (defaults filled in).
func (s *Service) Config() Config { return s.cfg }

// Shutdown stops the service: new sends are refused with CodeUnavailable,
// queued sends and acknowledgements are committed, and background goroutines
// end. Streams should be closed first. It returns ctx.Err() if ctx ends first.
func (s *Service) Shutdown(ctx context.Context) error {
	s.stopOnce.Do(func() {
		s.gate.Lock()
		s.stopped = true
		s.gate.Unlock()
		close(s.stopping)
	})
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.cancel()
		<-done
		return ctx.Err()
	}
}

func (s *Service) unavailable() error {
	return parley.Errorf(parley.CodeUnavailable, ReasonShuttingDown, "the server is shutting down")
}

// convInfo is the cached membership of a conversation.
type convInfo struct {
	kind    parley.ConversationKind
	members []parley.Member // devices; FromSeq as of loading
	users   []parley.UserID // distinct member users
	// blocks, for direct conversations: blocked[i] reports whether users[i]
	// blocks the other user.
	blocks []bool
	// suspended, for direct conversations: suspended[i] reports whether
	// the operator suspended users[i] (parley.User.SuspendedAt).
	suspended []bool
	loaded    time.Time
}

func (ci *convInfo) member(d parley.DeviceID) (parley.Member, bool) {
	for _, m := range ci.members {
		if m.Device == d {
			return m, true
		}
	}
	return parley.Member{}, false
}

func (ci *convInfo) hasUser(u parley.UserID) bool {
	for _, x := range ci.users {
		if x == u {
			return true
		}
	}
	return false
}

// devicesExcept lists member devices except one.
func (ci *convInfo) devicesExcept(d parley.DeviceID) []parley.DeviceID {
	out := make([]parley.DeviceID, 0, len(ci.members))
	for _, m := range ci.members {
		if m.Device != d {
			out = append(out, m.Device)
		}
	}
	return out
}

// devicesOfOthers lists member devices of users other than u.
func (ci *convInfo) devicesOfOthers(u parley.UserID) []parley.DeviceID {
	out := make([]parley.DeviceID, 0, len(ci.members))
	for _, m := range ci.members {
		if m.User != u {
			out = append(out, m.Device)
		}
	}
	return out
}

// conv returns the cached membership of a conversation, loading it when
// missing or older than the TTL. CodeNotFound if the conversation does not exist.
func (s *Service) conv(ctx context.Context, id parley.ConversationID) (*convInfo, error) {
	now := s.clock.Now()
	s.cacheMu.Lock()
	ci := s.cache[id]
	s.cacheMu.Unlock()
	if ci != nil && now.Sub(ci.loaded) < s.cfg.MemberCacheTTL && now.Sub(ci.loaded) >= 0 {
		return ci, nil
	}
	c, err := s.store.Conversation(ctx, id)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	members, err := s.store.Members(ctx, id)
	s.latency.membership.Since(start)
	if err != nil {
		return nil, err
	}
	ci = &convInfo{kind: c.Kind, members: members, loaded: now}
	for _, m := range members {
		if !ci.hasUser(m.User) {
			ci.users = append(ci.users, m.User)
		}
	}
	// A direct conversation's users stay its users while they have no
	// device in it (re-registration): they may rejoin by external commit.
	for _, u := range c.DirectUsers {
		if u != 0 && !ci.hasUser(u) {
			ci.users = append(ci.users, u)
		}
	}
	if c.Kind == parley.KindDirect && len(ci.users) == 2 {
		ci.blocks = make([]bool, 2)
		for i := range 2 {
			b, err := s.store.IsBlocked(ctx, ci.users[i], ci.users[1-i])
			if err != nil {
				return nil, err
			}
			ci.blocks[i] = b
		}
		ci.suspended = make([]bool, 2)
		for i, id := range ci.users {
			u, err := s.store.User(ctx, id)
			if err != nil && !parley.IsCode(err, parley.CodeNotFound) {
				return nil, err
			}
			ci.suspended[i] = !u.SuspendedAt.IsZero()
		}
	}
	s.cacheMu.Lock()
	if len(s.cache) > 200_000 {
		clear(s.cache)
	}
	s.cache[id] = ci
	s.cacheMu.Unlock()
	return ci, nil
}

// invalidate drops cached memberships, here and (through a broker that
// announces changes) on the other nodes of a cluster.
func (s *Service) invalidate(ids ...parley.ConversationID) {
	s.dropCached(ids)
	if ca, ok := s.broker.(parley.ChangeAnnouncer); ok && len(ids) > 0 {
		ca.AnnounceChanged(ids)
	}
}

// dropCached drops cached memberships of this node.
func (s *Service) dropCached(ids []parley.ConversationID) {
	s.cacheMu.Lock()
	for _, id := range ids {
		delete(s.cache, id)
	}
	s.cacheMu.Unlock()
}

// BlocksChanged must be called after a user blocks or unblocks another, so
// the direct conversation between them sees the change at once.
func (s *Service) BlocksChanged(ctx context.Context, a, b parley.UserID) {
	id, err := s.store.DirectConversation(ctx, a, b)
	if err == nil {
		s.invalidate(id)
	}
}

// SuspensionChanged must be called after the operator suspends or
// unsuspends a user, so sends to the user's direct conversations see the
// change at once.
func (s *Service) SuspensionChanged(ctx context.Context, user parley.UserID) {
	convs, err := s.store.ConversationsOfUser(ctx, user)
	if err != nil {
		s.log.Warn("suspension changed: conversations", "user", user, "err", err)
		return
	}
	var ids []parley.ConversationID
	for _, c := range convs {
		if c.Kind == parley.KindDirect {
			ids = append(ids, c.ID)
		}
	}
	s.invalidate(ids...)
}

// checkSuspended refuses a send to a direct conversation whose other user
// is suspended.
func (ci *convInfo) checkSuspended(sender parley.UserID) error {
	for i, u := range ci.users {
		if u != sender && i < len(ci.suspended) && ci.suspended[i] {
			return parley.Errorf(parley.CodeForbidden, ReasonRecipientSuspended, "this account has been suspended; it cannot receive messages")
		}
	}
	return nil
}

// checkBlocked refuses a direct-conversation action between sender and the
// other member when either blocks the other.
func (ci *convInfo) checkBlocked(sender parley.UserID) error {
	if ci.kind != parley.KindDirect || len(ci.blocks) != 2 {
		return nil
	}
	for i, u := range ci.users {
		if !ci.blocks[i] {
			continue
		}
		if u == sender {
			return parley.Errorf(parley.CodeBlocked, parley.ReasonBlockedByYou, "you have blocked this user; unblock them to send")
		}
		return parley.Errorf(parley.CodeBlocked, parley.ReasonBlocked, "this user has blocked you")
	}
	return nil
}

// requireMember returns the conversation's membership if dev is a member.
func (s *Service) requireMember(ctx context.Context, id parley.ConversationID, dev parley.DeviceID) (*convInfo, parley.Member, error) {
	if !id.Valid() {
		return nil, parley.Member{}, parley.Errorf(parley.CodeInvalid, parley.ReasonConversationID, "invalid conversation id")
	}
	ci, err := s.conv(ctx, id)
	if err != nil {
		if parley.IsCode(err, parley.CodeNotFound) {
			return nil, parley.Member{}, parley.Errorf(parley.CodeNotFound, parley.ReasonConversationNotFound, "no such conversation")
		}
		return nil, parley.Member{}, err
	}
	m, ok := ci.member(dev)
	if !ok {
		return nil, parley.Member{}, parley.Errorf(parley.CodeForbidden, parley.ReasonNotMember, "this device is not a member of the conversation")
	}
	return ci, m, nil
}

func (s *Service) publish(devices []parley.DeviceID, ev parley.Event) {
	if len(devices) == 0 {
		return
	}
	if err := s.broker.Publish(s.ctx, devices, ev); err != nil && !errors.Is(err, context.Canceled) {
		s.log.Warn("publish", "conversation", ev.Conversation, "kind", ev.Kind, "err", err)
	}
}

// Run is the retention pruner: it deletes expired and fully acknowledged
// envelopes every PruneInterval (never with a negative PruneInterval) until
// ctx ends, then returns nil. The server runs it with its other background
// services and stops it before Shutdown.
func (s *Service) Run(ctx context.Context) error {
	if s.cfg.PruneInterval < 0 {
		<-ctx.Done()
		return nil
	}
	t := time.NewTicker(s.cfg.PruneInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			n, err := s.PruneNow(ctx)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Error("prune logs", "err", err)
				}
				continue
			}
			if n > 0 {
				s.log.Info("pruned envelopes", "count", n)
			}
		}
	}
}

// PruneNow deletes expired and fully acknowledged envelopes at once (the
// Run does it every PruneInterval) and returns how many were deleted.
func (s *Service) PruneNow(ctx context.Context) (int, error) {
	n, err := s.store.Prune(ctx, s.clock.Now().Add(-s.cfg.Retention))
	if err != nil {
		return 0, err
	}
	s.stats.pruned.Add(uint64(n))
	return n, nil
}
