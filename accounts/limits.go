package accounts

import (
	"context"
	"fmt"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/clientip"
)

// Reasons of the CodeRateLimited errors the abuse limits return. Every one
// carries a retry-after (RetryAfter).
const (
	// ReasonAuthFailures: too many failed device authentications from this
	// address or for this device. Only failures are refused: a request with
	// valid credentials always succeeds.
	ReasonAuthFailures = "too_many_auth_failures"
	// ReasonGuessesFromAddress: too many wrong verification codes, PINs or
	// link codes from this address.
	ReasonGuessesFromAddress = "too_many_guesses_from_address"
	// ReasonGuessesForNumber: too many wrong codes for this phone number,
	// over all the codes sent to it.
	ReasonGuessesForNumber = "too_many_guesses_for_number"
	// ReasonPINLocked: the account's two-step PIN guess budget is spent;
	// neither a new code nor a restart gives it back.
	ReasonPINLocked = "pin_locked"
	// ReasonSMSFromAddress: too many verification SMS requested from this
	// address.
	ReasonSMSFromAddress = "too_many_codes_from_address"
	// ReasonSMSForPrefix: the country calling code's SMS budget is spent
	// (SMS pumping defence).
	ReasonSMSForPrefix = "sms_budget_country"
	// ReasonSMSGlobal: the server's SMS budget is spent.
	ReasonSMSGlobal = "sms_budget_global"
	// ReasonTooManyLookups: the account made too many directory lookups.
	ReasonTooManyLookups = "too_many_lookups"
	// ReasonLimiterUnavailable (CodeUnavailable) : a limit's counter could
	// not be read; the request is refused rather than let through.
	ReasonLimiterUnavailable = "limiter_unavailable"
)

// Limits are the account service's abuse limits. Every per-address limit is
// keyed on the client address that package clientip put in the request
// context (a call without one, such as a hosted endpoint's, skips them);
// the others are keyed on the account, device or number they protect, so an
// attacker spreading over many addresses still meets them.
//
// Two kinds of secret are treated differently. Device secrets (256 bits)
// and link codes (50 bits) cannot be guessed, so a request carrying a valid
// one always succeeds and only failures are counted and refused: a
// bystander behind an attacker's address (a carrier NAT) is never locked
// out. Six-digit codes and PINs can be guessed, so once a budget is spent
// they are refused before being checked.
//
// Zero fields take the defaults given; a negative Events disables a limit.
type Limits struct {
	AuthFailuresPerAddress parley.Limit // default 30 per 10 min
	AuthFailuresPerDevice  parley.Limit // default 10 per 10 min
	GuessesPerAddress      parley.Limit // wrong codes, PINs and link codes; default 20 per hour
	GuessesPerNumber       parley.Limit // wrong codes over all codes of a number; default 10 per hour
	// PINGuesses wrong PINs per account within PINWindow lock the PIN until
	// the window ends. Durable (parley.CounterStore): new codes and restarts
	// do not reset it. Defaults 10 per 24 h, as Signal.
	PINGuesses     int
	PINWindow      time.Duration
	SMSPerAddress  parley.Limit // default 10 per hour
	SMSPerPrefix   parley.Limit // per country calling code; default 300 per hour
	SMSGlobal      parley.Limit // default 2000 per hour
	LookupsPerUser parley.Limit // directory lookups (phone, username, id); default 120 per hour
}

func (l Limits) withDefaults() Limits {
	def := func(x *parley.Limit, events int, window time.Duration) {
		if x.Events == 0 || x.Window <= 0 && x.Events > 0 {
			*x = parley.Limit{Events: events, Window: window}
		}
	}
	def(&l.AuthFailuresPerAddress, 30, 10*time.Minute)
	def(&l.AuthFailuresPerDevice, 10, 10*time.Minute)
	def(&l.GuessesPerAddress, 20, time.Hour)
	def(&l.GuessesPerNumber, 10, time.Hour)
	def(&l.SMSPerAddress, 10, time.Hour)
	def(&l.SMSPerPrefix, 300, time.Hour)
	def(&l.SMSGlobal, 2000, time.Hour)
	def(&l.LookupsPerUser, 120, time.Hour)
	if l.PINGuesses == 0 {
		l.PINGuesses = 10
	}
	if l.PINWindow <= 0 {
		l.PINWindow = 24 * time.Hour
	}
	return l
}

// Limit keys. Each names what is limited and by what.
func addrKey(kind string, ctx context.Context) (string, bool) {
	a, ok := clientip.From(ctx)
	if !ok {
		return "", false
	}
	return kind + ".addr:" + clientip.Key(a), true
}

func pinKey(u parley.UserID) string { return fmt.Sprintf("pin.user:%d", u) }

// countryPrefix returns the country calling code of an E.164 number ("+44").
func countryPrefix(phone string) string {
	n, err := phonenumbers.Parse(phone, "ZZ")
	if err != nil {
		return "?"
	}
	return fmt.Sprintf("+%d", n.GetCountryCode())
}

// limitCheck is one limit a request must pass.
type limitCheck struct {
	key    string
	limit  parley.Limit
	reason string
	msg    string
}

// check refuses when any of the limits has no token left, without taking
// any.
func (s *Service) check(ctx context.Context, op string, checks ...limitCheck) error {
	for _, c := range checks {
		if c.key == "" {
			continue
		}
		ok, wait, err := s.cfg.Limiter.Check(ctx, c.key, c.limit)
		if err != nil {
			return limiterDown(op, err)
		}
		if !ok {
			return parley.RateLimited(c.reason, wait, c.msg)
		}
	}
	return nil
}

// take takes a token from every limit and returns the first refusal (the
// other tokens are still taken: a refused attempt counts).
func (s *Service) take(ctx context.Context, op string, checks ...limitCheck) error {
	var first error
	for _, c := range checks {
		if c.key == "" {
			continue
		}
		ok, wait, err := s.cfg.Limiter.Allow(ctx, c.key, c.limit)
		if err != nil {
			return limiterDown(op, err)
		}
		if !ok && first == nil {
			first = parley.RateLimited(c.reason, wait, c.msg)
		}
	}
	return first
}

func limiterDown(op string, err error) error {
	return &parley.Error{Code: parley.CodeUnavailable, Reason: ReasonLimiterUnavailable,
		Message: "the server cannot check its limits right now; retry later", Err: fmt.Errorf("%s: limiter: %w", op, err)}
}

func (s *Service) guessAddr(ctx context.Context) limitCheck {
	k, _ := addrKey("guess", ctx)
	return limitCheck{k, s.cfg.Limits.GuessesPerAddress, ReasonGuessesFromAddress, "too many wrong codes from this address"}
}

func (s *Service) smsAddr(ctx context.Context) limitCheck {
	k, _ := addrKey("sms", ctx)
	return limitCheck{k, s.cfg.Limits.SMSPerAddress, ReasonSMSFromAddress, "too many codes were requested from this address"}
}

func (s *Service) guessNumber(phone string) limitCheck {
	return limitCheck{"guess.phone:" + phone, s.cfg.Limits.GuessesPerNumber, ReasonGuessesForNumber, "too many wrong codes for this number"}
}

// checkPINBudget refuses when the account's durable PIN budget is spent.
func (s *Service) checkPINBudget(ctx context.Context, user parley.UserID, now time.Time) error {
	n, reset, err := s.store.Events(ctx, pinKey(user), now)
	if err != nil {
		return limiterDown("pin budget", err)
	}
	if n >= s.cfg.Limits.PINGuesses {
		return pinLocked(reset.Sub(now))
	}
	return nil
}

// countWrongPIN spends one guess of the account's PIN budget and returns
// the guesses left.
func (s *Service) countWrongPIN(ctx context.Context, user parley.UserID, now time.Time) (int, time.Duration, error) {
	n, reset, err := s.store.AddEvent(ctx, pinKey(user), s.cfg.Limits.PINWindow, now)
	if err != nil {
		return 0, 0, limiterDown("pin budget", err)
	}
	return s.cfg.Limits.PINGuesses - n, reset.Sub(now), nil
}

func pinLocked(wait time.Duration) error {
	return parley.RateLimited(ReasonPINLocked, wait, "too many wrong PINs for this account")
}
