package server_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/accounts"
	"github.com/parleyhq/parley/blob/disk"
	"github.com/parleyhq/parley/delivery"
	"github.com/parleyhq/parley/gateway"
	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/proto/parleypb"
	"github.com/parleyhq/parley/server"
)

// The attacks below run against the real server on loopback. Different
// client addresses are real: the attacker binds its sockets to 127.0.0.N.

func newClock() *parleytest.Clock { return parleytest.NewClock(time.Now()) }

// dialFrom dials the gateway from local address src (127.0.0.N) with extra
// handshake headers, and says hello.
func dialFrom(t *testing.T, addr, src string, hdr http.Header) *tclient {
	t.Helper()
	c, err := tryDialFrom(t, addr, src, hdr)
	if err != nil {
		t.Fatalf("dial from %s: %v", src, err)
	}
	f := c.call(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Hello{Hello: &parleypb.Hello{Versions: []uint32{1}, Client: "test"}}})
	if f.GetHelloOk() == nil {
		t.Fatalf("hello: got %v", f)
	}
	return c
}

func tryDialFrom(t *testing.T, addr, src string, hdr http.Header) (*tclient, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	d := ws.Dialer{NetDial: func(ctx context.Context, network, a string) (net.Conn, error) {
		nd := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
		return nd.DialContext(ctx, network, a)
	}}
	if hdr != nil {
		d.Header = ws.HandshakeHeaderHTTP(hdr)
	}
	conn, br, _, err := d.Dial(ctx, "ws://"+addr+"/v1/ws")
	if err != nil {
		return nil, err
	}
	var r io.Reader = conn
	if br != nil {
		r = br
	}
	c := &tclient{t: t, conn: conn, frames: make(chan *parleypb.ServerFrame, 4096), done: make(chan struct{})}
	go c.read(bufio.NewReader(r))
	t.Cleanup(func() { c.conn.Close(); <-c.done })
	return c, nil
}

func registerFrame(phone string) *parleypb.ClientFrame {
	return &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Register{Register: &parleypb.RegisterRequest{Phone: phone, Name: "x"}}}
}

func verifyFrame(phone, code, pin string) *parleypb.ClientFrame {
	return &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Verify{Verify: &parleypb.VerifyRequest{
		Phone: phone, Code: code, Pin: pin, IdentityKey: make([]byte, 32), DeviceName: "d",
	}}}
}

func authFrame(device int64, secret []byte) *parleypb.ClientFrame {
	return &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Auth{Auth: &parleypb.AuthRequest{DeviceId: device, Secret: secret}}}
}

// wrongCode returns a 6-digit code different from code.
func wrongCode(code string, i int) string {
	for {
		w := fmt.Sprintf("%06d", (i*7919+13)%1_000_000)
		if w != code {
			return w
		}
		i++
	}
}

func mustRateLimited(t *testing.T, e *parleypb.Error, reason string) {
	t.Helper()
	if e == nil || e.Code != parleypb.ErrorCode_RATE_LIMITED || e.Reason != reason || e.RetryAfterMs == 0 {
		t.Fatalf("got %v, want RATE_LIMITED %s with a retry-after", e, reason)
	}
}

// TestCodeBruteForceFromOneAddress: wrong codes from one address stop at
// GuessesPerAddress, whichever numbers they target.
func TestCodeBruteForceFromOneAddress(t *testing.T) {
	e := newEnv(t, func(c *server.Config) {
		c.Accounts.MaxVerifyAttempts = 1000
		c.Accounts.Limits = accounts.Limits{GuessesPerAddress: parley.Limit{Events: 5, Window: time.Hour}, SMSPerAddress: parley.Limit{Events: 100, Window: time.Hour}}
	})
	victims := []string{"+14155550201", "+14155550202"}
	for _, v := range victims {
		dialFrom(t, e.addr, "127.0.0.1", nil).mustOK(registerFrame(v))
	}
	att := dialFrom(t, e.addr, "127.0.0.3", nil)
	for i := range 5 {
		v := victims[i%2]
		att.mustErr(verifyFrame(v, wrongCode(e.codes.Code(v), i), ""), parleypb.ErrorCode_INVALID, "code_wrong")
	}
	// Even the right code is not checked any more from this address.
	er := att.call(verifyFrame(victims[0], e.codes.Code(victims[0]), "")).GetError()
	mustRateLimited(t, er, accounts.ReasonGuessesFromAddress)
	// The owner, from their own address, verifies.
	dialFrom(t, e.addr, "127.0.0.1", nil).mustOK(verifyFrame(victims[0], e.codes.Code(victims[0]), ""))
}

// TestCodeBruteForceFromManyAddresses: an attacker rotating addresses
// still meets the per-number limit, across the codes sent to the number.
func TestCodeBruteForceFromManyAddresses(t *testing.T) {
	clk := newClock()
	e := newEnv(t, func(c *server.Config) {
		c.Clock = clk
		c.Accounts.MaxVerifyAttempts = 3 // codes are voided and re-requested on the way
		c.Accounts.CodeResendAfter = time.Second
		c.Accounts.MaxCodesPerWindow = 100
		c.Accounts.Limits = accounts.Limits{
			GuessesPerAddress: parley.Limit{Events: 2, Window: time.Hour},
			GuessesPerNumber:  parley.Limit{Events: 8, Window: time.Hour},
			SMSPerAddress:     parley.Limit{Events: 100, Window: time.Hour},
		}
	})
	const victim = "+14155550301"
	wrong := 0
	for src := 10; wrong < 8; src++ {
		c := dialFrom(t, e.addr, fmt.Sprintf("127.0.0.%d", src), nil)
		clk.Advance(2 * time.Second)
		c.mustOK(registerFrame(victim)) // a fresh code: the per-code counter starts again
		for range 2 {
			if wrong == 8 {
				break
			}
			c.mustErr(verifyFrame(victim, wrongCode(e.codes.Code(victim), wrong), ""), parleypb.ErrorCode_INVALID, "code_wrong")
			wrong++
		}
	}
	c := dialFrom(t, e.addr, "127.0.0.40", nil)
	clk.Advance(2 * time.Second)
	c.mustOK(registerFrame(victim))
	er := c.call(verifyFrame(victim, wrongCode(e.codes.Code(victim), 99), "")).GetError()
	mustRateLimited(t, er, accounts.ReasonGuessesForNumber)
}

// TestBystanderNotLockedOut: failed logins from an address and against a
// device are limited, but a valid login from that same address, or to the
// attacked device, always succeeds.
func TestBystanderNotLockedOut(t *testing.T) {
	e := newEnv(t, func(c *server.Config) {
		c.Accounts.Limits = parleytest.Generous
		c.Accounts.Limits.AuthFailuresPerAddress = parley.Limit{Events: 3, Window: time.Hour}
		c.Accounts.Limits.AuthFailuresPerDevice = parley.Limit{Events: 3, Window: time.Hour}
	})
	bystander := e.register("bystander")
	const natAddr = "127.0.0.1" // the attacker and the bystander share it
	var last *parleypb.Error
	for i := range 5 {
		c := dialFrom(t, e.addr, natAddr, nil)
		secret := make([]byte, 32)
		secret[0] = byte(i + 1)
		last = c.call(authFrame(bystander.device+int64(i%2), secret)).GetError()
		if code, _ := c.waitClosed(); code != gateway.CloseAuthFailed {
			t.Fatalf("failed auth closed with %d, want 4004", code)
		}
	}
	mustRateLimited(t, last, accounts.ReasonAuthFailures)

	// The bystander, behind the same address, logs in.
	c := dialFrom(t, e.addr, natAddr, nil)
	if r := c.call(authFrame(bystander.device, bystander.secret)); r.GetAuth().GetDeviceId() != bystander.device {
		t.Fatalf("bystander's valid login from the attacker's address: %v", r)
	}
	// The attacked device, from anywhere, too; and its failures from a
	// fresh address are still refused.
	c2 := dialFrom(t, e.addr, "127.0.0.9", nil)
	mustRateLimited(t, c2.call(authFrame(bystander.device, make([]byte, 32))).GetError(), accounts.ReasonAuthFailures)
	c3 := dialFrom(t, e.addr, "127.0.0.9", nil)
	if r := c3.call(authFrame(bystander.device, bystander.secret)); r.GetAuth().GetDeviceId() != bystander.device {
		t.Fatalf("attacked device's valid login: %v", r)
	}
}

// TestPINBudgetSurvivesNewCodesAndRestart: someone holding the SMS (a SIM
// swap) guesses the PIN; after PINGuesses wrong PINs it is locked, new codes
// do not unlock it, a restart does not either; the window's end does.
func TestPINBudgetSurvivesNewCodesAndRestart(t *testing.T) {
	clk := newClock()
	e := newEnv(t, func(c *server.Config) {
		c.Clock = clk
		c.Accounts.MaxVerifyAttempts = 3
		c.Accounts.CodeResendAfter = time.Second
		c.Accounts.MaxCodesPerWindow = 100
		c.Accounts.CodeKey = []byte("0123456789abcdef0123456789abcdef")
		c.Accounts.Limits = parleytest.Generous
		c.Accounts.Limits.PINGuesses = 6
	})
	owner := e.register("owner")
	setPIN := &parleypb.ClientFrame{Body: &parleypb.ClientFrame_SetPin{SetPin: &parleypb.SetPINRequest{Pin: "2468"}}}
	oc := e.connect(owner)
	oc.mustOK(setPIN)
	oc.conn.Close()

	// guess requests a fresh code for the owner's number (the attacker
	// receives it) and tries pin with it.
	guess := func(src, pin string) *parleypb.ServerFrame {
		t.Helper()
		clk.Advance(2 * time.Second)
		c := dialFrom(t, e.addr, src, nil)
		c.mustOK(registerFrame(owner.phone))
		return c.call(verifyFrame(owner.phone, e.codes.Code(owner.phone), pin))
	}
	for i := range 5 {
		r := guess(fmt.Sprintf("127.0.0.%d", 20+i), fmt.Sprintf("%04d", 1000+i))
		if er := r.GetError(); er == nil || er.Code != parleypb.ErrorCode_FORBIDDEN || er.Reason != "pin_wrong" {
			t.Fatalf("wrong PIN %d: %v, want FORBIDDEN pin_wrong", i, r)
		}
	}
	mustRateLimited(t, guess("127.0.0.30", "1111").GetError(), accounts.ReasonPINLocked)
	// A new code does not give the budget back, even for the right PIN.
	mustRateLimited(t, guess("127.0.0.31", "2468").GetError(), accounts.ReasonPINLocked)
	// Nor does a restart.
	e.restart()
	mustRateLimited(t, guess("127.0.0.32", "2468").GetError(), accounts.ReasonPINLocked)
	// Once the window has passed, the right PIN works.
	clk.Advance(24 * time.Hour)
	if r := guess("127.0.0.33", "2468"); r.GetCredentials() == nil {
		t.Fatalf("right PIN after the lock: %v", r)
	}
}

// TestSMSBudgets: SMS pumping to one country prefix, and everywhere, stops
// at the budgets, whatever addresses the requests come from.
func TestSMSBudgets(t *testing.T) {
	e := newEnv(t, func(c *server.Config) {
		c.Accounts.Limits = parleytest.Generous
		c.Accounts.Limits.SMSPerPrefix = parley.Limit{Events: 3, Window: time.Hour}
		c.Accounts.Limits.SMSGlobal = parley.Limit{Events: 5, Window: time.Hour}
	})
	src := 50
	reg := func(phone string) *parleypb.ServerFrame {
		src++
		return dialFrom(t, e.addr, fmt.Sprintf("127.0.0.%d", src), nil).call(registerFrame(phone))
	}
	for i := range 3 {
		if r := reg(fmt.Sprintf("+1415555040%d", i)); r.GetRegister() == nil {
			t.Fatalf("US code %d: %v", i, r)
		}
	}
	mustRateLimited(t, reg("+14155550409").GetError(), accounts.ReasonSMSForPrefix)
	for i, p := range []string{"+447911123456", "+447911123457"} {
		if r := reg(p); r.GetRegister() == nil {
			t.Fatalf("UK code %d: %v", i, r)
		}
	}
	mustRateLimited(t, reg("+447911123458").GetError(), accounts.ReasonSMSGlobal)
	if e.codes.Code("+14155550409") != "" || e.codes.Code("+447911123458") != "" {
		t.Fatal("a refused code was sent")
	}
}

// TestForwardedForTrust: forwarding headers decide the client address only
// when the peer is a trusted proxy; otherwise they are ignored.
func TestForwardedForTrust(t *testing.T) {
	e := newEnv(t, func(c *server.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		c.Accounts.Limits = parleytest.Generous
		c.Accounts.Limits.SMSPerAddress = parley.Limit{Events: 1, Window: time.Hour}
	})
	xff := func(v string) http.Header { return http.Header{"X-Forwarded-For": {v}} }
	reg := func(src string, h http.Header, phone string) *parleypb.ServerFrame {
		return dialFrom(t, e.addr, src, h).call(registerFrame(phone))
	}
	// Untrusted peer: its headers are ignored, so it is limited as itself.
	if r := reg("127.0.0.2", xff("203.0.113.1"), "+14155550501"); r.GetRegister() == nil {
		t.Fatalf("first code: %v", r)
	}
	mustRateLimited(t, reg("127.0.0.2", xff("203.0.113.2"), "+14155550502").GetError(), accounts.ReasonSMSFromAddress)
	mustRateLimited(t, reg("127.0.0.2", http.Header{"Forwarded": {"for=203.0.113.3"}}, "+14155550503").GetError(), accounts.ReasonSMSFromAddress)

	// Trusted proxy: each forwarded client has its own budget.
	if r := reg("127.0.0.1", xff("203.0.113.1"), "+14155550504"); r.GetRegister() == nil {
		t.Fatalf("forwarded client 1: %v", r)
	}
	if r := reg("127.0.0.1", http.Header{"Forwarded": {`for="203.0.113.2:5555"`}}, "+14155550505"); r.GetRegister() == nil {
		t.Fatalf("forwarded client 2: %v", r)
	}
	// A client that prepends a fake hop is still itself.
	mustRateLimited(t, reg("127.0.0.1", xff("198.51.100.9, 203.0.113.1"), "+14155550506").GetError(), accounts.ReasonSMSFromAddress)
}

// TestDirectoryLookupLimit: lookups by phone, username and id share one
// per-account budget.
func TestDirectoryLookupLimit(t *testing.T) {
	e := newEnv(t, func(c *server.Config) {
		c.Accounts.Limits = parleytest.Generous
		c.Accounts.Limits.LookupsPerUser = parley.Limit{Events: 5, Window: time.Hour}
	})
	a, b := e.register("alice"), e.register("bob")
	ca, cb := e.connect(a), e.connect(b)
	look := func(c *tclient, who *parleypb.ResolveRequest) *parleypb.ServerFrame {
		return c.call(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Resolve{Resolve: who}})
	}
	queries := []*parleypb.ResolveRequest{
		{Who: &parleypb.ResolveRequest_Phone{Phone: b.phone}},
		{Who: &parleypb.ResolveRequest_Username{Username: "nobody_here"}},
		{Who: &parleypb.ResolveRequest_UserId{UserId: b.user}},
		{Who: &parleypb.ResolveRequest_Phone{Phone: "+14155559999"}},
		{Who: &parleypb.ResolveRequest_UserId{UserId: a.user}},
	}
	for i := range queries {
		if er := look(ca, queries[i]).GetError(); er != nil && er.Code == parleypb.ErrorCode_RATE_LIMITED {
			t.Fatalf("lookup %d refused: %v", i, er)
		}
	}
	mustRateLimited(t, look(ca, &parleypb.ResolveRequest{Who: &parleypb.ResolveRequest_UserId{UserId: b.user}}).GetError(), accounts.ReasonTooManyLookups)
	if r := look(cb, &parleypb.ResolveRequest{Who: &parleypb.ResolveRequest_UserId{UserId: b.user}}); r.GetError() != nil {
		t.Fatalf("another account's lookup: %v", r)
	}
}

// TestKeyPackageClaimLimit: one device cannot keep claiming another user's
// KeyPackages.
func TestKeyPackageClaimLimit(t *testing.T) {
	e := newEnv(t, func(c *server.Config) {
		c.Delivery.ClaimsPerTarget = parley.Limit{Events: 3, Window: time.Hour}
	})
	a, b, c := e.register("alice"), e.register("bob"), e.register("carol")
	ca := e.connect(a)
	claim := func(u int64) *parleypb.ServerFrame {
		return ca.call(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_ClaimKeyPackages{ClaimKeyPackages: &parleypb.ClaimKeyPackagesRequest{UserIds: []int64{u}}}})
	}
	for i := range 3 {
		if r := claim(b.user); r.GetError() != nil {
			t.Fatalf("claim %d: %v", i, r)
		}
	}
	mustRateLimited(t, claim(b.user).GetError(), delivery.ReasonTooManyClaims)
	if r := claim(c.user); r.GetError() != nil {
		t.Fatalf("claim of another user: %v", r)
	}
	// The own account's devices are claimed with every new chat: not limited.
	for i := range 5 {
		if r := claim(a.user); r.GetError() != nil {
			t.Fatalf("claim %d of the own account: %v", i, r)
		}
	}
}

// TestSessionReplaced: a device connecting again replaces its old session,
// which is told why.
func TestSessionReplaced(t *testing.T) {
	e := newEnv(t)
	a := e.register("alice")
	old := e.connect(a)
	fresh := e.connect(a)
	code, frames := old.waitClosed()
	if code != gateway.CloseSessionReplaced {
		t.Fatalf("old session closed with %d, want 4010", code)
	}
	if g := closeFrameOf(frames); g == nil || g.Reason != gateway.ReasonSessionReplaced {
		t.Fatalf("old session's frames %v, want GoAway session_replaced", frames)
	}
	fresh.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_ListDevices{ListDevices: &parleypb.ListDevicesRequest{}}})
}

// TestUnauthenticatedSessionsPerAddress: one address cannot hold more than
// the cap of unauthenticated sessions; others are unaffected, and
// authenticating frees a slot.
func TestUnauthenticatedSessionsPerAddress(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.Gateway.MaxUnauthenticatedPerAddress = 3 })
	a := e.register("alice")
	var held []*tclient
	for range 3 {
		held = append(held, dialFrom(t, e.addr, "127.0.0.7", nil))
	}
	_, err := tryDialFrom(t, e.addr, "127.0.0.7", nil)
	if err == nil || !strings.Contains(err.Error(), "429") {
		t.Fatalf("4th unauthenticated session: %v, want refused with 429", err)
	}
	dialFrom(t, e.addr, "127.0.0.8", nil) // another address
	if r := held[0].call(authFrame(a.device, a.secret)); r.GetAuth() == nil {
		t.Fatalf("auth: %v", r)
	}
	dialFrom(t, e.addr, "127.0.0.7", nil)
}

// TestSlowBody: a client that stops sending its request body is cut off
// after the idle timeout instead of holding its handler for ever.
func TestSlowBody(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.BodyIdleTimeout = 200 * time.Millisecond })
	a, b := e.register("alice"), e.register("bob")
	conv := e.direct(e.connect(a), b)
	conn, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PUT /mls/v1/trees?conversation=%s HTTP/1.1\r\nHost: parley\r\nAuthorization: Parley %d:%s\r\nContent-Length: 1000\r\n\r\n0123456789",
		conv, a.device, base64.StdEncoding.EncodeToString(a.secret))
	// The server must end the request by itself; the deadline only stops
	// a hung test.
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the server kept waiting for the body")
	}
	if err == nil && resp.StatusCode < 400 {
		t.Fatalf("a truncated body was accepted: %s", resp.Status)
	}
}

// TestParallelUploadsRespectQuota: reservations made at the same moment
// cannot together exceed the user's quota.
func TestParallelUploadsRespectQuota(t *testing.T) {
	dir := t.TempDir()
	blobs, err := disk.Open(dir + "/blobs")
	if err != nil {
		t.Fatal(err)
	}
	const size = 4 << 20
	e := newEnv(t, func(c *server.Config) {
		c.Media = &media.Config{Blobs: blobs, StagingDir: dir + "/up", MaxBlobSize: size, UserQuota: 2*size + size/2}
	})
	a, b := e.register("alice"), e.register("bob")
	conv := e.direct(e.connect(a), b)
	const n = 16
	codes := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			req, _ := http.NewRequest("POST", "http://"+e.addr+"/media/v1/uploads/", nil)
			req.Header.Set("Tus-Resumable", "1.0.0")
			req.Header.Set("Upload-Length", fmt.Sprint(size))
			req.Header.Set("Upload-Metadata", "conversation "+base64.StdEncoding.EncodeToString([]byte(conv)))
			req.Header.Set("Authorization", fmt.Sprintf("Parley %d:%s", a.device, base64.StdEncoding.EncodeToString(a.secret)))
			<-start
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		})
	}
	close(start)
	wg.Wait()
	created := 0
	for _, c := range codes {
		switch c {
		case http.StatusCreated:
			created++
		case http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("statuses %v: want only 201 and 413", codes)
		}
	}
	if created != 2 {
		t.Fatalf("%d parallel reservations of %d bytes passed a quota of %d bytes, want 2 (statuses %v)", created, size, 2*size+size/2, codes)
	}
}
