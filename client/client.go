package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/apiclient"
	"github.com/parleyhq/parley/client/biz"
	"github.com/parleyhq/parley/client/broadcast"
	"github.com/parleyhq/parley/client/calls"
	"github.com/parleyhq/parley/client/conn"
	"github.com/parleyhq/parley/client/files"
	"github.com/parleyhq/parley/client/groups"
	"github.com/parleyhq/parley/client/profile"
	"github.com/parleyhq/parley/mls"
	"github.com/parleyhq/parley/proto/parleypb"
)

// Config configures a Client.
type Config struct {
	// Dir is the profile directory holding the local store. Required unless
	// Store is set.
	Dir string
	// Store overrides the local store (the browser supplies its own).
	Store LocalStore
	// ServerURL is the server to use for a new profile (http://host:port);
	// a registered profile always uses the server it registered with.
	ServerURL string
	// DeviceName names this device when it registers or links.
	DeviceName string
	// ClientName is sent in Hello, e.g. "parley-cli/0.1".
	ClientName string
	// Events, when set, delivers events from the moment Open returns (not
	// only after the first call to Client.Events), so none is missed.
	Events bool
	// UploadChunk, when > 0, sends attachment uploads in requests of at
	// most this many bytes (the browser buffers each request whole).
	UploadChunk int64
	Logger      *slog.Logger
	Clock       parley.Clock
	// InlineTreeMembers is the largest group whose Welcome and GroupInfo
	// carry the MLS ratchet tree; this device commits to larger groups
	// with the tree out of band (trees.go). Default
	// DefaultInlineTreeMembers (64).
	InlineTreeMembers int
	// CipherSuite is the MLS cipher suite of this device's KeyPackages and
	// of the conversations it creates; zero means CipherSuite.
	// Groups keep the suite they were created with, whatever this says
	// later. The server does not tell suites apart when it hands out
	// KeyPackages, so every device of a deployment must use the same one.
	CipherSuite mls.CipherSuite
	// MaxAddsPerCommit, when positive, bounds the devices one commit adds
	// (tests use it to force batches); by default a commit adds as many as
	// fit one frame.
	MaxAddsPerCommit int
	// MaxInlineCommitBytes, when positive, is the largest commit sent in
	// its frame (at most the server's payload limit, the default); larger
	// ones (removals and external joins in large groups whose members have
	// not committed yet) go out of band like trees (trees.go).
	MaxInlineCommitBytes int
}

// EventKind says what an Event reports.
type EventKind string

// The event kinds.
const (
	EventMessage      EventKind = "message"      // a message was received (or sent by another of my devices)
	EventReceipt      EventKind = "receipt"      // a device received, or a user read, a chat up to a seq
	EventTyping       EventKind = "typing"       // a member started or stopped typing
	EventPresence     EventKind = "presence"     // a user came online or went offline
	EventConversation EventKind = "conversation" // a chat was created, joined or its membership changed
	EventConnection   EventKind = "connection"   // the session to the server came up or went down
	// EventExtras: another device reacted to, edited, deleted or voted on
	// message Target of a chat (read it with Extras).
	EventExtras EventKind = "extras"
	// EventCommitRefused: this device refused a commit of the chat whose
	// sender was not allowed to make it (Err says why); it stays in its
	// epoch and rejoins the group as the server has it (commit_rules.go).
	EventCommitRefused EventKind = "commit_refused"
)

// Event is one notification from the client. Exactly the field matching
// Kind is set (Conversation is set for message, receipt, typing and
// conversation events).
type Event struct {
	Kind         EventKind
	Conversation parley.ConversationID
	Message      *MessageRecord
	Receipt      *Receipt
	Typing       *Typing
	Presence     *Presence
	Target       parley.Seq // for EventExtras: the message whose extras changed
	Connected    bool       // for EventConnection
	Err          error      // for EventConnection: why the session ended; for EventCommitRefused: why it was refused
}

// Receipt reports that a device received, or a user read, a chat up to Seq.
// Updated lists this user's outgoing messages whose status it raised.
type Receipt struct {
	Kind    parley.ReceiptKind
	User    parley.UserID
	Device  parley.DeviceID
	Seq     parley.Seq
	At      time.Time
	Updated []MessageRecord
}

// Typing reports a member typing in a chat.
type Typing struct {
	User   parley.UserID
	Typing bool
}

// Presence reports a user's presence.
type Presence struct {
	User     parley.UserID
	Online   bool
	LastSeen time.Time // zero when hidden
}

// Client is one device's connection to Parley. It is safe for concurrent
// use. Close it to stop its goroutines.
type Client struct {
	// Business is the client side of business accounts (package biz):
	// profile, catalog, quick replies, labels, orders, greeting and away
	// messages. Its methods are the Client's (c.PutProduct, c.SendOrder,
	// c.BusinessAutoReply, …).
	*biz.Business
	// Files sends and fetches files and other media messages (package
	// files); its methods are the Client's (c.SendFile, c.SendMedia,
	// c.Forward, c.DownloadMedia, …).
	*files.Files
	// Access is how people get into groups beyond being added (package
	// groups): invite links, join requests, communities; its methods are
	// the Client's (c.CreateInviteLink, c.JoinByLink, c.CreateCommunity, …).
	*groups.Access
	// Lists are broadcast lists (package broadcast); its methods are the
	// Client's (c.CreateBroadcast, c.SendBroadcast, …).
	*broadcast.Lists
	// Calls are voice and video calls and their log (package calls).
	*calls.Calls
	// Profiles are names, "about" lines and profile photos (package profile).
	Profiles *profile.Profiles

	cfg   Config
	log   *slog.Logger
	clock parley.Clock
	store LocalStore
	eng   engine

	mu        sync.Mutex
	acct      Account
	skipped   []SkippedChat // conversations the last join pass could not join (link.go)
	sess      *conn.Session
	sessReady chan struct{} // closed when sess becomes non-nil
	fatal     error         // set when the server refused our credentials or another copy of this device took over
	started   bool
	closing   bool // set by Close: no new afterAuth runs (maint.Add must not race maint.Wait)
	// everConnected is set by the first session; until then, connErr and
	// connFailed report that the server could not be reached at all.
	everConnected bool
	connErr       error
	connFailed    chan struct{}

	ctx    context.Context // lives until Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	maint  sync.WaitGroup // afterAuth runs, waited for (briefly) by Close

	inbox conn.PushQueue
	evq   struct {
		mu     sync.Mutex
		items  []Event
		signal chan struct{}
	}
	busy    atomic.Bool // the processor is handling a frame
	events  chan Event
	eventOn atomic.Bool

	// cryptoMu serialises every change to MLS state: processing incoming
	// envelopes, sending and committing.
	cryptoMu sync.Mutex
	groups   map[parley.ConversationID]group
	// rules caches the group details commit rules are checked against
	// (commit_rules.go); guarded by cryptoMu like groups.
	rules map[parley.ConversationID]*Group

	// kpMu serialises KeyPackage uploads; kpStock is the one-time stock the
	// server reported after our last upload, at kpAt.
	kpMu    sync.Mutex
	kpStock int
	kpAt    time.Time

	keysMu sync.Mutex
	keys   map[parley.UserID]deviceKeys

	// resyncAt is when each conversation was last rejoined after its
	// state broke (resync.go); guarded by mu.
	resyncAt map[parley.ConversationID]time.Time

	progress chan struct{} // closed and replaced whenever a push is handled

	unlock    func() // releases the profile lock
	closeOnce sync.Once
	closeErr  error
}

// Dir returns the profile directory.
func (c *Client) Dir() string { return c.cfg.Dir }

type deviceKeys struct {
	at   time.Time
	keys []DeviceKey
}

// failFastAttempts is how many failed connection attempts, before any
// success, make requests fail at once with CodeUnavailable.
const failFastAttempts = 3

// closeGrace bounds how long Close waits for session upkeep to finish.
const closeGrace = 5 * time.Second

// Open opens the profile in cfg.Dir and, when it is registered, starts
// connecting to its server in the background.
func Open(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = parley.SystemClock{}
	}
	if cfg.ClientName == "" {
		cfg.ClientName = "parley-go/0.1"
	}
	if cfg.DeviceName == "" {
		cfg.DeviceName = "parley-go"
	}
	st := cfg.Store
	unlock := func() {}
	if st == nil {
		if cfg.Dir == "" {
			return nil, parley.Errorf(parley.CodeInvalid, ReasonNoProfile, "no profile directory given")
		}
		var err error
		if unlock, err = lockProfile(cfg.Dir); err != nil {
			return nil, err
		}
		if st, err = openDefaultStore(ctx, cfg.Dir); err != nil {
			unlock()
			return nil, err
		}
	}
	acct, err := st.Account(ctx)
	if err != nil && !parley.IsCode(err, parley.CodeNotFound) {
		st.Close()
		unlock()
		return nil, err
	}
	c := &Client{
		cfg: cfg, log: cfg.Logger, clock: cfg.Clock, store: st, eng: newEngine(cfg.CipherSuite),
		acct: acct, sessReady: make(chan struct{}), unlock: unlock, connFailed: make(chan struct{}),
		events: make(chan Event, 64), groups: map[parley.ConversationID]group{}, rules: map[parley.ConversationID]*Group{},
		keys: map[parley.UserID]deviceKeys{}, progress: make(chan struct{}),
	}
	c.Business = biz.New(bizCore{c})
	c.Files = files.New(filesCore{c})
	c.Access = groups.New(groupsCore{c})
	c.Lists = broadcast.New(broadcastCore{bizCore{c}})
	c.Calls = calls.New(bizCore{c})
	c.Profiles = profile.New(groupsCore{c})
	c.inbox.Init()
	c.eventOn.Store(cfg.Events)
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.evq.signal = make(chan struct{}, 1)
	c.wg.Add(2)
	go c.processLoop()
	go c.forwardEvents()
	if acct.Registered() {
		c.start()
	}
	return c, nil
}

// Close disconnects and releases the profile. Envelopes received but not yet
// processed are left for the server to deliver again.
func (c *Client) Close() error {
	c.closeOnce.Do(func() { c.closeErr = c.close() })
	return c.closeErr
}

func (c *Client) close() error {
	// Let session upkeep (KeyPackage top-up, resending pending messages)
	// finish, so a short-lived client still leaves the server stocked.
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	done := make(chan struct{})
	go func() {
		c.maint.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(closeGrace):
	}
	c.Calls.Close() // the media of a call still going on
	c.cancel()
	c.mu.Lock()
	if c.sess != nil {
		c.sess.Close()
	}
	c.mu.Unlock()
	c.inbox.Close()
	c.wg.Wait()
	err := c.store.Close()
	c.unlock()
	return err
}

// Account returns this device's account (zero before registration).
func (c *Client) Account() Account {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.acct
}

// Events returns the event stream. Events are delivered only once Events
// has been called (or from Open with Config.Events). Nothing inside the
// client ever waits for the reader: events queue up until read, so a
// subscriber should keep reading until Close. Calling client methods (Send,
// MarkRead…) from the reading goroutine is safe. The channel is never
// closed.
func (c *Client) Events() <-chan Event {
	c.eventOn.Store(true)
	return c.events
}

func (c *Client) emit(ev Event) {
	if !c.eventOn.Load() {
		return
	}
	c.evq.mu.Lock()
	c.evq.items = append(c.evq.items, ev)
	c.evq.mu.Unlock()
	select {
	case c.evq.signal <- struct{}{}:
	default:
	}
}

// forwardEvents moves queued events to the events channel, in order.
func (c *Client) forwardEvents() {
	defer c.wg.Done()
	for {
		c.evq.mu.Lock()
		var ev Event
		ok := len(c.evq.items) > 0
		if ok {
			ev = c.evq.items[0]
			c.evq.items[0] = Event{}
			c.evq.items = c.evq.items[1:]
		}
		c.evq.mu.Unlock()
		if !ok {
			select {
			case <-c.evq.signal:
				continue
			case <-c.ctx.Done():
				return
			}
		}
		select {
		case c.events <- ev:
		case <-c.ctx.Done():
			return
		}
	}
}

// start starts the connection loop once a server URL is known.
func (c *Client) start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started {
		return
	}
	c.started = true
	c.wg.Add(1)
	go c.run()
}

// run keeps a session open until Close, reconnecting with backoff.
func (c *Client) run() {
	defer c.wg.Done()
	for attempt := 0; c.ctx.Err() == nil; {
		acct := c.Account()
		s, err := c.connect(acct)
		if err != nil {
			if c.ctx.Err() != nil {
				return
			}
			if acct.Registered() && parley.IsCode(err, parley.CodeUnauthenticated) {
				c.mu.Lock()
				c.fatal = err
				close(c.sessReady) // wake waiters so they see fatal
				c.mu.Unlock()
				c.log.Warn("server refused this device's credentials", "err", err)
				c.emit(Event{Kind: EventConnection, Err: err})
				return
			}
			d := conn.Backoff(attempt)
			attempt++
			c.mu.Lock()
			if !c.everConnected && attempt >= failFastAttempts && c.connErr == nil {
				// Never reached the server since Open: tell waiting
				// requests now instead of at their deadline.
				c.connErr = err
				close(c.connFailed)
			}
			c.mu.Unlock()
			c.log.Debug("connect failed", "err", err, "retry_in", d)
			select {
			case <-time.After(d):
			case <-c.ctx.Done():
				return
			}
			continue
		}
		attempt = 0
		c.mu.Lock()
		c.everConnected = true
		c.sess = s
		close(c.sessReady)
		c.mu.Unlock()
		c.log.Debug("connected", "authenticated", s.Authed != nil)
		c.emit(Event{Kind: EventConnection, Connected: true})
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			s.Heartbeat(c.clock)
		}()
		c.mu.Lock()
		if s.Authed != nil && !c.closing {
			c.wg.Add(1)
			c.maint.Add(1)
			go func() {
				defer c.wg.Done()
				defer c.maint.Done()
				c.afterAuth(s)
			}()
		}
		c.mu.Unlock()
		<-s.Context().Done()
		c.mu.Lock()
		if c.sess == s {
			c.sess = nil
			c.sessReady = make(chan struct{})
		}
		c.mu.Unlock()
		cause := context.Cause(s.Context())
		c.log.Debug("disconnected", "cause", cause)
		if parley.ErrorReason(cause) == ReasonSessionReplaced {
			// Another copy of this device took over: stop, rather than
			// take the session back and start a replacing loop.
			c.mu.Lock()
			c.fatal = cause
			close(c.sessReady) // wake waiters so they see fatal
			c.mu.Unlock()
			c.log.Warn("this device connected again elsewhere; not reconnecting")
			c.emit(Event{Kind: EventConnection, Err: cause})
			return
		}
		c.emit(Event{Kind: EventConnection, Err: cause})
	}
}

// connect dials and handshakes one session.
func (c *Client) connect(acct Account) (*conn.Session, error) {
	server := acct.ServerURL
	if server == "" {
		server = c.cfg.ServerURL
	}
	s, err := conn.Dial(c.ctx, server)
	if err != nil {
		return nil, err
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		s.ReadLoop(c.inbox.Push)
	}()
	if err := s.Handshake(c.ctx, acct, c.cfg.ClientName); err != nil {
		s.Close()
		return nil, err
	}
	if acct.Registered() && s.Authed == nil {
		s.Close()
		return nil, parley.Errorf(parley.CodeUnavailable, ReasonNotAuthenticated, "session not authenticated")
	}
	if cur := c.Account(); cur.Registered() != acct.Registered() {
		// The account changed while connecting (verify or link finished).
		s.Close()
		return nil, parley.Errorf(parley.CodeUnavailable, ReasonAccountChanged, "account changed")
	}
	return s, nil
}

// reconnect drops the current session so the next one uses new credentials.
func (c *Client) reconnect() {
	c.mu.Lock()
	s := c.sess
	c.mu.Unlock()
	if s != nil {
		s.Close()
	}
}

// session waits for an open session; authed requires an authenticated one.
func (c *Client) session(ctx context.Context, authed bool) (*conn.Session, error) {
	for {
		c.mu.Lock()
		s, ready, fatal, connErr := c.sess, c.sessReady, c.fatal, c.connErr
		everConnected := c.everConnected
		c.mu.Unlock()
		if fatal != nil {
			return nil, fatal
		}
		if connErr != nil && !everConnected {
			return nil, connErr
		}
		if s != nil && s.Context().Err() == nil && (!authed || s.Authed != nil) {
			return s, nil
		}
		if s != nil && s.Context().Err() == nil && authed {
			return nil, parley.Errorf(parley.CodeUnauthenticated, apiclient.ReasonNotRegistered, "this profile is not registered: run account register and verify, or device add")
		}
		select {
		case <-c.connFailed:
		case <-ready:
			if s != nil {
				// The ready channel belonged to a session that just ended;
				// the connection loop is about to replace it.
				time.Sleep(5 * time.Millisecond)
			}
		case <-ctx.Done():
			return nil, &parley.Error{Code: parley.CodeUnavailable, Reason: ReasonNoConnection, Message: "not connected to the server", Err: ctx.Err()}
		case <-c.ctx.Done():
			return nil, parley.Errorf(parley.CodeUnavailable, ReasonClosed, "client closed")
		}
	}
}

// request sends a request on an authenticated session, retrying once on a
// lost connection when retry is set (only for idempotent requests).
func (c *Client) request(ctx context.Context, body *parleypb.ClientFrame, retry bool) (*parleypb.ServerFrame, error) {
	return c.requestAs(ctx, body, true, retry)
}

func (c *Client) requestAs(ctx context.Context, body *parleypb.ClientFrame, authed, retry bool) (*parleypb.ServerFrame, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, conn.DefaultRequestTimeout)
		defer cancel()
	}
	for attempt := 0; ; attempt++ {
		s, err := c.session(ctx, authed)
		if err != nil {
			return nil, err
		}
		f, err := s.Request(ctx, body)
		if err == nil {
			return f, nil
		}
		if !retry || attempt >= 5 || ctx.Err() != nil || !isConnectionLost(err) {
			return nil, err
		}
		body.Id = 0
	}
}

func isConnectionLost(err error) bool {
	var pe *parley.Error
	return errors.As(err, &pe) && pe.Code == parley.CodeUnavailable && (pe.Reason == conn.ReasonConnectionLost || pe.Reason == conn.ReasonGoAway)
}

func (c *Client) markProgress() {
	c.mu.Lock()
	close(c.progress)
	c.progress = make(chan struct{})
	c.mu.Unlock()
}

func errorf(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", op, err)
}
