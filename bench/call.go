package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	callpeer "github.com/parleyhq/parley/client/call"
	"github.com/parleyhq/parley/mls"
	"github.com/parleyhq/parley/proto/parleypb"
	"github.com/parleyhq/parley/sframe"
)

// callJoinInterval spaces the joins, as the Janus reference load does.
const callJoinInterval = 100 * time.Millisecond

// callPeer is one bench participant: a gateway connection and a pion peer.
type callPeer struct {
	user    benchUser
	c       *conn
	p       *callpeer.Participant
	mu      sync.Mutex // serialises writes on c
	nextID  uint64
	replies map[uint64]chan *parleypb.ServerFrame
	joinAt  time.Time
}

func (cp *callPeer) request(ctx context.Context, f *parleypb.ClientFrame) (*parleypb.ServerFrame, error) {
	ch := make(chan *parleypb.ServerFrame, 1)
	cp.mu.Lock()
	cp.nextID++
	f.Id = cp.nextID + 100
	cp.replies[f.Id] = ch
	err := cp.c.send(f)
	cp.mu.Unlock()
	if err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		if e := r.GetError(); e != nil {
			return nil, fmt.Errorf("%s/%s: %s", e.Code, e.Reason, e.Message)
		}
		return r, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(30 * time.Second):
		return nil, fmt.Errorf("no reply to request %d within 30 s", f.Id)
	}
}

// read dispatches replies and call signals until the connection closes.
func (cp *callPeer) read() {
	for {
		f, err := cp.c.recv()
		if err != nil {
			return
		}
		if s := f.GetCallSignal(); s != nil && cp.p != nil {
			cp.p.HandleSignal(s)
			continue
		}
		if f.Id != 0 {
			cp.mu.Lock()
			ch := cp.replies[f.Id]
			delete(cp.replies, f.Id)
			cp.mu.Unlock()
			if ch != nil {
				ch <- f
			}
		}
	}
}

// runCall measures a group call through the server's SFU: N participants
// join 100 ms apart, each publishes SFrame-encrypted audio (and video) and
// receives everyone else; after the full mesh and a 3 s warm-up it
// measures Duration.
func runCall(ctx context.Context, cfg Config) (map[string]any, error) {
	n := cfg.Participants
	if n < 2 {
		return nil, parley.Errorf(parley.CodeInvalid, ReasonParticipants, "a call needs at least 2 participants")
	}
	var users []benchUser
	conv := parley.ConversationID("cbenchcall0000001")
	scfg := cfg
	scfg.ServerCommand = func(dir string) *exec.Cmd {
		cmd := cfg.ServerCommand(dir)
		if cmd.Env == nil {
			cmd.Env = os.Environ()
		}
		// Every participant is on this machine's loopback; no relay needed.
		cmd.Env = append(cmd.Env, "PARLEY_CALL_ALLOW_PEERS=127.0.0.0/8", "PARLEY_TURN_UDP=off", "PARLEY_CALL_TCP=off")
		return cmd
	}
	srv, err := startServer(ctx, scfg, func(ctx context.Context, st parley.Store) error {
		var err error
		if users, err = seedUsers(ctx, st, n); err != nil {
			return err
		}
		var members []parley.Member
		for _, u := range users {
			members = append(members, parley.Member{Conversation: conv, User: u.User, Device: u.Device})
		}
		_, err = st.CreateConversation(ctx, parley.Conversation{ID: conv, Kind: parley.KindGroup, Epoch: 1, CreatedBy: users[0].User, CreatedAt: time.Now()}, members, nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	defer srv.stop()

	// The conversation's MLS group, for the SFrame keys (the server never
	// sees it).
	groups, err := benchMLSGroup(n)
	if err != nil {
		return nil, err
	}
	leaves := make([]uint32, n)
	for i := range leaves {
		leaves[i] = uint32(groups[i].OwnLeafIndex())
	}

	peers := make([]*callPeer, n)
	defer func() {
		for _, cp := range peers {
			if cp != nil {
				if cp.p != nil {
					cp.p.Close()
				}
				cp.c.close()
			}
		}
	}()
	fresh := srv.rssKiB()
	joinCPU := startCPU(srv.pid)
	var callID string
	for i := range n {
		if i > 0 {
			select {
			case <-time.After(callJoinInterval):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		c, err := dial(ctx, srv.addr)
		if err != nil {
			return nil, err
		}
		if err := c.login(int64(users[i].Device), users[i].Secret); err != nil {
			c.close()
			return nil, err
		}
		cp := &callPeer{user: users[i], c: c, replies: map[uint64]chan *parleypb.ServerFrame{}}
		peers[i] = cp
		recv := sframe.NewReceiver()
		sealer, err := callpeer.Keys(groups[i], leaves[i], leaves, nil, recv)
		if err != nil {
			return nil, err
		}
		p, err := callpeer.New(callpeer.Config{Device: users[i].Device, Video: cfg.Video, Loopback: true, Sealer: sealer, Receiver: recv},
			func(ctx context.Context, conn parleypb.CallConnection, kind parleypb.CallSignalKind, payload []byte) error {
				_, err := cp.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_CallSignal{CallSignal: &parleypb.CallSignalRequest{
					CallId: callID, Connection: conn, Kind: kind, Payload: payload}}})
				return err
			})
		if err != nil {
			return nil, err
		}
		cp.p = p
		go cp.read()
		cp.joinAt = time.Now()
		if i == 0 {
			r, err := cp.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_CallStart{CallStart: &parleypb.CallStartRequest{ConversationId: string(conv), Video: cfg.Video}}})
			if err != nil {
				return nil, fmt.Errorf("call start: %w", err)
			}
			callID = r.GetCall().GetCallId()
		} else if _, err := cp.request(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_CallJoin{CallJoin: &parleypb.CallJoinRequest{CallId: callID}}}); err != nil {
			return nil, fmt.Errorf("call join %d: %w", i, err)
		}
		if err := p.Start(ctx); err != nil {
			return nil, fmt.Errorf("participant %d: %w", i, err)
		}
	}
	fmt.Fprintf(cfg.Log, "call: %d joined, waiting for the full mesh\n", n)
	meshStart := time.Now()
	stats := func() []callpeer.Stats {
		out := make([]callpeer.Stats, n)
		for i, cp := range peers {
			out[i] = cp.p.Stats()
		}
		return out
	}
	var st []callpeer.Stats
	for {
		st = stats()
		missing := 0
		for i := range n {
			for j := range n {
				if i != j && st[i].From[users[j].Device].Decrypted == 0 {
					missing++
				}
			}
		}
		if missing == 0 {
			break
		}
		if time.Since(meshStart) > 60*time.Second {
			return nil, fmt.Errorf("no full mesh after 60 s: %d pairs missing", missing)
		}
		time.Sleep(50 * time.Millisecond)
	}
	meshSecs := time.Since(meshStart).Seconds()
	_, _, _ = joinCPU.stop()
	// join: from i's join request until i has a frame from everyone present
	// before it and each of them has one from i (both ways).
	var joins []float64
	for i := 1; i < n; i++ {
		var done time.Time
		for j := range i {
			for _, t := range []time.Time{st[i].From[users[j].Device].First, st[j].From[users[i].Device].First} {
				if t.After(done) {
					done = t
				}
			}
		}
		joins = append(joins, float64(done.Sub(peers[i].joinAt).Microseconds())/1000)
	}
	slices.Sort(joins)

	time.Sleep(3 * time.Second) // warm-up
	before := stats()
	meter := startCPU(srv.pid)
	select {
	case <-time.After(cfg.Duration):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	serverCores, clientCores, otherCores := meter.stop()
	// Sent and received are read at the same instants: frames in flight at
	// the start and at the end of the window cancel out.
	after := stats()
	sentAfter := after

	var sent, expected, received uint64
	minShare := 1.0
	sentBy := make([]uint64, n)
	for j := range n {
		sentBy[j] = sentAfter[j].AudioSent + sentAfter[j].VideoSent - before[j].AudioSent - before[j].VideoSent
		sent += sentBy[j]
	}
	for i := range n {
		var exp, got, dec uint64
		for j := range n {
			if i == j {
				continue
			}
			d := users[j].Device
			exp += sentBy[j]
			got += after[i].From[d].Frames - before[i].From[d].Frames
			dec += after[i].From[d].Decrypted - before[i].From[d].Decrypted
		}
		expected += exp
		received += got
		if exp > 0 {
			minShare = min(minShare, float64(dec)/float64(exp))
		}
	}
	tracks := 1
	if cfg.Video {
		tracks = 2
	}
	streams := n * (n - 1) * tracks
	secs := cfg.Duration.Seconds()
	pps := float64(received) / secs
	res := map[string]any{
		"participants":            n,
		"video":                   cfg.Video,
		"join_p50_ms":             round3(percentile(joins, 0.50)),
		"join_p99_ms":             round3(percentile(joins, 0.99)),
		"mesh_s":                  round3(meshSecs),
		"packets_sent":            sent,
		"packets_expected":        expected,
		"packets_received":        received,
		"forwarded_packets_per_s": round3(pps),
		"loss":                    round3(1 - float64(received)/float64(max(expected, 1))),
		"decrypted_share":         round3(minShare),
		"streams":                 streams,
		"server_cores":            serverCores,
		"sfu_cpu_us_per_stream":   round3(serverCores * 1e6 / float64(streams)),
		"sfu_cpu_us_per_pkt":      round3(serverCores * 1e6 / max(pps, 1)),
		"server_rss_kib":          srv.rssKiB(),
		"server_rss_fresh_kib":    fresh,
		"client_cores":            clientCores,
		"other_cores":             otherCores,
		"duration_s":              secs,
		"payload":                 "sframe",
	}
	return res, nil
}

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted)-1) + 0.5)
	return sorted[min(i, len(sorted)-1)]
}

// benchMLSGroup builds an MLS group of n members (member 0 adds the rest in
// one commit) and returns each member's view.
func benchMLSGroup(n int) ([]*mls.Group, error) {
	cs := mls.MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519
	kps := make([]*mls.KeyPackageBundle, n)
	for i := range kps {
		signer, err := mls.GenerateSigner(cs)
		if err != nil {
			return nil, err
		}
		if kps[i], err = mls.NewKeyPackage(cs, signer, mls.NewBasicCredential(fmt.Appendf(nil, "bench-%d", i)), mls.KeyPackageOptions{}); err != nil {
			return nil, err
		}
	}
	g0, err := mls.CreateGroup([]byte("bench-call"), kps[0], mls.Config{})
	if err != nil {
		return nil, err
	}
	var adds []*mls.KeyPackage
	for _, kp := range kps[1:] {
		adds = append(adds, &kp.KeyPackage)
	}
	pc, err := g0.Commit(mls.CommitParams{Adds: adds})
	if err != nil {
		return nil, err
	}
	if err := g0.MergePendingCommit(); err != nil {
		return nil, err
	}
	out := []*mls.Group{g0}
	for _, kp := range kps[1:] {
		g, err := mls.JoinFromWelcome(pc.Welcome, kp, nil, mls.Config{}, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}
