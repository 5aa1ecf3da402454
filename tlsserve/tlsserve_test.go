package tlsserve_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/tlsserve"
)

// mustPair writes a self-signed certificate for name (serial) and its key.
func mustPair(t *testing.T, dir string, serial int64) (certFile, keyFile string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "chat.test"}, DNSNames: []string{"chat.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile
}

func servedSerial(t *testing.T, f *tlsserve.Front) int64 {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", f.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{ServerName: "chat.test", InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

// TestFiles: the pair is served, and served anew after the files change
// (a renewal by certbot), while a broken replacement keeps the old one.
func TestFiles(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := mustPair(t, dir, 1)
	var logged syncBuffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	f, err := tlsserve.New(tlsserve.Config{CertFile: certFile, KeyFile: keyFile, Log: log, FileRecheck: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if got := servedSerial(t, f); got != 1 {
		t.Fatalf("serial %d, want 1", got)
	}
	if err := f.Ready(); err != nil {
		t.Fatal(err)
	}
	mustPair(t, dir, 2)
	future := time.Now().Add(time.Minute)
	os.Chtimes(certFile, future, future)
	deadline := time.Now().Add(30 * time.Second)
	for servedSerial(t, f) != 2 {
		if time.Now().After(deadline) {
			t.Fatal("the renewed pair was not served")
		}
		time.Sleep(10 * time.Millisecond)
	}
	os.WriteFile(certFile, []byte("not a certificate"), 0o600)
	os.Chtimes(certFile, future.Add(time.Minute), future.Add(time.Minute))
	for !strings.Contains(logged.String(), "do not load") {
		servedSerial(t, f) // a handshake looks at the files
		if time.Now().After(deadline) {
			t.Fatal("the broken pair was never looked at")
		}
	}
	if got := servedSerial(t, f); got != 2 {
		t.Fatalf("after a broken replacement the serial is %d, want the previous 2", got)
	}
}

func TestConfigRefused(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	certFile, keyFile := mustPair(t, dir, 1)
	for name, cfg := range map[string]tlsserve.Config{
		"nothing":         {Log: log},
		"cert only":       {CertFile: certFile, Log: log},
		"files and acme":  {CertFile: certFile, KeyFile: keyFile, Domains: []string{"a.test"}, CacheDir: dir, Log: log},
		"acme no cache":   {Domains: []string{"a.test"}, Log: log},
		"acme ip":         {Domains: []string{"127.0.0.1"}, CacheDir: dir, Log: log},
		"missing file":    {CertFile: filepath.Join(dir, "none"), KeyFile: keyFile, Log: log},
		"mismatched pair": {CertFile: keyFile, KeyFile: certFile, Log: log},
	} {
		if _, err := tlsserve.New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestRedirect(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	certFile, keyFile := mustPair(t, t.TempDir(), 1)
	f, _ := tlsserve.New(tlsserve.Config{CertFile: certFile, KeyFile: keyFile, Log: log})
	for _, tc := range []struct{ port, host, uri, want string }{
		{"443", "chat.test", "/a?b=c", "https://chat.test/a?b=c"},
		{"443", "chat.test:80", "/", "https://chat.test/"},
		{"8443", "chat.test", "/x", "https://chat.test:8443/x"},
		{"443", "[::1]:80", "/", "https://[::1]/"},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", tc.uri, nil)
		req.Host = tc.host
		f.HTTPHandler(tc.port).ServeHTTP(rec, req)
		if rec.Code != http.StatusPermanentRedirect || rec.Header().Get("Location") != tc.want {
			t.Errorf("%s on %s: %d %q, want 308 %q", tc.uri, tc.host, rec.Code, rec.Header().Get("Location"), tc.want)
		}
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/", nil)
	req.Host = "evil/x@"
	f.HTTPHandler("443").ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("bad host: %d", rec.Code)
	}
	// HSTS only over TLS.
	h := tlsserve.HSTS(http.NotFoundHandler())
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Header().Get("Strict-Transport-Security") != "" {
		t.Error("HSTS over plain HTTP")
	}
	rec = httptest.NewRecorder()
	req = httptest.NewRequest("GET", "https://chat.test/", nil)
	h.ServeHTTP(rec, req)
	if rec.Header().Get("Strict-Transport-Security") != tlsserve.HSTSValue {
		t.Error("no HSTS over TLS")
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
