package node

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	stdlog "log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/parleyhq/parley/server"
	"github.com/parleyhq/parley/tlsserve"
)

// TLSOptions are the HTTPS front (docs/operations.md): a certificate from
// files, or certificates obtained over ACME for Domains. All empty: plain
// HTTP.
type TLSOptions struct {
	// CertFile and KeyFile are a PEM chain and key, re-read when changed.
	CertFile, KeyFile string
	// Domains are served with ACME certificates kept in DATA/acme.
	Domains []string
	// Email is the ACME account's contact; Directory the ACME directory URL.
	Email, Directory string
	// DirectoryRoots is a PEM file of the roots trusted for Directory
	// instead of the system's; empty: the system's.
	DirectoryRoots string
	// HTTPListen, with HTTPS, is a plain-HTTP address that redirects to
	// HTTPS and answers ACME HTTP-01 challenges; empty: none.
	HTTPListen string
}

// tlsFront returns the HTTPS front f asks for, nil for plain HTTP.
func tlsFront(f TLSOptions, dataDir string, log *slog.Logger) (*tlsserve.Front, error) {
	domains := f.Domains
	if f.CertFile == "" && f.KeyFile == "" && len(domains) == 0 {
		if f.HTTPListen != "" {
			return nil, errors.New("serve: --http-listen redirects to HTTPS: it needs --tls-cert and --tls-key, or --acme-domain")
		}
		return nil, nil
	}
	cfg := tlsserve.Config{
		CertFile: f.CertFile, KeyFile: f.KeyFile,
		Domains: domains, Email: f.Email, Directory: f.Directory,
		CacheDir: filepath.Join(dataDir, "acme"),
		Log:      log.With("component", "tls"),
	}
	if f.DirectoryRoots != "" {
		pem, err := os.ReadFile(f.DirectoryRoots)
		if err != nil {
			return nil, fmt.Errorf("serve: --acme-directory-roots: %w", err)
		}
		cfg.DirectoryRoots = x509.NewCertPool()
		if !cfg.DirectoryRoots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("serve: --acme-directory-roots %s: no PEM certificate in it", f.DirectoryRoots)
		}
	}
	if len(domains) > 0 && f.HTTPListen == "" {
		log.Warn("ACME without --http-listen: only TLS-ALPN-01 challenges, which a public CA sends to port 443")
	}
	front, err := tlsserve.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	return front, nil
}

// serveTLS serves srv over HTTPS on ln (with HSTS), and on httpListen, when
// set, redirects to HTTPS and answers ACME HTTP-01 challenges. srv itself
// also listens on a loopback-only plain port: its hosted business
// endpoints connect to the server they run in through it. It returns when
// ctx ends (after shutting the listeners down) or a listener fails.
func serveTLS(ctx context.Context, srv *server.Server, front *tlsserve.Front, ln net.Listener, httpListen string, log *slog.Logger) error {
	defer ln.Close()
	errLog := stdlog.New(httpErrorLog{log}, "", 0)
	_, httpsPort, _ := net.SplitHostPort(ln.Addr().String())
	var servers []*http.Server
	var listeners []net.Listener
	if httpListen != "" {
		hln, err := net.Listen("tcp", httpListen)
		if err != nil {
			return fmt.Errorf("serve: --http-listen %s: %w", httpListen, err)
		}
		servers = append(servers, &http.Server{Handler: front.HTTPHandler(httpsPort), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second, ErrorLog: errLog})
		listeners = append(listeners, hln)
		log.Info("redirecting http://" + hln.Addr().String() + " to https")
	}
	servers = append(servers, &http.Server{
		Handler:           tlsserve.HSTS(srv.Handler()),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          errLog,
	})
	listeners = append(listeners, tls.NewListener(ln, front.TLSConfig()))
	internal, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		for _, l := range listeners {
			l.Close()
		}
		return fmt.Errorf("serve: internal listener: %w", err)
	}

	inner, stopInner := context.WithCancel(context.WithoutCancel(ctx))
	defer stopInner()
	errc := make(chan error, len(servers)+1)
	go func() { errc <- srv.Serve(inner, internal) }()
	for i, hs := range servers {
		go func() { errc <- hs.Serve(listeners[i]) }()
	}
	log.Info("listening on https://" + ln.Addr().String())
	front.Start(inner)

	pending := len(servers) + 1
	var first error
	select {
	case <-ctx.Done():
	case first = <-errc:
		pending--
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, hs := range servers {
		_ = hs.Shutdown(sctx)
	}
	stopInner() // srv shuts down once the public listeners are closed
	for ; pending > 0; pending-- {
		if err := <-errc; first == nil && err != nil && !errors.Is(err, http.ErrServerClosed) {
			first = err
		}
	}
	if errors.Is(first, http.ErrServerClosed) {
		first = nil
	}
	return first
}

// httpErrorLog passes net/http's error lines to log at Warn, except failed
// TLS handshakes (scanners, clients without SNI, names that are not ours),
// which every public HTTPS server sees all day: those go to Debug.
type httpErrorLog struct{ log *slog.Logger }

func (l httpErrorLog) Write(p []byte) (int, error) {
	msg := strings.TrimSpace(string(p))
	if strings.Contains(msg, "TLS handshake error") {
		l.log.Debug(msg)
	} else {
		l.log.Warn(msg)
	}
	return len(p), nil
}
