package accounts_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/accounts"
)

// TestCodesStoredAsKeyedMAC: the stored verification code is HMAC-SHA256
// under Config.CodeKey, so a copy of the database without the key cannot
// test codes; another key does not accept it.
func TestCodesStoredAsKeyedMAC(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	e := newEnv(t, accounts.Config{CodeKey: key})
	if _, err := e.svc.Register(e.ctx, alicePhone, "Alice"); err != nil {
		t.Fatal(err)
	}
	code := e.sender.Code(alicePhone)
	v, err := e.store.Verification(e.ctx, alicePhone)
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("verify\x00" + alicePhone + "\x00" + code))
	if want := m.Sum([]byte{1}); !bytes.Equal(v.CodeHash, want) {
		t.Fatalf("stored code hash %x, want HMAC-SHA256 %x", v.CodeHash, want)
	}

	// A server with another key (a stolen database elsewhere) rejects it.
	other := accounts.New(e.store, e.sender, e.clock, nil, accounts.Config{CodeKey: bytes.Repeat([]byte{8}, 32)})
	_, err = other.Verify(e.ctx, accounts.VerifyParams{Phone: alicePhone, Code: code, IdentityKey: identityKey(1)})
	wantErr(t, err, parley.CodeInvalid, "code_wrong")
	if _, err := e.svc.Verify(e.ctx, accounts.VerifyParams{Phone: alicePhone, Code: code, IdentityKey: identityKey(1)}); err != nil {
		t.Fatalf("verify with the right key: %v", err)
	}
}

// TestLegacyCodeHashAcceptedUntilExpiry: a code stored as a bare SHA-256
// before the upgrade still verifies (the migration path), and expires as
// before.
func TestLegacyCodeHashAcceptedUntilExpiry(t *testing.T) {
	e := newEnv(t, accounts.Config{})
	for i, phone := range []string{alicePhone, "+14155550101"} {
		if err := e.store.PutVerification(e.ctx, parley.Verification{
			Phone: phone, CodeHash: sha([]byte("123456")), Sent: 1, WindowAt: t0, ExpiresAt: t0.Add(10 * time.Minute),
		}); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			e.clock.Advance(11 * time.Minute)
			_, err := e.svc.Verify(e.ctx, accounts.VerifyParams{Phone: phone, Code: "123456", IdentityKey: identityKey(2)})
			wantErr(t, err, parley.CodeExpired, "code_expired")
			continue
		}
		if _, err := e.svc.Verify(e.ctx, accounts.VerifyParams{Phone: phone, Code: "123456", IdentityKey: identityKey(1)}); err != nil {
			t.Fatalf("legacy code: %v", err)
		}
	}
}
