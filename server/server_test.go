package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/accounts"
	"github.com/parleyhq/parley/delivery"
	"github.com/parleyhq/parley/proto/parleypb"
	"github.com/parleyhq/parley/server"
	"github.com/parleyhq/parley/store/sqlite"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"),
		// tusd keeps each request's context alive for its
		// GracefulRequestCompletionTimeout (10 s) after the request ended;
		// the goroutine then ends by itself.
		goleak.IgnoreTopFunction("github.com/tus/tusd/v2/pkg/handler.newDelayedContext.func1"))
}

// codeLog captures verification codes the development sender logs.
type codeLog struct {
	mu    sync.Mutex
	codes map[string]string
}

func (l *codeLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *codeLog) Handle(_ context.Context, r slog.Record) error {
	const prefix = "verification code for "
	if strings.HasPrefix(r.Message, prefix) {
		phone, code, _ := strings.Cut(strings.TrimPrefix(r.Message, prefix), ": ")
		l.mu.Lock()
		l.codes[phone] = code
		l.mu.Unlock()
	}
	return nil
}
func (l *codeLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *codeLog) WithGroup(string) slog.Handler      { return l }

func (l *codeLog) code(phone string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.codes[phone]
}

type env struct {
	t     *testing.T
	path  string
	st    *sqlite.Store
	srv   *server.Server
	addr  string
	codes *codeLog
	stop  func()
	phone atomic.Int64
	cfg   server.Config
}

type option func(*server.Config)

// generousLimits lets one test register many accounts from loopback; the
// attack tests (limits_test.go) set the limits they attack.
var generousLimits = accounts.Limits{
	SMSPerAddress:     parley.Limit{Events: 100_000, Window: time.Hour},
	GuessesPerAddress: parley.Limit{Events: 100_000, Window: time.Hour},
}

func newEnv(t *testing.T, opts ...option) *env {
	t.Helper()
	e := &env{t: t, path: filepath.Join(t.TempDir(), "parley.db"), codes: &codeLog{codes: map[string]string{}}}
	e.cfg = server.Config{
		Log:      slog.New(e.codes),
		Accounts: accounts.Config{Limits: generousLimits},
		Delivery: delivery.Config{PruneInterval: -1},
	}
	for _, o := range opts {
		o(&e.cfg)
	}
	e.start()
	t.Cleanup(e.close)
	return e
}

func (e *env) start() {
	e.t.Helper()
	st, err := sqlite.Open(context.Background(), e.path)
	if err != nil {
		e.t.Fatalf("open store: %v", err)
	}
	e.st = st
	cfg := e.cfg
	cfg.Store = st
	srv, err := server.New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.srv = srv
	addr := "127.0.0.1:0"
	if e.addr != "" {
		addr = e.addr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		e.t.Fatal(err)
	}
	e.addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	e.stop = func() {
		cancel()
		sctx, c2 := context.WithTimeout(context.Background(), 10*time.Second)
		defer c2()
		if err := srv.Shutdown(sctx); err != nil {
			e.t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			e.t.Errorf("serve: %v", err)
		}
		st.Close()
	}
}

func (e *env) close() {
	if e.stop != nil {
		e.stop()
		e.stop = nil
	}
}

// restart stops the server and starts a new one on the same database.
func (e *env) restart() {
	e.close()
	e.start()
}

type account struct {
	user, device int64
	secret       []byte
	phone        string
}

// register creates an account through the protocol (register + verify with
// the code from the development sender's log).
func (e *env) register(name string) account {
	e.t.Helper()
	phone := fmt.Sprintf("+1415555%04d", e.phone.Add(1))
	c := dial(e.t, e.addr)
	defer c.conn.Close()
	r := c.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Register{Register: &parleypb.RegisterRequest{Phone: phone, Name: name}}})
	if r.GetRegister().GetPhone() != phone {
		e.t.Fatalf("register: %v", r)
	}
	code := e.codes.code(phone)
	if code == "" {
		e.t.Fatalf("no code logged for %s", phone)
	}
	key := make([]byte, 32)
	copy(key, name)
	v := c.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Verify{Verify: &parleypb.VerifyRequest{
		Phone: phone, Code: code, IdentityKey: key, DeviceName: name + "-phone",
	}}})
	cred := v.GetCredentials()
	return account{user: cred.UserId, device: cred.DeviceId, secret: cred.Secret, phone: phone}
}

// connect dials, says hello and authenticates as a.
func (e *env) connect(a account) *tclient {
	e.t.Helper()
	c := dial(e.t, e.addr)
	r := c.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Auth{Auth: &parleypb.AuthRequest{DeviceId: a.device, Secret: a.secret}}})
	if r.GetAuth().GetDeviceId() != a.device {
		e.t.Fatalf("auth: %v", r)
	}
	c.user, c.device = a.user, a.device
	return c
}

// direct creates a direct conversation from a to b (fake MLS bytes: the
// server is crypto-blind) and returns its id. b's client gets the Welcome.
func (e *env) direct(ca *tclient, b account) string {
	e.t.Helper()
	id := string(parley.NewConversationID())
	r := ca.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_CreateConversation{CreateConversation: &parleypb.CreateConversationRequest{
		ConversationId: id, Kind: "direct",
		Members: []*parleypb.AddedDevice{{UserId: b.user, DeviceId: b.device}},
		Commit:  []byte("commit"), Welcome: []byte("welcome"), GroupInfo: []byte("groupinfo-1"), ClientId: "create-" + id,
	}}})
	if r.GetAppended().GetEpoch() != 1 {
		e.t.Fatalf("create: %v", r)
	}
	return id
}

func sendFrame(conv, clientID, payload string) *parleypb.ClientFrame {
	return &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Send{Send: &parleypb.SendRequest{
		ConversationId: conv, ClientId: clientID, Kind: 1, Epoch: 1, Payload: []byte(payload),
	}}}
}

func ackFrame(conv string, seq int64) *parleypb.ClientFrame {
	return &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Ack{Ack: &parleypb.Ack{ConversationId: conv, Seq: seq}}}
}

// welcomeFor drains the Welcome of a new conversation and acks it.
func welcomeFor(t *testing.T, c *tclient, conv string) {
	t.Helper()
	env := c.nextEnvelope()
	if env.ConversationId != conv || env.Kind != uint32(parley.EnvelopeWelcome) {
		t.Fatalf("want the welcome of %s, got %v", conv, env)
	}
	c.mustOK(ackFrame(conv, env.Seq))
}
