// Package cluster holds the cluster tests: several `parley serve --postgres
// DSN --nats URL` processes (the built binary) sharing one PostgreSQL
// database and one NATS server, on loopback, driven by a lean protocol
// client connected to different nodes.
//
// PostgreSQL comes from PARLEY_TEST_POSTGRES (scripts/postgres-start.sh);
// without it the tests skip. NATS comes from PARLEY_TEST_NATS
// (scripts/nats-start.sh) when set, else a real nats-server runs inside the
// test process on a loopback port.
package cluster

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"google.golang.org/protobuf/proto"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/proto/parleypb"
	"github.com/parleyhq/parley/store/postgres"
)

// parleyBin is the binary built once by TestMain.
var parleyBin string

func TestMain(m *testing.M) {
	if os.Getenv("PARLEY_TEST_POSTGRES") == "" {
		// Every test skips; do not build.
		os.Exit(m.Run())
	}
	parleytest.RunWithBinary(m, "../../cmd/parley", &parleyBin)
}

// freshDSN returns a DSN of PARLEY_TEST_POSTGRES on a new schema (dropped
// when the test ends), or skips the test.
func freshDSN(t *testing.T) string { return parleytest.PostgresDSN(t, "parley_cluster") }

// account is a seeded user with devices whose secrets the test knows.
type account struct {
	User    parley.UserID
	Devices []parley.DeviceID
	Secrets [][]byte
}

// seed creates n users with perUser devices each (the first primary) and a
// group conversation whose members are every device, straight in the store.
func seed(t *testing.T, dsn string, n, perUser int, conv parley.ConversationID) []account {
	t.Helper()
	ctx := context.Background()
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	var accts []account
	var members []parley.Member
	for i := 0; i < n; i++ {
		u, err := st.CreateUser(ctx, parley.User{Phone: fmt.Sprintf("+1555%07d", i+1), Name: fmt.Sprintf("user %d", i), CreatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		a := account{User: u.ID}
		for j := 0; j < perUser; j++ {
			secret := make([]byte, 32)
			_, _ = rand.Read(secret)
			h := sha256.Sum256(secret)
			ik := sha256.Sum256(append([]byte("identity"), secret...))
			d, err := st.CreateDevice(ctx, parley.Device{User: u.ID, Name: fmt.Sprintf("d%d", j), Primary: j == 0, SecretHash: h[:], IdentityKey: ik[:], CreatedAt: now})
			if err != nil {
				t.Fatal(err)
			}
			a.Devices = append(a.Devices, d.ID)
			a.Secrets = append(a.Secrets, secret)
			members = append(members, parley.Member{Conversation: conv, User: u.ID, Device: d.ID})
		}
		accts = append(accts, a)
	}
	_, err = st.CreateGroup(ctx,
		parley.Group{ID: conv, Name: "cluster test", CreatedBy: accts[0].User, CreatedAt: now},
		parley.Conversation{ID: conv, Kind: parley.KindGroup, Epoch: 1, CreatedBy: accts[0].User, CreatedAt: now},
		members, nil)
	if err != nil {
		t.Fatal(err)
	}
	return accts
}

var listeningRe = regexp.MustCompile(`listening on http://([0-9.:]+)`)

// node is one `parley serve` process of the cluster.
type node struct {
	t    *testing.T
	name string
	addr string // kept across restarts
	// dsn, natsURL and dataDir are the flags the process gets.
	dsn, natsURL, dataDir string
	extra                 []string // more flags of serve
	cmd                   *exec.Cmd
	exited                chan struct{}

	mu  sync.Mutex
	log bytes.Buffer
}

func startNode(t *testing.T, name, dsn, natsURL string, extra ...string) *node {
	t.Helper()
	n := &node{t: t, name: name, dsn: dsn, natsURL: natsURL, dataDir: t.TempDir(), extra: extra}
	n.start("127.0.0.1:0")
	t.Cleanup(func() {
		n.kill()
		if t.Failed() {
			n.mu.Lock()
			t.Logf("node %s log:\n%s", n.name, n.log.String())
			n.mu.Unlock()
		}
	})
	return n
}

// start runs the node's process listening on listen and waits until it
// listens.
func (n *node) start(listen string) {
	t, name := n.t, n.name
	t.Helper()
	cmd := exec.Command(parleyBin, "serve", "--postgres", n.dsn, "--nats", n.natsURL,
		"--listen", listen, "--data", n.dataDir, "--calls=false", "--metrics-listen", "", "--log-level", "info")
	cmd.Args = append(cmd.Args, n.extra...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	n.exited = make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			n.mu.Lock()
			n.log.WriteString(line + "\n")
			n.mu.Unlock()
			if m := listeningRe.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	go func() {
		_ = cmd.Wait()
		close(n.exited)
	}()
	n.cmd = cmd
	select {
	case n.addr = <-addr:
	case <-n.exited:
		t.Fatalf("node %s exited before listening:\n%s", name, n.logText())
	case <-time.After(60 * time.Second):
		t.Fatalf("node %s did not start listening:\n%s", name, n.logText())
	}
}

// restart stops the node with SIGTERM (it drains), waits for the process
// to exit with status 0, and starts it again on the same address.
func (n *node) restart() {
	n.t.Helper()
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(30 * time.Second):
		n.t.Errorf("node %s still running 30 s after SIGTERM", n.name)
		n.kill()
	}
	if n.cmd != nil {
		if code := n.cmd.ProcessState.ExitCode(); code != 0 {
			n.t.Errorf("node %s exited with status %d after SIGTERM", n.name, code)
		}
	}
	n.cmd = nil
	n.start(n.addr)
}

func (n *node) logText() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.log.String()
}

// kill ends the node with SIGKILL (idempotent): only durable state survives.
func (n *node) kill() {
	if n.cmd == nil {
		return
	}
	_ = n.cmd.Process.Kill()
	<-n.exited
	n.cmd = nil
}

// client is a lean protocol client: one WebSocket, a reader goroutine that
// hands envelopes and pushes to onPush and replies to their waiters.
type client struct {
	nc  net.Conn
	wmu sync.Mutex

	mu      sync.Mutex
	nextID  uint64
	waiters map[uint64]chan *parleypb.ServerFrame
	closed  chan struct{}
	err     error

	onPush func(*client, *parleypb.ServerFrame) // called in the reader goroutine
}

// dialClient connects to addr and logs device in. onPush receives every
// frame that answers no request (envelopes, typing, presence...).
func dialClient(ctx context.Context, addr string, device parley.DeviceID, secret []byte, onPush func(*client, *parleypb.ServerFrame)) (*client, error) {
	d := ws.Dialer{Timeout: 10 * time.Second}
	nc, br, _, err := d.Dial(ctx, "ws://"+addr+"/v1/ws")
	if err != nil {
		return nil, err
	}
	if br == nil {
		br = bufio.NewReader(nc)
	}
	c := &client{nc: nc, waiters: map[uint64]chan *parleypb.ServerFrame{}, closed: make(chan struct{}), onPush: onPush}
	go c.read(br)
	if _, err := c.call(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Hello{Hello: &parleypb.Hello{Versions: []uint32{1}, Client: "cluster-test"}}}); err != nil {
		c.close()
		return nil, err
	}
	if _, err := c.call(ctx, &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Auth{Auth: &parleypb.AuthRequest{DeviceId: int64(device), Secret: secret}}}); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

func (c *client) read(br *bufio.Reader) {
	defer close(c.closed)
	for {
		h, err := ws.ReadHeader(br)
		if err != nil {
			c.fail(err)
			return
		}
		payload := make([]byte, h.Length)
		if _, err := io.ReadFull(br, payload); err != nil {
			c.fail(err)
			return
		}
		if h.Masked {
			ws.Cipher(payload, h.Mask, 0)
		}
		switch h.OpCode {
		case ws.OpClose:
			code := 0
			if len(payload) >= 2 {
				code = int(payload[0])<<8 | int(payload[1])
			}
			c.fail(closeError(code))
			return
		case ws.OpPing, ws.OpPong, ws.OpContinuation:
			continue
		}
		f := &parleypb.ServerFrame{}
		if err := proto.Unmarshal(payload, f); err != nil {
			c.fail(err)
			return
		}
		if f.Id != 0 {
			c.mu.Lock()
			w := c.waiters[f.Id]
			delete(c.waiters, f.Id)
			c.mu.Unlock()
			if w != nil {
				w <- f
				continue
			}
		}
		if c.onPush != nil {
			c.onPush(c, f)
		}
	}
}

// closeError is the WebSocket close code the server sent.
type closeError int

func (e closeError) Error() string { return fmt.Sprintf("closed by the server with code %d", int(e)) }

func (c *client) fail(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
}

// closeErr waits for the connection to end and returns why.
func (c *client) closeErr(timeout time.Duration) error {
	select {
	case <-c.closed:
	case <-time.After(timeout):
		return fmt.Errorf("connection still open after %v", timeout)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// start sends f with a fresh id and returns the channel of its reply.
func (c *client) start(f *parleypb.ClientFrame) (<-chan *parleypb.ServerFrame, error) {
	ch := make(chan *parleypb.ServerFrame, 1)
	c.mu.Lock()
	c.nextID++
	f.Id = c.nextID
	c.waiters[f.Id] = ch
	c.mu.Unlock()
	return ch, c.write(f)
}

// call sends f and waits for its reply; an Error reply is an error.
func (c *client) call(ctx context.Context, f *parleypb.ClientFrame) (*parleypb.ServerFrame, error) {
	ch, err := c.start(f)
	if err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		if e := r.GetError(); e != nil {
			return nil, fmt.Errorf("%s/%s: %s", e.Code, e.Reason, e.Message)
		}
		return r, nil
	case <-c.closed:
		return nil, fmt.Errorf("connection closed: %w", c.closeErr(0))
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// write sends one frame (masked, binary); frames with Id 0 are pushes.
func (c *client) write(f *parleypb.ClientFrame) error {
	payload, err := proto.Marshal(f)
	if err != nil {
		return err
	}
	h := ws.Header{Fin: true, OpCode: ws.OpBinary, Length: int64(len(payload)), Masked: true, Mask: ws.NewMask()}
	ws.Cipher(payload, h.Mask, 0)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := ws.WriteHeader(c.nc, h); err != nil {
		return err
	}
	_, err = c.nc.Write(payload)
	return err
}

func (c *client) close() { _ = c.nc.Close() }

func sendFrame(conv parley.ConversationID, clientID string, payload []byte) *parleypb.ClientFrame {
	return &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Send{Send: &parleypb.SendRequest{
		ConversationId: string(conv), ClientId: clientID, Kind: uint32(parley.EnvelopeApplication), Epoch: 1, Payload: payload,
	}}}
}

func ackFrame(conv parley.ConversationID, seq int64) *parleypb.ClientFrame {
	return &parleypb.ClientFrame{Body: &parleypb.ClientFrame_Ack{Ack: &parleypb.Ack{ConversationId: string(conv), Seq: seq}}}
}

// envNATS is PARLEY_TEST_NATS (scripts/nats-start.sh), or "".
func envNATS() string { return os.Getenv("PARLEY_TEST_NATS") }
