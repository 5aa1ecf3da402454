package accounts_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/accounts"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/store/sqlite"
)

// env is one service over a fresh SQLite store.
type env struct {
	t      *testing.T
	ctx    context.Context
	svc    *accounts.Service
	store  parley.Store
	clock  *parleytest.Clock
	sender *parleytest.Codes
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// newEnv returns a service over a fresh store: SQLite in t.TempDir(), or,
// under TestPostgres, a PostgreSQL schema of its own.
func newEnv(t *testing.T, cfg accounts.Config) *env {
	t.Helper()
	ctx := t.Context()
	var st parley.Store
	if strings.HasPrefix(t.Name(), "TestPostgres/") {
		st = openPostgres(t)
	} else {
		s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
		if err != nil {
			t.Fatalf("open store: %v", err)
		}
		st = s
	}
	t.Cleanup(func() { st.Close() })
	e := &env{
		t:      t,
		ctx:    ctx,
		store:  st,
		clock:  parleytest.NewClock(t0),
		sender: parleytest.NewCodes(),
	}
	e.svc = accounts.New(st, e.sender, e.clock, slog.New(slog.DiscardHandler), cfg)
	return e
}

// identityKey returns a valid, distinct 32-byte identity key.
func identityKey(n byte) []byte { return bytes.Repeat([]byte{n}, 32) }

// MustRegister registers phone and returns the code sent.
func (e *env) MustRegister(phone, name string) string {
	e.t.Helper()
	res, err := e.svc.Register(e.ctx, phone, name)
	if err != nil {
		e.t.Fatalf("Register(%q): %v", phone, err)
	}
	code := e.sender.Code(res.Phone)
	if len(code) != 6 {
		e.t.Fatalf("Register(%q): sent code %q", phone, code)
	}
	return code
}

// MustSignUp registers and verifies phone, moving the clock past the resend
// delay first so it can be called repeatedly for one number.
func (e *env) MustSignUp(phone, name string) accounts.Credentials {
	e.t.Helper()
	e.clock.Advance(time.Hour)
	code := e.MustRegister(phone, name)
	creds, err := e.svc.Verify(e.ctx, accounts.VerifyParams{Phone: phone, Code: code, IdentityKey: identityKey(1), DeviceName: "phone"})
	if err != nil {
		e.t.Fatalf("Verify(%q): %v", phone, err)
	}
	return creds
}

// MustDevice authenticates credentials and returns the device.
func (e *env) MustDevice(c accounts.Credentials) parley.Device {
	e.t.Helper()
	d, err := e.svc.Authenticate(e.ctx, c.Device, c.Secret)
	if err != nil {
		e.t.Fatalf("Authenticate(%v): %v", c.Device, err)
	}
	return d
}

// MustLink links a new device to primary's account.
func (e *env) MustLink(primary accounts.Credentials, name string) accounts.Credentials {
	e.t.Helper()
	code, _, err := e.svc.NewLinkCode(e.ctx, e.MustDevice(primary))
	if err != nil {
		e.t.Fatalf("NewLinkCode: %v", err)
	}
	c, err := e.svc.LinkDevice(e.ctx, code, identityKey(2), name)
	if err != nil {
		e.t.Fatalf("LinkDevice: %v", err)
	}
	return c
}

// wantErr fails unless err carries code and reason ("" reason: any).
func wantErr(t *testing.T, err error, code parley.Code, reason string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if got := parley.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
	if got := parley.ErrorReason(err); reason != "" && got != reason {
		t.Fatalf("error reason = %q (%v), want %q", got, err, reason)
	}
}

func sha(b []byte) []byte {
	h := sha256.Sum256(b)
	return h[:]
}

var errGateway = errors.New("gateway down")

// Numbers used in tests: valid under the libphonenumber metadata.
const (
	alicePhone = "+14155550100"
	bobPhone   = "+14155550101"
	carolPhone = "+14155550102"
	davePhone  = "+14155550103"
)

// createConversation stores a direct conversation between the devices of a
// and b, as the delivery service would.
func createConversation(t *testing.T, e *env, a, b accounts.Credentials) parley.ConversationID {
	t.Helper()
	id := parley.NewConversationID()
	_, err := e.store.CreateConversation(e.ctx,
		parley.Conversation{ID: id, Kind: parley.KindDirect, Epoch: 1, CreatedBy: a.User, CreatedAt: e.clock.Now()},
		[]parley.Member{{Conversation: id, User: a.User, Device: a.Device}, {Conversation: id, User: b.User, Device: b.Device}},
		nil)
	if err != nil {
		t.Fatalf("create conversation: %v", err)
	}
	return id
}
