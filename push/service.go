package push

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httperr"
	"github.com/parleyhq/parley/outbound"
)

// Path is where the service's HTTP endpoints live:
//
//	GET    /push/v1/vapid          {"key": base64url VAPID public key}
//	POST   /push/v1/subscriptions  PushSubscription.toJSON(), device auth → 204
//	DELETE /push/v1/subscriptions  {"endpoint": "…"}, device auth → 204
const Path = "/push/v1/"

// Config configures a Service.
type Config struct {
	Store parley.PushStore
	// Authenticate returns the device a request comes from
	// (media.DeviceAuth over accounts.Service.Authenticate).
	Authenticate func(*http.Request) (parley.Device, error)
	// Subject is the VAPID "sub" claim: a mailto: or https: URI where push
	// services can reach the operator. Default "mailto:push@parley.invalid".
	Subject string
	// Outbound is the policy of the push requests (package outbound:
	// endpoints on loopback, private, link-local and other internal
	// addresses are never reached unless the operator allowed their range;
	// redirects are not followed; each request takes at most 15 s). Its
	// Log defaults to Logger.
	Outbound outbound.Policy
	// QueueSize bounds the notifications waiting to be sent; beyond it
	// they are dropped (and counted). Default 4096.
	QueueSize int
	// Workers is how many notifications are sent at once. Default 4.
	Workers int
	// TTL is how long a push service keeps an undelivered notification.
	// Default 24h.
	TTL time.Duration
	// MaxPerDevice bounds a device's subscriptions. Default 10.
	MaxPerDevice int
	Clock        parley.Clock
	Logger       *slog.Logger
}

// Stats counts what the service did since it started.
type Stats struct {
	Queued  int64 // notifications accepted into the queue
	Dropped int64 // notifications dropped because the queue was full
	Sent    int64 // push requests the push service accepted (2xx)
	Failed  int64 // push requests that failed (network, 4xx other than 404/410, 5xx)
	Gone    int64 // subscriptions deleted because the push service answered 404 or 410
}

// Service registers browser subscriptions and sends them notifications.
// Create it with New, start sending with Run.
type Service struct {
	cfg   Config
	key   parley.VAPIDKey
	priv  *ecdsa.PrivateKey
	http  *outbound.Client
	queue chan job
	log   *slog.Logger
	clock parley.Clock

	queued, dropped, sent, failed, gone atomic.Int64

	mu      sync.Mutex
	closed  bool
	running sync.WaitGroup
}

type job struct {
	conv    parley.ConversationID
	seq     parley.Seq
	sender  parley.UserID
	devices []parley.DeviceID
}

// New loads the server's VAPID key pair from the store, generating and
// storing one on the first start (so subscriptions stay valid across
// restarts and across the nodes of a cluster).
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Authenticate == nil {
		return nil, errors.New("push: Store and Authenticate are required")
	}
	if cfg.Subject == "" {
		cfg.Subject = "mailto:push@parley.invalid"
	}
	if !strings.HasPrefix(cfg.Subject, "mailto:") && !strings.HasPrefix(cfg.Subject, "https://") {
		return nil, fmt.Errorf("push: subject %q: want a mailto: or https:// URI", cfg.Subject)
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 4096
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 24 * time.Hour
	}
	if cfg.MaxPerDevice <= 0 {
		cfg.MaxPerDevice = 10
	}
	if cfg.Clock == nil {
		cfg.Clock = parley.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Outbound.Log == nil {
		cfg.Outbound.Log = cfg.Logger
	}
	fresh, err := NewVAPIDKey(cfg.Clock.Now())
	if err != nil {
		return nil, err
	}
	key, err := cfg.Store.EnsureVAPIDKey(ctx, fresh)
	if err != nil {
		return nil, fmt.Errorf("push: vapid key: %w", err)
	}
	priv, err := signer(key)
	if err != nil {
		return nil, err
	}
	hc := outbound.New("push", cfg.Outbound, outbound.Limits{Total: 15 * time.Second, MaxBody: 64 << 10,
		MaxRedirects: outbound.NoRedirects, IdlePerHost: cfg.Workers}, nil)
	return &Service{cfg: cfg, key: key, priv: priv, http: hc, queue: make(chan job, cfg.QueueSize), log: cfg.Logger, clock: cfg.Clock}, nil
}

// PublicKey returns the VAPID public key (65 bytes, uncompressed).
func (s *Service) PublicKey() []byte { return s.key.Public }

// Stats returns the counters.
func (s *Service) Stats() Stats {
	return Stats{Queued: s.queued.Load(), Dropped: s.dropped.Load(), Sent: s.sent.Load(), Failed: s.failed.Load(), Gone: s.gone.Load()}
}

// Queue returns how many notifications wait to be sent and how many the
// queue holds before it drops them (Config.QueueSize).
func (s *Service) Queue() (depth, capacity int) { return len(s.queue), cap(s.queue) }

// Notify queues a notification that envelope seq of conv, from sender,
// awaits the given devices (those with no live session). It never blocks:
// when the queue is full the notification is dropped and counted. The
// devices' subscriptions are looked up when it is sent; devices of the
// sender get none.
func (s *Service) Notify(conv parley.ConversationID, seq parley.Seq, sender parley.UserID, devices []parley.DeviceID) {
	if len(devices) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	select {
	case s.queue <- job{conv: conv, seq: seq, sender: sender, devices: append([]parley.DeviceID(nil), devices...)}:
		s.queued.Add(1)
	default:
		s.dropped.Add(1)
	}
}

// Appended implements delivery.Notifier: every device a new message or
// Welcome awaits with no live session gets a notification.
func (s *Service) Appended(env parley.Envelope, offline []parley.DeviceID) {
	s.Notify(env.Conversation, env.Seq, env.Sender, offline)
}

// Run sends queued notifications with Config.Workers workers until ctx
// ends, then sends what is still queued (each request bounded by the HTTP
// timeout) and returns nil.
func (s *Service) Run(ctx context.Context) error {
	defer s.http.CloseIdleConnections()
	for range s.cfg.Workers {
		s.running.Add(1)
		go func() {
			defer s.running.Done()
			for {
				select {
				case j := <-s.queue:
					s.send(context.WithoutCancel(ctx), j)
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	<-ctx.Done()
	s.running.Wait()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	for {
		select {
		case j := <-s.queue:
			s.send(context.WithoutCancel(ctx), j)
		default:
			return nil
		}
	}
}

// payload is what a notification carries: which message to fetch, never
// its content (the server has none).
type payload struct {
	C parley.ConversationID `json:"c"`
	S parley.Seq            `json:"s"`
}

func (s *Service) send(ctx context.Context, j job) {
	subs, err := s.cfg.Store.PushSubscriptions(ctx, j.devices)
	if err != nil {
		s.failed.Add(1)
		s.log.Warn("push subscriptions", "conversation", j.conv, "err", err)
		return
	}
	body, _ := json.Marshal(payload{C: j.conv, S: j.seq})
	for _, sub := range subs {
		if sub.User == j.sender {
			continue
		}
		s.deliver(ctx, sub, j.conv, body)
	}
}

// deliver sends one push request (RFC 8030 section 5) and handles its
// answer: 404 and 410 delete the subscription.
func (s *Service) deliver(ctx context.Context, sub parley.PushSubscription, conv parley.ConversationID, plaintext []byte) {
	enc, err := Encrypt(plaintext, sub.P256DH, sub.Auth)
	if err != nil {
		s.failed.Add(1)
		s.log.Warn("push encrypt", "device", sub.Device, "err", err)
		return
	}
	now := s.clock.Now()
	authz, err := vapidHeader(s.priv, s.key.Public, sub.Endpoint, s.cfg.Subject, now.Add(12*time.Hour))
	if err != nil {
		s.failed.Add(1)
		return
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.Endpoint, bytes.NewReader(enc))
	if err != nil {
		s.failed.Add(1)
		return
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Content-Encoding", "aes128gcm")
	req.Header.Set("TTL", strconv.Itoa(int(s.cfg.TTL/time.Second)))
	req.Header.Set("Urgency", "high")
	if len(conv) <= 32 {
		// One pending notification per chat is enough: a newer one
		// replaces it (RFC 8030 section 5.4; conversation IDs are
		// base64url characters).
		req.Header.Set("Topic", string(conv))
	}
	req.Header.Set("Authorization", authz)
	resp, err := s.http.Do(req) // the cause of a failure is logged by outbound
	if err != nil {
		s.failed.Add(1)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	switch {
	case resp.StatusCode/100 == 2:
		s.sent.Add(1)
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		s.gone.Add(1)
		if err := s.cfg.Store.DeletePushSubscription(ctx, 0, sub.Endpoint); err != nil {
			s.log.Warn("delete expired push subscription", "device", sub.Device, "err", err)
		}
	default:
		s.failed.Add(1)
		s.log.Info("push service refused", "device", sub.Device, "status", resp.StatusCode)
	}
}

// maxBody bounds a subscription request.
const maxBody = 8 << 10

// ServeHTTP serves Path.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == Path+"vapid" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		w.Header().Set("Cache-Control", "public, max-age=3600")
		writeJSON(w, http.StatusOK, map[string]string{"key": b64.EncodeToString(s.key.Public)})
	case r.URL.Path == Path+"subscriptions" && (r.Method == http.MethodPost || r.Method == http.MethodDelete):
		if err := s.subscription(w, r); err != nil {
			writeError(w, s.log, r, err)
		}
	case r.URL.Path == Path+"vapid" || r.URL.Path == Path+"subscriptions":
		writeError(w, s.log, r, parley.Errorf(parley.CodeInvalid, ReasonMethodNotAllowed, "%s is not allowed on %s", r.Method, r.URL.Path))
	default:
		writeError(w, s.log, r, parley.Errorf(parley.CodeNotFound, parley.ReasonNotFound, "no such push endpoint"))
	}
}

func (s *Service) subscription(w http.ResponseWriter, r *http.Request) error {
	dev, err := s.cfg.Authenticate(r)
	if err != nil {
		return err
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return parley.Errorf(parley.CodeInvalid, parley.ReasonBadBody, "read request: %v", err)
	}
	if len(data) > maxBody {
		return parley.Errorf(parley.CodeTooLarge, ReasonSubscriptionTooLarge, "a subscription request has at most %d bytes", maxBody)
	}
	ctx := r.Context()
	if r.Method == http.MethodDelete {
		var d struct {
			Endpoint string `json:"endpoint"`
		}
		if err := json.Unmarshal(data, &d); err != nil || d.Endpoint == "" {
			return parley.Errorf(parley.CodeInvalid, ReasonBadSubscription, `want {"endpoint": "…"}`)
		}
		if err := s.cfg.Store.DeletePushSubscription(ctx, dev.ID, d.Endpoint); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	endpoint, p256dh, auth, err := ParseSubscription(data)
	if err != nil {
		return err
	}
	have, err := s.cfg.Store.PushSubscriptions(ctx, []parley.DeviceID{dev.ID})
	if err != nil {
		return err
	}
	known := false
	for _, h := range have {
		known = known || h.Endpoint == endpoint
	}
	if !known && len(have) >= s.cfg.MaxPerDevice {
		return parley.Errorf(parley.CodeTooLarge, ReasonTooManySubscriptions, "a device has at most %d push subscriptions", s.cfg.MaxPerDevice)
	}
	if err := s.cfg.Store.PutPushSubscription(ctx, parley.PushSubscription{Endpoint: endpoint, Device: dev.ID, User: dev.User,
		P256DH: p256dh, Auth: auth, CreatedAt: s.clock.Now()}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, log *slog.Logger, r *http.Request, err error) {
	code := parley.ErrorCode(err)
	status := httperr.Status(code)
	if parley.ErrorReason(err) == "method_not_allowed" {
		status = http.StatusMethodNotAllowed
	}
	if status >= 500 {
		log.Error("push request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	httperr.Write(w, r, status, err)
}
