package bench

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/mls"
)

// UsageError is a mistake on Command's command line.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Command runs `parley bench SCENARIO [flags]`: it parses the flags into a
// Config, starts the scenario's server as `EXE serve` (EXE this process's
// binary) on a fresh data directory whose store it seeds through
// openStore, and prints one JSON line per scenario to stdout. A mistake in
// args is a *UsageError (the usage is on stderr).
func Command(ctx context.Context, args []string, stdout, stderr io.Writer, openStore func(ctx context.Context, dataDir string) (parley.Store, error)) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg Config
	fs.IntVar(&cfg.Connections, "connections", 15000, "connect: idle authenticated connections")
	fs.IntVar(&cfg.Concurrency, "concurrency", 50, "connect: parallel handshakes; business: API requests in flight")
	fs.IntVar(&cfg.Pairs, "pairs", 500, "direct: online pairs")
	fs.DurationVar(&cfg.Duration, "duration", 0, "direct: measured interval (default 20s)")
	fs.IntVar(&cfg.Window, "window", 4, "direct: messages in flight per sender")
	fs.IntVar(&cfg.Rate, "rate", 0, "direct: open loop at this many messages/s in total (0 = closed loop)")
	fs.IntVar(&cfg.Messages, "messages", 10000, "offline: messages queued for the offline device")
	fs.IntVar(&cfg.PayloadSize, "payload", 200, "opaque payload bytes per message (an MLS PrivateMessage of a short text is about 200)")
	fs.IntVar(&cfg.Members, "members", 1000, "fanout: online members of the announcement group; community: members (default 5000)")
	fs.IntVar(&cfg.Posts, "posts", 50, "fanout: messages the admin posts in a burst")
	fs.IntVar(&cfg.Sample, "sample", 0, "community: members that come online and decrypt, spread over the batches (0 = all)")
	fs.IntVar(&cfg.Customers, "customers", 10000, "business: opted-in customers of the business number")
	fs.BoolVar(&cfg.Webhook, "webhook", false, "business: configure a webhook to a local receiver (every send's sent status is then queued durably and delivered)")
	suite := fs.String("suite", "x25519", "community: MLS cipher suite: x25519 (MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519), xwing (MLS_128_MLKEM768X25519_AES128GCM_SHA256_Ed25519) or a number")
	fs.BoolVar(&cfg.StrictLeaves, "strict-leaves", false, "community: members verify every leaf signature on joining and every added KeyPackage (RFC 9420's letter) instead of each leaf at first use")
	fs.IntVar(&cfg.Participants, "participants", 8, "call: devices in the group call")
	fs.BoolVar(&cfg.Video, "video", false, "call: publish 15 fps video as well as audio")
	fs.IntVar(&cfg.Nodes, "nodes", 3, "cluster: server processes (the last is killed a third into the run)")
	fs.StringVar(&cfg.Postgres, "postgres", os.Getenv("PARLEY_POSTGRES"), "PostgreSQL DSN: cluster: the one the nodes share; direct, business…: the server runs on it instead of SQLite (the run uses a fresh schema, dropped after) [PARLEY_POSTGRES]")
	fs.StringVar(&cfg.NATS, "nats", os.Getenv("PARLEY_NATS"), "cluster: NATS URL the nodes share [PARLEY_NATS]")
	fs.BoolVar(&cfg.Drain, "drain", false, "cluster: stop the node with SIGTERM (it drains, closing sessions with 4012) instead of SIGKILL")
	fs.IntVar(&cfg.Viewers, "viewers", 5000, "status: the poster's contacts, every one an online viewer")
	imageKiB := fs.Int("image-kib", 100, "status: KiB of the image posted")
	mediaMiB := fs.Int64("media-mib", 1024, "media: MiB uploaded and downloaded")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the bench process (the load client, not the server) to this file")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: parley bench connect|direct|offline|fanout|media|community|business|call|cluster|status|all [flags]")
		fs.PrintDefaults()
	}
	if len(args) == 0 {
		fs.Usage()
		return &UsageError{"bench needs a scenario"}
	}
	cfg.Scenario = args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return &UsageError{err.Error()}
	}
	cfg.MediaBytes = *mediaMiB << 20
	cfg.ImageBytes = *imageKiB << 10
	switch *suite {
	case "x25519":
		cfg.Suite = mls.MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519
	case "xwing", "pq":
		cfg.Suite = mls.MLS_128_MLKEM768X25519_AES128GCM_SHA256_Ed25519
	default:
		n, err := strconv.ParseUint(*suite, 0, 16)
		if err != nil || !mls.CipherSuite(n).Supported() {
			return &UsageError{fmt.Sprintf("unknown cipher suite %q", *suite)}
		}
		cfg.Suite = mls.CipherSuite(n)
	}
	if cfg.Scenario == "community" {
		set := false
		fs.Visit(func(f *flag.Flag) { set = set || f.Name == "members" })
		if !set {
			cfg.Members = 5000
		}
	}
	if !*quiet {
		cfg.Log = stderr
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cfg.OpenStore = openStore
	cfg.ServerCommand = func(dir string) *exec.Cmd {
		cmd := exec.Command(exe, "serve", "--data", dir, "--listen", "127.0.0.1:0", "--log-level", "info")
		cmd.Env = append(os.Environ(), "GOMAXPROCS=2")
		return cmd
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	return Run(ctx, cfg, stdout)
}
