package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/clientip"
	"github.com/parleyhq/parley/node"
	"github.com/parleyhq/parley/outbound"
	"github.com/parleyhq/parley/tlsserve"
)

// serveCommand runs `parley serve`: it parses the flags into node.Options
// and runs the node (package node), which logs "listening on http://ADDR"
// once bound and runs until ctx is cancelled. Every flag has a PARLEY_*
// environment variable (the flag wins).
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
	metricsListen := fs.String("metrics-listen", env("PARLEY_METRICS_LISTEN", node.DefaultMetricsListen), "loopback address serving /metrics without a token; empty: none [PARLEY_METRICS_LISTEN]")
	operatorToken := fs.String("operator-token", env("PARLEY_OPERATOR_TOKEN", ""), "bearer token of the operator's routes: the admin API (/admin/v1/, parley admin) and the business API's template review and tiers; empty disables them [PARLEY_OPERATOR_TOKEN]")
	autoApprove := fs.Bool("templates-auto-approve", env("PARLEY_TEMPLATES_AUTO_APPROVE", "") == "true", "approve business message templates when created [PARLEY_TEMPLATES_AUTO_APPROVE]")
	pushSubject := fs.String("push-subject", env("PARLEY_PUSH_SUBJECT", "mailto:push@parley.invalid"), "contact URI (mailto: or https:) sent to browser push services with every notification [PARLEY_PUSH_SUBJECT]")
	outboundAllow := fs.String("outbound-allow", env("PARLEY_OUTBOUND_ALLOW", ""), "comma-separated CIDR ranges the server may reach when it fetches a URL (webhooks, push endpoints, media links, the SMS webhook) although they are loopback, private or link-local; default: none [PARLEY_OUTBOUND_ALLOW]")
	trustedProxies := fs.String("trusted-proxies", env("PARLEY_TRUSTED_PROXIES", ""), "comma-separated CIDRs of reverse proxies whose X-Forwarded-For/Forwarded headers give the client address for per-address limits; empty: none [PARLEY_TRUSTED_PROXIES]")
	backupQuotaS := fs.String("backup-quota", env("PARLEY_BACKUP_QUOTA", "268435456"), "bytes one account's encrypted client backup may take at /v1/backup (docs/backup.md) [PARLEY_BACKUP_QUOTA]")
	claimsS := fs.String("claims-per-target", env("PARLEY_CLAIMS_PER_TARGET", "30"), "KeyPackage claims one device may make for one user per hour [PARLEY_CLAIMS_PER_TARGET]")
	codeKeyFile := fs.String("code-key", env("PARLEY_CODE_KEY_FILE", ""), "file with the 32-byte hex key verification codes are stored under (HMAC); default DATA/code.key, created if missing; give every cluster node the same [PARLEY_CODE_KEY_FILE]")
	callsOn := fs.Bool("calls", env("PARLEY_CALLS", "true") == "true", "host voice and video calls: the SFU and the TURN relay [PARLEY_CALLS]")
	callUDP := fs.String("call-udp", env("PARLEY_CALL_UDP", ""), "UDP address of the SFU's media (one port for all calls); default: --listen's host, a free port [PARLEY_CALL_UDP]")
	callTCP := fs.String("call-tcp", env("PARLEY_CALL_TCP", ""), "TCP address of the SFU's ICE-TCP fallback; default: --listen's host, a free port; off disables [PARLEY_CALL_TCP]")
	turnUDP := fs.String("turn-udp", env("PARLEY_TURN_UDP", ""), "UDP address of the TURN relay; default: --listen's host, a free port; off disables [PARLEY_TURN_UDP]")
	publicIPs := fs.String("call-public-ip", env("PARLEY_CALL_PUBLIC_IP", ""), "public address(es), comma-separated, that the SFU and TURN relay advertise when behind a 1:1 NAT [PARLEY_CALL_PUBLIC_IP]")
	turnPorts := fs.String("turn-ports", env("PARLEY_TURN_PORTS", "49152-65535"), "UDP port range of TURN relay allocations [PARLEY_TURN_PORTS]")
	allowPeers := fs.String("call-allow-peers", env("PARLEY_CALL_ALLOW_PEERS", ""), "extra peer ranges (CIDRs, comma-separated) the SFU and relay may send to, e.g. 127.0.0.0/8 on one machine; public addresses are always allowed [PARLEY_CALL_ALLOW_PEERS]")
	maxParticipants := fs.Int("call-max-participants", 32, "devices in one call")
	certFile := fs.String("tls-cert", env("PARLEY_TLS_CERT", ""), "PEM certificate chain: serve HTTPS on --listen with it (re-read when the file changes) [PARLEY_TLS_CERT]")
	keyFile := fs.String("tls-key", env("PARLEY_TLS_KEY", ""), "PEM private key of --tls-cert [PARLEY_TLS_KEY]")
	domains := fs.String("acme-domain", env("PARLEY_ACME_DOMAIN", ""), "comma-separated DNS names: serve HTTPS on --listen with certificates obtained and renewed over ACME, kept in DATA/acme [PARLEY_ACME_DOMAIN]")
	email := fs.String("acme-email", env("PARLEY_ACME_EMAIL", ""), "contact address of the ACME account (optional) [PARLEY_ACME_EMAIL]")
	directory := fs.String("acme-directory", env("PARLEY_ACME_DIRECTORY", tlsserve.LetsEncrypt), "ACME directory URL [PARLEY_ACME_DIRECTORY]")
	directoryRoots := fs.String("acme-directory-roots", env("PARLEY_ACME_DIRECTORY_ROOTS", ""), "PEM file of the roots trusted for the ACME directory's HTTPS instead of the system's (a private CA) [PARLEY_ACME_DIRECTORY_ROOTS]")
	httpListen := fs.String("http-listen", env("PARLEY_HTTP_LISTEN", ""), "with HTTPS: plain-HTTP address that redirects to HTTPS and answers ACME HTTP-01 challenges (use :80); empty: none [PARLEY_HTTP_LISTEN]")
	natsURL := fs.String("nats", env("PARLEY_NATS", ""), "NATS URL(s), comma-separated, joining this node to a cluster (needs --postgres); empty: a single node with in-process routing [PARLEY_NATS]")
	logLevel := fs.String("log-level", env("PARLEY_LOG_LEVEL", "info"), "debug, info, warn or error [PARLEY_LOG_LEVEL]")
	logFormat := fs.String("log-format", env("PARLEY_LOG_FORMAT", "text"), "text (key=value lines) or json (one object a line; request ids in request_id) [PARLEY_LOG_FORMAT]")
	config := fs.String("config", env("PARLEY_CONFIG", ""), "file of `name = value` lines (TOML) setting these flags; a flag or environment variable wins over it (docs/operations.md) [PARLEY_CONFIG]")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *config != "" {
		if err := node.ApplyConfigFile(fs, *config); err != nil {
			return fmt.Errorf("serve: %w", err)
		}
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	_, metricsEnv := os.LookupEnv("PARLEY_METRICS_LISTEN")
	o := node.Options{
		DataDir: *dataDir, Listen: *listen, Postgres: *dsn, SQLiteNormalSync: *syncMode == "normal",
		SMSWebhook: *webhook, SMSWebhookSecret: *webhookSecret, S3: *s3URL, DebugListen: *debugListen,
		OperatorKeyFile: *operatorKey, OperatorToken: *operatorToken, AutoApprove: *autoApprove, CodeKeyFile: *codeKeyFile,
		MetricsToken: *metricsToken, MetricsListen: *metricsListen, MetricsListenChosen: metricsEnv || flagSet(fs, "metrics-listen"),
		PushSubject: *pushSubject, NATS: *natsURL,
		Calls: node.CallOptions{Enabled: *callsOn, UDP: *callUDP, TCP: *callTCP, TURN: *turnUDP, MaxParticipants: *maxParticipants},
		TLS: node.TLSOptions{CertFile: *certFile, KeyFile: *keyFile, Domains: splitList(*domains), Email: *email,
			Directory: *directory, DirectoryRoots: *directoryRoots, HTTPListen: *httpListen},
	}
	var err error
	o.Retention, err = time.ParseDuration(*retentionS)
	if err != nil || o.Retention <= 0 {
		return fmt.Errorf("serve: --retention %q: want a positive duration such as 720h", *retentionS)
	}
	o.ClaimsPerTarget, err = strconv.Atoi(*claimsS)
	if err != nil || o.ClaimsPerTarget <= 0 {
		return fmt.Errorf("serve: --claims-per-target %q: want a positive number", *claimsS)
	}
	if o.BackupQuota, err = strconv.ParseInt(*backupQuotaS, 10, 64); err != nil || o.BackupQuota <= 0 {
		return fmt.Errorf("serve: --backup-quota %q: want a positive number of bytes", *backupQuotaS)
	}
	if o.TrustedProxies, err = clientip.ParseCIDRs(*trustedProxies); err != nil {
		return fmt.Errorf("serve: --trusted-proxies: %w", err)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("serve: --log-level %q: %w", *logLevel, err)
	}
	if o.Log, err = node.NewLogger(stderr, *logFormat, level); err != nil {
		return fmt.Errorf("serve: --log-format: %w", err)
	}
	if o.OutboundAllow, err = outbound.ParseAllow(*outboundAllow); err != nil {
		return fmt.Errorf("serve: --outbound-allow: %w", err)
	}
	if *syncMode != "full" && *syncMode != "normal" {
		return fmt.Errorf("serve: --sqlite-sync %q: want full or normal", *syncMode)
	}
	if *callsOn {
		if *publicIPs != "" {
			o.Calls.PublicIPs = strings.Split(*publicIPs, ",")
		}
		for _, c := range splitList(*allowPeers) {
			p, err := netip.ParsePrefix(c)
			if err != nil {
				return fmt.Errorf("serve: --call-allow-peers %q: %w", c, err)
			}
			o.Calls.AllowPeers = append(o.Calls.AllowPeers, p)
		}
		lo, hi, ok := strings.Cut(*turnPorts, "-")
		minPort, err1 := strconv.ParseUint(lo, 10, 16)
		maxPort, err2 := strconv.ParseUint(hi, 10, 16)
		if *turnUDP != "off" && (!ok || err1 != nil || err2 != nil || minPort == 0 || minPort > maxPort) {
			return fmt.Errorf("serve: --turn-ports %q: want MIN-MAX", *turnPorts)
		}
		o.Calls.TURNMinPort, o.Calls.TURNMaxPort = uint16(minPort), uint16(maxPort)
	}
	return node.Run(ctx, o)
}

// splitList splits a comma-separated flag value, dropping empty items and
// the spaces around each.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
