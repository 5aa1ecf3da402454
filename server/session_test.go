package server_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/delivery"
	"github.com/parleyhq/parley/gateway"
	"github.com/parleyhq/parley/mls"
	"github.com/parleyhq/parley/proto/parleypb"
	"github.com/parleyhq/parley/server"
)

func closeFrameOf(frames []*parleypb.ServerFrame) *parleypb.GoAway {
	for _, f := range frames {
		if g := f.GetGoAway(); g != nil {
			return g
		}
	}
	return nil
}

func errorOf(frames []*parleypb.ServerFrame) *parleypb.Error {
	for _, f := range frames {
		if e := f.GetError(); e != nil {
			return e
		}
	}
	return nil
}

func TestHelloNegotiation(t *testing.T) {
	e := newEnv(t)
	c := dialRaw(t, e.addr)
	r := c.call(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Hello{Hello: &parleypb.Hello{Versions: []uint32{7, 1, 3}}}})
	ok := r.GetHelloOk()
	if ok == nil || ok.Version != 1 || ok.MaxFrameBytes != 256<<10 || ok.DeliveryWindow != 512 || ok.HeartbeatSeconds != 30 {
		t.Fatalf("hello: %v", r)
	}
	c.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Ping{Ping: &parleypb.Ping{ClientTimeMs: 42}}})
}

func TestUnknownVersion(t *testing.T) {
	e := newEnv(t)
	c := dialRaw(t, e.addr)
	c.send(&parleypb.ClientFrame{Id: 1, Body: &parleypb.ClientFrame_Hello{Hello: &parleypb.Hello{Versions: []uint32{2, 9}}}})
	code, frames := c.waitClosed()
	if code != gateway.CloseUnsupportedVersion {
		t.Fatalf("close code %d, want 4001", code)
	}
	if e := errorOf(frames); e == nil || e.Code != parleypb.ErrorCode_UNSUPPORTED_VERSION {
		t.Fatalf("frames %v, want an UNSUPPORTED_VERSION error", frames)
	}
	if g := closeFrameOf(frames); g == nil || g.CloseCode != 4001 {
		t.Fatalf("no GoAway 4001 in %v", frames)
	}
}

func TestHelloRequired(t *testing.T) {
	e := newEnv(t)
	c := dialRaw(t, e.addr)
	c.send(&parleypb.ClientFrame{Id: 1, Body: &parleypb.ClientFrame_Ping{Ping: &parleypb.Ping{}}})
	code, frames := c.waitClosed()
	if code != gateway.CloseProtocolError {
		t.Fatalf("close code %d, want 4002", code)
	}
	if e := errorOf(frames); e == nil || e.Code != parleypb.ErrorCode_PROTOCOL || e.Reason != "hello_required" {
		t.Fatalf("frames %v", frames)
	}
}

func TestAuthRequired(t *testing.T) {
	e := newEnv(t)
	c := dial(t, e.addr)
	c.mustErr(sendFrame("cabcdefghijk", "x", "hi"), parleypb.ErrorCode_UNAUTHENTICATED, "auth_required")
	c.mustErr(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_ListConversations{ListConversations: &parleypb.ListConversationsRequest{}}},
		parleypb.ErrorCode_UNAUTHENTICATED, "auth_required")
	// Bad credentials close the session.
	c.send(&parleypb.ClientFrame{Id: 99, Body: &parleypb.ClientFrame_Auth{Auth: &parleypb.AuthRequest{DeviceId: 12345, Secret: make([]byte, 32)}}})
	code, frames := c.waitClosed()
	if code != gateway.CloseAuthFailed {
		t.Fatalf("close %d, want 4004", code)
	}
	if er := errorOf(frames); er == nil || er.Code != parleypb.ErrorCode_UNAUTHENTICATED {
		t.Fatalf("frames %v", frames)
	}
}

func TestRegisterVerifyAuth(t *testing.T) {
	e := newEnv(t)
	a := e.register("alice")
	if a.user == 0 || a.device == 0 || len(a.secret) != 32 {
		t.Fatalf("credentials %+v", a)
	}
	c := e.connect(a)
	r := c.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_ListDevices{ListDevices: &parleypb.ListDevicesRequest{}}})
	if len(r.GetDevices().GetDevices()) != 1 {
		t.Fatalf("devices %v", r)
	}
	// A wrong code.
	c2 := dial(t, e.addr)
	c2.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Register{Register: &parleypb.RegisterRequest{Phone: "+14155550999", Name: "bob"}}})
	c2.mustErr(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Verify{Verify: &parleypb.VerifyRequest{
		Phone: "+14155550999", Code: "000000", IdentityKey: make([]byte, 32), DeviceName: "x",
	}}}, parleypb.ErrorCode_INVALID, "")
}

func TestSendReceiveOnline(t *testing.T) {
	e := newEnv(t)
	a, b := e.register("alice"), e.register("bob")
	ca, cb := e.connect(a), e.connect(b)
	conv := e.direct(ca, b)
	welcomeFor(t, cb, conv)

	r := ca.mustOK(sendFrame(conv, "m1", "hello bob"))
	sent := r.GetSent()
	if sent.Seq <= 0 || sent.Duplicate || sent.ClientId != "m1" {
		t.Fatalf("sent %v", sent)
	}
	env := cb.nextEnvelope()
	if string(env.Payload) != "hello bob" || env.Seq != sent.Seq || env.SenderUser != a.user || env.SenderDevice != a.device || env.ClientId != "m1" || env.Kind != 1 {
		t.Fatalf("envelope %v", env)
	}
	// Bob acks: Alice gets a delivered receipt.
	cb.mustOK(ackFrame(conv, env.Seq))
	rc := ca.next(func(f *parleypb.ServerFrame) bool { return f.GetReceipt().GetSeq() == env.Seq }).GetReceipt()
	if rc.Kind != 1 || rc.Seq != env.Seq || rc.DeviceId != b.device || rc.UserId != b.user {
		t.Fatalf("receipt %v", rc)
	}
	// Bob reads: Alice gets a read receipt.
	cb.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Read{Read: &parleypb.ReadRequest{ConversationId: conv, Seq: env.Seq}}})
	rr := ca.next(func(f *parleypb.ServerFrame) bool { return f.GetReceipt().GetKind() == 2 }).GetReceipt()
	if rr.Kind != 2 || rr.Seq != env.Seq || rr.UserId != b.user {
		t.Fatalf("read receipt %v", rr)
	}
	// Typing reaches the other user, never stored.
	ca.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Typing{Typing: &parleypb.Typing{ConversationId: conv, Typing: true}}})
	ty := cb.next(func(f *parleypb.ServerFrame) bool { return f.GetTyping() != nil }).GetTyping()
	if !ty.Typing || ty.UserId != a.user || ty.ConversationId != conv {
		t.Fatalf("typing %v", ty)
	}
	// Alice does not get her own message back.
	ca.noEnvelope()
	// Conversations list.
	lr := cb.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_ListConversations{ListConversations: &parleypb.ListConversationsRequest{}}})
	if cs := lr.GetConversations().GetConversations(); len(cs) != 1 || cs[0].Id != conv || !cs[0].Joined || cs[0].Kind != "direct" {
		t.Fatalf("conversations %v", lr)
	}
	// Presence: Bob is online.
	pr := ca.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Presence{Presence: &parleypb.PresenceRequest{UserId: b.user}}})
	if !pr.GetPresence().GetOnline() {
		t.Fatalf("presence %v", pr)
	}
}

func TestOfflineCatchUpAndIdempotentResend(t *testing.T) {
	e := newEnv(t)
	a, b := e.register("alice"), e.register("bob")
	ca := e.connect(a)
	conv := e.direct(ca, b)
	var seqs []int64
	for i := range 20 {
		seqs = append(seqs, ca.mustOK(sendFrame(conv, fmt.Sprint("m", i), fmt.Sprint("msg ", i))).GetSent().Seq)
	}
	// A retried send returns the original seq and is not delivered twice.
	dup := ca.mustOK(sendFrame(conv, "m3", "msg 3")).GetSent()
	if !dup.Duplicate || dup.Seq != seqs[3] {
		t.Fatalf("resend: %v, want duplicate of %d", dup, seqs[3])
	}
	cb := e.connect(b)
	welcomeFor(t, cb, conv)
	for i := range 20 {
		env := cb.nextEnvelope()
		if env.Seq != seqs[i] || string(env.Payload) != fmt.Sprint("msg ", i) {
			t.Fatalf("envelope %d: %v", i, env)
		}
	}
	cb.mustOK(ackFrame(conv, seqs[9]))
	cb.conn.Close()
	// Reconnect: only what was not acknowledged comes again.
	cb2 := e.connect(b)
	for i := 10; i < 20; i++ {
		env := cb2.nextEnvelope()
		if env.Seq != seqs[i] {
			t.Fatalf("after reconnect: envelope %v, want seq %d", env, seqs[i])
		}
	}
	cb2.mustOK(ackFrame(conv, seqs[19]))
	cb2.noEnvelope()
	// Live messages after catch-up keep order.
	s := ca.mustOK(sendFrame(conv, "live", "live")).GetSent()
	if env := cb2.nextEnvelope(); env.Seq != s.Seq {
		t.Fatalf("live envelope %v, want %d", env, s.Seq)
	}
}

func TestFlowControlWindow(t *testing.T) {
	const window = 8
	e := newEnv(t, func(c *server.Config) { c.Delivery.DeliveryWindow = window })
	a, b := e.register("alice"), e.register("bob")
	ca, cb := e.connect(a), e.connect(b)
	conv := e.direct(ca, b)
	welcomeFor(t, cb, conv)
	for i := range 3 * window {
		ca.mustOK(sendFrame(conv, fmt.Sprint("m", i), "x"))
	}
	var last int64
	for round := range 3 {
		for range window {
			last = cb.nextEnvelope().Seq
		}
		// The window is full: nothing more until an ack.
		cb.noEnvelope()
		if round < 2 {
			cb.mustOK(ackFrame(conv, last))
		}
	}
	if got := e.srv.Delivery.Stats().Appended; got < 3*window {
		t.Fatalf("appended %d", got)
	}
}

func TestBlockRefusesSend(t *testing.T) {
	e := newEnv(t)
	a, b := e.register("alice"), e.register("bob")
	ca, cb := e.connect(a), e.connect(b)
	conv := e.direct(ca, b)
	welcomeFor(t, cb, conv)
	cb.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Block{Block: &parleypb.BlockRequest{UserId: a.user}}})
	ca.mustErr(sendFrame(conv, "m1", "hi"), parleypb.ErrorCode_BLOCKED, "blocked")
	cb.mustErr(sendFrame(conv, "m2", "hi"), parleypb.ErrorCode_BLOCKED, "blocked_by_you")
	cb.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Block{Block: &parleypb.BlockRequest{UserId: a.user, Unblock: true}}})
	ca.mustOK(sendFrame(conv, "m1", "hi"))
}

func TestNonMemberRefused(t *testing.T) {
	e := newEnv(t)
	a, b, c := e.register("alice"), e.register("bob"), e.register("carol")
	ca := e.connect(a)
	conv := e.direct(ca, b)
	cc := e.connect(c)
	cc.mustErr(sendFrame(conv, "m1", "hi"), parleypb.ErrorCode_FORBIDDEN, "not_member")
	cc.mustErr(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_GroupInfo{GroupInfo: &parleypb.GroupInfoRequest{ConversationId: conv}}},
		parleypb.ErrorCode_NOT_FOUND, "")
	cc.mustErr(sendFrame("cnosuchconversation", "m1", "hi"), parleypb.ErrorCode_NOT_FOUND, "conversation_not_found")
	// A second direct conversation between the same users is refused.
	er := ca.mustErr(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_CreateConversation{CreateConversation: &parleypb.CreateConversationRequest{
		ConversationId: string(parley.NewConversationID()), Kind: "direct",
		Members: []*parleypb.AddedDevice{{UserId: b.user, DeviceId: b.device}}, Welcome: []byte("w"), GroupInfo: []byte("g"),
	}}}, parleypb.ErrorCode_CONFLICT, "direct_exists")
	if er.Message != conv {
		t.Fatalf("direct_exists message %q, want %q", er.Message, conv)
	}
	// Payload too large.
	big := bytes.Repeat([]byte{1}, 200<<10)
	ca.mustErr(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Send{Send: &parleypb.SendRequest{ConversationId: conv, ClientId: "big", Kind: 1, Payload: big}}},
		parleypb.ErrorCode_TOO_LARGE, "payload_too_large")
}

func TestRevokedDevice(t *testing.T) {
	e := newEnv(t)
	a, b := e.register("alice"), e.register("bob")
	ca := e.connect(a)
	// Link a second device to Alice.
	code := ca.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_LinkCode{LinkCode: &parleypb.LinkCodeRequest{}}}).GetLinkCode().Code
	anon := dial(t, e.addr)
	cred := anon.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_LinkDevice{LinkDevice: &parleypb.LinkDeviceRequest{
		Code: code, IdentityKey: bytes.Repeat([]byte{7}, 32), DeviceName: "laptop",
	}}}).GetCredentials()
	laptop := account{user: cred.UserId, device: cred.DeviceId, secret: cred.Secret}
	if laptop.user != a.user {
		t.Fatalf("linked device of user %d", laptop.user)
	}
	cb := e.connect(b)
	// A conversation with Alice's two devices and Bob.
	conv := string(parley.NewConversationID())
	ca.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_CreateConversation{CreateConversation: &parleypb.CreateConversationRequest{
		ConversationId: conv, Kind: "direct",
		Members: []*parleypb.AddedDevice{{UserId: b.user, DeviceId: b.device}, {UserId: a.user, DeviceId: laptop.device}},
		Welcome: []byte("w"), GroupInfo: []byte("g"),
	}}})
	cl := e.connect(laptop)
	welcomeFor(t, cl, conv)
	welcomeFor(t, cb, conv)
	// Alice's own other device gets what she sends.
	s := ca.mustOK(sendFrame(conv, "m1", "to all")).GetSent()
	if env := cl.nextEnvelope(); env.Seq != s.Seq {
		t.Fatalf("laptop got %v", env)
	}
	if env := cb.nextEnvelope(); env.Seq != s.Seq {
		t.Fatalf("bob got %v", env)
	}
	// Alice removes the laptop: its session closes with 4003.
	ca.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_RemoveDevice{RemoveDevice: &parleypb.RemoveDeviceRequest{DeviceId: laptop.device}}})
	code2, frames := cl.waitClosed()
	if code2 != gateway.CloseDeviceRevoked {
		t.Fatalf("laptop closed with %d, want 4003 (frames %v)", code2, frames)
	}
	// Remaining devices get the system envelope.
	sys := cb.nextEnvelope()
	if sys.Kind != uint32(parley.EnvelopeSystem) || !bytes.Contains(sys.Payload, []byte(fmt.Sprintf(`"removed_device":%d`, laptop.device))) {
		t.Fatalf("system envelope %v", sys)
	}
	cb.next(func(f *parleypb.ServerFrame) bool { return f.GetConversationsChanged() != nil })
	// The revoked device cannot authenticate again.
	c := dial(t, e.addr)
	c.send(&parleypb.ClientFrame{Id: 5, Body: &parleypb.ClientFrame_Auth{Auth: &parleypb.AuthRequest{DeviceId: laptop.device, Secret: laptop.secret}}})
	code3, frames := c.waitClosed()
	if code3 != gateway.CloseDeviceRevoked {
		t.Fatalf("revoked auth closed with %d (frames %v)", code3, frames)
	}
	if er := errorOf(frames); er == nil || er.Reason != "device_revoked" {
		t.Fatalf("frames %v", frames)
	}
}

func TestOversizedFrame(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.Gateway.MaxFrameBytes = 1024 })
	c := dial(t, e.addr)
	// The server may close before reading the payload: a write error is fine.
	_ = c.writeRaw(ws.OpBinary, make([]byte, 2000))
	code, frames := c.waitClosed()
	if code != gateway.CloseTooLarge {
		t.Fatalf("close %d, want 4009", code)
	}
	if er := errorOf(frames); er == nil || er.Code != parleypb.ErrorCode_TOO_LARGE || er.Reason != "frame_too_large" {
		t.Fatalf("frames %v", frames)
	}
}

func TestGarbageFrame(t *testing.T) {
	e := newEnv(t)
	c := dial(t, e.addr)
	if err := c.writeRaw(ws.OpBinary, []byte{0xff, 0xff, 0xff, 0xff, 0x0f}); err != nil {
		t.Fatal(err)
	}
	code, frames := c.waitClosed()
	if code != gateway.CloseProtocolError {
		t.Fatalf("close %d, want 4002", code)
	}
	if er := errorOf(frames); er == nil || er.Code != parleypb.ErrorCode_PROTOCOL || er.Reason != "undecodable_frame" {
		t.Fatalf("frames %v", frames)
	}
}

func TestHeartbeatTimeout(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.Gateway.HeartbeatInterval = 100 * time.Millisecond })
	c := dial(t, e.addr)
	// Stay silent: the server closes after 2x the interval.
	code, frames := c.waitClosed()
	if code != gateway.CloseIdleTimeout {
		t.Fatalf("close %d, want 4008", code)
	}
	if g := closeFrameOf(frames); g == nil || g.Reason != "idle_timeout" {
		t.Fatalf("frames %v", frames)
	}
}

func TestRestartKeepsAcknowledgedMessages(t *testing.T) {
	e := newEnv(t)
	a, b := e.register("alice"), e.register("bob")
	ca := e.connect(a)
	conv := e.direct(ca, b)
	var seqs []int64
	for i := range 5 {
		seqs = append(seqs, ca.mustOK(sendFrame(conv, fmt.Sprint("m", i), fmt.Sprint(i))).GetSent().Seq)
	}
	cb := e.connect(b)
	welcomeFor(t, cb, conv)
	for range 2 {
		cb.nextEnvelope()
	}
	cb.mustOK(ackFrame(conv, seqs[1]))
	e.restart()
	cb2 := e.connect(b)
	for i := 2; i < 5; i++ {
		if env := cb2.nextEnvelope(); env.Seq != seqs[i] || string(env.Payload) != fmt.Sprint(i) {
			t.Fatalf("after restart: %v, want seq %d", env, seqs[i])
		}
	}
}

// mlsDirect creates a direct conversation from a to b whose MLS group is
// real (the server reads commits: they must be MLS PublicMessages from the
// sender's leaf) and returns its id with both members' groups. b's client
// gets the Welcome.
func mlsDirect(t *testing.T, ca *tclient, a, b account) (string, *mls.Group, *mls.Group) {
	t.Helper()
	bundle := func(acct account) *mls.KeyPackageBundle {
		s, err := mls.GenerateSigner(mls.MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519)
		if err != nil {
			t.Fatal(err)
		}
		kp, err := mls.NewKeyPackage(mls.MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519, s,
			mls.NewBasicCredential([]byte(parley.DeviceCredential(parley.UserID(acct.user), parley.DeviceID(acct.device)))), mls.KeyPackageOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return kp
	}
	cfg := mls.Config{HandshakeFormat: mls.WireFormatPublicMessage}
	id := string(parley.NewConversationID())
	ga, err := mls.CreateGroup([]byte(id), bundle(a), cfg)
	if err != nil {
		t.Fatal(err)
	}
	bkp := bundle(b)
	pc, err := ga.Commit(mls.CommitParams{Adds: []*mls.KeyPackage{&bkp.KeyPackage}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ga.MergePendingCommit(); err != nil {
		t.Fatal(err)
	}
	gb, err := mls.JoinFromWelcome(pc.Welcome, bkp, nil, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := ca.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_CreateConversation{CreateConversation: &parleypb.CreateConversationRequest{
		ConversationId: id, Kind: "direct",
		Members: []*parleypb.AddedDevice{{UserId: b.user, DeviceId: b.device}},
		Commit:  pc.Commit, Welcome: pc.Welcome, GroupInfo: pc.GroupInfo, ClientId: "create-" + id,
	}}})
	if r.GetAppended().GetEpoch() != 1 {
		t.Fatalf("create: %v", r)
	}
	return id, ga, gb
}

func TestCommitEpochConflict(t *testing.T) {
	e := newEnv(t)
	a, b := e.register("alice"), e.register("bob")
	ca, cb := e.connect(a), e.connect(b)
	conv, ga, gb := mlsDirect(t, ca, a, b)
	welcomeFor(t, cb, conv)
	commits := map[string][]byte{}
	commit := func(c *tclient, g *mls.Group, id uint64, name string) {
		pc, err := g.Commit(mls.CommitParams{Update: true})
		if err != nil {
			t.Fatal(err)
		}
		commits[name] = pc.Commit
		c.send(&parleypb.ClientFrame{Id: id, Body: &parleypb.ClientFrame_Commit{Commit: &parleypb.CommitRequest{
			ConversationId: conv, Epoch: 1, Commit: pc.Commit, GroupInfo: pc.GroupInfo, ClientId: "c-" + name,
		}}})
	}
	commit(ca, ga, 1000, "a")
	commit(cb, gb, 1000, "b")
	ra, rb := ca.waitID(1000), cb.waitID(1000)
	wins := 0
	for _, r := range []*parleypb.ServerFrame{ra, rb} {
		if r.GetAppended() != nil {
			wins++
			if r.GetAppended().Epoch != 2 {
				t.Fatalf("appended %v", r)
			}
		} else if er := r.GetError(); er == nil || er.Code != parleypb.ErrorCode_CONFLICT || er.Reason != "wrong_epoch" {
			t.Fatalf("loser got %v", r)
		}
	}
	if wins != 1 {
		t.Fatalf("%d commits won, want exactly 1", wins)
	}
	gi := ca.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_GroupInfo{GroupInfo: &parleypb.GroupInfoRequest{ConversationId: conv}}}).GetGroupInfo()
	if gi.Epoch != 2 {
		t.Fatalf("group info %v", gi)
	}
	// The loser receives the winner's commit.
	loser, winner := ca, "b"
	if ra.GetAppended() != nil {
		loser, winner = cb, "a"
	}
	env := loser.nextEnvelope()
	if env.Kind != uint32(parley.EnvelopeCommit) || !bytes.Equal(env.Payload, commits[winner]) {
		t.Fatalf("commit envelope %v", env)
	}
}

func TestKeyPackages(t *testing.T) {
	e := newEnv(t, func(c *server.Config) {
		c.Delivery = delivery.Config{PruneInterval: -1, MaxKeyPackages: 12, KeyPackagesLow: 10}
	})
	a, b := e.register("alice"), e.register("bob")
	ca, cb := e.connect(a), e.connect(b)
	var kps []*parleypb.KeyPackage
	for i := range 11 {
		kps = append(kps, &parleypb.KeyPackage{Ref: []byte{byte(i)}, Data: []byte(fmt.Sprint("kp", i))})
	}
	kps = append(kps, &parleypb.KeyPackage{Ref: []byte("lr"), Data: []byte("last"), LastResort: true})
	r := cb.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_UploadKeyPackages{UploadKeyPackages: &parleypb.UploadKeyPackagesRequest{KeyPackages: kps}}})
	if r.GetKeyPackageCount().OneTimeLeft != 11 {
		t.Fatalf("upload: %v", r)
	}
	cb.mustErr(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_UploadKeyPackages{UploadKeyPackages: &parleypb.UploadKeyPackagesRequest{KeyPackages: kps[:2]}}},
		parleypb.ErrorCode_TOO_LARGE, "too_many_key_packages")
	cl := ca.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_ClaimKeyPackages{ClaimKeyPackages: &parleypb.ClaimKeyPackagesRequest{UserIds: []int64{b.user}}}})
	got := cl.GetClaimedKeyPackages().GetKeyPackages()
	if len(got) != 1 || got[0].DeviceId != b.device || string(got[0].KeyPackage.Data) != "kp0" {
		t.Fatalf("claimed %v", got)
	}
	// 10 left: not low yet; the next claim leaves 9 and Bob is told.
	ca.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_ClaimKeyPackages{ClaimKeyPackages: &parleypb.ClaimKeyPackagesRequest{UserIds: []int64{b.user}}}})
	low := cb.next(func(f *parleypb.ServerFrame) bool { return f.GetKeyPackagesLow() != nil }).GetKeyPackagesLow()
	if low.OneTimeLeft != 9 {
		t.Fatalf("low %v", low)
	}
}

// TestListConversationsPositions: ListConversations carries each member
// device's delivered position and each member user's read mark (receipts
// are pushed only live); delivered positions follow the live receipt size
// limit.
func TestListConversationsPositions(t *testing.T) {
	for _, tc := range []struct {
		name      string
		maxDevs   int
		delivered bool
	}{{"small", 0, true}, {"over receipt limit", 1, false}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *server.Config) {
				if tc.maxDevs > 0 {
					c.Delivery.ReceiptMaxMembers = tc.maxDevs
				}
			})
			a, b := e.register("alice"), e.register("bob")
			ca, cb := e.connect(a), e.connect(b)
			conv := e.direct(ca, b)
			welcomeFor(t, cb, conv)
			s1 := ca.mustOK(sendFrame(conv, "m1", "one")).GetSent().Seq
			s2 := ca.mustOK(sendFrame(conv, "m2", "two")).GetSent().Seq
			cb.nextEnvelope()
			cb.nextEnvelope()
			cb.mustOK(ackFrame(conv, s2))
			cb.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Read{Read: &parleypb.ReadRequest{ConversationId: conv, Seq: s1}}})

			lr := ca.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_ListConversations{ListConversations: &parleypb.ListConversationsRequest{}}})
			cs := lr.GetConversations().GetConversations()
			if len(cs) != 1 {
				t.Fatalf("conversations %v", lr)
			}
			var delivered *parleypb.Receipt
			for _, r := range cs[0].GetDelivered() {
				if r.Kind != 1 || r.ConversationId != conv {
					t.Fatalf("delivered position %v", r)
				}
				if r.DeviceId == b.device {
					delivered = r
				}
			}
			if tc.delivered && (delivered == nil || delivered.Seq != s2 || delivered.UserId != b.user) {
				t.Fatalf("delivered positions %v, want bob's device at %d", cs[0].GetDelivered(), s2)
			}
			if !tc.delivered && len(cs[0].GetDelivered()) != 0 {
				t.Fatalf("delivered positions %v, want none over the receipt limit", cs[0].GetDelivered())
			}
			read := cs[0].GetRead()
			if len(read) != 1 || read[0].Kind != 2 || read[0].UserId != b.user || read[0].Seq != s1 || read[0].DeviceId != 0 {
				t.Fatalf("read positions %v, want bob at %d", read, s1)
			}
		})
	}
}

// TestSignalsShareWrites: a receipt waits (up to Gateway.SignalDelay, here
// an hour) for another frame to the same connection and goes out with it.
func TestSignalsShareWrites(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.Gateway.SignalDelay = time.Hour })
	a, b := e.register("alice"), e.register("bob")
	ca, cb := e.connect(a), e.connect(b)
	conv := e.direct(ca, b)
	welcomeFor(t, cb, conv)

	sent := ca.mustOK(sendFrame(conv, "m1", "hello bob")).GetSent()
	env := cb.nextEnvelope()
	cb.mustOK(ackFrame(conv, env.Seq)) // durable: the receipt is queued for Alice now
	select {
	case f := <-ca.frames:
		t.Fatalf("a signal went out alone: %v", f)
	case <-time.After(300 * time.Millisecond):
	}
	// Any frame for Alice takes the held receipt along: here a ping's reply.
	ca.mustOK(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Ping{Ping: &parleypb.Ping{}}})
	rc := ca.next(func(f *parleypb.ServerFrame) bool { return f.GetReceipt().GetSeq() == sent.Seq }).GetReceipt()
	if rc.Kind != 1 || rc.DeviceId != b.device {
		t.Fatalf("receipt %v", rc)
	}
}

// TestSignalAloneGoesOutAfterDelay: with nothing to share a write with, a
// receipt goes out after Gateway.SignalDelay.
func TestSignalAloneGoesOutAfterDelay(t *testing.T) {
	const delay = 200 * time.Millisecond
	e := newEnv(t, func(c *server.Config) { c.Gateway.SignalDelay = delay })
	a, b := e.register("alice"), e.register("bob")
	ca, cb := e.connect(a), e.connect(b)
	conv := e.direct(ca, b)
	welcomeFor(t, cb, conv)

	ca.mustOK(sendFrame(conv, "m1", "hello bob"))
	env := cb.nextEnvelope()
	acked := time.Now()
	cb.mustOK(ackFrame(conv, env.Seq))
	ca.next(func(f *parleypb.ServerFrame) bool { return f.GetReceipt().GetSeq() == env.Seq })
	if waited := time.Since(acked); waited < delay {
		t.Fatalf("the receipt came %v after the ack, before the %v delay", waited, delay)
	}
}
