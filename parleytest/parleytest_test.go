package parleytest_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/accounts"
	"github.com/parleyhq/parley/parleytest"
)

// TestMain: the harness leaves no goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"))
}

// TestStart: the harness serves on 127.0.0.1, records the codes the server
// sends, and a restart keeps the address and the accounts.
func TestStart(t *testing.T) {
	s := parleytest.Start(t)
	get := func() string {
		t.Helper()
		resp, err := http.Get(s.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := get(); got != "ok\n" {
		t.Fatalf("healthz: %q", got)
	}
	const phone = "+14155550123"
	if _, err := s.Accounts.Register(t.Context(), phone, "Ann"); err != nil {
		t.Fatal(err)
	}
	code := s.Codes.Code(phone)
	if len(code) != 6 || s.Codes.Sends() != 1 {
		t.Fatalf("recorded code %q after %d sends", code, s.Codes.Sends())
	}
	cred, err := s.Accounts.Verify(t.Context(), accounts.VerifyParams{Phone: phone, Code: code, IdentityKey: bytes.Repeat([]byte{1}, 32), DeviceName: "phone"})
	if err != nil {
		t.Fatal(err)
	}
	addr := s.Addr
	s.Restart()
	if s.Addr != addr || get() != "ok\n" {
		t.Fatalf("restarted on %s, was %s", s.Addr, addr)
	}
	if _, err := s.Store.User(t.Context(), cred.User); err != nil {
		t.Fatalf("the account did not survive the restart: %v", err)
	}
}

// TestCodesFail: a failing sender fails registration with the sender's
// error, and recovers.
func TestCodesFail(t *testing.T) {
	s := parleytest.Start(t)
	s.Codes.Fail(errors.New("gateway down"))
	if _, err := s.Accounts.Register(t.Context(), "+14155550124", "Bo"); err == nil {
		t.Fatal("registered with a failing sender")
	}
	s.Codes.Fail(nil)
	if _, err := s.Accounts.Register(t.Context(), "+14155550125", "Bo"); err != nil || s.Codes.Code("+14155550125") == "" {
		t.Fatalf("after recovery: %v", err)
	}
}

func TestClock(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := parleytest.NewClock(t0)
	c.Advance(time.Minute)
	if got := c.Now(); !got.Equal(t0.Add(time.Minute)) {
		t.Fatalf("after Advance: %v", got)
	}
	c.Set(t0)
	var _ parley.Clock = c
	if !c.Now().Equal(t0) {
		t.Fatalf("after Set: %v", c.Now())
	}
}
