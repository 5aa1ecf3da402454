package clientip_test

import (
	"net/http"
	"net/netip"
	"slices"
	"testing"

	"github.com/parleyhq/parley/clientip"
)

func mustResolver(t *testing.T, cidrs string) *clientip.Resolver {
	t.Helper()
	p, err := clientip.ParseCIDRs(cidrs)
	if err != nil {
		t.Fatal(err)
	}
	return clientip.New(p)
}

func TestAddr(t *testing.T) {
	tests := map[string]struct {
		trusted string
		peer    string
		headers map[string][]string
		want    string
	}{
		"no proxy":                  {"", "198.51.100.7:5000", nil, "198.51.100.7"},
		"untrusted peer spoofs XFF": {"10.0.0.0/8", "198.51.100.7:5000", map[string][]string{"X-Forwarded-For": {"203.0.113.1"}}, "198.51.100.7"},
		"untrusted peer spoofs Forwarded": {"10.0.0.0/8", "198.51.100.7:5000",
			map[string][]string{"Forwarded": {"for=203.0.113.1"}}, "198.51.100.7"},
		"trusted proxy XFF":        {"10.0.0.0/8", "10.1.2.3:443", map[string][]string{"X-Forwarded-For": {"203.0.113.1"}}, "203.0.113.1"},
		"client prepends a lie":    {"10.0.0.0/8", "10.1.2.3:443", map[string][]string{"X-Forwarded-For": {"1.1.1.1, 203.0.113.1"}}, "203.0.113.1"},
		"two trusted hops":         {"10.0.0.0/8", "10.1.2.3:443", map[string][]string{"X-Forwarded-For": {"1.1.1.1, 203.0.113.1, 10.9.9.9"}}, "203.0.113.1"},
		"several XFF headers":      {"10.0.0.0/8", "10.1.2.3:443", map[string][]string{"X-Forwarded-For": {"1.1.1.1", "203.0.113.1, 10.9.9.9"}}, "203.0.113.1"},
		"Forwarded wins over XFF":  {"10.0.0.0/8", "10.1.2.3:443", map[string][]string{"Forwarded": {"for=192.0.2.60;proto=http;by=10.1.2.3"}, "X-Forwarded-For": {"203.0.113.1"}}, "192.0.2.60"},
		"Forwarded IPv6 and port":  {"10.0.0.0/8", "10.1.2.3:443", map[string][]string{"Forwarded": {`for=1.1.1.1, For="[2001:db8:cafe::17]:4711"`}}, "2001:db8:cafe::17"},
		"Forwarded quoted v4 port": {"10.0.0.0/8", "10.1.2.3:443", map[string][]string{"Forwarded": {`for="192.0.2.43:47011"`}}, "192.0.2.43"},
		"unknown hop stops":        {"10.0.0.0/8", "10.1.2.3:443", map[string][]string{"Forwarded": {"for=unknown"}}, "10.1.2.3"},
		"all trusted":              {"10.0.0.0/8", "10.1.2.3:443", map[string][]string{"X-Forwarded-For": {"10.4.4.4"}}, "10.4.4.4"},
		"trusted, no header":       {"10.0.0.0/8", "10.1.2.3:443", nil, "10.1.2.3"},
		"mapped peer":              {"127.0.0.1", "[::ffff:127.0.0.1]:443", map[string][]string{"X-Forwarded-For": {"203.0.113.5"}}, "203.0.113.5"},
		"single address trusted":   {"::1", "[::1]:443", map[string][]string{"X-Forwarded-For": {"2001:db8::5"}}, "2001:db8::5"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := mustResolver(t, tc.trusted)
			req, _ := http.NewRequest("GET", "http://x/", nil)
			req.RemoteAddr = tc.peer
			for k, vs := range tc.headers {
				for _, v := range vs {
					req.Header.Add(k, v)
				}
			}
			if got := r.Addr(req); got != netip.MustParseAddr(tc.want) {
				t.Fatalf("Addr = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseCIDRs(t *testing.T) {
	if _, err := clientip.ParseCIDRs("10.0.0.0/8,nonsense"); err == nil {
		t.Fatal("a bad entry was accepted")
	}
	p, err := clientip.ParseCIDRs(" 10.0.0.0/8 , ,192.0.2.7,::1")
	if err != nil || len(p) != 3 {
		t.Fatalf("ParseCIDRs = %v, %v", p, err)
	}
}

func TestForwardedFor(t *testing.T) {
	got := clientip.ForwardedFor(`for=a;by=b, proto=https, for="x,y";host=h, FOR="q\"z"`)
	want := []string{"a", "", "x,y", `q"z`}
	if !slices.Equal(got, want) {
		t.Fatalf("ForwardedFor = %q, want %q", got, want)
	}
}

func TestKey(t *testing.T) {
	if k := clientip.Key(netip.MustParseAddr("2001:db8:1:2:3:4:5:6")); k != "2001:db8:1:2::/64" {
		t.Fatalf("Key(v6) = %s", k)
	}
	if k := clientip.Key(netip.MustParseAddr("192.0.2.1")); k != "192.0.2.1" {
		t.Fatalf("Key(v4) = %s", k)
	}
}

// FuzzResolve feeds arbitrary forwarding headers through a trusted proxy:
// resolving never panics and always yields the peer or an address that
// appears in the headers.
func FuzzResolve(f *testing.F) {
	f.Add("for=192.0.2.60;proto=http;by=203.0.113.43", "")
	f.Add(`for="[2001:db8:cafe::17]:4711", for=unknown`, "")
	f.Add("", "203.0.113.1, 10.0.0.1")
	f.Add(`for="\"`, "::ffff:1.2.3.4")
	r := clientip.New([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")})
	f.Fuzz(func(t *testing.T, fw, xff string) {
		req, _ := http.NewRequest("GET", "http://x/", nil)
		req.RemoteAddr = "10.0.0.1:1"
		if fw != "" {
			req.Header.Set("Forwarded", fw)
		}
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		a := r.Addr(req)
		if !a.IsValid() {
			t.Fatalf("no address for Forwarded %q, X-Forwarded-For %q", fw, xff)
		}
		_ = clientip.ForwardedFor(fw)
	})
}
