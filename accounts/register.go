package accounts

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/parleyhq/parley"
)

// RegisterResult tells the client where its registration stands.
type RegisterResult struct {
	Phone       string        // the number in E.164 form
	ExpiresIn   time.Duration // how long the code just sent is valid
	ResendAfter time.Duration // how long until another code can be requested
}

// Register sends a 6-digit verification code to phone and remembers name as
// the display name of the account Verify creates (for an existing account a
// non-empty name replaces the current one). Any previous code for the
// number is voided. Register answers the same whether the number is
// registered or not.
//
// Errors: CodeInvalid "phone_invalid", "name_invalid" (too long) or
// parley.ReasonNameUnsafe (see parley.CheckName); CodeRateLimited
// "resend_too_soon" (less than Config.CodeResendAfter since the last code)
// or "too_many_codes" (Config.MaxCodesPerWindow codes in the current
// Config.CodeWindow), ReasonSMSFromAddress, ReasonSMSForPrefix or
// ReasonSMSGlobal (Config.Limits), all with RetryAfter set; CodeUnavailable
// "sms_gateway_failed" when the sender fails, in which case the send does
// not count against the limits and the previous code stays valid.
func (s *Service) Register(ctx context.Context, phone, name string) (RegisterResult, error) {
	phone, err := NormalizePhone(phone)
	if err != nil {
		return RegisterResult{}, err
	}
	name, err = cleanName(name, ReasonNameInvalid)
	if err != nil {
		return RegisterResult{}, err
	}
	defer s.lockPhone(phone)()

	now := s.clock.Now()
	prev, err := s.store.Verification(ctx, phone)
	found := err == nil
	if err != nil && !parley.IsCode(err, parley.CodeNotFound) {
		return RegisterResult{}, internal("register: load verification", err)
	}

	v := prev
	if found {
		if wait := s.lastSent(prev).Add(s.cfg.CodeResendAfter).Sub(now); wait > 0 {
			return RegisterResult{}, rateLimited(ReasonResendTooSoon, wait, "a code was sent to this number a moment ago")
		}
	}
	if !found || !now.Before(v.WindowAt.Add(s.cfg.CodeWindow)) {
		v.Sent, v.WindowAt = 0, now
	}
	if v.Sent >= s.cfg.MaxCodesPerWindow {
		return RegisterResult{}, rateLimited(ReasonTooManyCodes, v.WindowAt.Add(s.cfg.CodeWindow).Sub(now),
			"too many codes were sent to this number")
	}

	sms := []limitCheck{
		s.smsAddr(ctx),
		{"sms.prefix:" + countryPrefix(phone), s.cfg.Limits.SMSPerPrefix, ReasonSMSForPrefix, "too many codes are being sent to this country; the server is limiting them"},
		{"sms.global", s.cfg.Limits.SMSGlobal, ReasonSMSGlobal, "the server is sending too many codes"},
	}
	if err := s.check(ctx, "register", sms...); err != nil {
		s.log.WarnContext(ctx, "verification code refused", "phone", maskPhone(phone), "reason", parley.ErrorReason(err))
		return RegisterResult{}, err
	}
	if err := s.take(ctx, "register", sms...); err != nil {
		return RegisterResult{}, err
	}

	code := newVerificationCode()
	v.Phone = phone
	v.CodeHash = s.codeMAC("verify", phone, code)
	v.Name = name
	v.Attempts = 0
	v.Sent++
	v.ExpiresAt = now.Add(s.cfg.CodeTTL)
	if err := s.store.PutVerification(ctx, v); err != nil {
		return RegisterResult{}, internal("register: store verification", err)
	}
	if err := s.sender.SendCode(ctx, phone, code); err != nil {
		// Undo, so a failing gateway costs the user neither a send nor the
		// previous code. Best effort: the record is rewritten, not merged.
		var undo error
		if found {
			undo = s.store.PutVerification(context.WithoutCancel(ctx), prev)
		} else {
			undo = s.store.DeleteVerification(context.WithoutCancel(ctx), phone)
		}
		s.log.WarnContext(ctx, "verification code not sent", "phone", maskPhone(phone), "err", err, "undo_err", undo)
		if parley.ErrorCode(err) == parley.CodeInternal {
			err = gatewayFailed(err)
		}
		return RegisterResult{}, err
	}
	s.log.InfoContext(ctx, "verification code sent", "phone", maskPhone(phone), "sent_in_window", v.Sent)

	res := RegisterResult{Phone: phone, ExpiresIn: s.cfg.CodeTTL, ResendAfter: s.cfg.CodeResendAfter}
	if v.Sent >= s.cfg.MaxCodesPerWindow {
		res.ResendAfter = max(res.ResendAfter, v.WindowAt.Add(s.cfg.CodeWindow).Sub(now))
	}
	return res, nil
}

// lastSent is when v's code was sent. The Verification record keeps only the
// expiry, so this assumes Config.CodeTTL has not changed since.
func (s *Service) lastSent(v parley.Verification) time.Time {
	return v.ExpiresAt.Add(-s.cfg.CodeTTL)
}

// nextSend is how long until a new code can be sent for v.
func (s *Service) nextSend(v parley.Verification, now time.Time) time.Duration {
	wait := s.lastSent(v).Add(s.cfg.CodeResendAfter).Sub(now)
	windowEnd := v.WindowAt.Add(s.cfg.CodeWindow)
	if v.Sent >= s.cfg.MaxCodesPerWindow && now.Before(windowEnd) {
		wait = max(wait, windowEnd.Sub(now))
	}
	return wait
}

func newVerificationCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// VerifyParams are the inputs of Verify.
type VerifyParams struct {
	Phone       string
	Code        string // the 6 digits; spaces and dashes are ignored
	PIN         string // required when the account has a two-step PIN
	IdentityKey []byte // the new device's MLS signature public key, 32 to 200 bytes
	DeviceName  string
}

// Credentials are a device's bearer credentials. Secret is returned only
// here, once; the store keeps its SHA-256.
type Credentials struct {
	User    parley.UserID
	Device  parley.DeviceID
	Secret  []byte // 32 random bytes
	Primary bool
	Phone   string
	// Created is set when Verify created the account (a new number).
	Created bool
	// Revoked lists the devices a re-registration revoked and the
	// conversations each was removed from, so the caller can close their
	// sessions (parley.EventRevoked) and tell the conversations.
	Revoked []Revocation
}

// Revocation is one revoked device and the conversations it left.
type Revocation struct {
	Device        parley.DeviceID
	Conversations []parley.ConversationID
}

// Verify checks the code sent to p.Phone and returns the credentials of a
// new primary device. For a new number it creates the account. For a
// registered number it first checks the two-step PIN when one is set, then
// revokes every device of the account and creates the new primary; the
// account keeps its ID, username, contacts, blocks and PIN. The code is
// consumed on success.
//
// Errors: CodeInvalid "phone_invalid", "identity_key_invalid",
// "device_name_invalid", parley.ReasonNameUnsafe, or "code_wrong" (a wrong or malformed code; a wrong
// one counts as an attempt); CodeNotFound "no_pending_code" (no code was
// requested for the number, or it was used); CodeExpired "code_expired";
// CodeRateLimited "too_many_attempts" once Config.MaxVerifyAttempts wrong
// codes or PINs were entered (the code is void: request another);
// CodeForbidden "pin_required" (no PIN given; not counted) or "pin_wrong"
// (counted). Config.Limits add CodeRateLimited ReasonGuessesFromAddress and
// ReasonGuessesForNumber (wrong codes and PINs, refused before the code is
// checked) and ReasonPINLocked (the account's durable PIN budget is spent;
// new codes do not restore it), each with RetryAfter set.
func (s *Service) Verify(ctx context.Context, p VerifyParams) (Credentials, error) {
	phone, err := NormalizePhone(p.Phone)
	if err != nil {
		return Credentials{}, err
	}
	if err := checkIdentityKey(p.IdentityKey); err != nil {
		return Credentials{}, err
	}
	deviceName, err := cleanName(p.DeviceName, ReasonDeviceNameInvalid)
	if err != nil {
		return Credentials{}, err
	}
	code := strings.NewReplacer(" ", "", "-", "").Replace(p.Code)
	defer s.lockPhone(phone)()

	guesses := []limitCheck{s.guessAddr(ctx), s.guessNumber(phone)}
	if err := s.check(ctx, "verify", guesses...); err != nil {
		return Credentials{}, err
	}
	now := s.clock.Now()
	v, err := s.store.Verification(ctx, phone)
	if parley.IsCode(err, parley.CodeNotFound) {
		return Credentials{}, parley.Errorf(parley.CodeNotFound, ReasonNoPendingCode, "no code is pending for this number; register first")
	}
	if err != nil {
		return Credentials{}, internal("verify: load verification", err)
	}
	if v.Attempts >= s.cfg.MaxVerifyAttempts || len(v.CodeHash) == 0 {
		return Credentials{}, rateLimited(ReasonTooManyAttempts, s.nextSend(v, now), "too many wrong attempts; request a new code")
	}
	if !now.Before(v.ExpiresAt) {
		return Credentials{}, parley.Errorf(parley.CodeExpired, ReasonCodeExpired, "the code has expired; request a new one")
	}
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return Credentials{}, parley.Errorf(parley.CodeInvalid, ReasonCodeWrong, "the code is 6 digits")
	}
	if !s.verificationCodeMatches(v.CodeHash, phone, code) {
		left, err := s.countAttempt(ctx, v)
		if err != nil {
			return Credentials{}, err
		}
		if err := s.take(ctx, "verify", guesses...); parley.IsCode(err, parley.CodeUnavailable) {
			return Credentials{}, err
		}
		return Credentials{}, parley.Errorf(parley.CodeInvalid, ReasonCodeWrong, "wrong code; %s", attemptsLeft(left))
	}

	user, err := s.store.UserByPhone(ctx, phone)
	switch {
	case parley.IsCode(err, parley.CodeNotFound):
		return s.createAccount(ctx, v, deviceName, p.IdentityKey, now)
	case err != nil:
		return Credentials{}, internal("verify: load user", err)
	}

	if len(user.PINHash) > 0 {
		if p.PIN == "" {
			return Credentials{}, parley.Errorf(parley.CodeForbidden, ReasonPINRequired, "this account has a two-step verification PIN; enter it")
		}
		if err := s.checkPINBudget(ctx, user.ID, now); err != nil {
			return Credentials{}, err
		}
		if !pinMatches(user.PINHash, p.PIN) {
			left, err := s.countAttempt(ctx, v)
			if err != nil {
				return Credentials{}, err
			}
			if err := s.take(ctx, "verify", s.guessAddr(ctx)); parley.IsCode(err, parley.CodeUnavailable) {
				return Credentials{}, err
			}
			pinLeft, reset, err := s.countWrongPIN(ctx, user.ID, now)
			if err != nil {
				return Credentials{}, err
			}
			s.log.WarnContext(ctx, "wrong PIN at re-registration", "user", user.ID, "attempts_left", left, "pin_guesses_left", pinLeft)
			if pinLeft <= 0 {
				return Credentials{}, pinLocked(reset)
			}
			return Credentials{}, parley.Errorf(parley.CodeForbidden, ReasonPINWrong, "wrong PIN; %s", attemptsLeft(min(left, pinLeft)))
		}
	}
	return s.reregister(ctx, user, v, deviceName, p.IdentityKey, now)
}

// countAttempt records one wrong code or PIN and returns the attempts left.
func (s *Service) countAttempt(ctx context.Context, v parley.Verification) (int, error) {
	v.Attempts++
	if err := s.store.PutVerification(ctx, v); err != nil {
		return 0, internal("verify: count attempt", err)
	}
	return s.cfg.MaxVerifyAttempts - v.Attempts, nil
}

func attemptsLeft(n int) string {
	switch {
	case n <= 0:
		return "no attempts left: request a new code"
	case n == 1:
		return "1 attempt left"
	}
	return fmt.Sprintf("%d attempts left", n)
}

func (s *Service) createAccount(ctx context.Context, v parley.Verification, deviceName string, key []byte, now time.Time) (Credentials, error) {
	user, err := s.store.CreateUser(ctx, parley.User{Phone: v.Phone, Name: v.Name, CreatedAt: now})
	if err != nil {
		return Credentials{}, internal("verify: create user", err)
	}
	creds, err := s.newDevice(ctx, user, true, deviceName, key, now)
	if err != nil {
		return Credentials{}, err
	}
	creds.Created = true
	s.consume(ctx, v.Phone)
	s.log.InfoContext(ctx, "account created", "user", user.ID, "device", creds.Device)
	return creds, nil
}

// reregister moves an existing account to a new primary device. Every step
// is idempotent, so a failure part-way leaves the code valid for a retry.
func (s *Service) reregister(ctx context.Context, user parley.User, v parley.Verification, deviceName string, key []byte, now time.Time) (Credentials, error) {
	defer s.lockUser(user.ID)()
	if v.Name != "" && v.Name != user.Name {
		// Re-read under the user lock so a concurrent profile change is kept.
		u, err := s.store.User(ctx, user.ID)
		if err != nil {
			return Credentials{}, internal("verify: load user", err)
		}
		u.Name = v.Name
		if err := s.store.UpdateUser(ctx, u); err != nil {
			return Credentials{}, internal("verify: update name", err)
		}
		user = u
	}
	devices, err := s.store.Devices(ctx, user.ID)
	if err != nil {
		return Credentials{}, internal("verify: list devices", err)
	}
	var revoked []Revocation
	for _, d := range devices {
		if !d.Active() {
			continue
		}
		convs, err := s.store.RevokeDevice(ctx, d.ID, now)
		if err != nil {
			return Credentials{}, internal("verify: revoke device", err)
		}
		revoked = append(revoked, Revocation{Device: d.ID, Conversations: convs})
	}
	creds, err := s.newDevice(ctx, user, true, deviceName, key, now)
	if err != nil {
		return Credentials{}, err
	}
	creds.Revoked = revoked
	s.consume(ctx, v.Phone)
	s.log.InfoContext(ctx, "account re-registered", "user", user.ID, "device", creds.Device, "revoked_devices", len(revoked))
	return creds, nil
}

// consume deletes a used verification. A failure only leaves a code that
// can be used once more by its holder, so it is logged, not returned.
func (s *Service) consume(ctx context.Context, phone string) {
	if err := s.store.DeleteVerification(context.WithoutCancel(ctx), phone); err != nil && !parley.IsCode(err, parley.CodeNotFound) {
		s.log.ErrorContext(ctx, "delete used verification", "phone", maskPhone(phone), "err", err)
	}
}

func (s *Service) newDevice(ctx context.Context, user parley.User, primary bool, name string, key []byte, now time.Time) (Credentials, error) {
	secret := randomBytes(deviceSecretLen)
	d, err := s.store.CreateDevice(ctx, parley.Device{
		User:        user.ID,
		Name:        name,
		Primary:     primary,
		SecretHash:  hash(secret),
		IdentityKey: append([]byte(nil), key...),
		CreatedAt:   now,
	})
	if err != nil {
		return Credentials{}, internal("create device", err)
	}
	return Credentials{User: user.ID, Device: d.ID, Secret: secret, Primary: primary, Phone: user.Phone}, nil
}
