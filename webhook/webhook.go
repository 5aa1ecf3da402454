// Package webhook delivers business events to the business's webhook in the
// WhatsApp Cloud API's shape: a durable outbox (parley.WebhookStore), POSTs
// of {"object":"whatsapp_business_account","entry":[{"id","changes":[{"value","field"}]}]}
// signed with X-Hub-Signature-256 (HMAC-SHA256 of the raw body keyed with the
// app secret) and with a signed timestamp (X-Parley-Timestamp,
// X-Parley-Signature: replay.go) that receivers check to refuse replays, the GET verification handshake when a callback is
// configured, retries with capped exponential backoff and jitter for at
// least 24 hours, dead letters and replay.
//
// Guarantees:
//   - Enqueue returns once the event is in the store: it is then delivered
//     at least once (unless it runs out of retries and is dead-lettered),
//     across restarts of the server.
//   - Per (business, order key) events are delivered in enqueue order: the
//     next one is not sent before the previous one was acknowledged (2xx)
//     or dead-lettered. Different keys are delivered concurrently.
//   - A failed delivery (no 2xx within Config.Timeout) is retried after
//     BaseDelay·2^(attempt-1), capped at MaxDelay, with jitter in [½d, d];
//     it is dead-lettered after the first failure at or beyond RetryFor
//     (default 25 h) after it was enqueued.
//   - A crash while a delivery is in flight re-sends it after Lease.
//   - Every request (handshake and delivery) goes through package outbound:
//     callbacks on loopback, private, link-local and other internal
//     addresses are never reached unless the operator allowed their range;
//     redirects are not followed; a failure's cause is logged, and the
//     business sees one generic error (handshake) or last_error.
//   - First attempts of one business that are due together go in one POST
//     (up to Config.MaxBatch changes in its entry, one per event, in claim
//     order); a retry always goes alone.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/groupcommit"
	"github.com/parleyhq/parley/latency"
	"github.com/parleyhq/parley/outbound"
)

// SignatureHeader carries "sha256=" + hex HMAC-SHA256 of the body.
const SignatureHeader = "X-Hub-Signature-256"

// Config tunes a Service; zero fields take the defaults shown.
type Config struct {
	Workers   int           // POSTs in flight at once (32)
	MaxBatch  int           // most events one POST carries, one change each (32; 1: one event per POST)
	Lease     time.Duration // how long a claimed delivery is reserved (2 min)
	RetryFor  time.Duration // retry at least this long before dead-lettering (25 h; at least 24 h unless AllowShortRetry)
	BaseDelay time.Duration // first retry delay (2 s)
	MaxDelay  time.Duration // retry delay cap (1 h)
	Timeout   time.Duration // per delivery attempt and per handshake (10 s)
	Poll      time.Duration // how often the store is polled for due retries and events enqueued by other processes (1 s)
	// Outbound is the policy of the requests to callback URLs (package
	// outbound: private and loopback addresses refused unless allowed;
	// redirects are not followed). Its Log defaults to the Service's.
	Outbound outbound.Policy
	// DeadRetention is how long dead letters are kept for inspection and
	// replay (30 days); they are pruned hourly.
	DeadRetention time.Duration
	// AllowShortRetry lets tests set RetryFor below 24 h.
	AllowShortRetry bool
}

func (c *Config) defaults() {
	if c.Workers <= 0 {
		c.Workers = 32
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 32
	}
	if c.Lease <= 0 {
		c.Lease = 2 * time.Minute
	}
	if c.RetryFor <= 0 || c.RetryFor < 24*time.Hour && !c.AllowShortRetry {
		c.RetryFor = 25 * time.Hour
	}
	if c.BaseDelay <= 0 {
		c.BaseDelay = 2 * time.Second
	}
	if c.MaxDelay <= 0 {
		c.MaxDelay = time.Hour
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Poll <= 0 {
		c.Poll = time.Second
	}
	if c.DeadRetention <= 0 {
		c.DeadRetention = 30 * 24 * time.Hour
	}
}

// Stats are counters since the Service started.
type Stats struct {
	Enqueued     int64 // events made durable
	Unconfigured int64 // events dropped by Enqueue: the business has no webhook
	Delivered    int64 // events acknowledged (a POST may carry several)
	Failed       int64 // failed attempts of events (each retry counts; a failed POST counts each of its events)
	DeadLettered int64 // deliveries moved to the dead letters
}

// Service is the webhook deliverer. It implements parley.WebhookSink.
type Service struct {
	store parley.WebhookStore
	clock parley.Clock
	log   *slog.Logger
	cfg   Config
	http  *outbound.Client

	wake    chan struct{}
	configs sync.Map // parley.UserID → cachedConfig

	enqueue   groupcommit.Batcher[parley.WebhookEvent]
	delivered groupcommit.Batcher[int64]
	stats     struct {
		enqueued, unconfigured, delivered, failed, dead atomic.Int64
	}
}

var _ parley.WebhookSink = (*Service)(nil)

// New returns a Service; call Run to deliver.
func New(store parley.WebhookStore, clock parley.Clock, log *slog.Logger, cfg Config) *Service {
	cfg.defaults()
	if clock == nil {
		clock = parley.SystemClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Outbound.Log == nil {
		cfg.Outbound.Log = log
	}
	hc := outbound.New("webhook", cfg.Outbound, outbound.Limits{Total: cfg.Timeout, MaxBody: 64 << 10,
		MaxRedirects: outbound.NoRedirects, IdlePerHost: cfg.Workers}, nil)
	s := &Service{store: store, clock: clock, log: log, cfg: cfg, http: hc, wake: make(chan struct{}, 1)}
	s.enqueue.Write = func(ctx context.Context, evs []parley.WebhookEvent) error {
		return s.store.EnqueueWebhooks(ctx, evs, s.clock.Now())
	}
	s.delivered.Write = s.store.DeliveredWebhooks
	return s
}

// configTTL bounds how long a configuration read from the store is reused
// (changes made through this Service apply at once; ones made by another
// process within configTTL).
const configTTL = 2 * time.Second

type cachedConfig struct {
	c   parley.WebhookConfig
	err error
	at  time.Time
}

// config returns the business's configuration (CodeNotFound if none).
func (s *Service) config(ctx context.Context, business parley.UserID) (parley.WebhookConfig, error) {
	now := time.Now()
	if v, ok := s.configs.Load(business); ok {
		if cc := v.(cachedConfig); now.Sub(cc.at) < configTTL {
			return cc.c, cc.err
		}
	}
	c, err := s.store.WebhookConfig(ctx, business)
	if err == nil || parley.ErrorCode(err) == parley.CodeNotFound {
		s.configs.Store(business, cachedConfig{c, err, now})
	}
	return c, err
}

// Remove deletes the business's webhook configuration (CodeNotFound if
// none). Queued events stay queued and are dead-lettered unless a webhook
// is configured again in time.
func (s *Service) Remove(ctx context.Context, business parley.UserID) error {
	defer s.configs.Delete(business)
	return s.store.DeleteWebhookConfig(ctx, business)
}

// MaxValue bounds an event's value (the Cloud API's payloads are far smaller).
const MaxValue = 1 << 20

// Enqueue stores ev for delivery. Events of a business with no webhook
// configured are dropped (counted in Stats.Unconfigured) and nil is
// returned, as the Cloud API sends nothing to an app with no subscription.
// Errors: CodeInvalid (no business, field or order key, value not a JSON
// object), CodeTooLarge (value over MaxValue).
func (s *Service) Enqueue(ctx context.Context, ev parley.WebhookEvent) error {
	if ev.Business <= 0 || ev.Field == "" {
		return parley.Errorf(parley.CodeInvalid, ReasonBadWebhookEvent, "a webhook event needs a business and a field")
	}
	if len(ev.Value) > MaxValue {
		return parley.Errorf(parley.CodeTooLarge, ReasonWebhookValueTooLarge, "webhook value is %d bytes, over %d", len(ev.Value), MaxValue)
	}
	// A JSON object (checked without decoding it).
	if v := bytes.TrimLeft(ev.Value, " \t\r\n"); len(v) == 0 || v[0] != '{' || !json.Valid(v) {
		return parley.Errorf(parley.CodeInvalid, ReasonBadWebhookValue, "webhook value must be a JSON object")
	}
	if _, err := s.config(ctx, ev.Business); parley.ErrorCode(err) == parley.CodeNotFound {
		s.stats.unconfigured.Add(1)
		return nil
	} else if err != nil {
		return fmt.Errorf("webhook enqueue: %w", err)
	}
	// Concurrent Enqueues share one transaction (group commit).
	if err := s.enqueue.Do(ctx, ev); err != nil {
		return fmt.Errorf("webhook enqueue: %w", err)
	}
	s.stats.enqueued.Add(1)
	s.poke()
	return nil
}

func (s *Service) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Stats returns the counters.
func (s *Service) Stats() Stats {
	return Stats{Enqueued: s.stats.enqueued.Load(), Unconfigured: s.stats.unconfigured.Load(), Delivered: s.stats.delivered.Load(),
		Failed: s.stats.failed.Load(), DeadLettered: s.stats.dead.Load()}
}

// Batching returns how many outbox writes (new events, and delivered
// marks) wait in memory behind the group commit in progress.
func (s *Service) Batching() int { return s.enqueue.Waiting() + s.delivered.Waiting() }

// WriteLatency returns how long the outbox's group commits took: the
// writes of new events and of delivered marks.
func (s *Service) WriteLatency() (enqueue, delivered latency.Snapshot) {
	return s.enqueue.WriteLatency(), s.delivered.WriteLatency()
}

// Backlog counts pending and dead deliveries in the store.
func (s *Service) Backlog(ctx context.Context) (pending, dead int64, err error) {
	return s.store.WebhookBacklog(ctx)
}

// Run delivers until ctx ends, then waits for the deliveries in flight (an
// interrupted one is released to be sent again at once by the next Run).
//
// It claims due deliveries in batches of up to 4×Workers (one transaction
// per batch) into a local queue and keeps Workers of them in flight.
func (s *Service) Run(ctx context.Context) error {
	defer s.http.CloseIdleConnections() // after the deliveries in flight
	var wg sync.WaitGroup
	defer wg.Wait()
	done := make(chan struct{}, s.cfg.Workers)
	var queue []parley.WebhookDelivery
	inflight := 0
	exhausted := false // the last claim returned less than asked: wait for news
	timer := time.NewTimer(0)
	defer timer.Stop()
	var pruned time.Time
	for {
		if now := s.clock.Now(); now.Sub(pruned) >= time.Hour && ctx.Err() == nil {
			pruned = now
			if n, err := s.store.PruneDeadWebhooks(ctx, now.Add(-s.cfg.DeadRetention)); err != nil {
				s.log.Error("prune dead webhooks", "err", err)
			} else if n > 0 {
				s.log.Info("pruned dead webhooks", "count", n)
			}
		}
		if ctx.Err() != nil {
			// Release what was claimed but not started.
			for _, d := range queue {
				if err := s.store.RetryWebhook(context.WithoutCancel(ctx), d.ID, d.Attempts, s.clock.Now(), d.LastError); err != nil {
					s.log.Error("release webhook", "id", d.ID, "err", err)
				}
			}
			return nil
		}
		if have := len(queue) + inflight; !exhausted && have <= 2*s.cfg.Workers {
			want := 4*s.cfg.Workers - have
			ds, err := s.store.ClaimWebhooks(ctx, s.clock.Now(), s.cfg.Lease, want)
			if err != nil && ctx.Err() == nil {
				s.log.Error("claim webhooks", "err", err)
			}
			queue = append(queue, ds...)
			exhausted = len(ds) < want
		}
		for inflight < s.cfg.Workers && len(queue) > 0 {
			var batch []parley.WebhookDelivery
			batch, queue = takeBatch(queue, s.cfg.MaxBatch)
			inflight++
			wg.Go(func() {
				s.deliver(ctx, batch)
				done <- struct{}{}
			})
		}
		if !exhausted && len(queue)+inflight <= 2*s.cfg.Workers {
			continue
		}
		timer.Reset(s.cfg.Poll)
		select {
		case <-ctx.Done():
		case <-done:
			inflight--
			// A delivery unblocks its key's next event: claim again.
			exhausted = false
		case <-s.wake:
			exhausted = false
		case <-timer.C:
			exhausted = false
		}
	}
}

// takeBatch takes from queue the first delivery and, if it is a first
// attempt, up to max-1 later first attempts of the same business, keeping
// the rest in order. Claimed deliveries are the heads of their (business,
// key) queues, so a batch never holds two of one key: per-key order is
// kept. A retry always goes alone, so an event the callback keeps refusing
// holds up no other.
func takeBatch(queue []parley.WebhookDelivery, max int) (batch, rest []parley.WebhookDelivery) {
	first := queue[0]
	if first.Attempts > 0 || max <= 1 {
		return []parley.WebhookDelivery{first}, queue[1:]
	}
	rest = queue[:0:0]
	for _, d := range queue {
		if len(batch) < max && d.Attempts == 0 && d.Event.Business == first.Event.Business {
			batch = append(batch, d)
		} else {
			rest = append(rest, d)
		}
	}
	return batch, rest
}

// deliver makes one attempt to POST the deliveries (all of one business)
// together and records the outcome of each: all delivered, or each one
// failed.
func (s *Service) deliver(ctx context.Context, ds []parley.WebhookDelivery) {
	err := s.post(ctx, ds)
	bg := context.WithoutCancel(ctx)
	if err == nil {
		s.stats.delivered.Add(int64(len(ds)))
		if len(ds) == 1 {
			err = s.delivered.Do(bg, ds[0].ID)
		} else {
			ids := make([]int64, len(ds))
			for i, d := range ds {
				ids[i] = d.ID
			}
			err = s.store.DeliveredWebhooks(bg, ids)
		}
		if err != nil {
			s.log.Error("record webhook delivery", "id", ds[0].ID, "deliveries", len(ds), "err", err)
		}
		return
	}
	for _, d := range ds {
		s.failedAttempt(ctx, d, err)
	}
}

// failedAttempt records a failed attempt of d: released when shutting
// down, dead-lettered when out of retries, else retried after Backoff.
func (s *Service) failedAttempt(ctx context.Context, d parley.WebhookDelivery, err error) {
	bg := context.WithoutCancel(ctx)
	if ctx.Err() != nil {
		// Shutting down: release the lease so the next Run sends it at once.
		if err := s.store.RetryWebhook(bg, d.ID, d.Attempts, s.clock.Now(), d.LastError); err != nil {
			s.log.Error("release webhook", "id", d.ID, "err", err)
		}
		return
	}
	s.stats.failed.Add(1)
	attempts := d.Attempts + 1
	now := s.clock.Now()
	msg := err.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	if now.Sub(d.CreatedAt) >= s.cfg.RetryFor {
		s.stats.dead.Add(1)
		s.log.Warn("webhook dead-lettered", "id", d.ID, "business", d.Event.Business, "attempts", attempts, "err", msg)
		if err := s.store.DeadWebhook(bg, d.ID, attempts, msg); err != nil {
			s.log.Error("dead-letter webhook", "id", d.ID, "err", err)
		}
		return
	}
	next := now.Add(Backoff(s.cfg.BaseDelay, s.cfg.MaxDelay, attempts, mrand.Float64()))
	s.log.Debug("webhook delivery failed", "id", d.ID, "attempts", attempts, "next", next, "err", msg)
	if err := s.store.RetryWebhook(bg, d.ID, attempts, next, msg); err != nil {
		s.log.Error("retry webhook", "id", d.ID, "err", err)
	}
}

// Backoff is the delay before retry number attempt (1 for the first
// retry): base·2^(attempt-1) capped at max, scaled by ½+½·jitter for a
// jitter in [0, 1).
func Backoff(base, max time.Duration, attempt int, jitter float64) time.Duration {
	d := float64(base) * math.Pow(2, float64(attempt-1))
	if d > float64(max) || math.IsInf(d, 0) {
		d = float64(max)
	}
	return time.Duration(d * (0.5 + 0.5*jitter))
}

// Envelope returns the Cloud API body for events of one business: one
// entry (id: the business's user ID in decimal, standing for the WhatsApp
// Business Account ID) with one change per event, in order.
func Envelope(evs ...parley.WebhookEvent) []byte {
	type change struct {
		Value json.RawMessage `json:"value"`
		Field string          `json:"field"`
	}
	type entry struct {
		ID      string   `json:"id"`
		Changes []change `json:"changes"`
	}
	changes := make([]change, len(evs))
	for i, ev := range evs {
		changes[i] = change{ev.Value, ev.Field}
	}
	var id string
	if len(evs) > 0 {
		id = strconv.FormatInt(int64(evs[0].Business), 10)
	}
	b, _ := json.Marshal(struct {
		Object string  `json:"object"`
		Entry  []entry `json:"entry"`
	}{"whatsapp_business_account", []entry{{id, changes}}})
	return b
}

// Sign returns the X-Hub-Signature-256 value of body: "sha256=" and the
// lower-case hex HMAC-SHA256 keyed with secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether header is body's valid signature under secret
// (constant-time).
func Verify(secret string, body []byte, header string) bool {
	want := Sign(secret, body)
	return hmac.Equal([]byte(want), []byte(strings.ToLower(strings.TrimSpace(header))))
}

func (s *Service) post(ctx context.Context, ds []parley.WebhookDelivery) error {
	cfg, err := s.config(ctx, ds[0].Event.Business)
	if err != nil {
		return fmt.Errorf("webhook config: %w", err)
	}
	evs := make([]parley.WebhookEvent, len(ds))
	for i, d := range ds {
		evs[i] = d.Event
	}
	body := EscapeNonASCII(Envelope(evs...)) // the form Meta signs (escape.go)
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.CallbackURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, Sign(cfg.AppSecret, body))
	now := s.clock.Now()
	req.Header.Set(TimestampHeader, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(TimedSignatureHeader, SignTimed(cfg.AppSecret, now, body))
	req.Header.Set("User-Agent", "Parley-Webhooks/1")
	// Any failure is outbound.ErrFailed, whose text is what the business
	// sees as last_error: the cause is in the server log.
	resp, err := s.http.Fetch(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil
}

// Configure checks c with the GET verification handshake and stores it:
// the callback gets ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…
// and must answer 200 with the challenge as its body. Errors: CodeInvalid
// with reason ReasonBadCallbackURL, "missing_secret" or
// ReasonVerificationFailed; the last has one message whatever went wrong
// (an address the outbound policy refuses, no answer, a wrong status or
// body), so the handshake tells a caller nothing about what lies behind
// the URL.
func (s *Service) Configure(ctx context.Context, c parley.WebhookConfig) (parley.WebhookConfig, error) {
	u, err := url.Parse(c.CallbackURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, parley.Errorf(parley.CodeInvalid, ReasonBadCallbackURL, "callback URL %q: want an absolute http(s) URL", c.CallbackURL)
	}
	if c.Business <= 0 || c.AppSecret == "" || c.VerifyToken == "" {
		return c, parley.Errorf(parley.CodeInvalid, ReasonMissingSecret, "a webhook needs a verify token and an app secret")
	}
	var rnd [12]byte
	_, _ = rand.Read(rnd[:])
	challenge := hex.EncodeToString(rnd[:])
	q := u.Query()
	q.Set("hub.mode", "subscribe")
	q.Set("hub.verify_token", c.VerifyToken)
	q.Set("hub.challenge", challenge)
	u.RawQuery = q.Encode()
	hctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(hctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return c, parley.Errorf(parley.CodeInvalid, ReasonBadCallbackURL, "callback URL: %v", err)
	}
	resp, err := s.http.Fetch(req)
	if err != nil {
		return c, errVerificationFailed
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1024))
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != challenge {
		s.log.Warn("webhook handshake failed", "business", c.Business, "status", resp.StatusCode, "read_err", err)
		return c, errVerificationFailed
	}
	c.VerifiedAt = s.clock.Now()
	if err := s.store.PutWebhookConfig(ctx, c); err != nil {
		return c, err
	}
	s.configs.Delete(c.Business)
	s.poke()
	return c, nil
}

// Reasons of Configure's errors.
const (
	ReasonBadCallbackURL     = "bad_callback_url"            // CodeInvalid: the callback is not an absolute http(s) URL
	ReasonVerificationFailed = "webhook_verification_failed" // CodeInvalid: the callback did not answer the verification handshake
	// ReasonNotBusiness refuses a webhook to an account that is not a
	// business (the server's Authorize for Handler returns it).
	ReasonNotBusiness = "not_business"
)

// errVerificationFailed is the one error of a failed handshake.
var errVerificationFailed = parley.Errorf(parley.CodeInvalid, ReasonVerificationFailed,
	"the callback URL did not complete the verification handshake: it must answer the GET with status 200 and hub.challenge as the body")

// Replay makes the business's dead deliveries with the given IDs (all when
// empty) pending again, and returns how many.
func (s *Service) Replay(ctx context.Context, business parley.UserID, ids []int64) (int, error) {
	n, err := s.store.ReplayWebhooks(ctx, business, ids, s.clock.Now())
	if err == nil && n > 0 {
		s.poke()
	}
	return n, err
}
