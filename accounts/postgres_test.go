package accounts_test

import (
	"os"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/parleytest"
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
	st, err := postgres.Open(t.Context(), parleytest.PostgresDSN(t, "parley_accounts"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	return st
}
