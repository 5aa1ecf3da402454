package accounts_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/accounts"
)

func TestAuthenticate(t *testing.T) {
	e := newEnv(t, accounts.Config{})
	alice := e.MustSignUp(alicePhone, "Alice")
	linked := e.MustLink(alice, "laptop")
	if _, err := e.svc.RemoveDevice(e.ctx, e.MustDevice(alice), linked.Device); err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), alice.Secret...)
	flipped[0] ^= 1

	tests := []struct {
		name   string
		id     parley.DeviceID
		secret []byte
		code   parley.Code
		reason string
	}{
		{"ok", alice.Device, alice.Secret, "", ""},
		{"wrong secret", alice.Device, flipped, parley.CodeUnauthenticated, "bad_credentials"},
		{"short secret", alice.Device, alice.Secret[:31], parley.CodeUnauthenticated, "bad_credentials"},
		{"no secret", alice.Device, nil, parley.CodeUnauthenticated, "bad_credentials"},
		{"unknown device", alice.Device + 1000, alice.Secret, parley.CodeUnauthenticated, "bad_credentials"},
		{"other device's secret", linked.Device, alice.Secret, parley.CodeUnauthenticated, "bad_credentials"},
		{"revoked", linked.Device, linked.Secret, parley.CodeUnauthenticated, "device_revoked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := e.svc.Authenticate(e.ctx, tt.id, tt.secret)
			wantErr(t, err, tt.code, tt.reason)
			if err == nil && (d.ID != tt.id || d.SecretHash != nil) {
				t.Fatalf("Authenticate = %+v", d)
			}
		})
	}
}

var linkCodeShape = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$`)

func TestLinkDevice(t *testing.T) {
	e := newEnv(t, accounts.Config{})
	alice := e.MustSignUp(alicePhone, "Alice")
	primary := e.MustDevice(alice)

	code, ttl, err := e.svc.NewLinkCode(e.ctx, primary)
	if err != nil {
		t.Fatal(err)
	}
	if !linkCodeShape.MatchString(code) || ttl != 5*time.Minute {
		t.Fatalf("NewLinkCode = %q, %v", code, ttl)
	}
	// Typed back loosely: lower case, a space for the dash, O for 0, l for 1.
	typed := strings.NewReplacer("0", "O", "1", "l").Replace(strings.ToLower(code[:5] + " " + code[6:]))
	e.clock.Advance(ttl - time.Second)
	creds, err := e.svc.LinkDevice(e.ctx, typed, identityKey(4), "laptop")
	if err != nil {
		t.Fatal(err)
	}
	if creds.User != alice.User || creds.Primary || creds.Phone != alicePhone || len(creds.Secret) != 32 || creds.Device == alice.Device {
		t.Fatalf("LinkDevice = %+v", creds)
	}
	d := e.MustDevice(creds)
	if d.Primary || d.Name != "laptop" || string(d.IdentityKey) != string(identityKey(4)) {
		t.Fatalf("linked device = %+v", d)
	}

	// Single use.
	_, err = e.svc.LinkDevice(e.ctx, code, identityKey(4), "again")
	wantErr(t, err, parley.CodeNotFound, "link_code_unknown")

	devices, err := e.svc.Devices(e.ctx, alice.User)
	if err != nil {
		t.Fatal(err)
	}
	if len(devices) != 2 || devices[0].ID != alice.Device || devices[1].ID != creds.Device {
		t.Fatalf("Devices = %+v", devices)
	}
	for _, d := range devices {
		if d.SecretHash != nil {
			t.Fatalf("Devices leaks the secret hash of %v", d.ID)
		}
	}
}

func TestLinkDeviceErrors(t *testing.T) {
	tests := []struct {
		name   string
		run    func(e *env, alice accounts.Credentials) error
		code   parley.Code
		reason string
	}{
		{"ok", func(e *env, alice accounts.Credentials) error {
			_, err := link(e, alice, identityKey(2))
			return err
		}, "", ""},
		{"unknown code", func(e *env, alice accounts.Credentials) error {
			_, err := e.svc.LinkDevice(e.ctx, "ABCDE-FGHJK", identityKey(2), "x")
			return err
		}, parley.CodeNotFound, "link_code_unknown"},
		{"garbage code", func(e *env, alice accounts.Credentials) error {
			_, err := e.svc.LinkDevice(e.ctx, "not a code!", identityKey(2), "x")
			return err
		}, parley.CodeNotFound, "link_code_unknown"},
		{"bad identity key", func(e *env, alice accounts.Credentials) error {
			_, err := link(e, alice, []byte("short"))
			return err
		}, parley.CodeInvalid, "identity_key_invalid"},
		{"expired", func(e *env, alice accounts.Credentials) error {
			code, ttl, err := e.svc.NewLinkCode(e.ctx, e.MustDevice(alice))
			if err != nil {
				return err
			}
			e.clock.Advance(ttl)
			_, err = e.svc.LinkDevice(e.ctx, code, identityKey(2), "x")
			return err
		}, parley.CodeExpired, "link_code_expired"},
		{"linked device cannot create codes", func(e *env, alice accounts.Credentials) error {
			linked := e.MustLink(alice, "laptop")
			_, _, err := e.svc.NewLinkCode(e.ctx, e.MustDevice(linked))
			return err
		}, parley.CodeForbidden, "not_primary"},
		{"revoked primary cannot create codes", func(e *env, alice accounts.Credentials) error {
			d := e.MustDevice(alice)
			e.MustSignUp(alicePhone, "Alice") // re-registration revokes it
			_, _, err := e.svc.NewLinkCode(e.ctx, d)
			return err
		}, parley.CodeUnauthenticated, "device_revoked"},
		{"fifth linked device", func(e *env, alice accounts.Credentials) error {
			for range 4 {
				e.MustLink(alice, "extra")
			}
			_, _, err := e.svc.NewLinkCode(e.ctx, e.MustDevice(alice))
			return err
		}, parley.CodeTooLarge, "too_many_devices"},
		{"fifth linked device with an earlier code", func(e *env, alice accounts.Credentials) error {
			early, _, err := e.svc.NewLinkCode(e.ctx, e.MustDevice(alice))
			if err != nil {
				return err
			}
			for range 4 {
				e.MustLink(alice, "extra")
			}
			_, err = e.svc.LinkDevice(e.ctx, early, identityKey(2), "fifth")
			return err
		}, parley.CodeTooLarge, "too_many_devices"},
		{"room again after a removal", func(e *env, alice accounts.Credentials) error {
			var last accounts.Credentials
			for range 4 {
				last = e.MustLink(alice, "extra")
			}
			if _, err := e.svc.RemoveDevice(e.ctx, e.MustDevice(last), last.Device); err != nil {
				return err
			}
			_, err := link(e, alice, identityKey(2))
			return err
		}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, accounts.Config{})
			alice := e.MustSignUp(alicePhone, "Alice")
			wantErr(t, tt.run(e, alice), tt.code, tt.reason)
		})
	}
}

// link creates a link code on alice's primary and uses it.
func link(e *env, alice accounts.Credentials, key []byte) (accounts.Credentials, error) {
	code, _, err := e.svc.NewLinkCode(e.ctx, e.MustDevice(alice))
	if err != nil {
		return accounts.Credentials{}, err
	}
	return e.svc.LinkDevice(e.ctx, code, key, "new")
}

func TestReregistrationVoidsLinkCodes(t *testing.T) {
	e := newEnv(t, accounts.Config{LinkCodeTTL: 24 * time.Hour})
	alice := e.MustSignUp(alicePhone, "Alice")
	code, _, err := e.svc.NewLinkCode(e.ctx, e.MustDevice(alice))
	if err != nil {
		t.Fatal(err)
	}
	e.MustSignUp(alicePhone, "Alice") // an hour later: the code has not expired
	_, err = e.svc.LinkDevice(e.ctx, code, identityKey(2), "x")
	wantErr(t, err, parley.CodeExpired, "link_code_expired")
}

func TestRemoveDevice(t *testing.T) {
	tests := []struct {
		name   string
		by     string // primary, linked1, linked2, bob
		target string // as by, or "unknown"
		code   parley.Code
		reason string
	}{
		{"primary removes a linked device", "primary", "linked1", "", ""},
		{"linked device removes itself", "linked1", "linked1", "", ""},
		{"linked device removes another", "linked1", "linked2", parley.CodeForbidden, "not_primary"},
		{"linked device removes the primary", "linked1", "primary", parley.CodeForbidden, "primary_device"},
		{"primary removes itself", "primary", "primary", parley.CodeForbidden, "primary_device"},
		{"another user's device", "bob", "linked1", parley.CodeForbidden, "not_your_device"},
		{"another user's device, by a linked one", "linked1", "bob", parley.CodeForbidden, "not_your_device"},
		{"unknown device", "primary", "unknown", parley.CodeNotFound, "device_not_found"},
		{"already removed", "primary", "revoked", "", ""},
		{"by a removed device", "revoked", "linked1", parley.CodeUnauthenticated, "device_revoked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, accounts.Config{})
			alice := e.MustSignUp(alicePhone, "Alice")
			bob := e.MustSignUp(bobPhone, "Bob")
			creds := map[string]accounts.Credentials{
				"primary": alice,
				"linked1": e.MustLink(alice, "laptop"),
				"linked2": e.MustLink(alice, "tablet"),
				"revoked": e.MustLink(alice, "old"),
				"bob":     bob,
			}
			devices := map[string]parley.Device{}
			for name, c := range creds {
				devices[name] = e.MustDevice(c)
			}
			if _, err := e.svc.RemoveDevice(e.ctx, devices["primary"], creds["revoked"].Device); err != nil {
				t.Fatal(err)
			}
			conv := createConversation(t, e, creds["linked1"], bob)

			target := parley.DeviceID(99999)
			if c, ok := creds[tt.target]; ok {
				target = c.Device
			}
			convs, err := e.svc.RemoveDevice(e.ctx, devices[tt.by], target)
			wantErr(t, err, tt.code, tt.reason)

			_, authErr := e.svc.Authenticate(e.ctx, target, creds[tt.target].Secret)
			switch {
			case err == nil:
				wantErr(t, authErr, parley.CodeUnauthenticated, "device_revoked")
				if tt.target == "linked1" && (len(convs) != 1 || convs[0] != conv) {
					t.Fatalf("RemoveDevice returned %v, want [%v]", convs, conv)
				}
			case tt.target != "unknown":
				wantErr(t, authErr, "", "") // still active
			}
		})
	}
}

// TestAuthenticateSuspended: a suspended account cannot sign in, with its
// right secret or a wrong one (which still counts as a failure); lifting
// the suspension restores sign-in.
func TestAuthenticateSuspended(t *testing.T) {
	e := newEnv(t, accounts.Config{})
	alice := e.MustSignUp(alicePhone, "Alice")
	if err := e.store.SetSuspended(e.ctx, alice.User, t0); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.Authenticate(e.ctx, alice.Device, alice.Secret)
	wantErr(t, err, parley.CodeForbidden, accounts.ReasonAccountSuspended)
	flipped := append([]byte(nil), alice.Secret...)
	flipped[0] ^= 1
	_, err = e.svc.Authenticate(e.ctx, alice.Device, flipped)
	wantErr(t, err, parley.CodeUnauthenticated, parley.ReasonBadCredentials)
	if err := e.store.SetSuspended(e.ctx, alice.User, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(e.ctx, alice.Device, alice.Secret); err != nil {
		t.Fatal(err)
	}
}
