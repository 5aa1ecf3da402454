package accounts_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/accounts"
	"github.com/parleyhq/parley/clientip"
)

// TestSetPINSpendsPINBudget: guessing the old PIN from a signed-in device
// spends the same durable budget as re-registration, and a service on the
// same store (a restart) still sees it.
func TestSetPINSpendsPINBudget(t *testing.T) {
	e := newEnv(t, accounts.Config{Limits: accounts.Limits{PINGuesses: 3}})
	c := e.MustSignUp(alicePhone, "Alice")
	if err := e.svc.SetPIN(e.ctx, c.User, "2468", ""); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		err := e.svc.SetPIN(e.ctx, c.User, "1357", "0000")
		wantErr(t, err, parley.CodeForbidden, "pin_wrong")
	}
	err := e.svc.SetPIN(e.ctx, c.User, "1357", "0000")
	wantErr(t, err, parley.CodeRateLimited, accounts.ReasonPINLocked)
	if parley.RetryAfter(err) <= 0 {
		t.Fatalf("no retry-after on %v", err)
	}
	restarted := accounts.New(e.store, e.sender, e.clock, nil, accounts.Config{Limits: accounts.Limits{PINGuesses: 3}})
	wantErr(t, restarted.SetPIN(e.ctx, c.User, "1357", "2468"), parley.CodeRateLimited, accounts.ReasonPINLocked)
	e.clock.Advance(24 * time.Hour)
	if err := restarted.SetPIN(e.ctx, c.User, "1357", "2468"); err != nil {
		t.Fatalf("right PIN after the window: %v", err)
	}
}

// TestAuthenticateFailuresPerAddress: failures from one address are
// refused once its budget is spent; valid credentials from it pass.
func TestAuthenticateFailuresPerAddress(t *testing.T) {
	e := newEnv(t, accounts.Config{Limits: accounts.Limits{AuthFailuresPerAddress: parley.Limit{Events: 2, Window: time.Hour}}})
	c := e.MustSignUp(alicePhone, "Alice")
	ctx := clientip.With(context.Background(), netip.MustParseAddr("198.51.100.1"))
	for i := range 3 {
		_, err := e.svc.Authenticate(ctx, parley.DeviceID(9000+i), make([]byte, 32))
		if i < 2 {
			wantErr(t, err, parley.CodeUnauthenticated, "bad_credentials")
		} else {
			wantErr(t, err, parley.CodeRateLimited, accounts.ReasonAuthFailures)
		}
	}
	if _, err := e.svc.Authenticate(ctx, c.Device, c.Secret); err != nil {
		t.Fatalf("valid credentials from the same address: %v", err)
	}
	other := clientip.With(context.Background(), netip.MustParseAddr("198.51.100.2"))
	_, err := e.svc.Authenticate(other, 9999, make([]byte, 32))
	wantErr(t, err, parley.CodeUnauthenticated, "bad_credentials")
}
