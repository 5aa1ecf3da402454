package accounts_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/store/postgres"
)

// TestPostgres runs the service tests again on PostgreSQL (the cluster
// engine) when PARLEY_TEST_POSTGRES holds a DSN; scripts/postgres-start.sh
// starts a local server and prints it. Every test gets a schema of its own.
func TestPostgres(t *testing.T) {
	if os.Getenv("PARLEY_TEST_POSTGRES") == "" {
		t.Skip("PARLEY_TEST_POSTGRES not set: start PostgreSQL with scripts/postgres-start.sh")
	}
	for _, tt := range []struct {
		name string
		test func(*testing.T)
	}{
		{"RegistrationFlow", TestRegistrationFlow},
		{"SendLimits", TestSendLimits},
		{"ConcurrentRegisterSendsOnce", TestConcurrentRegisterSendsOnce},
		{"SenderFailure", TestSenderFailure},
		{"VerifyErrors", TestVerifyErrors},
		{"TooManyAttemptsThenNewCode", TestTooManyAttemptsThenNewCode},
		{"Reregistration", TestReregistration},
		{"ReregistrationWithoutPIN", TestReregistrationWithoutPIN},
		{"WrongPINsVoidTheCode", TestWrongPINsVoidTheCode},
		{"Authenticate", TestAuthenticate},
		{"LinkDevice", TestLinkDevice},
		{"LinkDeviceErrors", TestLinkDeviceErrors},
		{"ReregistrationVoidsLinkCodes", TestReregistrationVoidsLinkCodes},
		{"RemoveDevice", TestRemoveDevice},
		{"SetUsername", TestSetUsername},
		{"ResolveByPhonePrivacy", TestResolveByPhonePrivacy},
		{"Resolve", TestResolve},
		{"CanSeePresence", TestCanSeePresence},
		{"SetPrivacy", TestSetPrivacy},
		{"SetPIN", TestSetPIN},
		{"ContactsAndBlocks", TestContactsAndBlocks},
		{"RegisterThroughWebhook", TestRegisterThroughWebhook},
	} {
		t.Run(tt.name, tt.test)
	}
}

// openPostgres opens a store on a fresh schema, dropped when t ends.
func openPostgres(t *testing.T) parley.Store {
	t.Helper()
	base := os.Getenv("PARLEY_TEST_POSTGRES")
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "parley_accounts_" + hex.EncodeToString(b)
	admin, err := pgx.Connect(t.Context(), base)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		admin, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	st, err := postgres.Open(t.Context(), u.String())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	return st
}
