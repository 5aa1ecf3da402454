package cloudapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/content"
)

// DefaultThroughput is the messages per second a number may send unless
// the operator raises it.
const DefaultThroughput = 80

// TypingLength is how long a typing indicator shows at most (the Cloud
// API's 25 seconds) when the business sends nothing.
const TypingLength = 25 * time.Second

// WindowLength is the customer-service window: free-form messages are
// allowed this long after the customer's last message.
const WindowLength = 24 * time.Hour

// Outgoing is one message the API asks the hosted endpoint to send.
// Exactly one content part is set.
type Outgoing struct {
	Customer parley.UserID
	To       string // the customer's +E164 number
	ReplyTo  string // the message id this one replies to (context.message_id), "" for none
	// CallbackData is the request's biz_opaque_callback_data: the endpoint
	// passes it on in the message's sent status (Status.CallbackData).
	CallbackData string

	Text     string
	Media    *OutMedia
	Location *OutLocation
	Contacts string // vCard text
	Business *content.BusinessContent
	Reaction *OutReaction
}

// OutMedia is a media part: a media id uploaded through the API or a link
// the endpoint fetches.
type OutMedia struct {
	Kind     string // image, video, audio, document, sticker
	ID       string
	Link     string
	Caption  string
	Filename string
}

// OutLocation is a location part.
type OutLocation struct {
	Lat, Lon      float64
	Name, Address string
}

// OutReaction reacts to a message (Emoji "" removes the reaction).
type OutReaction struct {
	MessageID string
	Emoji     string
}

// Endpoint sends for businesses: the hosted endpoint implements it.
type Endpoint interface {
	// Attach links a new device of business (the hosted endpoint) with a
	// link code the owner made, and starts it.
	Attach(ctx context.Context, business parley.UserID, linkCode string) (parley.DeviceID, error)
	// Send sends out and returns its message id once the server has it.
	// A customer who blocked the business gives CodeBlocked.
	Send(ctx context.Context, business parley.UserID, out Outgoing) (string, error)
	// MarkRead marks the chat of a received message read up to it.
	MarkRead(ctx context.Context, business parley.UserID, messageID string) error
	// Typing shows the customer of the chat of a received message that
	// the business is typing, until it sends there or TypingLength passes.
	Typing(ctx context.Context, business parley.UserID, messageID string) error
	// PutMedia keeps an uploaded file (at most max bytes) under id and
	// returns its size and hex SHA-256.
	PutMedia(ctx context.Context, business parley.UserID, id string, r io.Reader, max int64) (int64, string, error)
	OpenMedia(ctx context.Context, business parley.UserID, id string) (io.ReadCloser, error)
	DeleteMedia(ctx context.Context, business parley.UserID, id string) error
}

// Users is what the API needs of accounts.
type Users interface {
	User(ctx context.Context, id parley.UserID) (parley.User, error)
	UserByPhone(ctx context.Context, phone string) (parley.User, error)
}

// Finder applies a user's "find me by phone number" setting
// (*accounts.Service implements it; see accounts.Service.MayFindByPhone).
type Finder interface {
	MayFindByPhone(ctx context.Context, viewer parley.UserID, owner parley.User) (bool, error)
}

// Config configures a Service.
type Config struct {
	Store parley.CloudAPIStore
	Users Users
	// Finder decides which customers a business may reach by number
	// besides those who wrote to it; nil: only those who wrote to it.
	Finder   Finder
	Endpoint Endpoint                // may be set later with SetEndpoint
	Webhooks parley.WebhookSink      // optional: template-status, quality and message webhooks
	Insights parley.InsightsRecorder // optional
	// Profiles, when set, is told when a business gains a hosted endpoint.
	Profiles interface {
		SetBusinessHosted(ctx context.Context, user parley.UserID, hosted bool) error
	}
	// DeviceAuth authenticates the owner side (Authorization: Parley …).
	DeviceAuth func(ctx context.Context, header string) (parley.UserID, parley.DeviceID, error)
	// OperatorToken, when not "", enables the admin routes for bearers of it.
	OperatorToken string
	// AutoApprove approves every new template at once (else per number, or
	// by the operator).
	AutoApprove bool
	// MaxMediaBytes bounds uploads (default 100 MiB).
	MaxMediaBytes int64
	// OptOutConfirmation is sent after a STOP; %s is the business's name.
	OptOutConfirmation string
	Clock              parley.Clock
	Log                *slog.Logger
}

// Service is the business API. It is safe for concurrent use.
type Service struct {
	cfg Config
	st  parley.CloudAPIStore
	log *slog.Logger
	clk parley.Clock

	epMu sync.RWMutex
	ep   Endpoint

	tokMu  sync.Mutex
	tokens map[[32]byte]tokenEntry // by secret hash; revocation deletes

	numMu   sync.Mutex
	numbers map[parley.UserID]*number

	custMu    sync.Mutex
	customers map[parley.UserID]map[parley.UserID]*customer // business → customer → state

	phoneMu sync.Mutex
	phones  map[string]phoneEntry // customers by +E164 number

	tpls templateCache // templates by number, for the send path (tplcache.go)

	contacts contactCache // when each customer was last noted as messaged (quality.go)

	callbacks callbackCache // biz_opaque_callback_data by message id (callback.go)

	events    chan parley.MessageEvent // to the insights recorder, off the request path
	stopOnce  sync.Once
	stop      chan struct{}
	recorderD chan struct{} // closed when the recorder goroutine has drained and ended
}

// BatchRecorder is an optional capability of an InsightsRecorder: record
// many events in one durable write.
type BatchRecorder interface {
	RecordBatch(ctx context.Context, evs []parley.MessageEvent) error
}

// insightsQueue bounds the events waiting for the recorder; a full queue
// makes sends wait (back-pressure), so no event is dropped.
const insightsQueue = 8192

// recordLinger is how long the recorder gathers events into one batch.
const recordLinger = 20 * time.Millisecond

type tokenEntry struct {
	tok parley.APIToken
	at  time.Time
}

// number is the in-memory state of one API number: its settings, the
// throughput bucket and the recipients counted against its tier.
type number struct {
	mu       sync.Mutex
	n        parley.APINumber
	tokens   float64
	refillAt time.Time
	day      string     // the UTC day of the last template (tiers.go)
	recent   recipients // customers counted against the tier (tiers.go)
}

// customer caches what the compliance checks need of one customer.
type customer struct {
	loaded       bool
	lastInbound  time.Time
	optIn        parley.OptIn
	lastOutbound string // the last message id sent to them, for "replied"
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.Clock == nil {
		cfg.Clock = parley.SystemClock{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxMediaBytes <= 0 {
		cfg.MaxMediaBytes = 100 << 20
	}
	if cfg.OptOutConfirmation == "" {
		cfg.OptOutConfirmation = "You will no longer receive marketing messages from %s. Reply START to subscribe again."
	}
	s := &Service{cfg: cfg, st: cfg.Store, log: cfg.Log, clk: cfg.Clock, ep: cfg.Endpoint,
		tokens: map[[32]byte]tokenEntry{}, numbers: map[parley.UserID]*number{}, customers: map[parley.UserID]map[parley.UserID]*customer{},
		phones: map[string]phoneEntry{}, events: make(chan parley.MessageEvent, insightsQueue), stop: make(chan struct{}), recorderD: make(chan struct{})}
	go s.recordLoop()
	return s
}

// Close stops the insights recorder after it has recorded every queued
// event (or ctx ends). Sends after Close record nothing.
func (s *Service) Close(ctx context.Context) error {
	s.stopOnce.Do(func() { close(s.stop) })
	select {
	case <-s.recorderD:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// recordLoop hands queued events to the insights recorder, in batches when
// it can take them.
func (s *Service) recordLoop() {
	defer close(s.recorderD)
	ctx := context.Background()
	batch := make([]parley.MessageEvent, 0, 256)
	for {
		batch = batch[:0]
		select {
		case ev := <-s.events:
			batch = append(batch, ev)
		case <-s.stop:
			for {
				select {
				case ev := <-s.events:
					batch = append(batch, ev)
				default:
					s.flush(ctx, batch)
					return
				}
			}
		}
		// Gather for up to recordLinger (or a full batch): events are off
		// the request path, and one transaction (one fsync) for many
		// events costs far less CPU than one per event.
		linger := time.NewTimer(recordLinger)
	more:
		for len(batch) < cap(batch) {
			select {
			case ev := <-s.events:
				batch = append(batch, ev)
			case <-linger.C:
				break more
			case <-s.stop:
				break more
			}
		}
		linger.Stop()
		s.flush(ctx, batch)
	}
}

func (s *Service) flush(ctx context.Context, batch []parley.MessageEvent) {
	if len(batch) == 0 || s.cfg.Insights == nil {
		return
	}
	if br, ok := s.cfg.Insights.(BatchRecorder); ok {
		if err := br.RecordBatch(ctx, batch); err != nil {
			s.log.Warn("insights record", "events", len(batch), "err", err)
		}
		return
	}
	for _, ev := range batch {
		if err := s.cfg.Insights.Record(ctx, ev); err != nil {
			s.log.Warn("insights record", "business", ev.Business, "err", err)
		}
	}
}

// SetEndpoint sets the endpoint messages go out through.
func (s *Service) SetEndpoint(ep Endpoint) {
	s.epMu.Lock()
	s.ep = ep
	s.epMu.Unlock()
}

func (s *Service) endpoint() (Endpoint, error) {
	s.epMu.RLock()
	defer s.epMu.RUnlock()
	if s.ep == nil {
		return nil, apiError(CodeServiceUnavailable, "the hosted endpoint is not running")
	}
	return s.ep, nil
}

// PhoneNumberID is the Cloud API phone-number id of a business.
func PhoneNumberID(business parley.UserID) string { return strconv.FormatInt(int64(business), 10) }

// WaID is a customer's Cloud API id: the phone number without "+".
func WaID(phone string) string { return strings.TrimPrefix(phone, "+") }

var idEnc = base32.StdEncoding.WithPadding(base32.NoPadding)

func newID(prefix string) string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return prefix + strings.ToLower(idEnc.EncodeToString(b[:]))
}

// ---- tokens ----

// tokenCacheTTL bounds how long a cached token is trusted without reading
// the store (revocation through this Service is immediate regardless).
const tokenCacheTTL = time.Minute

// CreateToken makes a token for business and returns it with its secret,
// which is shown only now. The business must have the API enabled.
func (s *Service) CreateToken(ctx context.Context, business parley.UserID, name string, scopes []parley.APIScope) (parley.APIToken, string, error) {
	if _, err := s.st.APINumber(ctx, business); err != nil {
		if parley.IsCode(err, parley.CodeNotFound) {
			return parley.APIToken{}, "", parley.Errorf(parley.CodeNotFound, ReasonAPINotEnabled, "the business API is not enabled for this account (parley business api enable)")
		}
		return parley.APIToken{}, "", err
	}
	if len(scopes) == 0 {
		scopes = parley.AllAPIScopes
	}
	for _, sc := range scopes {
		ok := false
		for _, a := range parley.AllAPIScopes {
			ok = ok || a == sc
		}
		if !ok {
			return parley.APIToken{}, "", parley.Errorf(parley.CodeInvalid, ReasonBadScope, "unknown scope %q", sc)
		}
	}
	if len(name) > 100 {
		return parley.APIToken{}, "", parley.Errorf(parley.CodeInvalid, ReasonBadName, "a token name has at most 100 bytes")
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	secret := "PRLY" + strings.ToLower(idEnc.EncodeToString(b[:]))
	h := sha256.Sum256([]byte(secret))
	t := parley.APIToken{ID: newID("tok_"), Business: business, Name: name, Scopes: scopes, Hash: h[:], CreatedAt: s.clk.Now().UTC()}
	if err := s.st.CreateAPIToken(ctx, t); err != nil {
		return parley.APIToken{}, "", err
	}
	return t, secret, nil
}

// RevokeToken revokes a token of business at once.
func (s *Service) RevokeToken(ctx context.Context, business parley.UserID, id string) error {
	if err := s.st.RevokeAPIToken(ctx, business, id, s.clk.Now().UTC()); err != nil {
		return err
	}
	s.tokMu.Lock()
	for k, e := range s.tokens {
		if e.tok.ID == id {
			delete(s.tokens, k)
		}
	}
	s.tokMu.Unlock()
	return nil
}

// Authenticate returns the valid token whose secret is bearer.
func (s *Service) Authenticate(ctx context.Context, bearer string) (parley.APIToken, error) {
	if bearer == "" {
		return parley.APIToken{}, apiError(CodeAccessToken, "an access token is required (Authorization: Bearer …)")
	}
	h := sha256.Sum256([]byte(bearer))
	now := s.clk.Now()
	s.tokMu.Lock()
	e, ok := s.tokens[h]
	s.tokMu.Unlock()
	if ok && now.Sub(e.at) < tokenCacheTTL {
		return e.tok, nil
	}
	t, err := s.st.APITokenByHash(ctx, h[:])
	if parley.IsCode(err, parley.CodeNotFound) {
		return t, apiError(CodeAccessToken, "the access token is not valid")
	}
	if err != nil {
		return t, err
	}
	if !t.RevokedAt.IsZero() {
		return t, apiError(CodeAccessToken, "the access token has been revoked")
	}
	s.tokMu.Lock()
	if len(s.tokens) > 10000 {
		clear(s.tokens)
	}
	s.tokens[h] = tokenEntry{tok: t, at: now}
	s.tokMu.Unlock()
	return t, nil
}

// ---- numbers ----

// Enable attaches the hosted endpoint to business with the owner's link
// code and enables the API for its number.
func (s *Service) Enable(ctx context.Context, business parley.UserID, linkCode string) (parley.APINumber, error) {
	ep, err := s.endpoint()
	if err != nil {
		return parley.APINumber{}, err
	}
	u, err := s.cfg.Users.User(ctx, business)
	if err != nil {
		return parley.APINumber{}, err
	}
	n, err := s.st.APINumber(ctx, business)
	if err == nil && n.HostedDevice != 0 {
		if !s.hostedRevoked(ctx, n.HostedDevice) {
			return n, parley.Errorf(parley.CodeConflict, ReasonAPIEnabled, "the business API is already enabled for this account")
		}
		// The owner removed the hosted device: attach a new one.
		if d, ok := ep.(interface {
			Detach(ctx context.Context, business parley.UserID) error
		}); ok {
			if err := d.Detach(ctx, business); err != nil {
				return n, err
			}
		}
	}
	if err != nil && !parley.IsCode(err, parley.CodeNotFound) {
		return n, err
	}
	dev, err := ep.Attach(ctx, business, linkCode)
	if err != nil {
		return n, err
	}
	now := s.clk.Now().UTC()
	if n.Business == business {
		// Re-enabled: limits, quality and tier stay as they were.
		n.HostedDevice, n.UpdatedAt = dev, now
	} else {
		n = parley.APINumber{Business: business, Phone: u.Phone, Tier: parley.Tier250, Quality: parley.QualityGreen,
			Throughput: DefaultThroughput, HostedDevice: dev, TierChangedAt: now, CreatedAt: now, UpdatedAt: now}
	}
	if err := s.st.PutAPINumber(ctx, n); err != nil {
		return n, err
	}
	if s.cfg.Profiles != nil {
		if err := s.cfg.Profiles.SetBusinessHosted(ctx, business, true); err != nil && !parley.IsCode(err, parley.CodeNotFound) {
			s.log.Warn("marking the business profile hosted", "business", business, "err", err)
		}
	}
	s.numMu.Lock()
	delete(s.numbers, business)
	s.numMu.Unlock()
	return n, nil
}

// hostedRevoked reports whether the hosted device was removed (when Users
// can tell; otherwise false).
func (s *Service) hostedRevoked(ctx context.Context, dev parley.DeviceID) bool {
	ds, ok := s.cfg.Users.(interface {
		Device(ctx context.Context, id parley.DeviceID) (parley.Device, error)
	})
	if !ok {
		return false
	}
	d, err := ds.Device(ctx, dev)
	return err == nil && !d.Active()
}

// number returns the cached state of business's API number.
func (s *Service) number(ctx context.Context, business parley.UserID) (*number, error) {
	s.numMu.Lock()
	nb, ok := s.numbers[business]
	s.numMu.Unlock()
	if ok {
		return nb, nil
	}
	n, err := s.st.APINumber(ctx, business)
	if parley.IsCode(err, parley.CodeNotFound) {
		return nil, apiError(CodeInvalidParameter, "this phone number is not enabled for the API")
	}
	if err != nil {
		return nil, err
	}
	s.numMu.Lock()
	defer s.numMu.Unlock()
	if nb, ok := s.numbers[business]; ok {
		return nb, nil
	}
	nb = &number{n: n, tokens: float64(throughput(n)), refillAt: s.clk.Now()}
	s.numbers[business] = nb
	return nb, nil
}

func throughput(n parley.APINumber) int {
	if n.Throughput <= 0 {
		return DefaultThroughput
	}
	return n.Throughput
}

// Number returns a number's settings.
func (s *Service) Number(ctx context.Context, business parley.UserID) (parley.APINumber, error) {
	nb, err := s.number(ctx, business)
	if err != nil {
		return parley.APINumber{}, err
	}
	nb.mu.Lock()
	defer nb.mu.Unlock()
	return nb.n, nil
}

// NumberSettings are the operator's settings of a number; nil fields stay.
type NumberSettings struct {
	Tier        *int
	Throughput  *int
	AutoApprove *bool
}

// SetNumber applies the operator's settings.
func (s *Service) SetNumber(ctx context.Context, business parley.UserID, set NumberSettings) (parley.APINumber, error) {
	nb, err := s.number(ctx, business)
	if err != nil {
		return parley.APINumber{}, err
	}
	nb.mu.Lock()
	defer nb.mu.Unlock()
	n := nb.n
	now := s.clk.Now().UTC()
	if set.Tier != nil {
		if tierIndex(*set.Tier) < 0 {
			return n, parley.Errorf(parley.CodeInvalid, ReasonBadTier, "tier must be one of 250, 2000, 10000, 100000 or -1 (unlimited)")
		}
		// Setting a tier, even the current one, restarts its 24 hours
		// before a promotion.
		n.Tier, n.TierChangedAt = *set.Tier, now
	}
	if set.Throughput != nil {
		if *set.Throughput < 1 || *set.Throughput > 1000000 {
			return n, parley.Errorf(parley.CodeInvalid, ReasonBadThroughput, "throughput must be 1 to 1000000 messages per second")
		}
		n.Throughput = *set.Throughput
	}
	if set.AutoApprove != nil {
		n.AutoApprove = *set.AutoApprove
	}
	n.UpdatedAt = now
	if err := s.st.PutAPINumber(ctx, n); err != nil {
		return nb.n, err
	}
	nb.n = n
	if nb.tokens > float64(throughput(n)) {
		nb.tokens = float64(throughput(n))
	}
	return n, nil
}

func tierIndex(t int) int {
	for i, x := range parley.Tiers {
		if x == t {
			return i
		}
	}
	return -1
}

// TierName is the Cloud API's name of a messaging tier.
func TierName(t int) string {
	switch t {
	case parley.Tier250:
		return "TIER_250"
	case parley.Tier2K:
		return "TIER_2K"
	case parley.Tier10K:
		return "TIER_10K"
	case parley.Tier100K:
		return "TIER_100K"
	}
	return "TIER_UNLIMITED"
}

// take takes one message from the number's throughput bucket.
func (s *Service) take(nb *number) error {
	now := s.clk.Now()
	nb.mu.Lock()
	defer nb.mu.Unlock()
	limit := float64(throughput(nb.n))
	if el := now.Sub(nb.refillAt).Seconds(); el > 0 {
		nb.tokens = min(limit, nb.tokens+el*limit)
		nb.refillAt = now
	}
	if nb.tokens < 1 {
		return apiError(CodeRateLimit, fmt.Sprintf("this number may send %d messages per second", int(limit)))
	}
	nb.tokens--
	return nil
}

func dayOf(t time.Time) string { return t.UTC().Format("2006-01-02") }

// ---- customers ----

func (s *Service) customerState(ctx context.Context, business, cust parley.UserID) (*customer, error) {
	s.custMu.Lock()
	m, ok := s.customers[business]
	if !ok {
		m = map[parley.UserID]*customer{}
		s.customers[business] = m
	}
	c, ok := m[cust]
	if !ok {
		c = &customer{}
		m[cust] = c
	}
	loaded := c.loaded
	s.custMu.Unlock()
	if loaded {
		return c, nil
	}
	last, err := s.st.LastInbound(ctx, business, cust)
	if err != nil {
		return nil, err
	}
	o, err := s.st.OptIn(ctx, business, cust)
	if err != nil && !parley.IsCode(err, parley.CodeNotFound) {
		return nil, err
	}
	s.custMu.Lock()
	if !c.loaded {
		if last.After(c.lastInbound) {
			c.lastInbound = last
		}
		if c.optIn.At.IsZero() && c.optIn.OptedOutAt.IsZero() {
			c.optIn = o
		}
		c.loaded = true
	}
	s.custMu.Unlock()
	return c, nil
}

// RecordOptIn records a customer's opt-in to marketing from business.
func (s *Service) RecordOptIn(ctx context.Context, business parley.UserID, phone, source, text string) (parley.OptIn, error) {
	u, err := s.customerByNumber(ctx, business, phone)
	if err != nil {
		return parley.OptIn{}, err
	}
	if strings.TrimSpace(source) == "" || strings.TrimSpace(text) == "" {
		return parley.OptIn{}, parley.Errorf(parley.CodeInvalid, ReasonOptInIncomplete, "an opt-in records its source and the text the customer was shown")
	}
	if len(source) > 200 || len(text) > 2000 {
		return parley.OptIn{}, parley.Errorf(parley.CodeInvalid, ReasonOptInTooLong, "source has at most 200 bytes and text at most 2000")
	}
	o := parley.OptIn{Business: business, Customer: u.ID, Source: source, Text: text, At: s.clk.Now().UTC()}
	return o, s.putOptIn(ctx, o)
}

func (s *Service) putOptIn(ctx context.Context, o parley.OptIn) error {
	if _, err := s.customerState(ctx, o.Business, o.Customer); err != nil {
		return err
	}
	if err := s.st.PutOptIn(ctx, o); err != nil {
		return err
	}
	s.custMu.Lock()
	s.customers[o.Business][o.Customer].optIn = o
	s.custMu.Unlock()
	return nil
}

// OptIns lists business's opt-in records with the customers' numbers.
func (s *Service) OptIns(ctx context.Context, business parley.UserID) ([]OptInView, error) {
	list, err := s.st.OptIns(ctx, business)
	if err != nil {
		return nil, err
	}
	out := make([]OptInView, 0, len(list))
	for _, o := range list {
		v := OptInView{Source: o.Source, Text: o.Text, At: o.At, OptedOutAt: o.OptedOutAt, OptOutText: o.OptOutText, Active: o.Active()}
		if u, err := s.cfg.Users.User(ctx, o.Customer); err == nil {
			v.WaID = WaID(u.Phone)
		}
		out = append(out, v)
	}
	return out, nil
}

// OptInView is an opt-in as the API shows it.
type OptInView struct {
	WaID       string    `json:"wa_id"`
	Active     bool      `json:"active"`
	Source     string    `json:"source"`
	Text       string    `json:"text"`
	At         time.Time `json:"opted_in_at"`
	OptedOutAt time.Time `json:"opted_out_at,omitzero"`
	OptOutText string    `json:"opt_out_text,omitempty"`
}

// phoneSeparators are dropped from a "to" number (built once: a Replacer
// costs more to build than to use).
var phoneSeparators = strings.NewReplacer(" ", "", "-", "", "(", "", ")", "")

// msgUndeliverable is the one answer for a number the business may not
// reach, whatever the reason: no account has it, its owner hides it from
// the business (find by phone number), or blocked the business. One
// message, status and code, so the answer tells nothing about the number.
const msgUndeliverable = "this number cannot be reached by this business"

func errUndeliverable() *Error { return apiError(CodeUndeliverable, msgUndeliverable) }

// customerByNumber finds the customer a business addresses by phone number
// ("+…" or wa_id digits). The customer is found when they have written to
// the business (it already has their number; no extra store query on this,
// the common path) or their find-by-phone setting admits the business
// (Config.Finder); otherwise, as for a number no one has, the error is
// errUndeliverable, after the same kind of store queries.
func (s *Service) customerByNumber(ctx context.Context, business parley.UserID, to string) (parley.User, error) {
	u, err := s.userByNumber(ctx, to)
	if parley.IsCode(err, parley.CodeNotFound) {
		_, _ = s.st.LastInbound(ctx, business, 0)
		_, _ = s.mayFind(ctx, business, parley.User{})
		return parley.User{}, errUndeliverable()
	}
	if err != nil || u.ID == business {
		return u, err
	}
	cust, err := s.customerState(ctx, business, u.ID)
	if err != nil {
		return parley.User{}, err
	}
	s.custMu.Lock()
	wrote := !cust.lastInbound.IsZero()
	s.custMu.Unlock()
	if wrote {
		return u, nil
	}
	ok, err := s.mayFind(ctx, business, u)
	if err != nil {
		return parley.User{}, err
	}
	if !ok {
		return parley.User{}, errUndeliverable()
	}
	return u, nil
}

func (s *Service) mayFind(ctx context.Context, viewer parley.UserID, owner parley.User) (bool, error) {
	if s.cfg.Finder == nil {
		return false, nil
	}
	return s.cfg.Finder.MayFindByPhone(ctx, viewer, owner)
}

// userByNumber finds the account of a phone number ("+…" or wa_id digits),
// whoever its owner lets find it: callers apply the privacy rules.
// CodeNotFound when no account has it.
func (s *Service) userByNumber(ctx context.Context, to string) (parley.User, error) {
	phone := strings.TrimSpace(to)
	phone = phoneSeparators.Replace(phone)
	if !strings.HasPrefix(phone, "+") {
		phone = "+" + phone
	}
	if len(phone) < 4 || len(phone) > 16 {
		return parley.User{}, apiError(CodeParamInvalid, "to must be a phone number in international format")
	}
	for _, c := range phone[1:] {
		if c < '0' || c > '9' {
			return parley.User{}, apiError(CodeParamInvalid, "to must be a phone number in international format")
		}
	}
	now := s.clk.Now()
	s.phoneMu.Lock()
	e, ok := s.phones[phone]
	s.phoneMu.Unlock()
	if ok && now.Sub(e.at) < phoneCacheTTL {
		return e.u, nil
	}
	u, err := s.cfg.Users.UserByPhone(ctx, phone)
	if err != nil {
		return u, err
	}
	s.phoneMu.Lock()
	if len(s.phones) >= maxPhoneCache {
		clear(s.phones)
	}
	s.phones[phone] = phoneEntry{u: u, at: now}
	s.phoneMu.Unlock()
	return u, nil
}

// The customers found by number are cached for a minute (a number that
// changes hands reaches its new owner at most a minute late), at most
// maxPhoneCache of them.
const (
	phoneCacheTTL = time.Minute
	maxPhoneCache = 200000
)

type phoneEntry struct {
	u  parley.User
	at time.Time
}

// ---- webhooks and insights ----

// webhook enqueues a webhook event; a failure is logged and returned (the
// inbound path retries it, the others only report it).
func (s *Service) webhook(ctx context.Context, business parley.UserID, key, field string, value any) error {
	if s.cfg.Webhooks == nil {
		return nil
	}
	raw, err := json.Marshal(value)
	if err != nil {
		s.log.Error("webhook value", "err", err)
		return err
	}
	if err := s.cfg.Webhooks.Enqueue(ctx, parley.WebhookEvent{Business: business, PhoneNumberID: PhoneNumberID(business),
		OrderKey: key, Field: field, Value: raw}); err != nil {
		s.log.Error("webhook enqueue", "business", business, "field", field, "err", err)
		return err
	}
	return nil
}

// record queues ev for the insights recorder, waiting while the queue is
// full (or until ctx ends or the Service is closed).
// recordNow records ev durably (insights' group commit) before it
// returns; record queues it instead, for the events whose cause is
// re-reported after a crash anyway.
func (s *Service) recordNow(ctx context.Context, ev parley.MessageEvent) error {
	if s.cfg.Insights == nil {
		return nil
	}
	return s.cfg.Insights.Record(ctx, ev)
}

func (s *Service) record(ctx context.Context, ev parley.MessageEvent) {
	if s.cfg.Insights == nil {
		return
	}
	select {
	case <-s.stop:
		return
	default:
	}
	select {
	case s.events <- ev:
	case <-s.stop:
	case <-ctx.Done():
		s.log.Warn("insights event not queued", "business", ev.Business, "message", ev.MessageID, "err", ctx.Err())
	}
}

func (s *Service) metadata(ctx context.Context, business parley.UserID) map[string]string {
	phone := ""
	if n, err := s.Number(ctx, business); err == nil {
		phone = WaID(n.Phone)
	}
	return map[string]string{"display_phone_number": phone, "phone_number_id": PhoneNumberID(business)}
}
