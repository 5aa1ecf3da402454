//go:build !servestub

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/parleyhq/parley/blob/disk"
	"github.com/parleyhq/parley/blob/s3"
	"github.com/parleyhq/parley/media"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/accounts"
	"github.com/parleyhq/parley/clientip"
	"github.com/parleyhq/parley/delivery"
	"github.com/parleyhq/parley/outbound"
	"github.com/parleyhq/parley/push"
	"github.com/parleyhq/parley/server"
	"github.com/parleyhq/parley/store/postgres"
	"github.com/parleyhq/parley/store/sqlite"
	"github.com/parleyhq/parley/web"
)

// serveCommand runs `parley serve`: it opens the store, starts the server on
// --listen, logs "listening on http://ADDR" once bound, and runs until ctx is
// cancelled. Every flag has a PARLEY_* environment variable (the flag wins).
func serveCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(name, def string) string {
		if v, ok := os.LookupEnv(name); ok {
			return v
		}
		return def
	}
	dataDir := fs.String("data", env("PARLEY_DATA", "./parley-data"), "data directory (SQLite database) [PARLEY_DATA]")
	listen := fs.String("listen", env("PARLEY_LISTEN", "127.0.0.1:8080"), "address to listen on [PARLEY_LISTEN]")
	dsn := fs.String("postgres", env("PARLEY_POSTGRES", ""), "PostgreSQL DSN; empty uses SQLite in --data [PARLEY_POSTGRES]")
	retentionS := fs.String("retention", env("PARLEY_RETENTION", "720h"), "how long undelivered envelopes are kept [PARLEY_RETENTION]")
	webhook := fs.String("sms-webhook", env("PARLEY_SMS_WEBHOOK", ""), "URL that receives verification codes to send by SMS [PARLEY_SMS_WEBHOOK]")
	webhookSecret := fs.String("sms-webhook-secret", env("PARLEY_SMS_WEBHOOK_SECRET", ""), "HMAC key signing webhook requests [PARLEY_SMS_WEBHOOK_SECRET]")
	syncMode := fs.String("sqlite-sync", env("PARLEY_SQLITE_SYNC", "full"), "SQLite durability: full (a returned write survives a power cut) or normal (survives a crash of the process, not of the machine) [PARLEY_SQLITE_SYNC]")
	s3URL := fs.String("s3", env("PARLEY_S3", ""), "S3-compatible media store as http(s)://KEY:SECRET@HOST:PORT/BUCKET; empty stores media in --data/blobs [PARLEY_S3]")
	debugListen := fs.String("debug-listen", env("PARLEY_DEBUG_LISTEN", ""), "optional address for /debug/pprof (keep it on loopback) [PARLEY_DEBUG_LISTEN]")
	operatorKey := fs.String("operator-key", env("PARLEY_OPERATOR_KEY_FILE", ""), "file with the 32-byte hex key sealing hosted business endpoints; default DATA/operator.key, created if missing [PARLEY_OPERATOR_KEY_FILE]")
	metricsToken := fs.String("metrics-token", env("PARLEY_METRICS_TOKEN", ""), "bearer token that serves /metrics on --listen; empty: /metrics is only on --metrics-listen [PARLEY_METRICS_TOKEN]")
	metricsListen := fs.String("metrics-listen", env("PARLEY_METRICS_LISTEN", defaultMetricsListen), "loopback address serving /metrics without a token; empty: none [PARLEY_METRICS_LISTEN]")
	operatorToken := fs.String("operator-token", env("PARLEY_OPERATOR_TOKEN", ""), "bearer token of the operator's business API routes (template review, tiers); empty disables them [PARLEY_OPERATOR_TOKEN]")
	autoApprove := fs.Bool("templates-auto-approve", env("PARLEY_TEMPLATES_AUTO_APPROVE", "") == "true", "approve business message templates when created [PARLEY_TEMPLATES_AUTO_APPROVE]")
	pushSubject := fs.String("push-subject", env("PARLEY_PUSH_SUBJECT", "mailto:push@parley.invalid"), "contact URI (mailto: or https:) sent to browser push services with every notification [PARLEY_PUSH_SUBJECT]")
	outboundAllow := fs.String("outbound-allow", env("PARLEY_OUTBOUND_ALLOW", ""), "comma-separated CIDR ranges the server may reach when it fetches a URL (webhooks, push endpoints, media links, the SMS webhook) although they are loopback, private or link-local; default: none [PARLEY_OUTBOUND_ALLOW]")
	trustedProxies := fs.String("trusted-proxies", env("PARLEY_TRUSTED_PROXIES", ""), "comma-separated CIDRs of reverse proxies whose X-Forwarded-For/Forwarded headers give the client address for per-address limits; empty: none [PARLEY_TRUSTED_PROXIES]")
	claimsS := fs.String("claims-per-target", env("PARLEY_CLAIMS_PER_TARGET", "30"), "KeyPackage claims one device may make for one user per hour [PARLEY_CLAIMS_PER_TARGET]")
	codeKeyFile := fs.String("code-key", env("PARLEY_CODE_KEY_FILE", ""), "file with the 32-byte hex key verification codes are stored under (HMAC); default DATA/code.key, created if missing; give every cluster node the same [PARLEY_CODE_KEY_FILE]")
	callOpts := addCallFlags(fs, env)       // serve_calls.go
	tlsOpts := addTLSFlags(fs, env)         // serve_tls.go
	clusterOpts := addClusterFlags(fs, env) // serve_cluster.go
	logLevel := fs.String("log-level", env("PARLEY_LOG_LEVEL", "info"), "debug, info, warn or error [PARLEY_LOG_LEVEL]")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	retention, err := time.ParseDuration(*retentionS)
	if err != nil || retention <= 0 {
		return fmt.Errorf("serve: --retention %q: want a positive duration such as 720h", *retentionS)
	}
	claims, err := strconv.Atoi(*claimsS)
	if err != nil || claims <= 0 {
		return fmt.Errorf("serve: --claims-per-target %q: want a positive number", *claimsS)
	}
	proxies, err := clientip.ParseCIDRs(*trustedProxies)
	if err != nil {
		return fmt.Errorf("serve: --trusted-proxies: %w", err)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("serve: --log-level %q: %w", *logLevel, err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	allow, err := outbound.ParseAllow(*outboundAllow)
	if err != nil {
		return fmt.Errorf("serve: --outbound-allow: %w", err)
	}
	front, err := tlsOpts.front(*dataDir, log) // nil: plain HTTP
	if err != nil {
		return err
	}
	policy := outbound.Policy{Allow: allow, Log: log.With("component", "outbound")}
	if len(allow) > 0 {
		log.Info("outbound requests may reach internal ranges", "allow", outbound.FormatAllow(allow))
	}

	if n, err := raiseFileLimit(); err == nil {
		log.Debug("file descriptor limit", "nofile", n)
	} else {
		log.Warn("could not raise the file descriptor limit", "err", err)
	}

	if *debugListen != "" {
		dln, err := net.Listen("tcp", *debugListen)
		if err != nil {
			return fmt.Errorf("serve: --debug-listen %s: %w", *debugListen, err)
		}
		dsrv := &http.Server{Handler: debugMux(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = dsrv.Serve(dln) }()
		defer dsrv.Close()
		log.Info("debug endpoints on http://" + dln.Addr().String() + "/debug/pprof/")
	}

	var sqliteOpts []sqlite.Option
	switch *syncMode {
	case "full":
	case "normal":
		sqliteOpts = append(sqliteOpts, sqlite.WithSynchronousNormal())
	default:
		return fmt.Errorf("serve: --sqlite-sync %q: want full or normal", *syncMode)
	}
	broker, closeBroker, err := clusterOpts.broker(ctx, *dsn, *listen, log)
	if err != nil {
		return err
	}
	defer closeBroker()
	st, err := openDataStore(ctx, *dataDir, *dsn, sqliteOpts...)
	if err != nil {
		return err
	}
	defer st.Close()

	var sender parley.CodeSender
	if *webhook != "" {
		sender = accounts.NewWebhookSender(*webhook, *webhookSecret, policy)
	} else {
		sender = accounts.DevSender{Log: log}
		log.Warn("development verification sender: codes are written to this log")
	}
	blobs, err := openBlobStore(ctx, *dataDir, *s3URL)
	if err != nil {
		return err
	}
	ckey, err := codeKey(*dataDir, *codeKeyFile)
	if err != nil {
		return err
	}
	bizAPI, err := businessAPIConfig(*dataDir, *operatorKey, *operatorToken, *autoApprove)
	if err != nil {
		return err
	}
	callsCfg, stopCalls, err := callOpts.start(*listen, log)
	if err != nil {
		return err
	}
	defer stopCalls()
	srv, err := server.New(server.Config{
		BusinessAPI:    bizAPI,
		MetricsToken:   *metricsToken,
		Store:          st,
		Broker:         broker,
		Sender:         sender,
		Log:            log,
		Delivery:       delivery.Config{Retention: retention, ClaimsPerTarget: parley.Limit{Events: claims, Window: time.Hour}},
		Accounts:       accounts.Config{CodeKey: ckey},
		TrustedProxies: proxies,
		Media: &media.Config{
			Blobs:      blobs,
			StagingDir: filepath.Join(*dataDir, "uploads"),
			MaxAge:     retention,
		},
		Push:     &push.Config{Subject: *pushSubject},
		Web:      withReadiness(ctx, web.Handler(), st, front), // serve_ready.go
		Outbound: policy,
		Calls:    callsCfg,
	})
	if err != nil {
		return err
	}
	_, metricsEnv := os.LookupEnv("PARLEY_METRICS_LISTEN")
	mln, err := metricsListener(*metricsListen, metricsEnv || flagSet(fs, "metrics-listen"), log)
	if err != nil {
		_ = srv.Shutdown(context.Background())
		return err
	}
	defer serveMetrics(mln, srv.MetricsHandler(), log)()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		_ = srv.Shutdown(context.Background())
		return fmt.Errorf("serve: listen %s: %w", *listen, err)
	}
	if front != nil {
		err = serveTLS(ctx, srv, front, ln, *tlsOpts.httpListen, log)
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

// openDataStore opens PostgreSQL when dsn is set, else the SQLite database
// parley.db in dir (created if missing).
func openDataStore(ctx context.Context, dir, dsn string, opts ...sqlite.Option) (parley.Store, error) {
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
