package accounts

import (
	"context"
	"crypto/subtle"
	"fmt"
	"strings"
	"time"

	"github.com/parleyhq/parley"
)

// Authenticate checks a device's bearer credentials and returns the device
// (without its secret hash). The secret is compared by its SHA-256 in
// constant time; whether the device exists is not revealed to a caller
// without its secret.
//
// A suspended account (parley.User.SuspendedAt, set by the operator's admin
// API) cannot sign in: CodeForbidden "account_suspended", given only to a
// caller with the device's right secret.
//
// Errors: CodeUnauthenticated "bad_credentials" (unknown device or wrong
// secret) or "device_revoked" (right secret, but the device was removed or
// replaced by a re-registration); CodeRateLimited ReasonAuthFailures
// instead of "bad_credentials" once Config.Limits.AuthFailuresPerAddress
// or AuthFailuresPerDevice is spent. Only failures count and only failures
// are refused: valid credentials are accepted whatever others did from the
// same address or against the same device.
func (s *Service) Authenticate(ctx context.Context, id parley.DeviceID, secret []byte) (parley.Device, error) {
	d, err := s.authenticate(ctx, id, secret)
	if parley.ErrorReason(err) != "bad_credentials" {
		return d, err
	}
	addr, _ := addrKey("auth", ctx)
	if lerr := s.take(ctx, "authenticate",
		limitCheck{addr, s.cfg.Limits.AuthFailuresPerAddress, ReasonAuthFailures, "too many failed sign-ins from this address"},
		limitCheck{fmt.Sprintf("auth.device:%d", id), s.cfg.Limits.AuthFailuresPerDevice, ReasonAuthFailures, "too many failed sign-ins for this device"},
	); lerr != nil {
		return parley.Device{}, lerr
	}
	return d, err
}

func (s *Service) authenticate(ctx context.Context, id parley.DeviceID, secret []byte) (parley.Device, error) {
	sum := hash(secret)
	d, err := s.store.Device(ctx, id)
	if parley.IsCode(err, parley.CodeNotFound) {
		return parley.Device{}, errBadCredentials()
	}
	if err != nil {
		return parley.Device{}, internal("authenticate", err)
	}
	if len(secret) != deviceSecretLen || subtle.ConstantTimeCompare(sum, d.SecretHash) != 1 {
		return parley.Device{}, errBadCredentials()
	}
	if !d.Active() {
		return parley.Device{}, errRevoked()
	}
	u, err := s.store.User(ctx, d.User)
	if err != nil {
		return parley.Device{}, internal("authenticate: load user", err)
	}
	if !u.SuspendedAt.IsZero() {
		return parley.Device{}, parley.Errorf(parley.CodeForbidden, ReasonAccountSuspended, "this account has been suspended by the server's operator")
	}
	return publicDevice(d), nil
}

func errBadCredentials() error {
	return parley.Errorf(parley.CodeUnauthenticated, parley.ReasonBadCredentials, "unknown device or wrong secret")
}

func errRevoked() error {
	return parley.Errorf(parley.CodeUnauthenticated, parley.ReasonDeviceRevoked, "this device has been removed from the account")
}

// activeDevice re-reads a device the caller authenticated earlier, so a
// revocation since then is noticed.
func (s *Service) activeDevice(ctx context.Context, id parley.DeviceID) (parley.Device, error) {
	d, err := s.store.Device(ctx, id)
	if parley.IsCode(err, parley.CodeNotFound) {
		return parley.Device{}, errBadCredentials()
	}
	if err != nil {
		return parley.Device{}, internal("load device", err)
	}
	if !d.Active() {
		return parley.Device{}, errRevoked()
	}
	return d, nil
}

// Link codes are 10 characters of Crockford's base32 alphabet (50 bits),
// shown as "XXXXX-XXXXX". Reading them back ignores case, spaces and dashes
// and takes O for 0 and I or L for 1.
const (
	linkAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	linkCodeLen  = 10
)

func newLinkCode() string {
	b := randomBytes(linkCodeLen)
	var sb strings.Builder
	for i, c := range b {
		if i == linkCodeLen/2 {
			sb.WriteByte('-')
		}
		sb.WriteByte(linkAlphabet[c&31]) // 256 is a multiple of 32: uniform
	}
	return sb.String()
}

// normalizeLinkCode returns the canonical form of a typed link code.
func normalizeLinkCode(code string) (string, bool) {
	var sb strings.Builder
	for _, r := range strings.ToUpper(code) {
		switch r {
		case ' ', '-':
			continue
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		if r > 127 || strings.IndexByte(linkAlphabet, byte(r)) < 0 {
			return "", false
		}
		sb.WriteRune(r)
	}
	return sb.String(), sb.Len() == linkCodeLen
}

// NewLinkCode creates a single-use code, valid for Config.LinkCodeTTL, that
// links a new device to primary's account (LinkDevice). Only an active
// primary device may create one; several may be outstanding at once.
//
// Errors: CodeUnauthenticated "device_revoked"; CodeForbidden "not_primary";
// CodeTooLarge "too_many_devices" when the account already has
// Config.MaxLinkedDevices active linked devices.
func (s *Service) NewLinkCode(ctx context.Context, primary parley.Device) (code string, ttl time.Duration, err error) {
	d, err := s.activeDevice(ctx, primary.ID)
	if err != nil {
		return "", 0, err
	}
	if !d.Primary {
		return "", 0, parley.Errorf(parley.CodeForbidden, ReasonNotPrimary, "only the primary device can link devices")
	}
	devices, err := s.store.Devices(ctx, d.User)
	if err != nil {
		return "", 0, internal("link code: list devices", err)
	}
	if err := s.checkDeviceLimit(devices); err != nil {
		return "", 0, err
	}
	code = newLinkCode()
	canon, _ := normalizeLinkCode(code)
	err = s.store.PutLinkCode(ctx, parley.LinkCode{
		CodeHash:  s.codeMAC("link", "", canon),
		User:      d.User,
		ExpiresAt: s.clock.Now().Add(s.cfg.LinkCodeTTL),
	})
	if err != nil {
		return "", 0, internal("link code: store", err)
	}
	return code, s.cfg.LinkCodeTTL, nil
}

func (s *Service) checkDeviceLimit(devices []parley.Device) error {
	linked := 0
	for _, d := range devices {
		if d.Active() && !d.Primary {
			linked++
		}
	}
	if linked >= s.cfg.MaxLinkedDevices {
		return parley.Errorf(parley.CodeTooLarge, ReasonTooManyDevices,
			"an account can have %d linked devices; remove one first", s.cfg.MaxLinkedDevices)
	}
	return nil
}

// LinkDevice consumes a link code and returns the credentials of a new
// linked (non-primary) device of the code's account. A code works once,
// whatever the outcome; a code created before the account's current primary
// (that is, before a re-registration) is void.
//
// Errors: CodeInvalid "identity_key_invalid", "device_name_invalid" or
// parley.ReasonNameUnsafe;
// CodeNotFound "link_code_unknown" (never issued, or already used);
// CodeExpired "link_code_expired"; CodeTooLarge "too_many_devices";
// CodeRateLimited ReasonGuessesFromAddress instead of "link_code_unknown"
// once Config.Limits.GuessesPerAddress is spent.
func (s *Service) LinkDevice(ctx context.Context, code string, identityKey []byte, name string) (Credentials, error) {
	if err := checkIdentityKey(identityKey); err != nil {
		return Credentials{}, err
	}
	name, err := cleanName(name, ReasonDeviceNameInvalid)
	if err != nil {
		return Credentials{}, err
	}
	lc, err := s.takeLinkCode(ctx, code)
	if parley.IsCode(err, parley.CodeNotFound) {
		// Link codes cannot be guessed: only failures count, and a valid
		// code is never refused for others' failures.
		if lerr := s.take(ctx, "link device", s.guessAddr(ctx)); lerr != nil {
			return Credentials{}, lerr
		}
		return Credentials{}, errLinkUnknown()
	}
	if err != nil {
		return Credentials{}, internal("link device: take code", err)
	}
	now := s.clock.Now()
	if !now.Before(lc.ExpiresAt) {
		return Credentials{}, errLinkExpired()
	}

	defer s.lockUser(lc.User)()
	user, err := s.store.User(ctx, lc.User)
	if err != nil {
		return Credentials{}, internal("link device: load user", err)
	}
	devices, err := s.store.Devices(ctx, user.ID)
	if err != nil {
		return Credentials{}, internal("link device: list devices", err)
	}
	created := lc.ExpiresAt.Add(-s.cfg.LinkCodeTTL)
	primary := false
	for _, d := range devices {
		if d.Active() && d.Primary && !d.CreatedAt.After(created) {
			primary = true
		}
	}
	if !primary {
		return Credentials{}, errLinkExpired()
	}
	if err := s.checkDeviceLimit(devices); err != nil {
		return Credentials{}, err
	}
	creds, err := s.newDevice(ctx, user, false, name, identityKey, now)
	if err != nil {
		return Credentials{}, err
	}
	s.log.InfoContext(ctx, "device linked", "user", user.ID, "device", creds.Device)
	return creds, nil
}

// takeLinkCode takes the stored link code matching a typed one.
func (s *Service) takeLinkCode(ctx context.Context, code string) (parley.LinkCode, error) {
	canon, ok := normalizeLinkCode(code)
	if !ok {
		return parley.LinkCode{}, errLinkUnknown()
	}
	lc, err := s.store.TakeLinkCode(ctx, s.codeMAC("link", "", canon))
	if parley.IsCode(err, parley.CodeNotFound) {
		// A code issued before keyed codes (see codes.go).
		lc, err = s.store.TakeLinkCode(ctx, hash([]byte(canon)))
	}
	if parley.IsCode(err, parley.CodeNotFound) {
		return parley.LinkCode{}, errLinkUnknown()
	}
	return lc, err
}

func errLinkUnknown() error {
	return parley.Errorf(parley.CodeNotFound, ReasonLinkCodeUnknown, "unknown or already used link code")
}

func errLinkExpired() error {
	return parley.Errorf(parley.CodeExpired, ReasonLinkCodeExpired, "the link code has expired; show a new one on the primary device")
}

// Devices lists the user's devices, revoked ones included (RevokedAt set),
// by ID, without their secret hashes.
func (s *Service) Devices(ctx context.Context, user parley.UserID) ([]parley.Device, error) {
	ds, err := s.store.Devices(ctx, user)
	if err != nil {
		return nil, internal("list devices", err)
	}
	for i := range ds {
		ds[i] = publicDevice(ds[i])
	}
	return ds, nil
}

// RemoveDevice revokes device id on behalf of device by, and returns the
// conversations it was removed from (the caller appends the system
// envelopes and publishes parley.EventRevoked). The primary may remove any
// other device of its account; a linked device may remove only itself; the
// primary itself is replaced only by re-registering. Removing an already
// revoked device succeeds and returns no conversations.
//
// Errors: CodeUnauthenticated "device_revoked" (by was revoked meanwhile);
// CodeNotFound "device_not_found"; CodeForbidden "not_your_device",
// "not_primary" or "primary_device".
func (s *Service) RemoveDevice(ctx context.Context, by parley.Device, id parley.DeviceID) ([]parley.ConversationID, error) {
	actor, err := s.activeDevice(ctx, by.ID)
	if err != nil {
		return nil, err
	}
	target, err := s.store.Device(ctx, id)
	if parley.IsCode(err, parley.CodeNotFound) {
		return nil, parley.Errorf(parley.CodeNotFound, parley.ReasonDeviceNotFound, "no such device")
	}
	if err != nil {
		return nil, internal("remove device: load", err)
	}
	switch {
	case target.User != actor.User:
		return nil, parley.Errorf(parley.CodeForbidden, ReasonNotYourDevice, "the device belongs to another account")
	case target.Primary:
		return nil, parley.Errorf(parley.CodeForbidden, ReasonPrimaryDevice,
			"the primary device cannot be removed; register the number on a new device to replace it")
	case !actor.Primary && target.ID != actor.ID:
		return nil, parley.Errorf(parley.CodeForbidden, ReasonNotPrimary, "a linked device can only remove itself")
	}
	convs, err := s.store.RevokeDevice(ctx, target.ID, s.clock.Now())
	if err != nil {
		return nil, internal("remove device: revoke", err)
	}
	s.log.InfoContext(ctx, "device removed", "user", target.User, "device", target.ID, "by", actor.ID, "conversations", len(convs))
	return convs, nil
}
