// Package node runs one Parley node: the server with its store, broker,
// blob store, calls, metrics and HTTPS front, from Options. `parley serve`
// parses its flags into Options and calls Run; everything after flag
// parsing lives here.
//
// Guarantees of Run:
//   - It logs "listening on http://ADDR" (or "listening on https://ADDR"
//     with an HTTPS front) once the public listener is bound, and "stopped"
//     once the server has shut down.
//   - It shuts down in this order: the public listeners and the server
//     (its sessions drained, within 10 seconds: each session's requests in
//     flight are answered, then it is closed with GoAway, 4012
//     "node_draining" on a cluster node, 1001 "server_shutdown" alone;
//     see gateway.Gateway.Shutdown), then the /metrics
//     listener, the call media servers, the store, the broker and last the
//     debug listener. Every resource opened before a failure is released.
//   - In the data directory it creates (when missing, folders mode 0700,
//     keys mode 0600): parley.db (SQLite, without Options.Postgres),
//     blobs/ (without Options.S3), uploads/ (media being received),
//     code.key and operator.key (unless Options.CodeKeyFile and
//     Options.OperatorKeyFile name other files), hosted/ (media kept by
//     hosted business endpoints; their state is sealed in the store) and
//     acme/ (ACME certificates, with TLSOptions.Domains). A key file that
//     exists is never replaced.
//   - With Options.NATS (a cluster) the NATS broker also relays requests
//     between nodes: business API requests go to the node running the
//     business's hosted endpoint, call requests to the node hosting the
//     call (docs/cluster.md).
//   - On PostgreSQL the abuse limits are counted in the database
//     (ratelimit.Shared): every node of a cluster enforces one budget, and
//     a restart resets none. On SQLite they are in memory (ratelimit.Memory).
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/accounts"
	"github.com/parleyhq/parley/blob/disk"
	"github.com/parleyhq/parley/blob/s3"
	"github.com/parleyhq/parley/delivery"
	"github.com/parleyhq/parley/gateway"
	"github.com/parleyhq/parley/hosted"
	"github.com/parleyhq/parley/insights"
	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/outbound"
	"github.com/parleyhq/parley/push"
	"github.com/parleyhq/parley/server"
	"github.com/parleyhq/parley/store/postgres"
	"github.com/parleyhq/parley/store/sqlite"
	"github.com/parleyhq/parley/web"
)

// Options configure one node. Each field is the parsed value of the
// `parley serve` flag named beside it (docs/operations.md); errors about a
// field name that flag.
type Options struct {
	DataDir          string        // --data: the SQLite database, blobs, keys
	Listen           string        // --listen: the public address
	Postgres         string        // --postgres: DSN; empty: SQLite in DataDir
	SQLiteNormalSync bool          // --sqlite-sync normal (survives a process crash, not a power cut)
	Retention        time.Duration // --retention: how long undelivered envelopes are kept
	ClaimsPerTarget  int           // --claims-per-target: KeyPackage claims per device and target per hour
	BackupQuota      int64         // --backup-quota: bytes of one account's client backup; 0: backups.DefaultQuota
	SMSWebhook       string        // --sms-webhook; empty: codes go to the log
	SMSWebhookSecret string        // --sms-webhook-secret
	S3               string        // --s3: http(s)://KEY:SECRET@HOST:PORT/BUCKET; empty: DataDir/blobs
	DebugListen      string        // --debug-listen: /debug/pprof; empty: none
	OperatorKeyFile  string        // --operator-key; empty: DataDir/operator.key
	OperatorToken    string        // --operator-token; empty: no operator routes
	AutoApprove      bool          // --templates-auto-approve
	CodeKeyFile      string        // --code-key; empty: DataDir/code.key
	MetricsToken     string        // --metrics-token; empty: no /metrics on Listen
	MetricsListen    string        // --metrics-listen: loopback only; empty: none
	// MetricsListenChosen: the operator gave MetricsListen; if false and
	// the address is in use, a warning is logged instead of failing.
	MetricsListenChosen bool
	PushSubject         string         // --push-subject
	OutboundAllow       []netip.Prefix // --outbound-allow
	TrustedProxies      []netip.Prefix // --trusted-proxies
	NATS                string         // --nats: a cluster node; needs Postgres
	Calls               CallOptions
	TLS                 TLSOptions
	Log                 *slog.Logger
}

// Run runs the node until ctx is cancelled or its listener fails, then
// shuts it down (see the package comment). It returns the first error.
func Run(ctx context.Context, o Options) error {
	log := o.Log
	front, err := tlsFront(o.TLS, o.DataDir, log) // nil: plain HTTP
	if err != nil {
		return err
	}
	policy := outbound.Policy{Allow: o.OutboundAllow, Log: log.With("component", "outbound")}
	if len(o.OutboundAllow) > 0 {
		log.Info("outbound requests may reach internal ranges", "allow", outbound.FormatAllow(o.OutboundAllow))
	}

	if n, err := raiseFileLimit(); err == nil {
		log.Debug("file descriptor limit", "nofile", n)
	} else {
		log.Warn("could not raise the file descriptor limit", "err", err)
	}

	if o.DebugListen != "" {
		dln, err := net.Listen("tcp", o.DebugListen)
		if err != nil {
			return fmt.Errorf("serve: --debug-listen %s: %w", o.DebugListen, err)
		}
		dsrv := &http.Server{Handler: debugMux(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = dsrv.Serve(dln) }()
		defer dsrv.Close()
		log.Info("debug endpoints on http://" + dln.Addr().String() + "/debug/pprof/")
	}

	var sqliteOpts []sqlite.Option
	if o.SQLiteNormalSync {
		sqliteOpts = append(sqliteOpts, sqlite.WithSynchronousNormal())
	}
	broker, closeBroker, err := openBroker(ctx, o.NATS, o.Postgres, o.Listen, log)
	if err != nil {
		return err
	}
	defer closeBroker()
	st, err := OpenStore(ctx, o.DataDir, o.Postgres, sqliteOpts...)
	if err != nil {
		return err
	}
	defer st.Close()

	var sender parley.CodeSender
	if o.SMSWebhook != "" {
		sender = accounts.NewWebhookSender(o.SMSWebhook, o.SMSWebhookSecret, policy)
	} else {
		sender = accounts.DevSender{Log: log}
		log.Warn("development verification sender: codes are written to this log")
	}
	blobs, err := openBlobStore(ctx, o.DataDir, o.S3)
	if err != nil {
		return err
	}
	ckey, err := codeKey(o.DataDir, o.CodeKeyFile)
	if err != nil {
		return err
	}
	bizAPI, err := businessAPIConfig(o.DataDir, o.OperatorKeyFile, o.OperatorToken, o.AutoApprove)
	if err != nil {
		return err
	}
	if o.NATS != "" { // a cluster: each hosted endpoint on one node (its lease)
		bizAPI.NodeID = hosted.NodeID(o.Listen)
		bizAPI.Relay, _ = broker.(parley.Relay) // the NATS broker forwards API requests to the endpoint's node
		log.Info("cluster node: hosted business endpoints under leases", "node", bizAPI.NodeID)
	}
	callsCfg, stopCalls, err := startCalls(o.Calls, o.Listen, log)
	if err != nil {
		return err
	}
	defer stopCalls()
	if relay, ok := broker.(parley.Relay); ok && callsCfg != nil { // a cluster: calls pinned to their node, reachable from all
		callsCfg.Service.IDPrefix, callsCfg.Relay = callNodeTag(bizAPI.NodeID), relay
	}
	limiter := sharedLimiter(st, o.Postgres) // cluster.go
	srv, err := server.New(server.Config{
		BusinessAPI:    bizAPI,
		MetricsToken:   o.MetricsToken,
		MetricSources:  []insights.MetricSource{diskMetrics(o.DataDir)},
		Store:          st,
		Broker:         broker,
		Sender:         sender,
		Log:            log,
		Delivery:       delivery.Config{Retention: o.Retention, ClaimsPerTarget: parley.Limit{Events: o.ClaimsPerTarget, Window: time.Hour}, Limiter: limiter},
		Accounts:       accounts.Config{CodeKey: ckey, Limiter: limiter},
		TrustedProxies: o.TrustedProxies,
		BackupQuota:    o.BackupQuota,
		// A cluster node's sessions are told to reconnect at once, to
		// another node, when it stops (drain).
		Gateway: gateway.Config{Cluster: o.NATS != ""},
		Media: &media.Config{
			Blobs:      blobs,
			StagingDir: filepath.Join(o.DataDir, "uploads"),
			MaxAge:     o.Retention,
		},
		Push:     &push.Config{Subject: o.PushSubject},
		Web:      withReadiness(ctx, web.Handler(), st, front), // ready.go
		Outbound: policy,
		Calls:    callsCfg,
	})
	if err != nil {
		return err
	}
	mln, err := metricsListener(o.MetricsListen, o.MetricsListenChosen, log)
	if err != nil {
		_ = srv.Shutdown(context.Background())
		return err
	}
	defer serveMetrics(mln, srv.MetricsHandler(), log)()
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		_ = srv.Shutdown(context.Background())
		return fmt.Errorf("serve: listen %s: %w", o.Listen, err)
	}
	if front != nil {
		err = serveTLS(ctx, srv, front, ln, o.TLS.HTTPListen, log)
	} else {
		log.Info("listening on http://" + ln.Addr().String())
		err = srv.Serve(ctx, ln)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if serr := srv.Shutdown(sctx); serr != nil && err == nil {
		err = serr
	}
	log.Info("stopped")
	return err
}

// OpenStore opens PostgreSQL when dsn is set, else the SQLite database
// parley.db in dir (dir and the database created if missing).
func OpenStore(ctx context.Context, dir, dsn string, opts ...sqlite.Option) (parley.Store, error) {
	if strings.TrimSpace(dsn) != "" {
		st, err := postgres.Open(ctx, dsn)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		return st, nil
	}
	if dir == "" {
		return nil, errors.New("no data directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, "parley.db"), opts...)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// raiseFileLimit raises RLIMIT_NOFILE to its hard limit, so the server can
// hold as many connections as the system allows.
func raiseFileLimit() (uint64, error) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, err
	}
	if r.Cur < r.Max {
		r.Cur = r.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
			return 0, err
		}
	}
	return r.Cur, nil
}

// debugMux serves the runtime profiles of net/http/pprof.
func debugMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// openBlobStore opens the S3 bucket named by rawURL
// (http(s)://KEY:SECRET@HOST:PORT/BUCKET), or the blobs folder of the data
// directory when rawURL is empty.
func openBlobStore(ctx context.Context, dir, rawURL string) (parley.BlobStore, error) {
	if rawURL == "" {
		return disk.Open(filepath.Join(dir, "blobs"))
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil || u.Host == "" || strings.Trim(u.Path, "/") == "" {
		return nil, fmt.Errorf("serve: --s3 %q: want http(s)://KEY:SECRET@HOST:PORT/BUCKET", rawURL)
	}
	secret, _ := u.User.Password()
	return s3.Open(ctx, s3.Config{
		Endpoint:  u.Host,
		Secure:    u.Scheme == "https",
		AccessKey: u.User.Username(),
		SecretKey: secret,
		Bucket:    strings.Trim(u.Path, "/"),
	})
}
