package hosted

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/cloudapi"
	"github.com/parleyhq/parley/outbound"
)

// API is what the manager reports to: the business API service.
type API interface {
	HandleInbound(ctx context.Context, in cloudapi.Inbound) error
	HandleStatus(ctx context.Context, st cloudapi.Status) error
}

// ContactNoter is an optional capability of API: it hears of the messages
// the business sends a customer from its other devices (its phone, the
// CLI), so that they count, as the endpoint's own sends do, as having
// messaged the customer (the quality rules count only customers the
// business messaged recently).
type ContactNoter interface {
	NoteContact(ctx context.Context, business, customer parley.UserID, at time.Time)
}

// MediaRegistry records media files the endpoint keeps for inbound
// messages, so the API can serve them by id.
type MediaRegistry interface {
	PutAPIMedia(ctx context.Context, m parley.APIMedia) error
}

// Config configures a Manager.
type Config struct {
	// Dir holds one folder per hosted endpoint.
	Dir string
	// Key is the operator's 32-byte key sealing the endpoints' state.
	Key []byte
	// Numbers lists the numbers whose endpoints Start resumes.
	Numbers interface {
		APINumbers(ctx context.Context) ([]parley.APINumber, error)
	}
	API   API
	Media MediaRegistry
	// MaxLinkBytes bounds files fetched from a media link (default 100 MiB).
	MaxLinkBytes int64
	// Outbound is the policy of media link fetches (package outbound: links
	// to loopback, private, link-local and other internal addresses are
	// refused unless the operator allowed their range, on every redirect;
	// a fetch takes at most 2 minutes, with no pause over 15 s). Its Log
	// defaults to Log.
	Outbound outbound.Policy
	// Retention is the server's retention of undelivered envelopes (720 h
	// by default): a message no customer device received within it (plus
	// an hour) gets a failed status (status.go).
	Retention time.Duration
	// SweepInterval is how often undelivered messages are looked for
	// (hourly by default; also at every start).
	SweepInterval time.Duration
	Clock         parley.Clock
	Log           *slog.Logger
	// Leases, when set, makes the endpoints of a cluster exclusive: this
	// manager runs a business's endpoint only while NodeID holds the lease
	// "hosted/<business>" in Leases (lease.go). nil: every endpoint of the
	// store runs here (one node).
	Leases parley.LeaseStore
	// NodeID names this node in the leases (required with Leases); NodeAddr
	// is its address, kept in the lease for the others' refusals.
	NodeID, NodeAddr string
	// LeaseTTL is how long a lease lasts unrenewed (default 15 s); it is
	// renewed every third of it.
	LeaseTTL time.Duration
	// State, when set, keeps the endpoints' state (client store, handled
	// marks, sent watermark) sealed in the server's store (statekv.go), so
	// that any node holding a business's lease can run its endpoint; Dir
	// then holds only media kept for the API and temporary files. An
	// endpoint attached before, whose state is in Dir's files, keeps
	// running from them. nil: the state is in Dir.
	State parley.HostedStateStore
	// Relay, with Leases, forwards the business API requests that reach
	// this node to the node running the endpoint (forward.go), and serves
	// those the other nodes forward here. nil: such requests are refused
	// with ReasonEndpointElsewhere.
	Relay parley.Relay
}

// Manager runs the hosted endpoints. It implements cloudapi.Endpoint.
type Manager struct {
	cfg   Config
	log   *slog.Logger
	links *outbound.Client // fetches media links

	mu        sync.Mutex
	serverURL string
	endpoints map[parley.UserID]*endpoint
	others    map[parley.UserID]parley.Lease // leases other nodes hold (lease.go)
	stopRelay func()                         // stops serving forwarded requests
	shutDown  bool                           // Shutdown ran: open makes no more endpoints
	leaseMu   sync.Mutex                     // serializes leaseOne
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

var _ cloudapi.Endpoint = (*Manager)(nil)

// New returns a Manager; Start runs the endpoints.
func New(cfg Config) (*Manager, error) {
	if len(cfg.Key) != 32 {
		return nil, errors.New("hosted: the operator key must be 32 bytes")
	}
	if cfg.Dir == "" {
		return nil, errors.New("hosted: a directory is required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = parley.SystemClock{}
	}
	if cfg.Retention <= 0 {
		cfg.Retention = 720 * time.Hour
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = time.Hour
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 15 * time.Second
	}
	if cfg.Leases != nil && cfg.NodeID == "" {
		return nil, errors.New("hosted: leases need a node id")
	}
	if cfg.MaxLinkBytes <= 0 {
		cfg.MaxLinkBytes = 100 << 20
	}
	if cfg.Outbound.Log == nil {
		cfg.Outbound.Log = cfg.Log
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("hosted: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	links := outbound.New("media link", cfg.Outbound, outbound.Limits{Total: 2 * time.Minute, Idle: 15 * time.Second, MaxBody: cfg.MaxLinkBytes}, nil)
	return &Manager{cfg: cfg, log: cfg.Log, links: links, endpoints: map[parley.UserID]*endpoint{}, others: map[parley.UserID]parley.Lease{}, ctx: ctx, cancel: cancel}, nil
}

// Start resumes the endpoint of every number with one, connecting to the
// server at serverURL (this server's own address).
func (m *Manager) Start(ctx context.Context, serverURL string) error {
	m.mu.Lock()
	m.serverURL = serverURL
	m.mu.Unlock()
	if m.cfg.Numbers == nil {
		return nil
	}
	if m.cfg.Leases != nil {
		return m.startLeased(ctx)
	}
	nums, err := m.cfg.Numbers.APINumbers(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range nums {
		if n.HostedDevice == 0 {
			continue
		}
		ep, err := m.open(ctx, n.Business, false)
		if err == nil {
			err = ep.index(ctx)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("hosted endpoint of %s: %w", n.Business, err))
			continue
		}
		m.run(ep)
	}
	return errors.Join(errs...)
}

// Shutdown stops every endpoint.
func (m *Manager) Shutdown(ctx context.Context) error {
	m.mu.Lock()
	m.shutDown = true
	eps := m.endpoints
	m.endpoints = map[parley.UserID]*endpoint{}
	stopRelay := m.stopRelay
	m.stopRelay = nil
	m.mu.Unlock()
	if stopRelay != nil {
		stopRelay()
	}
	m.cancel()
	defer m.links.CloseIdleConnections()
	var errs []error
	for _, ep := range eps {
		if err := ep.c.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	// Wait for the lease loop to end before releasing, so that it renews
	// nothing after.
	done := make(chan struct{})
	go func() { m.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, ctx.Err())
	}
	if m.cfg.Leases != nil {
		for b := range eps {
			if err := m.cfg.Leases.ReleaseLease(ctx, leaseName(b), m.cfg.NodeID); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func (m *Manager) dir(business parley.UserID) string {
	return filepath.Join(m.cfg.Dir, strconv.FormatInt(int64(business), 10))
}

// open opens (and with create, makes) the endpoint of business and starts
// its event loop.
func (m *Manager) open(ctx context.Context, business parley.UserID, create bool) (*endpoint, error) {
	m.mu.Lock()
	if ep, ok := m.endpoints[business]; ok {
		m.mu.Unlock()
		return ep, nil
	}
	serverURL := m.serverURL
	m.mu.Unlock()
	if serverURL == "" {
		return nil, parley.Errorf(parley.CodeUnavailable, ReasonHostedNotStarted, "the hosted endpoints are not started")
	}
	dir := m.dir(business)
	if create {
		if err := os.RemoveAll(dir); err != nil {
			return nil, err
		}
		if m.cfg.State != nil {
			if err := m.cfg.State.DeleteHostedState(ctx, business); err != nil {
				return nil, err
			}
		}
	}
	var kept *stateKV
	if m.cfg.State != nil {
		var fence func() (string, string)
		if m.cfg.Leases != nil {
			fence = func() (string, string) { return leaseName(business), m.cfg.NodeID }
		}
		kv, err := newStateKV(m.cfg.State, business, m.cfg.Key, fence, m.cfg.Clock.Now)
		if err != nil {
			return nil, err
		}
		if !create {
			if err := kv.read(ctx); err != nil {
				return nil, fmt.Errorf("reading the endpoint state: %w", err)
			}
		}
		kept = kv
		if !create && !kv.hasAccount() {
			kept = nil // attached before the state moved to the store: its files
		}
	}
	if kept == nil && !create {
		if _, err := os.Stat(filepath.Join(dir, "client.db")); err != nil {
			return nil, fmt.Errorf("no endpoint state: %w", err)
		}
		if m.cfg.State != nil {
			m.log.Warn("hosted endpoint runs from its files in the data directory, not from the store: another node cannot take it over (attach it again to move it)", "business", business)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "media"), 0o700); err != nil {
		return nil, err
	}
	var st client.LocalStore
	var err error
	if kept != nil {
		st, err = client.OpenKVStore(ctx, kept)
	} else {
		st, err = client.OpenSealedSQLiteStore(ctx, filepath.Join(dir, "client.db"), m.cfg.Key)
	}
	if err != nil {
		return nil, err
	}
	// The endpoint reaches this server at its current address (a restart
	// may have moved it).
	if a, err := st.Account(ctx); err == nil && a.Registered() && a.ServerURL != serverURL {
		a.ServerURL = serverURL
		if err := st.PutAccount(ctx, a); err != nil {
			st.Close()
			return nil, err
		}
	} else if err != nil && !parley.IsCode(err, parley.CodeNotFound) {
		st.Close()
		return nil, err
	}
	c, err := client.Open(ctx, client.Config{Dir: dir, Store: st, ServerURL: serverURL, DeviceName: "Business API (hosted)",
		ClientName: "parley-hosted/0.1", Events: true, Logger: m.log.With("business", business), Clock: m.cfg.Clock})
	if err != nil {
		st.Close()
		return nil, err
	}
	ep := &endpoint{m: m, business: business, c: c, dir: dir, kept: kept, chats: map[parley.UserID]parley.ConversationID{}, peers: map[parley.ConversationID]parley.UserID{},
		opened: m.cfg.Clock.Now(), recovered: make(chan bool, 1),
		sends: sendTracker{inflight: map[uint64]time.Time{}, perCust: map[parley.UserID]int{}, deferred: map[parley.UserID][]cloudapi.Status{}}}
	if err := ep.loadHandled(); err != nil {
		_ = c.Close()
		return nil, err
	}
	m.mu.Lock()
	if m.shutDown { // Shutdown ran while this opened: it would never close it
		m.mu.Unlock()
		_ = c.Close()
		return nil, parley.Errorf(parley.CodeUnavailable, ReasonHostedNotStarted, "the hosted endpoints are shut down")
	}
	if old, ok := m.endpoints[business]; ok {
		m.mu.Unlock()
		_ = c.Close()
		return old, nil
	}
	m.endpoints[business] = ep
	m.mu.Unlock()
	return ep, nil
}

func (m *Manager) run(ep *endpoint) {
	ctx, cancel := context.WithCancel(m.ctx)
	ep.mu.Lock()
	ep.stop = cancel
	ep.mu.Unlock()
	m.wg.Add(2)
	go func() {
		defer m.wg.Done()
		ep.loop(ctx)
	}()
	go func() {
		defer m.wg.Done()
		ep.statusLoop(ctx, ep.recovered)
	}()
}

// Attach links a new hosted endpoint to business with the owner's link
// code. The code must be of business's account (CodeForbidden otherwise).
func (m *Manager) Attach(ctx context.Context, business parley.UserID, linkCode string) (parley.DeviceID, error) {
	m.mu.Lock()
	_, running := m.endpoints[business]
	serverURL := m.serverURL
	m.mu.Unlock()
	if running {
		return 0, parley.Errorf(parley.CodeConflict, ReasonHostedExists, "this business already has a hosted endpoint")
	}
	if m.cfg.Leases != nil {
		l, err := m.cfg.Leases.AcquireLease(ctx, leaseName(business), m.cfg.NodeID, m.cfg.NodeAddr, m.cfg.LeaseTTL, m.cfg.Clock.Now())
		if err != nil {
			return 0, err
		}
		if l.Holder != m.cfg.NodeID {
			return 0, parley.Errorf(parley.CodeUnavailable, ReasonEndpointElsewhere, "the hosted endpoint of this number runs on another node (%s %s): send its requests there, or retry in %s", l.Holder, l.Addr, m.cfg.LeaseTTL)
		}
	}
	if strings.TrimSpace(linkCode) == "" {
		return 0, parley.Errorf(parley.CodeInvalid, ReasonNoLinkCode, "a link code is required (parley device link)")
	}
	ep, err := m.open(ctx, business, true)
	if err != nil {
		return 0, err
	}
	acct, err := ep.c.LinkDevice(ctx, serverURL, linkCode)
	if err == nil && acct.User != business {
		err = parley.Errorf(parley.CodeForbidden, ReasonOtherAccount, "the link code is of another account")
		if rerr := ep.c.RemoveDevice(ctx, acct.Device); rerr != nil {
			m.log.Warn("removing a wrongly linked hosted device", "err", rerr)
		}
	}
	if err != nil {
		m.mu.Lock()
		delete(m.endpoints, business)
		m.mu.Unlock()
		_ = ep.c.Close()
		_ = os.RemoveAll(ep.dir)
		return 0, err
	}
	for _, s := range ep.c.SkippedChats() {
		m.log.Warn("hosted endpoint skipped a chat it cannot join", "business", business, "conversation", s.Conversation, "err", s.Err)
	}
	m.run(ep)
	return acct.Device, nil
}

// Detach stops business's endpoint and deletes its state (after the owner
// removed its device, so that a new one can be attached).
func (m *Manager) Detach(ctx context.Context, business parley.UserID) error {
	m.mu.Lock()
	ep, ok := m.endpoints[business]
	delete(m.endpoints, business)
	m.mu.Unlock()
	if ok {
		ep.mu.Lock()
		stop := ep.stop
		ep.mu.Unlock()
		if stop != nil {
			stop()
		}
		_ = ep.c.Close()
		if ep.kept != nil {
			ep.kept.drain() // no commit lands after the delete below
		}
	}
	if m.cfg.State != nil {
		if err := m.cfg.State.DeleteHostedState(ctx, business); err != nil {
			return err
		}
	}
	if m.cfg.Leases != nil {
		if err := m.cfg.Leases.ReleaseLease(ctx, leaseName(business), m.cfg.NodeID); err != nil {
			return err
		}
	}
	return os.RemoveAll(m.dir(business))
}

func (m *Manager) endpoint(business parley.UserID) (*endpoint, error) {
	m.mu.Lock()
	ep, ok := m.endpoints[business]
	other, elsewhere := m.others[business]
	m.mu.Unlock()
	if !ok && elsewhere {
		return nil, parley.Errorf(parley.CodeUnavailable, ReasonEndpointElsewhere, "the hosted endpoint of this number runs on another node (%s %s): send its requests there, or retry in %s", other.Holder, other.Addr, m.cfg.LeaseTTL)
	}
	if !ok {
		return nil, parley.Errorf(parley.CodeUnavailable, ReasonNoEndpoint, "the hosted endpoint of this number is not running")
	}
	return ep, nil
}

// MessageID is the Cloud API id of message seq of conv: "wamid.CONV.SEQ".
func MessageID(conv parley.ConversationID, seq parley.Seq) string {
	return "wamid." + string(conv) + "." + strconv.FormatInt(int64(seq), 10)
}

// ParseMessageID reverses MessageID.
func ParseMessageID(id string) (parley.ConversationID, parley.Seq, error) {
	rest, ok := strings.CutPrefix(id, "wamid.")
	i := strings.LastIndexByte(rest, '.')
	if !ok || i < 0 {
		return "", 0, parley.Errorf(parley.CodeInvalid, parley.ReasonBadMessageID, "%q is not a message id of this server", id)
	}
	seq, err := strconv.ParseInt(rest[i+1:], 10, 64)
	conv := parley.ConversationID(rest[:i])
	if err != nil || seq <= 0 || !conv.Valid() {
		return "", 0, parley.Errorf(parley.CodeInvalid, parley.ReasonBadMessageID, "%q is not a message id of this server", id)
	}
	return conv, parley.Seq(seq), nil
}

// Send sends out through business's endpoint and returns its message id.
// In a cluster with a relay, a node not running the endpoint forwards it
// to the node that does (forward.go).
func (m *Manager) Send(ctx context.Context, business parley.UserID, out cloudapi.Outgoing) (string, error) {
	if _, err := m.leasedEndpoint(business); err != nil {
		if holder, ok := m.forwarding(business, err); ok {
			return m.forward(ctx, holder, fwdRequest{Op: opSend, Business: business, Out: &out}, err,
				func() (string, error) { return m.sendHere(ctx, business, out) })
		}
	}
	return m.sendHere(ctx, business, out)
}

// sendHere sends through the endpoint on this node.
func (m *Manager) sendHere(ctx context.Context, business parley.UserID, out cloudapi.Outgoing) (string, error) {
	ep, err := m.endpoint(business)
	if err != nil {
		return "", err
	}
	id, err := ep.sendAndReport(ctx, out)
	if parley.IsCode(err, parley.CodeUnauthenticated) {
		// Our device was removed: that is not the API caller's credentials.
		err = parley.Errorf(parley.CodeUnavailable, ReasonHostedRemoved, "the hosted endpoint's device was removed: enable the business API again")
	}
	return id, err
}

// MarkRead marks a received message read (forwarded as Send is).
func (m *Manager) MarkRead(ctx context.Context, business parley.UserID, messageID string) error {
	if _, err := m.leasedEndpoint(business); err != nil {
		if holder, ok := m.forwarding(business, err); ok {
			_, err := m.forward(ctx, holder, fwdRequest{Op: opRead, Business: business, MessageID: messageID}, err,
				func() (string, error) { return "", m.markReadHere(ctx, business, messageID) })
			return err
		}
	}
	return m.markReadHere(ctx, business, messageID)
}

func (m *Manager) markReadHere(ctx context.Context, business parley.UserID, messageID string) error {
	ep, err := m.endpoint(business)
	if err != nil {
		return err
	}
	conv, seq, err := ParseMessageID(messageID)
	if err != nil {
		return err
	}
	return ep.c.MarkReadUpTo(ctx, conv, seq)
}

// Typing shows the customer of the chat of a received message that the
// business is typing (typing.go; forwarded as Send is).
func (m *Manager) Typing(ctx context.Context, business parley.UserID, messageID string) error {
	if _, err := m.leasedEndpoint(business); err != nil {
		if holder, ok := m.forwarding(business, err); ok {
			_, err := m.forward(ctx, holder, fwdRequest{Op: opTyping, Business: business, MessageID: messageID}, err,
				func() (string, error) { return "", m.typingHere(ctx, business, messageID) })
			return err
		}
	}
	return m.typingHere(ctx, business, messageID)
}

func (m *Manager) typingHere(ctx context.Context, business parley.UserID, messageID string) error {
	ep, err := m.endpoint(business)
	if err != nil {
		return err
	}
	conv, _, err := ParseMessageID(messageID)
	if err != nil {
		return err
	}
	return ep.typing(ctx, conv)
}

// PutMedia keeps an uploaded file sealed.
func (m *Manager) PutMedia(ctx context.Context, business parley.UserID, id string, r io.Reader, max int64) (int64, string, error) {
	ep, err := m.endpoint(business)
	if err != nil {
		return 0, "", err
	}
	return sealFile(m.cfg.Key, ep.mediaPath(id), id, r, max)
}

// OpenMedia opens a kept file, decrypting as it is read.
func (m *Manager) OpenMedia(ctx context.Context, business parley.UserID, id string) (io.ReadCloser, error) {
	ep, err := m.endpoint(business)
	if err != nil {
		return nil, err
	}
	return openSealedFile(m.cfg.Key, ep.mediaPath(id), id)
}

// DeleteMedia deletes a kept file.
func (m *Manager) DeleteMedia(ctx context.Context, business parley.UserID, id string) error {
	ep, err := m.endpoint(business)
	if err != nil {
		return err
	}
	err = os.Remove(ep.mediaPath(id))
	if errors.Is(err, os.ErrNotExist) {
		return parley.ErrNotFound
	}
	return err
}

// Client returns the client of business's endpoint (for tests and tools).
func (m *Manager) Client(business parley.UserID) (*client.Client, error) {
	ep, err := m.endpoint(business)
	if err != nil {
		return nil, err
	}
	return ep.c, nil
}
