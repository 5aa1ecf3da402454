package e2e

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/proto/parleypb"
)

// Exit codes of the CLI (docs/cli.md).
const (
	exitUnauthenticated = 4
	exitNotFound        = 6
	exitConflict        = 7
	exitForbidden       = 5
	exitBlocked         = 10
)

// rawSession is a hand-driven protocol session with a device's credentials,
// for what the client core would never send.
type rawSession struct {
	t  *testing.T
	ws *websocket.Conn
	id uint64
}

func (d *device) mustRaw(s *server) *rawSession {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := client.OpenSQLiteStore(ctx, filepath.Join(d.profile, "parley.db"))
	if err != nil {
		d.t.Fatal(err)
	}
	acct, err := st.Account(ctx)
	st.Close()
	if err != nil {
		d.t.Fatal(err)
	}
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http")+client.WebSocketPath, nil)
	if err != nil {
		d.t.Fatal(err)
	}
	d.t.Cleanup(func() { ws.CloseNow() })
	r := &rawSession{t: d.t, ws: ws}
	r.mustReply(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Hello{Hello: &parleypb.Hello{Versions: []uint32{1}}}})
	if f := r.mustReply(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Auth{Auth: &parleypb.AuthRequest{DeviceId: int64(acct.Device), Secret: acct.Secret}}}); f.GetAuth() == nil {
		d.t.Fatalf("auth: %v", f)
	}
	return r
}

// mustReply sends f and returns the reply with its id (skipping pushes).
func (r *rawSession) mustReply(f *parleypb.ClientFrame) *parleypb.ServerFrame {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r.id++
	f.Id = r.id
	data, _ := proto.Marshal(f)
	if err := r.ws.Write(ctx, websocket.MessageBinary, data); err != nil {
		r.t.Fatal(err)
	}
	for {
		_, data, err := r.ws.Read(ctx)
		if err != nil {
			r.t.Fatalf("read reply: %v", err)
		}
		var sf parleypb.ServerFrame
		if err := proto.Unmarshal(data, &sf); err != nil {
			r.t.Fatal(err)
		}
		if sf.GetId() == r.id {
			return &sf
		}
	}
}

func TestAuthorisation(t *testing.T) {
	s := mustServe(t)
	alice := newDevice(t, "alice", "+14155550121")
	bob := newDevice(t, "bob", "+14155550122")
	carol := newDevice(t, "carol", "+14155550123")
	alice.mustRegister(s, "Alice")
	bob.mustRegister(s, "Bob")
	carol.mustRegister(s, "Carol")
	bob.must("account", "username", "bob")
	chat := alice.must("send", "--to", "@bob", "private").lines()[0]["chat"].(string)

	// Carol is not in the chat: the server refuses her reads and posts.
	raw := carol.mustRaw(s)
	send := raw.mustReply(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Send{Send: &parleypb.SendRequest{
		ConversationId: chat, ClientId: "x1", Kind: 1, Epoch: 1, Payload: []byte("forged")}}})
	if send.GetError().GetCode() != parleypb.ErrorCode_FORBIDDEN && send.GetError().GetCode() != parleypb.ErrorCode_NOT_FOUND {
		t.Fatalf("carol posting into alice and bob's chat: %v, want FORBIDDEN", send)
	}
	gi := raw.mustReply(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_GroupInfo{GroupInfo: &parleypb.GroupInfoRequest{ConversationId: chat}}})
	if gi.GetError() == nil {
		t.Fatalf("carol read the chat's group info: %v", gi)
	}
	ext := raw.mustReply(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Commit{Commit: &parleypb.CommitRequest{
		ConversationId: chat, Epoch: 1, Commit: []byte("x"), GroupInfo: []byte("y"), External: true}}})
	if ext.GetError() == nil {
		t.Fatalf("carol joined the chat by external commit: %v", ext)
	}
	// Bob's history has only alice's message.
	if got := texts(bob.must("history", chat).lines()); len(got) != 1 || got[0] != "private" {
		t.Fatalf("bob's history = %v", got)
	}

	// Privacy: bob hides his number; carol finds him by username only.
	bob.must("account", "privacy", "--find-by-phone", "nobody")
	carol.mustFail(exitNotFound, "send", "--to", bob.phone, "hi")
	carol.must("send", "--to", "@bob", "hi via username")

	// Block: bob blocks carol; her messages are refused with a clear error.
	bob.must("block", "+14155550123")
	r := carol.mustFail(exitBlocked, "send", "--to", "@bob", "let me in")
	if !strings.Contains(r.stderr, `"error":"blocked"`) {
		t.Fatalf("blocked send stderr = %s", r.stderr)
	}
	bob.must("unblock", "+14155550123")
	carol.must("send", "--to", "@bob", "thanks")

	// A revoked device is refused.
	alice2 := newDevice(t, "alice2", "")
	alice2.mustLink(s, alice)
	alice2.must("send", "--to", "@bob", "from alice2")
	// Bob catches up before the revocation: until the server publishes
	// revoked devices' keys, a member that first hears of a device after it
	// was revoked cannot validate the commit that added it (see
	// TestRevokedBeforeSeen).
	if got := texts(bob.must("history", chat).lines()); got[len(got)-1] != "from alice2" {
		t.Fatalf("bob's history = %v", got)
	}
	alice.must("device", "remove", itoa(alice2.deviceID()))
	alice2.mustFail(exitUnauthenticated, "send", "--to", "@bob", "from a revoked device")
	alice.must("send", "--to", "@bob", "after revoking alice2")
	if r := bob.must("history", chat); texts(r.lines())[len(texts(r.lines()))-1] != "after revoking alice2" {
		t.Fatalf("bob's history = %v\n%s", texts(r.lines()), r.stderr)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestRevokedBeforeSeen: bob is offline while alice links a device, sends
// from it and revokes it. Bob must still validate the external commit that
// added the (now revoked) device, which needs its identity key.
func TestRevokedBeforeSeen(t *testing.T) {
	s := mustServe(t)
	alice := newDevice(t, "alice", "+14155550131")
	bob := newDevice(t, "bob", "+14155550132")
	alice.mustRegister(s, "Alice")
	bob.mustRegister(s, "Bob")
	chat := alice.must("send", "--to", bob.phone, "first").lines()[0]["chat"].(string)
	alice2 := newDevice(t, "alice2", "")
	alice2.mustLink(s, alice)
	alice2.must("send", "--to", bob.phone, "from alice2")
	alice.must("device", "remove", itoa(alice2.deviceID()))
	alice.must("send", "--to", bob.phone, "after revoke")
	lines := bob.must("history", chat).lines()
	got := texts(lines)
	if len(got) != 3 || got[1] != "from alice2" || got[2] != "after revoke" {
		for _, m := range lines {
			if m["kind"] == "undecryptable" {
				t.Fatalf("bob cannot read messages after a device he never saw was revoked: %v", lines)
			}
		}
		t.Fatalf("bob's history = %v", got)
	}
}

// TestPIN: with a two-step PIN, registering the number on a new primary
// needs the PIN as well as the code.
func TestPIN(t *testing.T) {
	s := mustServe(t)
	dana := newDevice(t, "dana", "+14155550141")
	dana.mustRegister(s, "Dana")
	dana.must("account", "pin", "set", "2468")

	newPhone := newDevice(t, "dana-new", dana.phone)
	newPhone.must("account", "register", "--server", s.URL, "--phone", dana.phone, "--name", "Dana")
	code := s.MustCode(dana.phone)
	if r := newPhone.mustFail(exitForbidden, "account", "verify", "--code", code); !strings.Contains(r.stderr, "pin_required") {
		t.Fatalf("verify without PIN: %s", r.stderr)
	}
	newPhone.mustFail(exitForbidden, "account", "verify", "--code", code, "--pin", "1111")
	newPhone.must("account", "verify", "--code", code, "--pin", "2468")
	if out := newPhone.must("whoami").lines(); out[0]["primary"] != true {
		t.Fatalf("new primary: %v", out)
	}
}

// TestKeyPackageReplenish: a device whose one-time KeyPackages run low
// uploads more the next time it connects.
func TestKeyPackageReplenish(t *testing.T) {
	// The test drains Bob's stock on purpose: lift the per-target claim
	// limit that exists to stop exactly that.
	t.Setenv("PARLEY_CLAIMS_PER_TARGET", "1000")
	s := mustServe(t)
	bob := newDevice(t, "bob", "+14155550151")
	carol := newDevice(t, "carol", "+14155550152")
	bob.mustRegister(s, "Bob")
	carol.mustRegister(s, "Carol")
	bobID := int64(bob.must("whoami").lines()[0]["user_id"].(float64))
	raw := carol.mustRaw(s)
	claim := func() *parleypb.KeyPackage {
		t.Helper()
		f := raw.mustReply(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_ClaimKeyPackages{ClaimKeyPackages: &parleypb.ClaimKeyPackagesRequest{UserIds: []int64{bobID}}}})
		kps := f.GetClaimedKeyPackages().GetKeyPackages()
		if len(kps) != 1 {
			t.Fatalf("claim: %v", f)
		}
		return kps[0].GetKeyPackage()
	}
	for range 45 {
		if claim().GetLastResort() {
			t.Fatal("got the last-resort KeyPackage while one-time ones were left")
		}
	}
	bob.must("chats") // connects: sees 5 left, tops up to 50
	for i := range 50 {
		if claim().GetLastResort() {
			t.Fatalf("claim %d after replenishing got the last-resort KeyPackage", i)
		}
	}
	if !claim().GetLastResort() {
		t.Fatal("the stock should be exhausted now, leaving the last-resort KeyPackage")
	}
}
