package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/broker/nats/natstest"
	"github.com/parleyhq/parley/gateway"
	"github.com/parleyhq/parley/proto/parleypb"
)

// inbox is what one recipient device received, over all its connections.
type inbox struct {
	mu        sync.Mutex
	conn      int                // current connection number
	seen      map[int64]int      // seq -> connection that last received it
	clientIDs map[string][]int64 // client id -> seqs received under it
	last      map[int]int64      // connection -> last seq received
	confirmed int64              // highest seq whose ack the server confirmed durable
	dups      []string           // envelopes delivered twice where the protocol forbids it
	disorder  []string           // seqs not increasing within one connection
	changed   chan struct{}      // signalled on every envelope
	extra     func(*parleypb.ServerFrame)
}

func newInbox() *inbox {
	return &inbox{seen: map[int64]int{}, clientIDs: map[string][]int64{}, last: map[int]int64{}, changed: make(chan struct{}, 1)}
}

// record notes an envelope received on connection conn.
func (in *inbox) record(conn int, env *parleypb.Envelope) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if prev, ok := in.seen[env.Seq]; ok {
		// Redelivery is allowed only on a new connection, of an envelope
		// whose acknowledgement was not yet durable.
		if prev == conn || env.Seq <= in.confirmed {
			in.dups = append(in.dups, fmt.Sprintf("seq %d (%s) again on connection %d (first on %d, confirmed %d)", env.Seq, env.ClientId, conn, prev, in.confirmed))
		}
	} else {
		in.clientIDs[env.ClientId] = append(in.clientIDs[env.ClientId], env.Seq)
	}
	in.seen[env.Seq] = conn
	if env.Seq <= in.last[conn] {
		in.disorder = append(in.disorder, fmt.Sprintf("seq %d after %d on connection %d", env.Seq, in.last[conn], conn))
	}
	in.last[conn] = env.Seq
	select {
	case in.changed <- struct{}{}:
	default:
	}
}

func (in *inbox) confirm(seq int64) {
	in.mu.Lock()
	in.confirmed = max(in.confirmed, seq)
	in.mu.Unlock()
}

// member is one device of the group, connected to one node at a time; it
// acknowledges every envelope it receives.
type member struct {
	t      *testing.T
	conv   parley.ConversationID
	device parley.DeviceID
	secret []byte
	in     *inbox

	mu sync.Mutex
	c  *client
}

func (m *member) connect(ctx context.Context, n *node) error {
	m.in.mu.Lock()
	m.in.conn++
	conn := m.in.conn
	m.in.mu.Unlock()
	c, err := dialClient(ctx, n.addr, m.device, m.secret, func(c *client, f *parleypb.ServerFrame) {
		env := f.GetEnvelope()
		if env == nil {
			if m.in.extra != nil {
				m.in.extra(f)
			}
			return
		}
		m.in.record(conn, env)
		ch, err := c.start(ackFrame(m.conv, env.Seq))
		if err != nil {
			return
		}
		go func() {
			select {
			case r := <-ch:
				if r.GetError() == nil {
					m.in.confirm(env.Seq)
				}
			case <-c.closed:
			}
		}()
	})
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.c = c
	m.mu.Unlock()
	return nil
}

func (m *member) client() *client {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.c
}

// startCluster starts n nodes on one fresh PostgreSQL schema and one NATS
// server, with users users of one device each in one group conversation.
// With ownNATS the NATS server is always one of the test's own (which it
// can restart), else PARLEY_TEST_NATS when set.
func startCluster(t *testing.T, nodes, users int, ownNATS bool) ([]*node, []account, parley.ConversationID, *natstest.Server) {
	t.Helper()
	dsn := freshDSN(t)
	var srv *natstest.Server
	natsURL := ""
	if natsURL = envNATS(); natsURL == "" || ownNATS {
		srv = natstest.Start(t)
		natsURL = srv.URL()
	}
	conv := parley.ConversationID("cclustergroup")
	accts := seed(t, dsn, users, 1, conv)
	ns := make([]*node, nodes)
	var wg sync.WaitGroup
	for i := range ns {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ns[i] = startNode(t, fmt.Sprintf("n%d", i), dsn, natsURL)
		}(i)
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return ns, accts, conv, srv
}

// TestMessageCrossesNodes: a message from a device on node A reaches the
// devices on nodes B and C, in order; presence and typing cross nodes too.
func TestMessageCrossesNodes(t *testing.T) {
	ctx := context.Background()
	nodes, accts, conv, _ := startCluster(t, 3, 3, false)
	members := make([]*member, 3)
	for i := range members {
		members[i] = &member{t: t, conv: conv, device: accts[i].Devices[0], secret: accts[i].Secrets[0], in: newInbox()}
	}
	typing := make(chan *parleypb.Typing, 4)
	members[2].in.extra = func(f *parleypb.ServerFrame) {
		if ty := f.GetTyping(); ty != nil {
			typing <- ty
		}
	}
	presence := make(chan *parleypb.Presence, 16)
	members[0].in.extra = func(f *parleypb.ServerFrame) {
		if p := f.GetPresence(); p != nil {
			presence <- p
		}
	}
	for i, m := range members {
		if err := m.connect(ctx, nodes[i]); err != nil {
			t.Fatalf("connect to node %d: %v", i, err)
		}
		defer m.client().close()
	}
	// The users connecting to nodes 1 and 2 are seen coming online on node 0.
	online := map[int64]bool{}
	for len(online) < 2 {
		select {
		case p := <-presence:
			if p.Online {
				online[p.UserId] = true
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("presence pushes on node 0: %v, want users %d and %d online", online, accts[1].User, accts[2].User)
		}
	}
	if !online[int64(accts[1].User)] || !online[int64(accts[2].User)] {
		t.Fatalf("online %v, want users %d and %d", online, accts[1].User, accts[2].User)
	}
	// Node 0 answers presence requests about a user connected to node 2.
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := members[0].client().call(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Presence{Presence: &parleypb.PresenceRequest{UserId: int64(accts[2].User)}}})
		if err != nil {
			t.Fatal(err)
		}
		if r.GetPresence().GetOnline() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node 0 says user %d on node 2 is offline: %v", accts[2].User, r)
		}
		time.Sleep(20 * time.Millisecond)
	}

	const n = 200
	sender := members[0].client()
	replies := make([]<-chan *parleypb.ServerFrame, n)
	for i := range replies {
		ch, err := sender.start(sendFrame(conv, fmt.Sprintf("m%03d", i), []byte(fmt.Sprint(i))))
		if err != nil {
			t.Fatal(err)
		}
		replies[i] = ch
	}
	seqs := make([]int64, n)
	for i, ch := range replies {
		select {
		case r := <-ch:
			if r.GetSent() == nil {
				t.Fatalf("send %d: %v", i, r)
			}
			seqs[i] = r.GetSent().Seq
		case <-time.After(30 * time.Second):
			t.Fatalf("send %d not acknowledged", i)
		}
	}
	for _, m := range members[1:] {
		waitAll(t, m.in, func(in *inbox) bool { return len(in.seen) >= n })
		in := m.in
		in.mu.Lock()
		for i := range n {
			got := in.clientIDs[fmt.Sprintf("m%03d", i)]
			if len(got) != 1 || got[0] != seqs[i] {
				t.Errorf("device %d: message %d under seqs %v, want [%d]", m.device, i, got, seqs[i])
			}
		}
		if len(in.disorder) > 0 || len(in.dups) > 0 {
			t.Errorf("device %d: out of order %v, duplicates %v", m.device, in.disorder, in.dups)
		}
		in.mu.Unlock()
	}

	if err := sender.write(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Typing{Typing: &parleypb.Typing{ConversationId: string(conv), Typing: true}}}); err != nil {
		t.Fatal(err)
	}
	select {
	case ty := <-typing:
		if ty.UserId != int64(accts[0].User) || !ty.Typing {
			t.Fatalf("typing %v", ty)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("typing on node 0 did not reach node 2")
	}
}

// TestRevocationCrossesNodes: a device removed through one node is cut off
// on the node it is connected to.
func TestRevocationCrossesNodes(t *testing.T) {
	ctx := context.Background()
	dsn := freshDSN(t)
	natsURL := envNATS()
	if natsURL == "" {
		natsURL = natstest.Start(t).URL()
	}
	conv := parley.ConversationID("cclusterrevoke")
	accts := seed(t, dsn, 1, 2, conv) // one user: a primary and a linked device
	a, b := startNode(t, "a", dsn, natsURL), startNode(t, "b", dsn, natsURL)
	primary, err := dialClient(ctx, a.addr, accts[0].Devices[0], accts[0].Secrets[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	defer primary.close()
	linked, err := dialClient(ctx, b.addr, accts[0].Devices[1], accts[0].Secrets[1], nil)
	if err != nil {
		t.Fatal(err)
	}
	defer linked.close()
	if _, err := primary.call(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_RemoveDevice{RemoveDevice: &parleypb.RemoveDeviceRequest{DeviceId: int64(accts[0].Devices[1])}}}); err != nil {
		t.Fatalf("remove device: %v", err)
	}
	var ce closeError
	if err := linked.closeErr(15 * time.Second); !errors.As(err, &ce) || ce != 4003 {
		t.Fatalf("the removed device's connection on the other node: %v, want close code 4003", err)
	}
}

// TestKillNodeUnderLoad: senders spread over three nodes send continuously;
// one node is killed with SIGKILL; its clients reconnect to the others and
// retry what was not acknowledged (same client ids). Every acknowledged send
// reaches every other device exactly once (a redelivery is allowed only on
// a new connection, of an envelope whose acknowledgement was not durable).
func TestKillNodeUnderLoad(t *testing.T) {
	nodes, accts, conv, _ := startCluster(t, 3, 9, false)
	// Clients reconnect to the two nodes that survive.
	live := func(i int) *node { return nodes[i%2] }
	r := runLoad(t, nodes, accts, conv, live, func() { nodes[2].kill() })
	t.Logf("node killed: %+v", r)
}

// TestNATSRestartUnderLoad: the NATS server restarts in the middle of the
// load (every node loses its connection, and whatever was in flight);
// nothing acknowledged is lost or duplicated.
func TestNATSRestartUnderLoad(t *testing.T) {
	nodes, accts, conv, srv := startCluster(t, 3, 9, true)
	r := runLoad(t, nodes, accts, conv, func(i int) *node { return nodes[i%3] }, srv.Restart)
	t.Logf("NATS restarted: %+v", r)
}

// TestRollingRestart: under a continuous send load spread over three
// nodes, each node in turn is stopped with SIGTERM (it drains: answers what
// is in flight, closes its sessions with 4012 node_draining), exits with
// status 0 and starts again on the same address. Every acknowledged send
// reaches every other device exactly once, in order per connection.
func TestRollingRestart(t *testing.T) {
	nodes, accts, conv, _ := startCluster(t, 3, 9, false)
	var down atomic.Int32 // the node being restarted, or -1
	down.Store(-1)
	live := func(i int) *node {
		n := nodes[i%3]
		if int(down.Load()) == i%3 {
			n = nodes[(i+1)%3]
		}
		return n
	}
	r := runLoad(t, nodes, accts, conv, live, func() {
		for i, n := range nodes {
			down.Store(int32(i))
			n.restart()
			down.Store(-1)
			time.Sleep(300 * time.Millisecond) // load on all three before the next
		}
	})
	if r.Closes[int(gateway.CloseNodeDraining)] == 0 {
		t.Errorf("no connection was closed with %d node_draining: %+v", gateway.CloseNodeDraining, r)
	}
	for i, n := range nodes {
		if log := n.logText(); !strings.Contains(log, "stopped") {
			t.Errorf("node %d did not log its orderly stop", i)
		}
	}
	t.Logf("rolling restart: %+v", r)
}

// loadResult sums up a runLoad.
type loadResult struct {
	Acknowledged int           // sends acknowledged to their senders
	Recipients   int           // devices each send must reach
	Lost         int           // acknowledged sends missing at a recipient
	CaughtUp     time.Duration // from the disruption until every recipient had everything
	Reconnects   int           // connections made again after one ended
	Closes       map[int]int   // close codes of the connections the server ended (0: none sent)
}

// runLoad connects one device per user, user i to node i%3; users 0..2 send
// continuously for 1.5 s, then disrupt runs, then they send for 2.5 s more.
// A client whose connection ends reconnects to live(i+k) for growing k
// until a dial succeeds (live names the nodes to try: those that survive
// the disruption); a sender whose send fails retries it with the same
// client id, reconnecting when its connection dropped. It then checks that
// every acknowledged send reached every other device exactly once, in
// order per connection.
func runLoad(t *testing.T, nodes []*node, accts []account, conv parley.ConversationID, live func(i int) *node, disrupt func()) loadResult {
	t.Helper()
	ctx := context.Background()
	users := len(accts)
	members := make([]*member, users)
	var closesMu sync.Mutex
	closes := map[int]int{}
	reconnectCount := 0
	// reconnect notes why m's connection ended and connects it again to
	// live(i+*k), trying the next node while a dial fails (a node being
	// restarted), for up to 30 s.
	reconnect := func(i int, k *int, m *member) error {
		code := 0
		c := m.client()
		c.mu.Lock()
		var ce closeError
		if errors.As(c.err, &ce) {
			code = int(ce)
		}
		c.mu.Unlock()
		closesMu.Lock()
		closes[code]++
		reconnectCount++
		closesMu.Unlock()
		deadline := time.Now().Add(30 * time.Second)
		for {
			*k++
			err := m.connect(ctx, live(i+*k))
			if err == nil || time.Now().After(deadline) {
				return err
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	for i := range members {
		members[i] = &member{t: t, conv: conv, device: accts[i].Devices[0], secret: accts[i].Secrets[0], in: newInbox()}
		if err := members[i].connect(ctx, nodes[i%3]); err != nil {
			t.Fatalf("connect member %d: %v", i, err)
		}
	}
	defer func() {
		for _, m := range members {
			m.client().close()
		}
	}()
	stop := make(chan struct{})
	var reconnects sync.WaitGroup
	// Non-sending members reconnect to a live node when their connection
	// drops (a node killed; the server may also close a connection when it
	// cannot keep up).
	for i, m := range members[3:] {
		i += 3
		reconnects.Add(1)
		go func(i int, m *member) {
			defer reconnects.Done()
			for k := 0; ; {
				select {
				case <-m.client().closed:
				case <-stop:
					return
				}
				if err := reconnect(i, &k, m); err != nil {
					t.Errorf("member %d reconnect: %v", i, err)
					return
				}
			}
		}(i, m)
	}

	var mu sync.Mutex
	acked := map[string]int{} // client id -> sender index
	var senders sync.WaitGroup
	for s := 0; s < 3; s++ {
		senders.Add(1)
		go func(s int) {
			defer senders.Done()
			m := members[s]
			for i, k := 0, 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("s%d-%05d", s, i)
				for {
					cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
					r, err := m.client().call(cctx, sendFrame(conv, id, []byte(id)))
					cancel()
					if err == nil && r.GetSent() != nil {
						mu.Lock()
						acked[id] = s
						mu.Unlock()
						break
					}
					select {
					case <-m.client().closed:
						if err := reconnect(s, &k, m); err != nil {
							t.Errorf("sender %d reconnect: %v", s, err)
							return
						}
					default:
						time.Sleep(20 * time.Millisecond) // a refused send: retry
					}
				}
			}
		}(s)
	}
	time.Sleep(1500 * time.Millisecond) // load before the disruption
	disrupt()
	disruptedAt := time.Now()
	time.Sleep(2500 * time.Millisecond) // load after it
	close(stop)
	senders.Wait()
	reconnects.Wait()
	if t.Failed() {
		t.FailNow()
	}

	res := loadResult{Acknowledged: len(acked), Recipients: users - 1, Reconnects: reconnectCount, Closes: closes}
	if res.Acknowledged == 0 {
		t.Fatal("no send was acknowledged")
	}
	for i, m := range members {
		waitAllFor(m.in, 60*time.Second, func(in *inbox) bool {
			for id, s := range acked {
				if s != i && len(in.clientIDs[id]) == 0 {
					return false
				}
			}
			return true
		})
		in := m.in
		in.mu.Lock()
		for id, s := range acked {
			if s == i {
				continue
			}
			switch seqs := in.clientIDs[id]; {
			case len(seqs) == 0:
				res.Lost++
				if res.Lost <= 10 {
					t.Errorf("member %d never received acknowledged %s", i, id)
				}
			case len(seqs) > 1:
				t.Errorf("member %d received %s under several seqs %v (a duplicate in the log)", i, id, seqs)
			}
		}
		if len(in.dups) > 0 {
			t.Errorf("member %d: duplicates %v", i, in.dups)
		}
		if len(in.disorder) > 0 {
			t.Errorf("member %d: out of order %v", i, in.disorder)
		}
		in.mu.Unlock()
	}
	res.CaughtUp = time.Since(disruptedAt)
	return res
}

// waitAll waits until ok holds for the inbox, or fails the test.
func waitAll(t *testing.T, in *inbox, ok func(*inbox) bool) {
	t.Helper()
	if !waitAllFor(in, 30*time.Second, ok) {
		t.Fatalf("timed out waiting for envelopes")
	}
}

func waitAllFor(in *inbox, d time.Duration, ok func(*inbox) bool) bool {
	deadline := time.After(d)
	for {
		in.mu.Lock()
		done := ok(in)
		in.mu.Unlock()
		if done {
			return true
		}
		select {
		case <-in.changed:
		case <-deadline:
			return false
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// TestPresenceAcrossNodes: a user with sessions on two nodes is online while
// either is open; closing one sends viewers nothing, closing the last sends
// offline, and every node answers presence requests for the whole cluster.
func TestPresenceAcrossNodes(t *testing.T) {
	ctx := context.Background()
	dsn := freshDSN(t)
	natsURL := envNATS()
	if natsURL == "" {
		natsURL = natstest.Start(t).URL()
	}
	conv := parley.ConversationID("cclusterpresence")
	accts := seed(t, dsn, 3, 2, conv) // user 0: devices on nodes 1 and 2; users 1, 2: viewers on nodes 0 and 1
	nodes := []*node{startNode(t, "n0", dsn, natsURL), startNode(t, "n1", dsn, natsURL), startNode(t, "n2", dsn, natsURL)}
	owner := accts[0].User

	pushes := make(chan *parleypb.Presence, 16)
	viewer, err := dialClient(ctx, nodes[0].addr, accts[1].Devices[0], accts[1].Secrets[0], func(_ *client, f *parleypb.ServerFrame) {
		if p := f.GetPresence(); p != nil && p.UserId == int64(owner) {
			pushes <- p
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer viewer.close()
	viewer1, err := dialClient(ctx, nodes[1].addr, accts[2].Devices[0], accts[2].Secrets[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	defer viewer1.close()
	askUntil := func(c *client, want bool, what string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			r, err := c.call(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Presence{Presence: &parleypb.PresenceRequest{UserId: int64(owner)}}})
			if err != nil {
				t.Fatal(err)
			}
			if r.GetPresence().GetOnline() == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: presence %v", what, r)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	nextPush := func(want bool) {
		t.Helper()
		select {
		case p := <-pushes:
			if p.Online != want {
				t.Fatalf("presence push online=%v, want %v", p.Online, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no presence push online=%v", want)
		}
	}

	onNode2, err := dialClient(ctx, nodes[2].addr, accts[0].Devices[1], accts[0].Secrets[1], nil)
	if err != nil {
		t.Fatal(err)
	}
	nextPush(true)
	askUntil(viewer1, true, "node 1 learns the owner is online on node 2")

	onNode1, err := dialClient(ctx, nodes[1].addr, accts[0].Devices[0], accts[0].Secrets[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	onNode1.close() // the owner's session on node 1 ends; node 2's stays
	askUntil(viewer, true, "node 0 still sees the owner online")

	onNode2.close()
	nextPush(false) // the first push after online: node 1 sent none
	askUntil(viewer, false, "node 0 sees the owner offline")
	askUntil(viewer1, false, "node 1 sees the owner offline")
}
