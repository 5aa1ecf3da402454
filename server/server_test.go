package server_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/proto/parleypb"
	"github.com/parleyhq/parley/server"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"),
		// tusd keeps each request's context alive for its
		// GracefulRequestCompletionTimeout (10 s) after the request ended;
		// the goroutine then ends by itself.
		goleak.IgnoreTopFunction("github.com/tus/tusd/v2/pkg/handler.newDelayedContext.func1"))
}

// env is a server started by the shared harness (parleytest), with the
// helpers these tests speak the protocol through.
type env struct {
	t     *testing.T
	ps    *parleytest.Server
	srv   *server.Server
	addr  string
	codes *parleytest.Codes
	phone atomic.Int64
}

type option = func(*server.Config)

func newEnv(t *testing.T, opts ...option) *env {
	t.Helper()
	ps := parleytest.Start(t, opts...)
	return &env{t: t, ps: ps, srv: ps.Server, addr: ps.Addr, codes: ps.Codes}
}

// restart stops the server and starts a new one on the same database.
func (e *env) restart() {
	e.ps.Restart()
	e.srv = e.ps.Server
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
	code := e.codes.Code(phone)
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
