package calls_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/broker/inproc"
	"github.com/parleyhq/parley/calls"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/proto/parleypb"
	"github.com/parleyhq/parley/store/sqlite"
)

// inbox collects the pushes one device receives through the real broker.
type inbox struct {
	mu     sync.Mutex
	frames []*parleypb.ServerFrame
}

func (b *inbox) events() []*parleypb.CallEvent {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []*parleypb.CallEvent
	for _, f := range b.frames {
		if e := f.GetCallEvent(); e != nil {
			out = append(out, e)
		}
	}
	return out
}

func (b *inbox) kinds() []parleypb.CallEventKind {
	var out []parleypb.CallEventKind
	for _, e := range b.events() {
		out = append(out, e.Kind)
	}
	return out
}

func (b *inbox) signals() []*parleypb.CallSignal {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []*parleypb.CallSignal
	for _, f := range b.frames {
		if s := f.GetCallSignal(); s != nil {
			out = append(out, s)
		}
	}
	return out
}

func (b *inbox) reset() { b.mu.Lock(); b.frames = nil; b.mu.Unlock() }

type env struct {
	t     *testing.T
	st    *sqlite.Store
	br    *inproc.Broker
	clock *parleytest.Clock
	svc   *calls.Service
	box   map[parley.DeviceID]*inbox
}

func newEnv(t *testing.T, cfg calls.Config) *env {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, st: st, br: inproc.New(), clock: parleytest.NewClock(time.Unix(1_800_000_000, 0)), box: map[parley.DeviceID]*inbox{}}
	e.svc = calls.New(st, e.br, e.clock, nil, cfg)
	return e
}

// mustUser creates a user with n devices, each subscribed to the broker.
func (e *env) mustUser(phone string, n int) []parley.Device {
	e.t.Helper()
	u, err := e.st.CreateUser(e.t.Context(), parley.User{Phone: phone, Name: phone})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []parley.Device
	for range n {
		d, err := e.st.CreateDevice(e.t.Context(), parley.Device{User: u.ID, Name: "dev"})
		if err != nil {
			e.t.Fatal(err)
		}
		b := &inbox{}
		e.box[d.ID] = b
		cancel, err := e.br.Subscribe(d.ID, func(ev parley.Event) {
			var f parleypb.ServerFrame
			if err := proto.Unmarshal(ev.Frame, &f); err != nil {
				e.t.Errorf("push: %v", err)
				return
			}
			b.mu.Lock()
			b.frames = append(b.frames, &f)
			b.mu.Unlock()
		})
		if err != nil {
			e.t.Fatal(err)
		}
		e.t.Cleanup(cancel)
		out = append(out, d)
	}
	return out
}

func (e *env) mustConversation(kind parley.ConversationKind, devs ...parley.Device) parley.ConversationID {
	e.t.Helper()
	id := parley.NewConversationID()
	var members []parley.Member
	for _, d := range devs {
		members = append(members, parley.Member{Conversation: id, User: d.User, Device: d.ID})
	}
	_, err := e.st.CreateConversation(e.t.Context(), parley.Conversation{ID: id, Kind: kind, Epoch: 1, CreatedBy: devs[0].User, CreatedAt: e.clock.Now()}, members, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func wantErr(t *testing.T, err error, code parley.Code, reason string) {
	t.Helper()
	if parley.ErrorCode(err) != code || parley.ErrorReason(err) != reason {
		t.Fatalf("err %v, want %s/%s", err, code, reason)
	}
}

func wantKinds(t *testing.T, name string, got []parleypb.CallEventKind, want ...parleypb.CallEventKind) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: events %v, want %v", name, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: events %v, want %v", name, got, want)
		}
	}
}

const (
	ringing   = parleypb.CallEventKind_CALL_RINGING
	accepted  = parleypb.CallEventKind_CALL_ACCEPTED
	elsewhere = parleypb.CallEventKind_CALL_ANSWERED_ELSEWHERE
	declined  = parleypb.CallEventKind_CALL_DECLINED
	busyEv    = parleypb.CallEventKind_CALL_BUSY
	cancelled = parleypb.CallEventKind_CALL_CANCELLED
	missed    = parleypb.CallEventKind_CALL_MISSED
	joined    = parleypb.CallEventKind_CALL_JOINED
	left      = parleypb.CallEventKind_CALL_LEFT
	ended     = parleypb.CallEventKind_CALL_ENDED
	media     = parleypb.CallEventKind_CALL_MEDIA_STATE
	inProg    = parleypb.CallEventKind_CALL_IN_PROGRESS
)

func TestDirectCallAcceptOnOneDevice(t *testing.T) {
	e := newEnv(t, calls.Config{TURN: calls.TURN{URLs: []string{"turn:127.0.0.1:3478"}, Secret: []byte("s3cret")}})
	alice := e.mustUser("+15550000001", 2)
	bob := e.mustUser("+15550000002", 2)
	conv := e.mustConversation(parley.KindDirect, alice[0], alice[1], bob[0], bob[1])
	ctx := t.Context()

	info, err := e.svc.Start(ctx, alice[0], conv, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.ICEServers) != 1 || info.ICEServers[0].Username == "" ||
		info.ICEServers[0].Credential != calls.TURNPassword([]byte("s3cret"), info.ICEServers[0].Username) {
		t.Fatalf("ice servers %v", info.ICEServers)
	}
	wantKinds(t, "bob0", e.box[bob[0].ID].kinds(), ringing)
	wantKinds(t, "bob1", e.box[bob[1].ID].kinds(), ringing)
	wantKinds(t, "alice1", e.box[alice[1].ID].kinds(), inProg)
	if !e.box[bob[0].ID].events()[0].Call.Video {
		t.Fatal("ringing event lost the video flag")
	}
	id := info.ID

	// An early offer from the caller reaches a rung device; the server
	// relays payloads it cannot read.
	if err := e.svc.Signal(ctx, alice[0], id, bob[1].ID, parley.CallPublish, parley.CallSignalOffer, []byte("v=0 sdp")); err != nil {
		t.Fatal(err)
	}
	if s := e.box[bob[1].ID].signals(); len(s) != 1 || string(s[0].Payload) != "v=0 sdp" || s[0].FromDevice != int64(alice[0].ID) {
		t.Fatalf("bob1 signals %v", s)
	}
	// Bob accepts on his second device: his first stops ringing.
	if _, err := e.svc.Accept(ctx, bob[1], id); err != nil {
		t.Fatal(err)
	}
	wantKinds(t, "bob0", e.box[bob[0].ID].kinds(), ringing, elsewhere)
	wantKinds(t, "alice0", e.box[alice[0].ID].kinds(), accepted)
	_, err = e.svc.Accept(ctx, bob[0], id)
	wantErr(t, err, parley.CodeConflict, calls.ReasonNotRinging)

	if err := e.svc.SetMediaState(ctx, bob[1], id, true, false); err != nil {
		t.Fatal(err)
	}
	wantKinds(t, "alice0", e.box[alice[0].ID].kinds(), accepted, media)
	// A device outside the call cannot signal or be signalled.
	err = e.svc.Signal(ctx, bob[0], id, alice[0].ID, parley.CallPublish, parley.CallSignalAnswer, []byte("x"))
	wantErr(t, err, parley.CodeForbidden, calls.ReasonNotParticipant)
	err = e.svc.Signal(ctx, alice[0], id, bob[0].ID, parley.CallPublish, parley.CallSignalOffer, []byte("x"))
	wantErr(t, err, parley.CodeNotFound, calls.ReasonPeerNotInCall)
	err = e.svc.Signal(ctx, alice[0], id, bob[1].ID, parley.CallPublish, parley.CallSignalOffer, make([]byte, 65<<10))
	wantErr(t, err, parley.CodeTooLarge, calls.ReasonSignalTooLarge)
	err = e.svc.Signal(ctx, alice[0], id, bob[1].ID, parley.CallPublish, parley.CallSignalKind(99), []byte("x"))
	wantErr(t, err, parley.CodeInvalid, calls.ReasonBadSignal)

	e.clock.Advance(90 * time.Second)
	if err := e.svc.Hangup(ctx, bob[1], id); err != nil {
		t.Fatal(err)
	}
	evs := e.box[alice[0].ID].events()
	wantKinds(t, "alice0", e.box[alice[0].ID].kinds(), accepted, media, left, ended)
	last := evs[len(evs)-1].Call
	if d := last.AnsweredAtMs - last.StartedAtMs; d != 0 {
		t.Fatalf("answered %d ms after start, want 0 (clock did not move before accept)", d)
	}
	if _, err := e.svc.Status(ctx, alice[0], conv); parley.ErrorReason(err) != calls.ReasonNotFound {
		t.Fatalf("status after end: %v", err)
	}
	if st := e.svc.Stats(); st.Active != 0 || st.Started != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestDirectCallDeclineBusyCancelMissed(t *testing.T) {
	e := newEnv(t, calls.Config{RingTimeout: 30 * time.Second})
	alice := e.mustUser("+15550000001", 1)
	bob := e.mustUser("+15550000002", 2)
	carol := e.mustUser("+15550000003", 1)
	ab := e.mustConversation(parley.KindDirect, alice[0], bob[0], bob[1])
	cb := e.mustConversation(parley.KindDirect, carol[0], bob[0], bob[1])
	ctx := t.Context()

	t.Run("decline", func(t *testing.T) {
		info, err := e.svc.Start(ctx, alice[0], ab, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Decline(ctx, bob[0], info.ID, false); err != nil {
			t.Fatal(err)
		}
		wantKinds(t, "alice", e.box[alice[0].ID].kinds(), declined, ended)
		wantKinds(t, "bob1", e.box[bob[1].ID].kinds(), ringing, declined, ended)
	})
	for _, b := range e.box {
		b.reset()
	}
	t.Run("cancel", func(t *testing.T) {
		info, err := e.svc.Start(ctx, alice[0], ab, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Hangup(ctx, alice[0], info.ID); err != nil {
			t.Fatal(err)
		}
		wantKinds(t, "bob0", e.box[bob[0].ID].kinds(), ringing, cancelled, ended)
	})
	for _, b := range e.box {
		b.reset()
	}
	t.Run("busy", func(t *testing.T) {
		info, err := e.svc.Start(ctx, alice[0], ab, false)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Accept(ctx, bob[0], info.ID); err != nil {
			t.Fatal(err)
		}
		// Carol calls Bob, who is in a call with Alice.
		_, err = e.svc.Start(ctx, carol[0], cb, false)
		if err != nil {
			t.Fatal(err)
		}
		wantKinds(t, "carol", e.box[carol[0].ID].kinds(), busyEv, ended)
		// Starting a second call in a conversation with one running.
		_, err = e.svc.Start(ctx, bob[1], ab, false)
		wantErr(t, err, parley.CodeConflict, calls.ReasonInProgress)
		if err := e.svc.Hangup(ctx, alice[0], info.ID); err != nil {
			t.Fatal(err)
		}
	})
	for _, b := range e.box {
		b.reset()
	}
	t.Run("missed", func(t *testing.T) {
		_, err := e.svc.Start(ctx, alice[0], ab, false)
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(29 * time.Second)
		e.svc.Sweep(ctx)
		wantKinds(t, "bob0 before timeout", e.box[bob[0].ID].kinds(), ringing)
		e.clock.Advance(2 * time.Second)
		e.svc.Sweep(ctx)
		wantKinds(t, "bob0", e.box[bob[0].ID].kinds(), ringing, missed, ended)
		wantKinds(t, "alice", e.box[alice[0].ID].kinds(), missed, ended)
		if e.svc.Stats().Missed != 1 {
			t.Fatalf("stats %+v", e.svc.Stats())
		}
	})
}

func TestRefusals(t *testing.T) {
	e := newEnv(t, calls.Config{})
	alice := e.mustUser("+15550000001", 1)
	bob := e.mustUser("+15550000002", 1)
	mallory := e.mustUser("+15550000009", 1)
	ab := e.mustConversation(parley.KindDirect, alice[0], bob[0])
	group := e.mustConversation(parley.KindGroup, alice[0], bob[0])
	ctx := t.Context()

	_, err := e.svc.Start(ctx, mallory[0], ab, false)
	wantErr(t, err, parley.CodeForbidden, calls.ReasonNotMember)
	_, err = e.svc.Start(ctx, mallory[0], group, false)
	wantErr(t, err, parley.CodeForbidden, calls.ReasonNotMember)
	_, err = e.svc.Start(ctx, alice[0], parley.ConversationID("nope"), false)
	wantErr(t, err, parley.CodeInvalid, calls.ReasonConversationID)
	// No SFU attached: group calls are unavailable, with a reason.
	_, err = e.svc.Start(ctx, alice[0], group, false)
	wantErr(t, err, parley.CodeUnavailable, calls.ReasonNoSFU)

	if err := e.st.Block(ctx, bob[0].User, alice[0].User); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Start(ctx, alice[0], ab, false)
	wantErr(t, err, parley.CodeBlocked, calls.ReasonBlockedSentinel)
	_, err = e.svc.Start(ctx, bob[0], ab, false)
	wantErr(t, err, parley.CodeBlocked, calls.ReasonBlockedByYou)
	if len(e.box[bob[0].ID].events())+len(e.box[alice[0].ID].events()) != 0 {
		t.Fatal("a refused call rang")
	}
	if e.svc.Stats().Refused != 6 {
		t.Fatalf("stats %+v", e.svc.Stats())
	}
}

// sfuRecorder is the SFU side of the contract as the calls service sees it;
// the real SFU is tested in package sfu.
type sfuRecorder struct {
	mu     sync.Mutex
	left   []parley.DeviceID
	ended  []calls.CallID
	offers int
}

func (r *sfuRecorder) Signal(ctx context.Context, call calls.CallID, dev parley.Device, conn parley.CallConnection, kind parley.CallSignalKind, payload []byte) error {
	r.mu.Lock()
	r.offers++
	r.mu.Unlock()
	return nil
}
func (r *sfuRecorder) Leave(call calls.CallID, dev parley.DeviceID) {
	r.mu.Lock()
	r.left = append(r.left, dev)
	r.mu.Unlock()
}
func (r *sfuRecorder) End(call calls.CallID) {
	r.mu.Lock()
	r.ended = append(r.ended, call)
	r.mu.Unlock()
}

func TestGroupCallJoinLeaveCap(t *testing.T) {
	e := newEnv(t, calls.Config{MaxParticipants: 3, RingTimeout: 10 * time.Second})
	sfu := &sfuRecorder{}
	e.svc.SetSFU(sfu)
	var devs []parley.Device
	for i := range 5 {
		devs = append(devs, e.mustUser("+1555000010"+string(rune('0'+i)), 1)[0])
	}
	g := e.mustConversation(parley.KindGroup, devs...)
	ctx := t.Context()
	info, err := e.svc.Start(ctx, devs[0], g, false)
	if err != nil {
		t.Fatal(err)
	}
	id := info.ID
	if _, err := e.svc.Accept(ctx, devs[1], id); err != nil {
		t.Fatal(err)
	}
	// Ringing continues for the others in a group call.
	e.clock.Advance(11 * time.Second)
	e.svc.Sweep(ctx)
	wantKinds(t, "dev4", e.box[devs[4].ID].kinds(), ringing, missed, inProg)
	st, err := e.svc.Status(ctx, devs[4], g)
	if err != nil || len(st.Participants) != 2 {
		t.Fatalf("status %v %v", st, err)
	}
	if _, err := e.svc.Join(ctx, devs[2], id); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Join(ctx, devs[3], id)
	wantErr(t, err, parley.CodeTooLarge, calls.ReasonFull)
	wantKinds(t, "dev0", e.box[devs[0].ID].kinds(), accepted, joined)
	if err := e.svc.Signal(ctx, devs[2], id, 0, parley.CallPublish, parley.CallSignalOffer, []byte("v=0")); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SignalFromSFU(ctx, id, devs[2].ID, parley.CallSubscribe, parley.CallSignalAnswer, []byte("v=0 answer")); err != nil {
		t.Fatal(err)
	}
	if s := e.box[devs[2].ID].signals(); len(s) != 1 || s[0].FromDevice != 0 || string(s[0].Payload) != "v=0 answer" {
		t.Fatalf("signals %v", s)
	}
	// The caller leaving an answered group call does not end it.
	if err := e.svc.Hangup(ctx, devs[0], id); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Join(ctx, devs[3], id); err != nil {
		t.Fatal(err)
	}
	e.svc.DeviceGone(ctx, devs[1].ID)
	if err := e.svc.Hangup(ctx, devs[2], id); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Hangup(ctx, devs[3], id); err != nil {
		t.Fatal(err)
	}
	k := e.box[devs[4].ID].kinds()
	if k[len(k)-1] != ended {
		t.Fatalf("dev4 events %v: the call did not end", k)
	}
	sfu.mu.Lock()
	defer sfu.mu.Unlock()
	if sfu.offers != 1 || len(sfu.left) != 4 || len(sfu.ended) != 1 {
		t.Fatalf("sfu saw offers %d left %v ended %v", sfu.offers, sfu.left, sfu.ended)
	}
}
