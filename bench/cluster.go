package bench

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/proto/parleypb"
	"github.com/parleyhq/parley/store/postgres"
)

// clusterNode is one `parley serve --postgres --nats` child process.
type clusterNode struct {
	cmd    *exec.Cmd
	addr   string
	dir    string
	exited chan struct{}
}

// runCluster starts cfg.Nodes servers on one PostgreSQL schema and one NATS
// server, connects the two devices of each pair to different nodes, and has
// one device of every pair send continuously (a window of sends in flight).
// A third into the run the last node is killed (SIGKILL), or with
// cfg.Drain stopped with SIGTERM (it drains: answers what is in flight and
// closes its sessions with 4012): its devices reconnect to the other nodes
// and senders retry unacknowledged sends with the same client ids. After the run the receivers are drained and every
// acknowledged send is checked: delivered once (lost, duplicates).
func runCluster(ctx context.Context, cfg Config) (map[string]any, error) {
	raiseFileLimit()
	if cfg.Postgres == "" || cfg.NATS == "" {
		return nil, parley.Errorf(parley.CodeInvalid, ReasonClusterNeedsServers, "the cluster scenario needs --postgres DSN and --nats URL")
	}
	if cfg.Nodes < 2 {
		return nil, parley.Errorf(parley.CodeInvalid, ReasonClusterNodes, "the cluster scenario needs at least 2 nodes")
	}
	dsn, drop, err := freshSchema(ctx, cfg.Postgres)
	if err != nil {
		return nil, err
	}
	defer drop()
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	users, err := seedUsers(ctx, st, 2*cfg.Pairs)
	if err == nil {
		_, err = seedPairs(ctx, st, users)
	}
	st.Close()
	if err != nil {
		return nil, err
	}
	convs := make([]parley.ConversationID, cfg.Pairs)
	for i := range convs {
		convs[i] = parley.ConversationID(fmt.Sprintf("cbenchpair%07d", i))
	}

	nodes := make([]*clusterNode, cfg.Nodes)
	defer func() {
		for _, n := range nodes {
			if n != nil {
				n.stop()
			}
		}
	}()
	for i := range nodes {
		n, err := startClusterNode(ctx, cfg, dsn)
		if err != nil {
			return nil, fmt.Errorf("node %d: %w", i, err)
		}
		nodes[i] = n
	}
	victim := cfg.Nodes - 1
	var killed atomic.Bool
	liveNode := func(k int) *clusterNode {
		if killed.Load() {
			return nodes[k%victim]
		}
		return nodes[k%cfg.Nodes]
	}
	how := "killed"
	if cfg.Drain {
		how = "stopped with SIGTERM"
	}
	fmt.Fprintf(cfg.Log, "%d nodes up; %d pairs across nodes; measuring %v, node %d %s at a third\n", cfg.Nodes, cfg.Pairs, cfg.Duration, victim, how)

	base := time.Now()
	var delivered atomic.Int64
	var reconnMu sync.Mutex
	var reconnects latencies
	lats := make([]latencies, cfg.Pairs)
	type inbox struct {
		mu       sync.Mutex
		seqOf    map[string]int64 // client id -> seq first received
		dups     int
		received int
	}
	inboxes := make([]*inbox, cfg.Pairs)
	stopSend := make(chan struct{}) // senders stop
	stopRecv := make(chan struct{}) // receivers stop, after the drain
	var sendWG, recvWG sync.WaitGroup

	// dialNode connects a device to the k-th live node, retrying others.
	dialNode := func(k int, u benchUser) (*conn, time.Duration, error) {
		start := time.Now()
		var lastErr error
		for attempt := 0; attempt < 20; attempt++ {
			c, err := dial(ctx, liveNode(k+attempt).addr)
			if err == nil {
				if err = c.login(int64(u.Device), u.Secret); err == nil {
					return c, time.Since(start), nil
				}
				c.close()
			}
			lastErr = err
			time.Sleep(50 * time.Millisecond)
		}
		return nil, 0, lastErr
	}

	type sendState struct {
		mu      sync.Mutex
		pending map[string]bool // client ids sent, not acknowledged
		acked   map[string]bool
	}
	senders := make([]*sendState, cfg.Pairs)
	for i := range cfg.Pairs {
		senders[i] = &sendState{pending: map[string]bool{}, acked: map[string]bool{}}
		inboxes[i] = &inbox{seqOf: map[string]int64{}}
	}
	var firstErr atomic.Pointer[error]
	fail := func(err error) {
		firstErr.CompareAndSwap(nil, &err)
	}

	// Receivers: device 2i+1 on node (i+1) mod N.
	for i := range cfg.Pairs {
		recvWG.Add(1)
		go func(i int) {
			defer recvWG.Done()
			u := users[2*i+1]
			in := inboxes[i]
			for k := i + 1; ; k++ {
				c, took, err := dialNode(k, u)
				if err != nil {
					fail(fmt.Errorf("receiver %d: %w", i, err))
					return
				}
				if k != i+1 {
					reconnMu.Lock()
					reconnects.add(took)
					reconnMu.Unlock()
				}
				closed := make(chan struct{})
				go func() {
					select {
					case <-stopRecv:
					case <-closed:
					}
					c.close()
				}()
				var lastSeq int64
				for {
					f, err := c.recv()
					if err != nil {
						break
					}
					env := f.GetEnvelope()
					if env == nil {
						continue
					}
					now := time.Since(base)
					in.mu.Lock()
					if env.Seq <= lastSeq {
						in.dups++ // twice, or out of order, within one connection
					}
					lastSeq = env.Seq
					if prev, ok := in.seqOf[env.ClientId]; ok {
						if prev != env.Seq {
							in.dups++ // a second log entry for one send
						}
					} else {
						in.seqOf[env.ClientId] = env.Seq
						in.received++
						delivered.Add(1)
						if len(env.Payload) >= 8 {
							lats[i].add(now - time.Duration(binary.LittleEndian.Uint64(env.Payload)))
						}
					}
					in.mu.Unlock()
					_ = c.send(&parleypb.ClientFrame{Body: &parleypb.ClientFrame_Ack{Ack: &parleypb.Ack{ConversationId: env.ConversationId, Seq: env.Seq}}})
				}
				close(closed)
				select {
				case <-stopRecv:
					return
				default:
				}
			}
		}(i)
	}

	// Senders: device 2i on node i mod N, cfg.Window sends in flight.
	for i := range cfg.Pairs {
		sendWG.Add(1)
		go func(i int) {
			defer sendWG.Done()
			u, s := users[2*i], senders[i]
			next := 0
			for k := i; ; k++ {
				c, took, err := dialNode(k, u)
				if err != nil {
					fail(fmt.Errorf("sender %d: %w", i, err))
					return
				}
				if k != i {
					reconnMu.Lock()
					reconnects.add(took)
					reconnMu.Unlock()
				}
				slots := make(chan struct{}, cfg.Window)
				for range cfg.Window {
					slots <- struct{}{}
				}
				readerDone := make(chan struct{})
				go func() { // replies
					defer close(readerDone)
					for {
						f, err := c.recv()
						if err != nil {
							return
						}
						if r := f.GetSent(); r != nil {
							s.mu.Lock()
							delete(s.pending, r.ClientId)
							s.acked[r.ClientId] = true
							s.mu.Unlock()
							slots <- struct{}{}
						} else if f.GetError() != nil && f.Id == 1 {
							slots <- struct{}{} // refused: stays pending, retried after a reconnect
						}
					}
				}()
				send := func(id string) error {
					pl := makePayload(cfg.PayloadSize)
					binary.LittleEndian.PutUint64(pl, uint64(time.Since(base)))
					return c.send(&parleypb.ClientFrame{Id: 1, Body: &parleypb.ClientFrame_Send{Send: &parleypb.SendRequest{
						ConversationId: string(convs[i]), ClientId: id, Kind: uint32(parley.EnvelopeApplication), Epoch: 1, Payload: pl,
					}}})
				}
				// Retry what the previous connection left unacknowledged.
				s.mu.Lock()
				var retry []string
				for id := range s.pending {
					retry = append(retry, id)
				}
				s.mu.Unlock()
				sort.Strings(retry)
				broken := false
				for _, id := range retry {
					select {
					case <-slots:
					case <-readerDone:
						broken = true
					}
					if broken || send(id) != nil {
						broken = true
						break
					}
				}
				for !broken {
					select {
					case <-stopSend:
						c.close()
						<-readerDone
						return
					case <-readerDone:
						broken = true
						continue
					case <-slots:
					}
					id := fmt.Sprintf("p%d-%07d", i, next)
					next++
					s.mu.Lock()
					s.pending[id] = true
					s.mu.Unlock()
					if send(id) != nil {
						broken = true
					}
				}
				c.close()
				<-readerDone
			}
		}(i)
	}

	killAt := cfg.Duration / 3
	select {
	case <-time.After(killAt):
	case <-ctx.Done():
		close(stopSend)
		close(stopRecv)
		sendWG.Wait()
		recvWG.Wait()
		return nil, ctx.Err()
	}
	stopStart := time.Now()
	if cfg.Drain {
		killed.Store(true) // reconnections go to the others while it drains
		_ = nodes[victim].cmd.Process.Signal(syscall.SIGTERM)
	} else {
		_ = nodes[victim].cmd.Process.Kill()
	}
	<-nodes[victim].exited
	stopTook := time.Since(stopStart)
	killed.Store(true)
	fmt.Fprintf(cfg.Log, "node %d %s at %v, gone after %v\n", victim, how, stopStart.Sub(base).Round(time.Millisecond), stopTook.Round(time.Millisecond))
	time.Sleep(cfg.Duration - killAt)
	elapsed := time.Since(base)
	deliveredInRun := delivered.Load()

	// Drain: wait until every acknowledged send reached its receiver, or
	// 30 s; then stop everyone.
	drainUntil := time.Now().Add(30 * time.Second)
	countLost := func() (acked, lost int) {
		for i, s := range senders {
			s.mu.Lock()
			in := inboxes[i]
			in.mu.Lock()
			for id := range s.acked {
				acked++
				if _, ok := in.seqOf[id]; !ok {
					lost++
				}
			}
			in.mu.Unlock()
			s.mu.Unlock()
		}
		return
	}
	// Senders stop first, so the set of acknowledged sends is final.
	close(stopSend)
	sendWG.Wait()
	for {
		if _, lost := countLost(); lost == 0 || time.Now().After(drainUntil) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	close(stopRecv)
	recvWG.Wait()
	if p := firstErr.Load(); p != nil {
		return nil, *p
	}
	acked, lost := countLost()
	dups := 0
	var lat latencies
	for i, in := range inboxes {
		dups += in.dups
		lat.merge(&lats[i])
	}
	return map[string]any{
		"nodes":            cfg.Nodes,
		"pairs":            cfg.Pairs,
		"window":           cfg.Window,
		"duration_s":       round3(elapsed.Seconds()),
		"delivered_per_s":  round3(float64(deliveredInRun) / elapsed.Seconds()),
		"p50_ms":           lat.ms(0.50),
		"p99_ms":           lat.ms(0.99),
		"node_killed":      !cfg.Drain,
		"node_drained":     cfg.Drain,
		"node_stop_ms":     round3(float64(stopTook.Microseconds()) / 1000),
		"acknowledged":     acked,
		"lost":             lost,
		"duplicates":       dups,
		"reconnects":       len(reconnects.d),
		"reconnect_p99_ms": reconnects.ms(0.99),
		"payload_bytes":    cfg.PayloadSize,
	}, nil
}

// startClusterNode starts `parley serve --postgres --nats` on a fresh data
// directory and waits until it listens.
func startClusterNode(ctx context.Context, cfg Config, dsn string) (*clusterNode, error) {
	dir, err := os.MkdirTemp("", "parley-bench-node-")
	if err != nil {
		return nil, err
	}
	cmd := cfg.ServerCommand(dir)
	cmd.Args = append(cmd.Args, "--postgres", dsn, "--nats", cfg.NATS, "--calls=false", "--metrics-listen", "")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	n := &clusterNode{cmd: cmd, dir: dir, exited: make(chan struct{})}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if m := listeningRE.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
			if strings.Contains(line, "level=ERROR") || strings.Contains(line, "panic") {
				fmt.Fprintln(cfg.Log, "node:", line)
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(n.exited) }()
	select {
	case n.addr = <-found:
		return n, nil
	case <-n.exited:
		os.RemoveAll(dir)
		return nil, fmt.Errorf("server exited before listening")
	case <-time.After(60 * time.Second):
		n.stop()
		return nil, fmt.Errorf("server did not report its address within 60 s")
	case <-ctx.Done():
		n.stop()
		return nil, ctx.Err()
	}
}

func (n *clusterNode) stop() {
	select {
	case <-n.exited:
	default:
		_ = n.cmd.Process.Signal(os.Interrupt)
		select {
		case <-n.exited:
		case <-time.After(10 * time.Second):
			_ = n.cmd.Process.Kill()
			<-n.exited
		}
	}
	os.RemoveAll(n.dir)
}

// freshSchema creates a schema for this run in the database of base and
// returns a DSN using it, and the function that drops it.
func freshSchema(ctx context.Context, base string) (string, func(), error) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "parley_bench_" + hex.EncodeToString(b)
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, fmt.Errorf("postgres: %w", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		return "", nil, fmt.Errorf("create schema: %w", err)
	}
	drop := func() {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+name+" CASCADE")
	}
	u, err := url.Parse(base)
	if err != nil {
		drop()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}
