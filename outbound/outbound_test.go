package outbound_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/outbound"
)

func TestRefused(t *testing.T) {
	for name, tc := range map[string]struct {
		addr    string
		refused bool
	}{
		"public v4":                     {"93.184.216.34", false},
		"public v4 8.8.8.8":             {"8.8.8.8", false},
		"loopback":                      {"127.0.0.1", true},
		"loopback other":                {"127.255.0.9", true},
		"rfc1918 10":                    {"10.1.2.3", true},
		"rfc1918 172.16":                {"172.16.0.1", true},
		"rfc1918 172.31":                {"172.31.255.254", true},
		"172.32 is public":              {"172.32.0.1", false},
		"rfc1918 192.168":               {"192.168.1.1", true},
		"cgnat":                         {"100.64.0.1", true},
		"cgnat end":                     {"100.127.255.254", true},
		"100.128 is public":             {"100.128.0.1", false},
		"link-local":                    {"169.254.1.1", true},
		"metadata":                      {"169.254.169.254", true},
		"unspecified v4":                {"0.0.0.0", true},
		"this network":                  {"0.1.2.3", true},
		"broadcast":                     {"255.255.255.255", true},
		"reserved":                      {"240.0.0.1", true},
		"multicast v4":                  {"224.0.0.1", true},
		"multicast v4 high":             {"239.255.255.250", true},
		"benchmarking":                  {"198.18.0.1", true},
		"documentation":                 {"203.0.113.5", true},
		"public v6":                     {"2606:4700::1111", false},
		"loopback v6":                   {"::1", true},
		"unspecified v6":                {"::", true},
		"mapped loopback":               {"::ffff:127.0.0.1", true},
		"mapped private":                {"::ffff:10.0.0.1", true},
		"mapped metadata":               {"::ffff:169.254.169.254", true},
		"mapped public":                 {"::ffff:8.8.8.8", false},
		"compatible loopback":           {"::127.0.0.1", true},
		"compatible public":             {"::8.8.8.8", true},
		"translated loopback":           {"::ffff:0:127.0.0.1", true},
		"nat64 loopback":                {"64:ff9b::127.0.0.1", true},
		"nat64 metadata":                {"64:ff9b::a9fe:a9fe", true},
		"nat64 public":                  {"64:ff9b::8.8.8.8", false},
		"local nat64":                   {"64:ff9b:1::1", true},
		"6to4 loopback":                 {"2002:7f00:1::1", true},
		"6to4 private":                  {"2002:c0a8:101::1", true},
		"6to4 public":                   {"2002:808:808::1", false},
		"teredo":                        {"2001:0:4136:e378:8000:63bf:3fff:fdd2", true},
		"ula":                           {"fd00::1", true},
		"ula fc":                        {"fc00::1", true},
		"link-local v6":                 {"fe80::1", true},
		"link-local v6 with zone":       {"fe80::1%eth0", true},
		"site-local v6":                 {"fec0::1", true},
		"multicast v6":                  {"ff02::1", true},
		"documentation v6":              {"2001:db8::1", true},
		"discard v6":                    {"100::1", true},
		"mapped broadcast":              {"::ffff:255.255.255.255", true},
		"mapped cgnat":                  {"::ffff:100.64.0.1", true},
		"mapped this network":           {"::ffff:0.0.0.1", true},
		"6to4 metadata":                 {"2002:a9fe:a9fe::1", true},
		"nat64 private 172":             {"64:ff9b::ac10:1", true},
		"translated public":             {"::ffff:0:8.8.8.8", false},
		"6to4 cgnat":                    {"2002:6440:1::1", true},
		"global unicast v6 (2a00::/12)": {"2a00:1450:4001::200e", false},
	} {
		t.Run(name, func(t *testing.T) {
			a, err := netip.ParseAddr(tc.addr)
			if err != nil {
				t.Fatal(err)
			}
			if got := outbound.Refused(a); got != tc.refused {
				t.Fatalf("Refused(%s) = %v, want %v", tc.addr, got, tc.refused)
			}
		})
	}
	if !outbound.Refused(netip.Addr{}) {
		t.Fatal("the zero address is not refused")
	}
}

func TestPolicyAllow(t *testing.T) {
	allow, err := outbound.ParseAllow("127.0.0.2/32, 10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	p := outbound.Policy{Allow: allow}
	for addr, want := range map[string]bool{
		"127.0.0.2":          true,
		"::ffff:127.0.0.2":   true,
		"127.0.0.1":          false,
		"10.9.8.7":           true,
		"169.254.169.254":    false,
		"8.8.8.8":            true,
		"::1":                false,
		"64:ff9b::127.0.0.2": false, // an allow range names the address, not its embeddings
	} {
		if got := p.Allowed(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Allowed(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestParseAllow(t *testing.T) {
	for name, tc := range map[string]struct {
		in     string
		want   string
		reason string
	}{
		"empty":       {"", "", ""},
		"spaces":      {"  ", "", ""},
		"one":         {"127.0.0.1/32", "127.0.0.1/32", ""},
		"bare v4":     {"127.0.0.2", "127.0.0.2/32", ""},
		"bare v6":     {"::1", "::1/128", ""},
		"masked":      {"10.1.2.3/8", "10.0.0.0/8", ""},
		"several":     {"10.0.0.0/8, fd00::/8 ,192.168.1.0/24", "10.0.0.0/8,fd00::/8,192.168.1.0/24", ""},
		"bad":         {"localhost", "", outbound.ReasonBadAllow},
		"bad bits":    {"10.0.0.0/33", "", outbound.ReasonBadAllow},
		"empty item":  {"10.0.0.0/8,", "", outbound.ReasonBadAllow},
		"zone":        {"fe80::1%eth0", "", outbound.ReasonBadAllow},
		"too many":    {strings.Repeat("10.0.0.0/8,", outbound.MaxAllow) + "10.0.0.0/8", "", outbound.ReasonBadAllow},
		"hostname v6": {"[::1]", "", outbound.ReasonBadAllow},
	} {
		t.Run(name, func(t *testing.T) {
			ps, err := outbound.ParseAllow(tc.in)
			if tc.reason != "" {
				if parley.ErrorReason(err) != tc.reason {
					t.Fatalf("ParseAllow(%q) = %v, %v; want reason %s", tc.in, ps, err, tc.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := outbound.FormatAllow(ps); got != tc.want {
				t.Fatalf("ParseAllow(%q) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzParseAllow: any input parses or fails with a parley.Error; a parsed
// list formats to a string that parses back to the same list.
func FuzzParseAllow(f *testing.F) {
	for _, s := range []string{"", "127.0.0.1/32", "10.0.0.0/8,fd00::/8", "127.0.0.2", "::ffff:127.0.0.1", "1.2.3.4/40", ",,", "fe80::1%lo"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := outbound.ParseAllow(s)
		if err != nil {
			var pe *parley.Error
			if !errors.As(err, &pe) || pe.Reason != outbound.ReasonBadAllow {
				t.Fatalf("ParseAllow(%q): %v is not a bad_outbound_allow parley.Error", s, err)
			}
			return
		}
		again, err := outbound.ParseAllow(outbound.FormatAllow(ps))
		if err != nil || outbound.FormatAllow(again) != outbound.FormatAllow(ps) {
			t.Fatalf("round trip of %q: %v %v", s, again, err)
		}
	})
}

// target is a real HTTP server on a loopback address that counts its hits.
type target struct {
	ln   net.Listener
	srv  *http.Server
	hits atomic.Int64
	url  string
}

func mustTarget(t testing.TB, addr string, h http.HandlerFunc) *target {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	tg := &target{ln: ln, url: "http://" + ln.Addr().String()}
	tg.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tg.hits.Add(1)
		if h != nil {
			h(w, r)
			return
		}
		io.WriteString(w, "internal secret")
	})}
	go func() { _ = tg.srv.Serve(ln) }()
	t.Cleanup(func() { tg.srv.Close() })
	return tg
}

func (tg *target) port() string {
	_, p, _ := net.SplitHostPort(tg.ln.Addr().String())
	return p
}

// logBuf collects the log.
type logBuf struct {
	mu sync.Mutex
	sb strings.Builder
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sb.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sb.String()
}

func get(t *testing.T, c *outbound.Client, url string) (string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Fetch(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

var allowReceiver = []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}

// stubResolver answers names from a table; answers may change between
// lookups (the rebinding attack).
type stubResolver struct {
	mu      sync.Mutex
	lookups int
	answer  func(n int, host string) []netip.Addr
}

func (r *stubResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	r.lookups++
	n := r.lookups
	r.mu.Unlock()
	if a := r.answer(n, host); len(a) > 0 {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func TestClientRefusesInternal(t *testing.T) {
	internal := mustTarget(t, "127.0.0.1:0", nil)
	var log logBuf
	res := &stubResolver{answer: func(_ int, host string) []netip.Addr {
		switch host {
		case "internal.test":
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}
		case "mapped.test":
			return []netip.Addr{netip.MustParseAddr("::ffff:127.0.0.1")}
		}
		return nil
	}}
	c := outbound.New("test", outbound.Policy{Allow: allowReceiver, Resolver: res, Log: slog.New(slog.NewTextHandler(&log, nil))}, outbound.Limits{}, nil)
	p := internal.port()
	for _, u := range []string{
		internal.url,
		"http://internal.test:" + p + "/",
		"http://mapped.test:" + p + "/",
		"http://[::ffff:127.0.0.1]:" + p + "/",
		"http://0x7f000001:" + p + "/",
		"http://2130706433:" + p + "/",
		"http://localhost:" + p + "/",
		"http://0.0.0.0:" + p + "/",
		"ftp://127.0.0.2:" + p + "/",
		"file:///etc/passwd",
		"/relative",
	} {
		if _, err := get(t, c, u); err != outbound.ErrFailed {
			t.Errorf("GET %s: %v, want ErrFailed", u, err)
		}
	}
	if n := internal.hits.Load(); n != 0 {
		t.Fatalf("the internal listener was hit %d times", n)
	}
	if !strings.Contains(log.String(), "refused by the outbound policy") {
		t.Fatalf("the log does not say why: %s", log.String())
	}
}

func TestClientAllowsNamedRange(t *testing.T) {
	rc := mustTarget(t, "127.0.0.2:0", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
	c := outbound.New("test", outbound.Policy{Allow: allowReceiver}, outbound.Limits{}, nil)
	if got, err := get(t, c, rc.url); err != nil || got != "hello" {
		t.Fatalf("GET allowed receiver: %q %v", got, err)
	}
	// Default policy: refused.
	if _, err := get(t, outbound.New("test", outbound.Policy{}, outbound.Limits{}, nil), rc.url); err != outbound.ErrFailed {
		t.Fatalf("default policy reached loopback: %v", err)
	}
}

// TestClientRebinding: the name answers the allowed receiver at the first
// lookup and the internal listener (same port) afterwards: the check runs
// on every dial's own lookup, so the second request is refused.
func TestClientRebinding(t *testing.T) {
	internal := mustTarget(t, "127.0.0.1:0", nil)
	rc := mustTarget(t, "127.0.0.2:"+internal.port(), func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		io.WriteString(w, "public")
	})
	res := &stubResolver{answer: func(n int, host string) []netip.Addr {
		if n == 1 {
			return []netip.Addr{netip.MustParseAddr("127.0.0.2")}
		}
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	}}
	c := outbound.New("test", outbound.Policy{Allow: allowReceiver, Resolver: res}, outbound.Limits{}, nil)
	u := "http://rebind.test:" + internal.port() + "/"
	if got, err := get(t, c, u); err != nil || got != "public" {
		t.Fatalf("first GET: %q %v", got, err)
	}
	for range 3 {
		if _, err := get(t, c, u); err != outbound.ErrFailed {
			t.Fatalf("rebound GET: %v, want ErrFailed", err)
		}
	}
	if n := internal.hits.Load(); n != 0 {
		t.Fatalf("the internal listener was hit %d times", n)
	}
	if rc.hits.Load() != 1 {
		t.Fatalf("receiver hits %d, want 1", rc.hits.Load())
	}
}

// TestClientMixedAnswers: of several resolved addresses, refused ones are
// skipped and an allowed one is dialled.
func TestClientMixedAnswers(t *testing.T) {
	internal := mustTarget(t, "127.0.0.1:0", nil)
	mustTarget(t, "127.0.0.2:"+internal.port(), func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	res := &stubResolver{answer: func(int, string) []netip.Addr {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("169.254.169.254"), netip.MustParseAddr("127.0.0.2")}
	}}
	c := outbound.New("test", outbound.Policy{Allow: allowReceiver, Resolver: res}, outbound.Limits{}, nil)
	if got, err := get(t, c, "http://multi.test:"+internal.port()+"/"); err != nil || got != "ok" {
		t.Fatalf("GET: %q %v", got, err)
	}
	if internal.hits.Load() != 0 {
		t.Fatal("the internal listener was hit")
	}
}

func TestClientRedirects(t *testing.T) {
	internal := mustTarget(t, "127.0.0.1:0", nil)
	var hops atomic.Int64
	var rc *target
	rc = mustTarget(t, "127.0.0.2:0", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-internal":
			http.Redirect(w, r, internal.url+"/secret", http.StatusFound)
		case "/to-mapped":
			http.Redirect(w, r, "http://[::ffff:127.0.0.1]:"+internal.port()+"/secret", http.StatusTemporaryRedirect)
		case "/to-file":
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		case "/loop":
			hops.Add(1)
			http.Redirect(w, r, rc.url+"/loop", http.StatusFound)
		case "/once":
			http.Redirect(w, r, rc.url+"/final", http.StatusFound)
		default:
			io.WriteString(w, "final")
		}
	})
	c := outbound.New("test", outbound.Policy{Allow: allowReceiver}, outbound.Limits{MaxRedirects: 3}, nil)
	for _, p := range []string{"/to-internal", "/to-mapped", "/to-file", "/loop"} {
		if _, err := get(t, c, rc.url+p); err != outbound.ErrFailed {
			t.Errorf("GET %s: %v, want ErrFailed", p, err)
		}
	}
	if got, err := get(t, c, rc.url+"/once"); err != nil || got != "final" {
		t.Fatalf("one allowed redirect: %q %v", got, err)
	}
	if internal.hits.Load() != 0 {
		t.Fatal("a redirect reached the internal listener")
	}
	if n := hops.Load(); n != 4 {
		t.Fatalf("the redirect loop was followed %d times, want 4 (the first request and 3 redirects)", n)
	}
	// No redirects: the 3xx comes back as it is.
	nc := outbound.New("test", outbound.Policy{Allow: allowReceiver}, outbound.Limits{MaxRedirects: outbound.NoRedirects}, nil)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, rc.url+"/to-internal", nil)
	resp, err := nc.Do(req)
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("no-redirect client: %v %v", resp, err)
	}
	resp.Body.Close()
	if _, err := get(t, nc, rc.url+"/once"); err != outbound.ErrFailed {
		t.Fatalf("Fetch of a 3xx with no redirects: %v", err)
	}
}

func TestClientBodyLimit(t *testing.T) {
	rc := mustTarget(t, "127.0.0.2:0", func(w http.ResponseWriter, r *http.Request) {
		n := 100
		fmt.Sscan(strings.TrimPrefix(r.URL.Path, "/"), &n)
		io.WriteString(w, strings.Repeat("x", n))
	})
	c := outbound.New("test", outbound.Policy{Allow: allowReceiver}, outbound.Limits{MaxBody: 100}, nil)
	if got, err := get(t, c, rc.url+"/100"); err != nil || len(got) != 100 {
		t.Fatalf("body at the limit: %d %v", len(got), err)
	}
	got, err := get(t, c, rc.url+"/5000")
	if !errors.Is(err, outbound.ErrBodyTooLarge) || len(got) != 100 {
		t.Fatalf("body over the limit: read %d bytes, %v", len(got), err)
	}
}

func TestClientTimeLimits(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	rc := mustTarget(t, "127.0.0.2:0", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow-headers":
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "/stall-body":
			w.Header().Set("Content-Length", "1000")
			io.WriteString(w, "part")
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "/trickle":
			w.Header().Set("Content-Length", "1000")
			for range 1000 {
				if _, err := io.WriteString(w, "x"); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-time.After(20 * time.Millisecond): // the server paces its answer; the client waits on events
				case <-r.Context().Done():
					return
				case <-release:
					return
				}
			}
		}
	})
	// Each case must fail for its own limit: the cause in the log says
	// which, and the request's own deadline (when set) is longer than the
	// limit but shorter than the defaults.
	for name, tc := range map[string]struct {
		path     string
		limits   outbound.Limits
		deadline time.Duration
		cause    string
	}{
		"headers":   {"/slow-headers", outbound.Limits{Header: 100 * time.Millisecond}, 3 * time.Second, "timeout awaiting response headers"},
		"idle body": {"/stall-body", outbound.Limits{Idle: 100 * time.Millisecond}, 3 * time.Second, "context canceled"},
		"total":     {"/trickle", outbound.Limits{Total: 300 * time.Millisecond}, 0, "Client.Timeout"},
	} {
		t.Run(name, func(t *testing.T) {
			var log logBuf
			c := outbound.New("test", outbound.Policy{Allow: allowReceiver, Log: slog.New(slog.NewTextHandler(&log, nil))}, tc.limits, nil)
			ctx := t.Context()
			if tc.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.deadline)
				defer cancel()
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, rc.url+tc.path, nil)
			resp, err := c.Fetch(req)
			if err == nil {
				_, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			if err != outbound.ErrFailed {
				t.Fatalf("GET %s: %v, want ErrFailed", tc.path, err)
			}
			if !strings.Contains(log.String(), tc.cause) {
				t.Fatalf("GET %s failed, but not for %q: %s", tc.path, tc.cause, log.String())
			}
		})
	}
}

// TestErrorsAreGeneric: refused, nothing listening, unknown host, 404 and
// timeout give the same error, with the same text.
func TestErrorsAreGeneric(t *testing.T) {
	rc := mustTarget(t, "127.0.0.2:0", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-r.Context().Done()
			return
		}
		http.NotFound(w, r)
	})
	closed, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + closed.Addr().String()
	closed.Close()
	res := &stubResolver{answer: func(int, string) []netip.Addr { return nil }}
	c := outbound.New("test", outbound.Policy{Allow: allowReceiver, Resolver: res}, outbound.Limits{Header: 200 * time.Millisecond}, nil)
	var texts []string
	for _, u := range []string{"http://127.0.0.1:1/", closedURL, "http://nowhere.test/", rc.url + "/missing", rc.url + "/slow"} {
		_, err := get(t, c, u)
		if err != outbound.ErrFailed {
			t.Fatalf("GET %s: %v", u, err)
		}
		texts = append(texts, err.Error())
	}
	for _, s := range texts[1:] {
		if s != texts[0] {
			t.Fatalf("error texts differ: %q", texts)
		}
	}
}

// TestClientMappedAnswer: a resolver answering an allowed IPv4 address in
// its IPv4-mapped form (as net.Resolver may) reaches it; a mapped refused
// one does not.
func TestClientMappedAnswer(t *testing.T) {
	internal := mustTarget(t, "127.0.0.1:0", nil)
	mustTarget(t, "127.0.0.2:"+internal.port(), func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	res := &stubResolver{answer: func(_ int, host string) []netip.Addr {
		if host == "good.test" {
			return []netip.Addr{netip.MustParseAddr("::ffff:127.0.0.2")}
		}
		return []netip.Addr{netip.MustParseAddr("::ffff:127.0.0.1")}
	}}
	c := outbound.New("test", outbound.Policy{Allow: allowReceiver, Resolver: res}, outbound.Limits{}, nil)
	if got, err := get(t, c, "http://good.test:"+internal.port()+"/"); err != nil || got != "ok" {
		t.Fatalf("GET mapped allowed: %q %v", got, err)
	}
	if _, err := get(t, c, "http://bad.test:"+internal.port()+"/"); err != outbound.ErrFailed {
		t.Fatalf("GET mapped refused: %v", err)
	}
	if internal.hits.Load() != 0 {
		t.Fatal("the internal listener was hit")
	}
}

// TestClientIgnoresProxyEnv: proxy settings in the environment are not
// used (a proxy would do the dialling, past the address check).
func TestClientIgnoresProxyEnv(t *testing.T) {
	proxy := mustTarget(t, "127.0.0.2:0", nil)
	internal := mustTarget(t, "127.0.0.1:0", nil)
	t.Setenv("HTTP_PROXY", proxy.url)
	t.Setenv("http_proxy", proxy.url)
	t.Setenv("NO_PROXY", "")
	res := &stubResolver{answer: func(int, string) []netip.Addr { return []netip.Addr{netip.MustParseAddr("127.0.0.1")} }}
	c := outbound.New("test", outbound.Policy{Allow: allowReceiver, Resolver: res}, outbound.Limits{}, nil)
	if _, err := get(t, c, "http://inside.test:"+internal.port()+"/"); err != outbound.ErrFailed {
		t.Fatalf("GET through the environment's proxy: %v", err)
	}
	if proxy.hits.Load() != 0 || internal.hits.Load() != 0 {
		t.Fatalf("proxy hits %d, internal hits %d", proxy.hits.Load(), internal.hits.Load())
	}
}

// TestClientTLSHandshakeLimit: a host that accepts the connection and
// never completes the TLS handshake is given up after Limits.TLS.
func TestClientTLSHandshakeLimit(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, silent
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	var log logBuf
	c := outbound.New("test", outbound.Policy{Allow: allowReceiver, Log: slog.New(slog.NewTextHandler(&log, nil))}, outbound.Limits{TLS: 100 * time.Millisecond}, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second) // shorter than the default TLS limit
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+ln.Addr().String()+"/", nil)
	if _, err := c.Fetch(req); err != outbound.ErrFailed {
		t.Fatalf("GET with a silent TLS peer: %v", err)
	}
	if !strings.Contains(log.String(), "TLS handshake timeout") {
		t.Fatalf("not the TLS limit: %s", log.String())
	}
}
