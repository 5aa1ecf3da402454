package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/ratelimit"
)

// Store is the part of parley.Store the service uses; a parley.Store
// satisfies it.
type Store interface {
	parley.AccountStore
	parley.DeviceStore
	parley.ContactStore
	parley.CounterStore // the PIN's durable guess budget
	// ConversationsOfUser lets Resolve allow lookups by user ID between
	// users who share a conversation.
	ConversationsOfUser(ctx context.Context, user parley.UserID) ([]parley.Conversation, error)
}

// Config sets the service's limits. Zero (or negative) fields take the
// documented defaults.
type Config struct {
	CodeTTL           time.Duration // how long a verification code is valid; default 10 min
	CodeResendAfter   time.Duration // minimum time between two codes sent to one number; default 60 s
	MaxCodesPerWindow int           // codes sent to one number per CodeWindow; default 5
	CodeWindow        time.Duration // default 1 h
	MaxVerifyAttempts int           // wrong codes or PINs before a code is void; default 5
	LinkCodeTTL       time.Duration // how long a link code is valid; default 5 min
	MaxLinkedDevices  int           // active linked devices besides the primary; default 4
	// Limits are the abuse limits (limits.go); zero fields take defaults.
	Limits Limits
	// Limiter counts the in-memory limits; default an in-process
	// ratelimit.Memory on the service's clock.
	Limiter parley.Limiter
	// CodeKey is the server secret (at least 32 bytes) that verification
	// and link codes are stored under, as HMAC-SHA256. It must stay the
	// same across restarts for codes outstanding at a restart to stay
	// valid; empty means a random key for this process (codes outstanding
	// at a restart are then void), with a warning in the log.
	CodeKey []byte
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defInt := func(n *int, v int) {
		if *n <= 0 {
			*n = v
		}
	}
	def(&c.CodeTTL, 10*time.Minute)
	def(&c.CodeResendAfter, 60*time.Second)
	defInt(&c.MaxCodesPerWindow, 5)
	def(&c.CodeWindow, time.Hour)
	defInt(&c.MaxVerifyAttempts, 5)
	def(&c.LinkCodeTTL, 5*time.Minute)
	defInt(&c.MaxLinkedDevices, 4)
	c.Limits = c.Limits.withDefaults()
	return c
}

// Service implements the account operations. It is safe for concurrent use.
type Service struct {
	store  Store
	sender parley.CodeSender
	clock  parley.Clock
	log    *slog.Logger
	cfg    Config
	locks  keyedMutex
}

// New returns a Service. A nil clock means the system clock, a nil logger
// discards logs; cfg's zero fields take their defaults.
func New(store Store, sender parley.CodeSender, clock parley.Clock, log *slog.Logger, cfg Config) *Service {
	if clock == nil {
		clock = parley.SystemClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	if cfg.Limiter == nil {
		cfg.Limiter = ratelimit.New(clock, 0)
	}
	if len(cfg.CodeKey) == 0 {
		log.Warn("no verification code key configured: codes outstanding at a restart will be void")
		cfg.CodeKey = randomBytes(32)
	}
	return &Service{
		store:  store,
		sender: sender,
		clock:  clock,
		log:    log,
		cfg:    cfg,
		locks:  keyedMutex{m: make(map[string]*keyedEntry)},
	}
}

// Config returns the effective configuration (defaults applied).
func (s *Service) Config() Config { return s.cfg }

// RetryAfter returns how long the caller should wait before retrying when
// err is a CodeRateLimited error that says so (parley.RetryAfter), and 0
// otherwise.
func RetryAfter(err error) time.Duration { return parley.RetryAfter(err) }

// rateLimited returns a CodeRateLimited error that RetryAfter understands.
func rateLimited(reason string, after time.Duration, msg string) error {
	return parley.RateLimited(reason, after, msg)
}

// internal wraps a store failure: a *parley.Error passes through unchanged
// with the operation added; anything else becomes CodeInternal.
func internal(op string, err error) error {
	if err == nil {
		return nil
	}
	var pe *parley.Error
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", op, err)
	}
	return &parley.Error{Code: parley.CodeInternal, Reason: parley.ReasonInternal, Message: "internal error", Err: fmt.Errorf("%s: %w", op, err)}
}

// Limits on user-supplied strings.
const (
	maxNameRunes    = 64
	minIdentityKey  = 32
	maxIdentityKey  = 200
	deviceSecretLen = 32
)

func checkIdentityKey(key []byte) error {
	if len(key) < minIdentityKey || len(key) > maxIdentityKey {
		return parley.Errorf(parley.CodeInvalid, ReasonIdentityKeyInvalid,
			"the identity key must be %d to %d bytes, got %d", minIdentityKey, maxIdentityKey, len(key))
	}
	return nil
}

// cleanName trims a display or device name and checks it: at most 64
// characters, and nothing parley.CheckName refuses (CodeInvalid
// parley.ReasonNameUnsafe). Empty is allowed.
func cleanName(name, reason string) (string, error) {
	name = strings.TrimSpace(name)
	if err := parley.CheckName(name); err != nil {
		return "", err
	}
	if utf8.RuneCountInString(name) > maxNameRunes {
		return "", parley.Errorf(parley.CodeInvalid, reason,
			"names must be at most %d characters of printable text", maxNameRunes)
	}
	return name, nil
}

func hash(b []byte) []byte {
	h := sha256.Sum256(b)
	return h[:]
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it panics instead)
	return b
}

// publicDevice strips what must not leave the service.
func publicDevice(d parley.Device) parley.Device {
	d.SecretHash = nil
	return d
}

// maskPhone keeps a phone number's country prefix and last two digits for
// logs: "+44*******58".
func maskPhone(p string) string {
	if len(p) <= 5 {
		return p
	}
	return p[:3] + strings.Repeat("*", len(p)-5) + p[len(p)-2:]
}

// keyedMutex serialises operations on one key (a phone number or a user)
// within the process. Locks on different keys never contend; a process that
// takes two locks takes the phone lock first.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*keyedEntry
}

type keyedEntry struct {
	mu   sync.Mutex
	refs int
}

func (k *keyedMutex) lock(key string) (unlock func()) {
	k.mu.Lock()
	e := k.m[key]
	if e == nil {
		e = &keyedEntry{}
		k.m[key] = e
	}
	e.refs++
	k.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		k.mu.Lock()
		e.refs--
		if e.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}

func (s *Service) lockPhone(phone string) func() { return s.locks.lock("p" + phone) }
func (s *Service) lockUser(id parley.UserID) func() {
	return s.locks.lock(id.String())
}
