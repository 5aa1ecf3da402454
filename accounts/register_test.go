package accounts_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/accounts"
)

func TestRegistrationFlow(t *testing.T) {
	e := newEnv(t, accounts.Config{})

	res, err := e.svc.Register(e.ctx, "+1 (415) 555-0100", "  Alice  ")
	if err != nil {
		t.Fatal(err)
	}
	want := accounts.RegisterResult{Phone: alicePhone, ExpiresIn: 10 * time.Minute, ResendAfter: time.Minute}
	if res != want {
		t.Fatalf("Register = %+v, want %+v", res, want)
	}
	code := e.sender.Code(alicePhone)
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		t.Fatalf("code %q is not 6 digits", code)
	}

	// Only a keyed MAC of the code is stored: neither the code nor its
	// unkeyed hash (codes_test.go checks the MAC).
	v, err := e.store.Verification(e.ctx, alicePhone)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(v.CodeHash, sha([]byte(code))) || bytes.Contains(v.CodeHash, []byte(code)) || len(v.CodeHash) != 33 || v.Name != "Alice" || v.Sent != 1 || !v.ExpiresAt.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("stored verification = %+v", v)
	}

	e.clock.Advance(9 * time.Minute)
	creds, err := e.svc.Verify(e.ctx, accounts.VerifyParams{
		Phone: "0014155550100", Code: code[:3] + " " + code[3:], IdentityKey: identityKey(7), DeviceName: "Alice's phone",
	})
	if err != nil {
		t.Fatal(err)
	}
	if creds.User == 0 || creds.Device == 0 || !creds.Primary || !creds.Created || creds.Phone != alicePhone ||
		len(creds.Secret) != 32 || len(creds.Revoked) != 0 {
		t.Fatalf("Verify = %+v", creds)
	}

	u, err := e.store.User(e.ctx, creds.User)
	if err != nil {
		t.Fatal(err)
	}
	if u.Phone != alicePhone || u.Name != "Alice" || len(u.PINHash) != 0 {
		t.Fatalf("user = %+v", u)
	}
	d, err := e.store.Device(e.ctx, creds.Device)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d.SecretHash, sha(creds.Secret)) || !bytes.Equal(d.IdentityKey, identityKey(7)) ||
		d.Name != "Alice's phone" || !d.Primary || d.User != creds.User || !d.Active() {
		t.Fatalf("device = %+v", d)
	}

	got := e.MustDevice(creds)
	if got.ID != creds.Device || got.User != creds.User || got.SecretHash != nil {
		t.Fatalf("Authenticate = %+v", got)
	}

	// The code is single use.
	_, err = e.svc.Verify(e.ctx, accounts.VerifyParams{Phone: alicePhone, Code: code, IdentityKey: identityKey(7)})
	wantErr(t, err, parley.CodeNotFound, "no_pending_code")
}

func TestRegisterErrors(t *testing.T) {
	tests := []struct {
		name   string
		phone  string
		uname  string
		code   parley.Code
		reason string
	}{
		{"ok", alicePhone, "Alice", "", ""},
		{"empty name", alicePhone, "", "", ""},
		{"no country", "4155550100", "Alice", parley.CodeInvalid, "phone_invalid"},
		{"invalid number", "+1 415 555 01", "Alice", parley.CodeInvalid, "phone_invalid"},
		{"control character", alicePhone, "Al\x00ice", parley.CodeInvalid, parley.ReasonNameUnsafe},
		{"bidi override", alicePhone, "Al\u202eice", parley.CodeInvalid, parley.ReasonNameUnsafe},
		{"zero-width space", alicePhone, "Al\u200bice", parley.CodeInvalid, parley.ReasonNameUnsafe},
		{"long name", alicePhone, strings.Repeat("a", 65), parley.CodeInvalid, "name_invalid"},
		{"bad utf-8", alicePhone, "Al\xffice", parley.CodeInvalid, parley.ReasonNameUnsafe},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, accounts.Config{})
			_, err := e.svc.Register(e.ctx, tt.phone, tt.uname)
			wantErr(t, err, tt.code, tt.reason)
		})
	}
}

func TestSendLimits(t *testing.T) {
	e := newEnv(t, accounts.Config{})
	e.MustRegister(alicePhone, "Alice")

	_, err := e.svc.Register(e.ctx, alicePhone, "Alice")
	wantErr(t, err, parley.CodeRateLimited, "resend_too_soon")
	if got := accounts.RetryAfter(err); got != time.Minute {
		t.Fatalf("RetryAfter = %v, want 1m", got)
	}
	e.clock.Advance(59 * time.Second)
	_, err = e.svc.Register(e.ctx, alicePhone, "Alice")
	wantErr(t, err, parley.CodeRateLimited, "resend_too_soon")
	if got := accounts.RetryAfter(err); got != time.Second {
		t.Fatalf("RetryAfter = %v, want 1s", got)
	}

	// Another number is not affected.
	e.MustRegister(bobPhone, "Bob")

	// Codes 2..5 of the window, one a minute; the fifth says when the window reopens.
	for i := 2; i <= 5; i++ {
		e.clock.Advance(time.Minute)
		res, err := e.svc.Register(e.ctx, alicePhone, "Alice")
		if err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		if i == 5 && res.ResendAfter <= time.Minute {
			t.Fatalf("fifth send: ResendAfter = %v, want until the window ends", res.ResendAfter)
		}
	}
	e.clock.Advance(time.Minute) // t0 + 5m59s; the window opened at t0 with the first code
	_, err = e.svc.Register(e.ctx, alicePhone, "Alice")
	wantErr(t, err, parley.CodeRateLimited, "too_many_codes")
	if got, want := accounts.RetryAfter(err), time.Hour-(5*time.Minute+59*time.Second); got != want {
		t.Fatalf("RetryAfter = %v, want %v", got, want)
	}

	// The limits are in the store: a new service (a restart, another node) sees them.
	other := accounts.New(e.store, e.sender, e.clock, nil, accounts.Config{})
	_, err = other.Register(e.ctx, alicePhone, "Alice")
	wantErr(t, err, parley.CodeRateLimited, "too_many_codes")

	e.clock.Advance(accounts.RetryAfter(err))
	e.MustRegister(alicePhone, "Alice")
}

func TestSendLimitsCustomConfig(t *testing.T) {
	e := newEnv(t, accounts.Config{CodeResendAfter: 10 * time.Second, MaxCodesPerWindow: 2, CodeWindow: time.Minute})
	e.MustRegister(alicePhone, "")
	e.clock.Advance(10 * time.Second)
	e.MustRegister(alicePhone, "")
	e.clock.Advance(10 * time.Second)
	_, err := e.svc.Register(e.ctx, alicePhone, "")
	wantErr(t, err, parley.CodeRateLimited, "too_many_codes")
	e.clock.Advance(40 * time.Second)
	e.MustRegister(alicePhone, "")
}

func TestConcurrentRegisterSendsOnce(t *testing.T) {
	e := newEnv(t, accounts.Config{})
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { _, errs[i] = e.svc.Register(e.ctx, alicePhone, "Alice") })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			wantErr(t, err, parley.CodeRateLimited, "resend_too_soon")
		}
	}
	if ok != 1 || e.sender.Sends() != 1 {
		t.Fatalf("%d registrations succeeded and %d codes were sent, want 1 and 1", ok, e.sender.Sends())
	}
}

func TestSenderFailure(t *testing.T) {
	e := newEnv(t, accounts.Config{})
	code := e.MustRegister(alicePhone, "Alice")
	e.clock.Advance(time.Minute)

	e.sender.Fail(errGateway)
	_, err := e.svc.Register(e.ctx, alicePhone, "Alice")
	wantErr(t, err, parley.CodeUnavailable, "sms_gateway_failed")
	_, err = e.svc.Register(e.ctx, bobPhone, "Bob")
	wantErr(t, err, parley.CodeUnavailable, "sms_gateway_failed")
	e.sender.Fail(nil)

	// The failed send did not count and did not void the previous code.
	v, err := e.store.Verification(e.ctx, alicePhone)
	if err != nil || v.Sent != 1 {
		t.Fatalf("verification after a failed send: %+v, %v", v, err)
	}
	if _, err := e.store.Verification(e.ctx, bobPhone); !parley.IsCode(err, parley.CodeNotFound) {
		t.Fatalf("a verification was kept for a code never sent: %v", err)
	}
	if _, err := e.svc.Verify(e.ctx, accounts.VerifyParams{Phone: alicePhone, Code: code, IdentityKey: identityKey(1)}); err != nil {
		t.Fatal(err)
	}
	e.MustRegister(bobPhone, "Bob")
}

func TestVerifyErrors(t *testing.T) {
	verify := func(e *env, p accounts.VerifyParams) error {
		_, err := e.svc.Verify(e.ctx, p)
		return err
	}
	params := func(code string) accounts.VerifyParams {
		return accounts.VerifyParams{Phone: alicePhone, Code: code, IdentityKey: identityKey(1), DeviceName: "phone"}
	}
	wrong := func(code string) string { return code[:5] + string(rune('0'+(code[5]-'0'+1)%10)) }

	tests := []struct {
		name   string
		run    func(e *env, code string) error
		code   parley.Code
		reason string
	}{
		{"ok", func(e *env, code string) error { return verify(e, params(code)) }, "", ""},
		{"bad phone", func(e *env, code string) error {
			p := params(code)
			p.Phone = "+1"
			return verify(e, p)
		}, parley.CodeInvalid, "phone_invalid"},
		{"no identity key", func(e *env, code string) error {
			p := params(code)
			p.IdentityKey = nil
			return verify(e, p)
		}, parley.CodeInvalid, "identity_key_invalid"},
		{"short identity key", func(e *env, code string) error {
			p := params(code)
			p.IdentityKey = make([]byte, 31)
			return verify(e, p)
		}, parley.CodeInvalid, "identity_key_invalid"},
		{"long identity key", func(e *env, code string) error {
			p := params(code)
			p.IdentityKey = make([]byte, 201)
			return verify(e, p)
		}, parley.CodeInvalid, "identity_key_invalid"},
		{"largest identity key", func(e *env, code string) error {
			p := params(code)
			p.IdentityKey = make([]byte, 200)
			return verify(e, p)
		}, "", ""},
		{"bad device name", func(e *env, code string) error {
			p := params(code)
			p.DeviceName = "a\nb"
			return verify(e, p)
		}, parley.CodeInvalid, parley.ReasonNameUnsafe},
		{"long device name", func(e *env, code string) error {
			p := params(code)
			p.DeviceName = strings.Repeat("a", 65)
			return verify(e, p)
		}, parley.CodeInvalid, "device_name_invalid"},
		{"no code pending", func(e *env, code string) error {
			p := params(code)
			p.Phone = bobPhone
			return verify(e, p)
		}, parley.CodeNotFound, "no_pending_code"},
		{"wrong code", func(e *env, code string) error { return verify(e, params(wrong(code))) }, parley.CodeInvalid, "code_wrong"},
		{"malformed code", func(e *env, code string) error { return verify(e, params("12a456")) }, parley.CodeInvalid, "code_wrong"},
		{"expired", func(e *env, code string) error {
			e.clock.Advance(10 * time.Minute)
			return verify(e, params(code))
		}, parley.CodeExpired, "code_expired"},
		{"just before expiry", func(e *env, code string) error {
			e.clock.Advance(10*time.Minute - time.Nanosecond)
			return verify(e, params(code))
		}, "", ""},
		{"five wrong then right", func(e *env, code string) error {
			for i := range 5 {
				err := verify(e, params(wrong(code)))
				if parley.ErrorReason(err) != "code_wrong" {
					t.Errorf("wrong code %d: %v", i+1, err)
				}
			}
			return verify(e, params(code))
		}, parley.CodeRateLimited, "too_many_attempts"},
		{"four wrong then right", func(e *env, code string) error {
			for range 4 {
				_ = verify(e, params(wrong(code)))
			}
			return verify(e, params(code))
		}, "", ""},
		{"malformed codes are not counted", func(e *env, code string) error {
			for range 10 {
				_ = verify(e, params("1234"))
			}
			return verify(e, params(code))
		}, "", ""},
		{"only the latest code is valid", func(e *env, code string) error {
			e.clock.Advance(time.Minute)
			latest := e.MustRegister(alicePhone, "Alice")
			if latest == code {
				return nil // one chance in a million
			}
			return verify(e, params(code))
		}, parley.CodeInvalid, "code_wrong"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, accounts.Config{})
			code := e.MustRegister(alicePhone, "Alice")
			wantErr(t, tt.run(e, code), tt.code, tt.reason)
		})
	}
}

func TestTooManyAttemptsThenNewCode(t *testing.T) {
	e := newEnv(t, accounts.Config{MaxVerifyAttempts: 2})
	code := e.MustRegister(alicePhone, "Alice")
	p := accounts.VerifyParams{Phone: alicePhone, Code: "000000", IdentityKey: identityKey(1)}
	if code == p.Code {
		p.Code = "111111"
	}
	_, err := e.svc.Verify(e.ctx, p)
	wantErr(t, err, parley.CodeInvalid, "code_wrong")
	if !strings.Contains(parley.ErrorMessage(err), "1 attempt left") {
		t.Fatalf("message %q does not count attempts", parley.ErrorMessage(err))
	}
	_, err = e.svc.Verify(e.ctx, p)
	wantErr(t, err, parley.CodeInvalid, "code_wrong")
	p.Code = code
	_, err = e.svc.Verify(e.ctx, p)
	wantErr(t, err, parley.CodeRateLimited, "too_many_attempts")
	if got := accounts.RetryAfter(err); got != time.Minute {
		t.Fatalf("RetryAfter = %v, want 1m (the resend delay)", got)
	}

	e.clock.Advance(time.Minute)
	p.Code = e.MustRegister(alicePhone, "Alice")
	if _, err := e.svc.Verify(e.ctx, p); err != nil {
		t.Fatalf("a new code after too many attempts: %v", err)
	}
}

func TestReregistration(t *testing.T) {
	e := newEnv(t, accounts.Config{})
	old := e.MustSignUp(alicePhone, "Alice")
	linked := e.MustLink(old, "laptop")
	if err := e.svc.SetUsername(e.ctx, old.User, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetPIN(e.ctx, old.User, "2468", ""); err != nil {
		t.Fatal(err)
	}
	bob := e.MustSignUp(bobPhone, "Bob")
	if err := e.svc.AddContact(e.ctx, old.User, bob.User); err != nil {
		t.Fatal(err)
	}
	conv := createConversation(t, e, old, bob)

	e.clock.Advance(time.Hour)
	code := e.MustRegister(alicePhone, "Alice Two")
	p := accounts.VerifyParams{Phone: alicePhone, Code: code, IdentityKey: identityKey(9), DeviceName: "new phone"}

	_, err := e.svc.Verify(e.ctx, p)
	wantErr(t, err, parley.CodeForbidden, "pin_required")
	p.PIN = "1357"
	_, err = e.svc.Verify(e.ctx, p)
	wantErr(t, err, parley.CodeForbidden, "pin_wrong")
	if !strings.Contains(parley.ErrorMessage(err), "4 attempts left") {
		t.Fatalf("message %q does not count attempts", parley.ErrorMessage(err))
	}
	// Nothing happened to the account yet.
	e.MustDevice(old)
	e.MustDevice(linked)

	p.PIN = "2468"
	creds, err := e.svc.Verify(e.ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if creds.User != old.User || creds.Device == old.Device || !creds.Primary || creds.Created {
		t.Fatalf("Verify = %+v, want a new primary of user %v", creds, old.User)
	}
	wantRevoked := map[parley.DeviceID]bool{old.Device: true, linked.Device: true}
	for _, r := range creds.Revoked {
		if !wantRevoked[r.Device] {
			t.Fatalf("revoked %v unexpectedly", r.Device)
		}
		delete(wantRevoked, r.Device)
		if r.Device == old.Device && (len(r.Conversations) != 1 || r.Conversations[0] != conv) {
			t.Fatalf("old primary left %v, want [%v]", r.Conversations, conv)
		}
	}
	if len(wantRevoked) != 0 {
		t.Fatalf("not revoked: %v", wantRevoked)
	}

	for _, c := range []accounts.Credentials{old, linked} {
		_, err := e.svc.Authenticate(e.ctx, c.Device, c.Secret)
		wantErr(t, err, parley.CodeUnauthenticated, "device_revoked")
	}
	e.MustDevice(creds)

	// The account kept its username, PIN and contacts, and took the new name.
	u, err := e.store.User(e.ctx, old.User)
	if err != nil {
		t.Fatal(err)
	}
	if u.Username != "alice" || len(u.PINHash) == 0 || u.Name != "Alice Two" {
		t.Fatalf("user after re-registration = %+v", u)
	}
	if ok, err := e.store.IsContact(e.ctx, old.User, bob.User); err != nil || !ok {
		t.Fatalf("contact lost: %v %v", ok, err)
	}
}

func TestReregistrationWithoutPIN(t *testing.T) {
	e := newEnv(t, accounts.Config{})
	old := e.MustSignUp(alicePhone, "Alice")
	e.clock.Advance(time.Hour)
	code := e.MustRegister(alicePhone, "") // empty name: keep the current one
	creds, err := e.svc.Verify(e.ctx, accounts.VerifyParams{Phone: alicePhone, Code: code, PIN: "9999", IdentityKey: identityKey(3)})
	if err != nil {
		t.Fatal(err)
	}
	if creds.User != old.User || len(creds.Revoked) != 1 || creds.Revoked[0].Device != old.Device {
		t.Fatalf("Verify = %+v", creds)
	}
	if u, _ := e.store.User(e.ctx, old.User); u.Name != "Alice" {
		t.Fatalf("name = %q, want Alice kept", u.Name)
	}
}

func TestWrongPINsVoidTheCode(t *testing.T) {
	e := newEnv(t, accounts.Config{})
	old := e.MustSignUp(alicePhone, "Alice")
	if err := e.svc.SetPIN(e.ctx, old.User, "2468", ""); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	code := e.MustRegister(alicePhone, "")
	p := accounts.VerifyParams{Phone: alicePhone, Code: code, PIN: "0000", IdentityKey: identityKey(3)}
	for range 5 {
		_, err := e.svc.Verify(e.ctx, p)
		wantErr(t, err, parley.CodeForbidden, "pin_wrong")
	}
	p.PIN = "2468"
	_, err := e.svc.Verify(e.ctx, p)
	wantErr(t, err, parley.CodeRateLimited, "too_many_attempts")
	e.MustDevice(old)
}
