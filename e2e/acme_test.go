package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/tlsserve"
)

// The ACME tests run the real Pebble (Let's Encrypt's test CA), built from
// its Go module into the user's cache directory on first use.
const pebbleModule = "github.com/letsencrypt/pebble/v2"
const pebbleVersion = "v2.10.3"

// acmeDomain is the name the certificates are for; the tests' DNS server
// answers 127.0.0.1 for it.
const acmeDomain = "parley.test"

// TestACMETLSALPN: `parley serve --acme-domain` obtains a certificate from
// Pebble over TLS-ALPN-01 (Pebble's HTTP-01 port leads nowhere), serves it
// with a chain that verifies against Pebble's root, adds HSTS, redirects
// plain HTTP to HTTPS, reports /readyz only once it has the certificate,
// and after a restart serves the stored certificate with the CA gone.
func TestACMETLSALPN(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs Pebble")
	}
	httpsPort, httpPort := freePort(t), freePort(t)
	peb := mustPebble(t, freePort(t), httpsPort, 90*24*time.Hour)
	data := t.TempDir()
	args := peb.serveArgs(data, httpsPort, httpPort)
	s := mustServeTLS(t, args)
	root := peb.mustRoot()
	leaf := mustReady(t, httpsPort, root)

	// HSTS on HTTPS responses.
	c := httpsClient(root)
	resp, err := c.Get(fmt.Sprintf("https://%s:%d/healthz", acmeDomain, httpsPort))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Strict-Transport-Security"); got != tlsserve.HSTSValue {
		t.Fatalf("HSTS = %q, want %q", got, tlsserve.HSTSValue)
	}
	// Plain HTTP redirects to the same URL over HTTPS, method kept.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("POST", fmt.Sprintf("http://127.0.0.1:%d/v1/x?a=b", httpPort), strings.NewReader("{}"))
	req.Host = acmeDomain
	resp, err = noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if want := fmt.Sprintf("https://%s:%d/v1/x?a=b", acmeDomain, httpsPort); resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != want {
		t.Fatalf("plain HTTP answered %d %q, want 308 %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
	// A name that is not ours gets no certificate.
	if _, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", httpsPort), &tls.Config{ServerName: "other.test", RootCAs: root}); err == nil {
		t.Fatal("handshake for other.test succeeded")
	}

	// The certificate and the account key are kept in the data directory;
	// a restart serves them without the CA.
	if ents, _ := os.ReadDir(filepath.Join(data, "acme")); len(ents) < 2 {
		t.Fatalf("data/acme holds %d files, want the account key and the certificate", len(ents))
	}
	s.stop()
	peb.stop()
	mustServeTLS(t, args)
	again := mustReady(t, httpsPort, root)
	if !again.Equal(leaf) {
		t.Fatalf("after restart the server serves serial %s, want the stored %s", again.SerialNumber, leaf.SerialNumber)
	}
}

// TestACMEHTTP01: with Pebble's TLS-ALPN-01 port leading nowhere, the
// certificate comes over HTTP-01 on --http-listen.
func TestACMEHTTP01(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs Pebble")
	}
	httpsPort, httpPort := freePort(t), freePort(t)
	peb := mustPebble(t, httpPort, freePort(t), 90*24*time.Hour)
	mustServeTLS(t, peb.serveArgs(t.TempDir(), httpsPort, httpPort))
	mustReady(t, httpsPort, peb.mustRoot())
}

// TestACMERenewal: a certificate is renewed in the background before it
// expires (a third of its lifetime before: Pebble issues 30-second
// certificates here), served without a restart and stored.
func TestACMERenewal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs Pebble")
	}
	httpsPort := freePort(t)
	peb := mustPebble(t, freePort(t), httpsPort, 30*time.Second)
	data := t.TempDir()
	args := peb.serveArgs(data, httpsPort, freePort(t))
	mustServeTLS(t, args)
	root := peb.mustRoot()
	first := mustReady(t, httpsPort, root)
	stored := func() []byte {
		ents, _ := os.ReadDir(filepath.Join(data, "acme"))
		for _, e := range ents {
			if e.Name() == acmeDomain {
				b, _ := os.ReadFile(filepath.Join(data, "acme", e.Name()))
				return b
			}
		}
		t.Fatalf("no %s in %v", acmeDomain, ents)
		return nil
	}
	before := stored()
	deadline := time.Now().Add(time.Until(first.NotAfter) + 10*time.Second)
	for {
		if leaf := mustReady(t, httpsPort, root); !leaf.Equal(first) {
			if !leaf.NotAfter.After(first.NotAfter) {
				t.Fatalf("renewed certificate expires %v, not after the first's %v", leaf.NotAfter, first.NotAfter)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the certificate expiring %v was not renewed", first.NotAfter)
		}
		time.Sleep(time.Second)
	}
	if bytes.Equal(stored(), before) {
		t.Fatal("the renewed certificate was not stored in the data directory")
	}
}

// mustReady polls /readyz over HTTPS until it answers 200 and returns the
// served leaf certificate, verified for acmeDomain against root.
func mustReady(t *testing.T, port int, root *x509.CertPool) *x509.Certificate {
	t.Helper()
	c := httpsClient(root)
	deadline := time.Now().Add(60 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		resp, err := c.Get(fmt.Sprintf("https://%s:%d/readyz", acmeDomain, port))
		if err != nil {
			last = err.Error()
		} else {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			last = fmt.Sprintf("%d %s", resp.StatusCode, body)
			if resp.StatusCode == http.StatusOK {
				return resp.TLS.PeerCertificates[0]
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("/readyz over HTTPS never answered 200; last: %s", last)
	return nil
}

// httpsClient connects every request to 127.0.0.1 and verifies the server
// as acmeDomain against root.
func httpsClient(root *x509.CertPool) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: root, ServerName: acmeDomain},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, _ := net.SplitHostPort(addr)
			return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+port)
		},
		DisableKeepAlives: true,
	}}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// tlsServer is a `parley serve` process on HTTPS.
type tlsServer struct {
	cmd    *exec.Cmd
	exited chan struct{}
	mu     sync.Mutex
	log    bytes.Buffer
}

// mustServeTLS starts `parley serve ARGS` and waits until it listens on
// HTTPS.
func mustServeTLS(t *testing.T, args []string) *tlsServer {
	t.Helper()
	s := &tlsServer{exited: make(chan struct{})}
	s.cmd = exec.Command(parleyBin, append([]string{"serve"}, args...)...)
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	up := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			s.mu.Lock()
			s.log.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
			if strings.Contains(sc.Text(), "listening on https://") {
				close(up)
			}
		}
		s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			s.mu.Lock()
			t.Logf("server log:\n%s", s.log.String())
			s.mu.Unlock()
		}
	})
	select {
	case <-up:
	case <-s.exited:
		t.Fatalf("server exited:\n%s", s.log.String())
	case <-time.After(20 * time.Second):
		t.Fatal("server did not start listening")
	}
	return s
}

func (s *tlsServer) stop() {
	if s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
}

// pebble is a running Pebble CA.
type pebble struct {
	t        *testing.T
	dir      string // the module's source: its test certificates
	port     int    // ACME directory
	mgmtPort int    // management API: the issuing roots
	cmd      *exec.Cmd
	exited   chan struct{}
	log      bytes.Buffer
	stopOnce sync.Once
}

var (
	pebbleOnce sync.Once
	pebbleBin  string
	pebbleSrc  string
	pebbleErr  error
)

// pebbleBuild installs Pebble into the user cache directory (once per
// version) and finds its module source.
func pebbleBuild() (bin, src string, err error) {
	pebbleOnce.Do(func() {
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		gobin := filepath.Join(cache, "parley-test", "pebble-"+pebbleVersion)
		pebbleBin = filepath.Join(gobin, "pebble")
		if _, err := os.Stat(pebbleBin); err != nil {
			cmd := exec.Command("go", "install", pebbleModule+"/cmd/pebble@"+pebbleVersion)
			cmd.Dir, cmd.Env = os.TempDir(), append(os.Environ(), "GOBIN="+gobin, "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				pebbleErr = fmt.Errorf("go install pebble: %v\n%s", err, out)
				return
			}
		}
		cmd := exec.Command("go", "mod", "download", "-json", pebbleModule+"@"+pebbleVersion)
		cmd.Dir = os.TempDir()
		out, err := cmd.Output()
		if err != nil {
			pebbleErr = fmt.Errorf("go mod download pebble: %v", err)
			return
		}
		var m struct{ Dir string }
		if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
			pebbleErr = fmt.Errorf("go mod download pebble printed %s", out)
			return
		}
		pebbleSrc = m.Dir
	})
	return pebbleBin, pebbleSrc, pebbleErr
}

// mustPebble starts Pebble on loopback; it validates HTTP-01 on httpPort
// and TLS-ALPN-01 on tlsPort of 127.0.0.1 (through a DNS server that
// answers 127.0.0.1 for acmeDomain), and issues certificates valid for
// validity.
func mustPebble(t *testing.T, httpPort, tlsPort int, validity time.Duration) *pebble {
	t.Helper()
	bin, src, err := pebbleBuild()
	if err != nil {
		t.Fatal(err)
	}
	p := &pebble{t: t, dir: src, port: freePort(t), mgmtPort: freePort(t), exited: make(chan struct{})}
	cfg := map[string]any{"pebble": map[string]any{
		"listenAddress":                  fmt.Sprintf("127.0.0.1:%d", p.port),
		"managementListenAddress":        fmt.Sprintf("127.0.0.1:%d", p.mgmtPort),
		"certificate":                    filepath.Join(src, "test/certs/localhost/cert.pem"),
		"privateKey":                     filepath.Join(src, "test/certs/localhost/key.pem"),
		"httpPort":                       httpPort,
		"tlsPort":                        tlsPort,
		"ocspResponderURL":               "",
		"externalAccountBindingRequired": false,
		"keyAlgorithm":                   "ecdsa",
		"profiles":                       map[string]any{"default": map[string]any{"description": "test", "validityPeriod": int(validity.Seconds())}},
	}}
	js, _ := json.Marshal(cfg)
	cfgFile := filepath.Join(t.TempDir(), "pebble.json")
	if err := os.WriteFile(cfgFile, js, 0o600); err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(bin, "-config", cfgFile, "-dnsserver", mustDNS(t, acmeDomain))
	p.cmd.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0")
	p.cmd.Stdout, p.cmd.Stderr = &syncWriter{w: &p.log}, &syncWriter{w: &p.log}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("pebble log:\n%s", p.log.String())
		}
	})
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.minica()}}}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := c.Get(p.directory())
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("pebble exited")
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("pebble did not answer: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *pebble) directory() string { return fmt.Sprintf("https://localhost:%d/dir", p.port) }

func (p *pebble) minicaFile() string { return filepath.Join(p.dir, "test/certs/pebble.minica.pem") }

// minica is the root of Pebble's own HTTPS certificate.
func (p *pebble) minica() *x509.CertPool {
	pem, err := os.ReadFile(p.minicaFile())
	if err != nil {
		p.t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return pool
}

// mustRoot fetches the root Pebble issues under (made fresh at each start).
func (p *pebble) mustRoot() *x509.CertPool {
	p.t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.minica()}}}
	resp, err := c.Get(fmt.Sprintf("https://localhost:%d/roots/0", p.mgmtPort))
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	pem, _ := io.ReadAll(resp.Body)
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		p.t.Fatalf("pebble's root: %s", pem)
	}
	return pool
}

// serveArgs are serve's flags for an ACME server using this Pebble.
func (p *pebble) serveArgs(data string, httpsPort, httpPort int) []string {
	return []string{"--data", data,
		"--listen", fmt.Sprintf("127.0.0.1:%d", httpsPort),
		"--http-listen", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"--metrics-listen", "",
		"--acme-domain", acmeDomain,
		"--acme-directory", p.directory(),
		"--acme-directory-roots", p.minicaFile(),
	}
}

func (p *pebble) stop() {
	p.stopOnce.Do(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(5 * time.Second):
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// mustDNS runs a DNS server on loopback, UDP and TCP on one port (Pebble
// asks over TCP), that answers every A query for name with 127.0.0.1, and
// every other query with no records. It returns its address.
func mustDNS(t *testing.T, name string) string {
	t.Helper()
	var pc net.PacketConn
	var ln net.Listener
	for attempt := 0; ln == nil; attempt++ {
		var err error
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err != nil {
			pc.Close()
			if attempt == 10 {
				t.Fatal(err)
			}
		}
	}
	t.Cleanup(func() { pc.Close(); ln.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := dnsAnswer(buf[:n], name); resp != nil {
				pc.WriteTo(resp, addr)
			}
		}
	}()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(10 * time.Second))
				for { // RFC 1035 section 4.2.2: each message after its 2-byte length
					var size [2]byte
					if _, err := io.ReadFull(conn, size[:]); err != nil {
						return
					}
					q := make([]byte, binary.BigEndian.Uint16(size[:]))
					if _, err := io.ReadFull(conn, q); err != nil {
						return
					}
					resp := dnsAnswer(q, name)
					if resp == nil {
						return
					}
					conn.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(resp))), resp...))
				}
			}()
		}
	}()
	return pc.LocalAddr().String()
}

// dnsAnswer answers a one-question query (RFC 1035 section 4.1), or returns
// nil for anything else.
func dnsAnswer(q []byte, name string) []byte {
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:]) != 1 {
		return nil
	}
	// The question: labels up to the root label, then type and class.
	i := 12
	var labels []string
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		if l > 63 || i+1+l > len(q) {
			return nil
		}
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	if i+5 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i+1:])
	question := q[12 : i+5]
	match := strings.EqualFold(strings.Join(labels, "."), name) && qtype == 1 // A
	resp := append([]byte(nil), q[:2]...)
	const flags = 0x8180 // a response; recursion desired and available
	resp = binary.BigEndian.AppendUint16(resp, flags)
	resp = binary.BigEndian.AppendUint16(resp, 1) // questions
	an := uint16(0)
	if match {
		an = 1
	}
	resp = binary.BigEndian.AppendUint16(resp, an)
	resp = append(resp, 0, 0, 0, 0) // authority, additional
	resp = append(resp, question...)
	if match {
		resp = append(resp, 0xc0, 12)           // the name: a pointer to the question's
		resp = append(resp, 0, 1, 0, 1)         // A, IN
		resp = append(resp, 0, 0, 0, 60)        // TTL
		resp = append(resp, 0, 4, 127, 0, 0, 1) // 127.0.0.1
	}
	return resp
}

// TestTLSFiles: `parley serve --tls-cert --tls-key` serves HTTPS (and
// /readyz) with the given pair, and no plain HTTP on that port.
func TestTLSFiles(t *testing.T) {
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: acmeDomain}, DNSNames: []string{acmeDomain},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	root := x509.NewCertPool()
	root.AddCert(cert)

	port := freePort(t)
	mustServeTLS(t, []string{"--data", t.TempDir(), "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--metrics-listen", "", "--tls-cert", certFile, "--tls-key", keyFile})
	leaf := mustReady(t, port, root)
	if leaf.SerialNumber.Int64() != 42 {
		t.Fatalf("served serial %v", leaf.SerialNumber)
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", port))
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("plain HTTP served on the TLS port")
		}
	}
}
