package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/mls"
	"github.com/parleyhq/parley/store/postgres"
)

// Config says which scenario to run and how big.
type Config struct {
	Scenario     string          // connect | direct | offline | fanout | media | business | all
	Connections  int             // connect: idle authenticated connections
	Pairs        int             // direct: online pairs
	Duration     time.Duration   // direct: measured interval (after a 3 s warm-up)
	Window       int             // direct: unacknowledged messages in flight per sender
	Rate         int             // direct: open loop, total messages/s (0 = closed loop with Window)
	Messages     int             // offline: messages queued for the offline device
	PayloadSize  int             // opaque payload bytes per message
	Concurrency  int             // connect: parallel handshakes
	MediaBytes   int64           // media: size of the file uploaded and downloaded (default 1 GiB)
	Members      int             // fanout: online members of the announcement group; community: members (default 5,000)
	Posts        int             // fanout: messages the admin posts
	Sample       int             // community: members that come online and decrypt (0: all)
	Suite        mls.CipherSuite // community: MLS cipher suite of every device and of the community (0: client.CipherSuite)
	StrictLeaves bool            // community: members verify every leaf signature when they join and as adds arrive (RFC 9420's letter) instead of at first use
	Customers    int             // business: opted-in customers of the business number
	Webhook      bool            // business: configure a webhook (a local receiver) so statuses are queued and delivered
	Participants int             // call: devices in the group call
	Video        bool            // call: publish video as well as audio
	Nodes        int             // cluster: server processes (one is killed)
	Postgres     string          // cluster: PostgreSQL DSN the nodes share; other scenarios: the server's store (a fresh schema per run)
	NATS         string          // cluster: NATS URL the nodes share
	Drain        bool            // cluster: stop the node with SIGTERM (it drains) rather than SIGKILL
	Viewers      int             // status: the poster's contacts, all online viewers (default 5,000)
	ImageBytes   int             // status: the image's size (default 100 KiB)

	// OpenStore opens the store a server with this data directory uses, for
	// seeding before the server starts.
	OpenStore func(ctx context.Context, dataDir string) (parley.Store, error)
	// ServerCommand returns the command that runs a server on this data
	// directory, listening on 127.0.0.1:0 and logging "listening on http://ADDR".
	ServerCommand func(dataDir string) *exec.Cmd
	Log           io.Writer // progress
}

func (c *Config) defaults() {
	if c.Connections == 0 {
		c.Connections = 15000
	}
	if c.Pairs == 0 {
		c.Pairs = 500
	}
	if c.Duration == 0 {
		c.Duration = 20 * time.Second
	}
	if c.Window == 0 {
		c.Window = 4
	}
	if c.Messages == 0 {
		c.Messages = 10000
	}
	if c.PayloadSize == 0 {
		c.PayloadSize = 200
	}
	if c.Members == 0 {
		c.Members = 1000
	}
	if c.Posts == 0 {
		c.Posts = 50
	}
	if c.Concurrency == 0 {
		c.Concurrency = 50
	}
	if c.Customers == 0 {
		c.Customers = 10000
	}
	if c.Viewers == 0 {
		c.Viewers = 5000
	}
	if c.ImageBytes == 0 {
		c.ImageBytes = 100 << 10
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
}

// Run runs the configured scenario(s) and writes one JSON line each to out.
func Run(ctx context.Context, cfg Config, out io.Writer) error {
	if cfg.Scenario == "community" && cfg.Members == 0 {
		cfg.Members = 5000
	}
	cfg.defaults()
	scenarios := []string{cfg.Scenario}
	if cfg.Scenario == "all" {
		scenarios = []string{"connect", "direct", "offline"}
	}
	for _, s := range scenarios {
		var res map[string]any
		var err error
		switch s {
		case "connect":
			res, err = runConnect(ctx, cfg)
		case "direct":
			res, err = runDirect(ctx, cfg)
		case "offline":
			res, err = runOffline(ctx, cfg)
		case "fanout":
			res, err = runFanout(ctx, cfg)
		case "media":
			res, err = runMedia(ctx, cfg, cfg.MediaBytes)
		case "community":
			res, err = runCommunity(ctx, cfg)
		case "business":
			res, err = runBusiness(ctx, cfg) // business.go
		case "call":
			res, err = runCall(ctx, cfg) // call.go
		case "cluster":
			res, err = runCluster(ctx, cfg) // cluster.go
		case "status":
			res, err = runStatus(ctx, cfg) // status.go
		default:
			return parley.Errorf(parley.CodeInvalid, ReasonUnknownScenario, "unknown scenario %q (connect, direct, offline, fanout, media, community, business, call, cluster, status, all)", s)
		}
		if err != nil {
			return fmt.Errorf("bench %s: %w", s, err)
		}
		res["scenario"] = s
		if s != "media" && res["payload"] == nil { // media encrypts a real file; community runs real MLS; status seals real posts
			res["payload"] = "opaque"
		}
		res["date"] = time.Now().UTC().Format(time.RFC3339)
		b, _ := json.Marshal(res)
		fmt.Fprintln(out, string(b))
	}
	return nil
}

// server is a Parley server running as a child process.
type server struct {
	cmd  *exec.Cmd
	addr string
	pid  int
	dir  string
	drop func() // drops the PostgreSQL schema (--postgres), or nil
}

var listeningRE = regexp.MustCompile(`listening on http://([0-9.:\[\]a-z]+)`)

// startServer seeds a fresh data directory with seed and starts a server on it.
func startServer(ctx context.Context, cfg Config, seed func(ctx context.Context, st parley.Store) error) (*server, error) {
	dir, err := os.MkdirTemp("", "parley-bench-")
	if err != nil {
		return nil, err
	}
	// With --postgres the server runs on a fresh schema of that database
	// (dropped when it stops) instead of SQLite in its data directory.
	var dsn string
	var drop func()
	var st parley.Store
	if cfg.Postgres != "" {
		if dsn, drop, err = freshSchema(ctx, cfg.Postgres); err != nil {
			return nil, err
		}
		if st, err = postgres.Open(ctx, dsn); err != nil {
			drop()
			return nil, fmt.Errorf("open postgres: %w", err)
		}
	} else if st, err = cfg.OpenStore(ctx, dir); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	start := time.Now()
	if err := seed(ctx, st); err != nil {
		st.Close()
		if drop != nil {
			drop()
		}
		return nil, err
	}
	if err := st.Close(); err != nil {
		if drop != nil {
			drop()
		}
		return nil, err
	}
	fmt.Fprintf(cfg.Log, "seeded in %v\n", time.Since(start).Round(time.Millisecond))
	cmd := cfg.ServerCommand(dir)
	if dsn != "" {
		cmd.Args = append(cmd.Args, "--postgres", dsn)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		if drop != nil {
			drop()
		}
		return nil, fmt.Errorf("start server: %w", err)
	}
	s := &server{cmd: cmd, pid: cmd.Process.Pid, dir: dir, drop: drop}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			if !sent {
				if m := listeningRE.FindStringSubmatch(line); m != nil {
					found <- m[1]
					sent = true
					continue
				}
			}
			if strings.Contains(line, "level=ERROR") || strings.Contains(line, "panic") {
				fmt.Fprintln(cfg.Log, "server:", line)
			}
		}
		if !sent {
			close(found)
		}
	}()
	select {
	case addr, ok := <-found:
		if !ok {
			s.stop()
			return nil, fmt.Errorf("server exited before listening")
		}
		s.addr = addr
	case <-time.After(60 * time.Second):
		s.stop()
		return nil, fmt.Errorf("server did not report its address within 60 s")
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
	return s, nil
}

func (s *server) stop() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-done
		}
	}
	os.RemoveAll(s.dir)
	if s.drop != nil {
		s.drop()
	}
}

func (s *server) rssKiB() int64 {
	v, _ := procRSSKiB(s.pid)
	return v
}
