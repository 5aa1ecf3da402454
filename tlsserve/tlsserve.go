// Package tlsserve puts Parley on HTTPS: certificates from files or
// obtained over ACME (RFC 8555, e.g. Let's Encrypt), the plain-HTTP port that
// answers ACME HTTP-01 challenges and redirects everything else to HTTPS, and
// the Strict-Transport-Security header on HTTPS responses.
//
// Guarantees:
//   - Files: the certificate and key are read at New (a bad pair fails
//     there) and read again at the first handshake after either file's
//     modification time changes (looked at every FileRecheck), so a renewal by an outside tool (certbot,
//     a secrets manager) needs no restart. A pair that no longer loads keeps
//     the previous one in service and is logged.
//   - ACME: certificates and the ACME account key are kept in CacheDir
//     (files of mode 0600), so a restart reuses them without a new order.
//     Start asks for every domain's certificate at once instead of at the
//     first visitor's handshake; Ready reports whether each domain has one.
//     Certificates are renewed in the background before they expire (a
//     third of their lifetime before, at most 30 days: at 60 of 90 days for
//     Let's Encrypt). Both TLS-ALPN-01 (on the HTTPS port, which must be
//     443 for a public CA) and HTTP-01 (on the plain port, which must be 80)
//     are answered; TLS-ALPN-01 is tried first.
//   - Only the configured domains get a certificate: a handshake for any
//     other name fails without contacting the CA.
package tlsserve

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// LetsEncrypt is the default ACME directory: Let's Encrypt's production CA.
const LetsEncrypt = acme.LetsEncryptURL

// HSTSValue is the Strict-Transport-Security header HTTPS responses carry:
// browsers use only HTTPS for this host for two years after seeing it. It
// does not include subdomains, which the operator may serve elsewhere.
const HSTSValue = "max-age=63072000"

// Config chooses where certificates come from: files (CertFile and KeyFile)
// or ACME (Domains), never both.
type Config struct {
	// CertFile and KeyFile are PEM files: the certificate chain (leaf first)
	// and its private key.
	CertFile, KeyFile string

	// FileRecheck is how often a handshake looks at the files' modification
	// times; 0 is 10 seconds.
	FileRecheck time.Duration

	// Domains are the names to obtain certificates for over ACME.
	Domains []string
	// Email is the ACME account's contact address (optional; the CA warns
	// of expiry problems there).
	Email string
	// Directory is the ACME directory URL; empty is LetsEncrypt.
	Directory string
	// DirectoryRoots, when set, are the roots trusted for the ACME
	// directory's own HTTPS (a private CA such as a test's Pebble); nil uses
	// the system's roots.
	DirectoryRoots *x509.CertPool
	// CacheDir keeps the ACME account key and the certificates. Required
	// with Domains.
	CacheDir string

	// Log receives certificate events. Required.
	Log *slog.Logger
}

// Front serves the certificates of one Config. It is safe for concurrent
// use.
type Front struct {
	cfg     Config
	tls     *tls.Config
	manager *autocert.Manager // nil for files
	files   *fileCert         // nil for ACME
	have    sync.Map          // domain → struct{}: a certificate was obtained
	started atomic.Bool
}

// New checks cfg and returns its Front. With files it loads them now.
func New(cfg Config) (*Front, error) {
	if cfg.Log == nil {
		return nil, errors.New("tlsserve: no logger")
	}
	files := cfg.CertFile != "" || cfg.KeyFile != ""
	switch {
	case files && len(cfg.Domains) > 0:
		return nil, errors.New("tlsserve: certificate files and ACME domains are exclusive: choose one")
	case files && (cfg.CertFile == "" || cfg.KeyFile == ""):
		return nil, errors.New("tlsserve: a certificate file needs its key file, and a key file its certificate")
	case !files && len(cfg.Domains) == 0:
		return nil, errors.New("tlsserve: neither certificate files nor ACME domains")
	}
	f := &Front{cfg: cfg}
	// HTTP/1.1 only: the gateway's WebSocket upgrade takes over the
	// connection, which HTTP/2 (where browsers would otherwise open
	// WebSockets with extended CONNECT) does not allow.
	f.tls = &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
	if files {
		fc := &fileCert{certFile: cfg.CertFile, keyFile: cfg.KeyFile, log: cfg.Log, recheck: cfg.FileRecheck}
		if fc.recheck <= 0 {
			fc.recheck = 10 * time.Second
		}
		if err := fc.load(); err != nil {
			return nil, err
		}
		f.files = fc
		f.tls.GetCertificate = fc.get
		return f, nil
	}
	for _, d := range cfg.Domains {
		if d == "" || strings.ContainsAny(d, "/: ") || net.ParseIP(d) != nil {
			return nil, fmt.Errorf("tlsserve: ACME domain %q: want a DNS name such as chat.example.org", d)
		}
	}
	if cfg.CacheDir == "" {
		return nil, errors.New("tlsserve: ACME needs a cache directory")
	}
	dir := cfg.Directory
	if dir == "" {
		dir = LetsEncrypt
	}
	client := &acme.Client{DirectoryURL: dir, UserAgent: "parley"}
	if cfg.DirectoryRoots != nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: cfg.DirectoryRoots, MinVersion: tls.VersionTLS12}
		client.HTTPClient = &http.Client{Transport: tr, Timeout: time.Minute}
	}
	f.manager = &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		Cache:      autocert.DirCache(cfg.CacheDir),
		HostPolicy: hostPolicy(cfg.Domains),
		Client:     client,
		Email:      cfg.Email,
	}
	f.tls.GetCertificate = f.getACME
	// Serving the challenge certificate of TLS-ALPN-01 needs its protocol.
	f.tls.NextProtos = append(f.tls.NextProtos, acme.ALPNProto)
	return f, nil
}

// hostPolicy admits the configured domains only. It ignores a port, which
// the Host header of an HTTP-01 request carries when the CA validates on a
// port other than 80 (a test CA).
func hostPolicy(domains []string) autocert.HostPolicy {
	allowed := autocert.HostWhitelist(domains...)
	return func(ctx context.Context, host string) error {
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		return allowed(ctx, host)
	}
}

// TLSConfig is the configuration for the HTTPS listener. Callers must not
// change it.
func (f *Front) TLSConfig() *tls.Config { return f.tls }

// Start asks the CA for the certificate of every ACME domain that has none
// in the cache, in the background, retrying with backoff until ctx ends.
// With files it does nothing. Call it once the HTTPS (and, for HTTP-01,
// the plain) listener accepts connections: the CA connects back to them.
func (f *Front) Start(ctx context.Context) {
	if f.manager == nil || !f.started.CompareAndSwap(false, true) {
		return
	}
	for _, d := range f.cfg.Domains {
		go f.obtain(ctx, d)
	}
}

func (f *Front) obtain(ctx context.Context, domain string) {
	wait := time.Second
	for {
		_, err := f.getACME(helloFor(domain))
		if err == nil {
			return
		}
		f.cfg.Log.Warn("no certificate yet", "domain", domain, "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 10*time.Minute)
	}
}

// helloFor is a handshake from a client that accepts ECDSA certificates,
// as every current browser does: autocert then obtains the ECDSA one.
func helloFor(domain string) *tls.ClientHelloInfo {
	return &tls.ClientHelloInfo{
		ServerName:        domain,
		CipherSuites:      []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
		SignatureSchemes:  []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256},
		SupportedCurves:   []tls.CurveID{tls.CurveP256},
		SupportedVersions: []uint16{tls.VersionTLS13, tls.VersionTLS12},
	}
}

func (f *Front) getACME(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	c, err := f.manager.GetCertificate(hello)
	if err == nil && c != nil && !isChallenge(hello) {
		name := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
		if _, had := f.have.LoadOrStore(name, struct{}{}); !had && c.Leaf != nil {
			f.cfg.Log.Info("certificate ready", "domain", name, "issuer", c.Leaf.Issuer.CommonName, "not_after", c.Leaf.NotAfter.UTC().Format(time.RFC3339))
		}
	}
	return c, err
}

func isChallenge(hello *tls.ClientHelloInfo) bool {
	for _, p := range hello.SupportedProtos {
		if p == acme.ALPNProto {
			return true
		}
	}
	return false
}

// Ready returns nil when every ACME domain has a certificate (always with
// files), else an error naming the first domain without one.
func (f *Front) Ready() error {
	if f.manager == nil {
		return nil
	}
	for _, d := range f.cfg.Domains {
		if _, ok := f.have.Load(strings.ToLower(d)); !ok {
			return fmt.Errorf("no certificate for %s yet", d)
		}
	}
	return nil
}

// HTTPHandler serves the plain-HTTP port: ACME HTTP-01 challenge responses
// (with ACME), and a permanent redirect (308, which keeps the method and
// body) of everything else to the same path over HTTPS on httpsPort (443
// is left out of the URL).
func (f *Front) HTTPHandler(httpsPort string) http.Handler {
	redirect := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if host == "" || strings.ContainsAny(host, "/\\@ ") {
			http.Error(w, "missing or bad Host header", http.StatusBadRequest)
			return
		}
		if strings.Contains(host, ":") { // an IPv6 literal
			host = "[" + host + "]"
		}
		if httpsPort != "" && httpsPort != "443" {
			host += ":" + httpsPort
		}
		w.Header().Set("Connection", "close")
		http.Redirect(w, r, "https://"+host+r.URL.RequestURI(), http.StatusPermanentRedirect)
	})
	if f.manager == nil {
		return redirect
	}
	// Only /.well-known/acme-challenge/ reaches autocert; it calls the
	// redirect for anything else.
	return f.manager.HTTPHandler(redirect)
}

// HSTS adds Strict-Transport-Security (HSTSValue) to every response to a
// request that came over TLS, then calls next.
func HSTS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			w.Header().Set("Strict-Transport-Security", HSTSValue)
		}
		next.ServeHTTP(w, r)
	})
}

// fileCert is a certificate pair from files, read again when they change.
type fileCert struct {
	certFile, keyFile string
	log               *slog.Logger
	recheck           time.Duration

	mu      sync.Mutex
	cert    *tls.Certificate
	modTime [2]time.Time
	checked time.Time
}

func (fc *fileCert) load() error {
	mt, err := fc.modTimes()
	if err != nil {
		return err
	}
	c, err := tls.LoadX509KeyPair(fc.certFile, fc.keyFile)
	if err != nil {
		return fmt.Errorf("tlsserve: %s and %s: %w", fc.certFile, fc.keyFile, err)
	}
	fc.cert, fc.modTime, fc.checked = &c, mt, time.Now()
	return nil
}

func (fc *fileCert) modTimes() ([2]time.Time, error) {
	var mt [2]time.Time
	for i, name := range []string{fc.certFile, fc.keyFile} {
		st, err := os.Stat(name)
		if err != nil {
			return mt, fmt.Errorf("tlsserve: %w", err)
		}
		mt[i] = st.ModTime()
	}
	return mt, nil
}

func (fc *fileCert) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if time.Since(fc.checked) < fc.recheck {
		return fc.cert, nil
	}
	fc.checked = time.Now()
	if mt, err := fc.modTimes(); err == nil && mt != fc.modTime {
		old := fc.cert
		if err := fc.load(); err != nil {
			fc.cert, fc.modTime = old, mt // logged once per change
			fc.log.Error("certificate files changed but do not load: serving the previous certificate", "err", err)
		} else {
			fc.log.Info("certificate files reloaded", "cert", fc.certFile)
		}
	}
	return fc.cert, nil
}
