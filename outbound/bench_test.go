package outbound_test

import (
	"io"
	"net/http"
	"net/netip"
	"testing"

	"github.com/parleyhq/parley/outbound"
)

// BenchmarkRefused measures the address check every dial makes.
func BenchmarkRefused(b *testing.B) {
	addrs := []netip.Addr{netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("::ffff:127.0.0.1"),
		netip.MustParseAddr("2606:4700::1111"), netip.MustParseAddr("64:ff9b::a9fe:a9fe")}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		outbound.Refused(addrs[i%len(addrs)])
	}
}

// BenchmarkClientGet measures a GET of a small body from an allowed
// receiver over a kept-alive connection, through outbound.Client and
// through a plain http.Client for comparison.
func BenchmarkClientGet(b *testing.B) {
	rc := mustTarget(b, "127.0.0.2:0", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }).url
	oc := outbound.New("bench", outbound.Policy{Allow: allowReceiver}, outbound.Limits{}, nil)
	plain := &http.Client{}
	for name, do := range map[string]func(*http.Request) (*http.Response, error){"outbound": oc.Fetch, "plain": plain.Do} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequestWithContext(b.Context(), http.MethodGet, rc, nil)
				resp, err := do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
