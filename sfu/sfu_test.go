package sfu_test

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"google.golang.org/protobuf/proto"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/broker/inproc"
	"github.com/parleyhq/parley/calls"
	"github.com/parleyhq/parley/client/call"
	"github.com/parleyhq/parley/mls"
	"github.com/parleyhq/parley/proto/parleypb"
	"github.com/parleyhq/parley/sframe"
	"github.com/parleyhq/parley/sfu"
	"github.com/parleyhq/parley/store/sqlite"
	"github.com/parleyhq/parley/wire"
)

// tap is what the SFU forwarded, as the SFU saw it.
type tap struct {
	mu       sync.Mutex
	packets  int
	plain    int // payloads containing the known plaintext pattern
	recent   [][]byte
	collect  atomic.Bool
	perOwner map[parley.DeviceID]int
}

func (t *tap) see(_ calls.CallID, from parley.DeviceID, _ webrtc.RTPCodecType, payload []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.packets++
	t.perOwner[from]++
	if bytes.Contains(payload, []byte(call.Pattern)) {
		t.plain++
	}
	if t.collect.Load() && len(t.recent) < 200 {
		t.recent = append(t.recent, bytes.Clone(payload))
	}
}

type member struct {
	dev    parley.Device
	group  *mls.Group
	sealer *sframe.Sealer
	recv   *sframe.Receiver
	p      *call.Participant
	unsub  func()
}

type harness struct {
	t      *testing.T
	st     *sqlite.Store
	br     *inproc.Broker
	svc    *calls.Service
	sfu    *sfu.SFU
	tap    *tap
	conv   parley.ConversationID
	ms     []*member
	callID calls.CallID
	// simulcast makes the video of those who join with video simulcast.
	simulcast bool
}

func loopbackOnly(a netip.Addr) bool { return a.IsLoopback() }

func newHarness(t *testing.T, n int, tune ...func(*sfu.Config)) *harness {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := &harness{t: t, st: st, br: inproc.New(), tap: &tap{perOwner: map[parley.DeviceID]int{}}}
	h.svc = calls.New(st, h.br, nil, nil, calls.Config{})
	scfg := sfu.Config{UDPAddr: "127.0.0.1:0", AllowPeer: loopbackOnly, Tap: h.tap.see}
	for _, f := range tune {
		f(&scfg)
	}
	h.sfu, err = sfu.New(scfg, h.svc, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.sfu.Close() })
	h.svc.SetSFU(h.sfu)

	// The conversation's MLS group: member 0 creates it and adds the rest.
	cs := mls.MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519
	kps := make([]*mls.KeyPackageBundle, n)
	for i := range kps {
		signer, err := mls.GenerateSigner(cs)
		if err != nil {
			t.Fatal(err)
		}
		if kps[i], err = mls.NewKeyPackage(cs, signer, mls.NewBasicCredential(fmt.Appendf(nil, "m%d", i)), mls.KeyPackageOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	g0, err := mls.CreateGroup([]byte("call-group"), kps[0], mls.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var adds []*mls.KeyPackage
	for _, kp := range kps[1:] {
		adds = append(adds, &kp.KeyPackage)
	}
	pc, err := g0.Commit(mls.CommitParams{Adds: adds})
	if err != nil {
		t.Fatal(err)
	}
	if err := g0.MergePendingCommit(); err != nil {
		t.Fatal(err)
	}
	h.conv = parley.NewConversationID()
	var members []parley.Member
	for i := range n {
		u, err := st.CreateUser(ctx, parley.User{Phone: fmt.Sprintf("+1555100%04d", i), Name: fmt.Sprint(i)})
		if err != nil {
			t.Fatal(err)
		}
		d, err := st.CreateDevice(ctx, parley.Device{User: u.ID, Name: "d"})
		if err != nil {
			t.Fatal(err)
		}
		m := &member{dev: d, recv: sframe.NewReceiver()}
		if i == 0 {
			m.group = g0
		} else if m.group, err = mls.JoinFromWelcome(pc.Welcome, kps[i], nil, mls.Config{}, nil); err != nil {
			t.Fatal(err)
		}
		h.ms = append(h.ms, m)
		members = append(members, parley.Member{Conversation: h.conv, User: u.ID, Device: d.ID})
	}
	if _, err := st.CreateConversation(ctx, parley.Conversation{ID: h.conv, Kind: parley.KindGroup, Epoch: 1, CreatedBy: members[0].User, CreatedAt: time.Now()}, members, nil); err != nil {
		t.Fatal(err)
	}
	for _, m := range h.ms {
		h.rekey(m)
	}
	return h
}

func (h *harness) leaves() []uint32 {
	var out []uint32
	for _, mem := range h.ms[0].group.Members() {
		out = append(out, uint32(mem.LeafIndex))
	}
	return out
}

func (h *harness) rekey(m *member) {
	h.t.Helper()
	s, err := call.Keys(m.group, uint32(m.group.OwnLeafIndex()), h.leaves(), m.sealer, m.recv)
	if err != nil {
		h.t.Fatal(err)
	}
	m.sealer = s
}

// join puts member i in the call (starting it for the first) with a real
// pion participant whose signals go through the call service.
func (h *harness) join(i int, video bool) {
	h.t.Helper()
	ctx := h.t.Context()
	m := h.ms[i]
	if h.callID == "" {
		info, err := h.svc.Start(ctx, m.dev, h.conv, video)
		if err != nil {
			h.t.Fatal(err)
		}
		h.callID = info.ID
	} else if _, err := h.svc.Join(ctx, m.dev, h.callID); err != nil {
		h.t.Fatal(err)
	}
	dev, id := m.dev, h.callID
	p, err := call.New(call.Config{Device: dev.ID, Video: video, Simulcast: h.simulcast, Loopback: true, Sealer: m.sealer, Receiver: m.recv},
		func(ctx context.Context, conn parleypb.CallConnection, kind parleypb.CallSignalKind, payload []byte) error {
			return h.svc.Signal(ctx, dev, id, 0, wire.CallConnectionFromPB(conn), wire.CallSignalKindFromPB(kind), payload)
		})
	if err != nil {
		h.t.Fatal(err)
	}
	m.p = p
	m.unsub, err = h.br.Subscribe(dev.ID, func(ev parley.Event) {
		var f parleypb.ServerFrame
		if proto.Unmarshal(ev.Frame, &f) == nil && f.GetCallSignal() != nil {
			p.HandleSignal(f.GetCallSignal())
		}
	})
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { m.unsub(); p.Close() })
	if err := p.Start(ctx); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) leave(i int) {
	h.t.Helper()
	m := h.ms[i]
	if err := h.svc.Hangup(h.t.Context(), m.dev, h.callID); err != nil {
		h.t.Fatal(err)
	}
	m.unsub()
	m.p.Close()
	m.p = nil
}

// waitDecrypted polls until every participant in the call has decrypted at
// least min frames from every other participant, or fails at the deadline.
func (h *harness) waitDecrypted(in []int, base map[[2]int]uint64, min uint64, deadline time.Duration) map[[2]int]uint64 {
	h.t.Helper()
	end := time.Now().Add(deadline)
	for {
		missing := ""
		got := map[[2]int]uint64{}
		for _, i := range in {
			st := h.ms[i].p.Stats()
			for _, j := range in {
				if i == j {
					continue
				}
				s := st.From[h.ms[j].dev.ID]
				got[[2]int{i, j}] = s.Decrypted
				if s.Decrypted < base[[2]int{i, j}]+min && missing == "" {
					missing = fmt.Sprintf("%d has %d frames from %d (want %d more than %d; failed %d)", i, s.Decrypted, j, min, base[[2]int{i, j}], s.Failed)
				}
			}
		}
		if missing == "" {
			return got
		}
		if time.Now().After(end) {
			h.t.Fatalf("after %v: %s", deadline, missing)
		}
		time.Sleep(20 * time.Millisecond) // polling interval, not synchronisation
	}
}

// A group call of 8 with joins and leaves: everyone decrypts everyone, the
// SFU only ever sees ciphertext, and after a member is removed (an MLS
// commit re-keys the call) its keys open nothing that follows.
func TestGroupCallOfEight(t *testing.T) {
	const n = 8
	h := newHarness(t, n)
	all := []int{}
	for i := range n - 1 {
		h.join(i, false)
		all = append(all, i)
	}
	h.waitDecrypted(all, nil, 10, 60*time.Second)

	// Member 7 joins late, then member 6 leaves.
	h.join(n-1, false)
	all = append(all, n-1)
	base := h.waitDecrypted(all, nil, 10, 30*time.Second)
	h.leave(6)
	in := []int{0, 1, 2, 3, 4, 5, 7}

	// Member 0 removes member 6 from the group; the others process the
	// commit and re-key.
	removed := h.ms[6]
	pc, err := h.ms[0].group.Commit(mls.CommitParams{Removes: []mls.LeafIndex{removed.group.OwnLeafIndex()}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.ms[0].group.MergePendingCommit(); err != nil {
		t.Fatal(err)
	}
	for _, i := range in[1:] {
		if _, err := h.ms[i].group.Process(pc.Commit); err != nil {
			t.Fatal(err)
		}
	}
	for _, i := range in {
		h.rekey(h.ms[i])
	}
	// From now on the tap keeps payloads; every pair must get 20 more frames.
	h.tap.collect.Store(true)
	h.waitDecrypted(in, h.waitDecrypted(in, base, 0, time.Second), 20, 30*time.Second)

	h.tap.mu.Lock()
	defer h.tap.mu.Unlock()
	if h.tap.plain != 0 {
		t.Fatalf("the SFU forwarded %d payloads containing the plaintext pattern", h.tap.plain)
	}
	if h.tap.packets == 0 || len(h.tap.recent) == 0 {
		t.Fatal("the tap saw nothing")
	}
	// The removed member, with every key it ever had, opens none of the
	// frames sent after the re-key.
	newEpoch := h.ms[0].group.Epoch() & 0xff
	opened, after := 0, 0
	for _, ct := range h.tap.recent {
		hd, _, err := sframe.ParseHeader(ct)
		if err != nil {
			t.Fatalf("forwarded payload is not SFrame: %v", err)
		}
		if _, ep := sframe.SplitKID(hd.KID); ep != newEpoch {
			continue
		}
		after++
		if _, _, err := removed.recv.Open(nil, ct, nil); err == nil {
			opened++
		}
	}
	if after == 0 || opened != 0 {
		t.Fatalf("removed member opened %d of %d new-epoch frames", opened, after)
	}
	t.Logf("forwarded %d packets; %d new-epoch frames checked against the removed member; sfu %+v", h.tap.packets, after, h.sfu.Stats())
}
